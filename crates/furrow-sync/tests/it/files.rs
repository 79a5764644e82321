//! Machine files against the CLAAS simulator: originals listed once, downloaded once, every dataset converted,
//! failures isolated.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use furrow_credentials::Provider;
use furrow_model::Page;
use furrow_provider_sim::Simulator;
use furrow_store::testing::TestDb;
use furrow_store::{Blobs, FileFilter, FileStatus, OriginalStatus, StoredFile};
use furrow_sync::{Registry, Worker, WorkerConfig};
use serde_json::Value;

use super::{Receiver, drain, stored_credential};

on_both_backends!(
    every_file_is_stored_once_processed_and_announced,
    validation_starts_the_files_sync_and_without_blobs_jobs_fail_clearly,
    a_slow_download_keeps_its_lease,
    preview_organizations_files_wait_until_selected,
);

fn blobs(root: &std::path::Path) -> Blobs {
    Blobs::local(root.join("blobs"), root.join("scratch")).unwrap()
}

fn file_worker(db: &TestDb, sim: &Simulator, blobs: Option<Blobs>) -> Worker {
    let registry = Registry::new()
        .with(Provider::Claas, |ctx| {
            Ok(Arc::new(furrow_provider_claas::ClaasProvider::new(ctx)?) as _)
        })
        .with_base_url(Provider::Claas, sim.base_url());
    let config = WorkerConfig {
        id: "file-worker".into(),
        webhook_retry_delays: vec![Duration::ZERO],
        blobs,
        ..WorkerConfig::default()
    };
    Worker::new(db.store.clone(), registry, config)
}

