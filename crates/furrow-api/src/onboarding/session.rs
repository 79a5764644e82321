//! The widget session API (leaf-onboarding.md §4.4), for Leaf-user API keys: what an embeddable widget, or the
//! integrator's own page or backend, calls to connect the key's user's providers or upload the user's files.
//! Every call sends `X-Api-Key` and `X-Leaf-User-Id`; a key acts for that one user of its owner and nothing else,
//! and only here (every other route wants the owner's bearer token).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use furrow_store::ApiKey;
use serde_json::{Value, json};

use super::links::resolve_app_key;
use super::pages::{Origin, begin};
use super::providers::{self, Spec};
use crate::batch::{Upload, receive};
use crate::{ApiError, AppState};

/// How long a start link (`/widget/start/{token}`) stays usable.
const START_TTL: Duration = Duration::from_secs(120);

/// The API key of a request and its owner: valid (not revoked, not expired) and issued for the user named by
/// `X-Leaf-User-Id`, else `401`.
#[derive(Debug)]
pub(crate) struct KeySession {
    owner_id: String,
    key: ApiKey,
}

impl FromRequestParts<AppState> for KeySession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let (Some(key), Some(user)) = (header("x-api-key"), header("x-leaf-user-id")) else {
            return Err(ApiError::unauthorized());
        };
        // Per key (known or not): guessing is slowed too.
        let limited = state.onboarding.limit(
            &format!("key:{}", furrow_store::token_hash(key)),
            120,
            Duration::from_secs(60),
        );
        if limited.is_some() {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests with this key; retry in a minute",
                Some("tooManyRequests"),
            ));
        }
        let Some((owner_id, key)) = state
            .store
            .api_key_for(key, furrow_model::now_micros())
            .await?
        else {
            return Err(ApiError::unauthorized());
        };
        if key.user_id != user {
            return Err(ApiError::unauthorized());
        }
        Ok(KeySession { owner_id, key })
    }
}

/// The provider of a path segment, when it connects through a consent page.
fn oauth_spec(segment: &str) -> Result<&'static Spec, ApiError> {
    providers::by_segment(segment)
        .filter(|s| s.oauth)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("{segment}: not a provider this server connects through a consent page"),
                Some("unknownProvider"),
            )
        })
}

/// `GET /session`: who the key acts for.
#[utoipa::path(get, operation_id = "sessionGet", path = "/services/widgets/api/session", tag = "widget session", responses((status = 200, body = Object, description = "{leafUserId, leafUserName?, widget, expiresAt}"), (status = 401, body = crate::error::Problem), (status = 429, body = crate::error::Problem)), security(("apiKey" = [], "leafUserId" = [])))]
pub(crate) async fn get(
    State(state): State<AppState>,
    s: KeySession,
) -> Result<axum::Json<Value>, ApiError> {
    let user = state.store.get_user(&s.owner_id, &s.key.user_id).await?;
    let mut v = json!({
        "leafUserId": s.key.user_id,
        "widget": "LINK",
        "expiresAt": super::ts(s.key.expires_at),
    });
    if let Some(name) = user.name {
        v["leafUserName"] = json!(name);
    }
    Ok(axum::Json(v))
}

/// `GET /session/providers`: the providers with an app key, and whether the user has connected each.
#[utoipa::path(get, operation_id = "sessionProviders", path = "/services/widgets/api/session/providers", tag = "widget session", responses((status = 200, body = Vec<Object>, description = "{provider, displayName, kind, connected, createdTime?, status?}"), (status = 401, body = crate::error::Problem)), security(("apiKey" = [], "leafUserId" = [])))]
pub(crate) async fn providers(
    State(state): State<AppState>,
    s: KeySession,
) -> Result<axum::Json<Value>, ApiError> {
    let credentials: BTreeMap<furrow_credentials::Provider, furrow_store::StoredCredential> = state
        .store
        .list_user_credentials(&s.owner_id, &s.key.user_id)
        .await?
        .into_iter()
        .map(|c| (c.provider, c))
        .collect();
    let mut out = Vec::new();
    for spec in providers::all().iter().filter(|s| s.oauth) {
        if resolve_app_key(&state, &s.owner_id, spec.segment(), None)
            .await?
            .is_none()
        {
            continue;
        }
        let mut v = json!({
            "provider": spec.segment(),
            "displayName": spec.kind.display_name(),
            "kind": "OAUTH",
            "connected": credentials.contains_key(&spec.kind),
        });
        if let Some(c) = credentials.get(&spec.kind) {
            v["createdTime"] = json!(super::ts(c.created_at));
            v["status"] = json!(c.status);
        }
        out.push(v);
    }
    Ok(axum::Json(json!(out)))
}

