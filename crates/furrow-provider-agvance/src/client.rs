//! The authenticated client: AgVance session login [A].

use std::sync::Arc;
use std::time::Duration;

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{
    AuthedClient, BoxFuture, Capabilities, Error, HttpClient, Issued, ProviderContext, Request,
    RequestAuth, RestApi, RestProvider, Result, Secrets, TokenManager, TokenPlacement, TokenSource,
    check_login,
};
use serde_json::{Value, json};

use crate::config::AgVanceConfig;
use crate::convert::spec;
use crate::error::AdapterError;

const KIND: ProviderKind = ProviderKind::AgVance;

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
    machine_files: false,
    ..Capabilities::FULL
};

/// `POST /api/Session` (header `ApiKey`) with the Agvance login → `{sessionId}`.
#[derive(Debug)]
struct Session {
    url: String,
}

impl TokenSource for Session {
    fn issue<'a>(
        &'a self,
        http: &'a HttpClient,
        current: &'a Secrets,
    ) -> BoxFuture<'a, Result<Issued>> {
        Box::pin(async move {
            let body = json!({
                "username": need(current, "username")?,
                "password": need(current, "password")?,
                "databaseId": need(current, "databaseId")?,
            });
            let req = Request::post(&self.url)
                .header("ApiKey", need(current, "apiKey")?)
                .json(&body);
            let v: Value =
                check_login(KIND, http.send_raw(&req).await?, http.redactor())?.json(KIND)?;
            let session = text(&v, "/sessionId")?;
            let mut updates = Secrets::new();
            updates.insert("sessionId".into(), session.clone());
            // Lifetime unknown [A]: kept until the API answers 401, then renewed once.
            let _: Option<Duration> = None;
            Ok(Issued {
                access_token: session,
                expires_in: None,
                updates,
            })
        })
    }
}

pub(crate) fn build(ctx: ProviderContext, config: &AgVanceConfig) -> Result<RestProvider> {
    let http = HttpClient::new(
        KIND,
        ctx.http.clone(),
        ctx.events.clone(),
        ctx.secret_values(KIND),
    )?;
    let key = need(&ctx.credential, "apiKey")?.to_owned();
    let tokens = TokenManager::new(
        http.clone(),
        Session {
            url: config.token_url.clone(),
        },
        ctx.secrets.clone(),
        ctx.credential.clone(),
        TokenPlacement::Header("SessionID"),
    );
    let auth: Arc<dyn RequestAuth> = Arc::new(furrow_provider::WithHeaders::new(
        Arc::new(tokens),
        vec![("ApiKey".into(), key)],
    ));
    let api = RestApi {
        client: AuthedClient::new(http, auth),
        base: config.api_base.clone(),
        spec: spec(),
    };
    Ok(RestProvider::new(KIND, CAPABILITIES, api))
}
