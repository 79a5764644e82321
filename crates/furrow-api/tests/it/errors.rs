use reqwest::Method;
use serde_json::json;

use crate::harness::{Harness, MAX_BODY, UM, problem};

crate::on_both_backends!(
    oversized_bodies_are_413,
    unknown_paths_and_methods,
    wrong_content_types_are_415
);

async fn oversized_bodies_are_413(h: &Harness) {
    let user = h.user("grower").await;
    let big = "x".repeat(MAX_BODY + 10);
    for path in [
        format!("{UM}/users"),
        format!("{UM}/users/{user}/claas-credentials"),
    ] {
        let r = h
            .json(Method::POST, &path, Some(json!({"name": big})))
            .await;
        problem(r, 413, Some("payloadTooLarge")).await;
    }
    let r = h
        .client
        .post(h.url("/api/authenticate"))
        .json(&json!({"username": big, "password": "x"}))
        .send()
        .await
        .unwrap();
    problem(r, 413, Some("payloadTooLarge")).await;
}

async fn unknown_paths_and_methods(h: &Harness) {
    problem(
        h.json(Method::GET, "/nothing/here", None).await,
        404,
        Some("notFound"),
    )
    .await;
    problem(
        h.json(Method::GET, &format!("{UM}/nothing"), None).await,
        404,
        Some("notFound"),
    )
    .await;
    let r = h.json(Method::DELETE, &format!("{UM}/users"), None).await;
    problem(r, 405, Some("methodNotAllowed")).await;
    let r = h
        .client
        .put(h.url("/api/authenticate"))
        .send()
        .await
        .unwrap();
    problem(r, 405, Some("methodNotAllowed")).await;
}

async fn wrong_content_types_are_415(h: &Harness) {
    let user = h.user("grower").await;
    for path in [
        format!("{UM}/users"),
        format!("{UM}/users/{user}/claas-credentials"),
    ] {
        let r = h
            .req(Method::POST, &path, &h.token_a)
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await
            .unwrap();
        problem(r, 415, Some("unsupportedMediaType")).await;
    }
}
