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

#[tokio::test]
async fn only_shared_organizations_are_listed_and_none_is_limited_permission() {
    use furrow_provider::{ErrorKind, HttpConfig, MemorySink, ProviderContext};
    let sim = Simulator::start(ProviderKind::Trimble).await.unwrap();
    let sink = MemorySink::new();
    let ctx = ProviderContext::new(sim.credential(), sink.clone(), sink.clone())
        .with_base_url(sim.base_url())
        .with_http(HttpConfig::for_tests());
    let client_id = ctx.credential["clientId"].clone();
    let trimble = TrimbleProvider::new(ctx).unwrap();

    // The unconnected seed organization was not shared: it is not listed at all.
    let orgs = trimble.organizations().await.unwrap();
    let ids: Vec<&str> = orgs.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["4201", "4202"]);
    assert!(orgs.iter().all(|o| o.connected));

    sim.faults().share_no_organizations(true);
    let e = trimble.organizations().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitedPermission);
    assert_eq!(
        e.credential_status(),
        Some(furrow_credentials::CredentialStatus::LimitedPermission)
    );
    match e {
        furrow_provider::Error::LimitedPermission {
            connection_uri: Some(uri),
            ..
        } => assert!(
            uri.starts_with(furrow_provider_trimble::ORG_AUTHORIZATION)
                && uri.contains(&format!("clientid={client_id}")),
            "{uri}"
        ),
        other => panic!("no connection URI: {other:?}"),
    }
}
