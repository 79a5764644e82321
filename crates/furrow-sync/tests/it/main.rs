//! furrow-sync against real components: the store (SQLite and, with `cfg(furrow_pg)`, PostgreSQL), the CLAAS
//! adapter talking to its simulator, and a webhook receiver on 127.0.0.1.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use furrow_credentials::{CredentialStatus, Provider};
use furrow_model::Event;
use furrow_model::{Page, SortOrder, UserInput};
use furrow_provider_sim::Simulator;
use furrow_store::testing::TestDb;
use furrow_sync::{Registry, Worker, WorkerConfig};
use serde_json::Value;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    a_valid_credential_becomes_ok_with_redacted_events,
    a_revoked_credential_becomes_invalid_and_fires_a_signed_alert,
    failed_deliveries_are_retried_recorded_and_given_up,
);

mod credentials;
mod fields;
mod files;
mod formats;
#[cfg(feature = "oidc")]
mod oidc;
mod operations;
mod redaction;

/// A webhook receiver answering the first `fail_first` calls with 500.
#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    fail_first: Arc<Mutex<usize>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> (Receiver, String) {
        let r = Receiver {
            calls: Arc::default(),
            fail_first: Arc::new(Mutex::new(fail_first)),
        };
        let state = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let state = state.clone();
                async move {
                    state.calls.lock().unwrap().push((headers, body));
                    let mut left = state.fail_first.lock().unwrap();
                    if *left > 0 {
                        *left -= 1;
                        (StatusCode::INTERNAL_SERVER_ERROR, "receiver down")
                    } else {
                        (StatusCode::OK, "ok")
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (r, url)
    }

    fn calls(&self) -> Vec<(HeaderMap, String)> {
        self.calls.lock().unwrap().clone()
    }
}

fn worker(db: &TestDb, sim: &Simulator) -> Worker {
    let registry = Registry::new()
        .with(Provider::Claas, |ctx| {
            Ok(Arc::new(furrow_provider_claas::ClaasProvider::new(ctx)?) as _)
        })
        .with_base_url(Provider::Claas, sim.base_url());
    let config = WorkerConfig {
        id: "test-worker".into(),
        webhook_retry_delays: vec![Duration::ZERO, Duration::ZERO],
        ..WorkerConfig::default()
    };
    Worker::new(db.store.clone(), registry, config)
}

async fn drain(w: &Worker) -> usize {
    let mut n = 0;
    while w.run_once().await.unwrap() {
        n += 1;
        assert!(n < 100, "the queue drains");
    }
    n
}

