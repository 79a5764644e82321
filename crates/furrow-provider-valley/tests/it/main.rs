//! The Valley (Valmont) adapter against its simulator.

use std::sync::Arc;

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{Provider, conformance};
use furrow_provider_sim::Simulator;
use furrow_provider_valley::ValleyProvider;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let sim = Simulator::start(ProviderKind::Valley).await.unwrap();
    let report = conformance::run(&sim, |ctx| {
        Ok(Arc::new(ValleyProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert!(report.passed.len() >= 5, "{report:#?}");
    // Irrigation is the data call: token expiry, scope, throttling and failures are exercised through it.
    for case in [
        "irrigation",
        "unsupported_without_network",
        "expired_token_mid_sync",
        "missing_scope",
        "rate_limited_retry_after",
        "server_error_bursts",
    ] {
        assert!(
            report.passed.contains(&case),
            "{case} did not pass: {report:#?}"
        );
    }
    let allowed_skips = [
        "expired_token_mid_sync",
        "missing_scope",
        "rate_limited_retry_after",
        "server_error_bursts",
        "slow_responses",
        "rate_limit_respected",
        "organization_connection",
        "fields_with_boundaries",
        "pagination_many_pages",
        "since_filter",
        "downloads_sha256",
        "truncated_download",
        "refresh_rotation",
    ];
    for (case, why) in &report.skipped {
        assert!(
            allowed_skips.contains(case),
            "unexpected skip {case}: {why}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_credentials_refresh_and_list_concurrently() {
    let sim = Simulator::start(ProviderKind::Valley).await.unwrap();
    let report = conformance::run_many(&sim, 1000, |ctx| {
        Ok(Arc::new(ValleyProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert_eq!(report.credentials, 1000);
    assert!(report.events >= 1000, "{report:?}");
}
