use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use furrow_credentials::{Provider, StoredCredentialView, credential_response, validate};
use furrow_store::StoredCredential;
use serde_json::Value;

use crate::auth::Owner;
use crate::extract::{ApiJson, ApiQuery};
use crate::pagination::{self, PageQuery};
use crate::users::BASE;
use crate::{ApiError, AppState};

/// `john-deere-credentials` -> John Deere; anything else is an unknown path (404).
fn provider_of(segment: &str) -> Result<Provider, ApiError> {
    segment
        .strip_suffix("-credentials")
        .and_then(Provider::from_slug)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such resource", Some("notFound")))
}

pub(crate) fn credential_json(owner: &Owner, c: &StoredCredential) -> Value {
    credential_response(
        c.provider,
        &StoredCredentialView {
            id: &c.id,
            status: c.status,
            created_time: furrow_model::timestamp_from_micros(c.created_at),
            public: &c.public,
            secrets: &c.secrets,
            scopes: Some(&c.scopes),
            mask_secrets: !owner.0.show_secrets,
        },
    )
}

/// A user's credential for one provider.
#[utoipa::path(get, operation_id = "credentialsGet", path = "/services/usermanagement/api/users/{leafUserId}/{provider}-credentials", tag = "credentials",
    params(("leafUserId" = String, Path), ("provider" = String, Path, description = "provider slug: john-deere, claas, climate-field-view, cnhi, cnhi-field-ops, trimble, ag-leader, raven, raven-slingshot, stara, sentera, agvance, panorama, lindsay, valley")),
    responses((status = 200, body = Object, description = "id, status, createdTime, provider fields (secrets masked), tokenMetadata"),
              (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "unknown user, provider or no credential (credentialsNotFound)")),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(state): State<AppState>,
    owner: Owner,
    Path((user_id, segment)): Path<(String, String)>,
) -> Result<axum::Json<Value>, ApiError> {
    let provider = provider_of(&segment)?;
    state.store.get_user(&owner.0.id, &user_id).await?;
    let c = state
        .store
        .get_credential(&owner.0.id, &user_id, provider)
        .await?;
    Ok(axum::Json(credential_json(&owner, &c)))
}

/// Stores a provider credential on a user (status `PROCESSING` until validated).
#[utoipa::path(post, operation_id = "credentialsCreate", path = "/services/usermanagement/api/users/{leafUserId}/{provider}-credentials", tag = "credentials",
    params(("leafUserId" = String, Path), ("provider" = String, Path)),
    request_body(content = Object, description = "the provider's create fields; see docs/CREDENTIALS.md"),
    responses((status = 201, body = Object), (status = 400, body = crate::error::Problem, description = "validation: fieldErrors names every field at fault"),
              (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem, description = "credentialsAlreadyExist"),
              (status = 413, body = crate::error::Problem), (status = 415, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    owner: Owner,
    Path((user_id, segment)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let provider = provider_of(&segment)?;
    let c = store_credential(&state, &owner.0.id, &user_id, provider, &body, false, None).await?;
    Ok((StatusCode::CREATED, axum::Json(credential_json(&owner, &c))))
}

/// The one way a credential is stored (this route and a Magic Link's callback): validated, sealed, status
/// `PROCESSING`, validation queued as a durable job (which moves the status, records events, fires the
/// alerts and starts the syncs). `replace` puts it in place of the user's credential for the provider, in one
/// transaction (a grower reconnecting through a link); otherwise an existing one is `409
/// credentialsAlreadyExist`. `tokens` (an
/// access token just issued with the refresh token) is stored before the validation is queued, so the
/// validation uses it rather than refreshing at once.
pub(crate) async fn store_credential(
    state: &AppState,
    owner_id: &str,
    user_id: &str,
    provider: Provider,
    body: &Value,
    replace: bool,
    tokens: Option<furrow_store::TokenUpdate>,
) -> Result<StoredCredential, ApiError> {
    state.store.get_user(owner_id, user_id).await?;
    let input = validate(provider, body).map_err(|e| ApiError::validation(&e))?;
    let c = if replace {
        state
            .store
            .replace_credential(owner_id, user_id, &input, tokens)
            .await?
    } else {
        let c = state
            .store
            .create_credential(owner_id, user_id, &input)
            .await?;
        match tokens {
            None => c,
            Some(update) => state
                .store
                .with_credential_lock(owner_id, &c.id, |_| async move {
                    Ok::<_, std::convert::Infallible>(Some(update))
                })
                .await?
                .unwrap_or_else(|never| match never {}),
        }
    };
    // Validation against the provider runs as a durable job (PROCESSING until a worker answers).
    state
        .store
        .enqueue_validation(owner_id, &c.id)
        .await
        .map_err(ApiError::from)?;
    tracing::info!(credential = %c.id, provider = provider.leaf_name(), "credential stored");
    Ok(c)
}

/// Deletes a user's credential for a provider, with its events.
#[utoipa::path(delete, operation_id = "credentialsDelete", path = "/services/usermanagement/api/users/{leafUserId}/{provider}-credentials", tag = "credentials",
    params(("leafUserId" = String, Path), ("provider" = String, Path)),
    responses((status = 204), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    owner: Owner,
    Path((user_id, segment)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let provider = provider_of(&segment)?;
    state.store.get_user(&owner.0.id, &user_id).await?;
    state
        .store
        .delete_credential(&owner.0.id, &user_id, provider)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The log of exchanges with the provider for this credential, newest first by default.
#[utoipa::path(get, operation_id = "credentialsEvents", path = "/services/usermanagement/api/users/{leafUserId}/{provider}-credentials/events", tag = "credentials",
    params(("leafUserId" = String, Path), ("provider" = String, Path), ("page" = Option<i64>, Query), ("size" = Option<i64>, Query),
           ("sort" = Option<String>, Query, description = "createdDate,desc (default) or createdDate,asc")),
    responses((status = 200, body = Vec<Object>, description = "[{id, createdDate, statusCode, headers, body, method, url}]", headers(("X-Total-Count" = i64), ("Link" = String))),
              (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn events(
    State(state): State<AppState>,
    owner: Owner,
    Path((user_id, segment)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let provider = provider_of(&segment)?;
    let page = q.page()?;
    let order = q.sort(&["createdDate"])?;
    state.store.get_user(&owner.0.id, &user_id).await?;
    let c = state
        .store
        .get_credential(&owner.0.id, &user_id, provider)
        .await?;
    let (events, total) = state
        .store
        .list_credential_events(&owner.0.id, &c.id, page, order)
        .await?;
    let path = format!("{BASE}/users/{user_id}/{segment}/events");
    let sort = q.sort.clone().unwrap_or_default();
    let filters: Vec<(&str, &str)> = if sort.is_empty() {
        vec![]
    } else {
        vec![("sort", sort.as_str())]
    };
    Ok((
        pagination::headers(&path, &filters, page, total),
        axum::Json(events),
    ))
}
