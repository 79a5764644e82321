//! Raven Slingshot: HMAC-SHA1 signed requests valid 120 s, `page`/`pageSize` index responses (JSON on
//! request), `MORE_TIME_NEEDED` conversions, each job in the three forms the API offers (`format=shp` the
//! shapefile export, `bin` the display's original zip, `fmis` Raven's XML + TAB) and 30 requests per minute. XML is the default answer format [C];
//! `Accept: application/json` gets JSON.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;

use crate::common::{self, RANGE_OPTIONAL};
use crate::providers::SINGLE_ORG;
use crate::state::SimState;

type St = State<Arc<SimState>>;

/// The signature of a request (providers.md 7.1); the shared secret is base64-decoded first.
pub fn signature(
    method: &str,
    host: &str,
    path: &str,
    timestamp: &str,
    api_key: &str,
    access_key: &str,
    shared_secret_b64: &str,
) -> Option<String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(shared_secret_b64)
        .ok()?;
    let text = format!(
        "{method}\r\n{}\r\n{}\r\n{timestamp}\r\n{api_key}\r\n{access_key}\r\n",
        host.to_lowercase(),
        path.to_lowercase()
    );
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).ok()?;
    mac.update(text.as_bytes());
    Some(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// XML text with the five predefined entities escaped.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn wants_json(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("json"))
}

fn xml(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        format!(r#"<?xml version="1.0" encoding="utf-8"?>{body}"#),
    )
        .into_response()
}

/// A `SlingshotResponse` status (`MORE_TIME_NEEDED`, `NO_COVERAGE`) in the format asked for.
fn status(h: &HeaderMap, status: &str, info: &str) -> Response {
    if wants_json(h) {
        return common::ok_json(json!({"Status": status, "ErrorInfo": info}));
    }
    xml(format!(
        "<SlingshotResponse><Status>{}</Status><ErrorInfo>{}</ErrorInfo></SlingshotResponse>",
        esc(status),
        esc(info)
    ))
}

fn unauthorized(why: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "text/plain")],
        format!("Unauthorized: {why}"),
    )
        .into_response()
}

fn verify(
    s: &SimState,
    method: &Method,
    uri: &axum::http::Uri,
    h: &HeaderMap,
) -> Result<usize, Response> {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if get("x-ss-apikey") != s.app.api_key {
        return Err(unauthorized("Invalid API Key"));
    }
    let grant = s
        .grants
        .by_access_key(get("x-ss-accesskey"))
        .map_err(|_| unauthorized("Invalid Access Key"))?;
    let ts: i64 = get("x-ss-timestamp")
        .parse()
        .map_err(|_| unauthorized("Invalid Timestamp"))?;
    if (s.now() - ts).abs() > 120 {
        return Err(unauthorized("Expired Timestamp"));
    }
    let expected = signature(
        method.as_str(),
        get("host"),
        uri.path(),
        get("x-ss-timestamp"),
        &s.app.api_key,
        get("x-ss-accesskey"),
        &s.app.shared_secret,
    );
    if expected.as_deref() != Some(get("x-ss-signature")) {
        return Err(unauthorized("Invalid Signature"));
    }
    if s.faults.is_missing_scope() {
        return Err(common::json_status(
            StatusCode::FORBIDDEN,
            json!({"message": "Access key has no permission for JobData"}),
        ));
    }
    Ok(grant)
}

async fn access_key(
    State(s): St,
    m: Method,
    OriginalUri(u): OriginalUri,
    h: HeaderMap,
) -> Response {
    match verify(&s, &m, &u, &h) {
        Ok(_) if wants_json(&h) => common::ok_json(json!({"Status": "Active", "Name": "furrow"})),
        Ok(_) => xml("<AccessKey><Status>Active</Status><Name>furrow</Name></AccessKey>".into()),
        Err(e) => e,
    }
}

