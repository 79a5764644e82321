//! Hosts and endpoints [C] (providers.md 1.1, 1.2).

use std::time::Duration;

use furrow_provider::ProviderContext;

/// The Okta authorization server path of John Deere.
pub(crate) const TOKEN_PATH: &str = "/oauth2/aus78tnlaysMraFhC1t7/v1/token";
const SIGNIN: &str = "https://signin.johndeere.com";

/// Where the John Deere API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JohnDeereConfig {
    /// API base including `/platform`.
    pub api_base: String,
    /// Token endpoint.
    pub token_url: String,
    /// Authorization endpoint.
    pub auth_url: String,
    /// Scopes requested (and sent on refresh, as JD's samples do).
    pub scopes: Vec<String>,
    /// Files at least this large are downloaded in `Range` chunks.
    pub chunk_threshold: u64,
    /// Chunk size of those downloads.
    pub chunk_size: u64,
    /// First wait of a shapefile export that answered `202`; attempt `n` waits `base × 2^(n−1)` (JD's
    /// `secondsToWait = 5 × 2^(attempt−1)` [C]: 5 s).
    pub export_poll_base: Duration,
    /// Give up on an export after waiting this long in total ("may take up to 30 min" [C]).
    pub export_max_wait: Duration,
}

impl JohnDeereConfig {
    /// Sandbox (`STAGE`, [A] mapping) or production by `clientEnvironment`, or everything under the
    /// context's base URL.
    pub fn from_context(ctx: &ProviderContext) -> Self {
        let (api, signin) = match &ctx.base_url {
            Some(b) => (format!("{b}/platform"), b.clone()),
            None if ctx.is_production() => (
                "https://api.deere.com/platform".to_owned(),
                SIGNIN.to_owned(),
            ),
            None => (
                "https://sandboxapi.deere.com/platform".to_owned(),
                SIGNIN.to_owned(),
            ),
        };
        JohnDeereConfig {
            api_base: api,
            token_url: ctx.token_url_or(format!("{signin}{TOKEN_PATH}")),
            auth_url: format!("{signin}/oauth2/aus78tnlaysMraFhC1t7/v1/authorize"),
            scopes: [
                "openid",
                "profile",
                "offline_access",
                "ag1",
                "ag2",
                "ag3",
                "files",
                "org1",
            ]
            .map(str::to_owned)
            .to_vec(),
            chunk_threshold: 50 * 1024 * 1024,
            chunk_size: 16 * 1024 * 1024,
            export_poll_base: Duration::from_secs(5),
            export_max_wait: Duration::from_secs(30 * 60),
        }
    }
}
