//! The authenticated client: Auth0 refresh-token grant with the client in the body, plus the subscription key.

use std::sync::Arc;

use furrow_provider::{
    AuthedClient, Capabilities, ClientAuth, HttpClient, OAuthConfig, OAuthRefresh, ProviderContext,
    RestApi, RestProvider, Result, TokenManager, TokenPlacement, WithHeaders,
};

use crate::config::CnhiConfig;
use crate::convert::spec_for;
use crate::error::AdapterError;

/// What CNH Industrial offers through furrow.
pub(crate) const CAPABILITIES: Capabilities = Capabilities {
    webhooks: true,
    ..Capabilities::FULL
};

/// The OAuth settings of the credential's app.
pub(crate) fn oauth(ctx: &ProviderContext, config: &CnhiConfig) -> Result<OAuthConfig> {
    let kind = config.kind;
    let mut o = OAuthConfig::new(
        ctx.require(kind, "clientId")?,
        Some(ctx.require(kind, "clientSecret")?),
        config.token_url.clone(),
    );
    o.client_auth = ClientAuth::RequestBody;
    o.auth_url = config.auth_url.clone();
    o.scopes = vec!["offline_access".into()];
    let audience = if kind == furrow_credentials::Provider::CnhiFieldOps {
        "https://api-data.cnh.com/"
    } else {
        "https://ag.api.cnhind.com"
    };
    o.extra_params = vec![("audience".into(), audience.into())];
    Ok(o)
}

pub(crate) fn build(ctx: ProviderContext, config: &CnhiConfig) -> Result<RestProvider> {
    let kind = config.kind;
    if ctx
        .credential
        .get("refreshToken")
        .is_none_or(|t| t.is_empty())
    {
        return Err(AdapterError::NoRefreshToken.into());
    }
    let http = HttpClient::new(
        kind,
        ctx.http.clone(),
        ctx.events.clone(),
        ctx.secret_values(kind),
    )?;
    let tokens = TokenManager::new(
        http.clone(),
        OAuthRefresh::new(oauth(&ctx, config)?),
        ctx.secrets.clone(),
        ctx.credential.clone(),
        TokenPlacement::Bearer,
    );
    let key = ctx.require(kind, "subscriptionKey")?;
    let auth: Arc<dyn furrow_provider::RequestAuth> = Arc::new(WithHeaders::new(
        Arc::new(tokens),
        vec![("Ocp-Apim-Subscription-Key".into(), key)],
    ));
    let api = RestApi {
        client: AuthedClient::new(http, auth),
        base: config.api_base.clone(),
        spec: spec_for(kind),
    };
    Ok(RestProvider::new(kind, CAPABILITIES, api))
}
