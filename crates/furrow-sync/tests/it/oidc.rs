//! furrow against a real OAuth server written by someone else: panva's `oidc-provider` (Node, pinned in
//! `scripts/oidc-provider`, installed by `.ci/run`), refresh-token rotation on, reuse revoking the grant.
//!
//! The token endpoint is oidc-provider's (`Registry::with_token_url`); the data routes are the simulator's,
//! which accepts a bearer token only while oidc-provider's introspection endpoint says it is active
//! (`Simulator::accept_tokens_from`), so a revoked grant's tokens stop working there too. Grants come from a
//! real authorization-code flow with PKCE (the server's interaction pages sign in and consent without a
//! browser); CLAAS authenticates its client with `client_secret_basic`, CNHi FieldOps with
//! `client_secret_post`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use furrow_credentials::{CredentialStatus, Provider};
use furrow_provider::{
    ClientAuth, HttpClient, HttpConfig, MemorySink, OAuthConfig, authorization_url, exchange_code,
};
use furrow_provider_sim::Simulator;
use furrow_store::testing::TestDb;
use furrow_sync::{Registry, Worker, WorkerConfig};
use serde_json::{Value, json};

use super::Receiver;

on_both_backends!(
    claas_with_client_secret_basic_never_reuses_a_refresh_token,
    cnhi_field_ops_with_client_secret_post_never_reuses_a_refresh_token,
);

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const RS_SECRET: &str = "resource-server-secret-5f1c";
const DEADLINE: Duration = Duration::from_secs(180);

/// Where `.ci/run` installs oidc-provider.
fn install_dir() -> PathBuf {
    std::env::var_os("FURROW_OIDC_DIR").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/furrow/oidc"),
        PathBuf::from,
    )
}

fn script_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/oidc-provider")
}

/// A running oidc-provider; stopped when dropped.
struct Oidc {
    issuer: String,
    child: std::process::Child,
}

