//! Machinery shared by the provider simulators: fault middleware, auth checks, error bodies, paging,
//! file serving with `Range` and truncation, and an OAuth 2.0 token endpoint.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use furrow_credentials::Provider as ProviderKind;
use serde_json::{Value, json};

use crate::state::{Rejection, SimState, lock};

pub(crate) type S = State<Arc<SimState>>;

/// JSON with a status.
pub(crate) fn json_status(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub(crate) fn ok_json(body: Value) -> Response {
    json_status(StatusCode::OK, body)
}

/// The provider's error body shape.
pub(crate) fn error(state: &SimState, status: StatusCode, message: &str) -> Response {
    let body = match state.kind {
        ProviderKind::JohnDeere => {
            json!({"@type": "Errors", "errors": [{"@type": "Error", "message": message}]})
        }
        ProviderKind::ClimateFieldView => {
            json!({"error": {"id": uuid_like(), "code": status.as_u16().to_string(), "message": message}})
        }
        ProviderKind::Cnhi | ProviderKind::CnhiFieldOps => {
            json!({"statusCode": status.as_u16(), "message": message})
        }
        _ => json!({"error": status.canonical_reason().unwrap_or("error"), "message": message}),
    };
    json_status(status, body)
}

fn uuid_like() -> String {
    crate::state::random_token("req")
}

/// Records what a request presented (for "persisted before use" checks), then applies the faults.
pub(crate) async fn faults(State(s): S, req: Request, next: Next) -> Response {
    s.requests.fetch_add(1, Ordering::SeqCst);
    s.faults.wait_at_door().await;
    {
        let mut seen = lock(&s.presented);
        for v in req.headers().values() {
            if let Ok(v) = v.to_str() {
                if let Some(t) = v.strip_prefix("Bearer ") {
                    seen.insert(t.to_owned());
                }
                seen.insert(v.to_owned());
            }
        }
    }
    if let Some(d) = s.faults.take_latency() {
        tokio::time::sleep(d).await;
    }
    if let Some(after) = s.faults.over_rate_limit() {
        let body = if s.kind == ProviderKind::RavenSlingshot {
            "Exceeded maximum requests".to_owned()
        } else {
            json!({"message": "Too Many Requests"}).to_string()
        };
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, after.to_string())],
            body,
        )
            .into_response();
    }
    if let Some(after) = s.faults.take_throttle() {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (header::RETRY_AFTER, after.to_string()),
                (header::CONTENT_TYPE, "application/json".to_owned()),
            ],
            json!({"message": "Too Many Requests"}).to_string(),
        )
            .into_response();
    }
    if let Some(status) = s.faults.take_fail() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return error(&s, status, "Server Busy");
    }
    if s.faults.take_echo(bearer(req.headers()).is_some()) {
        return echo(req).await;
    }
    if let Err(refused) = introspect(&s, req.headers()).await {
        return refused;
    }
    next.run(req).await
}

/// `400 invalid_request` quoting the whole request: headers and body as they came, in the error description
/// (JSON-escaped), base64-encoded, and in response headers.
async fn echo(req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).into_owned();
    let mut lines = vec![format!("{} {}", parts.method, parts.uri)];
    let mut headers = serde_json::Map::new();
    for (n, v) in &parts.headers {
        let v = v.to_str().unwrap_or_default();
        lines.push(format!("{n}: {v}"));
        headers.insert(n.as_str().to_owned(), json!(v));
    }
    lines.push(text.clone());
    let quoted = lines.join("\n");
    let b64 = base64::engine::general_purpose::STANDARD.encode(quoted.as_bytes());
    let out = json!({
        "error": "invalid_request",
        "error_description": format!("cannot handle {quoted}"),
        "echo": {"h": headers, "b": text, "u": parts.uri.to_string(), "b64": b64},
    });
    let mut resp = json_status(StatusCode::BAD_REQUEST, out);
    if let Some(v) = parts.headers.get(header::AUTHORIZATION) {
        resp.headers_mut().insert("x-echo", v.clone());
    }
    if let Ok(v) = HeaderValue::from_str(&b64) {
        resp.headers_mut().insert("x-echo-b64", v);
    }
    resp
}

/// With [`crate::Simulator::accept_tokens_from`]: a bearer token this simulator did not issue is checked at
/// the authorization server's introspection endpoint, and served as the first grower's while it is active.
async fn introspect(s: &SimState, headers: &HeaderMap) -> Result<(), Response> {
    let Some((url, id, secret)) = lock(&s.introspection).clone() else {
        return Ok(());
    };
    let Some(token) = bearer(headers) else {
        return Ok(());
    };
    let client = reqwest::Client::new();
    let answer = client
        .post(&url)
        .basic_auth(&id, Some(&secret))
        .form(&[("token", token), ("token_type_hint", "access_token")])
        .send()
        .await;
    let body: Value = match answer {
        Ok(r) if r.status().is_success() => r.json().await.unwrap_or_default(),
        _ => {
            return Err(error(
                s,
                StatusCode::SERVICE_UNAVAILABLE,
                "authorization server unreachable",
            ));
        }
    };
    if body["active"] != json!(true) {
        return Err(error(s, StatusCode::UNAUTHORIZED, "invalid access token"));
    }
    let exp = body["exp"].as_i64().unwrap_or(i64::MAX);
    s.grants.accept_access(token, 0, exp);
    Ok(())
}

