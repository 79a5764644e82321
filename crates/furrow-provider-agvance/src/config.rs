//! Hosts and endpoints ([C] hosts, [A] routes; providers.md 10).

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::ProviderContext;

/// Where the AgVance (SSI) API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgVanceConfig {
    /// Which catalogue entry this configuration serves.
    pub kind: ProviderKind,
    /// API base (no trailing slash).
    pub api_base: String,
    /// Token or login endpoint.
    pub token_url: String,
    /// OAuth authorization endpoint, where there is one.
    pub auth_url: Option<String>,
}

impl AgVanceConfig {
    /// The provider's hosts by `clientEnvironment`, or everything under the context's base URL.
    pub fn from_context(ctx: &ProviderContext) -> Self {
        Self::for_kind(ProviderKind::AgVance, ctx)
    }

    pub(crate) fn for_kind(kind: ProviderKind, ctx: &ProviderContext) -> Self {
        let prod = ctx.is_production();
        let (api, auth_host) = match &ctx.base_url {
            Some(b) => (b.clone(), b.clone()),
            None => {
                let _ = (kind, prod);
                if prod {
                    (
                        "https://api.agvance.net".to_owned(),
                        "https://api.agvance.net".to_owned(),
                    )
                } else {
                    (
                        "https://apidev.agvance.net".to_owned(),
                        "https://apidev.agvance.net".to_owned(),
                    )
                }
            }
        };
        AgVanceConfig {
            kind,
            token_url: format!("{auth_host}/api/Session"),
            auth_url: None,
            api_base: api,
        }
    }
}
