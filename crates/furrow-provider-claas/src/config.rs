//! Hosts and endpoints. All assumed [A]: CLAAS publishes none of them.

use furrow_provider::ProviderContext;

/// Where the CLAAS API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaasConfig {
    /// API base (no trailing slash).
    pub api_base: String,
    /// OAuth token endpoint.
    pub token_url: String,
    /// OAuth authorization endpoint (for [`furrow_provider::authorization_url`]).
    pub auth_url: String,
}

impl ClaasConfig {
    /// Production or stage hosts by `clientEnvironment`, or everything under the context's base URL.
    pub fn from_context(ctx: &ProviderContext) -> Self {
        let base = match &ctx.base_url {
            Some(b) => b.clone(),
            None if ctx.is_production() => "https://api.claas.com".to_owned(),
            None => "https://api-stage.claas.com".to_owned(),
        };
        ClaasConfig {
            token_url: ctx.token_url_or(format!("{base}/oauth/token")),
            auth_url: format!("{base}/oauth/authorize"),
            api_base: base,
        }
    }
}
