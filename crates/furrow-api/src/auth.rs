use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use furrow_model::ApiOwner;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::extract::ApiJson;
use crate::{ApiError, AppState};

const DAY: i64 = 24 * 3600;

/// The claims of an API-owner token (JHipster layout, as Leaf's): `sub` is the owner's username. furrow adds
/// `gen` (the owner's token generation: a password change ends older tokens) and `jti` (what a logout ends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The API owner's username.
    pub sub: String,
    /// Always `ROLE_USER`.
    pub auth: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// The owner's token generation when issued (0 when absent).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub r#gen: i64,
    /// Token id, for logout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Failed logins per username allowed in [`THROTTLE_WINDOW_SECS`] before each further one is refused for a
/// while.
pub(crate) const FREE_FAILURES_PER_USERNAME: i64 = 5;
/// Failed logins per client address allowed in [`THROTTLE_WINDOW_SECS`] before throttling.
pub(crate) const FREE_FAILURES_PER_ADDRESS: i64 = 20;
/// Failures older than this are forgotten.
pub(crate) const THROTTLE_WINDOW_SECS: i64 = 15 * 60;
/// Longest refusal after repeated failures.
pub(crate) const MAX_LOGIN_BLOCK_SECS: i64 = 15 * 60;

/// How long (seconds) a key is refused after its `failures`-th failure: nothing for the first `free`, then
/// 5 s, doubling each time, at most [`MAX_LOGIN_BLOCK_SECS`].
pub(crate) fn login_block_secs(failures: i64, free: i64) -> i64 {
    if failures <= free {
        return 0;
    }
    let doublings = u32::try_from((failures - free - 1).min(20)).unwrap_or(20);
    (5i64 << doublings).min(MAX_LOGIN_BLOCK_SECS)
}

/// Signs and checks API-owner tokens (HS512).
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Derives the bearer values providers send with their event callbacks.
    events: Vec<u8>,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenIssuer(<redacted>)")
    }
}

impl TokenIssuer {
    /// An issuer signing with `secret`.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            events: mac(secret, b"furrow provider events v1"),
        }
    }

    /// The bearer value a provider must send with its event callbacks for `owner_id` and `provider` (configured
    /// on the provider's side, e.g. John Deere's `authorizationHeaderValue`); stable for a secret key.
    pub fn provider_events_token(&self, owner_id: &str, provider: &str) -> String {
        use base64::Engine;
        let m = mac(&self.events, format!("{owner_id}|{provider}").as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&m[..32])
    }

    /// A token for `username` (token generation 0), valid 24 hours, or 30 days with `remember_me`.
    pub fn issue(&self, username: &str, remember_me: bool) -> String {
        self.issue_in(username, 0, remember_me)
    }

    /// A token for `username` in token generation `generation` (see [`Store::owner_token_generation`]
    /// (furrow_store::Store::owner_token_generation)), valid 24 hours, or 30 days with `remember_me`.
    pub fn issue_in(&self, username: &str, generation: i64, remember_me: bool) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ttl = if remember_me { 30 * DAY } else { DAY };
        self.sign(&Claims {
            sub: username.to_owned(),
            auth: "ROLE_USER".into(),
            iat: now,
            exp: now + ttl,
            r#gen: generation,
            jti: Some(uuid::Uuid::new_v4().simple().to_string()),
        })
    }

    /// A token with explicit issue and expiry instants (seconds since the epoch), generation 0, no id.
    pub fn issue_with(&self, username: &str, iat: i64, exp: i64) -> String {
        self.sign(&Claims {
            sub: username.to_owned(),
            auth: "ROLE_USER".into(),
            iat,
            exp,
            r#gen: 0,
            jti: None,
        })
    }

    fn sign(&self, claims: &Claims) -> String {
        // HS512 over serialisable claims cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS512), claims, &self.encoding)
            .unwrap_or_default()
    }

    /// Checks signature, algorithm and expiry; returns the claims.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS512);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .ok()
            .map(|d| d.claims)
    }
}

/// The authenticated API owner of a request (from `Authorization: Bearer`).
#[derive(Debug, Clone)]
pub(crate) struct Owner(pub(crate) ApiOwner);

/// The client's address, when the server was started with connect info (`furrow-server` is; a router driven
/// without a socket has none). From a trusted reverse proxy ([`AppState::with_trusted_proxies`]), the last
/// `X-Forwarded-For` address that is not itself a trusted proxy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr(pub(crate) Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip());
        let Some(peer) = peer else {
            return Ok(ClientAddr(None));
        };
        if !state.trusted_proxies.contains(&peer) {
            return Ok(ClientAddr(Some(peer)));
        }
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
            .collect::<Vec<_>>();
        let client = forwarded
            .into_iter()
            .rev()
            .find(|a| !state.trusted_proxies.contains(a))
            .unwrap_or(peer);
        Ok(ClientAddr(Some(client)))
    }
}

