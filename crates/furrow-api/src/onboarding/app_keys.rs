//! `/app-keys/{Provider}[/{appName}[/{clientEnvironment}]]`: an API owner's provider applications. Secrets
//! are sealed by the store and never returned.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use furrow_store::{AppKey, NewAppKey};
use serde_json::{Value, json};

use super::providers::{self, Spec};
use crate::auth::Owner;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

fn spec(segment: &str) -> Result<&'static Spec, ApiError> {
    providers::by_segment(segment).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("unknown provider {segment}"),
            Some("unknownProvider"),
        )
    })
}

/// The item path's provider, name and environment; `env` is `None` on the two-segment path.
fn item(
    segment: &str,
    app_name: &str,
    env: Option<&str>,
) -> Result<(&'static Spec, String), ApiError> {
    let spec = spec(segment)?;
    // Providers with the environment in the path have no two-segment item route, and the others no
    // three-segment one: both are unknown paths.
    if spec.env_in_path != env.is_some() {
        return Err(ApiError::not_found("resource", "notFound"));
    }
    if app_name.is_empty()
        || app_name.len() > 64
        || !app_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(ApiError::field(
            "appName",
            "1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'",
        ));
    }
    let env = match env {
        None => "PRODUCTION".to_owned(),
        Some(e @ ("STAGE" | "PRODUCTION")) => e.to_owned(),
        Some(_) => {
            return Err(ApiError::field(
                "clientEnvironment",
                "must be STAGE or PRODUCTION",
            ));
        }
    };
    Ok((spec, env))
}

pub(crate) fn app_key_json(state: &AppState, k: &AppKey) -> Value {
    let mut v = json!({
        "provider": k.provider,
        "appName": k.app_name,
        "clientEnvironment": k.environment,
        "createdTime": super::ts(k.created_at),
        "redirectUri": state.onboarding.config.redirect_uri(),
    });
    if !k.scopes.is_empty() {
        v["scopes"] = json!(k.scopes);
    }
    v
}

/// The body's fields: every required one present as a non-empty string (each missing one named), optional
/// ones taken when strings, `scopes` an array of short strings; unknown fields ignored.
/// An app key's body, parsed: (public fields, secret fields, scopes).
type Parsed = (
    BTreeMap<String, String>,
    BTreeMap<String, String>,
    Vec<String>,
);

fn parse_body(spec: &Spec, body: &Value) -> Result<Parsed, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::field("body", "must be a JSON object"));
    };
    let mut errors: Vec<(String, String)> = Vec::new();
    let (mut public, mut secrets) = (BTreeMap::new(), BTreeMap::new());
    for (name, secret, required) in spec
        .required
        .iter()
        .map(|(n, s)| (*n, *s, true))
        .chain(spec.optional.iter().map(|(n, s)| (*n, *s, false)))
    {
        match obj.get(name) {
            Some(Value::String(v)) if !v.trim().is_empty() => {
                if secret {
                    secrets.insert(name.to_owned(), v.clone());
                } else {
                    public.insert(name.to_owned(), v.clone());
                }
            }
            None | Some(Value::Null) if !required => {}
            None | Some(Value::Null) => errors.push((name.to_owned(), "is required".to_owned())),
            Some(_) => errors.push((name.to_owned(), "must be a non-empty string".to_owned())),
        }
    }
    let mut scopes = Vec::new();
    match obj.get("scopes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, s) in items.iter().enumerate() {
                match s.as_str() {
                    Some(s) if !s.is_empty() && s.len() <= 100 => scopes.push(s.to_owned()),
                    _ => errors.push((
                        format!("scopes[{i}]"),
                        "must be a scope string of 1 to 100 characters".to_owned(),
                    )),
                }
            }
        }
        Some(_) => errors.push((
            "scopes".to_owned(),
            "must be an array of strings".to_owned(),
        )),
    }
    if let Some((f, m)) = errors.first() {
        let mut e = ApiError::field(f.clone(), m.clone());
        for (f, m) in errors.iter().skip(1) {
            e = e.with_field(f, m.clone());
        }
        return Err(e);
    }
    Ok((public, secrets, scopes))
}

fn not_found(e: furrow_store::Error) -> ApiError {
    match e {
        furrow_store::Error::NotFound(_) => ApiError::not_found("app key", "appKeyNotFound"),
        furrow_store::Error::AlreadyExists(_) => ApiError::new(
            StatusCode::CONFLICT,
            "an app key with this provider, name and environment exists; PUT replaces it",
            Some("appKeyAlreadyExists"),
        ),
        e => e.into(),
    }
}

