//! Climate FieldView: token endpoint with rotation (old refresh token valid one hour), `X-Api-Key`, header
//! cursors (`X-Limit`, `X-Next-Token`, 206/200/304), boundaries by id query, activity layers and mandatory
//! `Range` downloads of at most 5 MiB. Page tokens expire ([`PAGE_TOKEN_SECS`], simulated clock): an expired
//! one answers `409`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};

use crate::common::{self, RangeRule, error};
use crate::providers::SINGLE_ORG;
use crate::state::SimState;

type St = State<Arc<SimState>>;

/// The activity kinds; machine file `i` is served under `KINDS[i % 3]`.
pub(crate) const KINDS: [&str; 3] = ["asPlanted", "asHarvested", "asApplied"];
const MAX_RANGE: u64 = 5 * 1024 * 1024;
/// How long an `X-Next-Token` stays usable. [A]: Climate documents the `409` on an expired token, not the
/// lifetime.
pub(crate) const PAGE_TOKEN_SECS: i64 = 600;

/// A page token: offset and issue time.
fn page_token(offset: usize, now: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("c:{offset}:{now}"))
}

enum Token {
    Start,
    At(usize),
    Expired,
    Invalid,
}

fn read_token(s: &SimState, token: Option<&str>) -> Token {
    let Some(t) = token.filter(|t| !t.is_empty()) else {
        return Token::Start;
    };
    let parsed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| {
            let mut parts = text.strip_prefix("c:")?.split(':');
            let offset: usize = parts.next()?.parse().ok()?;
            let issued: i64 = parts.next()?.parse().ok()?;
            Some((offset, issued))
        });
    match parsed {
        Some(_) if s.faults.take_page_token_expiry() => Token::Expired,
        Some((_, issued)) if s.now() - issued >= PAGE_TOKEN_SECS => Token::Expired,
        Some((offset, _)) => Token::At(offset),
        None => Token::Invalid,
    }
}

fn auth(s: &SimState, h: &HeaderMap) -> Result<usize, Response> {
    match h.get("x-api-key").and_then(|v| v.to_str().ok()) {
        Some(k) if s.is_app_key(k) => {}
        _ => {
            return Err(common::json_status(
                StatusCode::FORBIDDEN,
                json!({"message": "Forbidden"}),
            ));
        }
    }
    common::check_bearer(s, h)
}

/// Header-cursor paging: 206 + `X-Next-Token` while more, 200 on the last page, 304 when empty.
fn header_paged(s: &SimState, h: &HeaderMap, items: Vec<Value>) -> Response {
    let limit: usize = h
        .get("x-limit")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
        .clamp(1, 100)
        .min(s.page_size());
    let offset = match read_token(s, h.get("x-next-token").and_then(|v| v.to_str().ok())) {
        Token::Start => 0,
        Token::At(o) => o,
        Token::Expired => return error(s, StatusCode::CONFLICT, "X-Next-Token expired"),
        Token::Invalid => return error(s, StatusCode::BAD_REQUEST, "invalid X-Next-Token"),
    };
    let (page, next) = common::page(&items, offset, limit);
    if page.is_empty() {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&page_token(offset, s.now())) {
            r.headers_mut().insert("x-next-token", v);
        }
        return r;
    }
    let mut r = common::ok_json(json!({"results": page}));
    if let Some(n) = next {
        *r.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(v) = HeaderValue::from_str(&page_token(n, s.now())) {
            r.headers_mut().insert("x-next-token", v);
        }
    }
    r
}

async fn fields(State(s): St, h: HeaderMap) -> Response {
    if let Err(e) = auth(&s, &h) {
        return e;
    }
    let items = s
        .seed
        .fields_of(SINGLE_ORG)
        .into_iter()
        .map(|f| json!({"id": f.id, "name": f.name, "boundaryId": format!("b-{}", f.id), "resourceOwnerId": "owner-1",
                        "parent": {"id": f.farm_id, "type": "farm"}}))
        .collect();
    header_paged(&s, &h, items)
}

fn feature(s: &SimState, boundary_id: &str) -> Option<Value> {
    let field_id = boundary_id.strip_prefix("b-")?;
    let f = s
        .seed
        .fields_of(SINGLE_ORG)
        .into_iter()
        .find(|f| f.id == field_id)?;
    Some(
        json!({"id": boundary_id, "type": "Feature", "geometry": common::geojson(&f.boundary),
                "properties": {"area": {"q": 12.5, "u": "hectare"}}}),
    )
}

async fn boundary(State(s): St, h: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(e) = auth(&s, &h) {
        return e;
    }
    match feature(&s, &id) {
        Some(f) => common::ok_json(f),
        None => error(&s, StatusCode::NOT_FOUND, "boundary not found"),
    }
}

async fn boundaries_query(State(s): St, h: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = auth(&s, &h) {
        return e;
    }
    let ids: Vec<String> = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| serde_json::from_value(v.get("ids")?.clone()).ok())
        .unwrap_or_default();
    if ids.is_empty() || ids.len() > 10 {
        return error(&s, StatusCode::BAD_REQUEST, "between 1 and 10 ids");
    }
    let features: Vec<Value> = ids.iter().filter_map(|id| feature(&s, id)).collect();
    common::ok_json(json!({"type": "FeatureCollection", "features": features}))
}

fn files_of_kind(s: &SimState, kind: &str, since: Option<i64>) -> Vec<crate::seed::SeedFile> {
    let all = s.seed.files_of(SINGLE_ORG, None);
    all.into_iter()
        .enumerate()
        .filter(|(i, f)| KINDS[i % 3] == kind && since.is_none_or(|t| f.created >= t))
        .map(|(_, f)| f)
        .collect()
}

async fn layers(
    State(s): St,
    h: HeaderMap,
    Path(kind): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = auth(&s, &h) {
        return e;
    }
    if !KINDS.contains(&kind.as_str()) {
        return error(&s, StatusCode::NOT_FOUND, "unknown layer");
    }
    let since = common::since(q.get("occurredAfter"));
    let items = files_of_kind(&s, &kind, since)
        .into_iter()
        .map(|f| {
            let t = f.created_rfc3339();
            json!({"id": f.id, "startTime": t, "endTime": t, "createdAt": t, "updatedAt": t, "length": f.bytes.len(), "fieldIds": ["f-101"]})
        })
        .collect();
    header_paged(&s, &h, items)
}

async fn contents(
    State(s): St,
    h: HeaderMap,
    Path((kind, id)): Path<(String, String)>,
) -> Response {
    if let Err(e) = auth(&s, &h) {
        return e;
    }
    match files_of_kind(&s, &kind, None)
        .into_iter()
        .find(|f| f.id == id)
    {
        Some(f) => common::serve_bytes(
            &s,
            &h,
            f.bytes,
            RangeRule {
                required: true,
                max: Some(MAX_RANGE),
            },
        ),
        None => error(&s, StatusCode::NOT_FOUND, "activity not found"),
    }
}

pub(crate) fn router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/api/oauth/token", post(common::oauth_token))
        .route("/v4/fields", get(fields))
        .route("/v4/boundaries/query", post(boundaries_query))
        .route("/v4/boundaries/{id}", get(boundary))
        .route("/v4/layers/{kind}", get(layers))
        .route("/v4/layers/{kind}/{id}/contents", get(contents))
}
