//! Machine files (Leaf's operations service, `/files`): the list (envelope `{"operations": [...]}`), one file,
//! its step status, summary, units, and authorized downloads of its blobs.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use furrow_store::{FileFilter, FileStatus, StoredFile};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::io::AsyncReadExt;

use crate::auth::Owner;
use crate::extract::ApiQuery;
use crate::pagination::{self, PageQuery};
use crate::{ApiError, AppState};

pub(crate) const BASE: &str = "/services/operations/api";

/// A machine file as the API shows it (OpenAPI schema).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(as = MachineFile)]
pub(crate) struct FileDoc {
    id: String,
    provider: String,
    #[schema(rename = "fileName")]
    file_name: String,
    #[schema(rename = "fileFormat")]
    file_format: Option<String>,
    #[schema(rename = "leafUserId")]
    leaf_user_id: String,
    /// `processing`, `processed` or `failed`.
    status: String,
    /// `provider` or `uploaded`.
    origin: String,
    #[schema(rename = "operationType")]
    operation_type: Option<String>,
    summary: Option<Map<String, Value>>,
    #[schema(rename = "downloadOriginalFile")]
    download_original_file: Option<String>,
    #[schema(rename = "downloadStandardGeojson")]
    download_standard_geojson: Option<String>,
    #[schema(rename = "createdTime")]
    created_time: String,
    #[schema(rename = "updatedTime")]
    updated_time: String,
}

/// The list envelope of `GET /files`.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct FileListDoc {
    operations: Vec<FileDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListQuery {
    leaf_user_id: Option<String>,
    provider: Option<String>,
    status: Option<String>,
    operation_type: Option<String>,
    origin: Option<String>,
    batch_id: Option<String>,
    organization_id: Option<String>,
    created_time: Option<String>,
    updated_time: Option<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

/// Leaf's `/files` sort keys and the columns behind them.
const SORT: &[(&str, &str)] = &[
    ("id", "id"),
    ("fileName", "file_name"),
    ("createdTime", "created_at"),
    ("updatedTime", "updated_at"),
    ("origin", "origin"),
    ("leafUserId", "user_id"),
    ("sizeInBytes", "size_bytes"),
    ("provider", "provider"),
    ("organizationId", "organization_id"),
    ("fileFormat", "file_format"),
];

pub(crate) fn instant(name: &'static str, v: &Option<String>) -> Result<Option<i64>, ApiError> {
    let Some(s) = v.as_deref().filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            ApiError::field(
                name,
                "must be an ISO 8601 instant, e.g. 2024-05-01T00:00:00Z",
            )
        })?;
    Ok(i64::try_from(t.unix_timestamp_nanos() / 1_000).ok())
}

pub(crate) fn ts(micros: i64) -> String {
    furrow_model::format_timestamp(furrow_model::timestamp_from_micros(micros))
}

fn download_url(id: &str, artifact: &str) -> String {
    format!("{BASE}/files/{id}/download/{artifact}")
}

pub(crate) fn file_json(owner: &Owner, f: &StoredFile) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            m.insert(k.to_owned(), v);
        }
    };
    put("id", json!(f.id));
    put("provider", json!(f.provider));
    put("fileFormat", json!(f.file_format));
    put("fileName", json!(f.file_name));
    if f.original_path.is_some() {
        let url = download_url(&f.id, "originalFile");
        put("originalFile", json!(url));
        put("downloadOriginalFile", json!(url));
    }
    if f.geojson_path.is_some() {
        let url = download_url(&f.id, "standardGeojson");
        put("standardGeojson", json!(url));
        put("downloadStandardGeojson", json!(url));
    }
    put("leafUserId", json!(f.user_id));
    put("apiOwnerUsername", json!(owner.0.username));
    put("summary", f.summary.clone().unwrap_or(Value::Null));
    put("origin", json!(f.origin));
    put("status", json!(f.status.leaf_name()));
    put("message", json!(f.message));
    put("operationType", json!(f.operation_type));
    put("createdTime", json!(ts(f.created_at)));
    put("updatedTime", json!(ts(f.updated_at)));
    put("sizeInBytes", json!(f.size_bytes));
    put("organizationId", json!(f.organization_id));
    put("batchId", json!(f.batch_id));
    if f.facts.is_some() {
        put("fields", json!(f.field_ids));
    }
    Value::Object(m)
}

