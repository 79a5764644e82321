//! One parameterised JSON API for providers whose data endpoints are not public ([A] in providers.md):
//! the paths, key names and paging style of each are configuration.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::common::{self, RANGE_OPTIONAL, error, ok_json};
use crate::providers::SINGLE_ORG;
use crate::state::SimState;

/// How data calls authenticate.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth {
    /// `Authorization: Bearer`.
    Bearer,
    /// Bearer plus an app key header.
    BearerAndKey(&'static str),
    /// The session token in a header, plus an optional app key header.
    Session(&'static str, Option<&'static str>),
}

/// How lists are paged.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Paging {
    /// `?cursor=` → `{items, next}`.
    ItemsNext,
    /// `?page=&pageSize=` (0-based) → `{items, totalCount}`.
    PageNumber,
    /// `?bookmark=` → `{result, bookmark: {token, moreResults}}` (Trimble).
    Bookmark,
    /// JSON:API `{data: [{id, attributes}], links: {next}}` with `?page[cursor]=`.
    JsonApi,
}

/// Where boundaries are.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Boundaries {
    /// A GeoJSON geometry under this key of each field.
    Inline(&'static str),
    /// `GET` this path (with `{org}` and `{field}`) → list of `{id, fieldId, geometry}`.
    PerField(&'static str),
    /// `GET` this path (with `{org}`) → list of `{id, fieldId, geometry}` for every field.
    List(&'static str),
}

/// Key names of the JSON items.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keys {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) file_name: &'static str,
    pub(crate) created: &'static str,
    pub(crate) size: &'static str,
}

pub(crate) const KEYS: Keys = Keys {
    id: "id",
    name: "name",
    file_name: "fileName",
    created: "createdAt",
    size: "size",
};

/// One provider's assumed API.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    pub(crate) auth: Auth,
    pub(crate) orgs: Option<&'static str>,
    pub(crate) fields: Option<&'static str>,
    pub(crate) boundaries: Boundaries,
    pub(crate) files: Option<&'static str>,
    pub(crate) file: Option<&'static str>,
    pub(crate) paging: Paging,
    pub(crate) keys: Keys,
    pub(crate) since_param: &'static str,
}

type Params = Path<HashMap<String, String>>;
type Q = Query<HashMap<String, String>>;

fn authorize(s: &SimState, spec: &Spec, h: &HeaderMap) -> Result<usize, Response> {
    match spec.auth {
        Auth::Bearer => common::check_bearer(s, h),
        Auth::BearerAndKey(k) => {
            common::check_key(s, h, k)?;
            common::check_bearer(s, h)
        }
        Auth::Session(name, key) => {
            if let Some(k) = key {
                common::check_key(s, h, k)?;
            }
            common::check_token(s, h.get(name).and_then(|v| v.to_str().ok()))
        }
    }
}

fn org_param(s: &SimState, p: &HashMap<String, String>) -> Result<String, Response> {
    match p.get("org") {
        Some(o) => {
            common::check_org(s, o)?;
            Ok(o.clone())
        }
        None => Ok(SINGLE_ORG.to_owned()),
    }
}

/// Pages `items` in the spec's style.
fn paged(s: &SimState, spec: &Spec, q: &HashMap<String, String>, items: Vec<Value>) -> Response {
    let size = s.page_size();
    match spec.paging {
        Paging::ItemsNext => {
            let Some(off) = common::offset_of(q.get("cursor").map(String::as_str)) else {
                return error(s, StatusCode::BAD_REQUEST, "bad cursor");
            };
            let (page, next) = common::page(&items, off, size);
            ok_json(json!({"items": page, "next": next.map(common::cursor)}))
        }
        Paging::PageNumber => {
            let page_no: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
            let asked: usize = q
                .get("pageSize")
                .and_then(|p| p.parse().ok())
                .unwrap_or(size);
            let size = asked.clamp(1, size);
            let (page, _) = common::page(&items, page_no * size, size);
            ok_json(json!({"items": page, "totalCount": items.len()}))
        }
        Paging::Bookmark => {
            let Some(off) = common::offset_of(q.get("bookmark").map(String::as_str)) else {
                return error(s, StatusCode::BAD_REQUEST, "bad bookmark");
            };
            let (page, next) = common::page(&items, off, size);
            ok_json(
                json!({"result": page, "bookmark": {"token": next.map(common::cursor), "moreResults": next.is_some()}}),
            )
        }
        Paging::JsonApi => {
            let Some(off) = common::offset_of(q.get("page[cursor]").map(String::as_str)) else {
                return error(s, StatusCode::BAD_REQUEST, "bad cursor");
            };
            let (page, next) = common::page(&items, off, size);
            let data: Vec<Value> = page
                .into_iter()
                .map(|mut v| {
                    let id = v.get("id").cloned().unwrap_or(Value::Null);
                    if let Some(m) = v.as_object_mut() {
                        m.remove("id");
                    }
                    json!({"id": id, "type": "resource", "attributes": v})
                })
                .collect();
            ok_json(
                json!({"data": data, "links": {"next": next.map(|n| format!("?page[cursor]={}", common::cursor(n)))}}),
            )
        }
    }
}

