//! Uploaded machine files through allocation, grouping into field operations and the operations' outputs.

use std::time::Duration;

use furrow_model::UserInput;
use furrow_store::testing::TestDb;
use furrow_store::{Blobs, BoundaryGeometry, FileStatus, NewField, StoredOperation};
use furrow_sync::{Registry, Worker, WorkerConfig};
use serde_json::Value;

use super::{Receiver, drain};

on_both_backends!(
    uploads_become_field_operations_with_outputs_and_events,
    an_upload_that_kills_its_worker_at_every_attempt_becomes_a_failed_file,
    field_operation_creation_and_reprocess_follow_the_settings
);

/// The sample planting log (TSK4, 4174 standard points near Osnabrück).
fn afe_zip() -> Vec<u8> {
    std::fs::read(furrow_provider_sim::samples_dir().join("isoxml/isoxml-dotnet/AFE.zip")).unwrap()
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> BoundaryGeometry {
    BoundaryGeometry::from_coordinates(&[vec![vec![
        [x0, y0],
        [x1, y0],
        [x1, y1],
        [x0, y1],
        [x0, y0],
    ]]])
}

async fn rows(blobs: &Blobs, key: &str) -> usize {
    let copy = blobs.local_copy(key).await.unwrap();
    furrow_geoparquet::read_geoparquet(copy.path())
        .unwrap_or_else(|e| panic!("{key}: {e}"))
        .num_rows()
}

async fn upload(db: &TestDb, blobs: &Blobs, owner: &str, user: &str, n: usize) -> String {
    let batch = uuid::Uuid::new_v4().to_string();
    let original = uuid::Uuid::new_v4().to_string();
    let bytes = afe_zip();
    let key = format!("{owner}/uploads/{original}/original");
    blobs
        .put_bytes(&key, bytes::Bytes::from(bytes.clone()))
        .await
        .unwrap();
    db.store
        .register_upload(
            owner,
            user,
            "Leaf",
            &format!("AFE-{n}.zip"),
            bytes.len() as i64,
            &batch,
            &original,
            &key,
        )
        .await
        .unwrap();
    original
}

/// The one file an upload of `original` gave.
async fn file_of(db: &TestDb, owner: &str, original: &str) -> furrow_store::StoredFile {
    let (files, _) = db
        .store
        .list_files(
            owner,
            &Default::default(),
            furrow_model::Page::new(0, 100).unwrap(),
        )
        .await
        .unwrap();
    let mine: Vec<_> = files
        .into_iter()
        .filter(|f| f.original_id.as_deref() == Some(original))
        .collect();
    assert_eq!(mine.len(), 1, "AFE.zip is one task");
    mine.into_iter().next().unwrap()
}

async fn operations(db: &TestDb, owner: &str, user: &str) -> Vec<StoredOperation> {
    let mut ops = db.store.user_operations(owner, user).await.unwrap();
    ops.sort_by(|a, b| a.membership.field_id.cmp(&b.membership.field_id));
    ops
}

fn event_counts(r: &Receiver) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for (_, body) in r.calls() {
        let v: Value = serde_json::from_str(&body).unwrap();
        if let Some(t) = v["type"].as_str() {
            *out.entry(t.to_owned()).or_insert(0) += 1;
        }
    }
    out
}

