//! The Trimble Agriculture adapter against its simulator.

use std::sync::Arc;

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{Provider, conformance};
use furrow_provider_sim::Simulator;
use furrow_provider_trimble::TrimbleProvider;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let sim = Simulator::start(ProviderKind::Trimble).await.unwrap();
    let report = conformance::run(&sim, |ctx| {
        Ok(Arc::new(TrimbleProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert!(report.passed.len() >= 14, "{report:#?}");
    let allowed_skips = [
        "pagination_many_pages",
        "since_filter",
        "downloads_sha256",
        "truncated_download",
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
    let sim = Simulator::start(ProviderKind::Trimble).await.unwrap();
    let report = conformance::run_many(&sim, 1000, |ctx| {
        Ok(Arc::new(TrimbleProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert_eq!(report.credentials, 1000);
    assert!(report.events >= 1000, "{report:?}");
}
