//! OAuth 2.0 through the `oauth2` crate: the refresh-token grant as a [`TokenSource`], and the
//! authorization-URL and code-exchange helpers (with PKCE where the provider supports it).
//!
//! Every token-endpoint exchange goes through furrow's [`HttpClient`] (retries, event log, redaction): the
//! `oauth2` crate is given a transport closure instead of its own reqwest client.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};

use crate::auth::{Issued, TokenSource};
use crate::error::{Error, Result};
use crate::provider::{BoxFuture, Secrets};
use crate::transport::{HttpClient, Request, status_error};

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `Authorization: Basic base64(id:secret)` (John Deere, Climate, Trimble, Ag Leader).
    Basic,
    /// `client_id` and `client_secret` in the form body (Auth0: CNH).
    RequestBody,
}

/// One provider app's OAuth 2.0 settings.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// Client id (John Deere "client key", Ag Leader "public key").
    pub client_id: String,
    /// Client secret (Ag Leader "private key").
    pub client_secret: Option<String>,
    /// Authorization endpoint (browser).
    pub auth_url: Option<String>,
    /// Token endpoint.
    pub token_url: String,
    /// Client authentication at the token endpoint.
    pub client_auth: ClientAuth,
    /// Redirect URI registered with the provider.
    pub redirect_uri: Option<String>,
    /// Scopes to request.
    pub scopes: Vec<String>,
    /// Send the scopes on refresh too (John Deere does).
    pub scopes_on_refresh: bool,
    /// Extra parameters on every token request (`audience`, `redirect_uri` on refresh, ...).
    pub extra_params: Vec<(String, String)>,
}

impl OAuthConfig {
    /// Settings with only the endpoints and the client.
    pub fn new(client_id: String, client_secret: Option<String>, token_url: String) -> Self {
        OAuthConfig {
            client_id,
            client_secret,
            auth_url: None,
            token_url,
            client_auth: ClientAuth::Basic,
            redirect_uri: None,
            scopes: Vec::new(),
            scopes_on_refresh: false,
            extra_params: Vec::new(),
        }
    }
}

fn config_error(http: &HttpClient, what: &str) -> Error {
    Error::protocol(
        http.provider().slug(),
        format!("bad OAuth configuration: {what}"),
    )
}

/// The `oauth2` transport: furrow's client, so every token call is retried, recorded and redacted.
async fn transport(http: HttpClient, req: oauth2::HttpRequest) -> Result<oauth2::HttpResponse> {
    let (parts, body) = req.into_parts();
    let mut r = Request::new(parts.method, parts.uri.to_string());
    for (n, v) in &parts.headers {
        r.set_header(n.as_str(), v.to_str().unwrap_or_default());
    }
    r.body = Some(Bytes::from(body));
    let resp = http.send_raw(&r).await?;
    let is_oauth_error = resp.status.is_client_error()
        && serde_json::from_slice::<serde_json::Value>(&resp.body)
            .ok()
            .is_some_and(|v| v.get("error").is_some_and(|e| e.is_string()));
    if !resp.status.is_success() && !is_oauth_error {
        // Not an RFC 6749 error body: classify by status (400/401 from a token endpoint = grant rejected).
        let err = match resp.status.as_u16() {
            400 | 401 => Error::unauthenticated(
                http.provider().slug(),
                format!("token endpoint answered HTTP {}", resp.status.as_u16()),
            ),
            _ => status_error(http.provider(), &resp, http.redactor()),
        };
        return Err(err);
    }
    let mut out = http::Response::builder().status(resp.status);
    if let Some(h) = out.headers_mut() {
        *h = resp.headers.clone();
        // Some token endpoints answer `application/json;charset=UTF-8` or no type at all.
        h.insert(
            HeaderName::from_static("content-type"),
            HeaderValue::from_static("application/json"),
        );
    }
    out.body(resp.body.to_vec())
        .map_err(|e| Error::protocol(http.provider().slug(), e.to_string()))
}

fn map_token_error(
    http: &HttpClient,
    err: RequestTokenError<Error, oauth2::StandardErrorResponse<BasicErrorResponseType>>,
) -> Error {
    let slug = http.provider().slug();
    match err {
        RequestTokenError::ServerResponse(e) => {
            let msg = format!(
                "{}{}",
                e.error(),
                e.error_description()
                    .map(|d| format!(": {}", http.redactor().text(d)))
                    .unwrap_or_default()
            );
            match e.error() {
                BasicErrorResponseType::InvalidScope => Error::limited(slug, msg),
                BasicErrorResponseType::InvalidGrant
                | BasicErrorResponseType::InvalidClient
                | BasicErrorResponseType::UnauthorizedClient => Error::unauthenticated(slug, msg),
                _ => Error::protocol(slug, msg),
            }
        }
        RequestTokenError::Request(e) => e,
        // Never quote the body: it may hold tokens.
        RequestTokenError::Parse(e, _) => {
            Error::protocol(slug, format!("unexpected token response: {e}"))
        }
        RequestTokenError::Other(s) => Error::protocol(slug, s),
    }
}

fn issued_from(token: &oauth2::basic::BasicTokenResponse, old_refresh: Option<&str>) -> Issued {
    let access = token.access_token().secret().clone();
    let mut updates = Secrets::new();
    if let Some(new) = token.refresh_token().map(|t| t.secret())
        && Some(new.as_str()) != old_refresh
    {
        updates.insert("refreshToken".to_owned(), new.clone());
    }
    updates.insert("accessToken".to_owned(), access.clone());
    Issued {
        access_token: access,
        expires_in: token.expires_in(),
        updates,
    }
}

