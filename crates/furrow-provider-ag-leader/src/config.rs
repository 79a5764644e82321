//! Hosts and endpoints ([R] token endpoint, [A] data paths; providers.md 6).

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::ProviderContext;

/// Where the Ag Leader AgFiniti API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgLeaderConfig {
    /// Which catalogue entry this configuration serves.
    pub kind: ProviderKind,
    /// API base (no trailing slash).
    pub api_base: String,
    /// Token or login endpoint.
    pub token_url: String,
    /// OAuth authorization endpoint, where there is one.
    pub auth_url: Option<String>,
}

impl AgLeaderConfig {
    /// The provider's hosts by `clientEnvironment`, or everything under the context's base URL.
    pub fn from_context(ctx: &ProviderContext) -> Self {
        Self::for_kind(ProviderKind::AgLeader, ctx)
    }

    pub(crate) fn for_kind(kind: ProviderKind, ctx: &ProviderContext) -> Self {
        let prod = ctx.is_production();
        let (api, auth_host) = match &ctx.base_url {
            Some(b) => (b.clone(), b.clone()),
            None => {
                let _ = (kind, prod);
                (
                    "https://www.agfiniti.com".to_owned(),
                    "https://www.agfiniti.com".to_owned(),
                )
            }
        };
        AgLeaderConfig {
            kind,
            token_url: ctx.token_url_or(format!("{auth_host}/api/token")),
            auth_url: Some(format!("{auth_host}/Account/Authorize")),
            api_base: api,
        }
    }
}
