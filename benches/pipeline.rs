//! The whole pipeline, as an integrator sees it.
//!
//! - `sync/credentials`: one worker validates and syncs fresh CLAAS credentials against the simulator, each
//!   with one ISOXML machine file (the corpus planting log) that is downloaded, converted and allocated.
//!   Throughput is credentials per second (×60 for per minute).
//! - `upload/zip-to-operation`: a synthetic harvest TASKDATA zip (100 MB by default; `FURROW_BENCH_UPLOAD_MB`)
//!   posted to `POST /batch` over HTTP, then one worker runs until its field operation is built (summary,
//!   standard/filtered/polygon GeoParquet and GeoJSON). The time is upload to operation.
//!
//! `cargo bench -p furrow-benches --bench pipeline`; figures in benches/README.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use furrow_credentials::Provider;
use furrow_provider_sim::Simulator;
use furrow_store::testing::TestDb;
use furrow_store::{Backend, BoundaryGeometry, NewField};
use furrow_sync::{Registry, Worker, WorkerConfig};

#[path = "md_synth.rs"]
#[allow(dead_code)]
mod md_synth;

const CREDENTIALS: u64 = 20;

fn worker(db: &TestDb, blobs: &std::path::Path, registry: Registry) -> Worker {
    Worker::new(
        db.store.clone(),
        registry,
        WorkerConfig {
            id: "bench-worker".into(),
            blobs: Some(
                furrow_store::Blobs::local(blobs.join("blobs"), blobs.join("scratch")).unwrap(),
            ),
            ..WorkerConfig::default()
        },
    )
}

async fn drain(w: &Worker) -> usize {
    let mut n = 0;
    while w.run_once().await.unwrap() {
        n += 1;
    }
    n
}

/// Stores `n` CLAAS credentials (one grower each) and asks for their validation; returns the owner id.
async fn credentials(db: &TestDb, sim: &Simulator, n: u64) -> String {
    let owner = db
        .store
        .create_owner("bench@example.com", "password")
        .await
        .unwrap()
        .id;
    // Every organization's files are downloaded; the planting log names no crop.
    db.store
        .merge_config(
            &owner,
            None,
            serde_json::json!({"customDataSync": false,
                "cropOptional": {"standardGeoJson": {"planted": {"crop": "optional"}}}})
            .as_object()
            .unwrap(),
        )
        .await
        .unwrap();
    for _ in 0..n {
        let user = db
            .store
            .create_user(&owner, &furrow_model::UserInput::default())
            .await
            .unwrap();
        let body: serde_json::Map<String, serde_json::Value> = sim
            .new_credential()
            .into_iter()
            .filter(|(k, _)| Provider::Claas.field(k).is_some_and(|f| f.in_create))
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        let input = furrow_credentials::validate(Provider::Claas, &serde_json::Value::Object(body))
            .unwrap();
        let cred = db
            .store
            .create_credential(&owner, &user.id, &input)
            .await
            .unwrap();
        db.store.enqueue_validation(&owner, &cred.id).await.unwrap();
    }
    owner
}

fn sync_credentials(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(Simulator::start(Provider::Claas)).unwrap();
    sim.seed().retain_files(|f| f.name == "AFE.zip");
    let mut g = c.benchmark_group("sync");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(30));
    g.throughput(Throughput::Elements(CREDENTIALS));
    g.bench_function("credentials", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let db = TestDb::new(Backend::Sqlite).await;
                    let blobs = tempfile::tempdir().unwrap();
                    let registry = Registry::new()
                        .with(Provider::Claas, |ctx| {
                            Ok(Arc::new(furrow_provider_claas::ClaasProvider::new(ctx)?) as _)
                        })
                        .with_base_url(Provider::Claas, sim.base_url());
                    let w = worker(&db, blobs.path(), registry);
                    let owner = credentials(&db, &sim, CREDENTIALS).await;
                    let start = Instant::now();
                    drain(&w).await;
                    total += start.elapsed();
                    let (files, _) = db
                        .store
                        .list_files(
                            &owner,
                            &furrow_store::FileFilter {
                                status: Some(furrow_store::FileStatus::Processed),
                                ..Default::default()
                            },
                            furrow_model::Page { page: 0, size: 100 },
                        )
                        .await
                        .unwrap();
                    assert_eq!(
                        files.len() as u64,
                        CREDENTIALS,
                        "every credential's file processed"
                    );
                    db.cleanup().await;
                }
                total
            })
        })
    });
    g.finish();
}

