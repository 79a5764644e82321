//! Hosts and endpoints [C] (providers.md 5.1, 5.2).

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::ProviderContext;

/// Trimble's organization authorization page [C].
pub const ORG_AUTHORIZATION: &str =
    "https://www.trimbleag.com/ThirdPartyAccess/ThirdPartyAuthorizationRedirect";

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
    /// Where a grower picks the organizations to share with the app after login [C] (providers.md 5.1).
    pub org_authorization_url: String,
    /// The integrator's page Trimble sends the grower back to after sharing (`redirectionUrl`); without it
    /// the sharing link has no return address.
    pub redirection_url: Option<String>,
}

impl TrimbleConfig {
    /// The provider's hosts by `clientEnvironment`, or everything under the context's base URL.
    pub fn from_context(ctx: &ProviderContext) -> Self {
        Self::for_kind(ProviderKind::Trimble, ctx)
    }

    /// The link that lets a grower share organizations with the app:
    /// `{org_authorization_url}?clientid={client_id}&redirectionUrl={redirection_url}`.
    pub fn organization_authorization_url(&self, client_id: &str) -> String {
        let mut params = vec![("clientid", client_id)];
        if let Some(r) = &self.redirection_url {
            params.push(("redirectionUrl", r.as_str()));
        }
        // `Request::query` percent-encodes the values.
        furrow_provider::Request::get(self.org_authorization_url.clone())
            .query(&params)
            .url
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
            org_authorization_url: ORG_AUTHORIZATION.to_owned(),
            redirection_url: None,
            kind,
            token_url: ctx.token_url_or(format!("{auth_host}/oauth/token")),
            auth_url: Some(format!("{auth_host}/oauth/authorize")),
            api_base: api,
        }
    }
}
