//! Hosts and endpoints ([C] auth host, [R] FieldOps host, [A] legacy paths; providers.md 4).

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::ProviderContext;

/// Where the CNH Industrial API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CnhiConfig {
    /// Which catalogue entry this configuration serves.
    pub kind: ProviderKind,
    /// API base (no trailing slash).
    pub api_base: String,
    /// Token or login endpoint.
    pub token_url: String,
    /// OAuth authorization endpoint, where there is one.
    pub auth_url: Option<String>,
}

impl CnhiConfig {
    /// The provider's hosts by `clientEnvironment`, or everything under the context's base URL.
    pub fn from_context(ctx: &ProviderContext) -> Self {
        Self::for_kind(ProviderKind::Cnhi, ctx)
    }

    pub(crate) fn for_kind(kind: ProviderKind, ctx: &ProviderContext) -> Self {
        let prod = ctx.is_production();
        let (api, auth_host) = match &ctx.base_url {
            Some(b) => (b.clone(), b.clone()),
            None => {
                let _ = (kind, prod);
                match (kind, prod) {
                    (ProviderKind::CnhiFieldOps, true) => (
                        "https://api-data.cnh.com".to_owned(),
                        "https://identity.cnhind.com".to_owned(),
                    ),
                    (ProviderKind::CnhiFieldOps, false) => (
                        "https://stg.api-data.cnh.com".to_owned(),
                        "https://stg.identity.cnhind.com".to_owned(),
                    ),
                    (_, true) => (
                        "https://ag.api.cnhind.com".to_owned(),
                        "https://identity.cnhind.com".to_owned(),
                    ),
                    (_, false) => (
                        "https://stg.api.cnhind.com".to_owned(),
                        "https://stg.identity.cnhind.com".to_owned(),
                    ),
                }
            }
        };
        CnhiConfig {
            kind,
            token_url: ctx.token_url_or(format!("{auth_host}/oauth/token")),
            auth_url: Some(format!("{auth_host}/authorize")),
            api_base: api,
        }
    }
}