/// A zip (stored, not deflated: the size is the data's) of a synthetic TASKDATA of about `mb` MB.
fn synthetic_zip(dir: &std::path::Path, mb: u64) -> Vec<u8> {
    let td = dir.join("TASKDATA");
    md_synth::write_taskdata(&td, mb << 20).unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true);
        for name in ["TASKDATA.XML", "TLG00001.XML", "TLG00001.BIN"] {
            z.start_file(format!("TASKDATA/{name}"), opts).unwrap();
            let mut f = std::fs::File::open(td.join(name)).unwrap();
            std::io::copy(&mut f, &mut z).unwrap();
        }
        z.finish().unwrap();
    }
    out.into_inner()
}

fn upload_to_operation(c: &mut Criterion) {
    let mb: u64 = std::env::var("FURROW_BENCH_UPLOAD_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let zip = Arc::new(synthetic_zip(scratch.path(), mb));
    // The synthetic passes: 200 lanes 9 m apart, 1 km long, from (-93.5, 41.6).
    let m_lat = 111_195.0;
    let m_lon = m_lat * 41.6f64.to_radians().cos();
    let (x1, y1) = (-93.5 + 1810.0 / m_lon, 41.6 + 1010.0 / m_lat);
    let field = BoundaryGeometry::from_coordinates(&[vec![vec![
        [-93.5001, 41.5999],
        [x1, 41.5999],
        [x1, y1],
        [-93.5001, y1],
        [-93.5001, 41.5999],
    ]]]);
    let mut g = c.benchmark_group("upload");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(60));
    g.throughput(Throughput::Bytes(zip.len() as u64));
    g.bench_function(format!("zip-to-operation-{mb}MB"), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let db = TestDb::new(Backend::Sqlite).await;
                    let blobs = tempfile::tempdir().unwrap();
                    let owner = db
                        .store
                        .create_owner("bench@example.com", "password")
                        .await
                        .unwrap();
                    let user = db
                        .store
                        .create_user(&owner.id, &furrow_model::UserInput::default())
                        .await
                        .unwrap();
                    db.store
                        .create_field(&owner.id, &user.id, &NewField::default(), &field)
                        .await
                        .unwrap();
                    let state = furrow_api::AppState::new(
                        db.store.clone(),
                        &db.key,
                        furrow_api::ApiConfig {
                            blobs: Some(
                                furrow_store::Blobs::local(
                                    blobs.path().join("blobs"),
                                    blobs.path().join("scratch"),
                                )
                                .unwrap(),
                            ),
                            ..furrow_api::ApiConfig::default()
                        },
                    );
                    let token = state.tokens.issue("bench@example.com", false);
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let addr = listener.local_addr().unwrap();
                    let server = tokio::spawn(async move {
                        axum::serve(listener, furrow_api::router(state)).await.unwrap();
                    });
                    let w = worker(&db, blobs.path(), Registry::new());
                    let boundary = "furrow-bench-boundary";
                    let mut body = format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"harvest.zip\"\r\n\
                         Content-Type: application/zip\r\n\r\n"
                    )
                    .into_bytes();
                    body.extend_from_slice(&zip);
                    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());

                    let start = Instant::now();
                    let r = reqwest::Client::new()
                        .post(format!(
                            "http://{addr}/services/operations/api/batch?leafUserId={}",
                            user.id
                        ))
                        .bearer_auth(&token)
                        .header(
                            "content-type",
                            format!("multipart/form-data; boundary={boundary}"),
                        )
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 201);
                    drain(&w).await;
                    total += start.elapsed();

                    let ops = db.store.user_operations(&owner.id, &user.id).await.unwrap();
                    assert_eq!(ops.len(), 1, "one harvest operation");
                    assert_eq!(ops[0].status, furrow_store::FileStatus::Processed, "{:?}", ops[0].message);
                    server.abort();
                    db.cleanup().await;
                }
                total
            })
        })
    });
    g.finish();
}

criterion_group!(benches, sync_credentials, upload_to_operation);
criterion_main!(benches);
