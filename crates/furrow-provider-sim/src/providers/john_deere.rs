//! John Deere Operations Center: Okta token endpoint, `/platform` HAL lists with matrix-parameter paging and
//! `nextPage` links, organizations with a `connections` link, boundaries with `embed=multipolygons`, and
//! Accept-negotiated file downloads with `Range`, `x-deere-signature` change tracking on file lists, and
//! asynchronous shapefile exports (`/fieldOps/{id}`: 202 while building, 307 to a pre-signed URL that refuses
//! `Authorization`, 406 when no shapefile is possible).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};

use crate::common::{self, RANGE_OPTIONAL, error, ok_json};
use crate::state::SimState;

/// The Okta authorization server of John Deere.
pub(crate) const TOKEN_PATH: &str = "/oauth2/aus78tnlaysMraFhC1t7/v1/token";
const AXIOM: &str = "application/vnd.deere.axiom.v3+json";
/// The change-tracking header of file lists [C].
const SIGNATURE: &str = "x-deere-signature";
/// How long a pre-signed export URL stays valid: "at least 1 h" [C].
const PRESIGNED_SECS: i64 = 3600;

/// Field operations of the first organization's field JT-01, with their `fieldOperationType`: real
/// Operations Center and Gen4 shapefile exports from the repository's samples (John Deere's SampleData, MIT),
/// embedded; TILLAGE has no shapefile (406) as documented [C].
pub const FIELD_OPERATIONS: &[(&str, &str)] = &[
    ("fo-1001", "HARVEST"),
    ("fo-1002", "SEEDING"),
    ("fo-1003", "TILLAGE"),
    ("fo-1004", "APPLICATION"),
];

/// The field the field operations belong to.
pub(crate) const FIELD_OPERATIONS_FIELD: (&str, &str) = ("4201", "f-105");

/// The bytes of a field operation's shapefile export (a zip, as Operations Center builds it).
pub fn shapefile_export(operation_id: &str) -> Vec<u8> {
    let bytes: &[u8] = match operation_id {
        "fo-1001" => include_bytes!(
            "../../../../samples/shapefile/john-deere/Shapefiles/Export From MyJohnDeere - Harvest.zip"
        ),
        "fo-1002" => include_bytes!(
            "../../../../samples/shapefile/john-deere/Shapefiles/Export From MyJohnDeere - Seeding.zip"
        ),
        _ => include_bytes!(
            "../../../../samples/shapefile/john-deere/Shapefiles/Gen4 - 4600 Application Data - Point - OneHertz.zip"
        ),
    };
    bytes.to_vec()
}

/// `GET /organizations/{org}/fields/{field}/fieldOperations`: the field's operations, HAL paged.
async fn field_operations(
    State(s): St,
    h: HeaderMap,
    Path((org, field, seg)): Path<(String, String, String)>,
) -> Response {
    if let Err(e) = auth(&s, &h) {
        return e;
    }
    if let Err(e) = common::check_org(&s, &org) {
        return e;
    }
    let (name, start, count) = matrix(&seg);
    if name != "fieldOperations" {
        return error(&s, StatusCode::NOT_FOUND, "not found");
    }
    let seg_field = field.as_str();
    let ops: Vec<Value> = if (org.as_str(), seg_field) == FIELD_OPERATIONS_FIELD {
        FIELD_OPERATIONS
            .iter()
            .enumerate()
            .map(|(i, (id, kind))| {
                json!({"@type": "FieldOperation", "id": id, "fieldOperationType": kind,
                       "cropSeason": "2018", "startDate": format!("2018-0{}-01T12:00:00.000Z", 4 + i),
                       "endDate": format!("2018-0{}-01T18:00:00.000Z", 4 + i),
                       "modifiedTime": format!("2018-0{}-02T08:00:00.000Z", 4 + i),
                       "links": [{"rel": "shapefile", "uri": format!("http://{}/platform/fieldOps/{id}", host(&h))}]})
            })
            .collect()
    } else {
        Vec::new()
    };
    hal_page(
        &s,
        &h,
        &format!("/organizations/{org}/fields/{seg_field}/fieldOperations"),
        ops,
        start,
        count,
    )
}

/// An opaque signature for a change mark of the seed.
fn signature_of(mark: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("jd-files:{mark}"))
}