async fn uploads_become_field_operations_with_outputs_and_events(db: &TestDb) {
    let owner = db
        .store
        .create_owner("ops@example.com", "password")
        .await
        .unwrap()
        .id;
    let user = db
        .store
        .create_user(&owner, &UserInput::default())
        .await
        .unwrap()
        .id;
    // Two fields splitting the standard points' extent (lon 8.02975..8.03135) west and east.
    let mut field_ids = Vec::new();
    for (name, geometry) in [
        ("west", rect(8.0290, 52.3588, 8.0305, 52.3602)),
        ("east", rect(8.0305, 52.3588, 8.0356, 52.3602)),
    ] {
        let f = db
            .store
            .create_field(
                &owner,
                &user,
                &NewField {
                    id: Some(name.into()),
                    name: Some(name.into()),
                    farm_id: None,
                },
                &geometry,
            )
            .await
            .unwrap();
        field_ids.push(f.id);
    }
    let (receiver, url) = Receiver::start(0).await;
    db.store
        .create_webhook(
            &owner,
            "ops",
            &url,
            "ops-secret",
            &[
                "operationCreated".to_string(),
                "operationUpdated".to_string(),
                "operationProcessingFinished".to_string(),
                "uploadedFileProcessingFinished".to_string(),
                "batchUploadProcessingFinished".to_string(),
            ],
        )
        .await
        .unwrap();
    db.store
        .merge_config(
            &owner,
            None,
            serde_json::json!({"cropOptional": {"standardGeoJson": {"planted": {"crop": "optional"}}}})
                .as_object()
                .unwrap(),
        )
        .await
        .unwrap();
    let blob_root = tempfile::tempdir().unwrap();
    let blobs = Blobs::local(blob_root.path().join("b"), blob_root.path().join("s")).unwrap();
    let w = Worker::new(
        db.store.clone(),
        Registry::new(),
        WorkerConfig {
            id: "ops-worker".into(),
            webhook_retry_delays: vec![Duration::ZERO],
            blobs: Some(blobs.clone()),
            ..WorkerConfig::default()
        },
    );

    // One upload: converted, allocated to both fields, grouped into one operation per field.
    let first_original = upload(db, &blobs, &owner, &user, 1).await;
    drain(&w).await;
    let file = file_of(db, &owner, &first_original).await;
    let first = file.id.clone();
    assert_eq!(file.status, FileStatus::Processed, "{:?}", file.message);
    assert_eq!(file.origin, "uploaded");
    assert_eq!(file.steps["areaAndYield"], "DONE");
    let mut touched = file.field_ids.clone();
    touched.sort();
    assert_eq!(touched, ["east", "west"]);
    let file_rows = rows(&blobs, file.standard_key.as_deref().unwrap()).await;
    assert_eq!(file_rows, 4174, "the planting log's standard points");
    let outside = file.outside_count.unwrap() as usize;

    let ops = operations(db, &owner, &user).await;
    assert_eq!(ops.len(), 2, "one operation per field");
    let mut op_rows = 0;
    for (op, field) in ops.iter().zip(["east", "west"]) {
        let m = &op.membership;
        assert_eq!(m.field_id.as_deref(), Some(field));
        assert_eq!(m.operation_type, "planted");
        assert_eq!(m.files, std::slice::from_ref(&first));
        assert_eq!(m.providers, ["Leaf"]);
        assert_eq!(op.status, FileStatus::Processed, "{:?}", op.message);
        assert_eq!(op.built_version, op.version);
        let cov = op.fields[0].coverage.unwrap();
        assert!(cov > 0.0 && cov <= 1.0, "coverage {cov}");
        let summary = op.summary.as_ref().unwrap();
        assert_eq!(summary["properties"]["operationType"], "planted");
        assert!(
            summary["properties"]["totalArea"]["value"]
                .as_f64()
                .unwrap()
                > 0.0
        );
        let standard = op.points.unwrap() as usize;
        let filtered = summary["properties"]["pointCounts"]["filtered"]
            .as_u64()
            .unwrap() as usize;
        assert!(standard > 0 && filtered <= standard);
        assert_eq!(
            summary["properties"]["pointCounts"]["standard"].as_u64(),
            Some(standard as u64)
        );
        op_rows += standard;
    }
    assert_eq!(
        op_rows + outside,
        file_rows,
        "every point is in exactly one field operation or outside"
    );
    let ids: Vec<String> = ops.iter().map(|o| o.membership.id.clone()).collect();

    // The same data again in a second batch: the same two operations, updated, now with both files.
    let second_original = upload(db, &blobs, &owner, &user, 2).await;
    drain(&w).await;
    let second = file_of(db, &owner, &second_original).await.id;
    let ops = operations(db, &owner, &user).await;
    assert_eq!(
        ops.iter()
            .map(|o| o.membership.id.clone())
            .collect::<Vec<_>>(),
        ids,
        "operations keep their ids as files join"
    );
    for op in &ops {
        let mut want = vec![first.clone(), second.clone()];
        want.sort();
        assert_eq!(op.membership.files, want);
        assert_eq!(op.built_version, op.version);
        assert_eq!(op.version, 2);
    }
    let counts = event_counts(&receiver);
    assert_eq!(counts.get("operationCreated"), Some(&2));
    assert_eq!(counts.get("operationUpdated"), Some(&2));
    assert_eq!(counts.get("operationProcessingFinished"), Some(&4));
    assert_eq!(counts.get("uploadedFileProcessingFinished"), Some(&2));
    assert_eq!(counts.get("batchUploadProcessingFinished"), Some(&2));
    let batch = db
        .store
        .get_batch(&owner, file.batch_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(batch.status, "PROCESSED");

    // Asking again changes nothing.
    db.store.enqueue_reallocation(&owner, &user).await.unwrap();
    drain(&w).await;
    let again = operations(db, &owner, &user).await;
    assert_eq!(
        again
            .iter()
            .map(|o| (o.membership.clone(), o.version))
            .collect::<Vec<_>>(),
        ops.iter()
            .map(|o| (o.membership.clone(), o.version))
            .collect::<Vec<_>>()
    );
    assert_eq!(event_counts(&receiver), counts, "no event for no change");

    // The east field moves away: its operation goes, the west one stays.
    db.store
        .replace_boundary(&owner, &user, "east", &rect(9.0, 50.0, 9.01, 50.01))
        .await
        .unwrap();
    db.store.enqueue_reallocation(&owner, &user).await.unwrap();
    drain(&w).await;
    let left = operations(db, &owner, &user).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].membership.field_id.as_deref(), Some("west"));
    assert_eq!(left[0].membership.id, ids[1]);
    let file = db.store.get_file(&owner, &first).await.unwrap();
    assert_eq!(file.field_ids, ["west"]);
}

