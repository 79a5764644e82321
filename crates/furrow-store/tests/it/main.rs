//! furrow-store integration tests. Every scenario runs on SQLite, and on PostgreSQL when
//! `FURROW_TEST_DATABASE_URL` is set at build time (`cfg(furrow_pg)`), each in a fresh database.

use furrow_credentials::{CredentialStatus, Provider, validate};
use furrow_model::{NewCredentialEvent, Page, SortOrder, UserFilter, UserInput};
use furrow_store::testing::TestDb;
use furrow_store::{Backend, Error};
use serde_json::json;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = furrow_store::testing::TestDb::new(furrow_store::Backend::Sqlite).await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
        #[cfg(furrow_pg)]
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = furrow_store::testing::TestDb::new(furrow_store::Backend::Postgres).await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

mod blobs;
mod credentials;
mod fields;
mod files;
mod onboarding;

on_both_backends!(
    owners_verify_passwords,
    users_crud_filters_and_paging,
    users_are_scoped_to_their_owner,
    credentials_round_trip_and_duplicates,
    credential_secrets_never_reach_the_database_in_clear,
    deleting_a_user_removes_credentials_and_events,
    events_page_sort_and_retention,
    jobs_are_claimed_once_retried_and_taken_over_after_the_lease,
    a_job_whose_worker_dies_at_every_attempt_fails_with_the_reason,
    concurrent_workers_never_claim_the_same_job,
    webhooks_one_per_event_with_sealed_secrets,
    configs_merge_per_owner_and_user,
    a_key_rotation_reseals_every_secret,
    one_process_serves_an_sqlite_file_and_commands_work_beside_it,
);

async fn one_process_serves_an_sqlite_file_and_commands_work_beside_it(db: &TestDb) {
    let first = db.store.claim_serving().unwrap();
    let other = db.another_node().await;
    match db.store.backend() {
        Backend::Sqlite => {
            let lock = first
                .path()
                .expect("an SQLite claim has a lock file")
                .to_owned();
            assert!(
                lock.to_string_lossy().ends_with("furrow.db.serve.lock"),
                "{lock:?}"
            );
            let err = other.claim_serving().unwrap_err();
            assert!(matches!(err, Error::AlreadyServed { .. }), "{err:?}");
            assert!(err.to_string().contains("PostgreSQL"), "{err}");
            // A short command (`furrow owner create` / `password`) works beside the serving process.
            other
                .create_owner("beside@example.com", "first-password")
                .await
                .unwrap();
            other
                .set_owner_password("beside@example.com", "second-password")
                .await
                .unwrap();
            assert!(
                db.store
                    .verify_owner("beside@example.com", "second-password")
                    .await
                    .unwrap()
                    .is_some()
            );
            // The claim ends with its holder: the next server can start.
            drop(first);
            let next = other.claim_serving().unwrap();
            assert_eq!(next.path(), Some(lock.as_path()));
        }
        Backend::Postgres => {
            // Any number of nodes serve one PostgreSQL database; the locks are the database's.
            assert_eq!(first.path(), None);
            let second = other.claim_serving().unwrap();
            assert_eq!(second.path(), None);
        }
    }
    other.close().await;
}

