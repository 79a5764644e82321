//! Machine files (Leaf's operations service, `/files`): the list (envelope `{"operations": [...]}`), one file,
//! its step status, summary, units, and authorized downloads of its blobs.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use furrow_pipeline::{Encoding, Settings, View};
use furrow_store::{FileFilter, FileStatus, StoredFile};
use serde::Deserialize;
use serde_json::{Map, Value, json};

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
pub(crate) const SORT: &[(&str, &str)] = &[
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
    if f.original_key.is_some() {
        let url = download_url(&f.id, "originalFile");
        put("originalFile", json!(url));
        put("downloadOriginalFile", json!(url));
    }
    if f.standard_key.is_some() {
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
#[utoipa::path(get, operation_id = "filesList", path = "/services/operations/api/files", tag = "files",
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
        provider: crate::extract::provider_filter(&q.provider)?,
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
#[utoipa::path(get, operation_id = "filesGet", path = "/services/operations/api/files/{id}", tag = "files", params(("id" = String, Path)),
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
#[utoipa::path(get, operation_id = "filesStatus", path = "/services/operations/api/files/{id}/status", tag = "files", params(("id" = String, Path)),
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
            // `DONE`, `FAILED` (the file's message says why) or `FAILED:why` / `SKIPPED:why` for a step that
            // does not fail the file.
            let state = s.as_str().unwrap_or_default();
            let (status, message) = match state.split_once(':') {
                Some(("FAILED", why)) => ("failed", why.to_owned()),
                Some((_, why)) => ("skipped", why.to_owned()),
                None => match state {
                    "DONE" => ("processed", "ok".to_owned()),
                    "FAILED" => ("failed", f.message.clone().unwrap_or_default()),
                    _ => ("skipped", "skipped".to_owned()),
                },
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
#[utoipa::path(get, operation_id = "filesSummary", path = "/services/operations/api/files/{id}/summary", tag = "files", params(("id" = String, Path)),
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
#[utoipa::path(get, operation_id = "filesUnits", path = "/services/operations/api/files/{id}/units", tag = "files", params(("id" = String, Path)),
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

/// The user's pipeline settings (gates on the optional outputs).
async fn settings(state: &AppState, owner: &Owner, user: &str) -> Result<Settings, ApiError> {
    Ok(Settings::from_config(
        &state.store.effective_config(&owner.0.id, user).await?,
    ))
}

fn disabled(artifact: &str, key: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        format!(
            "{artifact} not found: the configuration `{key}` is off for this user (turn it on with PATCH /configs)"
        ),
        Some("notFound"),
    )
}

pub(crate) fn blobs(state: &AppState) -> Result<&furrow_store::Blobs, ApiError> {
    state.config.blobs.as_ref().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "this server has no blob store",
            Some("blobsDisabled"),
        )
    })
}

/// Checks that `artifact` of file `f` can be served now: the file has standard points, and the configuration
/// key that switches the output on is on.
async fn check(
    state: &AppState,
    owner: &Owner,
    f: &StoredFile,
    artifact: &str,
) -> Result<(), ApiError> {
    if artifact == "originalFile" {
        return f
            .original_key
            .as_ref()
            .map(|_| ())
            .ok_or_else(|| ApiError::not_found(artifact, "notFound"));
    }
    if f.standard_key.is_none() {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!(
                "{artifact} not found: the file has no standard points ({})",
                f.message.as_deref().unwrap_or(f.status.leaf_name())
            ),
            Some("notFound"),
        ));
    }
    let s = settings(state, owner, &f.user_id).await?;
    match artifact {
        "standardGeoparquet" if !s.geoparquet_output => {
            Err(disabled(artifact, "enableGeoparquetOutput"))
        }
        "polygonGeoparquet" if !s.polygon_output => Err(disabled(artifact, "enablePolygonOutput")),
        "outsideFieldGeojson" if !s.outside_field_geojson => {
            Err(disabled(artifact, "enableOutsideFieldGeojson"))
        }
        "standardGeojson"
        | "standardGeoparquet"
        | "polygonGeoparquet"
        | "polygonGeojson"
        | "outsideFieldGeojson" => Ok(()),
        _ => Err(ApiError::not_found("artifact", "notFound")),
    }
}

/// Where to download the standard GeoParquet (needs `enableGeoparquetOutput`):
/// `{"downloadStandardGeoparquet": URL}` (the URL needs the token).
#[utoipa::path(get, operation_id = "filesStandardGeoparquet", path = "/services/operations/api/files/{id}/standardGeoparquet", tag = "files", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn standard_geoparquet(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let f = state.store.get_file(&owner.0.id, &id).await?;
    check(&state, &owner, &f, "standardGeoparquet").await?;
    Ok(axum::Json(
        json!({"downloadStandardGeoparquet": download_url(&f.id, "standardGeoparquet")}),
    ))
}

