//! Field operations (Leaf's operations service, `/operations`): the list (a bare array), one operation, its
//! summary, units, files, and authorized downloads of its standard, filtered and polygon outputs.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use furrow_store::{OperationFilter, StoredOperation};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::auth::Owner;
use crate::extract::ApiQuery;
use crate::files::{file_json, instant, ts};
use crate::pagination::{self, PageQuery};
use crate::{ApiError, AppState};
use furrow_pipeline::{Encoding, FilterLimits, OperationInput, OperationView, Settings};

const BASE: &str = "/services/operations/api";

/// A field operation as the API shows it (OpenAPI schema).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(as = Operation)]
pub(crate) struct OperationDoc {
    id: String,
    #[schema(rename = "apiOwnerUsername")]
    api_owner_username: String,
    #[schema(rename = "leafUserId")]
    leaf_user_id: String,
    #[schema(rename = "startTime")]
    start_time: String,
    #[schema(rename = "endTime")]
    end_time: String,
    #[schema(rename = "updatedTime")]
    updated_time: String,
    /// `planted`, `applied`, `harvested` or `tillage`.
    #[schema(rename = "type")]
    operation_type: String,
    files: Vec<String>,
    /// `[{id, coverage}]`, coverage 0–1.
    fields: Vec<Map<String, Value>>,
    providers: Vec<String>,
    /// `processing`, `processed` or `failed` (outputs).
    status: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListQuery {
    leaf_user_id: Option<String>,
    provider: Option<String>,
    operation_type: Option<String>,
    field_id: Option<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    updated_time: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

fn download_url(id: &str, artifact: &str) -> String {
    format!("{BASE}/operations/{id}/download/{artifact}")
}

fn operation_json(owner: &Owner, op: &StoredOperation) -> Value {
    let m = &op.membership;
    let mut o = Map::new();
    o.insert("id".into(), json!(m.id));
    o.insert("apiOwnerUsername".into(), json!(owner.0.username));
    o.insert("leafUserId".into(), json!(m.user_id));
    o.insert("startTime".into(), json!(ts(m.start_time)));
    o.insert("endTime".into(), json!(ts(m.end_time)));
    o.insert("updatedTime".into(), json!(ts(op.updated_at)));
    o.insert("type".into(), json!(m.operation_type));
    o.insert("files".into(), json!(m.files));
    o.insert(
        "fields".into(),
        Value::Array(
            op.fields
                .iter()
                .map(|f| json!({"id": f.id, "coverage": f.coverage}))
                .collect(),
        ),
    );
    o.insert("providers".into(), json!(m.providers));
    if let Some(crop) = &m.crop {
        o.insert("crop".into(), json!(crop));
    }
    o.insert("status".into(), json!(op.status.leaf_name()));
    if let Some(msg) = &op.message {
        o.insert("message".into(), json!(msg));
    }
    Value::Object(o)
}

/// `GET /operations`' sort keys and the columns behind them.
pub(crate) const SORT: &[(&str, &str)] = &[
    ("id", "id"),
    ("leafUserId", "user_id"),
    ("startTime", "start_time"),
    ("endTime", "end_time"),
    ("type", "operation_type"),
    ("updatedTime", "updated_at"),
];

/// Lists the owner's field operations (a bare array, by start time).
#[utoipa::path(get, operation_id = "operationsList", path = "/services/operations/api/operations", tag = "operations",
    params(("leafUserId" = Option<String>, Query), ("provider" = Option<String>, Query),
           ("operationType" = Option<String>, Query), ("fieldId" = Option<String>, Query),
           ("startTime" = Option<String>, Query, description = "ISO 8601; starting at or after"),
           ("endTime" = Option<String>, Query, description = "ISO 8601; ending at or before"),
           ("updatedTime" = Option<String>, Query, description = "ISO 8601; updated at or after"),
           ("sort" = Option<String>, Query, description = "id, leafUserId, startTime, endTime, type or updatedTime, then ,asc or ,desc"),
           ("page" = Option<i64>, Query, description = "0-based"), ("size" = Option<i64>, Query, description = "1..100, default 20")),
    responses((status = 200, body = Vec<OperationDoc>, headers(("X-Total-Count" = i64), ("Link" = String))),
              (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    owner: Owner,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let page = q.page.page()?;
    if let Some(t) = q.operation_type.as_deref().filter(|t| !t.is_empty())
        && !["planted", "applied", "harvested", "tillage"].contains(&t)
    {
        return Err(ApiError::field(
            "operationType",
            "must be planted, applied, harvested or tillage",
        ));
    }
    let filter = OperationFilter {
        leaf_user_id: q.leaf_user_id.clone().filter(|s| !s.is_empty()),
        provider: crate::extract::provider_filter(&q.provider)?,
        operation_type: q.operation_type.clone().filter(|s| !s.is_empty()),
        field_id: q.field_id.clone().filter(|s| !s.is_empty()),
        start_time: instant("startTime", &q.start_time)?,
        end_time: instant("endTime", &q.end_time)?,
        updated_time: instant("updatedTime", &q.updated_time)?,
        sort: q.page.sort_column(SORT)?,
    };
    let (ops, total) = state
        .store
        .list_operations(&owner.0.id, &filter, page)
        .await?;
    let out: Vec<Value> = ops.iter().map(|o| operation_json(&owner, o)).collect();
    let filters: Vec<(&str, &str)> = [
        ("leafUserId", &q.leaf_user_id),
        ("provider", &q.provider),
        ("operationType", &q.operation_type),
        ("fieldId", &q.field_id),
        ("startTime", &q.start_time),
        ("endTime", &q.end_time),
        ("updatedTime", &q.updated_time),
        ("sort", &q.page.sort),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
    .collect();
    let headers = pagination::headers(&format!("{BASE}/operations"), &filters, page, total);
    Ok((headers, axum::Json(Value::Array(out))))
}

/// One field operation.
#[utoipa::path(get, operation_id = "operationsGet", path = "/services/operations/api/operations/{id}", tag = "operations", params(("id" = String, Path)),
    responses((status = 200, body = OperationDoc), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let op = state.store.get_operation(&owner.0.id, &id).await?;
    Ok(axum::Json(operation_json(&owner, &op)))
}

/// Converts the operation's files again with the configuration now in force (units, cleanup rules, …), then
/// allocates, groups and rebuilds it (Leaf's reprocess; configurations are not retroactive otherwise). Answers
/// `202` with the operation, `processing` until the rebuild is done (`operationProcessingFinished`).
#[utoipa::path(post, operation_id = "operationsReprocess", path = "/services/operations/api/operations/{id}/reprocess", tag = "operations", params(("id" = String, Path)),
    responses((status = 202, body = OperationDoc), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn reprocess(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<(axum::http::StatusCode, axum::Json<Value>), ApiError> {
    state.store.reprocess_operation(&owner.0.id, &id).await?;
    let op = state.store.get_operation(&owner.0.id, &id).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        axum::Json(operation_json(&owner, &op)),
    ))
}

/// The summary Feature of an operation (same shape as a file's).
#[utoipa::path(get, operation_id = "operationsSummary", path = "/services/operations/api/operations/{id}/summary", tag = "operations", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn summary(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let op = state.store.get_operation(&owner.0.id, &id).await?;
    op.summary
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("summary", "notFound"))
}

/// The property → unit map of an operation.
#[utoipa::path(get, operation_id = "operationsUnits", path = "/services/operations/api/operations/{id}/units", tag = "operations", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn units(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let op = state.store.get_operation(&owner.0.id, &id).await?;
    op.units
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("units", "notFound"))
}

