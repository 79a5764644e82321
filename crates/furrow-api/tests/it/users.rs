use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, UM, named_fields, problem};

crate::on_both_backends!(
    user_crud,
    user_list_filters_paging_and_headers,
    user_bodies_are_validated,
    users_of_other_owners_are_invisible,
);

async fn user_crud(h: &Harness) {
    let r = h
        .json(Method::POST, &format!("{UM}/users"), Some(json!({
            "name": "Ann", "email": "ann@x.io", "phone": "555", "address": "1 Farm Rd", "externalId": "ext-1"
        })))
        .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(created["externalId"], "ext-1");

    let got: Value = h
        .json(Method::GET, &format!("{UM}/users/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, created);

    // PUT replaces: fields left out become empty.
    let r = h
        .json(
            Method::PUT,
            &format!("{UM}/users"),
            Some(json!({"id": id, "name": "Ann B"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let put: Value = r.json().await.unwrap();
    assert_eq!(put["name"], "Ann B");
    assert!(
        put.get("email").is_none() && put.get("phone").is_none(),
        "{put}"
    );

    // PATCH changes only what it names.
    let r = h
        .json(
            Method::PATCH,
            &format!("{UM}/users/{id}"),
            Some(json!({"email": "annb@x.io"})),
        )
        .await;
    let patched: Value = r.json().await.unwrap();
    assert_eq!(
        (patched["name"].as_str(), patched["email"].as_str()),
        (Some("Ann B"), Some("annb@x.io"))
    );

    let r = h
        .json(
            Method::PUT,
            &format!("{UM}/users"),
            Some(json!({"name": "no id"})),
        )
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["id"]
    );
    let r = h
        .json(
            Method::PUT,
            &format!("{UM}/users"),
            Some(json!({"id": "00000000-0000-0000-0000-000000000000"})),
        )
        .await;
    problem(r, 404, Some("notFound")).await;

    assert_eq!(
        h.json(Method::DELETE, &format!("{UM}/users/{id}"), None)
            .await
            .status(),
        204
    );
    problem(
        h.json(Method::GET, &format!("{UM}/users/{id}"), None).await,
        404,
        Some("notFound"),
    )
    .await;
    problem(
        h.json(Method::DELETE, &format!("{UM}/users/{id}"), None)
            .await,
        404,
        Some("notFound"),
    )
    .await;
    problem(
        h.json(Method::GET, &format!("{UM}/users/not-a-uuid"), None)
            .await,
        404,
        Some("notFound"),
    )
    .await;
}

async fn user_list_filters_paging_and_headers(h: &Harness) {
    for i in 0..23 {
        let r = h
            .json(Method::POST, &format!("{UM}/users"), Some(json!({
                "name": format!("n{i}"), "email": format!("e{i}@x.io"), "externalId": if i % 2 == 0 { "even" } else { "odd" }
            })))
            .await;
        assert_eq!(r.status(), 201);
    }
    let r = h.json(Method::GET, &format!("{UM}/users"), None).await;
    assert_eq!(r.headers()["x-total-count"], "23");
    let link = r.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains(&format!("<{UM}/users?page=1&size=20>; rel=\"next\"")),
        "{link}"
    );
    assert!(
        link.contains("rel=\"last\"") && link.contains("rel=\"first\""),
        "{link}"
    );
    let page: Vec<Value> = r.json().await.unwrap();
    assert_eq!(page.len(), 20);
    assert_eq!(page[0]["name"], "n0");

    let r = h
        .json(Method::GET, &format!("{UM}/users?page=1&size=20"), None)
        .await;
    let link = r.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        !link.contains("rel=\"next\""),
        "no next on the last page: {link}"
    );
    assert_eq!(r.json::<Vec<Value>>().await.unwrap().len(), 3);

    let r = h
        .json(
            Method::GET,
            &format!("{UM}/users?externalId=odd&size=5"),
            None,
        )
        .await;
    assert_eq!(r.headers()["x-total-count"], "11");
    let link = r.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains("externalId=odd&page=1&size=5"),
        "filters kept in links: {link}"
    );
    let odd: Vec<Value> = r.json().await.unwrap();
    assert_eq!(odd.len(), 5);
    assert!(odd.iter().all(|u| u["externalId"] == "odd"));

    let r = h
        .json(
            Method::GET,
            &format!("{UM}/users?email=e7%40x.io&name=n7"),
            None,
        )
        .await;
    let one: Vec<Value> = r.json().await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["name"], "n7");

    let r = h
        .json(Method::GET, &format!("{UM}/users?size=500"), None)
        .await;
    assert_eq!(
        r.json::<Vec<Value>>().await.unwrap().len(),
        23,
        "size clamped to 100"
    );
    let r = h
        .json(Method::GET, &format!("{UM}/users?page=9"), None)
        .await;
    assert_eq!(r.headers()["x-total-count"], "23");
    assert!(r.json::<Vec<Value>>().await.unwrap().is_empty());

    // Empty is the default, as when left out (the document: an integer, or empty).
    let r = h
        .json(Method::GET, &format!("{UM}/users?page=&size="), None)
        .await;
    assert_eq!(r.json::<Vec<Value>>().await.unwrap().len(), 20);

    for (q, field) in [
        ("size=0", "size"),
        ("size=abc", "size"),
        ("size=%205", "size"),
        ("page=-1", "page"),
        ("page=x", "page"),
    ] {
        let r = h.json(Method::GET, &format!("{UM}/users?{q}"), None).await;
        assert_eq!(
            named_fields(&problem(r, 400, Some("validation")).await),
            [field],
            "{q}"
        );
    }
}

async fn user_bodies_are_validated(h: &Harness) {
    let r = h
        .json(
            Method::POST,
            &format!("{UM}/users"),
            Some(json!({"name": 5, "email": ["x"], "color": "red"})),
        )
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["name", "email", "color"]
    );
    let r = h
        .json(Method::POST, &format!("{UM}/users"), Some(json!([1, 2])))
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["body"]
    );
    let r = h
        .req(Method::POST, &format!("{UM}/users"), &h.token_a)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    let p = problem(r, 400, Some("validation")).await;
    assert!(
        p["message"].as_str().unwrap().contains("malformed JSON"),
        "{p}"
    );
    let r = h
        .req(Method::POST, &format!("{UM}/users"), &h.token_a)
        .body("name=x")
        .send()
        .await
        .unwrap();
    problem(r, 415, Some("unsupportedMediaType")).await;
    // Credential keys on a user body are accepted (credentials attach through their own endpoints).
    let r = h
        .json(
            Method::POST,
            &format!("{UM}/users"),
            Some(json!({"name": "c", "johnDeereCredentials": {"id": "x"}})),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = h.json(Method::GET, &format!("{UM}/users"), None).await;
    assert_eq!(
        r.headers()["x-total-count"],
        "1",
        "only the valid body created a user"
    );
}

async fn users_of_other_owners_are_invisible(h: &Harness) {
    let id = h.user("private").await;
    let b = h.token_b.clone();
    for (m, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"name": "x"}))),
        (Method::DELETE, None),
    ] {
        let r = h
            .json_as(&b, m.clone(), &format!("{UM}/users/{id}"), body)
            .await;
        problem(r, 404, Some("notFound")).await;
    }
    let r = h
        .json_as(
            &b,
            Method::PUT,
            &format!("{UM}/users"),
            Some(json!({"id": id, "name": "stolen"})),
        )
        .await;
    problem(r, 404, Some("notFound")).await;
    let r = h
        .json_as(&b, Method::GET, &format!("{UM}/users"), None)
        .await;
    assert_eq!(r.headers()["x-total-count"], "0");
    let r = h
        .json_as(
            &b,
            Method::GET,
            &format!("{UM}/users?email=private%40x.io"),
            None,
        )
        .await;
    assert!(r.json::<Vec<Value>>().await.unwrap().is_empty());
    let mine: Value = h
        .json(Method::GET, &format!("{UM}/users/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["name"], "private");
}
