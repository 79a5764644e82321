use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use furrow_model::ApiOwner;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::extract::ApiJson;
use crate::{ApiError, AppState};

const DAY: i64 = 24 * 3600;

/// The claims of an API-owner token (JHipster layout, as Leaf's): `sub` is the owner's username.
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

    /// A token for `username`, valid 24 hours, or 30 days with `remember_me`.
    pub fn issue(&self, username: &str, remember_me: bool) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ttl = if remember_me { 30 * DAY } else { DAY };
        self.issue_with(username, now, now + ttl)
    }

    /// A token with explicit issue and expiry instants (seconds since the epoch).
    pub fn issue_with(&self, username: &str, iat: i64, exp: i64) -> String {
        let claims = Claims {
            sub: username.to_owned(),
            auth: "ROLE_USER".into(),
            iat,
            exp,
        };
        // HS512 over serialisable claims cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &self.encoding)
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

impl FromRequestParts<AppState> for Owner {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let token = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        let claims = state
            .tokens
            .verify(token)
            .ok_or_else(ApiError::unauthorized)?;
        let owner = state
            .store
            .owner_by_username(&claims.sub)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Owner(owner))
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
#[utoipa::path(post, path = "/api/authenticate", tag = "auth", request_body = AuthenticateRequest,
    responses(
        (status = 200, body = TokenResponse, description = "A JWT for `Authorization: Bearer`"),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<AuthenticateRequest>,
) -> Result<axum::Json<TokenResponse>, ApiError> {
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
    let owner = state
        .store
        .verify_owner(&req.username, &req.password)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(axum::Json(TokenResponse {
        id_token: state.tokens.issue(&owner.username, remember),
    }))
}

fn mac(key: &[u8], message: &[u8]) -> Vec<u8> {
    use hmac::Mac;
    let mut m =
        <hmac::Hmac<sha2::Sha512> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(message);
    m.finalize().into_bytes().to_vec()
}