/// The bearer token of a request.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// Checks an access token (from `Authorization: Bearer` or the named header) and the missing-scope knob.
pub(crate) fn check_token(state: &SimState, token: Option<&str>) -> Result<usize, Response> {
    let Some(token) = token else {
        return Err(error(
            state,
            StatusCode::UNAUTHORIZED,
            "missing access token",
        ));
    };
    match state.grants.check(token, state.now()) {
        Ok(g) if state.faults.is_missing_scope() => {
            let _ = g;
            Err(error(
                state,
                StatusCode::FORBIDDEN,
                "The client does not have a proper access for this API",
            ))
        }
        Ok(g) => Ok(g),
        Err(Rejection::Expired) => Err(error(
            state,
            StatusCode::UNAUTHORIZED,
            "access token expired",
        )),
        Err(Rejection::Invalid) => Err(error(
            state,
            StatusCode::UNAUTHORIZED,
            "invalid access token",
        )),
    }
}

/// [`check_token`] on `Authorization: Bearer`.
pub(crate) fn check_bearer(state: &SimState, headers: &HeaderMap) -> Result<usize, Response> {
    check_token(state, bearer(headers))
}

/// Checks a static app key header.
pub(crate) fn check_key(state: &SimState, headers: &HeaderMap, name: &str) -> Result<(), Response> {
    match headers.get(name).and_then(|v| v.to_str().ok()) {
        Some(k) if state.is_app_key(k) => Ok(()),
        _ => Err(error(
            state,
            StatusCode::UNAUTHORIZED,
            "Access denied due to invalid subscription key.",
        )),
    }
}

/// 403 when the organization is not connected or forbidden by the knob.
pub(crate) fn check_org(state: &SimState, org: &str) -> Result<(), Response> {
    if !state.seed.organizations.iter().any(|o| o.id == org) {
        return Err(error(
            state,
            StatusCode::NOT_FOUND,
            "organization not found",
        ));
    }
    if !state.seed.is_connected(org) || state.faults.is_forbidden(org) {
        return Err(error(
            state,
            StatusCode::FORBIDDEN,
            "organization not connected",
        ));
    }
    Ok(())
}

/// Form or JSON body as a flat map.
pub(crate) fn params(body: &[u8]) -> HashMap<String, String> {
    if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) {
        return m
            .into_iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k, s)),
                _ => None,
            })
            .collect();
    }
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// `(id, secret)` from `Authorization: Basic`, URL-decoded (RFC 6749 2.3.1).
pub(crate) fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(v).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (id, secret) = raw.split_once(':')?;
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((dec(id)?, dec(secret)?))
}

/// A standard OAuth 2.0 token endpoint (refresh and authorization-code grants) with the provider's error
/// status and rotation policy.
pub(crate) async fn oauth_token(State(s): S, headers: HeaderMap, body: Bytes) -> Response {
    let p = params(&body);
    let (id, secret) = basic(&headers)
        .or_else(|| Some((p.get("client_id")?.clone(), p.get("client_secret")?.clone())))
        .unwrap_or_default();
    let err_status = match s.kind {
        ProviderKind::Cnhi | ProviderKind::CnhiFieldOps => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    };
    if let Some(after) = s.faults.over_token_rate_limit() {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (header::RETRY_AFTER, after.to_string()),
                (header::CONTENT_TYPE, "application/json".to_owned()),
            ],
            json!({"error": "slow_down", "error_description": "too many token requests"})
                .to_string(),
        )
            .into_response();
    }
    if let Some((status, code)) = s.faults.take_token_error() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        return json_status(status, json!({"error": code}));
    }
    if !s.is_app_client(&id, &secret) {
        return json_status(StatusCode::UNAUTHORIZED, json!({"error": "invalid_client"}));
    }
    let invalid = |desc: &str| {
        json_status(
            err_status,
            json!({"error": "invalid_grant", "error_description": desc}),
        )
    };
    let lifetime = s.lifetime();
    let (access, refresh) = match p.get("grant_type").map(String::as_str) {
        Some("refresh_token") => {
            let Some(rt) = p.get("refresh_token") else {
                return invalid("missing refresh_token");
            };
            match s.grants.refresh(rt, s.now(), lifetime, &s.faults) {
                Ok(t) => t,
                Err(_) => return invalid("Provided Authorization Grant is invalid"),
            }
        }
        Some("authorization_code") => {
            let code = p.get("code").map(String::as_str).unwrap_or_default();
            // A code from the consent form is exchanged as the provider does: its client authentication only,
            // the client and redirect URI it was issued for.
            if s.grants.is_bound(code) {
                match crate::providers::authorize::code_client(s.kind, &headers, &p) {
                    Some((cid, cs)) if cid == id && cs == secret => {}
                    _ => {
                        return json_status(
                            StatusCode::UNAUTHORIZED,
                            json!({"error": "invalid_client", "error_description": "client authentication method not allowed"}),
                        );
                    }
                }
            }
            match s.grants.exchange_bound(
                code,
                p.get("code_verifier").map(String::as_str),
                &id,
                p.get("redirect_uri")
                    .map(String::as_str)
                    .unwrap_or_default(),
                s.now(),
                lifetime,
            ) {
                Ok((a, r)) => (a, Some(r)),
                Err(_) => return invalid("invalid authorization code"),
            }
        }
        _ => {
            return json_status(
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type"}),
            );
        }
    };
    let mut body = json!({"access_token": access, "token_type": "Bearer", "expires_in": lifetime, "scope": "read"});
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    if matches!(s.kind, ProviderKind::JohnDeere | ProviderKind::Trimble) {
        body["id_token"] = json!(crate::state::random_token("idt"));
    }
    ok_json(body)
}

