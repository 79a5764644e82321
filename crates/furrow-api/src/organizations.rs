//! Provider organizations of a user (Leaf's organization sync list, base usermanagement):
//! `GET /users/{id}/organizations/{provider}` (connected and not connected), `GET /users/{id}/{provider}/organizations`
//! (paged), one of them, `PATCH` its status (`SELECTED` ↔ `PREVIEW`), and `POST …/organizations/sync`.
//! `{provider}` is Leaf's name (`JohnDeere`) or furrow's slug (`john-deere`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use furrow_credentials::Provider;
use furrow_store::ProviderOrganizationRow;
use serde_json::{Value, json};

use crate::auth::Owner;
use crate::extract::{ApiJson, ApiQuery};
use crate::pagination::{self, PageQuery};
use crate::{ApiError, AppState};

fn provider(name: &str) -> Result<Provider, ApiError> {
    Provider::from_slug(name)
        .or_else(|| {
            Provider::ALL
                .iter()
                .copied()
                .find(|p| p.leaf_name() == name)
        })
        .ok_or_else(|| ApiError::not_found("provider", "notFound"))
}

fn org_json(o: &ProviderOrganizationRow) -> Value {
    json!({
        "providerOrgId": o.org_id,
        "providerOrgName": o.name,
        "status": o.status,
        "managementUri": o.management_uri,
    })
}

async fn all_orgs(
    state: &AppState,
    owner: &Owner,
    user: &str,
    p: Provider,
) -> Result<Vec<ProviderOrganizationRow>, ApiError> {
    let mut out = Vec::new();
    let mut page = 0;
    loop {
        let (orgs, total) = state
            .store
            .list_provider_organizations(
                &owner.0.id,
                user,
                p.leaf_name(),
                furrow_model::Page { page, size: 100 },
            )
            .await?;
        let n = orgs.len();
        out.extend(orgs);
        page += 1;
        if n == 0 || out.len() as i64 >= total {
            return Ok(out);
        }
    }
}

/// The user's organizations at a provider, split by whether the grower connected them to the integrator.
#[utoipa::path(get, operation_id = "organizationsConnected", path = "/services/usermanagement/api/users/{leafUserId}/organizations/{provider}", tag = "organizations",
    params(("leafUserId" = String, Path), ("provider" = String, Path, description = "JohnDeere, Trimble, … or a slug")),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn connected(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, name)): Path<(String, String)>,
) -> Result<axum::Json<Value>, ApiError> {
    let p = provider(&name)?;
    state.store.get_user(&owner.0.id, &user).await?;
    let orgs = all_orgs(&state, &owner, &user, p).await?;
    let entry = |o: &ProviderOrganizationRow| json!({"id": o.org_id, "name": o.name, "managementUri": o.management_uri});
    Ok(axum::Json(json!({
        "connectedOrganizations": orgs.iter().filter(|o| o.status != "BLOCKED").map(entry).collect::<Vec<_>>(),
        "notConnectedOrganizations": orgs.iter().filter(|o| o.status == "BLOCKED").map(entry).collect::<Vec<_>>(),
    })))
}

/// The user's organization sync list at a provider (paged).
#[utoipa::path(get, operation_id = "organizationsList", path = "/services/usermanagement/api/users/{leafUserId}/{provider}/organizations", tag = "organizations",
    params(("leafUserId" = String, Path), ("provider" = String, Path), ("page" = Option<i64>, Query), ("size" = Option<i64>, Query)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, name)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let p = provider(&name)?;
    let page = q.page()?;
    state.store.get_user(&owner.0.id, &user).await?;
    let (orgs, total) = state
        .store
        .list_provider_organizations(&owner.0.id, &user, p.leaf_name(), page)
        .await?;
    let headers = pagination::headers(
        &format!("/services/usermanagement/api/users/{user}/{name}/organizations"),
        &[],
        page,
        total,
    );
    Ok((
        headers,
        axum::Json(Value::Array(orgs.iter().map(org_json).collect())),
    ))
}

/// One organization of the sync list.
#[utoipa::path(get, operation_id = "organizationsGet", path = "/services/usermanagement/api/users/{leafUserId}/{provider}/organizations/{providerOrgId}", tag = "organizations",
    params(("leafUserId" = String, Path), ("provider" = String, Path), ("providerOrgId" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, name, org)): Path<(String, String, String)>,
) -> Result<axum::Json<Value>, ApiError> {
    let p = provider(&name)?;
    let o = state
        .store
        .get_provider_organization(&owner.0.id, &user, p.leaf_name(), &org)
        .await?;
    Ok(axum::Json(org_json(&o)))
}

/// Selects an organization for sync (`SELECTED`) or leaves it in `PREVIEW` (read with
/// `organizationDataSync=SELECTED_ONLY`); `BLOCKED` ones cannot change (409).
#[utoipa::path(patch, operation_id = "organizationsPatch", path = "/services/usermanagement/api/users/{leafUserId}/{provider}/organizations/{providerOrgId}", tag = "organizations",
    params(("leafUserId" = String, Path), ("provider" = String, Path), ("providerOrgId" = String, Path)),
    request_body(content = Object, description = "{\"status\": \"SELECTED\" | \"PREVIEW\"}"),
    responses((status = 200, body = serde_json::Value), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn patch(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, name, org)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<axum::Json<Value>, ApiError> {
    let p = provider(&name)?;
    let status = match body.get("status").and_then(Value::as_str) {
        Some(s @ ("SELECTED" | "PREVIEW")) => s,
        _ => return Err(ApiError::field("status", "must be SELECTED or PREVIEW")),
    };
    if let Some(k) = body
        .as_object()
        .and_then(|m| m.keys().find(|k| k.as_str() != "status"))
    {
        return Err(ApiError::field(k.clone(), "unknown property"));
    }
    let o = state
        .store
        .set_provider_organization_status(&owner.0.id, &user, p.leaf_name(), &org, status)
        .await?;
    Ok(axum::Json(org_json(&o)))
}

/// Re-reads the user's organizations (and fields) from the provider now.
#[utoipa::path(post, operation_id = "organizationsSync", path = "/services/usermanagement/api/users/{leafUserId}/{provider}/organizations/sync", tag = "organizations",
    params(("leafUserId" = String, Path), ("provider" = String, Path)),
    responses((status = 202, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn sync(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, name)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    let p = provider(&name)?;
    let cred = state.store.get_credential(&owner.0.id, &user, p).await?;
    state
        .store
        .request_fields_sync(&owner.0.id, &user)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, credential = %cred.id, "could not request a sync");
            ApiError::internal()
        })?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(
            json!({"leafUserId": user, "provider": p.leaf_name(), "status": "SYNC_REQUESTED"}),
        ),
    ))
}
