//! Hosts and endpoints (all [A]; providers.md 13).

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::ProviderContext;

/// Where the Valley (Valmont) API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValleyConfig {
    /// Which catalogue entry this configuration serves.
    pub kind: ProviderKind,
    /// API base (no trailing slash).
    pub api_base: String,
    /// Token or login endpoint.
    pub token_url: String,
    /// OAuth authorization endpoint, where there is one.
    pub auth_url: Option<String>,
}

impl ValleyConfig {
    /// The provider's hosts by `clientEnvironment`, or everything under the context's base URL.
    pub fn from_context(ctx: &ProviderContext) -> Self {
        Self::for_kind(ProviderKind::Valley, ctx)
    }

    pub(crate) fn for_kind(kind: ProviderKind, ctx: &ProviderContext) -> Self {
        let prod = ctx.is_production();
        let (api, auth_host) = match &ctx.base_url {
            Some(b) => (b.clone(), b.clone()),
            None => {
                let _ = (kind, prod);
                (
                    "https://api.valley365.com".to_owned(),
                    "https://api.valley365.com".to_owned(),
                )
            }
        };
        ValleyConfig {
            kind,
            token_url: format!("{auth_host}/api/login"),
            auth_url: None,
            api_base: api,
        }
    }
}
