//! `/services/widgets/api/magic-link/...`: provider, authentication and file-upload links, created for an
//! existing user or one found (or created) by external id, listed, read and deleted per type.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use furrow_model::{Page, UserFilter, UserInput};
use furrow_store::{AppKey, MagicLink, NewMagicLink};
use serde_json::{Map, Value, json};

use super::api_keys::expires_in;
use super::providers;
use crate::auth::Owner;
use crate::extract::ApiJson;
use crate::pagination::{self, PageQuery};
use crate::{ApiError, AppState};

const BASE: &str = "/services/widgets/api/magic-link";

/// The path segment's widget value.
fn widget_of(kind: &str) -> Result<&'static str, ApiError> {
    match kind {
        "provider" => Ok("PROVIDER"),
        "authentication" => Ok("AUTHENTICATION"),
        "file-upload" => Ok("FILEUPLOAD"),
        _ => Err(ApiError::not_found("resource", "notFound")),
    }
}

fn link_not_found(e: furrow_store::Error) -> ApiError {
    match e {
        furrow_store::Error::NotFound(_) => ApiError::not_found("magic link", "magicLinkNotFound"),
        e => e.into(),
    }
}

/// `ACTIVE`, `EXPIRED` or `EXHAUSTED`.
pub(crate) fn status_of(l: &MagicLink, now: i64) -> &'static str {
    if now >= l.expires_at {
        "EXPIRED"
    } else if l.usage_count >= l.max_usage {
        "EXHAUSTED"
    } else {
        "ACTIVE"
    }
}

fn link_json(state: &AppState, l: &MagicLink) -> Value {
    let ts = super::ts;
    let mut v = json!({
        "id": l.token,
        "link": state.onboarding.config.link_url(&l.token),
        "createdAt": ts(l.created_at),
        "expiresAt": ts(l.expires_at),
        "lastAccessedAt": l.last_accessed_at.map(ts),
        "leafUserId": l.user_id,
        "maxUsage": l.max_usage,
        "usageCount": l.usage_count,
        "widget": l.widget,
        "settings": l.settings,
        "status": status_of(l, furrow_model::now_micros()),
    });
    match l.widget.as_str() {
        "PROVIDER" => v["allowedProviders"] = json!(l.providers),
        "AUTHENTICATION" => v["provider"] = json!(l.providers.first()),
        _ => {}
    }
    if let Some(a) = &l.app_name {
        v["appName"] = json!(a);
    }
    v
}

/// The app key a link uses for a provider (§1.6): the named one, else the only one, else `PRODUCTION` first,
/// then the newest.
pub(crate) async fn resolve_app_key(
    state: &AppState,
    owner_id: &str,
    segment: &str,
    app_name: Option<&str>,
) -> Result<Option<AppKey>, ApiError> {
    let mut keys = state.store.list_app_keys(owner_id, segment).await?;
    if let Some(name) = app_name {
        keys.retain(|k| k.app_name == name);
    }
    keys.sort_by_key(|k| (k.environment == "PRODUCTION", k.created_at));
    Ok(keys.pop())
}

fn is_every(p: &str) -> bool {
    p.eq_ignore_ascii_case("other") || p.eq_ignore_ascii_case("all")
}

fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Branding settings with defaults filled in; every bad value named.
fn settings(v: Option<&Value>, errors: &mut Vec<(String, String)>) -> Value {
    let mut out = Map::new();
    out.insert("backgroundColor".into(), json!("#F5F5F5"));
    out.insert("showLeafUserName".into(), json!(false));
    out.insert("disconnectEnabled".into(), json!(false));
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Value::Object(out);
    };
    let Some(obj) = v.as_object() else {
        errors.push(("settings".into(), "must be an object".into()));
        return Value::Object(out);
    };
    for (k, val) in obj {
        let field = format!("settings.{k}");
        match k.as_str() {
            "backgroundColor" => match val.as_str() {
                Some(c)
                    if c.starts_with('#')
                        && matches!(c.len(), 4 | 7)
                        && c[1..].chars().all(|x| x.is_ascii_hexdigit()) =>
                {
                    out.insert(k.clone(), json!(c));
                }
                _ => errors.push((field, "must be a hex colour such as #2ecc71".into())),
            },
            "companyLogo" | "companyLogoUrl" | "headerImage" => match val.as_str() {
                Some(u)
                    if u.starts_with("https://")
                        && u.len() <= 2048
                        && !u.contains(['"', '<', '>', ' ']) =>
                {
                    let name = if k == "companyLogoUrl" {
                        "companyLogo"
                    } else {
                        k.as_str()
                    };
                    out.insert(name.into(), json!(u));
                }
                _ => errors.push((field, "must be an https URL".into())),
            },
            "companyName" => match val.as_str() {
                Some(n) if n.chars().count() <= 100 => {
                    out.insert(k.clone(), json!(n));
                }
                _ => errors.push((field, "must be a string of at most 100 characters".into())),
            },
            "showLeafUserName" | "disconnectEnabled" | "disconnectedEnabled" => {
                match boolean(val) {
                    Some(b) => {
                        let name = if k == "disconnectedEnabled" {
                            "disconnectEnabled"
                        } else {
                            k.as_str()
                        };
                        out.insert(name.into(), json!(b));
                    }
                    None => errors.push((field, "must be true or false".into())),
                }
            }
            _ => errors.push((field, "unknown setting".into())),
        }
    }
    Value::Object(out)
}

