//! The authenticated client: OAuth 2.0 refresh-token grant with Basic client auth [A].

use std::sync::Arc;

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{
    AuthedClient, Capabilities, ClientAuth, HttpClient, OAuthConfig, OAuthRefresh, ProviderContext,
    RestApi, RestProvider, Result, TokenManager, TokenPlacement,
};

use crate::config::ClaasConfig;
use crate::convert::spec;
use crate::error::ClaasError;

const KIND: ProviderKind = ProviderKind::Claas;

/// What CLAAS offers through furrow: organizations and machine files (outbox); fields are not in its API.
pub(crate) const CAPABILITIES: Capabilities = Capabilities {
    fields: false,
    boundaries: false,
    ..Capabilities::FULL
};

fn field(ctx: &ProviderContext, name: &'static str) -> Result<String> {
    ctx.credential
        .get(name)
        .filter(|v| !v.is_empty())
        .cloned()
        .ok_or_else(|| ClaasError::MissingField(name).into())
}

/// The OAuth settings of the credential's app.
pub(crate) fn oauth(ctx: &ProviderContext, config: &ClaasConfig) -> Result<OAuthConfig> {
    let mut o = OAuthConfig::new(
        field(ctx, "clientKey")?,
        Some(field(ctx, "clientSecret")?),
        config.token_url.clone(),
    );
    o.client_auth = ClientAuth::Basic;
    o.auth_url = Some(config.auth_url.clone());
    o.scopes = vec!["openid".into(), "offline_access".into()];
    Ok(o)
}

pub(crate) fn build(ctx: ProviderContext, config: &ClaasConfig) -> Result<RestProvider> {
    field(&ctx, "refreshToken")?;
    let http = HttpClient::new(
        KIND,
        ctx.http.clone(),
        ctx.events.clone(),
        ctx.secret_values(KIND),
    )?;
    let tokens = TokenManager::new(
        http.clone(),
        OAuthRefresh::new(oauth(&ctx, config)?),
        ctx.secrets.clone(),
        ctx.credential.clone(),
        TokenPlacement::Bearer,
    );
    let api = RestApi {
        client: AuthedClient::new(http, Arc::new(tokens)),
        base: config.api_base.clone(),
        spec: spec(),
    };
    Ok(RestProvider::new(KIND, CAPABILITIES, api))
}
