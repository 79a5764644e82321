use std::net::SocketAddr;

use furrow_api::{ApiConfig, AppState};
use furrow_store::Backend;
use furrow_store::testing::TestDb;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

pub(crate) const UM: &str = "/services/usermanagement/api";
/// The blob folder the test servers (and the workers tests start) share.
pub(crate) fn blob_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("furrow-api-blobs-{}", std::process::id()))
}

/// The blob store over [`blob_dir`].
pub(crate) fn blobs() -> furrow_store::Blobs {
    furrow_store::Blobs::local(
        blob_dir(),
        std::env::temp_dir().join(format!("furrow-api-scratch-{}", std::process::id())),
    )
    .unwrap()
}

/// Largest upload the test server accepts.
pub(crate) const MAX_UPLOAD: u64 = 4 * 1024 * 1024;
pub(crate) const MAX_BODY: usize = 64 * 1024;

/// A furrow API served on 127.0.0.1:0 over a fresh database, with two API owners.
pub(crate) struct Harness {
    pub(crate) db: TestDb,
    pub(crate) addr: SocketAddr,
    pub(crate) client: reqwest::Client,
    /// Token of owner A (`a@example.com`).
    pub(crate) token_a: String,
    /// Token of owner B (`b@example.com`).
    pub(crate) token_b: String,
    pub(crate) owner_a: String,
    server: tokio::task::JoinHandle<()>,
}

impl Harness {
    pub(crate) async fn start(backend: Backend) -> Self {
        Self::start_with_providers(backend, Default::default()).await
    }

    /// Same, with the onboarding pages sending growers to (and exchanging codes at) these provider origins.
    pub(crate) async fn start_with_providers(
        backend: Backend,
        provider_urls: std::collections::BTreeMap<furrow_credentials::Provider, String>,
    ) -> Self {
        let db = TestDb::new(backend).await;
        let owner_a = db
            .store
            .create_owner("a@example.com", "password-a")
            .await
            .unwrap()
            .id;
        db.store
            .create_owner("b@example.com", "password-b")
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(
            db.store.clone(),
            &db.key,
            ApiConfig {
                max_body_bytes: MAX_BODY,
                blobs: Some(blobs()),
                max_upload_bytes: MAX_UPLOAD,
            },
        )
        .with_onboarding(furrow_api::OnboardingConfig {
            public_url: format!("http://{addr}"),
            provider_urls,
            ..Default::default()
        });
        let server = tokio::spawn(async move {
            axum::serve(listener, furrow_api::router(state))
                .await
                .unwrap();
        });
        let client = reqwest::Client::new();
        let mut h = Self {
            db,
            addr,
            client,
            token_a: String::new(),
            token_b: String::new(),
            owner_a,
            server,
        };
        h.token_a = h.login("a@example.com", "password-a").await;
        h.token_b = h.login("b@example.com", "password-b").await;
        h
    }

    pub(crate) async fn stop(self) {
        self.server.abort();
        self.db.cleanup().await;
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub(crate) async fn login(&self, username: &str, password: &str) -> String {
        let r = self
            .client
            .post(self.url("/api/authenticate"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login {username}");
        r.json::<Value>().await.unwrap()["id_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub(crate) fn req(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
    }

    /// Sends a JSON request as owner A.
    pub(crate) async fn json(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        self.json_as(&self.token_a.clone(), method, path, body)
            .await
    }

    pub(crate) async fn json_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut r = self.req(method, path, token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().await.unwrap()
    }

    /// Creates a user for owner A and returns its id.
    pub(crate) async fn user(&self, name: &str) -> String {
        let r = self
            .json(
                Method::POST,
                &format!("{UM}/users"),
                Some(serde_json::json!({"name": name, "email": format!("{name}@x.io")})),
            )
            .await;
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// Asserts a problem+json answer with `status`, the request path, and (when given) the error key; returns the body.
pub(crate) async fn problem(r: Response, status: u16, key: Option<&str>) -> Value {
    assert_eq!(r.status().as_u16(), status, "status of {}", r.url());
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        ct.starts_with("application/problem+json"),
        "content type {ct}"
    );
    let path = r.url().path().to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert_eq!(body["path"], path);
    assert!(
        body["type"].is_string() && body["title"].is_string() && body["message"].is_string(),
        "{body}"
    );
    if let Some(key) = key {
        assert_eq!(body["errorKey"], key, "{body}");
    }
    body
}

/// The fields named in a validation problem.
pub(crate) fn named_fields(problem: &Value) -> Vec<String> {
    problem["fieldErrors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