/// Validates a create body; `Ok` is the link to store for `user_id`.
async fn parse(
    state: &AppState,
    owner_id: &str,
    widget: &str,
    body: &Map<String, Value>,
    user_id: String,
) -> Result<NewMagicLink, ApiError> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let secs = expires_in(body.get("expiresIn"), 900)?;
    let max_usage = match body.get("maxUsage") {
        None | Some(Value::Null) => 3,
        Some(v) => match crate::extract::json_integer(v) {
            Some(n) if (1..=1000).contains(&n) => n,
            _ => {
                errors.push((
                    "maxUsage".into(),
                    "must be a whole number from 1 to 1000".into(),
                ));
                3
            }
        },
    };
    let app_name = match body.get("appName") {
        None | Some(Value::Null) => None,
        Some(Value::String(a)) if !a.is_empty() && a.len() <= 64 => Some(a.clone()),
        Some(_) => {
            errors.push(("appName".into(), "must be an app key name".into()));
            None
        }
    };
    let settings = settings(body.get("settings"), &mut errors);
    let mut providers: Vec<String> = Vec::new();
    let mut unknown: Option<(String, String)> = None;
    match widget {
        "PROVIDER" => match body.get("allowedProviders") {
            None | Some(Value::Null) => providers.push("Other".into()),
            Some(Value::Array(items)) if !items.is_empty() => {
                for (i, p) in items.iter().enumerate() {
                    match p.as_str() {
                        Some(p) if is_every(p) => providers.push("Other".into()),
                        Some(p) if providers::by_segment(p).is_some_and(|s| s.oauth) => {
                            providers.push(p.to_owned())
                        }
                        _ => {
                            unknown.get_or_insert((
                                format!("allowedProviders[{i}]"),
                                format!("{p}: not a provider this server connects by link"),
                            ));
                        }
                    }
                }
                providers.dedup();
            }
            Some(_) => errors.push((
                "allowedProviders".into(),
                "must be a non-empty array of provider names".into(),
            )),
        },
        "AUTHENTICATION" => match body.get("provider").and_then(Value::as_str) {
            Some(p) if providers::by_segment(p).is_some_and(|s| s.oauth) => {
                providers.push(p.to_owned())
            }
            Some(p) => {
                unknown = Some((
                    "provider".into(),
                    format!("{p}: not a provider this server connects by link"),
                ));
            }
            None => errors.push(("provider".into(), "is required".into())),
        },
        _ => {}
    }
    if let Some((f, m)) = errors.first() {
        let mut e = ApiError::field(f.clone(), m.clone());
        for (f, m) in errors.iter().skip(1) {
            e = e.with_field(f, m.clone());
        }
        return Err(e);
    }
    if let Some((f, m)) = unknown {
        return Err(ApiError::field(f, m).with_key("unknownProvider"));
    }
    state.store.get_user(owner_id, &user_id).await?;
    for p in providers.iter().filter(|p| !is_every(p)) {
        if resolve_app_key(state, owner_id, p, app_name.as_deref())
            .await?
            .is_none()
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("no app key for {p}: store one with /app-keys/{p} first"),
                Some("appKeyNotConfigured"),
            ));
        }
    }
    Ok(NewMagicLink {
        user_id,
        widget: widget.to_owned(),
        providers,
        settings,
        app_name,
        max_usage,
        expires_at: furrow_model::now_micros() + secs * 1_000_000,
    })
}

async fn create(
    state: &AppState,
    owner_id: &str,
    widget: &str,
    link: NewMagicLink,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let l = state.store.create_magic_link(owner_id, &link).await?;
    tracing::info!(widget, user = %l.user_id, "magic link created");
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "id": l.token,
            "leafUserId": l.user_id,
            "link": state.onboarding.config.link_url(&l.token),
            "expiresAt": super::ts(l.expires_at),
        })),
    ))
}

fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| ApiError::field("body", "must be a JSON object"))
}

