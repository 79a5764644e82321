//! Non-OAuth logins: Cognito `InitiateAuth` (Panorama), Stara's token form, Sentera sessions and GraphQL,
//! AgVance sessions, Valley's AES-encrypted password login.

use std::collections::HashMap;
use std::sync::Arc;

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};

use crate::common::{self, error, json_status, ok_json};
use crate::providers::SINGLE_ORG;
use crate::seed::rfc3339;
use crate::state::SimState;

type St = State<Arc<SimState>>;

/// `POST /` with `X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth`.
async fn cognito(State(s): St, h: HeaderMap, body: Bytes) -> Response {
    let not_authorized = || {
        json_status(
            StatusCode::BAD_REQUEST,
            json!({"__type": "NotAuthorizedException", "message": "Incorrect username or password."}),
        )
    };
    if h.get("x-amz-target").and_then(|v| v.to_str().ok())
        != Some("AWSCognitoIdentityProviderService.InitiateAuth")
    {
        return json_status(
            StatusCode::BAD_REQUEST,
            json!({"__type": "UnknownOperationException"}),
        );
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    if v["ClientId"] != json!(s.app.client_id) {
        return json_status(
            StatusCode::BAD_REQUEST,
            json!({"__type": "ResourceNotFoundException"}),
        );
    }
    let p = &v["AuthParameters"];
    let life = s.lifetime();
    let result = match v["AuthFlow"].as_str() {
        Some("REFRESH_TOKEN_AUTH") => match s.grants.refresh(
            p["REFRESH_TOKEN"].as_str().unwrap_or_default(),
            s.now(),
            life,
            &s.faults,
        ) {
            Ok((at, _)) => {
                json!({"AccessToken": at, "IdToken": crate::state::random_token("idt"), "ExpiresIn": life, "TokenType": "Bearer"})
            }
            Err(_) => return not_authorized(),
        },
        Some("USER_PASSWORD_AUTH") => {
            match s.grants.login(
                p["USERNAME"].as_str().unwrap_or_default(),
                p["PASSWORD"].as_str().unwrap_or_default(),
                s.now(),
                life,
            ) {
                Ok(at) => {
                    json!({"AccessToken": at, "IdToken": crate::state::random_token("idt"), "ExpiresIn": life, "TokenType": "Bearer"})
                }
                Err(_) => return not_authorized(),
            }
        }
        _ => {
            return json_status(
                StatusCode::BAD_REQUEST,
                json!({"__type": "InvalidParameterException"}),
            );
        }
    };
    ok_json(json!({"AuthenticationResult": result}))
}

/// Stara `POST /token`: `refresh_Token` + `apiKey` → `{X_access_token, refresh_Token}`.
async fn stara_token(State(s): St, body: Bytes) -> Response {
    let p = common::params(&body);
    if p.get("apiKey") != Some(&s.app.api_key) {
        return error(&s, StatusCode::UNAUTHORIZED, "invalid apiKey");
    }
    match s.grants.refresh(
        p.get("refresh_Token")
            .map(String::as_str)
            .unwrap_or_default(),
        s.now(),
        s.lifetime(),
        &s.faults,
    ) {
        Ok((at, rt)) => {
            let rt = rt.or_else(|| p.get("refresh_Token").cloned());
            ok_json(json!({"X_access_token": at, "refresh_Token": rt, "expires_in": s.lifetime()}))
        }
        Err(_) => error(&s, StatusCode::UNAUTHORIZED, "invalid refresh token"),
    }
}

/// Sentera `POST /v1/sessions`.
async fn sentera_session(State(s): St, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let sess = &v["session"];
    match s.grants.login(
        sess["email"].as_str().unwrap_or_default(),
        sess["password"].as_str().unwrap_or_default(),
        s.now(),
        s.lifetime(),
    ) {
        Ok(t) => ok_json(
            json!({"auth_token": t, "user_sentera_id": "u-1", "user_email": sess["email"], "status": "ok", "device_id": "d-1"}),
        ),
        Err(_) => error(&s, StatusCode::UNAUTHORIZED, "Invalid email or password"),
    }
}

fn gql_page(items: Vec<Value>, page: usize, page_size: usize) -> Value {
    let (slice, _) = common::page(&items, page.saturating_sub(1) * page_size, page_size);
    json!({"page": page, "page_size": page_size, "present": slice.len(), "total_count": items.len(), "results": slice})
}

/// Sentera `POST /graphql`: `organizations(pagination)` and `fields(organization_sentera_id, pagination)`.
async fn sentera_graphql(State(s): St, h: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = common::check_bearer(&s, &h) {
        return e;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let query = v["query"].as_str().unwrap_or_default();
    let vars = &v["variables"];
    let page = vars["page"].as_u64().unwrap_or(1).max(1) as usize;
    let size = (vars["page_size"].as_u64().unwrap_or(100) as usize)
        .clamp(1, 100)
        .min(s.page_size());
    if query.contains("imagery(") {
        // [A]: the query name and keys of Sentera's imagery/analytics layers are not public.
        let org = vars["org"].as_str().unwrap_or_default();
        if !s.seed.is_connected(org) {
            return ok_json(
                json!({"data": null, "errors": [{"message": "Organization not found"}]}),
            );
        }
        let items = s
            .seed
            .imagery_of(org)
            .into_iter()
            .map(|i| {
                json!({"sentera_id": i.id, "name": i.name, "type": i.kind,
                            "field_sentera_id": i.field_id, "captured_at": rfc3339(i.captured)})
            })
            .collect();
        return ok_json(json!({"data": {"imagery": gql_page(items, page, size)}}));
    }
    if query.contains("fields(") {
        let org = vars["org"].as_str().unwrap_or_default();
        if !s.seed.is_connected(org) {
            return ok_json(
                json!({"data": null, "errors": [{"message": "Organization not found"}]}),
            );
        }
        let items = s
            .seed
            .fields_of(org)
            .into_iter()
            .map(|f| json!({"sentera_id": f.id, "name": f.name, "boundary": common::geojson(&f.boundary)}))
            .collect();
        return ok_json(json!({"data": {"fields": gql_page(items, page, size)}}));
    }
    if query.contains("organizations(") {
        let items = s
            .seed
            .organizations
            .iter()
            .filter(|o| o.connected)
            .map(|o| json!({"sentera_id": o.id, "name": o.name}))
            .collect();
        return ok_json(json!({"data": {"organizations": gql_page(items, page, size)}}));
    }
    ok_json(json!({"data": null, "errors": [{"message": "unsupported query"}]}))
}

/// AgVance `POST /api/Session` (header `ApiKey`) → `{sessionId}`.
async fn agvance_session(State(s): St, h: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = common::check_key(&s, &h, "apikey") {
        return e;
    }
    let p = common::params(&body);
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or_default();
    if get("databaseId").is_empty() {
        return error(&s, StatusCode::BAD_REQUEST, "databaseId required");
    }
    match s
        .grants
        .login(get("username"), get("password"), s.now(), s.lifetime())
    {
        Ok(t) => ok_json(json!({"sessionId": t})),
        Err(_) => error(&s, StatusCode::UNAUTHORIZED, "invalid login"),
    }
}

/// Decrypts a Valley password: base64(AES-128-CBC-PKCS7(key, iv, password)).
fn valley_password(s: &SimState, encrypted: &str) -> Option<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(&s.app.shared_secret).ok()?;
    let iv = b64.decode(&s.app.iv).ok()?;
    let mut data = b64.decode(encrypted).ok()?;
    let dec = cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, &iv).ok()?;
    let plain = dec.decrypt_padded_mut::<Pkcs7>(&mut data).ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

/// Valley `POST /api/login`.
async fn valley_login(State(s): St, body: Bytes) -> Response {
    let p = common::params(&body);
    if p.get("apid") != Some(&s.app.client_id) {
        return error(&s, StatusCode::UNAUTHORIZED, "unknown apid");
    }
    let password = p
        .get("password")
        .and_then(|e| valley_password(&s, e))
        .unwrap_or_default();
    match s.grants.login(
        p.get("username").map(String::as_str).unwrap_or_default(),
        &password,
        s.now(),
        s.lifetime(),
    ) {
        Ok(t) => ok_json(json!({"token": t, "expiresIn": s.lifetime()})),
        Err(_) => error(&s, StatusCode::UNAUTHORIZED, "invalid login"),
    }
}

fn irrigation_auth(s: &SimState, h: &HeaderMap) -> Result<usize, Response> {
    let token = common::bearer(h).or_else(|| h.get("x-auth-token").and_then(|v| v.to_str().ok()));
    common::check_token(s, token)
}

/// `{items, next}` paging of irrigation lists ([A] for both providers).
fn items_next(s: &SimState, q: &HashMap<String, String>, items: Vec<Value>) -> Response {
    let Some(off) = common::offset_of(q.get("cursor").map(String::as_str)) else {
        return error(s, StatusCode::BAD_REQUEST, "bad cursor");
    };
    let (page, next) = common::page(&items, off, s.page_size());
    ok_json(json!({"items": page, "next": next.map(common::cursor)}))
}

/// Irrigation equipment (Lindsay pivots with `pivotLength` [R]; Valley the same shape [A]).
async fn pivots(State(s): St, h: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Err(e) = irrigation_auth(&s, &h) {
        return e;
    }
    let items = s
        .seed
        .equipment_of(SINGLE_ORG)
        .into_iter()
        .map(|e| {
            json!({"id": e.id, "name": e.name, "type": e.kind, "pivotLength": e.length_m,
                   "longitude": e.location[0], "latitude": e.location[1]})
        })
        .collect();
    items_next(&s, &q, items)
}

/// As-applied irrigation of one pivot, `?since=` (RFC 3339) [A].
async fn applications(
    State(s): St,
    h: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = irrigation_auth(&s, &h) {
        return e;
    }
    if !s.seed.equipment_of(SINGLE_ORG).iter().any(|e| e.id == id) {
        return error(&s, StatusCode::NOT_FOUND, "pivot not found");
    }
    let since = common::since(q.get("since"));
    let items = s
        .seed
        .irrigation_of(&id, since)
        .into_iter()
        .map(|i| {
            json!({"id": i.id, "pivotId": i.equipment_id, "startTime": rfc3339(i.start),
                   "endTime": rfc3339(i.end), "depthMm": i.depth_mm})
        })
        .collect();
    items_next(&s, &q, items)
}

pub(crate) fn cognito_router() -> Router<Arc<SimState>> {
    Router::new().route("/", post(cognito))
}
pub(crate) fn stara_router() -> Router<Arc<SimState>> {
    Router::new().route("/token", post(stara_token))
}
pub(crate) fn sentera_router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/v1/sessions", post(sentera_session))
        .route("/graphql", post(sentera_graphql))
}
pub(crate) fn agvance_router() -> Router<Arc<SimState>> {
    Router::new().route("/api/Session", post(agvance_session))
}
pub(crate) fn valley_router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/api/login", post(valley_login))
        .merge(irrigation_router("/api/pivots"))
}
/// `GET {path}` (equipment) and `GET {path}/{id}/applications`.
pub(crate) fn irrigation_router(path: &'static str) -> Router<Arc<SimState>> {
    Router::new()
        .route(path, get(pivots))
        .route(&format!("{path}/{{id}}/applications"), get(applications))
}
