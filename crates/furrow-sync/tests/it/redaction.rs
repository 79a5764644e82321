//! Providers that quote what they were sent: 72 stored secrets with characters that change under every
//! encoding, echoed back by the token endpoint and the data routes (headers, form bodies, base64 of both),
//! must appear in no form in the events API, the database, the alerts or the logs.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use furrow_credentials::{CredentialStatus, Provider};
use furrow_provider::HttpConfig;
use furrow_provider_sim::{AppSecrets, Simulator};
use furrow_store::testing::TestDb;
use furrow_sync::{Registry, Worker, WorkerConfig};
use serde_json::{Value, json};

use super::{Receiver, drain};

on_both_backends!(no_secret_reaches_events_logs_alerts_or_rows_in_any_form);

/// Everything logged by this test binary, from the first call on.
fn logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    static INIT: OnceLock<()> = OnceLock::new();
    let buffer = LOGS.get_or_init(Default::default);
    INIT.get_or_init(|| {
        #[derive(Clone)]
        struct Sink;
        impl Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                logs().lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,furrow_provider=trace,furrow_sync=trace,furrow_store=trace,furrow_api=trace,reqwest=debug",
            ))
            .with_ansi(false)
            .with_writer(|| Sink)
            .try_init()
            .expect("the only subscriber of this binary");
    });
    buffer
}

/// A secret that changes under URL encoding, JSON escaping and base64 alignment.
fn secret(kind: &str, i: usize) -> String {
    format!(
        "{kind}{i}-p@ss/wörd+\"q\" & <x>=%41 ✓ {}",
        uuid::Uuid::new_v4().simple()
    )
}

/// An API key (sent as a header value: visible ASCII only).
fn api_key(i: usize) -> String {
    format!("key{i}+/=&\"<x>%41~{}", uuid::Uuid::new_v4().simple())
}

fn percent(s: &str, keep: &[u8], space_plus: bool) -> String {
    s.bytes()
        .map(|b| match b {
            b' ' if space_plus => "+".to_owned(),
            b if b.is_ascii_alphanumeric() || keep.contains(&b) => char::from(b).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// One stored secret and the forms it may take on the wire.
struct Secret {
    label: String,
    /// Searched for as they are.
    forms: Vec<String>,
    /// Searched for inside base64-decoded text.
    inner: Vec<String>,
}

impl Secret {
    fn new(label: String, value: &str, client_id: &str) -> Self {
        let urls = [
            percent(value, b"*-._", true),
            percent(value, b"-._~", false),
            percent(value, b"-_.!~*'()", false),
        ];
        let mut inner = vec![value.to_owned()];
        for u in &urls {
            inner.push(u.clone());
            inner.push(u.to_lowercase());
        }
        let mut forms = inner.clone();
        let json = serde_json::to_string(value).unwrap();
        let json = json.trim_matches('"').to_owned();
        let ascii: String = value
            .chars()
            .map(|c| match c {
                '"' => "\\\"".to_owned(),
                c if c.is_ascii() => c.to_string(),
                c => c
                    .encode_utf16(&mut [0; 2])
                    .iter()
                    .map(|u| format!("\\u{u:04x}"))
                    .collect(),
            })
            .collect();
        let html = ascii
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026");
        for j in [json, ascii, html] {
            forms.push(j.replace('/', "\\/"));
            forms.push(j);
        }
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            forms.push(engine.encode(value));
            forms.push(engine.encode(format!("{client_id}:{value}")));
            forms.push(engine.encode(format!(
                "{}:{}",
                percent(client_id, b"*-._", true),
                percent(value, b"*-._", true)
            )));
        }
        Secret {
            label,
            forms,
            inner,
        }
    }
}

fn base64_runs(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "+/-_=".contains(c)))
        .flat_map(|run| run.split('='))
        .filter(|run| run.len() >= 8)
        .collect()
}