/// The change mark of a signature; `None` for an unknown one.
fn mark_of(signature: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("jd-files:")?
        .parse()
        .ok()
}

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
            // `x-deere-signature`: empty → everything plus a signature; a signature → only what changed after
            // it, 304 when nothing did.
            let signature = h.get(SIGNATURE).and_then(|v| v.to_str().ok());
            let files = match signature {
                None | Some("") => s.seed.files_of(&org, since),
                Some(sig) => {
                    let Some(mark) = mark_of(sig) else {
                        return error(&s, StatusCode::BAD_REQUEST, "invalid x-deere-signature");
                    };
                    let changed = s.seed.files_changed_since(&org, mark, since);
                    if changed.is_empty() && start == 0 {
                        let mut r = StatusCode::NOT_MODIFIED.into_response();
                        if let Ok(v) = sig.parse() {
                            r.headers_mut().insert(SIGNATURE, v);
                        }
                        return r;
                    }
                    changed
                }
            };
            if signature.is_some() {
                let mut r = hal_page(
                    &s,
                    &h,
                    &format!("/organizations/{org}/files"),
                    file_items(&h, files),
                    start,
                    count,
                );
                if let Ok(v) = signature_of(s.seed.change_mark()).parse() {
                    r.headers_mut().insert(SIGNATURE, v);
                }
                return r;
            }
            file_items(&h, files)
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

fn file_items(h: &HeaderMap, files: Vec<crate::seed::SeedFile>) -> Vec<Value> {
    files
                .into_iter()
                .map(|f| json!({"@type": "File", "id": f.id, "name": f.name, "type": "ISO_SETUP", "createdTime": f.created_rfc3339(),
                                "modifiedTime": f.created_rfc3339(), "nativeSize": f.bytes.len(), "source": "MACHINE", "status": "READY",
                                "archived": false, "format": "ISOXML",
                                "links": [{"rel": "self", "uri": format!("http://{}/platform/files/{}", host(h), f.id)}]}))
                .collect()
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

/// `GET /fieldOps/{id}`: 202 while the export builds (the `async_polls` knob), then 307 to a pre-signed URL;
/// 406 when the operation has no shapefile.
async fn field_ops(State(s): St, h: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(e) = auth(&s, &h) {
        return e;
    }
    let Some((_, kind)) = FIELD_OPERATIONS.iter().find(|(op, _)| *op == id) else {
        return error(&s, StatusCode::NOT_FOUND, "field operation not found");
    };
    if *kind == "TILLAGE" {
        return error(
            &s,
            StatusCode::NOT_ACCEPTABLE,
            "No shapefile can be created for a TILLAGE operation",
        );
    }
    if s.faults.take_async_poll() {
        return StatusCode::ACCEPTED.into_response();
    }
    let token = crate::state::random_token("presigned");
    crate::state::lock(&s.presigned).insert(token.clone(), (id, s.now() + PRESIGNED_SECS));
    let location = format!(
        "http://{}/presigned/{token}?X-Amz-Expires={PRESIGNED_SECS}",
        host(&h)
    );
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response()
}

/// The pre-signed URL: like S3, it refuses a second authentication mechanism.
async fn presigned(State(s): St, h: HeaderMap, Path(token): Path<String>) -> Response {
    let s3_error = |status: StatusCode, code: &str, message: &str| {
        (
            status,
            [(header::CONTENT_TYPE, "application/xml")],
            format!("<Error><Code>{code}</Code><Message>{message}</Message></Error>"),
        )
            .into_response()
    };
    if h.contains_key(header::AUTHORIZATION) {
        return s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Only one auth mechanism allowed",
        );
    }
    let entry = crate::state::lock(&s.presigned).get(&token).cloned();
    match entry {
        Some((op, until)) if s.now() < until => {
            let bytes = bytes::Bytes::from(shapefile_export(&op));
            common::serve_bytes(&s, &h, bytes, RANGE_OPTIONAL)
        }
        Some(_) => s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired"),
        None => s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied"),
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
        .route(
            "/platform/organizations/{org}/fields/{field}/{seg}",
            get(field_operations),
        )
        .route("/platform/files/{id}", get(file))
        .route("/platform/fieldOps/{id}", get(field_ops))
        .route("/presigned/{token}", get(presigned))
}
