//! Provider event callbacks: where a provider that pushes events (John Deere's event subscriptions, CNH
//! FieldOps' Event Grid, Raven AgSync) tells furrow something changed, so the affected credentials are synced now
//! instead of at the next scheduled sync. Polling stays the source of truth; an event only brings it forward.
//!
//! `GET /services/usermanagement/api/providers/{provider}/events` (owner token) gives the callback path and the
//! `Authorization` value to configure on the provider's side; the provider then `POST`s to
//! `/services/providers/api/events/{provider}/{ownerId}` with that header.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use furrow_credentials::Provider;
use serde_json::{Value, json};

use crate::auth::Owner;
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

fn callback_path(p: Provider, owner_id: &str) -> String {
    format!("/services/providers/api/events/{}/{owner_id}", p.slug())
}

/// The callback to configure on the provider's side for this API owner.
#[utoipa::path(get, operation_id = "providerEventsEndpoint", path = "/services/usermanagement/api/providers/{provider}/events", tag = "providers",
    params(("provider" = String, Path, description = "john-deere, cnhi-field-ops, … or Leaf's name")),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn endpoint(
    State(state): State<AppState>,
    owner: Owner,
    Path(name): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let p = provider(&name)?;
    let token = state.tokens.provider_events_token(&owner.0.id, p.slug());
    Ok(axum::Json(json!({
        "provider": p.leaf_name(),
        "path": callback_path(p, &owner.0.id),
        "authorizationHeaderValue": format!("Bearer {token}"),
    })))
}

/// Organization ids an event names (John Deere `metadata` `orgId`, `orgId`/`organizationId`/`OrganizationId`
/// anywhere in the body).
fn organization_ids(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if m.get("key").and_then(Value::as_str) == Some("orgId")
                && let Some(id) = m.get("value")
            {
                push_id(id, out);
            }
            for (k, x) in m {
                if matches!(k.as_str(), "orgId" | "organizationId" | "OrganizationId") {
                    push_id(x, out);
                } else {
                    organization_ids(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| organization_ids(x, out)),
        _ => {}
    }
}

fn push_id(v: &Value, out: &mut Vec<String>) {
    let id = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return,
    };
    if !out.contains(&id) {
        out.push(id);
    }
}

/// Receives a provider's event: answers Event Grid's validation handshake, ignores heartbeats, and otherwise
/// asks for the sync of the credentials that see the named organizations (all of the provider's credentials
/// of this owner when none is named).
#[utoipa::path(post, operation_id = "providerEventsReceive", path = "/services/providers/api/events/{provider}/{ownerId}", tag = "providers",
    params(("provider" = String, Path), ("ownerId" = String, Path)),
    request_body(content = Object, description = "the provider's event"),
    responses((status = 202, body = serde_json::Value), (status = 200, description = "Event Grid validation"),
              (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub(crate) async fn receive(
    State(state): State<AppState>,
    Path((name, owner_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = provider(&name)?;
    let want = format!(
        "Bearer {}",
        state.tokens.provider_events_token(&owner_id, p.slug())
    );
    let got = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // Constant time: the value is a secret shared with the provider.
    let same = got.len() == want.len()
        && got
            .bytes()
            .zip(want.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err(ApiError::unauthorized());
    }
    let event: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::field("body", format!("not JSON: {e}")))?;
    // Azure Event Grid (CNH FieldOps) proves the endpoint once with a validation code.
    if let Some(code) = event
        .as_array()
        .and_then(|a| a.first())
        .filter(|e| e["eventType"] == "Microsoft.EventGrid.SubscriptionValidationEvent")
        .and_then(|e| e["data"]["validationCode"].as_str())
    {
        return Ok(axum::Json(json!({"validationResponse": code})).into_response());
    }
    if event["eventTypeId"] == "heartbeat" {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let mut orgs = Vec::new();
    organization_ids(&event, &mut orgs);
    let creds = state
        .store
        .credentials_for_event(&owner_id, p, &orgs)
        .await?;
    for (_, cred) in &creds {
        state
            .store
            .enqueue_sync(&owner_id, cred)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, credential = %cred, "could not request a sync");
                ApiError::internal()
            })?;
    }
    tracing::info!(provider = p.slug(), organizations = ?orgs, credentials = creds.len(), "provider event");
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({"credentials": creds.len()})),
    )
        .into_response())
}
