//! The Ag Leader AgFiniti adapter against its simulator.

use std::sync::Arc;

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{Provider, conformance};
use furrow_provider_ag_leader::AgLeaderProvider;
use furrow_provider_sim::Simulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let sim = Simulator::start(ProviderKind::AgLeader).await.unwrap();
    let report = conformance::run(&sim, |ctx| {
        Ok(Arc::new(AgLeaderProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert!(report.passed.len() >= 15, "{report:#?}");
    let allowed_skips = ["organization_connection", "fields_with_boundaries"];
    for (case, why) in &report.skipped {
        assert!(
            allowed_skips.contains(case),
            "unexpected skip {case}: {why}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_credentials_refresh_and_list_concurrently() {
    let sim = Simulator::start(ProviderKind::AgLeader).await.unwrap();
    let report = conformance::run_many(&sim, 1000, |ctx| {
        Ok(Arc::new(AgLeaderProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert_eq!(report.credentials, 1000);
    assert!(report.events >= 1000, "{report:?}");
}
