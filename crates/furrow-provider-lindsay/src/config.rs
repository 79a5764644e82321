//! Hosts and endpoints (all [A]; providers.md 12).

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::ProviderContext;

/// Where the Lindsay FieldNET API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LindsayConfig {
    /// Which catalogue entry this configuration serves.
    pub kind: ProviderKind,
    /// API base (no trailing slash).
    pub api_base: String,
    /// Token or login endpoint.
    pub token_url: String,
    /// OAuth authorization endpoint, where there is one.
    pub auth_url: Option<String>,
}

impl LindsayConfig {
    /// The provider's hosts by `clientEnvironment`, or everything under the context's base URL.
    pub fn from_context(ctx: &ProviderContext) -> Self {
        Self::for_kind(ProviderKind::Lindsay, ctx)
    }

    pub(crate) fn for_kind(kind: ProviderKind, ctx: &ProviderContext) -> Self {
        let prod = ctx.is_production();
        let (api, auth_host) = match &ctx.base_url {
            Some(b) => (b.clone(), b.clone()),
            None => {
                let _ = (kind, prod);
                if prod {
                    (
                        "https://api.myfieldnet.com".to_owned(),
                        "https://api.myfieldnet.com".to_owned(),
                    )
                } else {
                    (
                        "https://api-stage.myfieldnet.com".to_owned(),
                        "https://api-stage.myfieldnet.com".to_owned(),
                    )
                }
            }
        };
        LindsayConfig {
            kind,
            token_url: ctx.token_url_or(format!("{auth_host}/oauth/token")),
            auth_url: Some(format!("{auth_host}/oauth/authorize")),
            api_base: format!("{api}/v2"),
        }
    }
}