/// `POST /magic-link/users/{leafUserId}/{type}`.
#[utoipa::path(post, operation_id = "linksCreateForUser", path = "/services/widgets/api/magic-link/users/{leafUserId}/{kind}", tag = "onboarding", params(("leafUserId" = String, Path), ("kind" = String, Path, description = "provider, authentication or file-upload")), request_body(content = Object, description = "expiresIn?, allowedProviders? | provider, maxUsage?, appName?, settings?"), responses((status = 201, body = Object, description = "{id, leafUserId, link, expiresAt}"), (status = 400, body = crate::error::Problem, description = "validation, invalidExpiresIn, unknownProvider"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem, description = "appKeyNotConfigured")), security(("bearer" = [])))]
pub(crate) async fn create_for_user(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, kind)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let widget = widget_of(&kind)?;
    let link = parse(&state, &owner.0.id, widget, object(&body)?, user).await?;
    create(&state, &owner.0.id, widget, link).await
}

/// `POST /magic-link/{type}` with `externalId`: the oldest user with it, or a new one.
#[utoipa::path(post, operation_id = "linksCreateExternal", path = "/services/widgets/api/magic-link/{kind}", tag = "onboarding", params(("kind" = String, Path)), request_body(content = Object, description = "externalId, name?, email?, and the fields of the user route"), responses((status = 201, body = Object), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem), (status = 409, body = crate::error::Problem)), security(("bearer" = [])))]
pub(crate) async fn create_external(
    State(state): State<AppState>,
    owner: Owner,
    Path(kind): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let widget = widget_of(&kind)?;
    let obj = object(&body)?;
    let external = match obj.get("externalId") {
        Some(Value::String(e)) if !e.trim().is_empty() && e.len() <= 255 => e.clone(),
        _ => {
            return Err(ApiError::field(
                "externalId",
                "is required (the integrator's user id)",
            ));
        }
    };
    let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_owned);
    let filter = UserFilter {
        external_id: Some(external.clone()),
        ..Default::default()
    };
    let (found, _) = state
        .store
        .list_users(&owner.0.id, &filter, Page::default())
        .await?;
    let user_id = match found.into_iter().next() {
        Some(u) => u.id,
        None => {
            let input = UserInput {
                name: Some(text("name").unwrap_or_else(|| external.clone())),
                email: Some(text("email").unwrap_or_else(|| external.clone())),
                external_id: Some(external.clone()),
                ..Default::default()
            };
            state.store.create_user(&owner.0.id, &input).await?.id
        }
    };
    let link = parse(&state, &owner.0.id, widget, obj, user_id).await?;
    create(&state, &owner.0.id, widget, link).await
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListQuery {
    leaf_user_id: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

/// `GET /magic-link/{type}`: the owner's links of that type, newest first, expired ones included.
#[utoipa::path(get, operation_id = "linksList", path = "/services/widgets/api/magic-link/{kind}", tag = "onboarding", params(("kind" = String, Path), ("leafUserId" = Option<String>, Query), ("page" = Option<i64>, Query), ("size" = Option<i64>, Query)), responses((status = 200, body = Vec<Object>, description = "links of one type, newest first", headers(("X-Total-Count" = i64), ("Link" = String))), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    owner: Owner,
    Path(kind): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let widget = widget_of(&kind)?;
    let page = q.page.page()?;
    let (links, total) = state
        .store
        .list_magic_links(&owner.0.id, widget, q.leaf_user_id.as_deref(), page)
        .await?;
    let filters: Vec<(&str, &str)> = q
        .leaf_user_id
        .as_deref()
        .map(|u| vec![("leafUserId", u)])
        .unwrap_or_default();
    Ok((
        pagination::headers(&format!("{BASE}/{kind}"), &filters, page, total),
        axum::Json(json!(
            links
                .iter()
                .map(|l| link_json(&state, l))
                .collect::<Vec<_>>()
        )),
    ))
}

/// `GET /magic-link/{type}/{id}`.
#[utoipa::path(get, operation_id = "linksGet", path = "/services/widgets/api/magic-link/{kind}/{id}", tag = "onboarding", params(("kind" = String, Path), ("id" = String, Path)), responses((status = 200, body = Object), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "magicLinkNotFound")), security(("bearer" = [])))]
pub(crate) async fn get(
    State(state): State<AppState>,
    owner: Owner,
    Path((kind, id)): Path<(String, String)>,
) -> Result<axum::Json<Value>, ApiError> {
    let widget = widget_of(&kind)?;
    let l = state
        .store
        .get_magic_link(&owner.0.id, widget, &id)
        .await
        .map_err(link_not_found)?;
    Ok(axum::Json(link_json(&state, &l)))
}

/// `DELETE /magic-link/{type}/{id}`: the page stops at once.
#[utoipa::path(delete, operation_id = "linksDelete", path = "/services/widgets/api/magic-link/{kind}/{id}", tag = "onboarding", params(("kind" = String, Path), ("id" = String, Path)), responses((status = 204), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "magicLinkNotFound")), security(("bearer" = [])))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    owner: Owner,
    Path((kind, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let widget = widget_of(&kind)?;
    state
        .store
        .delete_magic_link(&owner.0.id, widget, &id)
        .await
        .map_err(link_not_found)?;
    Ok(StatusCode::NO_CONTENT)
}
