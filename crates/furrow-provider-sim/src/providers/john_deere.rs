//! John Deere Operations Center: Okta token endpoint, `/platform` HAL lists with matrix-parameter paging and
//! `nextPage` links, organizations with a `connections` link, boundaries with `embed=multipolygons`, and
//! Accept-negotiated file downloads with `Range`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::common::{self, RANGE_OPTIONAL, error, ok_json};
use crate::state::SimState;

/// The Okta authorization server of John Deere.
pub(crate) const TOKEN_PATH: &str = "/oauth2/aus78tnlaysMraFhC1t7/v1/token";
const AXIOM: &str = "application/vnd.deere.axiom.v3+json";

type St = State<Arc<SimState>>;

fn host(h: &HeaderMap) -> String {
    h.get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_owned()
}

/// `name;start=N;count=M` → (name, start, count).
fn matrix(seg: &str) -> (&str, usize, Option<usize>) {
    let mut parts = seg.split(';');
    let name = parts.next().unwrap_or_default();
    let (mut start, mut count) = (0, None);
    for p in parts {
        match p.split_once('=') {
            Some(("start", v)) => start = v.parse().unwrap_or(0),
            Some(("count", v)) => count = v.parse().ok(),
            _ => {}
        }
    }
    (name, start, count)
}

fn auth(s: &SimState, h: &HeaderMap) -> Result<usize, Response> {
    if h.get(header::ACCEPT).and_then(|v| v.to_str().ok()) != Some(AXIOM) {
        return Err(error(
            s,
            StatusCode::NOT_ACCEPTABLE,
            "Accept must be application/vnd.deere.axiom.v3+json",
        ));
    }
    common::check_bearer(s, h)
}

/// A HAL list page with an absolute `nextPage` link in matrix-parameter form.
fn hal_page(
    s: &SimState,
    h: &HeaderMap,
    path: &str,
    items: Vec<Value>,
    start: usize,
    count: Option<usize>,
) -> Response {
    let size = count.unwrap_or(usize::MAX).min(s.page_size());
    let (page, next) = common::page(&items, start, size);
    let base = format!("http://{}/platform{path}", host(h));
    let mut links =
        vec![json!({"rel": "self", "uri": format!("{base};start={start};count={size}")})];
    if let Some(n) = next {
        links.push(json!({"rel": "nextPage", "uri": format!("{base};start={n};count={size}")}));
    }
    ok_json(json!({"links": links, "total": items.len(), "values": page}))
}

async fn organizations(State(s): St, h: HeaderMap, Path(seg): Path<String>) -> Response {
    let (name, start, count) = matrix(&seg);
    if name != "organizations" {
        return error(&s, StatusCode::NOT_FOUND, "not found");
    }
    if let Err(e) = auth(&s, &h) {
        return e;
    }
    let items = s
        .seed
        .organizations
        .iter()
        .map(|o| {
            let link = if o.connected {
                json!({"rel": "manage_connections", "uri": format!("https://connections.deere.com/connections/{}/connections-dialog?orgId={}", s.app.client_id, o.id)})
            } else {
                json!({"rel": "connections", "uri": format!("https://connections.deere.com/connections/{}/select-organizations", s.app.client_id)})
            };
            json!({"@type": "Organization", "name": o.name, "type": "customer", "member": true, "internal": false, "id": o.id,
                   "links": [{"rel": "self", "uri": format!("http://{}/platform/organizations/{}", host(&h), o.id)}, link]})
        })
        .collect();
    hal_page(&s, &h, "/organizations", items, start, count)
}

