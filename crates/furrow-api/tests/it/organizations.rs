//! The organization sync list over HTTP (rows recorded the way the fields sync records them).

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, named_fields, problem};

const UM: &str = "/services/usermanagement/api";

crate::on_both_backends!(
    organizations_list_select_and_block,
    preview_fields_are_enabled_over_http,
);

async fn organizations_list_select_and_block(h: &Harness) {
    let user = h.user("grower").await;
    for (id, name, connected) in [
        ("4201", "Prairie Farms", true),
        ("4202", "Hillside Growers", true),
        ("4203", "Unconnected Co", false),
    ] {
        h.db.store
            .upsert_provider_organization(
                &h.owner_a,
                &user,
                "JohnDeere",
                id,
                name,
                connected,
                (!connected).then_some("https://connections.example/4203"),
            )
            .await
            .unwrap();
    }
    let split: Value = h
        .json(
            Method::GET,
            &format!("{UM}/users/{user}/organizations/JohnDeere"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(split["connectedOrganizations"].as_array().unwrap().len(), 2);
    assert_eq!(split["notConnectedOrganizations"][0]["id"], "4203");
    assert_eq!(
        split["notConnectedOrganizations"][0]["managementUri"],
        "https://connections.example/4203"
    );
    // The slug works as well as Leaf's name.
    let r = h
        .json(
            Method::GET,
            &format!("{UM}/users/{user}/john-deere/organizations?size=2"),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-total-count"], "3");
    let page: Value = r.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 2);
    assert_eq!(page[0]["providerOrgName"], "Hillside Growers");
    assert_eq!(page[0]["status"], "PREVIEW");

    let one = format!("{UM}/users/{user}/JohnDeere/organizations/4202");
    let r = h
        .json(Method::PATCH, &one, Some(json!({"status": "SELECTED"})))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "SELECTED");
    let got: Value = h.json(Method::GET, &one, None).await.json().await.unwrap();
    assert_eq!(got["status"], "SELECTED");
    // A later sync keeps the user's choice.
    h.db.store
        .upsert_provider_organization(
            &h.owner_a,
            &user,
            "JohnDeere",
            "4202",
            "Hillside",
            true,
            None,
        )
        .await
        .unwrap();
    let got: Value = h.json(Method::GET, &one, None).await.json().await.unwrap();
    assert_eq!(
        (got["status"].clone(), got["providerOrgName"].clone()),
        (json!("SELECTED"), json!("Hillside"))
    );

    let bad = h
        .json(Method::PATCH, &one, Some(json!({"status": "BLOCKED"})))
        .await;
    assert_eq!(named_fields(&problem(bad, 400, None).await), ["status"]);
    let blocked = h
        .json(
            Method::PATCH,
            &format!("{UM}/users/{user}/JohnDeere/organizations/4203"),
            Some(json!({"status": "SELECTED"})),
        )
        .await;
    problem(blocked, 409, Some("conflict")).await;
    problem(
        h.json(
            Method::GET,
            &format!("{UM}/users/{user}/JohnDeere/organizations/9999"),
            None,
        )
        .await,
        404,
        None,
    )
    .await;
    problem(
        h.json(
            Method::GET,
            &format!("{UM}/users/{user}/NoSuchProvider/organizations"),
            None,
        )
        .await,
        404,
        None,
    )
    .await;
    // Another owner sees nothing of this user.
    let r = h.json_as(&h.token_b.clone(), Method::GET, &one, None).await;
    problem(r, 404, None).await;
    // Re-reading the list needs a credential of that provider.
    let r = h
        .json(
            Method::POST,
            &format!("{UM}/users/{user}/JohnDeere/organizations/sync"),
            None,
        )
        .await;
    problem(r, 404, None).await;
}

async fn preview_fields_are_enabled_over_http(h: &Harness) {
    let user = h.user("grower").await;
    let (grower, _) =
        h.db.store
            .upsert_provider_grower(
                &h.owner_a,
                &user,
                &furrow_store::ProviderGroupInput {
                    provider_name: "JohnDeere".into(),
                    provider_id: None,
                    provider_ref: "g-1".into(),
                    name: None,
                    grower_id: None,
                },
            )
            .await
            .unwrap();
    let (farm, _) =
        h.db.store
            .upsert_provider_farm(
                &h.owner_a,
                &user,
                &furrow_store::ProviderGroupInput {
                    provider_name: "JohnDeere".into(),
                    provider_id: None,
                    provider_ref: "fm-1".into(),
                    name: None,
                    grower_id: Some(grower.id),
                },
            )
            .await
            .unwrap();
    let mut ids = Vec::new();
    for pid in ["f-1", "f-2"] {
        let up = h
            .db
            .store
            .upsert_provider_field(
                &h.owner_a,
                &user,
                &furrow_store::ProviderFieldInput {
                    provider_name: "JohnDeere".into(),
                    provider_id: None,
                    provider_field_id: pid.into(),
                    provider_field_name: Some(pid.into()),
                    provider_boundary_id: None,
                    organization_id: Some("4201".into()),
                    farm_id: Some(farm.id),
                    boundary: Some(furrow_store::BoundaryGeometry::from_geojson(&json!({
                        "type": "MultiPolygon",
                        "coordinates": [[[[0.0, 0.0], [0.01, 0.0], [0.01, 0.01], [0.0, 0.01], [0.0, 0.0]]]]
                    }))),
                    preview: true,
                },
            )
            .await
            .unwrap();
        ids.push(up.field_id);
    }
    let fields = "/services/fields/api";
    let got: Value = h
        .json(
            Method::GET,
            &format!("{fields}/users/{user}/fields/{}", ids[0]),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["status"], "PREVIEW");
    assert_eq!(got["boundaries"], json!([]));
    let r = h
        .json(
            Method::POST,
            &format!("{fields}/users/{user}/fields/{}/enableSync", ids[0]),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "WAITING");
    let r = h
        .json(
            Method::POST,
            &format!("{fields}/growers/enableSync"),
            // an integer written as 7.0 is the integer 7 (JSON Schema's rule, which the document follows)
            Some(json!({"growerIds": [grower.id as f64]})),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["fields"], json!([ids[1]]));
    let bad = h
        .json(
            Method::POST,
            &format!("{fields}/growers/enableSync"),
            Some(json!({"growerIds": ["x"]})),
        )
        .await;
    assert_eq!(named_fields(&problem(bad, 400, None).await), ["growerIds"]);
    // One below i64's range (JSON parsers read it as the float -2^63): not an integer id.
    let below: Value = serde_json::from_str(r#"{"growerIds": [-9223372036854775809]}"#).unwrap();
    let bad = h
        .json(
            Method::POST,
            &format!("{fields}/growers/enableSync"),
            Some(below),
        )
        .await;
    assert_eq!(named_fields(&problem(bad, 400, None).await), ["growerIds"]);
    // Another owner's token cannot touch these fields.
    let r = h
        .json_as(
            &h.token_b.clone(),
            Method::POST,
            &format!("{fields}/users/{user}/fields/{}/enableSync", ids[0]),
            None,
        )
        .await;
    problem(r, 404, None).await;
}
