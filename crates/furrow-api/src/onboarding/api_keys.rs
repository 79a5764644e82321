//! `/api-keys`: keys that act for one Leaf user. The key is shown once, at creation; the store keeps its
//! SHA-256 and last four characters.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use furrow_store::ApiKey;
use serde_json::{Value, json};

use crate::auth::Owner;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

/// Shortest and longest key lifetime, seconds (15 minutes; one year).
pub(crate) const MIN_EXPIRES_IN: i64 = 900;
pub(crate) const MAX_EXPIRES_IN: i64 = 31_536_000;

fn key_json(k: &ApiKey, now: i64) -> Value {
    let mut v = json!({
        "id": k.id,
        "key": format!("lk_…{}", k.last4),
        "leafUserId": k.user_id,
        "expiresAt": super::ts(k.expires_at),
        "valid": k.is_valid(now),
    });
    if let Some(d) = &k.description {
        v["description"] = json!(d);
    }
    if let Some(r) = k.revoked_at {
        v["revokedAt"] = json!(super::ts(r));
    }
    v
}

/// `expiresIn` in seconds within the allowed range, else `400 invalidExpiresIn`.
pub(crate) fn expires_in(v: Option<&Value>, default: i64) -> Result<i64, ApiError> {
    let secs = match v {
        None | Some(Value::Null) => default,
        // 900.0 is the integer JSON Schema (and the document) says it is.
        Some(v) => crate::extract::json_integer(v)
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .ok_or_else(|| {
                ApiError::field("expiresIn", "must be a whole number of seconds")
                    .with_key("invalidExpiresIn")
            })?,
    };
    if !(MIN_EXPIRES_IN..=MAX_EXPIRES_IN).contains(&secs) {
        return Err(ApiError::field(
            "expiresIn",
            format!("must be between {MIN_EXPIRES_IN} and {MAX_EXPIRES_IN} seconds"),
        )
        .with_key("invalidExpiresIn"));
    }
    Ok(secs)
}

/// `GET /api-keys?leafUserId=`: a user's keys, newest first (never the keys themselves).
#[utoipa::path(get, operation_id = "apiKeysList", path = "/services/usermanagement/api/api-keys", tag = "onboarding", params(("leafUserId" = String, Query)), responses((status = 200, body = Vec<Object>, description = "{id, key (masked), leafUserId, description?, expiresAt, valid, revokedAt?}, newest first"), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    owner: Owner,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::Json<Value>, ApiError> {
    let Some(user) = q.get("leafUserId").filter(|u| !u.trim().is_empty()) else {
        return Err(ApiError::field("leafUserId", "is required"));
    };
    let keys = state.store.list_api_keys(&owner.0.id, user).await?;
    let now = furrow_model::now_micros();
    Ok(axum::Json(json!(
        keys.iter().map(|k| key_json(k, now)).collect::<Vec<_>>()
    )))
}

/// `POST /api-keys`: `{leafUserId, expiresIn?, description?}`; answers the key once.
#[utoipa::path(post, operation_id = "apiKeysCreate", path = "/services/usermanagement/api/api-keys", tag = "onboarding", request_body(content = Object, description = "{leafUserId, expiresIn? (900..31536000 s), description?}"), responses((status = 201, body = Object, description = "the key, shown once"), (status = 400, body = crate::error::Problem, description = "validation, invalidExpiresIn"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    owner: Owner,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::field("body", "must be a JSON object"));
    };
    let user = match obj.get("leafUserId") {
        Some(Value::String(u)) if !u.trim().is_empty() => u.clone(),
        _ => {
            return Err(ApiError::field(
                "leafUserId",
                "is required (a Leaf user id)",
            ));
        }
    };
    let description = match obj.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) if d.chars().count() <= 255 => Some(d.clone()),
        Some(_) => {
            return Err(ApiError::field(
                "description",
                "must be a string of at most 255 characters",
            ));
        }
    };
    let secs = expires_in(obj.get("expiresIn"), MAX_EXPIRES_IN)?;
    let now = furrow_model::now_micros();
    let (k, key) = state
        .store
        .create_api_key(
            &owner.0.id,
            &user,
            description.as_deref(),
            now + secs * 1_000_000,
        )
        .await?;
    let mut v = key_json(&k, now);
    v["key"] = json!(key);
    Ok((StatusCode::CREATED, axum::Json(v)))
}

/// `DELETE /api-keys/{id}`: revokes (the row stays, `valid: false`); again is `204` too.
#[utoipa::path(delete, operation_id = "apiKeysRevoke", path = "/services/usermanagement/api/api-keys/{id}", tag = "onboarding", params(("id" = String, Path)), responses((status = 204, description = "revoked (again: 204)"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .revoke_api_key(&owner.0.id, &id)
        .await
        .map_err(|e| match e {
            furrow_store::Error::NotFound(_) => ApiError::not_found("API key", "apiKeyNotFound"),
            e => e.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
