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

on_both_backends!(
    owners_verify_passwords,
    users_crud_filters_and_paging,
    users_are_scoped_to_their_owner,
    credentials_round_trip_and_duplicates,
    credential_secrets_never_reach_the_database_in_clear,
    deleting_a_user_removes_credentials_and_events,
    events_page_sort_and_retention,
);

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