async fn a_key_rotation_reseals_every_secret(db: &TestDb) {
    let s = &db.store;
    let o = s.create_owner("rot@example.com", "pw").await.unwrap();
    let u = s
        .create_user(&o.id, &user("g", "g@x.io", None))
        .await
        .unwrap();
    let c = s
        .create_credential(&o.id, &u.id, &claas_input("secret-before-rotation"))
        .await
        .unwrap();
    s.create_webhook(
        &o.id,
        "w",
        "http://127.0.0.1:9/h",
        "hook-secret",
        &["fieldCreated".to_string()],
    )
    .await
    .unwrap();
    let opts = |key: furrow_store::SecretKey| furrow_store::StoreOptions {
        data_dir: db.data_dir.clone(),
        database_url: db.database_url.clone(),
        key,
    };
    let new_key = furrow_store::SecretKey::generate();
    // Mid-rotation: the new key carries the old one, so everything still opens.
    let rotating = furrow_store::Store::open(opts(new_key.clone().with_previous(&db.key)))
        .await
        .unwrap();
    assert_eq!(
        rotating
            .get_credential_by_id(&o.id, &c.id)
            .await
            .unwrap()
            .secrets["clientSecret"],
        "secret-before-rotation"
    );
    // Without the old key nothing opens yet.
    let only_new = furrow_store::Store::open(opts(new_key.clone()))
        .await
        .unwrap();
    assert!(matches!(
        only_new.get_credential_by_id(&o.id, &c.id).await,
        Err(Error::Decrypt { .. })
    ));
    assert_eq!(
        rotating.reseal_secrets().await.unwrap(),
        2,
        "one credential, one webhook"
    );
    assert_eq!(
        rotating.reseal_secrets().await.unwrap(),
        0,
        "nothing left to move"
    );
    // After the rotation the new key alone opens everything; the old one nothing.
    let cred = only_new.get_credential_by_id(&o.id, &c.id).await.unwrap();
    assert_eq!(cred.secrets["clientSecret"], "secret-before-rotation");
    let hooks = only_new.list_webhooks(&o.id).await.unwrap();
    assert_eq!(hooks[0].secret, "hook-secret");
    assert!(matches!(
        s.get_credential_by_id(&o.id, &c.id).await,
        Err(Error::Decrypt { .. })
    ));
}

fn user(name: &str, email: &str, external: Option<&str>) -> UserInput {
    UserInput {
        name: Some(name.into()),
        email: Some(email.into()),
        external_id: external.map(Into::into),
        ..Default::default()
    }
}

fn claas_input(secret: &str) -> furrow_credentials::CredentialInput {
    validate(
        Provider::Claas,
        &json!({"clientKey": "claas-key", "clientSecret": secret, "refreshToken": format!("rt-{secret}")}),
    )
    .expect("valid CLAAS body")
}

async fn owners_verify_passwords(db: &TestDb) {
    let s = &db.store;
    let owner = s
        .create_owner("ann@example.com", "pw-ann-123")
        .await
        .unwrap();
    assert!(matches!(
        s.create_owner("ann@example.com", "x").await,
        Err(Error::AlreadyExists(_))
    ));
    assert_eq!(
        s.verify_owner("ann@example.com", "pw-ann-123")
            .await
            .unwrap()
            .map(|o| o.id),
        Some(owner.id.clone())
    );
    assert!(
        s.verify_owner("ann@example.com", "wrong")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.verify_owner("nobody@example.com", "pw-ann-123")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !s.owner_by_username("ann@example.com")
            .await
            .unwrap()
            .unwrap()
            .show_secrets
    );
    s.set_owner_show_secrets(&owner.id, true).await.unwrap();
    assert!(
        s.owner_by_username("ann@example.com")
            .await
            .unwrap()
            .unwrap()
            .show_secrets
    );
}

