//! On-demand syncs: `POST /services/fields/api/users/{leafUserId}/fields/sync` and its equivalent for machine
//! files, `POST /services/operations/api/users/{leafUserId}/files/sync`. Both answer `202` at once; the worker
//! does the work.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::auth::Owner;
use crate::{ApiError, AppState};

fn queued(user: &str, jobs: Vec<String>) -> impl IntoResponse + use<> {
    (
        StatusCode::ACCEPTED,
        axum::Json(
            json!({"leafUserId": user, "status": "SYNC_REQUESTED", "credentials": jobs.len()}),
        ),
    )
}

/// Syncs the user's fields from every provider now (also when `fieldsAutoSync` is off).
#[utoipa::path(post, operation_id = "syncFields", path = "/services/fields/api/users/{leafUserId}/fields/sync", tag = "fields",
    params(("leafUserId" = String, Path)),
    responses((status = 202, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn fields(
    State(state): State<AppState>,
    owner: Owner,
    Path(user): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    state.store.get_user(&owner.0.id, &user).await?;
    let jobs = state.store.request_fields_sync(&owner.0.id, &user).await?;
    Ok(queued(&user, jobs))
}

/// Lists and processes the user's new machine files from every provider now.
#[utoipa::path(post, operation_id = "syncFiles", path = "/services/operations/api/users/{leafUserId}/files/sync", tag = "files",
    params(("leafUserId" = String, Path)),
    responses((status = 202, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn files(
    State(state): State<AppState>,
    owner: Owner,
    Path(user): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    state.store.get_user(&owner.0.id, &user).await?;
    let jobs = state.store.request_files_sync(&owner.0.id, &user).await?;
    Ok(queued(&user, jobs))
}

/// Enables the sync of a field that arrived in `PREVIEW` (`customDataSync`): it becomes `WAITING` and a fields
/// sync is asked for, which stores its boundary.
#[utoipa::path(post, operation_id = "syncEnableField", path = "/services/fields/api/users/{leafUserId}/fields/{id}/enableSync", tag = "fields",
    params(("leafUserId" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn enable_field(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, field)): Path<(String, String)>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let f = state
        .store
        .enable_field_sync(&owner.0.id, &user, &field)
        .await?;
    state.store.request_fields_sync(&owner.0.id, &user).await?;
    Ok(axum::Json(crate::fields::field_json(&f)))
}

/// Enables the sync of every `PREVIEW` field of these growers: `{"growerIds": [..]}`.
#[utoipa::path(post, operation_id = "syncEnableGrowers", path = "/services/fields/api/growers/enableSync", tag = "fields",
    request_body(content = Object, description = "{\"growerIds\": [integer]}"),
    responses((status = 200, body = serde_json::Value), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn enable_growers(
    State(state): State<AppState>,
    owner: Owner,
    crate::extract::ApiJson(body): crate::extract::ApiJson<serde_json::Value>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let ids: Vec<i64> = match body.get("growerIds").and_then(serde_json::Value::as_array) {
        Some(a) => a
            .iter()
            .map(crate::extract::json_integer)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                ApiError::field("growerIds", "must be an array of integer grower ids")
            })?,
        None => {
            return Err(ApiError::field(
                "growerIds",
                "is required: an array of grower ids",
            ));
        }
    };
    let enabled = state.store.enable_growers_sync(&owner.0.id, &ids).await?;
    let mut users: Vec<&str> = enabled.iter().map(|(u, _)| u.as_str()).collect();
    users.sort_unstable();
    users.dedup();
    for user in users {
        state.store.request_fields_sync(&owner.0.id, user).await?;
    }
    Ok(axum::Json(json!({
        "fields": enabled.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>(),
    })))
}
