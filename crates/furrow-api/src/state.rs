use std::sync::Arc;

use furrow_store::{SecretKey, Store};

use crate::auth::TokenIssuer;

/// Tunables of the API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest accepted JSON body, in bytes; larger ones get `413`.
    pub max_body_bytes: usize,
    /// The blob store, where `POST /batch` uploads go and outputs are read from; `None`: uploads are refused
    /// (`503`).
    pub blobs: Option<furrow_store::Blobs>,
    /// Largest accepted upload (`POST /batch`), in bytes (Leaf: 3 GB).
    pub max_upload_bytes: u64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            blobs: None,
            max_upload_bytes: 3 * 1024 * 1024 * 1024,
        }
    }
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Issues and checks API-owner tokens.
    pub tokens: Arc<TokenIssuer>,
    /// Tunables.
    pub config: ApiConfig,
    /// Reverse proxies whose `X-Forwarded-For` names the client (login throttling per address); empty: the
    /// TCP peer is the client.
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
    /// Grower onboarding: public URL, provider endpoints, cookie key, link rate limits.
    pub onboarding: Arc<crate::onboarding::Onboarding>,
}

impl AppState {
    /// State over `store`, with tokens signed by a key derived from `key`.
    pub fn new(store: Store, key: &SecretKey, config: ApiConfig) -> Self {
        let signing = key.derive_signing_key();
        Self {
            store,
            tokens: Arc::new(TokenIssuer::new(&signing)),
            config,
            trusted_proxies: Arc::new([]),
            onboarding: Arc::new(crate::onboarding::Onboarding::new(
                crate::onboarding::OnboardingConfig::default(),
                &signing,
            )),
        }
    }

    /// Serves the onboarding pages with this configuration (public URL, provider endpoints).
    pub fn with_onboarding(mut self, config: crate::onboarding::OnboardingConfig) -> Self {
        self.onboarding = Arc::new(self.onboarding.with_config(config));
        self
    }

    /// Trusts `X-Forwarded-For` from these reverse proxies (a load balancer in front of the API): a request
    /// they forward counts, for login throttling, against the address they name.
    pub fn with_trusted_proxies(
        mut self,
        proxies: impl IntoIterator<Item = std::net::IpAddr>,
    ) -> Self {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }
}
