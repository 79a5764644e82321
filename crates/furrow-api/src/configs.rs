use axum::extract::{Path, State};
use axum::http::StatusCode;
use furrow_credentials::FieldError;
use serde_json::{Map, Value, json};

use crate::auth::Owner;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

fn body_map(body: Value) -> Result<Map<String, Value>, ApiError> {
    let Value::Object(map) = body else {
        return Err(ApiError::field(
            "body",
            "must be a JSON object of configuration keys",
        ));
    };
    if let Err(errors) = furrow_model::validate_config(&map) {
        if let Some(unknown) = errors.iter().find(|e| e.unknown) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                unknown.message.clone(),
                Some("unknownConfiguration"),
            ));
        }
        if let Some(unsupported) = errors.iter().find(|e| e.unsupported) {
            return Err(
                ApiError::field(&unsupported.key, unsupported.message.clone())
                    .with_key("unsupportedConfiguration"),
            );
        }
        let errors = errors
            .into_iter()
            .map(|e| FieldError::new(e.key, e.message))
            .collect();
        return Err(ApiError::invalid("configuration body", errors));
    }
    Ok(map)
}

fn response(owner: &Owner, user: &str, values: Map<String, Value>) -> Value {
    let mut out = values;
    out.insert("apiOwnerUsername".into(), json!(owner.0.username));
    out.insert("leafUserId".into(), json!(user));
    Value::Object(out)
}

async fn owner_values(state: &AppState, owner: &Owner) -> Result<Map<String, Value>, ApiError> {
    Ok(state.store.get_config(&owner.0.id, None).await?)
}

/// The API owner's configuration (every key).
#[utoipa::path(get, operation_id = "configsGetOwner", path = "/services/config/api/configs", tag = "configurations",
    responses((status = 200, body = Object), (status = 401, body = crate::error::Problem)), security(("bearer" = [])))]
pub(crate) async fn get_owner(
    State(state): State<AppState>,
    owner: Owner,
) -> Result<axum::Json<Value>, ApiError> {
    let own = owner_values(&state, &owner).await?;
    Ok(axum::Json(response(
        &owner,
        "",
        furrow_model::effective_config(&own, None),
    )))
}

/// Changes the given keys of the API owner's configuration (users inherit keys they have not set).
#[utoipa::path(patch, operation_id = "configsPatchOwner", path = "/services/config/api/configs", tag = "configurations", request_body = Object,
    responses((status = 200, body = Object), (status = 400, body = crate::error::Problem, description = "unknownConfiguration or validation"),
              (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn patch_owner(
    State(state): State<AppState>,
    owner: Owner,
    ApiJson(body): ApiJson<Value>,
) -> Result<axum::Json<Value>, ApiError> {
    let update = body_map(body)?;
    let own = state.store.merge_config(&owner.0.id, None, &update).await?;
    Ok(axum::Json(response(
        &owner,
        "",
        furrow_model::effective_config(&own, None),
    )))
}

/// A user's effective configuration (inherited and own keys).
#[utoipa::path(get, operation_id = "configsGetUser", path = "/services/config/api/configs/{leafUserId}", tag = "configurations", params(("leafUserId" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get_user(
    State(state): State<AppState>,
    owner: Owner,
    Path(user): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    state.store.get_user(&owner.0.id, &user).await?;
    let own = owner_values(&state, &owner).await?;
    let mine = state.store.get_config(&owner.0.id, Some(&user)).await?;
    Ok(axum::Json(response(
        &owner,
        &user,
        furrow_model::effective_config(&own, Some(&mine)),
    )))
}

/// Sets keys at user level (they stop following the owner's values); POST and PATCH both merge.
#[utoipa::path(method(post, patch), operation_id = "configsPatchUser", path = "/services/config/api/configs/{leafUserId}", tag = "configurations", params(("leafUserId" = String, Path)),
    request_body = Object,
    responses((status = 200, body = Object), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn patch_user(
    State(state): State<AppState>,
    owner: Owner,
    Path(user): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<axum::Json<Value>, ApiError> {
    state.store.get_user(&owner.0.id, &user).await?;
    let update = body_map(body)?;
    let mine = state
        .store
        .merge_config(&owner.0.id, Some(&user), &update)
        .await?;
    let own = owner_values(&state, &owner).await?;
    Ok(axum::Json(response(
        &owner,
        &user,
        furrow_model::effective_config(&own, Some(&mine)),
    )))
}

/// Removes a user's own keys: the user inherits everything again.
#[utoipa::path(delete, operation_id = "configsDeleteUser", path = "/services/config/api/configs/{leafUserId}", tag = "configurations", params(("leafUserId" = String, Path)),
    responses((status = 204), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn delete_user(
    State(state): State<AppState>,
    owner: Owner,
    Path(user): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.get_user(&owner.0.id, &user).await?;
    state.store.delete_user_config(&owner.0.id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
