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

fn internal(e: furrow_sync::Error) -> ApiError {
    match e {
        furrow_sync::Error::Store(e) => e.into(),
        e => {
            tracing::error!(error = %e, "could not request a sync");
            ApiError::internal()
        }
    }
}

/// Syncs the user's fields from every provider now (also when `fieldsAutoSync` is off).
#[utoipa::path(post, path = "/services/fields/api/users/{leafUserId}/fields/sync", tag = "fields",
    params(("leafUserId" = String, Path)),
    responses((status = 202, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn fields(
    State(state): State<AppState>,
    owner: Owner,
    Path(user): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    state.store.get_user(&owner.0.id, &user).await?;
    let jobs = furrow_sync::request_fields_sync(&state.store, &owner.0.id, &user)
        .await
        .map_err(internal)?;
    Ok(queued(&user, jobs))
}

/// Lists and processes the user's new machine files from every provider now.
#[utoipa::path(post, path = "/services/operations/api/users/{leafUserId}/files/sync", tag = "files",
    params(("leafUserId" = String, Path)),
    responses((status = 202, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn files(
    State(state): State<AppState>,
    owner: Owner,
    Path(user): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    state.store.get_user(&owner.0.id, &user).await?;
    let jobs = furrow_sync::request_files_sync(&state.store, &owner.0.id, &user)
        .await
        .map_err(internal)?;
    Ok(queued(&user, jobs))
}