/// The files of an operation (file resources).
#[utoipa::path(get, operation_id = "operationsFiles", path = "/services/operations/api/operations/{id}/files", tag = "operations", params(("id" = String, Path)),
    responses((status = 200, body = Vec<crate::files::FileDoc>), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn files(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let op = state.store.get_operation(&owner.0.id, &id).await?;
    let mut out = Vec::new();
    for f in &op.membership.files {
        match state.store.get_file(&owner.0.id, f).await {
            Ok(file) => out.push(file_json(&owner, &file)),
            Err(furrow_store::Error::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(axum::Json(Value::Array(out)))
}

/// The outputs an operation offers: key in the answer, artifact name, content type, extension.
const ARTIFACTS: &[(&str, &str, &str)] = &[
    ("standardGeojson", "application/geo+json", "geojson"),
    ("filteredGeojson", "application/geo+json", "geojson"),
    (
        "standardGeoparquet",
        "application/vnd.apache.parquet",
        "parquet",
    ),
    (
        "filteredGeoparquet",
        "application/vnd.apache.parquet",
        "parquet",
    ),
    (
        "polygonGeoparquet",
        "application/vnd.apache.parquet",
        "parquet",
    ),
    ("polygonGeojson", "application/geo+json", "geojson"),
];

/// Why `artifact` of `op` cannot be served now, if it cannot: the operation is not built (or its build failed),
/// or the configuration key that switches the output on is off.
async fn check(
    state: &AppState,
    owner: &Owner,
    op: &StoredOperation,
    artifact: &str,
) -> Result<(), ApiError> {
    if !ARTIFACTS.iter().any(|(n, _, _)| *n == artifact) {
        return Err(ApiError::not_found("artifact", "notFound"));
    }
    if op.filter.is_none() || op.message.is_some() {
        let why = match &op.message {
            Some(m) => format!("its build failed: {m}"),
            None => "it is still being built".to_owned(),
        };
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("{artifact} not found: {why}"),
            Some("notFound"),
        ));
    }
    let s = Settings::from_config(
        &state
            .store
            .effective_config(&owner.0.id, &op.membership.user_id)
            .await?,
    );
    let off = |key: &str| {
        Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("{artifact} not found: the configuration `{key}` is off for this user"),
            Some("notFound"),
        ))
    };
    if artifact.ends_with("Geoparquet") && !artifact.starts_with("polygon") && !s.geoparquet_output
    {
        return off("enableGeoparquetOutput");
    }
    if artifact.starts_with("filtered") && !s.filtered_output {
        return off("operationsFilteredGeojson");
    }
    Ok(())
}

