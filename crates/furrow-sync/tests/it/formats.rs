//! Machine files in the formats providers really deliver: Climate FieldView's activities are Precision Planting
//! 20|20 files, which furrow keeps and refuses as unsupported, downloads once and never retries.

use std::sync::Arc;
use std::time::Duration;

use furrow_credentials::Provider;
use furrow_model::{Page, UserInput};
use furrow_provider_sim::Simulator;
use furrow_store::testing::TestDb;
use furrow_store::{FileFilter, FileStatus, OriginalStatus};
use furrow_sync::{Registry, Worker, WorkerConfig};
use serde_json::Value;

use super::{Receiver, drain};

on_both_backends!(climate_field_view_20_20_files_are_kept_unsupported_and_never_retried);

/// A stored credential of `kind` on a new user of a new owner: (owner, user, credential).
async fn credential(db: &TestDb, sim: &Simulator, kind: Provider) -> (String, String, String) {
    let owner = db
        .store
        .create_owner("formats@example.com", "password")
        .await
        .unwrap()
        .id;
    let user = db
        .store
        .create_user(&owner, &UserInput::default())
        .await
        .unwrap()
        .id;
    let body: serde_json::Map<String, Value> = sim
        .new_credential()
        .into_iter()
        .filter(|(k, _)| kind.field(k).is_some_and(|f| f.in_create))
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let input = furrow_credentials::validate(kind, &Value::Object(body)).unwrap();
    let cred = db
        .store
        .create_credential(&owner, &user, &input)
        .await
        .unwrap()
        .id;
    (owner, user, cred)
}

async fn climate_field_view_20_20_files_are_kept_unsupported_and_never_retried(db: &TestDb) {
    let sim = Simulator::start(Provider::ClimateFieldView).await.unwrap();
    let (owner, user, cred) = credential(db, &sim, Provider::ClimateFieldView).await;
    db.store
        .merge_config(
            &owner,
            None,
            serde_json::json!({"customDataSync": false})
                .as_object()
                .unwrap(),
        )
        .await
        .unwrap();
    let (receiver, url) = Receiver::start(0).await;
    let hook = db
        .store
        .create_webhook(
            &owner,
            "files",
            &url,
            "formats-hook-secret",
            &[
                "providerFileProcessingFinished".to_string(),
                "providerFileProcessingFailed".to_string(),
            ],
        )
        .await
        .unwrap();
    db.store
        .confirm_registration(&owner, &hook.id)
        .await
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let blobs =
        furrow_store::Blobs::local(root.path().join("blobs"), root.path().join("scratch")).unwrap();
    let registry = Registry::new()
        .with(Provider::ClimateFieldView, |ctx| {
            Ok(
                Arc::new(furrow_provider_climate_field_view::ClimateFieldViewProvider::new(ctx)?)
                    as _,
            )
        })
        .with_base_url(Provider::ClimateFieldView, sim.base_url());
    let w = Worker::new(
        db.store.clone(),
        registry,
        WorkerConfig {
            id: "formats-worker".into(),
            webhook_retry_delays: vec![Duration::ZERO],
            blobs: Some(blobs.clone()),
            ..WorkerConfig::default()
        },
    );
    db.store
        .enqueue_files_sync(&owner, &cred, false)
        .await
        .unwrap();
    drain(&w).await;

    let list = || async {
        db.store
            .list_files(&owner, &FileFilter::default(), Page::new(0, 100).unwrap())
            .await
            .unwrap()
            .0
    };
    let files = list().await;
    let served = sim.visible_files();
    let mut names: Vec<&str> = files.iter().map(|f| f.file_name.as_str()).collect();
    names.sort();
    // Climate's activities have no file name: the adapter names them by layer kind and id.
    assert_eq!(
        names,
        [
            "asApplied-mf-1102.zip",
            "asHarvested-mf-1101.zip",
            "asPlanted-mf-1100.zip"
        ]
    );
    for f in &files {
        assert_eq!(f.file_format.as_deref(), Some("PP2020"), "{}", f.file_name);
        // The store has one status for a file that did not convert; the message says it is unsupported.
        assert_eq!(f.status, FileStatus::Failed, "{}", f.file_name);
        assert_eq!(
            f.message.as_deref(),
            Some(
                "unsupported file format: Precision Planting 20|20 data cannot be converted (no public \
                 specification); the original is kept"
            ),
            "{}",
            f.file_name
        );
        assert_eq!(f.steps["standardGeojson"], "FAILED");
        assert!(f.standard_key.is_none(), "nothing converted");
        // The original is kept, byte for byte as Climate served it.
        let seed = served
            .iter()
            .find(|s| f.provider_file_id.starts_with(&format!("{}/", s.id)))
            .expect("served");
        let original = blobs
            .get_bytes(f.original_key.as_deref().expect("the original is kept"))
            .await
            .unwrap();
        assert_eq!(original.as_ref(), seed.bytes.as_ref(), "{}", f.file_name);
    }
    let originals = db
        .store
        .user_originals(&owner, &user, "ClimateFieldView", OriginalStatus::Done)
        .await
        .unwrap();
    assert_eq!(originals.len(), 3);
    let calls = receiver.calls();
    let jobs = db.store.job_counts().await.unwrap();

    // A later sync lists them again and does nothing more: no download, no conversion, no webhook.
    let requests = sim.requests();
    db.store
        .enqueue_files_sync(&owner, &cred, true)
        .await
        .unwrap();
    assert_eq!(drain(&w).await, 1, "only the listing ran");
    assert_eq!(list().await, files);
    assert_eq!(receiver.calls().len(), calls.len());
    let after = db.store.job_counts().await.unwrap();
    assert_eq!(after.failed, jobs.failed);
    // The three activity lists, each one page; no content was fetched again.
    assert_eq!(sim.requests() - requests, 3);
}