/// Lists the owner's machine files.
#[utoipa::path(get, path = "/services/operations/api/files", tag = "files",
    params(("leafUserId" = Option<String>, Query), ("provider" = Option<String>, Query),
           ("status" = Option<String>, Query, description = "processing, processed or failed"),
           ("operationType" = Option<String>, Query), ("origin" = Option<String>, Query),
           ("batchId" = Option<String>, Query, description = "files of one upload batch"),
           ("organizationId" = Option<String>, Query),
           ("createdTime" = Option<String>, Query, description = "ISO 8601; created at or after"),
           ("updatedTime" = Option<String>, Query, description = "ISO 8601; updated at or after"),
           ("sort" = Option<String>, Query, description = "id, fileName, createdTime, updatedTime, origin, leafUserId, sizeInBytes, provider, organizationId or fileFormat, then ,asc or ,desc"),
           ("startTime" = Option<String>, Query, description = "ISO 8601; files starting at or after"),
           ("endTime" = Option<String>, Query, description = "ISO 8601; files ending at or before"),
           ("page" = Option<i64>, Query, description = "0-based"), ("size" = Option<i64>, Query, description = "1..100, default 20")),
    responses((status = 200, body = FileListDoc, headers(("X-Total-Count" = i64), ("Link" = String))),
              (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    owner: Owner,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let page = q.page.page()?;
    let status =
        match q.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(FileStatus::parse(s).ok_or_else(|| {
                ApiError::field("status", "must be processing, processed or failed")
            })?),
        };
    let filter = FileFilter {
        leaf_user_id: q.leaf_user_id.clone(),
        provider: q.provider.clone(),
        status,
        operation_type: q.operation_type.clone(),
        origin: q.origin.clone(),
        start_time: instant("startTime", &q.start_time)?,
        end_time: instant("endTime", &q.end_time)?,
        batch_id: q.batch_id.clone(),
        organization_id: q.organization_id.clone().filter(|s| !s.is_empty()),
        created_time: instant("createdTime", &q.created_time)?,
        updated_time: instant("updatedTime", &q.updated_time)?,
        sort: q.page.sort_column(SORT)?,
    };
    let (files, total) = state.store.list_files(&owner.0.id, &filter, page).await?;
    let out: Vec<Value> = files.iter().map(|f| file_json(&owner, f)).collect();
    let filters: Vec<(&str, &str)> = [
        ("leafUserId", &q.leaf_user_id),
        ("provider", &q.provider),
        ("status", &q.status),
        ("operationType", &q.operation_type),
        ("origin", &q.origin),
        ("batchId", &q.batch_id),
        ("organizationId", &q.organization_id),
        ("createdTime", &q.created_time),
        ("updatedTime", &q.updated_time),
        ("sort", &q.page.sort),
        ("startTime", &q.start_time),
        ("endTime", &q.end_time),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
    .collect();
    let headers = pagination::headers(&format!("{BASE}/files"), &filters, page, total);
    Ok((headers, axum::Json(json!({ "operations": out }))))
}

/// One machine file.
#[utoipa::path(get, path = "/services/operations/api/files/{id}", tag = "files", params(("id" = String, Path)),
    responses((status = 200, body = FileDoc), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let f = state.store.get_file(&owner.0.id, &id).await?;
    Ok(axum::Json(file_json(&owner, &f)))
}

/// The state of each processing step: `{step: {status, message}}`.
#[utoipa::path(get, path = "/services/operations/api/files/{id}/status", tag = "files", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn status(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let f = state.store.get_file(&owner.0.id, &id).await?;
    let mut out = Map::new();
    if let Value::Object(steps) = &f.steps {
        for (step, s) in steps {
            let name = match step.as_str() {
                "original" => "originalFile",
                "standard" => "standardGeoparquet",
                "geojson" => "standardGeojson",
                other => other,
            };
            let (status, message) = match s.as_str() {
                Some("DONE") => ("processed", "ok".to_owned()),
                Some("FAILED") => ("failed", f.message.clone().unwrap_or_default()),
                _ => ("skipped", "skipped".to_owned()),
            };
            out.insert(
                name.to_owned(),
                json!({"status": status, "message": message}),
            );
        }
    }
    Ok(axum::Json(Value::Object(out)))
}

/// The summary Feature of a processed file.
#[utoipa::path(get, path = "/services/operations/api/files/{id}/summary", tag = "files", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn summary(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let f = state.store.get_file(&owner.0.id, &id).await?;
    f.summary
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("summary", "notFound"))
}

/// The property → unit map of a processed file.
#[utoipa::path(get, path = "/services/operations/api/files/{id}/units", tag = "files", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn units(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let f = state.store.get_file(&owner.0.id, &id).await?;
    f.units
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("units", "notFound"))
}

