use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, named_fields, problem};

const W: &str = "/services/alerts/api/alerts/webhooks";

crate::on_both_backends!(
    webhooks_crud_events_once_and_masked_secrets,
    webhook_bodies_are_validated
);

async fn webhooks_crud_events_once_and_masked_secrets(h: &Harness) {
    let body = json!({"name": "hook", "url": "https://example.test/hook", "secret": "my-webhook-secret",
                      "events": ["fieldCreated", "providerFileProcessingFinished"]});
    let r = h.json(Method::POST, W, Some(body)).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["secret"], "********cret");
    assert_eq!(
        created["events"],
        json!(["fieldCreated", "providerFileProcessingFinished"])
    );
    let id = created["id"].as_str().unwrap().to_owned();
    // The registration confirmation is queued for delivery.
    assert_eq!(h.db.store.job_counts().await.unwrap().queued, 1);

    let again = json!({"name": "second", "url": "https://example.test/2", "secret": "s", "events": ["operationCreated", "fieldCreated"]});
    problem(
        h.json(Method::POST, W, Some(again)).await,
        400,
        Some("eventRegisteredTwice"),
    )
    .await;
    let list: Vec<Value> = h.json(Method::GET, W, None).await.json().await.unwrap();
    assert_eq!(list.len(), 1, "the refused webhook was not stored");
    let got: Value = h
        .json(Method::GET, &format!("{W}/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, created);

    let b = h.token_b.clone();
    problem(
        h.json_as(&b, Method::GET, &format!("{W}/{id}"), None).await,
        404,
        None,
    )
    .await;
    problem(
        h.json_as(&b, Method::DELETE, &format!("{W}/{id}"), None)
            .await,
        404,
        None,
    )
    .await;
    assert!(
        h.json_as(&b, Method::GET, W, None)
            .await
            .json::<Vec<Value>>()
            .await
            .unwrap()
            .is_empty()
    );
    // Another owner may take the same events.
    let theirs = json!({"name": "b", "url": "https://example.test/b", "secret": "sb", "events": ["fieldCreated"]});
    assert_eq!(
        h.json_as(&b, Method::POST, W, Some(theirs)).await.status(),
        201
    );

    let failed: Value = h
        .json(Method::GET, &format!("{W}/failed-calls"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(failed["items"], json!([]));

    assert_eq!(
        h.json(Method::DELETE, &format!("{W}/{id}"), None)
            .await
            .status(),
        204
    );
    problem(
        h.json(Method::GET, &format!("{W}/{id}"), None).await,
        404,
        Some("notFound"),
    )
    .await;
    let reuse = json!({"name": "again", "url": "http://127.0.0.1:1/x", "secret": "s", "events": ["fieldCreated"]});
    assert_eq!(
        h.json(Method::POST, W, Some(reuse)).await.status(),
        201,
        "events free again after delete"
    );
}

async fn webhook_bodies_are_validated(h: &Harness) {
    let r = h
        .json(
            Method::POST,
            W,
            Some(json!({"name": "x", "url": "ftp://x", "secret": "", "events": [], "color": 1})),
        )
        .await;
    let p = problem(r, 400, Some("validation")).await;
    assert_eq!(named_fields(&p), ["secret", "url", "events", "color"]);
    let r = h
        .json(
            Method::POST,
            W,
            Some(
                json!({"name": "x", "url": "https://x", "secret": "s", "events": ["fieldDeleted"]}),
            ),
        )
        .await;
    problem(r, 400, Some("invalidEvent")).await;
    let r = h.json(Method::POST, W, Some(json!({"name": "x", "url": "https://x", "secret": "s", "events": ["fieldCreated", "fieldCreated"]}))).await;
    problem(r, 400, Some("eventRegisteredTwice")).await;
}
