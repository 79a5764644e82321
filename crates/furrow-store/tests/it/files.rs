use furrow_model::{Page, UserInput};
use furrow_store::testing::TestDb;
use furrow_store::{Error, FileFilter, FileStatus, FileUpdate, NewFile};
use serde_json::json;

on_both_backends!(
    a_provider_file_is_stored_once,
    file_steps_merge_and_filters_match,
    files_are_scoped_to_their_owner_and_deleted_with_their_user,
    concurrent_read_then_write_transactions_wait_for_each_other,
);

async fn owner_and_user(db: &TestDb, name: &str) -> (String, String) {
    let owner = db
        .store
        .create_owner(&format!("{name}@example.com"), "password")
        .await
        .unwrap();
    let user = db
        .store
        .create_user(
            &owner.id,
            &UserInput {
                name: Some(name.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    (owner.id, user.id)
}

fn new_file(user: &str, provider_id: &str) -> NewFile {
    NewFile {
        user_id: user.into(),
        provider: "CLAAS".into(),
        provider_file_id: provider_id.into(),
        credential_id: None,
        organization_id: Some("4201".into()),
        origin: "provider".into(),
        file_name: format!("{provider_id}.zip"),
        file_format: Some("ISO11783".into()),
        size_bytes: Some(42),
        ..Default::default()
    }
}

async fn a_provider_file_is_stored_once(db: &TestDb) {
    let (owner, user) = owner_and_user(db, "a").await;
    let (id, new) = db
        .store
        .insert_file_if_absent(&owner, &new_file(&user, "mf-1"))
        .await
        .unwrap();
    assert!(new);
    let (again, new_again) = db
        .store
        .insert_file_if_absent(&owner, &new_file(&user, "mf-1"))
        .await
        .unwrap();
    assert_eq!(again, id);
    assert!(!new_again);
    let f = db.store.get_file(&owner, &id).await.unwrap();
    assert_eq!(f.status, FileStatus::Processing);
    assert_eq!(f.file_name, "mf-1.zip");
    assert_eq!(f.organization_id.as_deref(), Some("4201"));
    assert_eq!(f.steps, json!({}));
    let (all, total) = db
        .store
        .list_files(&owner, &FileFilter::default(), Page::new(0, 20).unwrap())
        .await
        .unwrap();
    assert_eq!((all.len(), total), (1, 1));
    // Another grower of the same integrator who sees the same provider file gets a file of their own.
    let other = db
        .store
        .create_user(&owner, &UserInput::default())
        .await
        .unwrap()
        .id;
    let (theirs, new_theirs) = db
        .store
        .insert_file_if_absent(&owner, &new_file(&other, "mf-1"))
        .await
        .unwrap();
    assert!(new_theirs);
    assert_ne!(theirs, id);
    assert_eq!(
        db.store.get_file(&owner, &theirs).await.unwrap().user_id,
        other
    );
}

async fn file_steps_merge_and_filters_match(db: &TestDb) {
    let (owner, user) = owner_and_user(db, "b").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (id, _) = db
            .store
            .insert_file_if_absent(&owner, &new_file(&user, &format!("mf-{i}")))
            .await
            .unwrap();
        ids.push(id);
    }
    db.store
        .update_file(
            &owner,
            &ids[0],
            &FileUpdate {
                steps: vec![("original".into(), "DONE".into())],
                original_key: Some("o/x/original".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let done = db
        .store
        .update_file(
            &owner,
            &ids[0],
            &FileUpdate {
                status: Some(FileStatus::Processed),
                steps: vec![("standard".into(), "DONE".into())],
                operation_type: Some("harvested".into()),
                start_time: Some(1_000),
                end_time: Some(2_000),
                summary: Some(json!({"type": "Feature"})),
                units: Some(json!({"speed": "m/s"})),
                standard_key: Some("o/x/standard.parquet".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(done.steps, json!({"original": "DONE", "standard": "DONE"}));
    assert_eq!(done.original_key.as_deref(), Some("o/x/original"));
    assert_eq!(done.units, Some(json!({"speed": "m/s"})));
    let failed = db
        .store
        .update_file(
            &owner,
            &ids[1],
            &FileUpdate {
                status: Some(FileStatus::Failed),
                message: Some(Some("no time logs".into())),
                start_time: Some(5_000),
                end_time: Some(6_000),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(failed.message.as_deref(), Some("no time logs"));
    let page = Page::new(0, 20).unwrap();
    let count = |f: FileFilter| {
        let store = db.store.clone();
        let owner = owner.clone();
        async move { store.list_files(&owner, &f, page).await.unwrap() }
    };
    let (p, t) = count(FileFilter {
        status: Some(FileStatus::Processed),
        ..Default::default()
    })
    .await;
    assert_eq!((t, p[0].id.as_str()), (1, ids[0].as_str()));
    let (_, t) = count(FileFilter {
        status: Some(FileStatus::Processing),
        ..Default::default()
    })
    .await;
    assert_eq!(t, 1);
    let (p, t) = count(FileFilter {
        start_time: Some(3_000),
        ..Default::default()
    })
    .await;
    assert_eq!((t, p[0].id.as_str()), (1, ids[1].as_str()));
    let (_, t) = count(FileFilter {
        end_time: Some(2_500),
        operation_type: Some("harvested".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(t, 1);
    let (_, t) = count(FileFilter {
        provider: Some("JohnDeere".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(t, 0);
    let (p, t) = db
        .store
        .list_files(&owner, &FileFilter::default(), Page::new(1, 2).unwrap())
        .await
        .unwrap();
    assert_eq!((p.len(), t), (1, 3));
    assert_eq!(p[0].id, ids[2]);
    // Clearing the message.
    let cleared = db
        .store
        .update_file(
            &owner,
            &ids[1],
            &FileUpdate {
                message: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.message, None);
    assert_eq!(cleared.status, FileStatus::Failed);
}

async fn files_are_scoped_to_their_owner_and_deleted_with_their_user(db: &TestDb) {
    let (a, ua) = owner_and_user(db, "c").await;
    let (b, ub) = owner_and_user(db, "d").await;
    let (fa, _) = db
        .store
        .insert_file_if_absent(&a, &new_file(&ua, "same"))
        .await
        .unwrap();
    // The same provider file id under another owner is another file.
    let (fb, new) = db
        .store
        .insert_file_if_absent(&b, &new_file(&ub, "same"))
        .await
        .unwrap();
    assert!(new);
    assert_ne!(fa, fb);
    assert!(matches!(
        db.store.get_file(&b, &fa).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        db.store.update_file(&b, &fa, &FileUpdate::default()).await,
        Err(Error::NotFound(_))
    ));
    let (list, total) = db
        .store
        .list_files(&b, &FileFilter::default(), Page::new(0, 20).unwrap())
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(list[0].id, fb);
    db.store.delete_user(&a, &ua).await.unwrap();
    assert!(matches!(
        db.store.get_file(&a, &fa).await,
        Err(Error::NotFound(_))
    ));
    assert!(db.store.get_file(&b, &fb).await.is_ok());
}

/// Several workers updating files at once (each update reads the steps, then writes them back in one
/// transaction): every update lands, none fails with "database is locked" on SQLite.
async fn concurrent_read_then_write_transactions_wait_for_each_other(db: &TestDb) {
    const WRITERS: usize = 8;
    const STEPS: usize = 25;
    let (owner, user) = owner_and_user(db, "c").await;
    let mut ids = Vec::new();
    for i in 0..WRITERS {
        let (id, _) = db
            .store
            .insert_file_if_absent(&owner, &new_file(&user, &format!("mf-c{i}")))
            .await
            .unwrap();
        ids.push(id);
    }
    let mut writers = tokio::task::JoinSet::new();
    for id in &ids {
        let (store, owner, id) = (db.store.clone(), owner.clone(), id.clone());
        writers.spawn(async move {
            for step in 0..STEPS {
                let update = FileUpdate {
                    steps: vec![(format!("step{step}"), "done".into())],
                    ..FileUpdate::default()
                };
                store.update_file(&owner, &id, &update).await?;
            }
            Ok::<_, Error>(())
        });
    }
    let mut failures = Vec::new();
    while let Some(done) = writers.join_next().await {
        if let Err(e) = done.unwrap() {
            failures.push(e.to_string());
        }
    }
    assert_eq!(failures, Vec::<String>::new(), "every update landed");
    for id in &ids {
        let f = db.store.get_file(&owner, id).await.unwrap();
        assert_eq!(
            f.steps.as_object().map(|m| m.len()),
            Some(STEPS),
            "{id}: every step merged"
        );
    }
}
