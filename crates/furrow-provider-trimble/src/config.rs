//! Hosts and endpoints [C] (providers.md 5.1, 5.2).

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::ProviderContext;

/// Where the Trimble Agriculture API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrimbleConfig {
    /// Which catalogue entry this configuration serves.
    pub kind: ProviderKind,
    /// API base (no trailing slash).
    pub api_base: String,
    /// Token or login endpoint.
    pub token_url: String,
    /// OAuth authorization endpoint, where there is one.
    pub auth_url: Option<String>,
}

impl TrimbleConfig {
    /// The provider's hosts by `clientEnvironment`, or everything under the context's base URL.
    pub fn from_context(ctx: &ProviderContext) -> Self {
        Self::for_kind(ProviderKind::Trimble, ctx)
    }

    pub(crate) fn for_kind(kind: ProviderKind, ctx: &ProviderContext) -> Self {
        let prod = ctx.is_production();
        let (api, auth_host) = match &ctx.base_url {
            Some(b) => (b.clone(), b.clone()),
            None => {
                let _ = (kind, prod);
                (
                    "https://cloud.api.trimble.com/Trimble-Ag-Software/externalApi/3.0".to_owned(),
                    "https://id.trimble.com".to_owned(),
                )
            }
        };
        TrimbleConfig {
            kind,
            token_url: format!("{auth_host}/oauth/token"),
            auth_url: Some(format!("{auth_host}/oauth/authorize")),
            api_base: api,
        }
    }
}
