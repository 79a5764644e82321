use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use furrow_credentials::{FieldError, mask_secret};
use furrow_store::Webhook;
use serde_json::{Value, json};

use crate::auth::Owner;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

fn webhook_json(owner: &Owner, w: &Webhook) -> Value {
    let secret = if owner.0.show_secrets {
        w.secret.clone()
    } else {
        mask_secret(&w.secret)
    };
    json!({"id": w.id, "name": w.name, "url": w.url, "secret": secret, "events": w.events})
}

struct NewWebhook {
    name: String,
    url: String,
    secret: String,
    events: Vec<String>,
}

fn parse(body: &Value) -> Result<NewWebhook, ApiError> {
    let Value::Object(map) = body else {
        return Err(ApiError::field("body", "must be a JSON object"));
    };
    let mut errors = Vec::new();
    let text = |key: &str, errors: &mut Vec<FieldError>| -> String {
        match map.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= 2048 => {
                s.clone()
            }
            Some(Value::String(_)) => {
                errors.push(FieldError::new(
                    key,
                    "must be a non-empty string of at most 2048 characters",
                ));
                String::new()
            }
            Some(_) => {
                errors.push(FieldError::new(key, "must be a string"));
                String::new()
            }
            None => {
                errors.push(FieldError::new(key, "is required"));
                String::new()
            }
        }
    };
    let name = text("name", &mut errors);
    let url = text("url", &mut errors);
    let secret = text("secret", &mut errors);
    if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
        errors.push(FieldError::new("url", "must be an http:// or https:// URL"));
    }
    let mut events = Vec::new();
    match map.get("events") {
        Some(Value::Array(list)) if !list.is_empty() => {
            for e in list {
                match e.as_str() {
                    Some(s) if !furrow_model::is_event_key(s) => {
                        return Err(ApiError::new(
                            StatusCode::BAD_REQUEST,
                            format!("unknown event `{s}`"),
                            Some("invalidEvent"),
                        ));
                    }
                    Some(s) if events.iter().any(|x| x == s) => {
                        return Err(ApiError::new(
                            StatusCode::BAD_REQUEST,
                            format!("event `{s}` is listed twice"),
                            Some("eventRegisteredTwice"),
                        ));
                    }
                    Some(s) => events.push(s.to_owned()),
                    None => errors.push(FieldError::new("events", "must be a list of event names")),
                }
            }
        }
        Some(_) => errors.push(FieldError::new(
            "events",
            "must be a non-empty list of event names",
        )),
        None => errors.push(FieldError::new("events", "is required")),
    }
    for key in map.keys() {
        if !["name", "url", "secret", "events"].contains(&key.as_str()) {
            errors.push(FieldError::new(
                key.clone(),
                format!("unknown field `{key}`"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(NewWebhook {
            name,
            url,
            secret,
            events,
        })
    } else {
        Err(ApiError::invalid("webhook body", errors))
    }
}

/// Subscribes a URL to events; sends the registration confirmation.
#[utoipa::path(post, operation_id = "alertsCreate", path = "/services/alerts/api/alerts/webhooks", tag = "alerts",
    request_body(content = Object, description = "{name, url, secret, events: [eventKey]}"),
    responses((status = 201, body = Object, description = "{id, name, url, secret (masked), events}"),
              (status = 400, body = crate::error::Problem, description = "validation, invalidEvent, eventRegisteredTwice"),
              (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    owner: Owner,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let w = parse(&body)?;
    let hook = match state
        .store
        .create_webhook(&owner.0.id, &w.name, &w.url, &w.secret, &w.events)
        .await
    {
        Ok(h) => h,
        Err(furrow_store::Error::AlreadyExists(_)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "one of these events is already registered by another webhook",
                Some("eventRegisteredTwice"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    state
        .store
        .confirm_registration(&owner.0.id, &hook.id)
        .await
        .map_err(ApiError::from)?;
    Ok((StatusCode::CREATED, axum::Json(webhook_json(&owner, &hook))))
}

/// The owner's webhooks.
#[utoipa::path(get, operation_id = "alertsList", path = "/services/alerts/api/alerts/webhooks", tag = "alerts",
    responses((status = 200, body = Vec<Object>), (status = 401, body = crate::error::Problem)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    owner: Owner,
) -> Result<axum::Json<Vec<Value>>, ApiError> {
    let hooks = state.store.list_webhooks(&owner.0.id).await?;
    Ok(axum::Json(
        hooks.iter().map(|h| webhook_json(&owner, h)).collect(),
    ))
}

/// One webhook.
#[utoipa::path(get, operation_id = "alertsGet", path = "/services/alerts/api/alerts/webhooks/{id}", tag = "alerts", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let hook = state.store.get_webhook(&owner.0.id, &id).await?;
    Ok(axum::Json(webhook_json(&owner, &hook)))
}

/// Deletes a webhook (its events can then be registered again).
#[utoipa::path(delete, operation_id = "alertsDelete", path = "/services/alerts/api/alerts/webhooks/{id}", tag = "alerts", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_webhook(&owner.0.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Failed delivery attempts, newest first, in Leaf's `{items: [...]}` envelope.
#[utoipa::path(get, operation_id = "alertsFailedCalls", path = "/services/alerts/api/alerts/webhooks/failed-calls", tag = "alerts",
    responses((status = 200, body = Object, description = "{items: [{apiOwner, createdAt, url, status, response, requestBody, connectionError?}]}"),
              (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn failed_calls(
    State(state): State<AppState>,
    owner: Owner,
) -> Result<axum::Json<Value>, ApiError> {
    let calls = state.store.list_failed_calls(&owner.0.id, 1000).await?;
    let items: Vec<Value> = calls
        .iter()
        .map(|c| {
            let mut v = json!({
                "apiOwner": owner.0.username,
                "createdAt": furrow_model::format_timestamp(furrow_model::timestamp_from_micros(c.created_at)),
                "url": c.url,
                "status": c.status,
                "response": c.response,
                "requestBody": c.request_body,
                "webhookId": c.webhook_id,
                "attempt": c.attempt,
            });
            if let Some(e) = &c.connection_error {
                v["connectionError"] = json!(e);
            }
            v
        })
        .collect();
    Ok(axum::Json(json!({"items": items})))
}
