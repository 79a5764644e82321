//! The Climate FieldView adapter against the Climate simulator.

use std::sync::Arc;

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{
    HttpConfig, MemorySink, Provider, ProviderContext, ProviderExt, conformance,
};
use furrow_provider_climate_field_view::{ClimateConfig, ClimateFieldViewProvider};
use furrow_provider_sim::Simulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let sim = Simulator::start(ProviderKind::ClimateFieldView)
        .await
        .unwrap();
    let report = conformance::run(&sim, |ctx| {
        Ok(Arc::new(ClimateFieldViewProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert!(report.passed.len() >= 16, "{report:#?}");
}

fn sha256(b: &[u8]) -> String {
    use sha2::Digest;
    furrow_provider_sim::hex(&sha2::Sha256::digest(b))
}

#[tokio::test]
async fn downloads_in_small_range_chunks_and_resumes() {
    let sim = Simulator::start(ProviderKind::ClimateFieldView)
        .await
        .unwrap();
    let sink = MemorySink::new();
    let ctx = ProviderContext::new(sim.credential(), sink.clone(), sink.clone())
        .with_base_url(sim.base_url())
        .with_http(HttpConfig::for_tests());
    let mut config = ClimateConfig::from_context(&ctx);
    config.chunk_size = 8 * 1024;
    let cfv = ClimateFieldViewProvider::with_config(ctx, config).unwrap();
    let files = cfv.all_machine_files("default", None).await.unwrap();
    let big = files.iter().max_by_key(|f| f.size.unwrap_or(0)).unwrap();
    assert!(
        big.size.unwrap() > 64 * 1024,
        "the corpus has a file over 64 KiB"
    );
    sim.faults().truncate_downloads(2);
    let bytes = cfv.download_bytes(big).await.unwrap();
    assert_eq!(sha256(&bytes), sim.seed().file(&big.id).unwrap().sha256);
    let chunks = sink
        .events()
        .iter()
        .filter(|e| e.status_code == 206)
        .count() as u64;
    assert!(chunks >= big.size.unwrap() / (8 * 1024), "{chunks} chunks");
    assert_eq!(sim.faults().truncations_pending(), 0);
    // Without the API key Climate refuses before anything else.
    let resp = reqwest_get(&format!(
        "{}/v4/layers/asPlanted/{}/contents",
        sim.base_url(),
        big.id
    ))
    .await;
    assert_eq!(resp, 403, "no API key: refused");
}

async fn reqwest_get(url: &str) -> u16 {
    let client = furrow_provider::HttpClient::new(
        ProviderKind::ClimateFieldView,
        HttpConfig::for_tests(),
        MemorySink::new(),
        [],
    )
    .unwrap();
    client
        .send_raw(&furrow_provider::Request::get(url))
        .await
        .unwrap()
        .status
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_credentials_refresh_and_list_concurrently() {
    let sim = Simulator::start(ProviderKind::ClimateFieldView)
        .await
        .unwrap();
    let report = conformance::run_many(&sim, 1000, |ctx| {
        Ok(Arc::new(ClimateFieldViewProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert_eq!(report.credentials, 1000);
    assert!(report.events >= 1000, "{report:?}");
}

#[tokio::test]
async fn an_expired_page_token_restarts_the_listing() {
    use std::time::Duration;
    let sim = Simulator::start(ProviderKind::ClimateFieldView)
        .await
        .unwrap();
    sim.faults().page_size(2);
    // Enough files for several pages whatever the seed holds.
    sim.seed().add_generated_files("4201", 6);
    let sink = MemorySink::new();
    let ctx = ProviderContext::new(sim.credential(), sink.clone(), sink.clone())
        .with_base_url(sim.base_url())
        .with_http(HttpConfig::for_tests());
    let cfv = ClimateFieldViewProvider::new(ctx).unwrap();
    let all = cfv.all_machine_files("default", None).await.unwrap();
    assert!(all.len() > 4, "{} files", all.len());
    let mut expected: Vec<String> = all.iter().map(|f| f.id.clone()).collect();
    expected.sort();

    // A stored cursor whose X-Next-Token expired (10 simulated minutes later): 409, then the layer is
    // listed again from its first page and the listing completes.
    let first = cfv.machine_files("default", None, None).await.unwrap();
    let stored = first.next_cursor.expect("more than one page");
    sim.advance_clock(Duration::from_secs(601));
    let mut seen: Vec<String> = first.files.iter().map(|f| f.id.clone()).collect();
    let mut cursor = Some(stored);
    while let Some(c) = cursor {
        let page = cfv.machine_files("default", None, Some(&c)).await.unwrap();
        seen.extend(page.files.iter().map(|f| f.id.clone()));
        cursor = page.next_cursor;
    }
    assert!(sink.events().iter().any(|e| e.status_code == 409));
    seen.sort();
    seen.dedup();
    assert_eq!(seen, expected, "nothing lost after the restart");

    // Fields: a 409 mid-listing restarts it, without duplicates; endless 409s give up, retryable.
    sim.faults().expire_page_tokens(1);
    let fields = cfv.fields("default").await.unwrap();
    let mut ids: Vec<&str> = fields.iter().map(|f| f.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), sim.visible_fields().len());
    assert_eq!(fields.len(), ids.len());
    sim.faults().expire_page_tokens(100);
    let e = cfv.fields("default").await.unwrap_err();
    assert_eq!(e.kind(), furrow_provider::ErrorKind::Unavailable, "{e}");
    assert!(e.is_retryable());
}