/// `GET /app-keys/{Provider}`: the owner's app keys of that provider (never their secrets).
#[utoipa::path(get, operation_id = "appKeysList", path = "/services/usermanagement/api/app-keys/{provider}", tag = "onboarding", params(("provider" = String, Path, description = "JohnDeere, CLAAS, ClimateFieldView, CNHI, CNHIFieldOps, Trimble, AgLeader, Raven, Lindsay, RavenSlingshot, Stara, Panorama")), responses((status = 200, body = Vec<Object>, description = "the owner's app keys of the provider, oldest first; never their secrets"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "unknownProvider")), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    owner: Owner,
    Path(segment): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let spec = spec(&segment)?;
    let keys = state
        .store
        .list_app_keys(&owner.0.id, spec.segment())
        .await?;
    Ok(axum::Json(json!(
        keys.iter()
            .map(|k| app_key_json(&state, k))
            .collect::<Vec<_>>()
    )))
}

async fn get_inner(
    state: &AppState,
    owner: &Owner,
    segment: &str,
    name: &str,
    env: Option<&str>,
) -> Result<axum::Json<Value>, ApiError> {
    let (spec, env) = item(segment, name, env)?;
    let k = state
        .store
        .get_app_key(&owner.0.id, spec.segment(), name, &env)
        .await
        .map_err(not_found)?;
    Ok(axum::Json(app_key_json(state, &k)))
}

async fn write_inner(
    state: &AppState,
    owner: &Owner,
    segment: &str,
    name: &str,
    env: Option<&str>,
    body: &Value,
    create: bool,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let (spec, env) = item(segment, name, env)?;
    let (public, secrets, scopes) = parse_body(spec, body)?;
    let new = NewAppKey {
        provider: spec.segment().to_owned(),
        app_name: name.to_owned(),
        environment: env,
        public,
        secrets,
        scopes,
    };
    let (status, k) = if create {
        (
            StatusCode::CREATED,
            state.store.create_app_key(&owner.0.id, &new).await,
        )
    } else {
        (
            StatusCode::OK,
            state.store.replace_app_key(&owner.0.id, &new).await,
        )
    };
    let k = k.map_err(not_found)?;
    tracing::info!(provider = %k.provider, app = %k.app_name, environment = %k.environment, "app key stored");
    Ok((status, axum::Json(app_key_json(state, &k))))
}

async fn delete_inner(
    state: &AppState,
    owner: &Owner,
    segment: &str,
    name: &str,
    env: Option<&str>,
) -> Result<StatusCode, ApiError> {
    let (spec, env) = item(segment, name, env)?;
    state
        .store
        .delete_app_key(&owner.0.id, spec.segment(), name, &env)
        .await
        .map_err(not_found)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, operation_id = "appKeysGet", path = "/services/usermanagement/api/app-keys/{provider}/{appName}", tag = "onboarding", params(("provider" = String, Path, description = "JohnDeere, CLAAS, ClimateFieldView, CNHI, CNHIFieldOps, Trimble, AgLeader, Raven, Lindsay, RavenSlingshot, Stara, Panorama"), ("appName" = String, Path)), responses((status = 200, body = Object, description = "{provider, appName, clientEnvironment, createdTime, redirectUri, scopes?}"), (status = 400, body = crate::error::Problem, description = "validation: fieldErrors names each field"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "unknownProvider, appKeyNotFound")), security(("bearer" = [])))]