/// An upload whose processing kills its worker at every attempt (a crash, memory exhausted) is not retried for
/// ever: once its attempts are used up it becomes a failed file and a failed batch saying why, and no worker
/// takes it again.
async fn an_upload_that_kills_its_worker_at_every_attempt_becomes_a_failed_file(db: &TestDb) {
    let owner = db
        .store
        .create_owner("poison@example.com", "password")
        .await
        .unwrap()
        .id;
    let user = db
        .store
        .create_user(&owner, &UserInput::default())
        .await
        .unwrap()
        .id;
    let blob_root = tempfile::tempdir().unwrap();
    let blobs = Blobs::local(blob_root.path().join("b"), blob_root.path().join("s")).unwrap();
    let w = Worker::new(
        db.store.clone(),
        Registry::new(),
        WorkerConfig {
            id: "survivor".into(),
            blobs: Some(blobs.clone()),
            ..WorkerConfig::default()
        },
    );
    let original = upload(db, &blobs, &owner, &user, 1).await;
    let batch = db
        .store
        .get_original(&owner, &original)
        .await
        .unwrap()
        .batch_id
        .unwrap();
    // Five workers in a row claim it and die before finishing: each lease lasts a microsecond, and the next
    // claim comes after it (all of it before this worker looks, a few database round trips later).
    let lease = 1;
    let mut t = furrow_model::now_micros();
    for attempt in 1..=5 {
        let job = db
            .store
            .claim_job(
                &format!("doomed-{attempt}"),
                &[furrow_store::queue::FILE_PROCESS_JOB],
                t,
                lease,
            )
            .await
            .unwrap()
            .expect("the upload's job is claimed again after each death");
        assert_eq!(job.attempts, attempt);
        t += 2 * lease;
    }
    assert!(
        !w.run_once().await.unwrap(),
        "its attempts are used up: nothing to claim"
    );
    assert_eq!(w.fail_abandoned().await.unwrap(), 1);
    assert_eq!(w.fail_abandoned().await.unwrap(), 0, "failed once");
    drain(&w).await;
    let (files, total) = db
        .store
        .list_files(
            &owner,
            &Default::default(),
            furrow_model::Page::new(0, 100).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(total, 1);
    let file = &files[0];
    assert_eq!(file.status, FileStatus::Failed);
    assert_eq!(file.file_name, "AFE-1.zip");
    let message = file.message.as_deref().unwrap();
    assert!(message.contains(furrow_store::ABANDONED), "{message}");
    assert!(message.contains("5 attempts"), "{message}");
    let b = db.store.get_batch(&owner, &batch).await.unwrap();
    assert_eq!(b.status, "FAILED");
    assert!(
        b.status_details
            .as_deref()
            .unwrap()
            .contains(furrow_store::ABANDONED)
    );
    let c = db.store.job_counts().await.unwrap();
    assert_eq!((c.queued, c.running), (0, 0), "nothing left to run");
}

/// `fieldOperationCreation: false` converts and allocates files but makes no operation; turned on (and the user's
/// files regrouped) the operation appears. Settings are not retroactive: `unitMeasurement: IMPERIAL` leaves the
/// built operation in METRIC until it is reprocessed (Leaf's `POST /operations/{id}/reprocess`), which converts
/// its files again with the settings in force and rebuilds it under the same id.
async fn field_operation_creation_and_reprocess_follow_the_settings(db: &TestDb) {
    let owner = db
        .store
        .create_owner("settings@example.com", "password")
        .await
        .unwrap()
        .id;
    let user = db
        .store
        .create_user(&owner, &UserInput::default())
        .await
        .unwrap()
        .id;
    db.store
        .create_field(
            &owner,
            &user,
            &NewField {
                id: Some("whole".into()),
                name: Some("whole".into()),
                farm_id: None,
            },
            &rect(8.0290, 52.3588, 8.0356, 52.3602),
        )
        .await
        .unwrap();
    let config = |v: Value| v.as_object().unwrap().clone();
    db.store
        .merge_config(
            &owner,
            None,
            &config(serde_json::json!({
                "cropOptional": {"standardGeoJson": {"planted": {"crop": "optional"}}},
                "fieldOperationCreation": false
            })),
        )
        .await
        .unwrap();
    let blob_root = tempfile::tempdir().unwrap();
    let blobs = Blobs::local(blob_root.path().join("b"), blob_root.path().join("s")).unwrap();
    let w = Worker::new(
        db.store.clone(),
        Registry::new(),
        WorkerConfig {
            id: "settings-worker".into(),
            blobs: Some(blobs.clone()),
            ..WorkerConfig::default()
        },
    );

    let original = upload(db, &blobs, &owner, &user, 1).await;
    drain(&w).await;
    let file = file_of(db, &owner, &original).await;
    assert_eq!(file.status, FileStatus::Processed, "{:?}", file.message);
    assert_eq!(file.field_ids, ["whole"], "allocated all the same");
    assert!(
        operations(db, &owner, &user).await.is_empty(),
        "no operation while fieldOperationCreation is off"
    );

    db.store
        .merge_config(
            &owner,
            None,
            &config(serde_json::json!({"fieldOperationCreation": true})),
        )
        .await
        .unwrap();
    db.store.enqueue_reallocation(&owner, &user).await.unwrap();
    drain(&w).await;
    let ops = operations(db, &owner, &user).await;
    assert_eq!(ops.len(), 1);
    let id = ops[0].membership.id.clone();
    let area_unit = |op: &StoredOperation| {
        op.summary.as_ref().unwrap()["properties"]["totalArea"]["unit"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(area_unit(&ops[0]), "ha");
    let metric_area = ops[0].summary.as_ref().unwrap()["properties"]["totalArea"]["value"]
        .as_f64()
        .unwrap();

    db.store
        .merge_config(
            &owner,
            None,
            &config(serde_json::json!({"unitMeasurement": "IMPERIAL"})),
        )
        .await
        .unwrap();
    db.store.enqueue_reallocation(&owner, &user).await.unwrap();
    drain(&w).await;
    let ops = operations(db, &owner, &user).await;
    assert_eq!(area_unit(&ops[0]), "ha", "not retroactive");

    assert_eq!(db.store.reprocess_operation(&owner, &id).await.unwrap(), 1);
    drain(&w).await;
    let ops = operations(db, &owner, &user).await;
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].membership.id, id, "rebuilt under the same id");
    assert_eq!(ops[0].status, FileStatus::Processed, "{:?}", ops[0].message);
    assert_eq!(area_unit(&ops[0]), "ac");
    let acres = ops[0].summary.as_ref().unwrap()["properties"]["totalArea"]["value"]
        .as_f64()
        .unwrap();
    // 1 ha = 2.471 054 acres.
    assert!(
        (acres - metric_area * 2.471_054).abs() <= 1e-3 * acres.max(1e-9),
        "{metric_area} ha became {acres} ac"
    );
}
