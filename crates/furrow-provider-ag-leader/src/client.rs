//! The authenticated client: OAuth 2.0 refresh-token grant.

use std::sync::Arc;

use furrow_provider::{
    AuthedClient, Capabilities, ClientAuth, HttpClient, OAuthConfig, OAuthRefresh, ProviderContext,
    RestApi, RestProvider, Result, TokenManager, TokenPlacement,
};

use crate::config::AgLeaderConfig;
use crate::convert::spec;
use crate::error::AdapterError;

/// What Ag Leader AgFiniti offers through furrow.
pub(crate) const CAPABILITIES: Capabilities = Capabilities {
    organizations: false,
    fields: false,
    boundaries: false,
    ..Capabilities::FULL
};

/// The OAuth settings of the credential's app.
pub(crate) fn oauth(ctx: &ProviderContext, config: &AgLeaderConfig) -> Result<OAuthConfig> {
    let kind = config.kind;
    let mut o = OAuthConfig::new(
        ctx.require(kind, "publicKey")?,
        Some(ctx.require(kind, "privateKey")?),
        config.token_url.clone(),
    );
    o.client_auth = ClientAuth::Basic;
    o.auth_url = config.auth_url.clone();
    o.scopes = vec!["read".into(), "readwrite".into()];
    Ok(o)
}

pub(crate) fn build(ctx: ProviderContext, config: &AgLeaderConfig) -> Result<RestProvider> {
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
    let auth: Arc<dyn furrow_provider::RequestAuth> = Arc::new(tokens);
    let api = RestApi {
        client: AuthedClient::new(http, auth),
        base: config.api_base.clone(),
        spec: spec(),
    };
    Ok(RestProvider::new(kind, CAPABILITIES, api))
}