/// The bearer token of a request.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// The owner and claims of a request's token: signed by us, not expired, of the owner's current token
/// generation and not logged out.
async fn session(headers: &HeaderMap, state: &AppState) -> Result<(ApiOwner, Claims), ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    let claims = state
        .tokens
        .verify(token)
        .ok_or_else(ApiError::unauthorized)?;
    let owner = state
        .store
        .owner_for_token(&claims.sub, claims.r#gen, claims.jti.as_deref())
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok((owner, claims))
}

impl FromRequestParts<AppState> for Owner {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Owner(session(&parts.headers, state).await?.0))
    }
}

/// `POST /api/authenticate` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AuthenticateRequest {
    username: String,
    password: String,
    /// `"true"` for a 30-day token; also accepts a JSON boolean.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    remember_me: Option<serde_json::Value>,
}

/// `POST /api/authenticate` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TokenResponse {
    id_token: String,
}

/// Exchanges an API owner's username and password for a token.
#[utoipa::path(post, operation_id = "authAuthenticate", path = "/api/authenticate", tag = "auth", request_body = AuthenticateRequest,
    responses(
        (status = 200, body = TokenResponse, description = "A JWT for `Authorization: Bearer`"),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, body = crate::error::Problem, description = "too many failed logins for this username or address (tooManyRequests)", headers(("Retry-After" = i64, description = "seconds"))),
    ))]
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    ApiJson(req): ApiJson<AuthenticateRequest>,
) -> Result<Response, ApiError> {
    let remember = match &req.remember_me {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(serde_json::Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(_) => {
            return Err(ApiError::field(
                "rememberMe",
                "must be \"true\" or \"false\"",
            ));
        }
    };
    // Throttled by username and by client address before any password is checked: a refused attempt costs
    // no argon2 work and tells nothing.
    let user_key = format!("user:{}", req.username.trim().to_lowercase());
    let addr_key = peer.map(|ip| format!("addr:{ip}"));
    let mut keys: Vec<(&str, i64)> = vec![(user_key.as_str(), FREE_FAILURES_PER_USERNAME)];
    if let Some(a) = &addr_key {
        keys.push((a.as_str(), FREE_FAILURES_PER_ADDRESS));
    }
    let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
    let now = furrow_model::now_micros();
    let blocked_until = state
        .store
        .login_throttles(&names)
        .await?
        .iter()
        .map(|t| t.blocked_until)
        .max()
        .unwrap_or(0);
    if blocked_until > now {
        return Ok(too_many_requests(blocked_until - now));
    }
    match state
        .store
        .verify_owner(&req.username, &req.password)
        .await?
    {
        Some(owner) => {
            state.store.clear_login_failures(&user_key).await?;
            let generation = state.store.owner_token_generation(&owner.id).await?;
            Ok(axum::Json(TokenResponse {
                id_token: state.tokens.issue_in(&owner.username, generation, remember),
            })
            .into_response())
        }
        None => {
            // The block counts from now, after the (slow) check.
            let now = furrow_model::now_micros();
            for (key, free) in keys {
                state
                    .store
                    .record_login_failure(key, now, THROTTLE_WINDOW_SECS * 1_000_000, |n| {
                        login_block_secs(n, free) * 1_000_000
                    })
                    .await?;
            }
            Err(ApiError::unauthorized())
        }
    }
}

/// `429` with `Retry-After` (whole seconds, rounded up).
fn too_many_requests(wait_micros: i64) -> Response {
    let secs = (wait_micros + 999_999) / 1_000_000;
    let mut resp = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too many failed logins; try again later",
        Some("tooManyRequests"),
    )
    .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    resp
}

/// `POST /api/logout` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogoutQuery {
    /// `true`: end every token of this API owner, not only the one presented.
    #[serde(default)]
    everywhere: bool,
}

/// Ends the presented token (or, with `everywhere=true`, every token of its API owner).
#[utoipa::path(post, operation_id = "authLogout", path = "/api/logout", tag = "auth", params(LogoutQuery),
    responses(
        (status = 204, description = "The token no longer works"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    Query(q): Query<LogoutQuery>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let (owner, claims) = session(&headers, &state).await?;
    match claims.jti.as_deref() {
        Some(jti) if !q.everywhere => {
            state
                .store
                .revoke_owner_token(&owner.id, jti, claims.exp.saturating_mul(1_000_000))
                .await?
        }
        // A token without an id can only be ended with all the others.
        _ => state.store.end_owner_tokens(&owner.id).await?,
    }
    Ok(StatusCode::NO_CONTENT)
}

fn mac(key: &[u8], message: &[u8]) -> Vec<u8> {
    use hmac::Mac;
    let mut m =
        <hmac::Hmac<sha2::Sha512> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(message);
    m.finalize().into_bytes().to_vec()
}
