//! Fields sync against the John Deere simulator: the organization sync list, `organizationDataSync`, fields with
//! boundaries, their webhooks, and idempotence.

use std::sync::Arc;
use std::time::Duration;

use furrow_credentials::Provider;
use furrow_model::{Page, UserInput};
use furrow_provider_sim::Simulator;
use furrow_store::FieldFilter;
use furrow_store::testing::TestDb;
use furrow_sync::{Registry, Worker, WorkerConfig};
use serde_json::{Value, json};

use super::{Receiver, drain};

on_both_backends!(
    fields_sync_records_organizations_and_honours_selected_only,
    fields_auto_sync_off_skips_background_syncs_only,
    john_deere_files_follow_the_change_cursor,
    john_deere_accounts_give_field_operation_exports_and_unsupported_display_files,
);

fn jd_worker(db: &TestDb, sim: &Simulator) -> Worker {
    let registry = Registry::new()
        .with(Provider::JohnDeere, |ctx| {
            Ok(Arc::new(furrow_provider_john_deere::JohnDeereProvider::new(ctx)?) as _)
        })
        .with_base_url(Provider::JohnDeere, sim.base_url());
    Worker::new(
        db.store.clone(),
        registry,
        WorkerConfig {
            id: "fields-worker".into(),
            webhook_retry_delays: vec![Duration::ZERO],
            ..WorkerConfig::default()
        },
    )
}

async fn jd_credential(db: &TestDb, sim: &Simulator, owner: &str) -> (String, String) {
    let user = db
        .store
        .create_user(owner, &UserInput::default())
        .await
        .unwrap()
        .id;
    let body: serde_json::Map<String, Value> = sim
        .new_credential()
        .into_iter()
        .filter(|(k, _)| Provider::JohnDeere.field(k).is_some_and(|f| f.in_create))
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let input = furrow_credentials::validate(Provider::JohnDeere, &Value::Object(body)).unwrap();
    let cred = db
        .store
        .create_credential(owner, &user, &input)
        .await
        .unwrap();
    (user, cred.id)
}

async fn listed(db: &TestDb, owner: &str, user: &str) -> Vec<furrow_store::Field> {
    db.store
        .list_fields(
            owner,
            &FieldFilter {
                user_id: Some(user.to_owned()),
                ..Default::default()
            },
            Page::new(0, 100).unwrap(),
        )
        .await
        .unwrap()
        .0
}

async fn field_names(db: &TestDb, owner: &str, user: &str) -> Vec<String> {
    let (fields, _) = db
        .store
        .list_fields(
            owner,
            &FieldFilter {
                user_id: Some(user.to_owned()),
                ..Default::default()
            },
            Page::new(0, 100).unwrap(),
        )
        .await
        .unwrap();
    let mut names: Vec<String> = fields
        .iter()
        .map(|f| f.provider_field_id.clone().unwrap_or_default())
        .collect();
    names.sort();
    names
}

/// `fieldsAutoSync=false`: a background fields sync reads nothing; one asked for through the API
/// (`POST /users/{id}/fields/sync`, a manual job) still stores every field.
async fn fields_auto_sync_off_skips_background_syncs_only(db: &TestDb) {
    let sim = Simulator::start(Provider::JohnDeere).await.unwrap();
    let owner = db
        .store
        .create_owner("auto@example.com", "password")
        .await
        .unwrap()
        .id;
    db.store
        .merge_config(
            &owner,
            None,
            json!({"customDataSync": false, "fieldsAutoSync": false})
                .as_object()
                .unwrap(),
        )
        .await
        .unwrap();
    let w = jd_worker(db, &sim);
    let (user, cred) = jd_credential(db, &sim, &owner).await;
    db.store
        .enqueue_fields_sync(&owner, &cred, false)
        .await
        .unwrap();
    drain(&w).await;
    assert_eq!(
        listed(db, &owner, &user).await.len(),
        0,
        "background sync skipped"
    );
    db.store
        .enqueue_fields_sync(&owner, &cred, true)
        .await
        .unwrap();
    drain(&w).await;
    let want = sim
        .visible_fields()
        .into_iter()
        .filter(|f| f.organization_id != "4203")
        .count();
    assert!(want > 0);
    assert_eq!(
        listed(db, &owner, &user).await.len(),
        want,
        "manual sync ran"
    );
}