impl Drop for Oidc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Oidc {
    async fn start(clients: Value, access_ttl: u64) -> Oidc {
        let dir = install_dir();
        let how = format!(
            "run `.ci/run` (it installs it), or: mkdir -p {d} && cp {s}/package.json {s}/package-lock.json {d}/ && \
             (cd {d} && npm ci --ignore-scripts); set FURROW_OIDC_DIR for another folder",
            d = dir.display(),
            s = script_dir().display()
        );
        let installed: Value = std::fs::read(dir.join("node_modules/oidc-provider/package.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_else(|| {
                panic!("oidc-provider is not installed in {}: {how}", dir.display())
            });
        let pinned: Value =
            serde_json::from_slice(&std::fs::read(script_dir().join("package.json")).unwrap())
                .unwrap();
        assert_eq!(
            installed["version"], pinned["dependencies"]["oidc-provider"],
            "another oidc-provider version is installed: {how}"
        );
        let mut child = std::process::Command::new("node")
            .arg(script_dir().join("server.mjs"))
            .env("FURROW_OIDC_DIR", &dir)
            .env("FURROW_OIDC_CLIENTS", clients.to_string())
            .env("FURROW_OIDC_RS_SECRET", RS_SECRET)
            .env("FURROW_OIDC_ACCESS_TTL", access_ttl.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `node` ({e}): install Node.js 20, then {how}"));
        let stdout = child.stdout.take().unwrap();
        let line = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
                    .map(|_| line)
            }),
        )
        .await
        .expect("oidc-provider started within a minute")
        .unwrap()
        .unwrap();
        let started: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("oidc-provider did not start ({e}): {line:?}; {how}"));
        Oidc {
            issuer: started["issuer"].as_str().unwrap().to_owned(),
            child,
        }
    }

    fn token_url(&self) -> String {
        format!("{}/token", self.issuer)
    }

    async fn log(&self) -> Value {
        reqwest::get(format!("{}/dev/log", self.issuer))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A grower's grant through the authorization-code flow (PKCE): furrow's own authorization URL, the
    /// server's login and consent, the code exchanged with furrow's `exchange_code`. Returns the refresh token.
    async fn grant(&self, config: &OAuthConfig) -> String {
        let request = authorization_url(config, true, &[("prompt", "consent")]).unwrap();
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut cookies: BTreeMap<String, String> = BTreeMap::new();
        let mut url = request.url.clone();
        let code = 'flow: {
            for _ in 0..12 {
                let mut r = browser.get(&url);
                if !cookies.is_empty() {
                    let jar: Vec<String> =
                        cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    r = r.header("cookie", jar.join("; "));
                }
                let resp = r.send().await.unwrap();
                for c in resp.headers().get_all("set-cookie") {
                    let c = c.to_str().unwrap();
                    let pair = c.split(';').next().unwrap();
                    if let Some((k, v)) = pair.split_once('=') {
                        if v.is_empty()
                            || c.to_ascii_lowercase().contains("expires=thu, 01 jan 1970")
                        {
                            cookies.remove(k);
                        } else {
                            cookies.insert(k.to_owned(), v.to_owned());
                        }
                    }
                }
                assert!(
                    resp.status().is_redirection(),
                    "authorization flow stopped at {url}: {} {}",
                    resp.status(),
                    resp.text().await.unwrap_or_default()
                );
                let location = resp.headers()["location"].to_str().unwrap().to_owned();
                url = if location.starts_with('/') {
                    format!("{}{location}", self.issuer)
                } else {
                    location
                };
                if let Some(query) = url.strip_prefix(&format!("{REDIRECT}?")) {
                    let params: HashMap<String, String> =
                        url::form_urlencoded::parse(query.as_bytes())
                            .into_owned()
                            .collect();
                    assert_eq!(params.get("state"), Some(&request.state), "state kept");
                    break 'flow params.get("code").cloned().expect("a code");
                }
            }
            panic!("the authorization flow did not come back to the redirect URI");
        };
        let http = HttpClient::new(
            Provider::Claas,
            HttpConfig::for_tests(),
            MemorySink::new(),
            [],
        )
        .unwrap();
        let issued = exchange_code(&http, config, &code, request.pkce_verifier.as_deref())
            .await
            .unwrap();
        issued.updates["refreshToken"].clone()
    }

    /// Revokes a refresh token at the revocation endpoint (RFC 7009): oidc-provider then revokes its grant.
    async fn revoke(&self, config: &OAuthConfig, refresh_token: &str) {
        let secret = config.client_secret.clone().unwrap();
        let mut form = vec![
            ("token", refresh_token.to_owned()),
            ("token_type_hint", "refresh_token".to_owned()),
        ];
        let mut r = reqwest::Client::new().post(format!("{}/token/revocation", self.issuer));
        match config.client_auth {
            // RFC 6749 2.3.1: both parts form-URL-encoded before base64 (the secret has `+`, `/`, `=`).
            ClientAuth::Basic => {
                use base64::Engine;
                let enc = |v: &str| {
                    url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                };
                let pair = format!("{}:{}", enc(&config.client_id), enc(&secret));
                r = r.header(
                    "authorization",
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(pair)
                    ),
                );
            }
            ClientAuth::RequestBody => {
                form.push(("client_id", config.client_id.clone()));
                form.push(("client_secret", secret));
            }
        }
        let resp = r.form(&form).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
}

/// Worker loops until told to stop.
struct Workers {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Workers {
    fn start(workers: Vec<Worker>) -> Self {
        let (stop, rx) = tokio::sync::watch::channel(false);
        let tasks = workers
            .into_iter()
            .map(|w| tokio::spawn(w.run(rx.clone())))
            .collect();
        Workers { stop, tasks }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            t.await.unwrap();
        }
    }
}