/// Stores the simulator's credential on a new user and returns (owner id, credential id, the values).
async fn stored_credential(
    db: &TestDb,
    values: &std::collections::BTreeMap<String, String>,
) -> (String, String) {
    let owner = db
        .store
        .create_owner("o@example.com", "password")
        .await
        .unwrap();
    let user = db
        .store
        .create_user(
            &owner.id,
            &UserInput {
                name: Some("g".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let body: serde_json::Map<String, Value> = values
        .iter()
        .filter(|(k, _)| Provider::Claas.field(k).is_some_and(|f| f.in_create))
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let input = furrow_credentials::validate(Provider::Claas, &Value::Object(body)).unwrap();
    let cred = db
        .store
        .create_credential(&owner.id, &user.id, &input)
        .await
        .unwrap();
    (owner.id, cred.id)
}

async fn a_valid_credential_becomes_ok_with_redacted_events(db: &TestDb) {
    let sim = Simulator::start(Provider::Claas).await.unwrap();
    let values = sim.new_credential();
    let (owner, cred) = stored_credential(db, &values).await;
    let job = db.store.enqueue_validation(&owner, &cred).await.unwrap();
    assert_eq!(
        db.store.enqueue_validation(&owner, &cred).await.unwrap(),
        job,
        "idempotent"
    );
    let w = worker(db, &sim);
    // The validation, then the fields and files syncs it enqueues (no blob directory here: the files sync
    // fails saying so).
    assert_eq!(drain(&w).await, 3);
    let stored = db.store.get_credential_by_id(&owner, &cred).await.unwrap();
    assert_eq!(stored.status, CredentialStatus::Ok);
    // The refresh token in the store is one the provider still accepts (rotation persisted).
    assert!(sim.is_refresh_token_valid(&stored.secrets["refreshToken"]));
    assert!(stored.secrets.contains_key("accessToken"));
    let (events, total) = db
        .store
        .list_credential_events(&owner, &cred, Page::default(), SortOrder::Asc)
        .await
        .unwrap();
    assert!(total >= 1, "the token exchange was recorded");
    let mut secrets: Vec<String> = stored.secrets.values().cloned().collect();
    secrets.extend(
        values
            .iter()
            .filter(|(k, _)| Provider::Claas.field(k).is_some_and(|f| f.secret))
            .map(|(_, v)| v.clone()),
    );
    for e in &events {
        let text = format!(
            "{} {} {}",
            e.headers,
            e.body,
            e.url.clone().unwrap_or_default()
        );
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "event leaks a secret: {text}");
        }
    }
    let (state, _, _) = db.store.job_state(&job).await.unwrap();
    assert_eq!(state, "done");
}

async fn a_revoked_credential_becomes_invalid_and_fires_a_signed_alert(db: &TestDb) {
    let sim = Simulator::start(Provider::Claas).await.unwrap();
    let values = sim.new_credential();
    assert!(sim.revoke(&values));
    let (owner, cred) = stored_credential(db, &values).await;
    let (receiver, url) = Receiver::start(0).await;
    let hook = db
        .store
        .create_webhook(
            &owner,
            "alerts",
            &url,
            "hook-secret-123",
            &["credentialsUnauthenticated".to_string()],
        )
        .await
        .unwrap();
    db.store
        .confirm_registration(&owner, &hook.id)
        .await
        .unwrap();
    db.store.enqueue_validation(&owner, &cred).await.unwrap();
    let w = worker(db, &sim);
    drain(&w).await;
    assert_eq!(
        db.store
            .get_credential_by_id(&owner, &cred)
            .await
            .unwrap()
            .status,
        CredentialStatus::Invalid
    );
    let calls = receiver.calls();
    assert_eq!(calls.len(), 2, "confirmation and alert");
    assert_eq!(
        calls[0].1,
        r#"{"message": "confirmation of webhook upon registration"}"#
    );
    for (headers, body) in &calls {
        let sig = headers["x-leaf-signature"].to_str().unwrap();
        assert!(
            furrow_sync::verify_signature("hook-secret-123", body.as_bytes(), sig),
            "signed: {body}"
        );
        assert_eq!(headers["content-type"], "application/json");
    }
    let alert: Value = serde_json::from_str(&calls[1].1).unwrap();
    assert_eq!(alert["type"], "credentialsUnauthenticated");
    assert_eq!(alert["status"], "INVALID");
    assert_eq!(alert["credentialId"], cred.as_str());
    assert_eq!(alert["provider"], "CLAAS");
    assert_eq!(alert["credential"], values["clientKey"].as_str());
    assert!(
        calls[1].1.starts_with(r#"{"credential": "#),
        "Leaf's key order and separators"
    );
    // Validating again leaves an INVALID credential alone.
    db.store
        .enqueue_job(
            &owner,
            &furrow_store::NewJob {
                kind: furrow_store::queue::VALIDATE_JOB.into(),
                payload: format!(r#"{{"credentialId": "{cred}"}}"#),
                dedupe_key: None,
                run_at: furrow_model::now_micros(),
                max_attempts: 1,
            },
        )
        .await
        .unwrap();
    let before = sim.requests();
    drain(&w).await;
    assert_eq!(
        sim.requests(),
        before,
        "no provider call for an INVALID credential"
    );
}

async fn failed_deliveries_are_retried_recorded_and_given_up(db: &TestDb) {
    let sim = Simulator::start(Provider::Claas).await.unwrap();
    let owner = db
        .store
        .create_owner("o@example.com", "password")
        .await
        .unwrap()
        .id;
    let (receiver, url) = Receiver::start(2).await;
    db.store
        .create_webhook(
            &owner,
            "ops",
            &url,
            "s3cr3t",
            &["operationCreated".to_string()],
        )
        .await
        .unwrap();
    let ev = Event::Operation {
        event: "operationCreated",
        operation_id: "op-1".into(),
        leaf_user_id: "u-1".into(),
    };
    let job = db
        .store
        .fire(&owner, &ev)
        .await
        .unwrap()
        .expect("a webhook listens");
    let none = Event::Operation {
        event: "operationUpdated",
        operation_id: "op-1".into(),
        leaf_user_id: "u-1".into(),
    };
    assert!(
        db.store.fire(&owner, &none).await.unwrap().is_none(),
        "nobody listens to it"
    );
    let w = worker(db, &sim);
    drain(&w).await;
    let calls = receiver.calls();
    assert_eq!(calls.len(), 3, "two failures then success");
    let ids: Vec<&str> = calls
        .iter()
        .map(|(h, _)| h["x-furrow-delivery"].to_str().unwrap())
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "one delivery id across attempts"
    );
    let attempts: Vec<&str> = calls
        .iter()
        .map(|(h, _)| h["x-furrow-attempt"].to_str().unwrap())
        .collect();
    assert_eq!(attempts, ["1", "2", "3"]);
    assert!(
        calls.iter().all(|(_, b)| b == &calls[0].1),
        "the same bytes every time"
    );
    let failed = db.store.list_failed_calls(&owner, 100).await.unwrap();
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().all(|f| f.status == Some(500)
        && f.request_body == calls[0].1
        && f.response == "receiver down"));
    assert_eq!(db.store.job_state(&job).await.unwrap().0, "done");

    // A receiver that never recovers: 1 + 2 retries, then the delivery fails for good.
    *receiver.fail_first.lock().unwrap() = 100;
    let job = db.store.fire(&owner, &ev).await.unwrap().unwrap();
    drain(&w).await;
    assert_eq!(receiver.calls().len(), 6);
    let (state, err, attempts) = db.store.job_state(&job).await.unwrap();
    assert_eq!(
        (state.as_str(), err.as_deref(), attempts),
        ("failed", Some("HTTP 500"), 3)
    );
    assert_eq!(
        db.store.list_failed_calls(&owner, 100).await.unwrap().len(),
        5
    );

    // A dead URL is a connection error, recorded as such.
    let dead = db
        .store
        .create_webhook(
            &owner,
            "dead",
            "http://127.0.0.1:9/nothing",
            "s",
            &["fieldCreated".to_string()],
        )
        .await
        .unwrap();
    db.store
        .confirm_registration(&owner, &dead.id)
        .await
        .unwrap();
    drain(&w).await;
    let failed = db.store.list_failed_calls(&owner, 100).await.unwrap();
    assert!(
        failed
            .iter()
            .any(|f| f.webhook_id == dead.id && f.status.is_none() && f.connection_error.is_some())
    );
}