async fn link(
    state: &AppState,
    owner: &Owner,
    id: &str,
    artifact: &str,
) -> Result<Value, ApiError> {
    let op = state.store.get_operation(&owner.0.id, id).await?;
    check(state, owner, &op, artifact).await?;
    let url = download_url(&op.membership.id, artifact);
    let mut key = String::from("download");
    key.push_str(&artifact[..1].to_ascii_uppercase());
    key.push_str(&artifact[1..]);
    let mut out = Map::new();
    // Leaf answers GeoJSON links with both keys and GeoParquet links with the download key only.
    if artifact.ends_with("Geojson") {
        out.insert(artifact.to_owned(), json!(url));
    }
    out.insert(key, json!(url));
    Ok(Value::Object(out))
}

macro_rules! link_handler {
    ($name:ident, $id:literal, $artifact:literal, $path:literal) => {
        #[doc = concat!("Where to download the operation's `", $artifact, "` (the URL needs the token).")]
        #[utoipa::path(get, operation_id = $id, path = $path, tag = "operations", params(("id" = String, Path)),
            responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
            security(("bearer" = [])))]
        pub(crate) async fn $name(
            State(state): State<AppState>,
            owner: Owner,
            Path(id): Path<String>,
        ) -> Result<axum::Json<Value>, ApiError> {
            link(&state, &owner, &id, $artifact).await.map(axum::Json)
        }
    };
}

