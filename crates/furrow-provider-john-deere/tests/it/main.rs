//! The John Deere adapter against the John Deere simulator.

use std::sync::Arc;

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{HttpConfig, MemorySink, Provider, ProviderContext, conformance};
use furrow_provider_john_deere::{JohnDeereConfig, JohnDeereProvider};
use furrow_provider_sim::Simulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let sim = Simulator::start(ProviderKind::JohnDeere).await.unwrap();
    let report = conformance::run(&sim, |ctx| {
        Ok(Arc::new(JohnDeereProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert!(report.passed.len() >= 17, "{report:#?}");
}

#[tokio::test]
async fn large_files_are_downloaded_in_ranges() {
    use furrow_provider::ProviderExt;
    let sim = Simulator::start(ProviderKind::JohnDeere).await.unwrap();
    let sink = MemorySink::new();
    let ctx = ProviderContext::new(sim.credential(), sink.clone(), sink.clone())
        .with_base_url(sim.base_url())
        .with_http(HttpConfig::for_tests());
    let mut config = JohnDeereConfig::from_context(&ctx);
    config.chunk_threshold = 1;
    config.chunk_size = 10_000;
    let jd = JohnDeereProvider::with_config(ctx, config).unwrap();
    let files = jd.all_machine_files("4201", None).await.unwrap();
    let big = files.iter().max_by_key(|f| f.size.unwrap_or(0)).unwrap();
    let bytes = jd.download_bytes(big).await.unwrap();
    assert_eq!(
        furrow_provider_sim::hex(&sha256(&bytes)),
        sim.seed().file(&big.id).unwrap().sha256
    );
    let ranged = sink
        .events()
        .iter()
        .filter(|e| e.status_code == 206)
        .count();
    assert!(
        ranged as u64 >= big.size.unwrap() / 10_000,
        "{ranged} ranged responses"
    );
}

fn sha256(b: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(b).to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_credentials_refresh_and_list_concurrently() {
    let sim = Simulator::start(ProviderKind::JohnDeere).await.unwrap();
    let report = conformance::run_many(&sim, 1000, |ctx| {
        Ok(Arc::new(JohnDeereProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert_eq!(report.credentials, 1000);
    assert!(report.events >= 1000, "{report:?}");
}
