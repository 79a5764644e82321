//! Grower onboarding (leaf-onboarding.md): provider app keys (`app_keys.rs`), Leaf-user API keys
//! (`api_keys.rs`) and the widget session API they open (`session.rs`), Magic Link management (`links.rs`) and
//! the hosted pages a grower opens from a link, with the OAuth start and callback (`pages.rs`, `html.rs`).
//! Providers are data in `providers.rs`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use furrow_credentials::Provider;

use crate::AppState;

pub(crate) mod api_keys;
pub(crate) mod app_keys;
mod html;
pub(crate) mod links;
mod pages;
mod providers;
pub(crate) mod session;

/// Where the hosted pages are and how they reach the providers (only binaries read it from flags).
#[derive(Debug, Clone)]
pub struct OnboardingConfig {
    /// The origin growers and providers reach this server at (`https://furrow.example.org`), no trailing
    /// slash: links are `{public_url}/magic-link/{id}`, the OAuth callback is `{public_url}/widget`. Never
    /// taken from a request.
    pub public_url: String,
    /// Serve a provider's authorize and token endpoints from another origin (a simulator).
    pub provider_urls: BTreeMap<Provider, String>,
    /// How long a grower has between starting a connection and the provider's redirect back.
    pub session_ttl: Duration,
    /// HTTP settings for the code exchange.
    pub http: furrow_provider::HttpConfig,
}

impl Default for OnboardingConfig {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            provider_urls: BTreeMap::new(),
            session_ttl: Duration::from_secs(600),
            http: furrow_provider::HttpConfig::default(),
        }
    }
}

impl OnboardingConfig {
    /// `{public_url}/widget`: the redirect URI to register at every provider.
    pub fn redirect_uri(&self) -> String {
        format!("{}/widget", self.public_url.trim_end_matches('/'))
    }

    /// `{public_url}/magic-link/{id}`.
    pub fn link_url(&self, token: &str) -> String {
        format!(
            "{}/magic-link/{token}",
            self.public_url.trim_end_matches('/')
        )
    }

    fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https:")
    }
}

/// Onboarding state shared by the handlers: configuration, the cookie key and the link rate limits.
#[derive(Debug)]
pub struct Onboarding {
    pub(crate) config: OnboardingConfig,
    /// HMAC key of the `furrow_oauth` cookie, derived from the server key.
    cookie_key: Vec<u8>,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Onboarding {
    pub(crate) fn new(config: OnboardingConfig, signing_key: &[u8]) -> Self {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(signing_key)
            .expect("HMAC takes any key length");
        mac.update(b"furrow oauth state cookie v1");
        Self {
            config,
            cookie_key: mac.finalize().into_bytes().to_vec(),
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Where the pages are (public URL, callback) and the providers they send growers to.
    pub fn config(&self) -> &OnboardingConfig {
        &self.config
    }

    /// The same cookie key with another configuration.
    pub(crate) fn with_config(&self, config: OnboardingConfig) -> Self {
        Self {
            config,
            cookie_key: self.cookie_key.clone(),
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// `HMAC(key, state)`, base64url: the browser-session binding of a state.
    pub(crate) fn state_cookie(&self, state: &str) -> String {
        use base64::Engine;
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.cookie_key)
            .expect("HMAC takes any key length");
        mac.update(state.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Counts one hit against `key`; `Some(retry_after_secs)` when more than `limit` came within `per`.
    pub(crate) fn limit(&self, key: &str, limit: usize, per: Duration) -> Option<u64> {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        if hits.len() > 10_000 {
            hits.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < per));
        }
        let q = hits.entry(key.to_owned()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= per) {
            q.pop_front();
        }
        if q.len() >= limit {
            let wait = q
                .front()
                .map(|t| per.saturating_sub(now.duration_since(*t)))
                .unwrap_or(per);
            return Some(wait.as_secs().max(1));
        }
        q.push_back(now);
        None
    }
}

/// The `{provider}` segments of the app-key and widget session routes (`JohnDeere`, `CLAAS`, …).
pub(crate) fn app_key_providers() -> Vec<&'static str> {
    providers::all().iter().map(|s| s.segment()).collect()
}

/// µs since the epoch in the one timestamp format (microseconds and `Z`).
pub(crate) fn ts(micros: i64) -> String {
    furrow_model::format_timestamp(furrow_model::timestamp_from_micros(micros))
}

/// Constant-time equality of two strings.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Every onboarding route: management under the Leaf service paths, hosted pages at the root.
pub(crate) fn routes() -> Router<AppState> {
    const UM: &str = "/services/usermanagement/api";
    const W: &str = "/services/widgets/api";
    Router::new()
        .route(&format!("{UM}/app-keys/{{provider}}"), get(app_keys::list))
        .route(
            &format!("{UM}/app-keys/{{provider}}/{{appName}}"),
            get(app_keys::get)
                .post(app_keys::create)
                .put(app_keys::replace)
                .delete(app_keys::delete),
        )
        .route(
            &format!("{UM}/app-keys/{{provider}}/{{appName}}/{{environment}}"),
            get(app_keys::get_env)
                .post(app_keys::create_env)
                .put(app_keys::replace_env)
                .delete(app_keys::delete_env),
        )
        .route(
            &format!("{UM}/api-keys"),
            get(api_keys::list).post(api_keys::create),
        )
        .route(&format!("{UM}/api-keys/{{id}}"), delete(api_keys::revoke))
        .route(
            &format!("{W}/magic-link/{{kind}}"),
            get(links::list).post(links::create_external),
        )
        .route(
            &format!("{W}/magic-link/{{kind}}/{{id}}"),
            get(links::get).delete(links::delete),
        )
        .route(
            &format!("{W}/magic-link/users/{{leafUserId}}/{{kind}}"),
            post(links::create_for_user),
        )
        .route(
            &format!("{W}/magic-link/user/{{leafUserId}}/{{kind}}"),
            post(links::create_for_user),
        )
        .route("/magic-link/{id}", get(pages::landing))
        .route("/magic-link/{id}/connect/{provider}", post(pages::connect))
        .route(
            "/magic-link/{id}/disconnect/{provider}",
            post(pages::disconnect),
        )
        .route(
            "/magic-link/{id}/upload",
            post(pages::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/widget", get(pages::callback))
        .route("/widget/start/{token}", get(pages::start))
        .route(&format!("{W}/session"), get(session::get))
        .route(&format!("{W}/session/providers"), get(session::providers))
        .route(
            &format!("{W}/session/providers/{{provider}}/authorize"),
            post(session::authorize),
        )
        .route(
            &format!("{W}/session/providers/{{provider}}"),
            delete(session::disconnect),
        )
        .route(
            &format!("{W}/session/files"),
            post(session::upload).layer(DefaultBodyLimit::disable()),
        )
}
