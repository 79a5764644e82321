//! Machine files against the CLAAS simulator: listed once, downloaded once, converted, failures isolated.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use furrow_credentials::Provider;
use furrow_model::Page;
use furrow_provider_sim::Simulator;
use furrow_store::testing::TestDb;
use furrow_store::{FileFilter, FileStatus, FileUpdate, StoredFile};
use furrow_sync::blobs::BlobStore;
use furrow_sync::{Registry, Worker, WorkerConfig};
use serde_json::Value;

use super::{Receiver, drain, stored_credential};

on_both_backends!(
    every_file_is_stored_once_processed_and_announced,
    validation_starts_the_files_sync_and_without_blob_dir_jobs_fail_clearly,
    a_slow_download_keeps_its_lease,
);

fn file_worker(db: &TestDb, sim: &Simulator, blob_dir: Option<std::path::PathBuf>) -> Worker {
    let registry = Registry::new()
        .with(Provider::Claas, |ctx| {
            Ok(Arc::new(furrow_provider_claas::ClaasProvider::new(ctx)?) as _)
        })
        .with_base_url(Provider::Claas, sim.base_url());
    let config = WorkerConfig {
        id: "file-worker".into(),
        webhook_retry_delays: vec![Duration::ZERO],
        blob_dir,
        ..WorkerConfig::default()
    };
    Worker::new(db.store.clone(), registry, config)
}

async fn all_files(db: &TestDb, owner: &str) -> Vec<StoredFile> {
    let (files, total) = db
        .store
        .list_files(owner, &FileFilter::default(), Page::new(0, 100).unwrap())
        .await
        .unwrap();
    assert_eq!(files.len() as i64, total);
    files
}

