//! The authenticated client: Stara's token form.

use std::sync::Arc;
use std::time::Duration;

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{
    AuthedClient, BoxFuture, Capabilities, Error, HttpClient, Issued, ProviderContext, Request,
    RequestAuth, RestApi, RestProvider, Result, Secrets, TokenManager, TokenPlacement, TokenSource,
    check_login,
};
use serde_json::{Value, json};

use crate::config::StaraConfig;
use crate::convert::spec;
use crate::error::AdapterError;

const KIND: ProviderKind = ProviderKind::Stara;

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

/// `POST /token` with `refresh_Token` and `apiKey` → `{X_access_token, refresh_Token}`.
#[derive(Debug)]
struct StaraToken {
    url: String,
}

impl TokenSource for StaraToken {
    fn issue<'a>(
        &'a self,
        http: &'a HttpClient,
        current: &'a Secrets,
    ) -> BoxFuture<'a, Result<Issued>> {
        Box::pin(async move {
            let rt = need(current, "refreshToken")?;
            let key = need(current, "apiKey")?;
            let req = Request::post(&self.url).form(&[("refresh_Token", rt), ("apiKey", key)]);
            let v: Value =
                check_login(KIND, http.send_raw(&req).await?, http.redactor())?.json(KIND)?;
            let access = text(&v, "/X_access_token")?;
            let mut updates = Secrets::new();
            updates.insert("accessToken".into(), access.clone());
            if let Ok(new) = text(&v, "/refresh_Token")
                && new != rt
            {
                updates.insert("refreshToken".into(), new);
            }
            let expires_in = v
                .get("expires_in")
                .and_then(Value::as_u64)
                .map(Duration::from_secs);
            let _ = json!(null);
            Ok(Issued {
                access_token: access,
                expires_in,
                updates,
            })
        })
    }
}

pub(crate) fn build(ctx: ProviderContext, config: &StaraConfig) -> Result<RestProvider> {
    let http = HttpClient::new(
        KIND,
        ctx.http.clone(),
        ctx.events.clone(),
        ctx.secret_values(KIND),
    )?;
    need(&ctx.credential, "refreshToken")?;
    let tokens = TokenManager::new(
        http.clone(),
        StaraToken {
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
