//! The credential's lock (one refresh at a time across nodes), the call gate a deletion waits for, and the
//! API owner's sessions and login throttles.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use furrow_credentials::Provider;
use furrow_store::testing::TestDb;
use furrow_store::{Error, TokenUpdate};

use super::{claas_input, user};

on_both_backends!(
    one_refresh_at_a_time_across_two_nodes,
    a_failed_refresh_writes_nothing_and_releases_the_lock,
    a_deletion_waits_for_calls_in_flight_and_cancels_queued_jobs,
    password_changes_and_logouts_end_tokens,
    login_failures_block_after_the_free_ones,
);

async fn credential(db: &TestDb) -> (String, String, String) {
    let s = &db.store;
    let o = s.create_owner("o@example.com", "password").await.unwrap();
    let u = s
        .create_user(&o.id, &user("U", "u@x.io", None))
        .await
        .unwrap();
    let c = s
        .create_credential(&o.id, &u.id, &claas_input("claas-secret-1"))
        .await
        .unwrap();
    (o.id, u.id, c.id)
}

/// Eight callers on two stores (two nodes) find no usable token at once; one refreshes, the others see its
/// result after taking the lock.
async fn one_refresh_at_a_time_across_two_nodes(db: &TestDb) {
    let (owner, _, cred) = credential(db).await;
    let other = db.another_node().await;
    let refreshes = Arc::new(AtomicU32::new(0));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = if i % 2 == 0 {
                db.store.clone()
            } else {
                other.clone()
            };
            let (owner, cred, refreshes) = (owner.clone(), cred.clone(), refreshes.clone());
            tokio::spawn(async move {
                store
                    .with_credential_lock(&owner, &cred, |stored| async move {
                        if stored.access_token.is_some() {
                            return Ok::<_, String>(None);
                        }
                        let n = refreshes.fetch_add(1, Ordering::SeqCst) + 1;
                        // The provider call: others run meanwhile.
                        for _ in 0..20 {
                            tokio::task::yield_now().await;
                        }
                        let now = furrow_model::now_micros();
                        Ok(Some(TokenUpdate {
                            secrets: BTreeMap::from([(
                                "refreshToken".to_owned(),
                                format!("rotated-{n}"),
                            )]),
                            access_token: format!("access-{n}"),
                            issued_at: now,
                            expires_at: Some(now + 3_600_000_000),
                        }))
                    })
                    .await
                    .unwrap()
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        let c = t.await.unwrap();
        assert_eq!(c.access_token.as_deref(), Some("access-1"));
        assert_eq!(c.secrets["refreshToken"], "rotated-1");
    }
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    let stored = other.get_credential_by_id(&owner, &cred).await.unwrap();
    assert_eq!(stored.access_token.as_deref(), Some("access-1"));
    assert_eq!(stored.secrets["refreshToken"], "rotated-1");
    assert_eq!(stored.secrets["clientSecret"], "claas-secret-1", "merged");
    assert!(stored.access_expires_at > stored.access_issued_at);
    // Sealed like the other secrets.
    if db.database_url.is_none() {
        let raw = std::fs::read(db.data_dir.join("furrow.db")).unwrap();
        assert!(!raw.windows(8).any(|w| w == b"access-1"));
    }
    other.close().await;
}

async fn a_failed_refresh_writes_nothing_and_releases_the_lock(db: &TestDb) {
    let (owner, _, cred) = credential(db).await;
    let out = db
        .store
        .with_credential_lock(&owner, &cred, |_| async {
            Err::<Option<TokenUpdate>, _>("invalid_grant")
        })
        .await
        .unwrap();
    assert_eq!(out.unwrap_err(), "invalid_grant");
    let again = db
        .store
        .with_credential_lock(&owner, &cred, |stored| async move {
            assert!(stored.access_token.is_none());
            Ok::<_, String>(None)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.secrets["refreshToken"], "rt-claas-secret-1");
}

async fn a_deletion_waits_for_calls_in_flight_and_cancels_queued_jobs(db: &TestDb) {
    let (owner, user_id, cred) = credential(db).await;
    db.store.enqueue_validation(&owner, &cred).await.unwrap();
    db.store.enqueue_sync(&owner, &cred).await.unwrap();
    let call = db.store.credential_call(&owner, &cred).await.unwrap();
    let store = db.store.clone();
    let (o, u) = (owner.clone(), user_id.clone());
    let deletion =
        tokio::spawn(async move { store.delete_credential(&o, &u, Provider::Claas).await });
    if let Some(url) = &db.database_url {
        // PostgreSQL: the DELETE waits for the call's row lock.
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
            .await
            .unwrap();
        let start = Instant::now();
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND pid IN \
                 (SELECT pid FROM pg_stat_activity WHERE datname = current_database())",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap();
            if waiting > 0 {
                break;
            }
            assert!(!deletion.is_finished(), "the deletion did not wait");
            assert!(start.elapsed().as_secs() < 30, "the deletion never waited");
            tokio::task::yield_now().await;
        }
        assert!(!deletion.is_finished());
        assert!(db.store.get_credential_by_id(&owner, &cred).await.is_ok());
    }
    drop(call);
    deletion.await.unwrap().unwrap();
    assert!(matches!(
        db.store.credential_call(&owner, &cred).await,
        Err(Error::NotFound(_))
    ));
    let queued: Vec<_> = db
        .jobs()
        .await
        .into_iter()
        .filter(|(_, state, _, _)| state == "queued")
        .collect();
    assert!(queued.is_empty(), "{queued:?}");
}

async fn password_changes_and_logouts_end_tokens(db: &TestDb) {
    let s = &db.store;
    let o = s.create_owner("a@example.com", "password-1").await.unwrap();
    assert_eq!(s.owner_token_generation(&o.id).await.unwrap(), 0);
    assert!(
        s.owner_for_token("a@example.com", 0, Some("t1"))
            .await
            .unwrap()
            .is_some()
    );
    s.revoke_owner_token(&o.id, "t1", furrow_model::now_micros() + 60_000_000)
        .await
        .unwrap();
    s.revoke_owner_token(&o.id, "t1", furrow_model::now_micros() + 60_000_000)
        .await
        .unwrap();
    assert!(
        s.owner_for_token("a@example.com", 0, Some("t1"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.owner_for_token("a@example.com", 0, Some("t2"))
            .await
            .unwrap()
            .is_some()
    );
    s.set_owner_password("a@example.com", "password-2")
        .await
        .unwrap();
    assert_eq!(s.owner_token_generation(&o.id).await.unwrap(), 1);
    assert!(
        s.owner_for_token("a@example.com", 0, Some("t2"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.owner_for_token("a@example.com", 1, None)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.verify_owner("a@example.com", "password-1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.verify_owner("a@example.com", "password-2")
            .await
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        s.set_owner_password("nobody@example.com", "password-3")
            .await,
        Err(Error::NotFound(_))
    ));
    s.end_owner_tokens(&o.id).await.unwrap();
    assert!(
        s.owner_for_token("a@example.com", 1, None)
            .await
            .unwrap()
            .is_none()
    );
}

async fn login_failures_block_after_the_free_ones(db: &TestDb) {
    let s = &db.store;
    let window = 900_000_000;
    let block = |n: i64| if n > 3 { 1_000_000 * (n - 3) } else { 0 };
    let t0 = 1_000_000_000_000;
    for i in 1..=3 {
        let t = s
            .record_login_failure("user:a", t0 + i, window, block)
            .await
            .unwrap();
        assert_eq!((t.failures, t.blocked_until), (i, 0));
    }
    let t = s
        .record_login_failure("user:a", t0 + 4, window, block)
        .await
        .unwrap();
    assert_eq!((t.failures, t.blocked_until), (4, t0 + 4 + 1_000_000));
    let got = s
        .login_throttles(&["user:a", "addr:1.2.3.4"])
        .await
        .unwrap();
    assert_eq!(got[0], t);
    assert_eq!((got[1].failures, got[1].blocked_until), (0, 0));
    // Failures older than the window are forgotten (a block already given stays).
    let t = s
        .record_login_failure("user:a", t0 + window + 10, window, block)
        .await
        .unwrap();
    assert_eq!(t.failures, 1);
    s.clear_login_failures("user:a").await.unwrap();
    assert_eq!(s.login_throttles(&["user:a"]).await.unwrap()[0].failures, 0);
}