/// `POST /session/providers/{provider}/authorize`: `{url}`, a one-time start link (valid two minutes) that sets
/// the browser's session cookie and sends it to the provider.
#[utoipa::path(post, operation_id = "sessionAuthorize", path = "/services/widgets/api/session/providers/{provider}/authorize", tag = "widget session", params(("provider" = String, Path)), responses((status = 200, body = Object, description = "{url}: a one-time start link"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "unknownProvider"), (status = 409, body = crate::error::Problem, description = "appKeyNotConfigured"), (status = 429, body = crate::error::Problem)), security(("apiKey" = [], "leafUserId" = [])))]
pub(crate) async fn authorize(
    State(state): State<AppState>,
    s: KeySession,
    Path(segment): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let spec = oauth_spec(&segment)?;
    let Some(key) = resolve_app_key(&state, &s.owner_id, spec.segment(), None).await? else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("{segment} has no app key"),
            Some("appKeyNotConfigured"),
        ));
    };
    if state
        .onboarding
        .limit(
            &format!("start:{}", s.key.id),
            10,
            Duration::from_secs(3600),
        )
        .is_some()
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many connections started with this key; retry in an hour",
            Some("tooManyRequests"),
        ));
    }
    let request = begin(
        &state,
        &s.owner_id,
        &s.key.user_id,
        spec,
        &key,
        Origin::ApiKey(s.key.id.clone()),
    )
    .await
    .map_err(|()| ApiError::internal())?;
    let token = furrow_store::random_token();
    let expires = furrow_model::now_micros() + START_TTL.as_micros() as i64;
    state
        .store
        .set_oauth_start(&request.state, &token, &request.url, expires)
        .await?;
    tracing::info!(provider = spec.segment(), user = %s.key.user_id, "connection started with an API key");
    Ok(axum::Json(json!({
        "url": format!(
            "{}/start/{token}",
            state.onboarding.config.redirect_uri()
        )
    })))
}

/// `DELETE /session/providers/{provider}`: removes the user's credential for the provider.
#[utoipa::path(delete, operation_id = "sessionDisconnect", path = "/services/widgets/api/session/providers/{provider}", tag = "widget session", params(("provider" = String, Path)), responses((status = 204), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)), security(("apiKey" = [], "leafUserId" = [])))]
pub(crate) async fn disconnect(
    State(state): State<AppState>,
    s: KeySession,
    Path(segment): Path<String>,
) -> Result<StatusCode, ApiError> {
    let spec = oauth_spec(&segment)?;
    state
        .store
        .delete_credential(&s.owner_id, &s.key.user_id, spec.kind)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /session/files`: a machine-data zip for the key's user, the path of `POST /batch`.
#[utoipa::path(post, operation_id = "sessionUpload", path = "/services/widgets/api/session/files", tag = "widget session", request_body(content = String, content_type = "multipart/form-data", description = "file: a machine-data zip"), responses((status = 201, body = Object, description = "{batchId, fileName, status}"), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem), (status = 413, body = crate::error::Problem)), security(("apiKey" = [], "leafUserId" = [])))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    s: KeySession,
    crate::extract::ApiMultipart(multipart): crate::extract::ApiMultipart,
) -> Result<impl IntoResponse, ApiError> {
    let who = Upload {
        user: Some(s.key.user_id.clone()),
        provider: Some("Other".into()),
        user_fixed: true,
    };
    let batch = receive(
        &state,
        &s.owner_id,
        who,
        multipart,
        async |_: &HashMap<String, String>| Ok(()),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(
            json!({"batchId": batch.id, "fileName": batch.file_name, "status": batch.status}),
        ),
    ))
}
