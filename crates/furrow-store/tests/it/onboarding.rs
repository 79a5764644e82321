//! Onboarding rows: app keys sealed, API keys and link tokens hashed, OAuth sessions single use, every row
//! scoped to its owner, and a key rotation that reseals all of them.

use std::collections::BTreeMap;

use furrow_model::UserInput;
use furrow_store::testing::TestDb;
use furrow_store::{Error, NewAppKey, NewMagicLink, OAuthSession, Store};
use serde_json::json;

on_both_backends!(
    onboarding_rows_belong_to_their_owner,
    api_keys_are_found_by_hash_only_while_valid,
    links_are_used_atomically_and_sessions_once,
    a_key_rotation_reseals_onboarding_secrets,
    a_reconnection_replaces_the_credential_in_one_step,
);

fn app_key(secret: &str) -> NewAppKey {
    NewAppKey {
        provider: "CLAAS".into(),
        app_name: "app".into(),
        environment: "PRODUCTION".into(),
        public: BTreeMap::from([("clientKey".into(), "client".into())]),
        secrets: BTreeMap::from([("clientSecret".into(), secret.into())]),
        scopes: vec![],
    }
}

fn new_link(user: &str, max_usage: i64) -> NewMagicLink {
    NewMagicLink {
        user_id: user.into(),
        widget: "PROVIDER".into(),
        providers: vec!["CLAAS".into()],
        settings: json!({"companyName": "Acme"}),
        app_name: None,
        max_usage,
        expires_at: furrow_model::now_micros() + 3_600_000_000,
    }
}

fn session(owner: &str, user: &str, app_key_id: &str, verifier: Option<&str>) -> OAuthSession {
    OAuthSession {
        state_hash: String::new(),
        owner_id: owner.into(),
        user_id: user.into(),
        provider: "CLAAS".into(),
        app_key_id: app_key_id.into(),
        environment: "PRODUCTION".into(),
        magic_link_hash: None,
        api_key_id: None,
        code_verifier: verifier.map(str::to_owned),
        redirect_uri: "http://127.0.0.1/widget".into(),
        expires_at: furrow_model::now_micros() + 600_000_000,
        consumed_at: None,
    }
}