async fn every_file_is_stored_once_processed_and_announced(db: &TestDb) {
    let sim = Simulator::start(Provider::Claas).await.unwrap();
    let values = sim.new_credential();
    let (owner, cred) = stored_credential(db, &values).await;
    let (receiver, url) = Receiver::start(0).await;
    db.store
        .create_webhook(
            &owner,
            "files",
            &url,
            "file-hook-secret",
            &[
                "providerFileProcessingFinished".to_string(),
                "providerFileProcessingFailed".to_string(),
            ],
        )
        .await
        .unwrap();
    let blob_root = tempfile::tempdir().unwrap();
    let w = file_worker(db, &sim, Some(blob_root.path().to_path_buf()));
    db.store.enqueue_files_sync(&owner, &cred).await.unwrap();
    // The sync job alone: it records every visible file, none processed yet.
    assert!(w.run_once().await.unwrap());
    let visible = sim.visible_files();
    assert!(visible.len() >= 2, "the simulator serves files");
    let listed = all_files(db, &owner).await;
    assert_eq!(listed.len(), visible.len());
    let mut ids: Vec<&str> = listed.iter().map(|f| f.provider_file_id.as_str()).collect();
    ids.sort();
    let mut want: Vec<&str> = visible.iter().map(|f| f.id.as_str()).collect();
    want.sort();
    assert_eq!(ids, want);
    assert!(listed.iter().all(|f| f.status == FileStatus::Processing));
    // Corrupt one file's original before it is processed: it must fail alone.
    let victim = listed[0].clone();
    let blobs = BlobStore::new(blob_root.path());
    let bad = blobs
        .put(&owner, &victim.id, "original", b"this is not a zip archive")
        .await
        .unwrap();
    db.store
        .update_file(
            &owner,
            &victim.id,
            &FileUpdate {
                original_path: Some(bad.display().to_string()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    drain(&w).await;
    let done = all_files(db, &owner).await;
    assert_eq!(done.len(), visible.len());
    let failed = done.iter().find(|f| f.id == victim.id).unwrap();
    assert_eq!(failed.status, FileStatus::Failed);
    assert!(
        failed.message.as_deref().is_some_and(|m| !m.is_empty()),
        "a failure says why"
    );
    assert_eq!(failed.steps["standard"], "FAILED");
    let root = blob_root.path().display().to_string();
    for f in &done {
        let m = f.message.as_deref().unwrap_or_default();
        assert!(!m.contains(&root), "messages never show blob paths: {m}");
    }
    let processed: Vec<&StoredFile> = done
        .iter()
        .filter(|f| f.status == FileStatus::Processed)
        .collect();
    assert!(!processed.is_empty(), "the other files are not blocked");
    assert!(done.iter().all(|f| f.status != FileStatus::Processing));
    for f in &processed {
        let seed = visible.iter().find(|s| s.id == f.provider_file_id).unwrap();
        let original = std::fs::read(f.original_path.as_ref().unwrap()).unwrap();
        assert_eq!(
            original.as_slice(),
            seed.bytes.as_ref(),
            "the original as served"
        );
        assert_eq!(f.steps["original"], "DONE");
        assert_eq!(f.steps["standard"], "DONE");
        let parquet = std::fs::read(f.standard_path.as_ref().unwrap()).unwrap();
        assert_eq!(&parquet[..4], b"PAR1");
        let geojson: Value =
            serde_json::from_slice(&std::fs::read(f.geojson_path.as_ref().unwrap()).unwrap())
                .unwrap();
        assert_eq!(geojson["type"], "FeatureCollection");
        assert!(!geojson["features"].as_array().unwrap().is_empty());
        assert_eq!(f.summary.as_ref().unwrap()["type"], "Feature");
        assert!(f.units.as_ref().unwrap().is_object());
        assert!(f.operation_type.is_some());
    }
    // Webhooks: one per file, the right kind.
    let bodies: Vec<Value> = receiver
        .calls()
        .iter()
        .map(|(_, b)| serde_json::from_str(b).unwrap())
        .collect();
    let mut by_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for b in &bodies {
        by_file
            .entry(b["fileId"].as_str().unwrap().to_owned())
            .or_default()
            .push(b["type"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(by_file.len(), done.len(), "{bodies:?}");
    for f in &done {
        let want = match f.status {
            FileStatus::Processed => "providerFileProcessingFinished",
            _ => "providerFileProcessingFailed",
        };
        assert_eq!(by_file[&f.id], vec![want.to_owned()], "{bodies:?}");
    }
    // The sync runs again (not deduplicated): nothing new, nothing reprocessed, no more webhooks.
    db.store
        .enqueue_job(
            &owner,
            &furrow_store::NewJob {
                kind: furrow_store::queue::FILES_SYNC_JOB.into(),
                payload: serde_json::json!({ "credentialId": cred }).to_string(),
                dedupe_key: None,
                run_at: furrow_model::now_micros(),
                max_attempts: 3,
            },
        )
        .await
        .unwrap();
    assert_eq!(drain(&w).await, 1, "only the sync job ran");
    let again = all_files(db, &owner).await;
    assert_eq!(again, done, "re-running changes nothing");
    assert_eq!(receiver.calls().len(), bodies.len());
}

async fn validation_starts_the_files_sync_and_without_blob_dir_jobs_fail_clearly(db: &TestDb) {
    let sim = Simulator::start(Provider::Claas).await.unwrap();
    let values = sim.new_credential();
    let (owner, cred) = stored_credential(db, &values).await;
    db.store.enqueue_validation(&owner, &cred).await.unwrap();
    let w = file_worker(db, &sim, None);
    assert_eq!(
        drain(&w).await,
        3,
        "the validation, then the fields and files syncs"
    );
    assert_eq!(db.store.job_counts().await.unwrap().failed, 1);
    // A failed job released its dedupe key: asking again runs (and fails) again.
    let sync = db.store.enqueue_files_sync(&owner, &cred).await.unwrap();
    assert_eq!(drain(&w).await, 1);
    let (state, error, _) = db.store.job_state(&sync).await.unwrap();
    assert_eq!(state, "failed");
    assert!(error.unwrap_or_default().contains("no blob directory"));
    assert!(all_files(db, &owner).await.is_empty());
}

async fn a_slow_download_keeps_its_lease(db: &TestDb) {
    let sim = Simulator::start(Provider::Claas).await.unwrap();
    let values = sim.new_credential();
    let (owner, cred) = stored_credential(db, &values).await;
    let user = db
        .store
        .get_credential_by_id(&owner, &cred)
        .await
        .unwrap()
        .user_id;
    let seed = sim.visible_files().into_iter().next().unwrap();
    let (file_id, _) = db
        .store
        .insert_file_if_absent(
            &owner,
            &furrow_store::NewFile {
                user_id: user,
                provider: "CLAAS".into(),
                provider_file_id: seed.id.clone(),
                credential_id: Some(cred.clone()),
                organization_id: Some(seed.organization_id.clone()),
                origin: "provider".into(),
                file_name: seed.name.clone(),
                file_format: None,
                size_bytes: None,
                batch_id: None,
            },
        )
        .await
        .unwrap();
    let job = db
        .store
        .enqueue_job(
            &owner,
            &furrow_store::NewJob {
                kind: furrow_store::queue::FILE_PROCESS_JOB.into(),
                payload: serde_json::json!({
                    "originalId": file_id,
                    "descriptor": {"id": seed.id, "name": seed.name, "organizationId": seed.organization_id},
                })
                .to_string(),
                dedupe_key: None,
                run_at: furrow_model::now_micros(),
                max_attempts: 3,
            },
        )
        .await
        .unwrap();
    let blob_root = tempfile::tempdir().unwrap();
    let registry = Registry::new()
        .with(Provider::Claas, |ctx| {
            Ok(Arc::new(furrow_provider_claas::ClaasProvider::new(ctx)?) as _)
        })
        .with_base_url(Provider::Claas, sim.base_url());
    let lease = Duration::from_millis(600);
    let w = Worker::new(
        db.store.clone(),
        registry,
        WorkerConfig {
            id: "slow-worker".into(),
            lease,
            blob_dir: Some(blob_root.path().to_path_buf()),
            ..WorkerConfig::default()
        },
    );
    // Every provider request now takes a second: the job outlives its first lease several times.
    sim.faults().latency(u32::MAX, Duration::from_millis(1000));
    let running = tokio::spawn(async move { w.run_once().await.unwrap() });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!running.is_finished(), "still downloading");
    let stolen = db
        .store
        .claim_job(
            "thief",
            &[furrow_store::queue::FILE_PROCESS_JOB],
            furrow_model::now_micros(),
            lease.as_micros() as i64,
        )
        .await
        .unwrap();
    assert!(stolen.is_none(), "the lease was renewed");
    assert!(running.await.unwrap());
    sim.reset_faults();
    let (state, error, attempts) = db.store.job_state(&job).await.unwrap();
    assert_eq!((state.as_str(), attempts), ("done", 1), "{error:?}");
    let f = db.store.get_file(&owner, &file_id).await.unwrap();
    assert_ne!(f.status, FileStatus::Processing);
    assert_eq!(f.steps["original"], "DONE");
}
