//! The authenticated client: Valley login with an AES-encrypted password [A].

use std::sync::Arc;
use std::time::Duration;

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{
    AuthedClient, BoxFuture, Capabilities, Error, HttpClient, Issued, ProviderContext, Request,
    RequestAuth, RestApi, RestProvider, Result, Secrets, TokenManager, TokenPlacement, TokenSource,
    check_login,
};
use serde_json::{Value, json};

use crate::config::ValleyConfig;
use crate::convert::spec;
use crate::error::AdapterError;

const KIND: ProviderKind = ProviderKind::Valley;

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
    fields: false,
    boundaries: false,
    machine_files: false,
    irrigation: true,
    ..Capabilities::FULL
};

/// `base64(AES-128-CBC-PKCS7(key, iv, password))` with base64 `key` and `iv`.
pub(crate) fn encrypt_password(key_b64: &str, iv_b64: &str, password: &str) -> Result<String> {
    use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let bad = |what: &str| {
        Error::unauthenticated(
            KIND.slug(),
            format!("`{what}` is not a base64 AES-128 value"),
        )
    };
    let key = b64.decode(key_b64).map_err(|_| bad("key"))?;
    let iv = b64
        .decode(iv_b64)
        .map_err(|_| bad("initializationVector"))?;
    let enc = cbc::Encryptor::<aes::Aes128>::new_from_slices(&key, &iv).map_err(|_| bad("key"))?;
    let len = password.len();
    let mut buf = password.as_bytes().to_vec();
    buf.resize(len + 16, 0);
    let out = enc
        .encrypt_padded_mut::<Pkcs7>(&mut buf, len)
        .map_err(|_| bad("password"))?;
    Ok(b64.encode(out))
}

/// `POST /api/login` → `{token, expiresIn}`.
#[derive(Debug)]
struct Login {
    url: String,
}

impl TokenSource for Login {
    fn issue<'a>(
        &'a self,
        http: &'a HttpClient,
        current: &'a Secrets,
    ) -> BoxFuture<'a, Result<Issued>> {
        Box::pin(async move {
            let password = encrypt_password(
                need(current, "key")?,
                need(current, "initializationVector")?,
                need(current, "password")?,
            )?;
            http.redactor().add(&password);
            let body = json!({"apid": need(current, "apid")?, "username": need(current, "username")?, "password": password});
            let v: Value = check_login(
                KIND,
                http.send_raw(&Request::post(&self.url).json(&body)).await?,
                http.redactor(),
            )?
            .json(KIND)?;
            let token = text(&v, "/token")?;
            let expires_in = v
                .get("expiresIn")
                .and_then(Value::as_u64)
                .map(Duration::from_secs);
            // Leaf stores no Valley token: nothing to persist.
            Ok(Issued {
                access_token: token,
                expires_in,
                updates: Secrets::new(),
            })
        })
    }
}

pub(crate) fn build(ctx: ProviderContext, config: &ValleyConfig) -> Result<RestProvider> {
    let http = HttpClient::new(
        KIND,
        ctx.http.clone(),
        ctx.events.clone(),
        ctx.secret_values(KIND),
    )?;
    let tokens = TokenManager::new(
        http.clone(),
        Login {
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