async fn fields_sync_records_organizations_and_honours_selected_only(db: &TestDb) {
    let sim = Simulator::start(Provider::JohnDeere).await.unwrap();
    let owner = db
        .store
        .create_owner("f@example.com", "password")
        .await
        .unwrap()
        .id;
    let (receiver, url) = Receiver::start(0).await;
    db.store
        .create_webhook(
            &owner,
            "fields",
            &url,
            "fields-secret",
            &[
                "fieldCreated".to_string(),
                "fieldBoundaryCreated".to_string(),
            ],
        )
        .await
        .unwrap();
    let w = jd_worker(db, &sim);
    let set = async |config: Value| {
        db.store
            .merge_config(&owner, None, config.as_object().unwrap())
            .await
            .unwrap();
    };
    set(json!({"customDataSync": false})).await;

    // ALL (the default): every connected organization's fields, each announced once.
    let (user, cred) = jd_credential(db, &sim, &owner).await;
    db.store
        .enqueue_fields_sync(&owner, &cred, false)
        .await
        .unwrap();
    drain(&w).await;
    let mut want: Vec<String> = sim
        .visible_fields()
        .into_iter()
        .filter(|f| f.organization_id != "4203")
        .map(|f| f.id)
        .collect();
    want.sort();
    assert!(want.len() >= 5, "{want:?}");
    assert_eq!(field_names(db, &owner, &user).await, want);
    let (orgs, total) = db
        .store
        .list_provider_organizations(&owner, &user, "JohnDeere", Page::new(0, 20).unwrap())
        .await
        .unwrap();
    assert_eq!(total, 3);
    let status: Vec<(String, String)> = orgs
        .iter()
        .map(|o| (o.org_id.clone(), o.status.clone()))
        .collect();
    assert!(
        status.contains(&("4201".into(), "PREVIEW".into())),
        "{status:?}"
    );
    assert!(
        status.contains(&("4203".into(), "BLOCKED".into())),
        "{status:?}"
    );
    let created = |r: &Receiver, kind: &str| {
        r.calls()
            .iter()
            .filter(|(_, b)| serde_json::from_str::<Value>(b).unwrap()["type"] == kind)
            .count()
    };
    assert_eq!(created(&receiver, "fieldCreated"), want.len());
    assert_eq!(created(&receiver, "fieldBoundaryCreated"), want.len());
    // Syncing again changes nothing and announces nothing.
    db.store
        .enqueue_fields_sync(&owner, &cred, false)
        .await
        .unwrap();
    drain(&w).await;
    assert_eq!(field_names(db, &owner, &user).await, want);
    assert_eq!(created(&receiver, "fieldCreated"), want.len());

    // SELECTED_ONLY: nothing until the user selects an organization, then only its fields.
    set(json!({"organizationDataSync": "SELECTED_ONLY"})).await;
    let (picky, picky_cred) = jd_credential(db, &sim, &owner).await;
    db.store
        .enqueue_fields_sync(&owner, &picky_cred, false)
        .await
        .unwrap();
    drain(&w).await;
    assert!(field_names(db, &owner, &picky).await.is_empty());
    assert!(matches!(
        db.store
            .set_provider_organization_status(&owner, &picky, "JohnDeere", "4203", "SELECTED")
            .await,
        Err(furrow_store::Error::Conflict(_))
    ));
    db.store
        .set_provider_organization_status(&owner, &picky, "JohnDeere", "4202", "SELECTED")
        .await
        .unwrap();
    db.store.request_fields_sync(&owner, &picky).await.unwrap();
    drain(&w).await;
    let mut only: Vec<String> = sim
        .visible_fields()
        .into_iter()
        .filter(|f| f.organization_id == "4202")
        .map(|f| f.id)
        .collect();
    only.sort();
    assert_eq!(field_names(db, &owner, &picky).await, only);

    // customDataSync (Leaf's default): fields arrive in PREVIEW without boundaries; an enabled one (WAITING)
    // gets its boundary on the next sync and becomes PROCESSED, the others wait.
    set(json!({"organizationDataSync": "ALL", "customDataSync": true})).await;
    let (careful, careful_cred) = jd_credential(db, &sim, &owner).await;
    db.store
        .enqueue_fields_sync(&owner, &careful_cred, false)
        .await
        .unwrap();
    drain(&w).await;
    let fields = listed(db, &owner, &careful).await;
    assert_eq!(fields.len(), want.len());
    assert!(
        fields
            .iter()
            .all(|f| f.status == "PREVIEW" && f.active_boundary.is_none())
    );
    let chosen = fields[0].id.clone();
    let f = db
        .store
        .enable_field_sync(&owner, &careful, &chosen)
        .await
        .unwrap();
    assert_eq!(f.status, "WAITING");
    db.store
        .request_fields_sync(&owner, &careful)
        .await
        .unwrap();
    drain(&w).await;
    for f in listed(db, &owner, &careful).await {
        if f.id == chosen {
            assert_eq!(f.status, "PROCESSED");
            assert!(f.active_boundary.is_some());
        } else {
            assert_eq!(f.status, "PREVIEW");
            assert!(f.active_boundary.is_none());
        }
    }
}

