use reqwest::Method;
use serde_json::json;

use crate::harness::{Harness, UM};

crate::on_both_backends!(metrics_count_jobs_credentials_and_failures);

async fn metrics_count_jobs_credentials_and_failures(h: &Harness) {
    let user = h.user("grower").await;
    let r = h
        .json(
            Method::POST,
            &format!("{UM}/users/{user}/claas-credentials"),
            Some(
                json!({"clientKey": "k", "clientSecret": "secret-1", "refreshToken": "refresh-1"}),
            ),
        )
        .await;
    assert_eq!(r.status(), 201);
    // Not on the API's address: the numbers span every API owner.
    let r = h.client.get(h.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let state = furrow_api::AppState::new(
        h.db.store.clone(),
        &h.db.key,
        furrow_api::ApiConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, furrow_api::metrics_router(state))
            .await
            .unwrap();
    });
    let r = h
        .client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    for line in [
        "furrow_jobs{state=\"queued\"} 1",
        "furrow_jobs_due{kind=\"credential_validate\"} 1",
        "furrow_credentials{provider=\"claas\",status=\"PROCESSING\"} 1",
        "furrow_webhook_failed_calls 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in:\n{text}"
        );
    }
    assert!(text.contains("# TYPE furrow_sync_lag_seconds gauge"));
    assert!(!text.contains(&user), "no ids in metrics");
    // The metrics listener serves nothing of the API.
    let r = h
        .client
        .get(format!("http://{addr}{UM}/users"))
        .bearer_auth(&h.token_a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    server.abort();
}
