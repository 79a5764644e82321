use std::time::Duration;

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{ErrorKind, HttpClient, HttpConfig, MemorySink, Request};
use furrow_provider_sim::Simulator;

#[tokio::test]
async fn transient_failures_are_retried_and_every_attempt_is_recorded() {
    let sim = Simulator::start(ProviderKind::Claas).await.unwrap();
    let sink = MemorySink::new();
    let http = HttpClient::new(
        ProviderKind::Claas,
        HttpConfig::for_tests(),
        sink.clone(),
        ["my-api-key-1".to_owned()],
    )
    .unwrap();
    sim.faults().fail_next(2, 503);
    let req = Request::get(format!(
        "{}/organizations?apiKey=my-api-key-1",
        sim.base_url()
    ))
    .header("Authorization", "Bearer not-a-real-token")
    .header("X-Api-Key", "my-api-key-1");
    let resp = http.send_raw(&req).await.unwrap();
    assert_eq!(
        resp.status.as_u16(),
        401,
        "the third attempt reaches the handler"
    );
    let events = sink.events();
    let statuses: Vec<i64> = events.iter().map(|e| e.status_code).collect();
    assert_eq!(statuses, [503, 503, 401]);
    for e in &events {
        assert!(
            e.headers.contains("Authorization: <redacted>"),
            "{}",
            e.headers
        );
        assert!(e.headers.contains("X-Api-Key: <redacted>"), "{}", e.headers);
        assert!(
            !e.headers.contains("not-a-real-token")
                && !e.url.as_deref().unwrap().contains("my-api-key-1")
        );
        assert_eq!(e.method.as_deref(), Some("GET"));
    }
    let err = http.send(&req).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
}

#[tokio::test]
async fn a_long_retry_after_is_not_waited_for() {
    let sim = Simulator::start(ProviderKind::Claas).await.unwrap();
    let sink = MemorySink::new();
    let http = HttpClient::new(
        ProviderKind::Claas,
        HttpConfig::for_tests(),
        sink.clone(),
        [],
    )
    .unwrap();
    sim.faults().throttle_next(1, 3600);
    let start = std::time::Instant::now();
    let err = http
        .send(&Request::get(format!("{}/organizations", sim.base_url())))
        .await
        .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(2));
    match err {
        furrow_provider::Error::RateLimited { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_secs(3600)))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_dead_port_is_unavailable_and_retryable() {
    let sink = MemorySink::new();
    let http = HttpClient::new(
        ProviderKind::Claas,
        HttpConfig {
            max_attempts: 2,
            ..HttpConfig::for_tests()
        },
        sink.clone(),
        [],
    )
    .unwrap();
    // Port 9 (discard) is closed on test machines.
    let err = http
        .send(&Request::get("http://127.0.0.1:9/x"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(sink.events().len(), 2);
    assert!(sink.events().iter().all(|e| e.status_code == 0));
}