/// Waits until `condition` holds, checking it again each time the runtime has run the other tasks; fails after
/// a minute (a bound for a broken build, not a timing the test relies on).
async fn until<F: std::future::Future<Output = bool>>(
    what: &str,
    mut condition: impl FnMut() -> F,
) {
    let wait = async {
        while !condition().await {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .unwrap_or_else(|_| panic!("waited a minute for {what}"));
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

/// Machine files of every organization are downloaded (without customDataSync, organizations arrive in
/// preview and their files wait).
async fn download_everything(db: &TestDb, owner: &str) {
    db.store
        .merge_config(
            owner,
            None,
            serde_json::json!({"customDataSync": false, "cropOptional":
                {"standardGeoJson": {"planted": {"crop": "optional"}}}})
            .as_object()
            .unwrap(),
        )
        .await
        .unwrap();
}

async fn every_file_is_stored_once_processed_and_announced(db: &TestDb) {
    let sim = Simulator::start(Provider::Claas).await.unwrap();
    let values = sim.new_credential();
    let (owner, cred) = stored_credential(db, &values).await;
    download_everything(db, &owner).await;
    let user = db
        .store
        .get_credential_by_id(&owner, &cred)
        .await
        .unwrap()
        .user_id;
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
    let root = tempfile::tempdir().unwrap();
    let store_blobs = blobs(root.path());
    let w = file_worker(db, &sim, Some(store_blobs.clone()));
    db.store
        .enqueue_files_sync(&owner, &cred, false)
        .await
        .unwrap();
    // The sync job alone: it records every visible original, none downloaded yet, no file yet.
    assert!(w.run_once().await.unwrap());
    let visible = sim.visible_files();
    assert!(visible.len() >= 2, "the simulator serves files");
    let pending = db
        .store
        .user_originals(&owner, &user, "CLAAS", OriginalStatus::Pending)
        .await
        .unwrap();
    let mut ids: Vec<&str> = pending
        .iter()
        .map(|o| o.provider_file_id.as_str())
        .collect();
    ids.sort();
    let mut want: Vec<&str> = visible.iter().map(|f| f.id.as_str()).collect();
    want.sort();
    assert_eq!(ids, want);
    assert!(all_files(db, &owner).await.is_empty());
    // Corrupt one original before it is processed: it must fail alone.
    let victim = pending[0].clone();
    let bad_key = format!("{owner}/{user}/originals/{}/original", victim.id);
    store_blobs
        .put_bytes(
            &bad_key,
            bytes::Bytes::from_static(b"this is not a zip archive"),
        )
        .await
        .unwrap();
    db.store
        .set_original_state(
            &owner,
            &victim.id,
            OriginalStatus::Pending,
            None,
            Some((&bad_key, 25)),
        )
        .await
        .unwrap();
    drain(&w).await;
    let done = all_files(db, &owner).await;
    // Every original is done, and gave at least one file.
    for o in &pending {
        let o = db.store.get_original(&owner, &o.id).await.unwrap();
        assert_eq!(o.status, OriginalStatus::Done, "{:?}", o.message);
        assert!(done.iter().any(|f| f.original_id.as_deref() == Some(&o.id)));
    }
    let failed: Vec<&StoredFile> = done
        .iter()
        .filter(|f| f.original_id.as_deref() == Some(&victim.id))
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].status, FileStatus::Failed);
    let m = failed[0].message.as_deref().unwrap_or_default();
    assert!(m.contains("not a zip archive"), "a failure says why: {m}");
    let root_text = root.path().display().to_string();
    for f in &done {
        let m = f.message.as_deref().unwrap_or_default();
        assert!(
            !m.contains(&root_text),
            "messages never show blob paths: {m}"
        );
    }
    let processed: Vec<&StoredFile> = done
        .iter()
        .filter(|f| f.status == FileStatus::Processed)
        .collect();
    assert!(!processed.is_empty(), "the other files are not blocked");
    assert!(done.iter().all(|f| f.status != FileStatus::Processing));
    // The multi-task export gives one file per task and operation type.
    let valid = visible
        .iter()
        .find(|f| f.name == "ValidTimeLogs.zip")
        .unwrap();
    let from_valid = done
        .iter()
        .filter(|f| f.provider_file_id.starts_with(&format!("{}/", valid.id)))
        .count();
    assert!(
        from_valid >= 19,
        "{from_valid} files from the 19-task export"
    );
    for f in &processed {
        let seed = visible
            .iter()
            .find(|s| f.provider_file_id.starts_with(&format!("{}/", s.id)))
            .unwrap();
        let original = store_blobs
            .get_bytes(f.original_key.as_ref().unwrap())
            .await
            .unwrap();
        assert_eq!(
            original.as_ref(),
            seed.bytes.as_ref(),
            "the original as served"
        );
        assert_eq!(f.steps["standardGeojson"], "DONE");
        let parquet = store_blobs
            .get_bytes(f.standard_key.as_ref().unwrap())
            .await
            .unwrap();
        assert_eq!(&parquet[..4], b"PAR1");
        assert_eq!(f.summary.as_ref().unwrap()["type"], "Feature");
        assert!(f.units.as_ref().unwrap().is_object());
        assert!(f.operation_type.is_some());
        assert_eq!(f.file_format.as_deref(), Some("ISO11783"));
        let counts = f.counts.as_ref().unwrap();
        assert!(counts["written"].as_u64().unwrap() > 0);
    }
    // GeoJSON is not stored: only originals and GeoParquet.
    let keys = store_blobs.list(&format!("{owner}/")).await.unwrap();
    assert!(
        keys.iter()
            .all(|k| k.ends_with("/original") || k.ends_with("/standard.parquet")),
        "{keys:?}"
    );
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

async fn preview_organizations_files_wait_until_selected(db: &TestDb) {
    let sim = Simulator::start(Provider::Claas).await.unwrap();
    let values = sim.new_credential();
    let (owner, cred) = stored_credential(db, &values).await;
    let user = db
        .store
        .get_credential_by_id(&owner, &cred)
        .await
        .unwrap()
        .user_id;
    let root = tempfile::tempdir().unwrap();
    let w = file_worker(db, &sim, Some(blobs(root.path())));
    // customDataSync (the default): organizations arrive in PREVIEW, their files are listed, not downloaded.
    db.store
        .enqueue_files_sync(&owner, &cred, false)
        .await
        .unwrap();
    drain(&w).await;
    let listed = db
        .store
        .user_originals(&owner, &user, "CLAAS", OriginalStatus::Listed)
        .await
        .unwrap();
    assert_eq!(listed.len(), sim.visible_files().len());
    assert!(all_files(db, &owner).await.is_empty());
    assert!(
        blobs(root.path()).list("").await.unwrap().is_empty(),
        "nothing downloaded"
    );
    // The user selects the first organization: the next sync downloads its files, only its.
    db.store
        .set_provider_organization_status(&owner, &user, "CLAAS", "4201", "SELECTED")
        .await
        .unwrap();
    db.store
        .enqueue_files_sync(&owner, &cred, false)
        .await
        .unwrap();
    drain(&w).await;
    let files = all_files(db, &owner).await;
    assert!(!files.is_empty());
    assert!(
        files
            .iter()
            .all(|f| f.organization_id.as_deref() == Some("4201"))
    );
    let still = db
        .store
        .user_originals(&owner, &user, "CLAAS", OriginalStatus::Listed)
        .await
        .unwrap();
    let others = sim
        .visible_files()
        .iter()
        .filter(|f| f.organization_id != "4201")
        .count();
    assert_eq!(still.len(), others);
    // operationsAutoSync=false: a background sync lists nothing; one asked for through the API still runs.
    db.store
        .merge_config(
            &owner,
            None,
            serde_json::json!({"operationsAutoSync": false})
                .as_object()
                .unwrap(),
        )
        .await
        .unwrap();
    sim.seed().add_generated_files("4201", 1);
    let before = db
        .store
        .user_originals(&owner, &user, "CLAAS", OriginalStatus::Done)
        .await
        .unwrap()
        .len();
    db.store
        .enqueue_files_sync(&owner, &cred, false)
        .await
        .unwrap();
    drain(&w).await;
    let after = db
        .store
        .user_originals(&owner, &user, "CLAAS", OriginalStatus::Done)
        .await
        .unwrap()
        .len();
    assert_eq!(after, before, "background sync skipped");
    db.store
        .enqueue_files_sync(&owner, &cred, true)
        .await
        .unwrap();
    drain(&w).await;
    let after = db
        .store
        .user_originals(&owner, &user, "CLAAS", OriginalStatus::Done)
        .await
        .unwrap()
        .len();
    assert_eq!(after, before + 1, "the on-demand sync ran");
}

async fn validation_starts_the_files_sync_and_without_blobs_jobs_fail_clearly(db: &TestDb) {
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
    let sync = db
        .store
        .enqueue_files_sync(&owner, &cred, false)
        .await
        .unwrap();
    assert_eq!(drain(&w).await, 1);
    let (state, error, _) = db.store.job_state(&sync).await.unwrap();
    assert_eq!(state, "failed");
    assert!(error.unwrap_or_default().contains("no blob store"));
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
    let seed = sim
        .visible_files()
        .into_iter()
        .find(|f| f.name == "AFE.zip")
        .unwrap();
    let descriptor = furrow_model::MachineFileDescriptor {
        id: seed.id.clone(),
        name: seed.name.clone(),
        organization_id: seed.organization_id.clone(),
        created_time: None,
        size: None,
        format: None,
        download_ref: None,
    };
    let (original, _) = db
        .store
        .insert_original_if_absent(
            &owner,
            &furrow_store::NewOriginal {
                user_id: user,
                provider: "CLAAS".into(),
                provider_file_id: seed.id.clone(),
                credential_id: Some(cred.clone()),
                organization_id: Some(seed.organization_id.clone()),
                origin: "provider".into(),
                file_name: seed.name.clone(),
                size_bytes: None,
                descriptor: Some(descriptor.clone()),
            },
            OriginalStatus::Pending,
        )
        .await
        .unwrap();
    let job = db
        .store
        .enqueue_file_process(&owner, &original, &descriptor)
        .await
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let registry = Registry::new()
        .with(Provider::Claas, |ctx| {
            Ok(Arc::new(furrow_provider_claas::ClaasProvider::new(ctx)?) as _)
        })
        .with_base_url(Provider::Claas, sim.base_url());
    let lease = Duration::from_secs(2);
    let w = Worker::new(
        db.store.clone(),
        registry,
        WorkerConfig {
            id: "slow-worker".into(),
            lease,
            blobs: Some(blobs(root.path())),
            ..WorkerConfig::default()
        },
    );
    // Every provider request now waits at the simulator's door until the test opens it: the job outlives its
    // first lease for as long as the test needs, whatever the machine's load.
    sim.faults().hold(true);
    let running = tokio::spawn(async move { w.run_once().await.unwrap() });
    // The job is claimed and downloading once its first request is at the door.
    let (sim_ref, job_ref) = (&sim, &job);
    until("the job's first request at the door", || async move {
        sim_ref.held() > 0
    })
    .await;
    let claimed = db
        .store
        .job_lease(&job)
        .await
        .unwrap()
        .expect("a claimed job has a lease");
    // The signal that matters: the lease moved forward while the job ran (renewed, not re-claimed).
    until("the lease renewed", || async move {
        db.store
            .job_lease(job_ref)
            .await
            .unwrap()
            .expect("still leased")
            > claimed
    })
    .await;
    assert!(!running.is_finished(), "the job is still downloading");
    // A thief looking after the first lease ran out finds nothing: the renewed lease still holds the job.
    let stolen = db
        .store
        .claim_job(
            "thief",
            &[furrow_store::queue::FILE_PROCESS_JOB],
            claimed + 1,
            lease.as_micros() as i64,
        )
        .await
        .unwrap();
    assert!(stolen.is_none(), "a renewed lease is not taken over");
    sim.faults().hold(false);
    assert!(running.await.unwrap());
    sim.reset_faults();
    let (state, error, attempts) = db.store.job_state(&job).await.unwrap();
    assert_eq!((state.as_str(), attempts), ("done", 1), "{error:?}");
    let o = db.store.get_original(&owner, &original).await.unwrap();
    assert_eq!(o.status, OriginalStatus::Done);
    assert!(o.blob_key.is_some());
}