/// Where to download the file's swath polygons (needs `enablePolygonOutput`):
/// `{"downloadPolygonGeoparquet": URL}`.
#[utoipa::path(get, operation_id = "filesPolygonGeoparquet", path = "/services/operations/api/files/{id}/polygonGeoparquet", tag = "files", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn polygon_geoparquet(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let f = state.store.get_file(&owner.0.id, &id).await?;
    check(&state, &owner, &f, "polygonGeoparquet").await?;
    Ok(axum::Json(
        json!({"downloadPolygonGeoparquet": download_url(&f.id, "polygonGeoparquet")}),
    ))
}

/// The points of a file outside every field (needs `enableOutsideFieldGeojson`):
/// `{fields, featureCount, outsideFieldGeojson, downloadOutsideFieldGeojson}`.
#[utoipa::path(get, operation_id = "filesOutsideFieldGeojson", path = "/services/operations/api/files/{id}/outsideFieldGeojson", tag = "files", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn outside_field_geojson(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let f = state.store.get_file(&owner.0.id, &id).await?;
    check(&state, &owner, &f, "outsideFieldGeojson").await?;
    if f.outside_count.unwrap_or(0) == 0 {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "outsideFieldGeojson not found: every point of the file is inside a field (or it was not allocated yet)",
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

/// Streams one of the file's outputs: `originalFile` and `standardGeoparquet` as stored, the GeoJSON views
/// (`standardGeojson`, `polygonGeojson`, `outsideFieldGeojson`) and `polygonGeoparquet` written on request from
/// the stored GeoParquet.
#[utoipa::path(get, operation_id = "filesDownload", path = "/services/operations/api/files/{id}/download/{artifact}", tag = "files",
    params(("id" = String, Path), ("artifact" = String, Path, description = "originalFile, standardGeoparquet, standardGeojson, polygonGeoparquet, polygonGeojson or outsideFieldGeojson")),
    responses((status = 200, description = "The bytes"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn download(
    State(state): State<AppState>,
    owner: Owner,
    Path((id, artifact)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let f = state.store.get_file(&owner.0.id, &id).await?;
    check(&state, &owner, &f, &artifact).await?;
    let blobs = blobs(&state)?;
    const PARQUET: &str = "application/vnd.apache.parquet";
    const GEOJSON: &str = "application/geo+json";
    let standard = f.standard_key.clone().unwrap_or_default();
    match artifact.as_str() {
        "originalFile" => {
            let key = f.original_key.clone().unwrap_or_default();
            crate::stream::blob(
                blobs,
                &key,
                &artifact,
                "application/octet-stream",
                &f.file_name,
            )
            .await
        }
        "standardGeoparquet" => {
            crate::stream::blob(
                blobs,
                &standard,
                &artifact,
                PARQUET,
                &format!("{}.parquet", f.id),
            )
            .await
        }
        other => {
            let (encoding, content_type, name) = match other {
                "polygonGeoparquet" => (
                    Encoding::GeoParquet,
                    PARQUET,
                    format!("{}-polygons.parquet", f.id),
                ),
                "polygonGeojson" => (
                    Encoding::GeoJson,
                    GEOJSON,
                    format!("{}-polygons.geojson", f.id),
                ),
                "outsideFieldGeojson" => (
                    Encoding::GeoJson,
                    GEOJSON,
                    format!("{}-outside.geojson", f.id),
                ),
                _ => (Encoding::GeoJson, GEOJSON, format!("{}.geojson", f.id)),
            };
            let index = if other == "outsideFieldGeojson" {
                let fields = state
                    .store
                    .active_boundaries_in_bbox(
                        &owner.0.id,
                        &f.user_id,
                        [-180.0, -90.0, 180.0, 90.0],
                    )
                    .await?
                    .into_iter()
                    .map(|b| furrow_allocate::Field {
                        id: b.field_id,
                        boundary: b.geometry,
                    })
                    .collect::<Vec<_>>();
                Some(furrow_allocate::FieldIndex::build(fields).map_err(|e| {
                    tracing::error!(error = %e, "the user's fields could not be indexed");
                    ApiError::internal()
                })?)
            } else {
                None
            };
            let copy = blobs.local_copy(&standard).await.map_err(|e| {
                tracing::error!(error = %e, key = %standard, "blob missing");
                ApiError::not_found(&artifact, "notFound")
            })?;
            let polygons = other.starts_with("polygon");
            crate::stream::blocking_body(content_type, &name, move |out| {
                let view = match (&index, polygons) {
                    (Some(index), _) => View::Outside(index),
                    (None, true) => View::Polygons,
                    (None, false) => View::Points,
                };
                furrow_pipeline::write_view(copy.path(), view, encoding, out)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
            .await
        }
    }
}