async fn until_idle(db: &TestDb, oidc: &Oidc) {
    let start = Instant::now();
    loop {
        let busy: Vec<_> = db
            .jobs()
            .await
            .into_iter()
            .filter(|(_, s, _, _)| s == "queued" || s == "running")
            .collect();
        if busy.is_empty() {
            return;
        }
        let log = oidc.log().await;
        assert!(
            log["revokedGrants"].as_array().unwrap().is_empty(),
            "oidc-provider revoked a grant: {log}"
        );
        assert!(start.elapsed() < DEADLINE, "jobs never finished: {busy:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Each refresh token presented at most once, every presentation accepted.
fn assert_no_reuse(log: &Value) -> usize {
    let refreshes = log["refreshes"].as_array().unwrap();
    let mut seen = std::collections::HashSet::new();
    for r in refreshes {
        assert_eq!(r["outcome"], "ok", "a refresh was refused: {log}");
        assert!(
            seen.insert(r["token"].as_str().unwrap().to_owned()),
            "a refresh token was presented twice: {log}"
        );
    }
    refreshes.len()
}

/// Validation, fields sync, 20 machine files processed by four workers on two nodes while access tokens live
/// three seconds, two later syncs: the grant is never revoked and every refresh token is presented once.
/// Then the grower's grant is revoked at the server: the credential turns INVALID with the alert.
async fn survives_a_real_server(db: &TestDb, kind: Provider, auth: ClientAuth) {
    let (client_id, client_secret) = (
        format!("{}-app", kind.slug()),
        "app-secret-9d2e/+=".to_owned(),
    );
    let method = match auth {
        ClientAuth::Basic => "client_secret_basic",
        ClientAuth::RequestBody => "client_secret_post",
    };
    let oidc = Oidc::start(
        json!([{"client_id": client_id, "client_secret": client_secret,
                "token_endpoint_auth_method": method, "redirect_uris": [REDIRECT]}]),
        3,
    )
    .await;
    let mut config = OAuthConfig::new(
        client_id.clone(),
        Some(client_secret.clone()),
        oidc.token_url(),
    );
    config.auth_url = Some(format!("{}/auth", oidc.issuer));
    config.redirect_uri = Some(REDIRECT.into());
    config.scopes = vec!["openid".into(), "offline_access".into()];
    config.client_auth = auth;
    let refresh_token = oidc.grant(&config).await;

    let sim = Simulator::start(kind).await.unwrap();
    sim.accept_tokens_from(
        &format!("{}/token/introspection", oidc.issuer),
        "resource-server",
        RS_SECRET,
    );
    sim.seed().retain_files(|_| false);
    sim.seed().add_generated_files("4201", 20);

    // The credential as an integrator stores it: the app's client, the grower's refresh token (CNHi also the
    // API subscription key, which the simulator checks).
    let owner = db
        .store
        .create_owner("o@example.com", "password")
        .await
        .unwrap();
    let user = db
        .store
        .create_user(&owner.id, &furrow_model::UserInput::default())
        .await
        .unwrap();
    let mut body = match kind {
        Provider::Claas => json!({"clientKey": client_id, "clientSecret": client_secret}),
        _ => json!({"clientId": client_id, "clientSecret": client_secret,
                    "subscriptionKey": sim.credential()["subscriptionKey"]}),
    };
    body["refreshToken"] = json!(refresh_token);
    let input = furrow_credentials::validate(kind, &body).unwrap();
    let cred = db
        .store
        .create_credential(&owner.id, &user.id, &input)
        .await
        .unwrap();
    db.store
        .merge_config(
            &owner.id,
            None,
            json!({"customDataSync": false}).as_object().unwrap(),
        )
        .await
        .unwrap();
    let (receiver, hook_url) = Receiver::start(0).await;
    let hook = db
        .store
        .create_webhook(
            &owner.id,
            "alerts",
            &hook_url,
            "hook-secret-oidc",
            &["credentialsUnauthenticated".to_string()],
        )
        .await
        .unwrap();
    db.store
        .confirm_registration(&owner.id, &hook.id)
        .await
        .unwrap();

    let registry = Registry::new()
        .with(Provider::Claas, |ctx| {
            Ok(Arc::new(furrow_provider_claas::ClaasProvider::new(ctx)?) as _)
        })
        .with(Provider::CnhiFieldOps, |ctx| {
            Ok(Arc::new(furrow_provider_cnhi::CnhiProvider::field_ops(ctx)?) as _)
        })
        .with_base_url(kind, sim.base_url())
        .with_token_url(kind, oidc.token_url())
        .with_http(HttpConfig::for_tests());
    let other = db.another_node().await;
    let blobs =
        furrow_store::Blobs::local(db.root().join("blobs"), db.root().join("scratch")).unwrap();
    let worker = |store: &furrow_store::Store, id: &str| {
        Worker::new(
            store.clone(),
            registry.clone(),
            WorkerConfig {
                id: id.into(),
                idle_poll: Duration::from_millis(20),
                webhook_retry_delays: vec![Duration::ZERO],
                blobs: Some(blobs.clone()),
                sync_interval: None,
                ..WorkerConfig::default()
            },
        )
    };
    let workers = Workers::start(vec![
        worker(&db.store, "a-1"),
        worker(&db.store, "a-2"),
        worker(&other, "b-1"),
        worker(&other, "b-2"),
    ]);
    db.store
        .enqueue_validation(&owner.id, &cred.id)
        .await
        .unwrap();
    until_idle(db, &oidc).await;
    for _ in 0..2 {
        // Each later sync starts with the stored access token past its renewal time: it must refresh.
        let expires = db
            .store
            .get_credential_by_id(&owner.id, &cred.id)
            .await
            .unwrap()
            .access_expires_at
            .expect("the access token is stored with its expiry");
        while furrow_model::now_micros() < expires {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        db.store.enqueue_sync(&owner.id, &cred.id).await.unwrap();
        until_idle(db, &oidc).await;
    }
    let jobs = db.jobs().await;
    let processed = jobs
        .iter()
        .filter(|(k, s, _, _)| k == "file_process" && s == "done")
        .count();
    assert_eq!(processed, 20, "{jobs:?}");
    assert!(jobs.iter().all(|(_, s, _, _)| s == "done"), "{jobs:?}");
    let stored = db
        .store
        .get_credential_by_id(&owner.id, &cred.id)
        .await
        .unwrap();
    assert_eq!(stored.status, CredentialStatus::Ok);
    let log = oidc.log().await;
    let presented = assert_no_reuse(&log);
    assert!(
        presented >= 3,
        "validation and each later sync refreshed: {log}"
    );
    eprintln!(
        "oidc-provider ({} {method}): {presented} refresh tokens presented once each, {} grants revoked, {} provider requests",
        kind.slug(),
        log["revokedGrants"].as_array().unwrap().len(),
        sim.requests()
    );

    // The grower withdraws the grant at the server: the next sync finds out.
    oidc.revoke(&config, &stored.secrets["refreshToken"]).await;
    assert_eq!(
        oidc.log().await["revokedGrants"].as_array().unwrap().len(),
        1
    );
    db.store
        .enqueue_files_sync(&owner.id, &cred.id, true)
        .await
        .unwrap();
    let start = Instant::now();
    loop {
        let c = db
            .store
            .get_credential_by_id(&owner.id, &cred.id)
            .await
            .unwrap();
        if c.status == CredentialStatus::Invalid {
            break;
        }
        assert!(start.elapsed() < DEADLINE, "still {:?}", c.status);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let start = Instant::now();
    while receiver.calls().len() < 2 {
        assert!(start.elapsed() < DEADLINE, "no alert");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    workers.stop().await;
    let alert: Value = serde_json::from_str(&receiver.calls()[1].1).unwrap();
    assert_eq!(alert["type"], "credentialsUnauthenticated");
    assert_eq!(alert["status"], "INVALID");
    assert_eq!(alert["credentialId"], cred.id.as_str());
    // Refused presentations after the revocation are the server's answer, not reuse.
    let log = oidc.log().await;
    let refreshes = log["refreshes"].as_array().unwrap();
    let tokens: Vec<&str> = refreshes
        .iter()
        .map(|r| r["token"].as_str().unwrap())
        .collect();
    let unique: std::collections::HashSet<&&str> = tokens.iter().collect();
    assert_eq!(
        unique.len(),
        tokens.len(),
        "a refresh token was presented twice: {log}"
    );
    other.close().await;
}

async fn claas_with_client_secret_basic_never_reuses_a_refresh_token(db: &TestDb) {
    survives_a_real_server(db, Provider::Claas, ClientAuth::Basic).await;
}

async fn cnhi_field_ops_with_client_secret_post_never_reuses_a_refresh_token(db: &TestDb) {
    survives_a_real_server(db, Provider::CnhiFieldOps, ClientAuth::RequestBody).await;
}