async fn owner_and_user(s: &Store, name: &str) -> (String, String) {
    let o = s
        .create_owner(&format!("{name}@example.com"), "pw")
        .await
        .unwrap();
    let u = s
        .create_user(
            &o.id,
            &UserInput {
                name: Some(format!("{name}-grower")),
                email: Some(format!("{name}@x.io")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    (o.id, u.id)
}

async fn onboarding_rows_belong_to_their_owner(db: &TestDb) {
    let s = &db.store;
    let (a, a_user) = owner_and_user(s, "a").await;
    let (b, _) = owner_and_user(s, "b").await;
    let key = s.create_app_key(&a, &app_key("a-secret")).await.unwrap();
    assert!(matches!(
        s.create_app_key(&a, &app_key("again")).await,
        Err(Error::AlreadyExists(_))
    ));
    // B's key of the same name is another row.
    s.create_app_key(&b, &app_key("b-secret")).await.unwrap();
    assert!(matches!(
        s.get_app_key_by_id(&b, &key.id).await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(
        s.get_app_key(&a, "CLAAS", "app", "PRODUCTION")
            .await
            .unwrap()
            .secrets["clientSecret"],
        "a-secret"
    );
    s.delete_app_key(&b, "CLAAS", "app", "PRODUCTION")
        .await
        .unwrap();
    assert_eq!(s.list_app_keys(&a, "CLAAS").await.unwrap().len(), 1);
    // Links and keys only for the owner's own users.
    assert!(matches!(
        s.create_magic_link(&b, &new_link(&a_user, 3)).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.create_api_key(&b, &a_user, None, i64::MAX).await,
        Err(Error::NotFound(_))
    ));
    let link = s
        .create_magic_link(&a, &new_link(&a_user, 3))
        .await
        .unwrap();
    assert!(matches!(
        s.get_magic_link(&b, "PROVIDER", &link.token).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.delete_magic_link(&b, "PROVIDER", &link.token).await,
        Err(Error::NotFound(_))
    ));
    assert!(!s.use_magic_link(&b, &link.hash).await.unwrap());
    assert!(matches!(
        s.magic_link_by_hash(&b, &link.hash).await,
        Err(Error::NotFound(_))
    ));
    let (listed, total) = s
        .list_magic_links(&b, "PROVIDER", None, furrow_model::Page::default())
        .await
        .unwrap();
    assert_eq!((listed.len(), total), (0, 0));
    let got = s.get_magic_link(&a, "PROVIDER", &link.token).await.unwrap();
    assert_eq!(got.usage_count, 0);
    assert_eq!(got.settings, json!({"companyName": "Acme"}));
    let (_, key_a) = s.create_api_key(&a, &a_user, None, i64::MAX).await.unwrap();
    let (_, api) = s.api_key_for(&key_a, 0).await.unwrap().unwrap();
    assert!(matches!(
        s.revoke_api_key(&b, &api.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(s.api_key_for(&key_a, 0).await.unwrap().is_some());
}

async fn api_keys_are_found_by_hash_only_while_valid(db: &TestDb) {
    let s = &db.store;
    let (a, user) = owner_and_user(s, "a").await;
    let now = furrow_model::now_micros();
    let (row, key) = s
        .create_api_key(&a, &user, Some("portal"), now + 1_000_000)
        .await
        .unwrap();
    assert!(key.starts_with("lk_"));
    assert_eq!(row.last4, key[key.len() - 4..]);
    let (owner, found) = s.api_key_for(&key, now).await.unwrap().unwrap();
    assert_eq!(
        (owner.as_str(), found.id.as_str()),
        (a.as_str(), row.id.as_str())
    );
    assert!(
        s.api_key_for(&key, now + 1_000_000)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert!(s.api_key_for("lk_guess", now).await.unwrap().is_none());
    s.revoke_api_key(&a, &row.id).await.unwrap();
    assert!(s.api_key_for(&key, now).await.unwrap().is_none(), "revoked");
    let listed = s.list_api_keys(&a, &user).await.unwrap();
    assert!(listed[0].revoked_at.is_some());
    assert!(!listed[0].is_valid(now));
}

async fn links_are_used_atomically_and_sessions_once(db: &TestDb) {
    let s = &db.store;
    let (a, user) = owner_and_user(s, "a").await;
    let link = s.create_magic_link(&a, &new_link(&user, 2)).await.unwrap();
    // Many takers at once: exactly max_usage succeed.
    let takes =
        futures_util::future::join_all((0..8).map(|_| s.use_magic_link(&a, &link.hash))).await;
    assert_eq!(
        takes.into_iter().filter(|t| *t.as_ref().unwrap()).count(),
        2
    );
    s.unuse_magic_link(&a, &link.hash).await.unwrap();
    assert!(s.use_magic_link(&a, &link.hash).await.unwrap());
    assert!(!s.use_magic_link(&a, &link.hash).await.unwrap());
    // A deleted link takes no use and is gone from the owner's reads, but the page can still name it.
    let other = s.create_magic_link(&a, &new_link(&user, 2)).await.unwrap();
    s.delete_magic_link(&a, "PROVIDER", &other.token)
        .await
        .unwrap();
    assert!(!s.use_magic_link(&a, &other.hash).await.unwrap());
    assert!(
        s.magic_link_by_token(&other.token)
            .await
            .unwrap()
            .unwrap()
            .deleted_at
            .is_some()
    );
    assert!(s.magic_link_by_token("unknown").await.unwrap().is_none());
    // A session: found by its state, consumed once, never after its expiry.
    let key = s.create_app_key(&a, &app_key("x")).await.unwrap();
    s.create_oauth_session("state-1", &session(&a, &user, &key.id, Some("verifier-1")))
        .await
        .unwrap();
    let got = s.oauth_session("state-1").await.unwrap().unwrap();
    assert_eq!(got.code_verifier.as_deref(), Some("verifier-1"));
    assert!(s.oauth_session("state-2").await.unwrap().is_none());
    let now = furrow_model::now_micros();
    let both = futures_util::future::join(
        s.consume_oauth_session("state-1", now),
        s.consume_oauth_session("state-1", now),
    )
    .await;
    assert_eq!(
        [both.0.unwrap(), both.1.unwrap()]
            .iter()
            .filter(|x| **x)
            .count(),
        1
    );
    s.create_oauth_session("state-3", &session(&a, &user, &key.id, None))
        .await
        .unwrap();
    assert!(
        !s.consume_oauth_session("state-3", now + 601_000_000)
            .await
            .unwrap(),
        "expired"
    );
}

async fn a_key_rotation_reseals_onboarding_secrets(db: &TestDb) {
    let s = &db.store;
    let (a, user) = owner_and_user(s, "a").await;
    let key = s.create_app_key(&a, &app_key("app-secret")).await.unwrap();
    let link = s.create_magic_link(&a, &new_link(&user, 3)).await.unwrap();
    s.create_oauth_session("st", &session(&a, &user, &key.id, Some("pkce-verifier")))
        .await
        .unwrap();
    let url = "https://provider.example/authorize?state=st";
    s.set_oauth_start("st", "start-token", url, i64::MAX)
        .await
        .unwrap();
    let opts = |key: furrow_store::SecretKey| furrow_store::StoreOptions {
        data_dir: db.data_dir.clone(),
        database_url: db.database_url.clone(),
        key,
    };
    let new_key = furrow_store::SecretKey::generate();
    let rotating = Store::open(opts(new_key.clone().with_previous(&db.key)))
        .await
        .unwrap();
    let only_new = Store::open(opts(new_key)).await.unwrap();
    assert!(matches!(
        only_new.get_app_key_by_id(&a, &key.id).await,
        Err(Error::Decrypt { .. })
    ));
    assert_eq!(
        rotating.reseal_secrets().await.unwrap(),
        4,
        "the app key, the link token, the PKCE verifier, the start link"
    );
    assert_eq!(rotating.reseal_secrets().await.unwrap(), 0);
    assert_eq!(
        only_new
            .get_app_key_by_id(&a, &key.id)
            .await
            .unwrap()
            .secrets["clientSecret"],
        "app-secret"
    );
    assert_eq!(
        only_new
            .get_magic_link(&a, "PROVIDER", &link.token)
            .await
            .unwrap()
            .token,
        link.token
    );
    assert_eq!(
        only_new
            .oauth_session("st")
            .await
            .unwrap()
            .unwrap()
            .code_verifier
            .as_deref(),
        Some("pkce-verifier")
    );
    assert_eq!(
        only_new
            .take_oauth_start("start-token", furrow_model::now_micros())
            .await
            .unwrap()
            .as_deref(),
        Some(url)
    );
    assert_eq!(
        only_new
            .take_oauth_start("start-token", furrow_model::now_micros())
            .await
            .unwrap(),
        None,
        "once"
    );
    rotating.close().await;
    only_new.close().await;
}

async fn a_reconnection_replaces_the_credential_in_one_step(db: &TestDb) {
    let s = &db.store;
    let (a, user) = owner_and_user(s, "a").await;
    let input = |rt: &str| {
        furrow_credentials::validate(
            furrow_credentials::Provider::Claas,
            &json!({"clientKey": "k", "clientSecret": "cs", "refreshToken": rt}),
        )
        .unwrap()
    };
    // Nothing to replace: a plain creation, with the issued access token.
    let first = s
        .replace_credential(
            &a,
            &user,
            &input("rt-1"),
            Some(furrow_store::TokenUpdate {
                secrets: BTreeMap::new(),
                access_token: "at-1".into(),
                issued_at: 1,
                expires_at: Some(2),
            }),
        )
        .await
        .unwrap();
    s.add_credential_event(&a, &first.id, &furrow_model::NewCredentialEvent::default())
        .await
        .unwrap();
    s.enqueue_validation(&a, &first.id).await.unwrap();
    assert_eq!(
        db.execute("UPDATE credential_events SET owner_id = owner_id")
            .await,
        1
    );
    let stored = s.get_credential_by_id(&a, &first.id).await.unwrap();
    assert_eq!(stored.access_token.as_deref(), Some("at-1"));
    assert_eq!(stored.access_expires_at, Some(2));
    // Replaced: the old row, its events and its queued validation go; the new one is PROCESSING.
    let second = s
        .replace_credential(&a, &user, &input("rt-2"), None)
        .await
        .unwrap();
    assert_ne!(second.id, first.id);
    assert!(matches!(
        s.get_credential_by_id(&a, &first.id).await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(
        db.execute("UPDATE credential_events SET owner_id = owner_id")
            .await,
        0,
        "the old credential's events went with it"
    );
    assert!(
        db.jobs()
            .await
            .iter()
            .all(|(kind, state, _, _)| kind != "credential_validate" || state != "queued"),
        "{:?}",
        db.jobs().await
    );
    let now = s
        .get_credential(&a, &user, furrow_credentials::Provider::Claas)
        .await
        .unwrap();
    assert_eq!(now.id, second.id);
    assert_eq!(now.secrets["refreshToken"], "rt-2");
    assert_eq!(now.status, furrow_credentials::CredentialStatus::Processing);
    assert!(now.access_token.is_none());
    // Only for the owner's own user.
    let (b, _) = owner_and_user(s, "b").await;
    assert!(matches!(
        s.replace_credential(&b, &user, &input("rt-3"), None).await,
        Err(Error::NotFound(_))
    ));
}