/// The router of `spec` (data routes only; auth routes are added by the provider).
pub(crate) fn routes(spec: Spec) -> Router<Arc<SimState>> {
    let spec = Arc::new(spec);
    let mut r = Router::new();
    if let Some(path) = spec.orgs {
        let sp = spec.clone();
        r = r.route(
            path,
            get(
                move |State(s): State<Arc<SimState>>, h: HeaderMap, Query(q): Q| async move {
                    if let Err(e) = authorize(&s, &sp, &h) {
                        return e;
                    }
                    let shared = !s.faults.no_shared_organizations();
                    let items = s
                        .seed
                        .organizations
                        .iter()
                        .filter(|o| o.connected && shared)
                        .map(|o| json!({"id": o.id, "name": o.name}))
                        .collect();
                    paged(&s, &sp, &q, items)
                },
            ),
        );
    }
    if let Some(path) = spec.fields {
        let sp = spec.clone();
        r = r.route(
            path,
            get(move |State(s): State<Arc<SimState>>, h: HeaderMap, Path(p): Params, Query(q): Q| async move {
                if let Err(e) = authorize(&s, &sp, &h) {
                    return e;
                }
                let org = match org_param(&s, &p) {
                    Ok(o) => o,
                    Err(e) => return e,
                };
                let items = s
                    .seed
                    .fields_of(&org)
                    .into_iter()
                    .map(|f| {
                        let mut v = json!({"id": f.id, sp.keys.name: f.name, "farmId": f.farm_id, "growerId": f.grower_id});
                        if let Boundaries::Inline(key) = sp.boundaries {
                            v[key] = common::geojson(&f.boundary);
                        }
                        v
                    })
                    .collect();
                paged(&s, &sp, &q, items)
            }),
        );
    }
    if let Boundaries::PerField(path) | Boundaries::List(path) = spec.boundaries {
        let sp = spec.clone();
        r = r.route(
            path,
            get(move |State(s): State<Arc<SimState>>, h: HeaderMap, Path(p): Params, Query(q): Q| async move {
                if let Err(e) = authorize(&s, &sp, &h) {
                    return e;
                }
                let org = match org_param(&s, &p) {
                    Ok(o) => o,
                    Err(e) => return e,
                };
                let items = s
                    .seed
                    .fields_of(&org)
                    .into_iter()
                    .filter(|f| p.get("field").is_none_or(|id| *id == f.id))
                    .map(|f| json!({"id": format!("b-{}", f.id), "fieldId": f.id, "geometry": common::geojson(&f.boundary)}))
                    .collect();
                paged(&s, &sp, &q, items)
            }),
        );
    }
    if let Some(path) = spec.files {
        let sp = spec.clone();
        r = r.route(
            path,
            get(move |State(s): State<Arc<SimState>>, h: HeaderMap, Path(p): Params, Query(q): Q| async move {
                if let Err(e) = authorize(&s, &sp, &h) {
                    return e;
                }
                let org = match org_param(&s, &p) {
                    Ok(o) => o,
                    Err(e) => return e,
                };
                let since = common::since(q.get(sp.since_param));
                let k = sp.keys;
                let items = s
                    .seed
                    .files_of(&org, since)
                    .into_iter()
                    .map(|f| json!({k.id: f.id, k.file_name: f.name, k.created: f.created_rfc3339(), k.size: f.bytes.len(), "type": "ISOXML"}))
                    .collect();
                paged(&s, &sp, &q, items)
            }),
        );
    }
    if let Some(path) = spec.file {
        let sp = spec.clone();
        r = r.route(
            path,
            get(
                move |State(s): State<Arc<SimState>>, h: HeaderMap, Path(p): Params| async move {
                    if let Err(e) = authorize(&s, &sp, &h) {
                        return e;
                    }
                    let org = match org_param(&s, &p) {
                        Ok(o) => o,
                        Err(e) => return e,
                    };
                    match p
                        .get("id")
                        .and_then(|id| s.seed.file(id))
                        .filter(|f| f.organization_id == org)
                    {
                        Some(f) => common::serve_bytes(&s, &h, f.bytes, RANGE_OPTIONAL),
                        None => error(&s, StatusCode::NOT_FOUND, "file not found"),
                    }
                },
            )
            .delete(move || async { StatusCode::NO_CONTENT }),
        );
    }
    r
}