/// Parses `bytes=start-end` / `bytes=start-`.
fn parse_range(v: &str, len: u64) -> Option<(u64, u64)> {
    let (s, e) = v.trim().strip_prefix("bytes=")?.split_once('-')?;
    let start: u64 = s.parse().ok()?;
    let end: u64 = if e.is_empty() {
        len.saturating_sub(1)
    } else {
        e.parse().ok()?
    };
    (start <= end && start < len).then_some((start, end.min(len - 1)))
}

/// How a download endpoint treats `Range`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RangeRule {
    /// A request without `Range` is refused with 400.
    pub(crate) required: bool,
    /// Longest range answered; longer is 416.
    pub(crate) max: Option<u64>,
}

pub(crate) const RANGE_OPTIONAL: RangeRule = RangeRule {
    required: false,
    max: None,
};

/// Serves file bytes: `Range` (206 + `Content-Range`, 416 when unsatisfiable), and the truncation knob.
pub(crate) fn serve_bytes(
    state: &SimState,
    headers: &HeaderMap,
    bytes: Bytes,
    rule: RangeRule,
) -> Response {
    let len = bytes.len() as u64;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, slice, content_range) = match range {
        None if rule.required => {
            return error(state, StatusCode::BAD_REQUEST, "Range header required");
        }
        None => (StatusCode::OK, bytes, None),
        Some(r) => match parse_range(r, len) {
            Some((s, e)) if rule.max.is_none_or(|m| e - s < m) => (
                StatusCode::PARTIAL_CONTENT,
                bytes.slice(s as usize..=e as usize),
                Some(format!("bytes {s}-{e}/{len}")),
            ),
            _ => {
                return (
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    [(header::CONTENT_RANGE, format!("bytes */{len}"))],
                )
                    .into_response();
            }
        },
    };
    let full_len = slice.len();
    let body = if state.faults.take_truncate() && full_len > 1 {
        let half = slice.slice(..full_len / 2);
        let stream = futures_util::stream::iter(vec![
            Ok(half),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "simulated truncation",
            )),
        ]);
        Body::from_stream(stream)
    } else {
        Body::from(slice)
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(full_len as u64));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(cr) = content_range.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::CONTENT_RANGE, cr);
    }
    resp
}

/// `items[offset..offset+size]` and the next offset.
pub(crate) fn page<T: Clone>(items: &[T], offset: usize, size: usize) -> (Vec<T>, Option<usize>) {
    let end = (offset + size).min(items.len());
    let slice = items
        .get(offset..end)
        .map(<[T]>::to_vec)
        .unwrap_or_default();
    (slice, (end < items.len()).then_some(end))
}

/// An opaque cursor for an offset.
pub(crate) fn cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

/// The offset of a cursor made by [`cursor`].
pub(crate) fn offset_of(cursor: Option<&str>) -> Option<usize> {
    let Some(c) = cursor.filter(|c| !c.is_empty()) else {
        return Some(0);
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("o:")?
        .parse()
        .ok()
}

/// Parses an RFC 3339 (or Unix seconds) `since` parameter.
pub(crate) fn since(v: Option<&String>) -> Option<i64> {
    let v = v?;
    if let Ok(n) = v.parse::<i64>() {
        return Some(n);
    }
    time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// A GeoJSON geometry of a seeded boundary.
pub(crate) fn geojson(b: &furrow_model::MultiPolygon) -> Value {
    json!({"type": "MultiPolygon", "coordinates": b.coordinates})
}
