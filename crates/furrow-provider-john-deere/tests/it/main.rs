//! The John Deere adapter against the John Deere simulator.

use std::sync::Arc;

use furrow_credentials::Provider as ProviderKind;
use std::time::{Duration, Instant};

use furrow_provider::{
    ErrorKind, HttpConfig, MemorySink, Provider, ProviderContext, ProviderExt, conformance,
};
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

fn adapter(
    sim: &Simulator,
    tune: impl FnOnce(&mut JohnDeereConfig),
) -> (JohnDeereProvider, Arc<MemorySink>) {
    let sink = MemorySink::new();
    let ctx = ProviderContext::new(sim.credential(), sink.clone(), sink.clone())
        .with_base_url(sim.base_url())
        .with_http(HttpConfig::for_tests());
    let mut config = JohnDeereConfig::from_context(&ctx);
    tune(&mut config);
    (JohnDeereProvider::with_config(ctx, config).unwrap(), sink)
}

fn ids(files: &[furrow_model::MachineFileDescriptor]) -> Vec<String> {
    let mut v: Vec<String> = files.iter().map(|f| f.id.clone()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn file_lists_track_changes_with_the_deere_signature() {
    let sim = Simulator::start(ProviderKind::JohnDeere).await.unwrap();
    let (jd, sink) = adapter(&sim, |_| {});
    // The organization's files, and its field operations (as their shapefile exports).
    let expected: Vec<String> = {
        let mut v: Vec<String> = sim
            .seed()
            .files_of("4201", None)
            .into_iter()
            .map(|f| f.id)
            .collect();
        v.extend(
            ["fo-1001", "fo-1002", "fo-1003", "fo-1004"]
                .iter()
                .map(|id| format!("fieldOperation:{id}")),
        );
        v.sort();
        v
    };

    // First listing: everything, and a cursor holding the signature it answered.
    let (files, changes) = jd.machine_file_changes("4201", None, None).await.unwrap();
    assert_eq!(ids(&files), expected);
    let changes = changes.expect("a changes cursor after a signed listing");

    // John Deere has no change signature for field operations: they are listed in full every time (furrow
    // keeps each once). The files follow the signature.
    let files_only =
        |v: Vec<furrow_model::MachineFileDescriptor>| -> Vec<furrow_model::MachineFileDescriptor> {
            v.into_iter()
                .filter(|f| !f.id.starts_with("fieldOperation:"))
                .collect()
        };
    // Nothing changed: 304, no files, the cursor still usable.
    let (files, again) = jd
        .machine_file_changes("4201", None, Some(&changes))
        .await
        .unwrap();
    let files = files_only(files);
    assert!(files.is_empty(), "{files:?}");
    assert!(sink.events().iter().any(|e| e.status_code == 304));
    let again = again.expect("a 304 keeps the signature");

    // Three new files, listed over two pages: only they come back.
    let added = sim.seed().add_generated_files("4201", 3);
    sim.faults().page_size(2);
    let (files, next) = jd
        .machine_file_changes("4201", None, Some(&again))
        .await
        .unwrap();
    let files = files_only(files);
    let mut added_sorted = added.clone();
    added_sorted.sort();
    assert_eq!(ids(&files), added_sorted);
    let next = next.expect("a new signature");
    assert_ne!(next, again, "the signature moved past the new files");

    // And once listed they are not changes any more.
    let (files, _) = jd
        .machine_file_changes("4201", None, Some(&next))
        .await
        .unwrap();
    let files = files_only(files);
    assert!(files.is_empty(), "{files:?}");

    // A listing without the helper still reports the cursor on its last page only.
    let first = jd.machine_files("4201", None, None).await.unwrap();
    assert!(first.next_cursor.is_some() && first.changes_cursor.is_none());
}

#[tokio::test]
async fn shapefile_export_waits_with_backoff_then_fetches_without_the_token() {
    let sim = Simulator::start(ProviderKind::JohnDeere).await.unwrap();
    let (jd, sink) = adapter(&sim, |c| c.export_poll_base = Duration::from_millis(20));
    sim.faults().async_polls(3);
    let start = Instant::now();
    let stream = jd.field_operation_shapefile("fo-1001").await.unwrap();
    let bytes = furrow_provider::read_all(stream).await.unwrap();
    // 20 + 40 + 80 ms: secondsToWait = base × 2^(attempt−1).
    assert!(
        start.elapsed() >= Duration::from_millis(140),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(bytes, furrow_provider_sim::john_deere_shapefile("fo-1001"));
    let events = sink.events();
    let statuses: Vec<i64> = events
        .iter()
        .filter(|e| e.url.as_deref().is_some_and(|u| u.contains("/fieldOps/")))
        .map(|e| e.status_code)
        .collect();
    assert_eq!(statuses, [202, 202, 202, 307]);
    let fetch = events
        .iter()
        .find(|e| e.url.as_deref().is_some_and(|u| u.contains("/presigned/")))
        .expect("the pre-signed URL was fetched");
    assert_eq!(fetch.status_code, 200);
    assert!(
        !fetch.headers.to_ascii_lowercase().contains("authorization"),
        "{}",
        fetch.headers
    );
}

#[tokio::test]
async fn tillage_has_no_shapefile_and_a_stuck_export_gives_up() {
    let sim = Simulator::start(ProviderKind::JohnDeere).await.unwrap();
    let (jd, _) = adapter(&sim, |c| {
        c.export_poll_base = Duration::from_millis(5);
        c.export_max_wait = Duration::from_millis(50);
    });
    let err = jd.field_operation_shapefile("fo-1003").await.err().unwrap();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("no shapefile"), "{err}");
    assert_eq!(err.credential_status(), None);

    sim.faults().async_polls(1000);
    let err = jd.field_operation_shapefile("fo-1002").await.err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.is_retryable());
}