link_handler!(
    standard_geojson,
    "operationsStandardGeojson",
    "standardGeojson",
    "/services/operations/api/operations/{id}/standardGeojson"
);
link_handler!(
    filtered_geojson,
    "operationsFilteredGeojson",
    "filteredGeojson",
    "/services/operations/api/operations/{id}/filteredGeojson"
);
link_handler!(
    standard_geoparquet,
    "operationsStandardGeoparquet",
    "standardGeoparquet",
    "/services/operations/api/operations/{id}/standardGeoparquet"
);
link_handler!(
    filtered_geoparquet,
    "operationsFilteredGeoparquet",
    "filteredGeoparquet",
    "/services/operations/api/operations/{id}/filteredGeoparquet"
);
link_handler!(
    polygon_geojson,
    "operationsPolygonGeojson",
    "polygonGeojson",
    "/services/operations/api/operations/{id}/polygonGeojson"
);
link_handler!(
    polygon_geoparquet,
    "operationsPolygonGeoparquet",
    "polygonGeoparquet",
    "/services/operations/api/operations/{id}/polygonGeoparquet"
);

/// An operation's input with local copies of its files' points (alive as long as the input is used), and the
/// user's settings.
pub(crate) async fn operation_input(
    state: &AppState,
    owner: &Owner,
    op: &StoredOperation,
    blobs: &furrow_store::Blobs,
    artifact: &str,
) -> Result<(OperationInput, Vec<furrow_store::LocalCopy>, Settings), ApiError> {
    let settings = Settings::from_config(
        &state
            .store
            .effective_config(&owner.0.id, &op.membership.user_id)
            .await?,
    );
    let (keys, field) = state.store.operation_parts(&owner.0.id, op).await?;
    let mut parts = Vec::new();
    let mut copies = Vec::new();
    for (key, summary) in keys {
        let copy = blobs.local_copy(&key).await.map_err(|e| {
            tracing::error!(error = %e, key = %key, "blob missing");
            ApiError::not_found(artifact, "notFound")
        })?;
        parts.push((copy.path().to_path_buf(), summary));
        copies.push(copy);
    }
    let input = OperationInput::new(&op.membership.operation_type, parts, field, &settings);
    Ok((input, copies, settings))
}

/// The filtered view's limits found when the operation was built.
pub(crate) fn filter_limits(op: &StoredOperation) -> FilterLimits {
    op.filter
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// Streams one of the operation's outputs.
#[utoipa::path(get, operation_id = "operationsDownload", path = "/services/operations/api/operations/{id}/download/{artifact}", tag = "operations",
    params(("id" = String, Path), ("artifact" = String, Path, description = "standardGeojson, filteredGeojson, polygonGeojson, standardGeoparquet, filteredGeoparquet or polygonGeoparquet")),
    responses((status = 200, description = "The bytes"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn download(
    State(state): State<AppState>,
    owner: Owner,
    Path((id, artifact)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let op = state.store.get_operation(&owner.0.id, &id).await?;
    check(&state, &owner, &op, &artifact).await?;
    let Some((name, content_type, ext)) = ARTIFACTS.iter().find(|(n, _, _)| *n == artifact) else {
        return Err(ApiError::not_found("artifact", "notFound"));
    };
    let blobs = crate::files::blobs(&state)?;
    let (input, copies, _) = operation_input(&state, &owner, &op, blobs, name).await?;
    let limits = filter_limits(&op);
    let view = if name.starts_with("filtered") {
        OperationView::Filtered
    } else if name.starts_with("polygon") {
        OperationView::Polygons
    } else {
        OperationView::Standard
    };
    let encoding = if *ext == "parquet" {
        Encoding::GeoParquet
    } else {
        Encoding::GeoJson
    };
    crate::stream::blocking_body(
        content_type,
        &format!("{}-{name}.{ext}", op.membership.id),
        move |out| {
            let r = furrow_pipeline::write_operation(&input, &limits, view, encoding, out)
                .map(|_| ())
                .map_err(|e| e.to_string());
            drop(copies);
            r
        },
    )
    .await
}