/// What `text` holds of `secrets`, in any form: (secret, where).
fn leaks(text: &str, secrets: &[Secret], depth: u8) -> Vec<String> {
    let mut found = Vec::new();
    for s in secrets {
        if let Some(f) = s.forms.iter().find(|f| text.contains(f.as_str())) {
            found.push(format!("{} as {f:?}", s.label));
        }
    }
    if depth == 0 {
        return found;
    }
    for run in base64_runs(text) {
        for skip in 0..4 {
            let Some(part) = run.get(skip..) else { break };
            let part = &part[..part.len() - usize::from(part.len() % 4 == 1)];
            for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                let Ok(bytes) = engine.decode(part) else {
                    continue;
                };
                let decoded = String::from_utf8_lossy(&bytes);
                for s in secrets {
                    if s.inner.iter().any(|i| decoded.contains(i.as_str())) {
                        found.push(format!("{} inside base64 {run}", s.label));
                    }
                }
                found.extend(leaks(&decoded, secrets, depth - 1));
            }
        }
    }
    found
}

fn registry(climate: &Simulator, cnhi: &Simulator) -> Registry {
    Registry::new()
        .with(Provider::ClimateFieldView, |ctx| {
            Ok(
                Arc::new(furrow_provider_climate_field_view::ClimateFieldViewProvider::new(ctx)?)
                    as _,
            )
        })
        .with(Provider::CnhiFieldOps, |ctx| {
            Ok(Arc::new(furrow_provider_cnhi::CnhiProvider::field_ops(ctx)?) as _)
        })
        .with_base_url(Provider::ClimateFieldView, climate.base_url())
        .with_base_url(Provider::CnhiFieldOps, cnhi.base_url())
        .with_http(HttpConfig::for_tests())
}