/// Where to download the standard GeoParquet: `{"downloadStandardGeoparquet": URL}` (the URL needs the token).
#[utoipa::path(get, path = "/services/operations/api/files/{id}/standardGeoparquet", tag = "files", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn standard_geoparquet(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let f = state.store.get_file(&owner.0.id, &id).await?;
    if f.standard_path.is_none() {
        return Err(ApiError::not_found("standardGeoparquet", "notFound"));
    }
    Ok(axum::Json(
        json!({"downloadStandardGeoparquet": download_url(&f.id, "standardGeoparquet")}),
    ))
}

/// The swath polygons of a file, written beside its standard GeoParquet when `enablePolygonOutput` was on.
fn polygon_path(f: &StoredFile) -> Option<String> {
    let standard = f.standard_path.as_deref()?;
    let p = std::path::Path::new(standard).with_file_name(furrow_sync::OP_POLYGON_PARQUET);
    p.exists().then(|| p.display().to_string())
}

/// Where to download the file's swath polygons (needs `enablePolygonOutput`):
/// `{"downloadPolygonGeoparquet": URL}`.
#[utoipa::path(get, path = "/services/operations/api/files/{id}/polygonGeoparquet", tag = "files", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn polygon_geoparquet(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let f = state.store.get_file(&owner.0.id, &id).await?;
    if polygon_path(&f).is_none() {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "polygonGeoparquet not found: enablePolygonOutput was off when the file was processed, or its points \
             carry no width, distance and heading",
            Some("notFound"),
        ));
    }
    Ok(axum::Json(
        json!({"downloadPolygonGeoparquet": download_url(&f.id, "polygonGeoparquet")}),
    ))
}

/// The points of a file outside every field (needs `enableOutsideFieldGeojson`):
/// `{fields, featureCount, outsideFieldGeojson, downloadOutsideFieldGeojson}`.
#[utoipa::path(get, path = "/services/operations/api/files/{id}/outsideFieldGeojson", tag = "files", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn outside_field_geojson(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let f = state.store.get_file(&owner.0.id, &id).await?;
    if f.outside_path.is_none() {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "outsideFieldGeojson not found: either every point of the file is inside a field or \
             enableOutsideFieldGeojson was off when it was processed",
            Some("notFound"),
        ));
    }
    let url = download_url(&f.id, "outsideFieldGeojson");
    Ok(axum::Json(json!({
        "fields": f.field_ids,
        "featureCount": f.outside_count.unwrap_or(0),
        "outsideFieldGeojson": url,
        "downloadOutsideFieldGeojson": url,
    })))
}

/// Streams one of the file's blobs: `originalFile`, `standardGeoparquet` or `standardGeojson`.
#[utoipa::path(get, path = "/services/operations/api/files/{id}/download/{artifact}", tag = "files",
    params(("id" = String, Path), ("artifact" = String, Path, description = "originalFile, standardGeoparquet or standardGeojson")),
    responses((status = 200, description = "The bytes"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn download(
    State(state): State<AppState>,
    owner: Owner,
    Path((id, artifact)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let f = state.store.get_file(&owner.0.id, &id).await?;
    let (path, content_type, name) = match artifact.as_str() {
        "originalFile" => (
            f.original_path.clone(),
            "application/octet-stream",
            f.file_name.clone(),
        ),
        "standardGeoparquet" => (
            f.standard_path.clone(),
            "application/vnd.apache.parquet",
            format!("{}.parquet", f.id),
        ),
        "standardGeojson" => (
            f.geojson_path.clone(),
            "application/geo+json",
            format!("{}.geojson", f.id),
        ),
        "outsideFieldGeojson" => (
            f.outside_path.clone(),
            "application/geo+json",
            format!("{}-outside.geojson", f.id),
        ),
        "polygonGeoparquet" => (
            polygon_path(&f),
            "application/vnd.apache.parquet",
            format!("{}-polygons.parquet", f.id),
        ),
        _ => return Err(ApiError::not_found("artifact", "notFound")),
    };
    let path = path.ok_or_else(|| ApiError::not_found(&artifact, "notFound"))?;
    stream_blob(&path, &artifact, content_type, &name).await
}

/// Streams a blob as an attachment named `name` (64 KiB chunks; never the whole file in memory).
pub(crate) async fn stream_blob(
    path: &str,
    artifact: &str,
    content_type: &'static str,
    name: &str,
) -> Result<Response, ApiError> {
    let file = tokio::fs::File::open(path).await.map_err(|e| {
        tracing::error!(error = %e, path = %path, "blob missing");
        ApiError::not_found(artifact, "notFound")
    })?;
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut resp = Body::from_stream(stream).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