pub(crate) async fn get(
    State(state): State<AppState>,
    owner: Owner,
    Path((segment, name)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    get_inner(&state, &owner, &segment, &name, None).await
}

#[utoipa::path(get, operation_id = "appKeysGetEnv", path = "/services/usermanagement/api/app-keys/{provider}/{appName}/{environment}", tag = "onboarding", params(("provider" = String, Path, description = "JohnDeere, CLAAS, ClimateFieldView, CNHI, CNHIFieldOps, Trimble, AgLeader, Raven, Lindsay, RavenSlingshot, Stara, Panorama"), ("appName" = String, Path), ("environment" = String, Path, description = "STAGE or PRODUCTION")), responses((status = 200, body = Object, description = "{provider, appName, clientEnvironment, createdTime, redirectUri, scopes?}"), (status = 400, body = crate::error::Problem, description = "validation: fieldErrors names each field"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "unknownProvider, appKeyNotFound")), security(("bearer" = [])))]
pub(crate) async fn get_env(
    State(state): State<AppState>,
    owner: Owner,
    Path((segment, name, env)): Path<(String, String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    get_inner(&state, &owner, &segment, &name, Some(&env)).await
}

#[utoipa::path(post, operation_id = "appKeysCreate", path = "/services/usermanagement/api/app-keys/{provider}/{appName}", tag = "onboarding", params(("provider" = String, Path, description = "JohnDeere, CLAAS, ClimateFieldView, CNHI, CNHIFieldOps, Trimble, AgLeader, Raven, Lindsay, RavenSlingshot, Stara, Panorama"), ("appName" = String, Path)), request_body(content = Object, description = "the provider's app-key fields (docs/ONBOARDING.md section 2), scopes?"), responses((status = 201, body = Object, description = "{provider, appName, clientEnvironment, createdTime, redirectUri, scopes?}"), (status = 400, body = crate::error::Problem, description = "validation: fieldErrors names each field"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "unknownProvider, appKeyNotFound"), (status = 409, body = crate::error::Problem, description = "appKeyAlreadyExists")), security(("bearer" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    owner: Owner,
    Path((segment, name)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    write_inner(&state, &owner, &segment, &name, None, &body, true).await
}

#[utoipa::path(post, operation_id = "appKeysCreateEnv", path = "/services/usermanagement/api/app-keys/{provider}/{appName}/{environment}", tag = "onboarding", params(("provider" = String, Path, description = "JohnDeere, CLAAS, ClimateFieldView, CNHI, CNHIFieldOps, Trimble, AgLeader, Raven, Lindsay, RavenSlingshot, Stara, Panorama"), ("appName" = String, Path), ("environment" = String, Path, description = "STAGE or PRODUCTION")), request_body(content = Object, description = "the provider's app-key fields (docs/ONBOARDING.md section 2), scopes?"), responses((status = 201, body = Object, description = "{provider, appName, clientEnvironment, createdTime, redirectUri, scopes?}"), (status = 400, body = crate::error::Problem, description = "validation: fieldErrors names each field"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "unknownProvider, appKeyNotFound"), (status = 409, body = crate::error::Problem, description = "appKeyAlreadyExists")), security(("bearer" = [])))]
pub(crate) async fn create_env(
    State(state): State<AppState>,
    owner: Owner,
    Path((segment, name, env)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    write_inner(&state, &owner, &segment, &name, Some(&env), &body, true).await
}

#[utoipa::path(put, operation_id = "appKeysReplace", path = "/services/usermanagement/api/app-keys/{provider}/{appName}", tag = "onboarding", params(("provider" = String, Path, description = "JohnDeere, CLAAS, ClimateFieldView, CNHI, CNHIFieldOps, Trimble, AgLeader, Raven, Lindsay, RavenSlingshot, Stara, Panorama"), ("appName" = String, Path)), request_body(content = Object, description = "the provider's app-key fields (docs/ONBOARDING.md section 2), scopes?"), responses((status = 200, body = Object, description = "{provider, appName, clientEnvironment, createdTime, redirectUri, scopes?}"), (status = 400, body = crate::error::Problem, description = "validation: fieldErrors names each field"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "unknownProvider, appKeyNotFound")), security(("bearer" = [])))]
pub(crate) async fn replace(
    State(state): State<AppState>,
    owner: Owner,
    Path((segment, name)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    write_inner(&state, &owner, &segment, &name, None, &body, false).await
}

#[utoipa::path(put, operation_id = "appKeysReplaceEnv", path = "/services/usermanagement/api/app-keys/{provider}/{appName}/{environment}", tag = "onboarding", params(("provider" = String, Path, description = "JohnDeere, CLAAS, ClimateFieldView, CNHI, CNHIFieldOps, Trimble, AgLeader, Raven, Lindsay, RavenSlingshot, Stara, Panorama"), ("appName" = String, Path), ("environment" = String, Path, description = "STAGE or PRODUCTION")), request_body(content = Object, description = "the provider's app-key fields (docs/ONBOARDING.md section 2), scopes?"), responses((status = 200, body = Object, description = "{provider, appName, clientEnvironment, createdTime, redirectUri, scopes?}"), (status = 400, body = crate::error::Problem, description = "validation: fieldErrors names each field"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "unknownProvider, appKeyNotFound")), security(("bearer" = [])))]
pub(crate) async fn replace_env(
    State(state): State<AppState>,
    owner: Owner,
    Path((segment, name, env)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    write_inner(&state, &owner, &segment, &name, Some(&env), &body, false).await
}

#[utoipa::path(delete, operation_id = "appKeysDelete", path = "/services/usermanagement/api/app-keys/{provider}/{appName}", tag = "onboarding", params(("provider" = String, Path, description = "JohnDeere, CLAAS, ClimateFieldView, CNHI, CNHIFieldOps, Trimble, AgLeader, Raven, Lindsay, RavenSlingshot, Stara, Panorama"), ("appName" = String, Path)), responses((status = 204), (status = 400, body = crate::error::Problem, description = "validation: fieldErrors names each field"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "unknownProvider, appKeyNotFound")), security(("bearer" = [])))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    owner: Owner,
    Path((segment, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    delete_inner(&state, &owner, &segment, &name, None).await
}

#[utoipa::path(delete, operation_id = "appKeysDeleteEnv", path = "/services/usermanagement/api/app-keys/{provider}/{appName}/{environment}", tag = "onboarding", params(("provider" = String, Path, description = "JohnDeere, CLAAS, ClimateFieldView, CNHI, CNHIFieldOps, Trimble, AgLeader, Raven, Lindsay, RavenSlingshot, Stara, Panorama"), ("appName" = String, Path), ("environment" = String, Path, description = "STAGE or PRODUCTION")), responses((status = 204), (status = 400, body = crate::error::Problem, description = "validation: fieldErrors names each field"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "unknownProvider, appKeyNotFound")), security(("bearer" = [])))]
pub(crate) async fn delete_env(
    State(state): State<AppState>,
    owner: Owner,
    Path((segment, name, env)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    delete_inner(&state, &owner, &segment, &name, Some(&env)).await
}