async fn users_crud_filters_and_paging(db: &TestDb) {
    let s = &db.store;
    let o = s.create_owner("o@example.com", "pw").await.unwrap();
    let mut ids = Vec::new();
    for i in 0..25 {
        let u = s
            .create_user(
                &o.id,
                &user(
                    &format!("user {i}"),
                    &format!("u{i}@x.io"),
                    Some(&format!("ext-{}", i % 3)),
                ),
            )
            .await
            .unwrap();
        ids.push(u.id);
    }
    let (page0, total) = s
        .list_users(&o.id, &UserFilter::default(), Page::new(0, 10).unwrap())
        .await
        .unwrap();
    assert_eq!(total, 25);
    assert_eq!(page0.len(), 10);
    assert_eq!(page0[0].id, ids[0]);
    let (page2, _) = s
        .list_users(&o.id, &UserFilter::default(), Page::new(2, 10).unwrap())
        .await
        .unwrap();
    assert_eq!(
        page2.iter().map(|u| u.id.clone()).collect::<Vec<_>>(),
        ids[20..].to_vec()
    );

    let f = UserFilter {
        external_id: Some("ext-1".into()),
        ..Default::default()
    };
    let (hits, total) = s.list_users(&o.id, &f, Page::default()).await.unwrap();
    assert_eq!(total, 8);
    assert!(
        hits.iter()
            .all(|u| u.external_id.as_deref() == Some("ext-1"))
    );
    let f = UserFilter {
        email: Some("u7@x.io".into()),
        name: Some("user 7".into()),
        ..Default::default()
    };
    assert_eq!(s.list_users(&o.id, &f, Page::default()).await.unwrap().1, 1);

    let replaced = s
        .replace_user(
            &o.id,
            &ids[0],
            &UserInput {
                name: Some("only name".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(replaced.email, None);
    let got = s.get_user(&o.id, &ids[0]).await.unwrap();
    assert_eq!(
        (got.name.as_deref(), got.email.as_deref()),
        (Some("only name"), None)
    );
    let patched = s
        .patch_user(
            &o.id,
            &ids[0],
            UserInput {
                phone: Some("555".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (patched.name.as_deref(), patched.phone.as_deref()),
        (Some("only name"), Some("555"))
    );
    s.delete_user(&o.id, &ids[0]).await.unwrap();
    assert!(matches!(
        s.get_user(&o.id, &ids[0]).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.delete_user(&o.id, &ids[0]).await,
        Err(Error::NotFound(_))
    ));
}

async fn users_are_scoped_to_their_owner(db: &TestDb) {
    let s = &db.store;
    let a = s.create_owner("a@example.com", "pw").await.unwrap();
    let b = s.create_owner("b@example.com", "pw").await.unwrap();
    let ua = s
        .create_user(&a.id, &user("A", "a@x.io", None))
        .await
        .unwrap();
    assert!(matches!(
        s.get_user(&b.id, &ua.id).await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(
        s.list_users(&b.id, &UserFilter::default(), Page::default())
            .await
            .unwrap()
            .1,
        0
    );
    assert!(matches!(
        s.replace_user(&b.id, &ua.id, &UserInput::default()).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.delete_user(&b.id, &ua.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.create_credential(&b.id, &ua.id, &claas_input("secret-b"))
            .await,
        Err(Error::NotFound(_))
    ));
    let c = s
        .create_credential(&a.id, &ua.id, &claas_input("secret-a"))
        .await
        .unwrap();
    assert!(matches!(
        s.get_credential_by_id(&b.id, &c.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.delete_credential(&b.id, &ua.id, Provider::Claas).await,
        Err(Error::NotFound(_))
    ));
    assert!(
        s.add_credential_event(&b.id, &c.id, &NewCredentialEvent::default())
            .await
            .is_err()
    );
    assert_eq!(
        s.get_user(&a.id, &ua.id).await.unwrap().name.as_deref(),
        Some("A")
    );
}

async fn credentials_round_trip_and_duplicates(db: &TestDb) {
    let s = &db.store;
    let o = s.create_owner("o@example.com", "pw").await.unwrap();
    let u = s
        .create_user(&o.id, &user("U", "u@x.io", None))
        .await
        .unwrap();
    let created = s
        .create_credential(&o.id, &u.id, &claas_input("claas-secret-1"))
        .await
        .unwrap();
    assert_eq!(created.status, CredentialStatus::Processing);
    assert_eq!(
        created.public.get("clientEnvironment").map(String::as_str),
        Some("STAGE")
    );
    let got = s
        .get_credential(&o.id, &u.id, Provider::Claas)
        .await
        .unwrap();
    assert_eq!(got, created);
    assert_eq!(
        got.secrets.get("clientSecret").map(String::as_str),
        Some("claas-secret-1")
    );
    assert!(
        !format!("{got:?}").contains("claas-secret-1"),
        "Debug must not print secrets"
    );
    assert!(matches!(
        s.create_credential(&o.id, &u.id, &claas_input("other"))
            .await,
        Err(Error::AlreadyExists(_))
    ));
    assert!(matches!(
        s.get_credential(&o.id, &u.id, Provider::JohnDeere).await,
        Err(Error::NotFound(_))
    ));

    s.set_credential_status(&o.id, &created.id, CredentialStatus::Ok)
        .await
        .unwrap();
    let mut rotated = got.secrets.clone();
    rotated.insert("refreshToken".into(), "rotated-refresh".into());
    rotated.insert("accessToken".into(), "new-access".into());
    s.update_credential_secrets(&o.id, &created.id, &rotated, &["read".to_string()])
        .await
        .unwrap();
    let again = s.get_credential_by_id(&o.id, &created.id).await.unwrap();
    assert_eq!(again.status, CredentialStatus::Ok);
    assert_eq!(again.secrets, rotated);
    assert_eq!(again.scopes, vec!["read".to_string()]);
    assert_eq!(
        s.list_user_credentials(&o.id, &u.id).await.unwrap().len(),
        1
    );

    s.delete_credential(&o.id, &u.id, Provider::Claas)
        .await
        .unwrap();
    assert!(matches!(
        s.get_credential(&o.id, &u.id, Provider::Claas).await,
        Err(Error::NotFound(_))
    ));
    // After deletion a new one can be created.
    s.create_credential(&o.id, &u.id, &claas_input("claas-secret-2"))
        .await
        .unwrap();
}

async fn credential_secrets_never_reach_the_database_in_clear(db: &TestDb) {
    let s = &db.store;
    let o = s
        .create_owner("o@example.com", "owner-password-xyz")
        .await
        .unwrap();
    let u = s
        .create_user(&o.id, &user("U", "u@x.io", None))
        .await
        .unwrap();
    let secrets = ["SECRET-client-6f1e2d", "SECRET-refresh-99ab77"];
    let input = validate(
        Provider::Claas,
        &json!({"clientKey": "visible-client-key", "clientSecret": secrets[0], "refreshToken": secrets[1]}),
    )
    .unwrap();
    let c = s.create_credential(&o.id, &u.id, &input).await.unwrap();
    let mut rotated = c.secrets.clone();
    rotated.insert("accessToken".into(), "SECRET-access-5c5c5c".into());
    s.update_credential_secrets(&o.id, &c.id, &rotated, &[])
        .await
        .unwrap();
    let all = [
        secrets[0],
        secrets[1],
        "SECRET-access-5c5c5c",
        "owner-password-xyz",
    ];

    let raw: Vec<u8> = match s.backend() {
        Backend::Sqlite => {
            s.close().await;
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(&db.data_dir).unwrap() {
                let path = entry.unwrap().path();
                if path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("furrow.db")
                {
                    bytes.extend(std::fs::read(&path).unwrap());
                }
            }
            assert!(bytes.len() > 4096, "the database file was read");
            bytes
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::AnyConnection::connect(db.database_url.as_deref().unwrap())
                .await
                .unwrap();
            let mut text = String::new();
            for table in [
                "api_owners",
                "leaf_users",
                "credentials",
                "credential_events",
            ] {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT CAST(t.* AS TEXT) FROM {table} t"))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                text.push_str(&rows.join("\n"));
            }
            assert!(
                text.contains("visible-client-key"),
                "the dump holds the rows"
            );
            text.into_bytes()
        }
    };
    assert!(
        raw.windows(b"visible-client-key".len())
            .any(|w| w == b"visible-client-key")
    );
    for secret in all {
        assert!(
            !raw.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} found in the database"
        );
    }
}

async fn deleting_a_user_removes_credentials_and_events(db: &TestDb) {
    let s = &db.store;
    let o = s.create_owner("o@example.com", "pw").await.unwrap();
    let u = s
        .create_user(&o.id, &user("U", "u@x.io", None))
        .await
        .unwrap();
    let c = s
        .create_credential(&o.id, &u.id, &claas_input("s-1234567"))
        .await
        .unwrap();
    for code in [200, 401] {
        s.add_credential_event(
            &o.id,
            &c.id,
            &NewCredentialEvent {
                status_code: code,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    s.delete_user(&o.id, &u.id).await.unwrap();
    assert!(matches!(
        s.get_credential_by_id(&o.id, &c.id).await,
        Err(Error::NotFound(_))
    ));
    let (events, total) = s
        .list_credential_events(&o.id, &c.id, Page::default(), SortOrder::Desc)
        .await
        .unwrap();
    assert_eq!((events.len(), total), (0, 0));
}

async fn events_page_sort_and_retention(db: &TestDb) {
    let s = &db.store;
    let o = s.create_owner("o@example.com", "pw").await.unwrap();
    let u = s
        .create_user(&o.id, &user("U", "u@x.io", None))
        .await
        .unwrap();
    let c = s
        .create_credential(&o.id, &u.id, &claas_input("s-1234567"))
        .await
        .unwrap();
    let now = furrow_model::now_micros();
    let day = 24 * 3600 * 1_000_000i64;
    for i in 0..45i64 {
        let ev = NewCredentialEvent {
            status_code: 200 + i,
            headers: "Content-Type: application/json".into(),
            body: format!("{{\"n\":{i}}}"),
            method: Some("POST".into()),
            url: Some("https://example.test/oauth/token".into()),
        };
        s.add_credential_event_at(&o.id, &c.id, &ev, now - i * day)
            .await
            .unwrap();
    }
    let (newest, total) = s
        .list_credential_events(&o.id, &c.id, Page::new(0, 10).unwrap(), SortOrder::Desc)
        .await
        .unwrap();
    assert_eq!(total, 45);
    assert_eq!(newest[0].status_code, 200);
    assert_eq!(newest[9].status_code, 209);
    assert!(newest[0].created_date.ends_with('Z') && newest[0].created_date.len() == 27);
    let (oldest, _) = s
        .list_credential_events(&o.id, &c.id, Page::new(0, 5).unwrap(), SortOrder::Asc)
        .await
        .unwrap();
    assert_eq!(oldest[0].status_code, 244);
    // Events 31..44 days old go; 0..30 days stay (30 days exactly is kept).
    let swept = s.sweep_credential_events(now).await.unwrap();
    assert_eq!(swept, 14);
    assert_eq!(
        s.list_credential_events(&o.id, &c.id, Page::default(), SortOrder::Desc)
            .await
            .unwrap()
            .1,
        31
    );
}

fn job(kind: &str, dedupe: Option<&str>, run_at: i64) -> furrow_store::NewJob {
    furrow_store::NewJob {
        kind: kind.into(),
        payload: "{}".into(),
        dedupe_key: dedupe.map(Into::into),
        run_at,
        max_attempts: 3,
    }
}

async fn jobs_are_claimed_once_retried_and_taken_over_after_the_lease(db: &TestDb) {
    let s = &db.store;
    let o = s.create_owner("o@example.com", "pw").await.unwrap();
    let now = furrow_model::now_micros();
    let a = s
        .enqueue_job(&o.id, &job("k", Some("once"), now))
        .await
        .unwrap();
    assert_eq!(
        s.enqueue_job(&o.id, &job("k", Some("once"), now))
            .await
            .unwrap(),
        a,
        "dedupe key"
    );
    s.enqueue_job(&o.id, &job("k", None, now + 60_000_000))
        .await
        .unwrap(); // not due yet
    s.enqueue_job(&o.id, &job("other", None, now))
        .await
        .unwrap();

    let claimed = s
        .claim_job("w1", &["k"], now, 1_000_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((claimed.id.as_str(), claimed.attempts), (a.as_str(), 1));
    assert!(
        s.claim_job("w2", &["k"], now, 1_000_000)
            .await
            .unwrap()
            .is_none(),
        "leased and the other is not due"
    );
    // w1 dies; after the lease w2 takes the job over and w1 can no longer complete it.
    let later = now + 2_000_000;
    let taken = s
        .claim_job("w2", &["k"], later, 1_000_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.id.as_str(), taken.attempts), (a.as_str(), 2));
    assert!(!s.complete_job(&a, "w1").await.unwrap());
    assert!(!s.renew_job_lease(&a, "w1", later + 5).await.unwrap());
    // A failed attempt with a retry goes back to the queue; the third attempt is the last.
    assert!(s.fail_job(&a, "w2", "boom", Some(later)).await.unwrap());
    let third = s
        .claim_job("w2", &["k"], later, 1_000_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.attempts, 3);
    assert!(
        s.fail_job(&a, "w2", "boom again", Some(later))
            .await
            .unwrap()
    );
    let (state, err, attempts) = s.job_state(&a).await.unwrap();
    assert_eq!(
        (state.as_str(), err.as_deref(), attempts),
        ("failed", Some("boom again"), 3)
    );
    // A finished job releases its dedupe key: the same work can be asked for again.
    let again = s
        .enqueue_job(&o.id, &job("k", Some("once"), now))
        .await
        .unwrap();
    assert_ne!(again, a, "a failed job's key is released");
    let c = s
        .claim_job("w4", &["k"], later, 1_000_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c.id.as_str(), c.attempts), (again.as_str(), 1));
    // Requeued without counting the attempt, then done.
    assert!(s.requeue_job(&again, "w4", later).await.unwrap());
    let c = s
        .claim_job("w4", &["k"], later, 1_000_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c.id.as_str(), c.attempts), (again.as_str(), 1));
    assert!(s.complete_job(&again, "w4").await.unwrap());
    assert_ne!(
        s.enqueue_job(&o.id, &job("k", Some("once"), now + 60_000_000))
            .await
            .unwrap(),
        again,
        "a done job's key is released"
    );

    let other = s
        .claim_job("w3", &["other"], now, 1_000_000)
        .await
        .unwrap()
        .unwrap();
    assert!(s.complete_job(&other.id, "w3").await.unwrap());
    let c = s.job_counts().await.unwrap();
    assert_eq!((c.queued, c.running, c.done, c.failed), (2, 0, 2, 1));
}

/// A job that kills its worker at every try (a crash, memory exhausted) is not re-claimed for ever: each expired
/// lease counts as an attempt, and once they are used up the job fails, once, saying why.
async fn a_job_whose_worker_dies_at_every_attempt_fails_with_the_reason(db: &TestDb) {
    let s = &db.store;
    let o = s.create_owner("o@example.com", "pw").await.unwrap();
    let now = furrow_model::now_micros();
    let id = s.enqueue_job(&o.id, &job("k", None, now)).await.unwrap();
    let healthy = s.enqueue_job(&o.id, &job("k", None, now)).await.unwrap();
    let lease = 1_000_000;
    // Three attempts (max_attempts 3), each ending with the worker gone: no completion, no failure recorded.
    let mut t = now;
    for attempt in 1..=3 {
        let c = s
            .claim_job(&format!("w{attempt}"), &["k"], t, lease)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((c.id.as_str(), c.attempts), (id.as_str(), attempt));
        if attempt == 1 {
            // the healthy job runs and finishes beside it
            let h = s.claim_job("h", &["k"], t, lease).await.unwrap().unwrap();
            assert_eq!(h.id, healthy);
            assert!(s.complete_job(&healthy, "h").await.unwrap());
        }
        t += 2 * lease;
    }
    // Its attempts are used up: nobody claims it again; nothing is abandoned before its lease expires.
    assert!(s.claim_job("w4", &["k"], t, lease).await.unwrap().is_none());
    assert!(
        s.fail_abandoned_jobs(&["k"], t - 2 * lease)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.fail_abandoned_jobs(&["other"], t)
            .await
            .unwrap()
            .is_empty(),
        "kinds are respected"
    );
    let failed = s.fail_abandoned_jobs(&["k"], t).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].id.as_str(), failed[0].attempts),
        (id.as_str(), 3)
    );
    let (state, err, attempts) = s.job_state(&id).await.unwrap();
    assert_eq!(
        (state.as_str(), err.as_deref(), attempts),
        ("failed", Some(furrow_store::ABANDONED), 3)
    );
    // Reported once, to one caller.
    assert!(s.fail_abandoned_jobs(&["k"], t).await.unwrap().is_empty());
    // An earlier attempt's error is kept after the reason.
    let j = s.enqueue_job(&o.id, &job("k", None, t)).await.unwrap();
    for attempt in 1..=3 {
        let c = s.claim_job("w", &["k"], t, lease).await.unwrap().unwrap();
        assert_eq!(c.attempts, attempt);
        if attempt == 1 {
            assert!(s.fail_job(&j, "w", "HTTP 503", Some(t)).await.unwrap());
        } else {
            t += 2 * lease;
        }
    }
    assert_eq!(s.fail_abandoned_jobs(&["k"], t).await.unwrap().len(), 1);
    let (_, err, _) = s.job_state(&j).await.unwrap();
    assert_eq!(
        err.unwrap(),
        format!("{}; before that: HTTP 503", furrow_store::ABANDONED)
    );
    let c = s.job_counts().await.unwrap();
    assert_eq!((c.queued, c.running, c.done, c.failed), (0, 0, 1, 2));
}

async fn concurrent_workers_never_claim_the_same_job(db: &TestDb) {
    let s = &db.store;
    let o = s.create_owner("o@example.com", "pw").await.unwrap();
    let now = furrow_model::now_micros();
    for _ in 0..60 {
        s.enqueue_job(&o.id, &job("k", None, now)).await.unwrap();
    }
    let mut handles = Vec::new();
    for w in 0..6 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let name = format!("w{w}");
            while let Some(j) = s
                .claim_job(&name, &["k"], furrow_model::now_micros(), 60_000_000)
                .await
                .unwrap()
            {
                assert!(s.complete_job(&j.id, &name).await.unwrap());
                mine.push(j.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!((n, all.len()), (60, 60), "every job claimed exactly once");
}

async fn webhooks_one_per_event_with_sealed_secrets(db: &TestDb) {
    let s = &db.store;
    let a = s.create_owner("a@example.com", "pw").await.unwrap();
    let b = s.create_owner("b@example.com", "pw").await.unwrap();
    let ev = |v: &[&str]| v.iter().map(|e| e.to_string()).collect::<Vec<_>>();
    let w = s
        .create_webhook(
            &a.id,
            "hook",
            "http://127.0.0.1:9/h",
            "webhook-secret-77",
            &ev(&["fieldCreated", "operationCreated"]),
        )
        .await
        .unwrap();
    assert!(matches!(
        s.create_webhook(
            &a.id,
            "dup",
            "http://x",
            "s",
            &ev(&["uploadedFileProcessingFinished", "fieldCreated"])
        )
        .await,
        Err(Error::AlreadyExists("webhook event"))
    ));
    assert_eq!(
        s.list_webhooks(&a.id).await.unwrap().len(),
        1,
        "the refused webhook left nothing"
    );
    assert!(
        s.webhook_for_event(&a.id, "uploadedFileProcessingFinished")
            .await
            .unwrap()
            .is_none()
    );
    // Another owner may subscribe to the same event.
    s.create_webhook(&b.id, "b", "http://x", "s2", &ev(&["fieldCreated"]))
        .await
        .unwrap();
    let got = s
        .webhook_for_event(&a.id, "fieldCreated")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.id.as_str(), got.secret.as_str()),
        (w.id.as_str(), "webhook-secret-77")
    );
    assert!(!format!("{got:?}").contains("webhook-secret-77"));
    assert!(matches!(
        s.get_webhook(&b.id, &w.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.delete_webhook(&b.id, &w.id).await,
        Err(Error::NotFound(_))
    ));
    s.add_failed_call(
        &a.id,
        &furrow_store::FailedCall {
            id: String::new(),
            webhook_id: w.id.clone(),
            created_at: 5,
            url: w.url.clone(),
            status: Some(502),
            response: "bad gateway".into(),
            request_body: "{}".into(),
            connection_error: None,
            attempt: 1,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        s.list_failed_calls(&a.id, 100).await.unwrap()[0].status,
        Some(502)
    );
    assert!(s.list_failed_calls(&b.id, 100).await.unwrap().is_empty());
    s.delete_webhook(&a.id, &w.id).await.unwrap();
    s.create_webhook(&a.id, "again", "http://x", "s", &ev(&["fieldCreated"]))
        .await
        .unwrap();
}

async fn configs_merge_per_owner_and_user(db: &TestDb) {
    let s = &db.store;
    let o = s.create_owner("o@example.com", "pw").await.unwrap();
    let mut m = serde_json::Map::new();
    m.insert("operationsMergeRange".into(), serde_json::json!(7));
    s.merge_config(&o.id, None, &m).await.unwrap();
    let mut m2 = serde_json::Map::new();
    m2.insert("fieldsAutoSync".into(), serde_json::json!(false));
    let merged = s.merge_config(&o.id, None, &m2).await.unwrap();
    assert_eq!(merged.len(), 2);
    s.merge_config(&o.id, Some("user-1"), &m2).await.unwrap();
    assert_eq!(s.get_config(&o.id, Some("user-1")).await.unwrap().len(), 1);
    s.delete_user_config(&o.id, "user-1").await.unwrap();
    assert!(
        s.get_config(&o.id, Some("user-1"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.get_config(&o.id, None).await.unwrap()["operationsMergeRange"],
        7
    );
}
