//! Hosts and endpoints ([R] host, [A] paths; providers.md 8).

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::ProviderContext;

/// Where the Stara Telemetria API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaraConfig {
    /// Which catalogue entry this configuration serves.
    pub kind: ProviderKind,
    /// API base (no trailing slash).
    pub api_base: String,
    /// Token or login endpoint.
    pub token_url: String,
    /// OAuth authorization endpoint, where there is one.
    pub auth_url: Option<String>,
}

impl StaraConfig {
    /// The provider's hosts by `clientEnvironment`, or everything under the context's base URL.
    pub fn from_context(ctx: &ProviderContext) -> Self {
        Self::for_kind(ProviderKind::Stara, ctx)
    }

    pub(crate) fn for_kind(kind: ProviderKind, ctx: &ProviderContext) -> Self {
        let prod = ctx.is_production();
        let (api, auth_host) = match &ctx.base_url {
            Some(b) => (b.clone(), b.clone()),
            None => {
                let _ = (kind, prod);
                (
                    "https://v2apitelemetria.telemetriastara.com.br".to_owned(),
                    "https://v2apitelemetria.telemetriastara.com.br".to_owned(),
                )
            }
        };
        StaraConfig {
            kind,
            token_url: format!("{auth_host}/token"),
            auth_url: None,
            api_base: api,
        }
    }
}