async fn john_deere_files_follow_the_change_cursor(db: &TestDb) {
    let sim = Simulator::start(Provider::JohnDeere).await.unwrap();
    // Two small files keep the processing short.
    let keep: Vec<String> = sim
        .visible_files()
        .iter()
        .take(2)
        .map(|f| f.id.clone())
        .collect();
    sim.seed().retain_files(|f| keep.contains(&f.id));
    let owner = db
        .store
        .create_owner("jd@example.com", "password")
        .await
        .unwrap()
        .id;
    let blobs = tempfile::tempdir().unwrap();
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
    let registry = Registry::new()
        .with(Provider::JohnDeere, |ctx| {
            Ok(Arc::new(furrow_provider_john_deere::JohnDeereProvider::new(ctx)?) as _)
        })
        .with_base_url(Provider::JohnDeere, sim.base_url());
    let w = Worker::new(
        db.store.clone(),
        registry,
        WorkerConfig {
            id: "jd-files".into(),
            blobs: Some(
                furrow_store::Blobs::local(blobs.path().join("b"), blobs.path().join("s")).unwrap(),
            ),
            ..WorkerConfig::default()
        },
    );
    let (user, cred) = jd_credential(db, &sim, &owner).await;
    let files = async || {
        let (all, _) = db
            .store
            .list_files(
                &owner,
                &furrow_store::FileFilter::default(),
                Page::new(0, 100).unwrap(),
            )
            .await
            .unwrap();
        // Every dataset of an original is a file: the provider's ids are the part before the dataset key.
        // (John Deere's field operations are listed in full at every sync: the files follow the signature.)
        let mut ids: Vec<String> = all
            .into_iter()
            .map(|f| {
                f.provider_file_id
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .filter(|id| !id.starts_with("fieldOperation:"))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    db.store
        .enqueue_files_sync(&owner, &cred, false)
        .await
        .unwrap();
    drain(&w).await;
    let mut first = keep.clone();
    first.sort();
    assert_eq!(files().await, first);
    let cursor = db
        .store
        .files_cursor(&owner, &user, "JohnDeere", "4201")
        .await
        .unwrap();
    assert!(cursor.is_some(), "the x-deere-signature is kept");

    // A new file on the provider: the next sync lists the changes from the kept cursor and records it.
    let added = sim.seed().add_generated_files("4201", 1);
    db.store
        .enqueue_files_sync(&owner, &cred, false)
        .await
        .unwrap();
    drain(&w).await;
    let mut now = first.clone();
    now.extend(added.clone());
    now.sort();
    assert_eq!(files().await, now);
    let moved = db
        .store
        .files_cursor(&owner, &user, "JohnDeere", "4201")
        .await
        .unwrap();
    assert!(moved.is_some());

    // A cursor the provider no longer accepts: a full listing, nothing lost, a fresh cursor kept.
    db.store
        .set_files_cursor(&owner, &user, "JohnDeere", "4201", Some("not-a-signature"))
        .await
        .unwrap();
    db.store
        .enqueue_files_sync(&owner, &cred, false)
        .await
        .unwrap();
    drain(&w).await;
    assert_eq!(files().await, now);
    let fresh = db
        .store
        .files_cursor(&owner, &user, "JohnDeere", "4201")
        .await
        .unwrap();
    assert!(fresh.is_some_and(|c| c != "not-a-signature"));
    let failed = db.store.job_counts().await.unwrap().failed;
    assert_eq!(failed, 0);
}

/// What a John Deere account really gives: its displays' native files (kept, unsupported, never retried) and
/// its field operations as shapefile exports (converted); a TILLAGE operation has no export (406, recorded).
async fn john_deere_accounts_give_field_operation_exports_and_unsupported_display_files(
    db: &TestDb,
) {
    let sim = Simulator::start(Provider::JohnDeere).await.unwrap();
    sim.faults().async_polls(2);
    let owner = db
        .store
        .create_owner("jd-ops@example.com", "password")
        .await
        .unwrap()
        .id;
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
    let blobs = tempfile::tempdir().unwrap();
    let registry = Registry::new()
        .with(Provider::JohnDeere, |ctx| {
            let config = furrow_provider_john_deere::JohnDeereConfig {
                export_poll_base: std::time::Duration::from_millis(10),
                ..furrow_provider_john_deere::JohnDeereConfig::from_context(&ctx)
            };
            Ok(
                Arc::new(furrow_provider_john_deere::JohnDeereProvider::with_config(
                    ctx, config,
                )?) as _,
            )
        })
        .with_base_url(Provider::JohnDeere, sim.base_url());
    let w = Worker::new(
        db.store.clone(),
        registry,
        WorkerConfig {
            id: "jd-ops".into(),
            blobs: Some(
                furrow_store::Blobs::local(blobs.path().join("b"), blobs.path().join("s")).unwrap(),
            ),
            ..WorkerConfig::default()
        },
    );
    let (_user, cred) = jd_credential(db, &sim, &owner).await;
    db.store
        .enqueue_files_sync(&owner, &cred, false)
        .await
        .unwrap();
    drain(&w).await;
    let (files, _) = db
        .store
        .list_files(
            &owner,
            &furrow_store::FileFilter::default(),
            Page::new(0, 100).unwrap(),
        )
        .await
        .unwrap();
    let by_id = |prefix: &str| -> Vec<&furrow_store::StoredFile> {
        files
            .iter()
            .filter(|f| f.provider_file_id.starts_with(prefix))
            .collect()
    };
    // The field operations' exports: harvest, seeding and application converted from shapefiles.
    for (op, kind) in [
        ("fo-1001", "harvested"),
        ("fo-1002", "planted"),
        ("fo-1004", "applied"),
    ] {
        let f = by_id(&format!("fieldOperation:{op}"));
        assert_eq!(f.len(), 1, "{op}: {files:?}");
        assert_eq!(f[0].file_format.as_deref(), Some("SHAPEFILE"), "{op}");
        assert_eq!(
            f[0].status,
            furrow_store::FileStatus::Processed,
            "{op}: {:?}",
            f[0].message
        );
        assert_eq!(f[0].operation_type.as_deref(), Some(kind), "{op}");
    }
    let tillage = by_id("fieldOperation:fo-1003");
    assert_eq!(tillage.len(), 1);
    assert_eq!(tillage[0].status, furrow_store::FileStatus::Failed);
    assert!(
        tillage[0]
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("406"),
        "{:?}",
        tillage[0].message
    );
    // The displays' native files: kept with their format, refused with the reason.
    let display: Vec<_> = files
        .iter()
        .filter(|f| {
            f.file_format
                .as_deref()
                .is_some_and(|x| x.starts_with("JD_"))
        })
        .collect();
    let mut formats: Vec<&str> = display
        .iter()
        .map(|f| f.file_format.as_deref().unwrap())
        .collect();
    formats.sort();
    assert_eq!(formats, ["JD_GEN4", "JD_GS2", "JD_GS3"]);
    for f in &display {
        assert_eq!(f.status, furrow_store::FileStatus::Failed);
        assert!(
            f.message
                .as_deref()
                .unwrap()
                .contains("unsupported file format")
        );
        assert!(f.original_key.is_some(), "the original is kept");
    }
    // A later sync neither reprocesses nor reports them again.
    let jobs_before = db.store.job_counts().await.unwrap();
    db.store
        .enqueue_files_sync(&owner, &cred, true)
        .await
        .unwrap();
    assert_eq!(drain(&w).await, 1, "only the listing ran");
    let (again, _) = db
        .store
        .list_files(
            &owner,
            &furrow_store::FileFilter::default(),
            Page::new(0, 100).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(again, files);
    assert_eq!(
        db.store.job_counts().await.unwrap().failed,
        jobs_before.failed
    );
}
