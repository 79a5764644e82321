//! The Sentera adapter against its simulator.

use std::sync::Arc;

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{Provider, conformance};
use furrow_provider_sentera::SenteraProvider;
use furrow_provider_sim::Simulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let sim = Simulator::start(ProviderKind::Sentera).await.unwrap();
    let report = conformance::run(&sim, |ctx| {
        Ok(Arc::new(SenteraProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert!(report.passed.len() >= 13, "{report:#?}");
    assert!(report.passed.contains(&"imagery"), "{report:#?}");
    let allowed = [
        "refresh_rotation",
        "pagination_many_pages",
        "since_filter",
        "downloads_sha256",
        "truncated_download",
    ];
    assert!(
        report.skipped.iter().all(|(c, _)| allowed.contains(c)),
        "{report:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_credentials_refresh_and_list_concurrently() {
    let sim = Simulator::start(ProviderKind::Sentera).await.unwrap();
    let report = conformance::run_many(&sim, 1000, |ctx| {
        Ok(Arc::new(SenteraProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert_eq!(report.credentials, 1000);
    assert!(report.events >= 1000, "{report:?}");
}