/// The refresh-token grant as a [`TokenSource`]: reads `refreshToken` from the credential; a rotated refresh
/// token is returned in the updates (persisted before use by the [`crate::TokenManager`]).
#[derive(Debug, Clone)]
pub struct OAuthRefresh {
    config: OAuthConfig,
}

impl OAuthRefresh {
    /// A refresh grant with these settings.
    pub fn new(config: OAuthConfig) -> Self {
        OAuthRefresh { config }
    }
}

impl TokenSource for OAuthRefresh {
    fn issue<'a>(
        &'a self,
        http: &'a HttpClient,
        current: &'a Secrets,
    ) -> BoxFuture<'a, Result<Issued>> {
        Box::pin(async move {
            let c = &self.config;
            let refresh = current.get("refreshToken").ok_or_else(|| {
                Error::unauthenticated(http.provider().slug(), "credential has no `refreshToken`")
            })?;
            let mut client = BasicClient::new(ClientId::new(c.client_id.clone()))
                .set_token_uri(
                    TokenUrl::new(c.token_url.clone())
                        .map_err(|_| config_error(http, "token URL"))?,
                )
                .set_auth_type(match c.client_auth {
                    ClientAuth::Basic => AuthType::BasicAuth,
                    ClientAuth::RequestBody => AuthType::RequestBody,
                });
            if let Some(s) = &c.client_secret {
                client = client.set_client_secret(ClientSecret::new(s.clone()));
            }
            let rt = RefreshToken::new(refresh.clone());
            let mut req = client.exchange_refresh_token(&rt);
            if c.scopes_on_refresh {
                req = req.add_scopes(c.scopes.iter().cloned().map(Scope::new));
            }
            for (k, v) in &c.extra_params {
                req = req.add_extra_param(k.clone(), v.clone());
            }
            let send = |r: oauth2::HttpRequest| transport(http.clone(), r);
            let token = req
                .request_async(&send)
                .await
                .map_err(|e| map_token_error(http, e))?;
            Ok(issued_from(&token, Some(refresh)))
        })
    }
}

/// Where to send the grower to grant access, and what to keep until the redirect comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The URL to open in the grower's browser.
    pub url: String,
    /// The `state` value; check it on the redirect.
    pub state: String,
    /// The PKCE verifier to send with the code exchange, when PKCE is used.
    pub pkce_verifier: Option<String>,
}

/// Builds the authorization URL (with a PKCE S256 challenge when `pkce`) and `extra` query parameters.
pub fn authorization_url(
    config: &OAuthConfig,
    pkce: bool,
    extra: &[(&str, &str)],
) -> Result<AuthorizationRequest> {
    let bad = |what: &str| Error::protocol("oauth", format!("bad OAuth configuration: {what}"));
    let auth_url = config
        .auth_url
        .clone()
        .ok_or_else(|| bad("no authorization URL"))?;
    let mut client = BasicClient::new(ClientId::new(config.client_id.clone()))
        .set_auth_uri(AuthUrl::new(auth_url).map_err(|_| bad("authorization URL"))?);
    if let Some(r) = &config.redirect_uri {
        client =
            client.set_redirect_uri(RedirectUrl::new(r.clone()).map_err(|_| bad("redirect URI"))?);
    }
    let mut req = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(config.scopes.iter().cloned().map(Scope::new));
    for (k, v) in extra {
        req = req.add_extra_param(*k, *v);
    }
    let mut verifier = None;
    if pkce {
        let (challenge, v) = PkceCodeChallenge::new_random_sha256();
        req = req.set_pkce_challenge(challenge);
        verifier = Some(v.secret().clone());
    }
    let (url, state) = req.url();
    Ok(AuthorizationRequest {
        url: url.to_string(),
        state: state.secret().clone(),
        pkce_verifier: verifier,
    })
}

/// Exchanges an authorization code for tokens; `updates` holds the grower's `refreshToken` to store.
pub async fn exchange_code(
    http: &HttpClient,
    config: &OAuthConfig,
    code: &str,
    pkce_verifier: Option<&str>,
) -> Result<Issued> {
    let mut client = BasicClient::new(ClientId::new(config.client_id.clone()))
        .set_token_uri(
            TokenUrl::new(config.token_url.clone()).map_err(|_| config_error(http, "token URL"))?,
        )
        .set_auth_type(match config.client_auth {
            ClientAuth::Basic => AuthType::BasicAuth,
            ClientAuth::RequestBody => AuthType::RequestBody,
        });
    if let Some(s) = &config.client_secret {
        client = client.set_client_secret(ClientSecret::new(s.clone()));
    }
    if let Some(r) = &config.redirect_uri {
        client = client.set_redirect_uri(
            RedirectUrl::new(r.clone()).map_err(|_| config_error(http, "redirect URI"))?,
        );
    }
    let mut req = client.exchange_code(AuthorizationCode::new(code.to_owned()));
    if let Some(v) = pkce_verifier {
        req = req.set_pkce_verifier(PkceCodeVerifier::new(v.to_owned()));
    }
    for (k, v) in &config.extra_params {
        req = req.add_extra_param(k.clone(), v.clone());
    }
    let send = |r: oauth2::HttpRequest| transport(http.clone(), r);
    let token = req
        .request_async(&send)
        .await
        .map_err(|e| map_token_error(http, e))?;
    Ok(issued_from(&token, None))
}

/// Seconds to a [`Duration`], for hand-written token responses.
pub fn seconds(secs: Option<u64>) -> Option<Duration> {
    secs.map(Duration::from_secs)
}
