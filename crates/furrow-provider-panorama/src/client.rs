//! The authenticated client: AWS Cognito `InitiateAuth`.

use std::sync::Arc;
use std::time::Duration;

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{
    AuthedClient, BoxFuture, Capabilities, Error, HttpClient, Issued, ProviderContext, Request,
    RequestAuth, RestApi, RestProvider, Result, Secrets, TokenManager, TokenPlacement, TokenSource,
    check_login,
};
use serde_json::{Value, json};

use crate::config::PanoramaConfig;
use crate::convert::spec;
use crate::error::AdapterError;

const KIND: ProviderKind = ProviderKind::Panorama;

fn need<'a>(s: &'a Secrets, name: &str) -> Result<&'a str> {
    s.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::unauthenticated(KIND.slug(), format!("credential has no `{name}`")))
}

fn text(v: &Value, pointer: &'static str) -> Result<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| AdapterError::NoToken(pointer).into())
}

/// What this provider offers through furrow.
pub(crate) const CAPABILITIES: Capabilities = Capabilities {
    organizations: false,
    ..Capabilities::FULL
};

/// Cognito `InitiateAuth`: refresh first, then the partner login.
#[derive(Debug)]
struct Cognito {
    url: String,
}

impl Cognito {
    async fn initiate(&self, http: &HttpClient, body: Value) -> Result<Option<Value>> {
        let req = Request::post(&self.url)
            .json(&body)
            .header("Content-Type", "application/x-amz-json-1.1")
            .header(
                "X-Amz-Target",
                "AWSCognitoIdentityProviderService.InitiateAuth",
            );
        let resp = http.send_raw(&req).await?;
        if resp.status.as_u16() == 400 {
            let v: Value = resp.json(KIND).unwrap_or_default();
            if v["__type"] == "NotAuthorizedException" {
                return Ok(None);
            }
        }
        Ok(Some(check_login(KIND, resp, http.redactor())?.json(KIND)?))
    }
}

impl TokenSource for Cognito {
    fn issue<'a>(
        &'a self,
        http: &'a HttpClient,
        current: &'a Secrets,
    ) -> BoxFuture<'a, Result<Issued>> {
        Box::pin(async move {
            let client = need(current, "clientId")?;
            let mut answer = None;
            if let Ok(rt) = need(current, "refreshToken") {
                let body = json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client, "AuthParameters": {"REFRESH_TOKEN": rt}});
                answer = self.initiate(http, body).await?;
            }
            if answer.is_none() {
                let body = json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
                                  "AuthParameters": {"USERNAME": need(current, "username")?, "PASSWORD": need(current, "password")?}});
                answer = self.initiate(http, body).await?;
            }
            let v = answer
                .ok_or_else(|| Error::unauthenticated(KIND.slug(), "NotAuthorizedException"))?;
            let access = text(&v, "/AuthenticationResult/AccessToken")?;
            let mut updates = Secrets::new();
            updates.insert("accessToken".into(), access.clone());
            if let Ok(rt) = text(&v, "/AuthenticationResult/RefreshToken") {
                updates.insert("refreshToken".into(), rt);
            }
            let expires_in = v
                .pointer("/AuthenticationResult/ExpiresIn")
                .and_then(Value::as_u64)
                .map(Duration::from_secs);
            Ok(Issued {
                access_token: access,
                expires_in,
                updates,
            })
        })
    }
}

pub(crate) fn build(ctx: ProviderContext, config: &PanoramaConfig) -> Result<RestProvider> {
    let http = HttpClient::new(
        KIND,
        ctx.http.clone(),
        ctx.events.clone(),
        ctx.secret_values(KIND),
    )?;
    let tokens = TokenManager::new(
        http.clone(),
        Cognito {
            url: config.token_url.clone(),
        },
        ctx.secrets.clone(),
        ctx.credential.clone(),
        TokenPlacement::Bearer,
    );
    let auth: Arc<dyn RequestAuth> = Arc::new(tokens);
    let api = RestApi {
        client: AuthedClient::new(http, auth),
        base: config.api_base.clone(),
        spec: spec(),
    };
    Ok(RestProvider::new(KIND, CAPABILITIES, api))
}
