use furrow_credentials::{FieldKind, Provider};
use furrow_model::NewCredentialEvent;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::harness::{Harness, UM, named_fields, problem};

crate::on_both_backends!(
    every_provider_round_trips_with_masked_secrets,
    every_provider_names_each_missing_wrong_or_unknown_field,
    second_credential_is_a_conflict_and_delete_allows_a_new_one,
    events_are_paged_sorted_and_deleted_with_the_credential,
    credentials_of_other_owners_are_invisible,
    secrets_are_shown_in_full_only_when_the_owner_asks,
    secrets_posted_through_the_api_are_not_in_the_database,
    unknown_provider_slugs_are_404,
);

fn valid_body(p: Provider) -> Map<String, Value> {
    p.fields()
        .iter()
        .filter(|f| f.in_create)
        .map(|f| {
            let v = match f.kind {
                FieldKind::Environment => json!("PRODUCTION"),
                _ => json!(format!("{}-{}-value-0123456789", p.slug(), f.name)),
            };
            (f.name.to_owned(), v)
        })
        .collect()
}

fn cred_path(user: &str, p: Provider) -> String {
    format!("{UM}/users/{user}/{}-credentials", p.slug())
}

async fn every_provider_round_trips_with_masked_secrets(h: &Harness) {
    let user = h.user("grower").await;
    for p in Provider::ALL {
        let body = valid_body(p);
        let r = h
            .json(
                Method::POST,
                &cred_path(&user, p),
                Some(Value::Object(body.clone())),
            )
            .await;
        assert_eq!(r.status(), 201, "{p:?}");
        let created: Value = r.json().await.unwrap();
        assert_eq!(created["status"], "PROCESSING", "{p:?}");
        let created_time = created["createdTime"].as_str().unwrap();
        assert_eq!(created_time.len(), 27, "{created_time}");
        assert!(created_time.ends_with('Z'));
        for f in p.fields().iter().filter(|f| f.in_create) {
            let sent = body[f.name].as_str().unwrap();
            let shown = &created[f.name];
            if !f.in_response {
                assert!(shown.is_null(), "{p:?}.{} is never returned", f.name);
            } else if f.secret {
                assert_eq!(
                    shown.as_str().unwrap(),
                    format!("********{}", &sent[sent.len() - 4..]),
                    "{p:?}.{}",
                    f.name
                );
            } else {
                assert_eq!(shown.as_str().unwrap(), sent, "{p:?}.{}", f.name);
            }
        }
        assert_eq!(
            created.get("tokenMetadata").is_some(),
            p.has_token_metadata(),
            "{p:?}"
        );
        let text = created.to_string();
        for f in p.fields().iter().filter(|f| f.secret && f.in_create) {
            assert!(
                !text.contains(body[f.name].as_str().unwrap()),
                "{p:?} leaks {}",
                f.name
            );
        }
        let got: Value = h
            .json(Method::GET, &cred_path(&user, p), None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(got, created, "{p:?}");
    }
    // Each credential's validation against its provider was queued as a durable job.
    assert_eq!(
        h.db.store.job_counts().await.unwrap().queued,
        Provider::ALL.len() as i64
    );
    // The user resource carries every credential under its provider key.
    let u: Value = h
        .json(Method::GET, &format!("{UM}/users/{user}"), None)
        .await
        .json()
        .await
        .unwrap();
    for p in Provider::ALL {
        assert!(
            u[p.user_key()]["id"].is_string(),
            "{} on the user",
            p.user_key()
        );
    }
}

async fn every_provider_names_each_missing_wrong_or_unknown_field(h: &Harness) {
    let user = h.user("grower").await;
    for p in Provider::ALL {
        let path = cred_path(&user, p);
        let body = valid_body(p);
        for f in p.fields().iter().filter(|f| f.in_create && f.required) {
            let mut b = body.clone();
            b.remove(f.name);
            let r = h.json(Method::POST, &path, Some(Value::Object(b))).await;
            assert_eq!(
                named_fields(&problem(r, 400, Some("validation")).await),
                [f.name],
                "{p:?} missing {}",
                f.name
            );
        }
        for f in p.fields().iter().filter(|f| f.in_create) {
            for wrong in [json!(42), json!(["x"]), json!(""), json!({"a": 1})] {
                let mut b = body.clone();
                b.insert(f.name.to_owned(), wrong.clone());
                let r = h.json(Method::POST, &path, Some(Value::Object(b))).await;
                assert_eq!(
                    named_fields(&problem(r, 400, Some("validation")).await),
                    [f.name],
                    "{p:?}.{} = {wrong}",
                    f.name
                );
            }
        }
        let mut b = body.clone();
        b.insert("notAField".into(), json!("x"));
        let r = h.json(Method::POST, &path, Some(Value::Object(b))).await;
        assert_eq!(
            named_fields(&problem(r, 400, Some("validation")).await),
            ["notAField"],
            "{p:?}"
        );
        if p.has_environments() {
            let mut b = body.clone();
            b.insert("clientEnvironment".into(), json!("SANDBOX"));
            let r = h
                .json(Method::POST, &path, Some(Value::Object(b.clone())))
                .await;
            assert_eq!(
                named_fields(&problem(r, 400, Some("validation")).await),
                ["clientEnvironment"]
            );
            b.remove("clientEnvironment");
            let r = h.json(Method::POST, &path, Some(Value::Object(b))).await;
            assert_eq!(r.status(), 201, "{p:?} without clientEnvironment");
            let created: Value = r.json().await.unwrap();
            assert_eq!(
                created["clientEnvironment"], "STAGE",
                "{p:?} defaults to STAGE"
            );
        }
        // Nothing of the refused bodies was stored (or, with environments, only the valid one).
        let r = h.json(Method::GET, &path, None).await;
        assert_eq!(
            r.status().as_u16(),
            if p.has_environments() { 200 } else { 404 },
            "{p:?}"
        );
    }
}

async fn second_credential_is_a_conflict_and_delete_allows_a_new_one(h: &Harness) {
    let user = h.user("grower").await;
    let path = cred_path(&user, Provider::Claas);
    let body = Value::Object(valid_body(Provider::Claas));
    assert_eq!(
        h.json(Method::POST, &path, Some(body.clone()))
            .await
            .status(),
        201
    );
    problem(
        h.json(Method::POST, &path, Some(body.clone())).await,
        409,
        Some("credentialsAlreadyExist"),
    )
    .await;
    assert_eq!(h.json(Method::DELETE, &path, None).await.status(), 204);
    problem(
        h.json(Method::GET, &path, None).await,
        404,
        Some("credentialsNotFound"),
    )
    .await;
    problem(
        h.json(Method::DELETE, &path, None).await,
        404,
        Some("credentialsNotFound"),
    )
    .await;
    assert_eq!(h.json(Method::POST, &path, Some(body)).await.status(), 201);
    // Credentials on an unknown user.
    let ghost = cred_path("00000000-0000-0000-0000-000000000000", Provider::Claas);
    problem(
        h.json(
            Method::POST,
            &ghost,
            Some(Value::Object(valid_body(Provider::Claas))),
        )
        .await,
        404,
        Some("notFound"),
    )
    .await;
}

async fn events_are_paged_sorted_and_deleted_with_the_credential(h: &Harness) {
    let user = h.user("grower").await;
    let path = cred_path(&user, Provider::AgLeader);
    let created: Value = h
        .json(
            Method::POST,
            &path,
            Some(Value::Object(valid_body(Provider::AgLeader))),
        )
        .await
        .json()
        .await
        .unwrap();
    let cred_id = created["id"].as_str().unwrap();
    let now = furrow_model::now_micros();
    for i in 0..25i64 {
        let ev = NewCredentialEvent {
            status_code: 200 + i,
            headers: "Authorization: <redacted>".into(),
            body: format!("{{\"i\":{i}}}"),
            method: Some("GET".into()),
            url: Some("https://provider.test/api".into()),
        };
        h.db.store
            .add_credential_event_at(&h.owner_a, cred_id, &ev, now - i * 1_000_000)
            .await
            .unwrap();
    }
    let r = h
        .json(
            Method::GET,
            &format!("{path}/events?page=0&size=10&sort=createdDate,desc"),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-total-count"], "25");
    let link = r.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains("sort=createdDate%2Cdesc&page=1&size=10>; rel=\"next\""),
        "{link}"
    );
    let events: Vec<Value> = r.json().await.unwrap();
    assert_eq!(events.len(), 10);
    assert_eq!(events[0]["statusCode"], 200);
    assert_eq!(events[9]["statusCode"], 209);
    for key in ["id", "createdDate", "statusCode", "headers", "body"] {
        assert!(!events[0][key].is_null(), "event has {key}");
    }
    let asc: Vec<Value> = h
        .json(
            Method::GET,
            &format!("{path}/events?sort=createdDate,asc&size=3"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        asc.iter()
            .map(|e| e["statusCode"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [224, 223, 222]
    );
    let r = h
        .json(
            Method::GET,
            &format!("{path}/events?sort=statusCode,desc"),
            None,
        )
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["sort"]
    );
    problem(
        h.json(
            Method::GET,
            &format!("{}/events", cred_path(&user, Provider::Claas)),
            None,
        )
        .await,
        404,
        Some("credentialsNotFound"),
    )
    .await;

    assert_eq!(h.json(Method::DELETE, &path, None).await.status(), 204);
    let (left, total) =
        h.db.store
            .list_credential_events(
                &h.owner_a,
                cred_id,
                furrow_model::Page::default(),
                furrow_model::SortOrder::Desc,
            )
            .await
            .unwrap();
    assert_eq!(
        (left.len(), total),
        (0, 0),
        "events deleted with their credential"
    );
}

async fn credentials_of_other_owners_are_invisible(h: &Harness) {
    let user = h.user("grower").await;
    let path = cred_path(&user, Provider::JohnDeere);
    let body = Value::Object(valid_body(Provider::JohnDeere));
    assert_eq!(
        h.json(Method::POST, &path, Some(body.clone()))
            .await
            .status(),
        201
    );
    let b = h.token_b.clone();
    problem(h.json_as(&b, Method::GET, &path, None).await, 404, None).await;
    problem(
        h.json_as(&b, Method::GET, &format!("{path}/events"), None)
            .await,
        404,
        None,
    )
    .await;
    problem(h.json_as(&b, Method::DELETE, &path, None).await, 404, None).await;
    problem(
        h.json_as(
            &b,
            Method::POST,
            &cred_path(&user, Provider::Claas),
            Some(Value::Object(valid_body(Provider::Claas))),
        )
        .await,
        404,
        None,
    )
    .await;
    // A's credential is intact and B created nothing on A's user.
    assert_eq!(h.json(Method::GET, &path, None).await.status(), 200);
    assert_eq!(
        h.json(Method::GET, &cred_path(&user, Provider::Claas), None)
            .await
            .status(),
        404
    );
}

async fn secrets_are_shown_in_full_only_when_the_owner_asks(h: &Harness) {
    let user = h.user("grower").await;
    let path = cred_path(&user, Provider::ClimateFieldView);
    let body = valid_body(Provider::ClimateFieldView);
    h.json(Method::POST, &path, Some(Value::Object(body.clone())))
        .await;
    let masked: Value = h.json(Method::GET, &path, None).await.json().await.unwrap();
    assert!(
        masked["clientSecret"]
            .as_str()
            .unwrap()
            .starts_with("********")
    );
    h.db.store
        .set_owner_show_secrets(&h.owner_a, true)
        .await
        .unwrap();
    let full: Value = h.json(Method::GET, &path, None).await.json().await.unwrap();
    for f in ["clientSecret", "apiKey", "refreshToken"] {
        assert_eq!(full[f], body[f], "{f} in full");
    }
}

async fn secrets_posted_through_the_api_are_not_in_the_database(h: &Harness) {
    let user = h.user("grower").await;
    let mut all_secrets = Vec::new();
    for p in Provider::ALL {
        let body = valid_body(p);
        for f in p.fields().iter().filter(|f| f.secret && f.in_create) {
            all_secrets.push(body[f.name].as_str().unwrap().to_owned());
        }
        assert_eq!(
            h.json(
                Method::POST,
                &cred_path(&user, p),
                Some(Value::Object(body))
            )
            .await
            .status(),
            201
        );
    }
    assert!(all_secrets.len() >= 30, "{} secrets", all_secrets.len());
    let raw = match h.db.store.backend() {
        furrow_store::Backend::Sqlite => {
            let mut bytes = Vec::new();
            for e in std::fs::read_dir(&h.db.data_dir).unwrap() {
                let path = e.unwrap().path();
                if path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("furrow.db")
                {
                    bytes.extend(std::fs::read(path).unwrap());
                }
            }
            bytes
        }
        furrow_store::Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::AnyConnection::connect(h.db.database_url.as_deref().unwrap())
                .await
                .unwrap();
            let rows: Vec<String> =
                sqlx::query_scalar("SELECT CAST(t.* AS TEXT) FROM credentials t")
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
            rows.join("\n").into_bytes()
        }
    };
    let public = "claas-clientKey-value-0123456789";
    assert!(
        raw.windows(public.len()).any(|w| w == public.as_bytes()),
        "the scan sees stored rows"
    );
    for s in &all_secrets {
        assert!(
            !raw.windows(s.len()).any(|w| w == s.as_bytes()),
            "{s} stored in clear"
        );
    }
}

async fn unknown_provider_slugs_are_404(h: &Harness) {
    let user = h.user("grower").await;
    for seg in [
        "agrimatics-credentials",
        "claas",
        "claas-credential",
        "-credentials",
        "CLAAS-credentials",
    ] {
        let path = format!("{UM}/users/{user}/{seg}");
        problem(
            h.json(Method::GET, &path, None).await,
            404,
            Some("notFound"),
        )
        .await;
        problem(
            h.json(Method::POST, &path, Some(json!({}))).await,
            404,
            Some("notFound"),
        )
        .await;
    }
}