/// Twelve growers on Climate FieldView (`client_secret_basic`, `X-Api-Key`) and twelve on CNHi FieldOps
/// (`client_secret_post`, `Ocp-Apim-Subscription-Key`), three secrets each. Their syncs meet data routes that
/// echo every request; then their validations meet token endpoints that echo every request, until the
/// credentials settle INVALID with alerts.
async fn no_secret_reaches_events_logs_alerts_or_rows_in_any_form(db: &TestDb) {
    let logs = logs();
    let climate = Simulator::start(Provider::ClimateFieldView).await.unwrap();
    let cnhi = Simulator::start(Provider::CnhiFieldOps).await.unwrap();
    let state =
        furrow_api::AppState::new(db.store.clone(), &db.key, furrow_api::ApiConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, furrow_api::router(state))
            .await
            .unwrap();
    });
    let owner = db
        .store
        .create_owner("echo@example.com", "password-echo")
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let token = http
        .post(format!("{api}/api/authenticate"))
        .json(&json!({"username": "echo@example.com", "password": "password-echo"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (receiver, hook_url) = Receiver::start(0).await;
    let hook = db
        .store
        .create_webhook(
            &owner.id,
            "alerts",
            &hook_url,
            "hook-secret-echo",
            &["credentialsUnauthenticated".to_string()],
        )
        .await
        .unwrap();
    db.store
        .confirm_registration(&owner.id, &hook.id)
        .await
        .unwrap();

    let um = format!("{api}/services/usermanagement/api");
    let mut secrets = Vec::new();
    let mut credentials = Vec::new();
    for i in 0..12 {
        for (sim, kind) in [
            (&climate, Provider::ClimateFieldView),
            (&cnhi, Provider::CnhiFieldOps),
        ] {
            let app = AppSecrets {
                client_id: format!("client {i} {}/ä", kind.slug()),
                client_secret: secret("cs", i),
                api_key: api_key(i),
                shared_secret: String::new(),
                iv: String::new(),
            };
            let values = sim.credential_for_app(app.clone(), &secret("rt", i));
            for (k, v) in &values {
                if kind.field(k).is_some_and(|f| f.secret) {
                    secrets.push(Secret::new(
                        format!("{} {k} of grower {i}", kind.slug()),
                        v,
                        &app.client_id,
                    ));
                }
            }
            let user = http
                .post(format!("{um}/users"))
                .bearer_auth(&token)
                .json(&json!({"name": format!("grower {i}")}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let body: serde_json::Map<String, Value> = values
                .iter()
                .filter(|(k, _)| kind.field(k).is_some_and(|f| f.in_create))
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            let r = http
                .post(format!("{um}/users/{user}/{}-credentials", kind.slug()))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
            credentials.push((user, kind));
        }
    }
    assert_eq!(secrets.len(), 72);

    let config = WorkerConfig {
        id: "echo-worker".into(),
        webhook_retry_delays: vec![Duration::ZERO],
        sync_interval: None,
        ..WorkerConfig::default()
    };
    let w = Worker::new(db.store.clone(), registry(&climate, &cnhi), config);
    // Validations pass (token endpoints answer); the syncs' data calls are echoed.
    climate.faults().echo_data_calls(u32::MAX);
    cnhi.faults().echo_data_calls(u32::MAX);
    drain(&w).await;
    db.make_jobs_due().await;
    drain(&w).await;
    assert!(
        climate.requests() >= 24 && cnhi.requests() >= 24,
        "a token request and a data call per credential"
    );
    // Validations again, now against echoing token endpoints, to the end.
    climate.faults().echo(u32::MAX);
    cnhi.faults().echo(u32::MAX);
    for (user, kind) in &credentials {
        let c = db
            .store
            .get_credential(&owner.id, user, *kind)
            .await
            .unwrap();
        assert_eq!(c.status, CredentialStatus::Ok, "validated before the echo");
        db.store.enqueue_validation(&owner.id, &c.id).await.unwrap();
    }
    for _ in 0..10 {
        drain(&w).await;
        if db.make_jobs_due().await == 0 {
            break;
        }
    }
    for (user, kind) in &credentials {
        let c = db
            .store
            .get_credential(&owner.id, user, *kind)
            .await
            .unwrap();
        assert_eq!(c.status, CredentialStatus::Invalid);
    }
    assert_eq!(receiver.calls().len(), 1 + 24, "an alert per credential");

    // The events API, as an integrator reads it.
    let mut seen = 0;
    for (user, kind) in &credentials {
        let r = http
            .get(format!(
                "{um}/users/{user}/{}-credentials/events?size=100",
                kind.slug()
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        assert!(
            text.contains("cannot handle") || text.contains("<redacted>"),
            "echoes were recorded: {text}"
        );
        seen += 1;
        let found = leaks(&text, &secrets, 2);
        assert!(found.is_empty(), "events API: {found:?}\n{text}");
        // And every string in it, unescaped.
        let events: Value = serde_json::from_str(&text).unwrap();
        for e in events.as_array().unwrap() {
            for v in e.as_object().unwrap().values() {
                if let Some(s) = v.as_str() {
                    let found = leaks(s, &secrets, 2);
                    assert!(found.is_empty(), "events API value: {found:?}\n{s}");
                }
            }
        }
    }
    assert_eq!(seen, 24);
    for (_, body) in receiver.calls() {
        let found = leaks(&body, &secrets, 2);
        assert!(found.is_empty(), "alert: {found:?}\n{body}");
    }
    // The database: every byte of the SQLite files, or every row of every PostgreSQL table.
    let rows = match &db.database_url {
        None => {
            let mut text = String::new();
            for f in std::fs::read_dir(&db.data_dir).unwrap() {
                let path = f.unwrap().path();
                if path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("furrow.db"))
                {
                    text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
                }
            }
            text
        }
        Some(url) => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            let mut text = String::new();
            for t in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT row_to_json(t)::text FROM \"{t}\" t"))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                text.push_str(&rows.join("\n"));
            }
            text
        }
    };
    assert!(rows.contains("cannot handle"), "the echoes are in the rows");
    let found = leaks(&rows, &secrets, 2);
    assert!(found.is_empty(), "database: {found:?}");
    // The logs.
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        logged.contains("job will retry") && logged.contains("cannot handle"),
        "the echoes reached the logs"
    );
    let found = leaks(&logged, &secrets, 2);
    assert!(found.is_empty(), "logs: {found:?}");
    server.abort();
}