async fn org_collection(
    State(s): St,
    h: HeaderMap,
    Path((org, seg)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = auth(&s, &h) {
        return e;
    }
    if let Err(e) = common::check_org(&s, &org) {
        return e;
    }
    let (name, start, count) = matrix(&seg);
    let items: Vec<Value> = match name {
        "fields" => s
            .seed
            .fields_of(&org)
            .into_iter()
            .map(|f| json!({"@type": "Field", "id": f.id, "name": f.name,
                            "links": [{"rel": "boundaries", "uri": format!("http://{}/platform/organizations/{org}/fields/{}/boundaries", host(&h), f.id)}]}))
            .collect(),
        "files" => {
            let since = common::since(q.get("startDate"));
            s.seed
                .files_of(&org, since)
                .into_iter()
                .map(|f| json!({"@type": "File", "id": f.id, "name": f.name, "type": "ISO_SETUP", "createdTime": f.created_rfc3339(),
                                "modifiedTime": f.created_rfc3339(), "nativeSize": f.bytes.len(), "source": "MACHINE", "status": "READY",
                                "archived": false, "format": "ISOXML",
                                "links": [{"rel": "self", "uri": format!("http://{}/platform/files/{}", host(&h), f.id)}]}))
                .collect()
        }
        _ => return error(&s, StatusCode::NOT_FOUND, "not found"),
    };
    hal_page(
        &s,
        &h,
        &format!("/organizations/{org}/{name}"),
        items,
        start,
        count,
    )
}

async fn boundaries(
    State(s): St,
    h: HeaderMap,
    Path((org, field)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = auth(&s, &h) {
        return e;
    }
    if let Err(e) = common::check_org(&s, &org) {
        return e;
    }
    let Some(f) = s.seed.fields_of(&org).into_iter().find(|f| f.id == field) else {
        return error(&s, StatusCode::NOT_FOUND, "field not found");
    };
    let embed = q
        .get("embed")
        .is_some_and(|e| e.split(',').any(|x| x == "multipolygons"));
    let mut b = json!({"@type": "Boundary", "id": format!("b-{}", f.id), "name": f.name, "active": true, "archived": false,
                       "sourceType": "HandDrawn", "area": {"@type": "MeasurementAsDouble", "valueAsDouble": 12.5, "unit": "ha"}});
    if embed {
        let polys: Vec<Value> = f
            .boundary
            .coordinates
            .iter()
            .map(|poly| {
                let rings: Vec<Value> = poly
                    .iter()
                    .enumerate()
                    .map(|(i, ring)| {
                        let pts: Vec<Value> = ring.iter().map(|[lon, lat]| json!({"@type": "Point", "lat": lat, "lon": lon})).collect();
                        json!({"@type": "Ring", "type": if i == 0 { "exterior" } else { "interior" }, "passable": false, "points": pts})
                    })
                    .collect();
                json!({"@type": "Polygon", "rings": rings})
            })
            .collect();
        b["multipolygons"] = Value::Array(polys);
    }
    ok_json(json!({"links": [], "total": 1, "values": [b]}))
}

async fn file(State(s): St, h: HeaderMap, Path(id): Path<String>) -> Response {
    let accept = h
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if let Err(e) = common::check_bearer(&s, &h) {
        return e;
    }
    let Some(f) = s
        .seed
        .file(&id)
        .filter(|f| s.seed.is_connected(&f.organization_id))
    else {
        return error(&s, StatusCode::NOT_FOUND, "file not found");
    };
    match accept.as_str() {
        AXIOM => ok_json(
            json!({"@type": "File", "id": f.id, "name": f.name, "nativeSize": f.bytes.len()}),
        ),
        "application/zip"
        | "application/octet-stream"
        | "application/x-zip"
        | "application/x-zip-compressed" => common::serve_bytes(&s, &h, f.bytes, RANGE_OPTIONAL),
        _ => error(&s, StatusCode::NOT_ACCEPTABLE, "unsupported Accept"),
    }
}

pub(crate) fn router() -> Router<Arc<SimState>> {
    Router::new()
        .route(TOKEN_PATH, post(common::oauth_token))
        .route("/platform/{seg}", get(organizations))
        .route("/platform/organizations/{org}/{seg}", get(org_collection))
        .route(
            "/platform/organizations/{org}/fields/{field}/boundaries",
            get(boundaries),
        )
        .route("/platform/files/{id}", get(file))
}