async fn job_data(
    State(s): St,
    m: Method,
    OriginalUri(u): OriginalUri,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = verify(&s, &m, &u, &h) {
        return e;
    }
    let size: usize = q
        .get("pageSize")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .clamp(1, 1000)
        .min(s.page_size());
    let page_no: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(0);
    let since = common::since(q.get("date"));
    // Newest first.
    let mut files = s.seed.files_of(SINGLE_ORG, since);
    files.reverse();
    let total = files.len();
    let (page, _) = common::page(&files, page_no * size, size);
    let items: Vec<_> = page
        .iter()
        .map(|f| json!({"ID": f.id, "Name": f.name, "Uri": format!("/JobData/{}", f.id), "SubType": "AsApplied",
                        "CreateDate": f.created_rfc3339(), "UpdateDate": f.created_rfc3339(), "Size": f.bytes.len()}))
        .collect();
    let pages = total.div_ceil(size);
    if !wants_json(&h) {
        let items: String = page
            .iter()
            .map(|f| {
                let t = esc(&f.created_rfc3339());
                format!(
                    "<JobData><ID>{id}</ID><Name>{name}</Name><Uri>/JobData/{id}</Uri><SubType>AsApplied</SubType>\
                     <CreateDate>{t}</CreateDate><UpdateDate>{t}</UpdateDate><Size>{size}</Size></JobData>",
                    id = esc(&f.id),
                    name = esc(&f.name),
                    size = f.bytes.len(),
                )
            })
            .collect();
        return xml(format!(
            r#"<SlingshotIndex xmlns="http://schemas.ravenslingshot.com/SlingshotIndex/2010"><TotalCount>{total}</TotalCount><PageSize>{size}</PageSize><IsPreviousPage>{prev}</IsPreviousPage><IsNextPage>{next}</IsNextPage><PageIndex>{page_no}</PageIndex><TotalPages>{pages}</TotalPages>{items}</SlingshotIndex>"#,
            prev = page_no > 0,
            next = page_no + 1 < pages,
        ));
    }
    common::ok_json(
        json!({"TotalCount": total, "PageSize": size, "PageIndex": page_no, "TotalPages": pages,
                           "IsPreviousPage": page_no > 0, "IsNextPage": page_no + 1 < pages, "JobData": items}),
    )
}

async fn job_file(
    State(s): St,
    m: Method,
    OriginalUri(u): OriginalUri,
    h: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = verify(&s, &m, &u, &h) {
        return e;
    }
    let Some(f) = s
        .seed
        .files_of(SINGLE_ORG, None)
        .into_iter()
        .find(|f| f.id == id)
    else {
        return common::error(&s, StatusCode::NOT_FOUND, "not found");
    };
    let format = q.get("format").map(String::as_str);
    if format.is_none() {
        if !wants_json(&h) {
            return xml(format!(
                "<JobData><ID>{}</ID><Name>{}</Name><CreateDate>{}</CreateDate></JobData>",
                esc(&f.id),
                esc(&f.name),
                esc(&f.created_rfc3339())
            ));
        }
        return common::ok_json(
            json!({"ID": f.id, "Name": f.name, "CreateDate": f.created_rfc3339()}),
        );
    }
    // `shp`: the job's shapefile export (the seeded bytes); `bin`: the display's original zip; `fmis`: Raven's
    // XML + TAB export [C]. Only the shapefile is something furrow converts; the other two are stand-ins with
    // the real files' names.
    let bytes = match format {
        Some("shp") => f.bytes,
        Some("bin") => bytes::Bytes::from(crate::synthetic::proprietary_zip(
            &[(
                &format!("{}.jdp", f.name),
                "a Raven display's original job data (.jdp)",
                4_000,
            )],
            7,
        )),
        Some("fmis") => bytes::Bytes::from(crate::synthetic::proprietary_zip(
            &[
                (
                    &format!("{}.xml", f.name),
                    "a Raven FMIS job description (.xml)",
                    500,
                ),
                (
                    &format!("{}.tab", f.name),
                    "a Raven FMIS data table (.tab)",
                    4_000,
                ),
            ],
            8,
        )),
        Some(other) => {
            return common::error(
                &s,
                StatusCode::BAD_REQUEST,
                &format!("unknown format {other}: bin, shp or fmis"),
            );
        }
        None => return common::error(&s, StatusCode::BAD_REQUEST, "no format"),
    };
    if s.faults.take_async_poll() {
        return status(&h, "MORE_TIME_NEEDED", "00:00:01");
    }
    common::serve_bytes(&s, &h, bytes, RANGE_OPTIONAL)
}

pub(crate) fn router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/AccessKey", get(access_key))
        .route("/JobData", get(job_data))
        .route("/JobData/{id}", get(job_file))
}
