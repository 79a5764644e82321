//! Hosts and endpoints [C] (providers.md 1.1, 1.2).

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
            token_url: format!("{signin}{TOKEN_PATH}"),
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
        }
    }
}
