use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use furrow_credentials::{FieldError, Provider};
use furrow_model::{LeafUser, UserFilter, UserInput};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::auth::Owner;
use crate::credentials::credential_json;
use crate::extract::{ApiJson, ApiQuery};
use crate::pagination::{self, PageQuery};
use crate::{ApiError, AppState};

pub(crate) const BASE: &str = "/services/usermanagement/api";

/// A Leaf user as the API shows it (OpenAPI schema).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(as = LeafUser)]
pub(crate) struct UserDoc {
    id: String,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    #[schema(rename = "externalId")]
    external_id: Option<String>,
    /// One key per provider with a credential, e.g. `claasCredentials` (secrets masked).
    #[schema(rename = "johnDeereCredentials")]
    john_deere_credentials: Option<Object>,
}

type Object = Map<String, Value>;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListQuery {
    email: Option<String>,
    name: Option<String>,
    external_id: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

/// Parses a user body: known fields must be strings (or null); `*Credentials` keys are accepted and ignored
/// (credentials are attached through their own endpoints); anything else is an unknown field.
fn parse_user_body(body: &Value, allow_id: bool) -> Result<(UserInput, Option<String>), ApiError> {
    let Value::Object(map) = body else {
        return Err(ApiError::field("body", "must be a JSON object"));
    };
    let mut errors = Vec::new();
    let mut input = UserInput::default();
    let mut id = None;
    for (key, value) in map {
        let slot = match key.as_str() {
            "name" => &mut input.name,
            "email" => &mut input.email,
            "phone" => &mut input.phone,
            "address" => &mut input.address,
            "externalId" => &mut input.external_id,
            "id" if allow_id => &mut id,
            k if Provider::ALL.iter().any(|p| p.user_key() == k) => continue,
            _ => {
                errors.push(FieldError::new(
                    key.clone(),
                    format!("unknown field `{key}`"),
                ));
                continue;
            }
        };
        match value {
            Value::String(s) if s.chars().count() <= 1024 => *slot = Some(s.clone()),
            Value::String(_) => errors.push(FieldError::new(
                key.clone(),
                "must be at most 1024 characters",
            )),
            Value::Null => *slot = None,
            _ => errors.push(FieldError::new(key.clone(), "must be a string")),
        }
    }
    if errors.is_empty() {
        Ok((input, id))
    } else {
        Err(ApiError::invalid("user body", errors))
    }
}

async fn user_json(state: &AppState, owner: &Owner, user: &LeafUser) -> Result<Value, ApiError> {
    let mut v = serde_json::to_value(user).unwrap_or(Value::Null);
    let creds = state
        .store
        .list_user_credentials(&owner.0.id, &user.id)
        .await?;
    if let Value::Object(map) = &mut v {
        for c in creds {
            map.insert(c.provider.user_key().to_owned(), credential_json(owner, &c));
        }
    }
    Ok(v)
}

/// Lists the owner's Leaf users.
#[utoipa::path(get, operation_id = "usersList", path = "/services/usermanagement/api/users", tag = "users",
    params(("email" = Option<String>, Query), ("name" = Option<String>, Query), ("externalId" = Option<String>, Query),
           ("page" = Option<i64>, Query, description = "0-based"), ("size" = Option<i64>, Query, description = "1..100, default 20")),
    responses((status = 200, body = Vec<UserDoc>, headers(("X-Total-Count" = i64), ("Link" = String))),
              (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    owner: Owner,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let page = q.page.page()?;
    let filter = UserFilter {
        email: q.email.clone(),
        name: q.name.clone(),
        external_id: q.external_id.clone(),
    };
    let (users, total) = state.store.list_users(&owner.0.id, &filter, page).await?;
    let mut out = Vec::with_capacity(users.len());
    for u in &users {
        out.push(user_json(&state, &owner, u).await?);
    }
    let filters: Vec<(&str, &str)> = [
        ("email", &q.email),
        ("name", &q.name),
        ("externalId", &q.external_id),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
    .collect();
    let headers = pagination::headers(&format!("{BASE}/users"), &filters, page, total);
    Ok((headers, axum::Json(out)))
}

/// One Leaf user with its credentials.
#[utoipa::path(get, operation_id = "usersGet", path = "/services/usermanagement/api/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = UserDoc), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let user = state.store.get_user(&owner.0.id, &id).await?;
    Ok(axum::Json(user_json(&state, &owner, &user).await?))
}

/// Creates a Leaf user.
#[utoipa::path(post, operation_id = "usersCreate", path = "/services/usermanagement/api/users", tag = "users", request_body = UserDoc,
    responses((status = 201, body = UserDoc), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
              (status = 413, body = crate::error::Problem), (status = 415, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    owner: Owner,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let (input, _) = parse_user_body(&body, false)?;
    let user = state.store.create_user(&owner.0.id, &input).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(user_json(&state, &owner, &user).await?),
    ))
}

/// Replaces a Leaf user (`id` in the body; fields left out become empty).
#[utoipa::path(put, operation_id = "usersReplace", path = "/services/usermanagement/api/users", tag = "users", request_body = UserDoc,
    responses((status = 200, body = UserDoc), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn replace(
    State(state): State<AppState>,
    owner: Owner,
    ApiJson(body): ApiJson<Value>,
) -> Result<axum::Json<Value>, ApiError> {
    let (input, id) = parse_user_body(&body, true)?;
    let id = id.ok_or_else(|| ApiError::field("id", "is required"))?;
    let user = state.store.replace_user(&owner.0.id, &id, &input).await?;
    Ok(axum::Json(user_json(&state, &owner, &user).await?))
}

/// Changes the given fields of a Leaf user.
#[utoipa::path(patch, operation_id = "usersPatch", path = "/services/usermanagement/api/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UserDoc,
    responses((status = 200, body = UserDoc), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn patch(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<axum::Json<Value>, ApiError> {
    let (input, body_id) = parse_user_body(&body, true)?;
    if body_id.is_some_and(|b| b != id) {
        return Err(ApiError::field("id", "does not match the path"));
    }
    let user = state.store.patch_user(&owner.0.id, &id, input).await?;
    Ok(axum::Json(user_json(&state, &owner, &user).await?))
}

/// Deletes a Leaf user with its credentials and their events.
#[utoipa::path(delete, operation_id = "usersDelete", path = "/services/usermanagement/api/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    // The user's blobs go with the user, through a job the store queues with the deletion.
    state.store.delete_user(&owner.0.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
