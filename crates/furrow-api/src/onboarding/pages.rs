//! The pages a grower opens from a Magic Link, the OAuth start and the provider's redirect back.
//!
//! Security (leaf-onboarding.md §3.8, §8): the link token is the capability and is looked up by its hash;
//! every form carries a double-submit CSRF token (`furrow_csrf` cookie); a connection starts an OAuth
//! session whose random `state` is stored hashed and bound to this browser by the `furrow_oauth` cookie
//! (`HMAC(server key, state)`); the callback URL is `{public_url}/widget` from configuration, never from a
//! request; the session carries the link's owner and user, so a callback can only attach a credential to
//! them; secrets, codes and tokens never reach a page, a URL of ours or a log.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use furrow_credentials::Provider;
use furrow_provider::{HttpClient, MemorySink, OAuthConfig};
use furrow_store::{MagicLink, OAuthSession};

use super::html::{Brand, esc, notice, notice_with, page, respond};
use super::links::resolve_app_key;
use super::providers::{self, Spec};
use super::same;
use crate::auth::ClientAddr;
use crate::batch::{Upload, receive};
use crate::{ApiError, AppState};

const CSRF_COOKIE: &str = "furrow_csrf";
const OAUTH_COOKIE: &str = "furrow_oauth";

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn set_cookie(
    state: &AppState,
    resp: &mut Response,
    name: &str,
    value: &str,
    path: &str,
    max_age: u64,
) {
    let secure = if state.onboarding.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let v =
        format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    if let Ok(v) = HeaderValue::from_str(&v) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn too_many(retry_after: u64) -> Response {
    let mut r = notice(
        StatusCode::TOO_MANY_REQUESTS,
        &Brand::default(),
        "error-rate-limited",
        "Too many requests",
        "This link was used too often in a short time. Please wait a little and try again.",
    );
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// 300 hosted-page requests a minute from one client address (leaf-onboarding.md §8.17).
fn client_limited(state: &AppState, client: ClientAddr) -> Option<Response> {
    let ip = client.0?;
    state
        .onboarding
        .limit(&format!("ip:{ip}"), 300, Duration::from_secs(60))
        .map(too_many)
}

/// Why a link cannot be used now.
#[derive(Debug)]
enum LinkRefused {
    RateLimited(u64),
    Internal,
    /// Unknown or deleted.
    NotFound,
    Expired(Brand),
    UsedUp(Brand),
}

impl LinkRefused {
    /// The page that says why (404 unknown or deleted, 410 expired or used up, 429 over the rate limit).
    fn page(self) -> Response {
        match self {
            LinkRefused::RateLimited(after) => too_many(after),
            LinkRefused::Internal => notice(
                StatusCode::INTERNAL_SERVER_ERROR,
                &Brand::default(),
                "error-internal",
                "Something went wrong",
                "Please try again later.",
            ),
            LinkRefused::NotFound => notice(
                StatusCode::NOT_FOUND,
                &Brand::default(),
                "error-not-found",
                "This link does not exist",
                "The link is unknown or was withdrawn. Ask the sender for a new one.",
            ),
            LinkRefused::Expired(brand) => notice(
                StatusCode::GONE,
                &brand,
                "error-expired",
                "This link has expired",
                "Ask the sender for a new link.",
            ),
            LinkRefused::UsedUp(brand) => notice(
                StatusCode::GONE,
                &brand,
                "error-used",
                "This link has already been used",
                "It was used as many times as it allows. Ask the sender for a new link.",
            ),
        }
    }

    /// The same as problem+json (the upload page's script asks for JSON).
    fn problem(self) -> Response {
        match self {
            LinkRefused::RateLimited(after) => {
                let mut r = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too many requests for this link; retry later",
                    Some("tooManyRequests"),
                )
                .into_response();
                if let Ok(v) = HeaderValue::from_str(&after.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
            LinkRefused::Internal => ApiError::internal().into_response(),
            LinkRefused::NotFound => {
                ApiError::not_found("magic link", "magicLinkNotFound").into_response()
            }
            LinkRefused::Expired(_) => ApiError::new(
                StatusCode::GONE,
                "this link has expired",
                Some("magicLinkExpired"),
            )
            .into_response(),
            LinkRefused::UsedUp(_) => ApiError::new(
                StatusCode::GONE,
                "this link has already been used as many times as it allows",
                Some("magicLinkUsageExceeded"),
            )
            .into_response(),
        }
    }
}

/// The link behind a token, valid now (the token is the capability; it is looked up by its hash).
async fn open_link(
    state: &AppState,
    token: &str,
    per_minute: usize,
) -> Result<MagicLink, LinkRefused> {
    // Per token: unknown tokens count too, so guessing is slowed as well.
    let key = format!("page:{}", furrow_store::token_hash(token));
    if let Some(after) = state
        .onboarding
        .limit(&key, per_minute, Duration::from_secs(60))
    {
        return Err(LinkRefused::RateLimited(after));
    }
    let link = match state.store.magic_link_by_token(token).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "magic link lookup failed");
            return Err(LinkRefused::Internal);
        }
    };
    let Some(link) = link.filter(|l| l.deleted_at.is_none()) else {
        return Err(LinkRefused::NotFound);
    };
    let now = furrow_model::now_micros();
    if now >= link.expires_at {
        return Err(LinkRefused::Expired(Brand::from_settings(
            &link.settings,
            None,
        )));
    }
    if link.usage_count >= link.max_usage {
        return Err(LinkRefused::UsedUp(Brand::from_settings(
            &link.settings,
            None,
        )));
    }
    Ok(link)
}

async fn brand_of(state: &AppState, link: &MagicLink) -> Brand {
    let name = match state.store.get_user(&link.owner_id, &link.user_id).await {
        Ok(u) => u.name,
        Err(_) => None,
    };
    Brand::from_settings(&link.settings, name)
}

/// The providers a link offers: those it lists (every provider with an app key for `Other`), that connect
/// through a consent page, with their app key resolved.
async fn offered(state: &AppState, link: &MagicLink) -> Vec<(&'static Spec, bool)> {
    let every = link.providers.iter().any(|p| p == "Other");
    let mut out = Vec::new();
    for spec in providers::all().iter().filter(|s| s.oauth) {
        if !every && !link.providers.iter().any(|p| p == spec.segment()) {
            continue;
        }
        let key = resolve_app_key(
            state,
            &link.owner_id,
            spec.segment(),
            link.app_name.as_deref(),
        )
        .await
        .ok()
        .flatten();
        if key.is_some() || !every {
            out.push((spec, key.is_some()));
        }
    }
    out
}

/// `GET /magic-link/{id}`: the branded landing page.
pub(crate) async fn landing(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = client_limited(&state, client) {
        return r;
    }
    let link = match open_link(&state, &token, 60).await {
        Ok(l) => l,
        Err(refused) => return refused.page(),
    };
    let now = furrow_model::now_micros();
    if let Err(e) = state.store.touch_magic_link(&link.hash, now).await {
        tracing::warn!(error = %e, "cannot record the link's access");
    }
    let csrf = cookie(&headers, CSRF_COOKIE)
        .filter(|c| c.len() == 43)
        .unwrap_or_else(furrow_store::random_token);
    let brand = brand_of(&state, &link).await;
    let company = link
        .settings
        .get("companyName")
        .and_then(|v| v.as_str())
        .unwrap_or("This application");
    let action = |what: &str| format!("/magic-link/{}/{what}", esc(&token));
    let hidden = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&csrf)
    );
    let notice_html = "<p class=\"notice\" id=\"data-notice\">The data you connect or upload here belongs to you; it is shared only with the company that sent you this link.</p>";
    let main = if link.widget == "FILEUPLOAD" {
        let recent = recent_uploads(&state, &link).await;
        format!(
            r#"<h1>Upload machine data</h1>
<p>{company} asks you to upload files from your equipment (a <code>.zip</code> export from the display).</p>
{notice_html}
<form id="upload-form" method="post" action="{action}" enctype="multipart/form-data">
{hidden}
<label for="file">Machine data file (.zip)</label>
<input type="file" id="file" name="file" accept=".zip,application/zip" required>
<p><button type="submit" id="upload">Upload</button></p>
<label for="progress" id="progress-label" hidden>Upload progress</label>
<progress id="progress" max="100" value="0" hidden></progress>
<p id="upload-status" role="status" aria-live="polite"></p>
</form>
<h2>Recent files, last 30 days</h2>
{recent}
<script>
(function(){{
var f=document.getElementById('upload-form'),p=document.getElementById('progress'),l=document.getElementById('progress-label'),s=document.getElementById('upload-status');
f.addEventListener('submit',function(e){{
e.preventDefault();var x=new XMLHttpRequest();p.hidden=false;l.hidden=false;p.value=0;s.textContent='Uploading…';
x.upload.onprogress=function(ev){{if(ev.lengthComputable){{p.value=Math.round(ev.loaded*100/ev.total);}}}};
x.onload=function(){{var b={{}};try{{b=JSON.parse(x.responseText);}}catch(_){{}}
if(x.status===201){{p.value=100;s.className='ok';s.setAttribute('data-batch-id',b.batchId||'');s.textContent='Received '+(b.fileName||'the file')+'. It is being processed.';}}
else{{s.className='fail';s.textContent='The upload failed: '+(b.message||('HTTP '+x.status));}}}};
x.onerror=function(){{s.className='fail';s.textContent='The upload failed: the connection was interrupted.';}};
x.open('POST',f.action);x.setRequestHeader('Accept','application/json');x.send(new FormData(f));}});
}})();
</script>"#,
            company = esc(company),
            action = action("upload"),
        )
    } else {
        let connected: BTreeSet<Provider> = state
            .store
            .list_user_credentials(&link.owner_id, &link.user_id)
            .await
            .map(|cs| cs.into_iter().map(|c| c.provider).collect())
            .unwrap_or_default();
        let offered = offered(&state, &link).await;
        let disconnect_enabled = link
            .settings
            .get("disconnectEnabled")
            .and_then(|v| v.as_bool())
            == Some(true);
        let items: String = offered
            .iter()
            .map(|(spec, available)| {
                let name = esc(spec.kind.display_name());
                let seg = spec.segment();
                let state_html = if connected.contains(&spec.kind) {
                    format!("<span class=\"connected\" id=\"connected-{seg}\">Connected</span>")
                } else {
                    String::new()
                };
                let button = if *available {
                    let label = if link.widget == "AUTHENTICATION" {
                        "Continue".to_owned()
                    } else if connected.contains(&spec.kind) {
                        format!("Reconnect {name}")
                    } else {
                        format!("Connect {name}")
                    };
                    format!(
                        "<form method=\"post\" action=\"{}\">{hidden}<button type=\"submit\" id=\"connect-{seg}\">{label}</button></form>",
                        action(&format!("connect/{seg}"))
                    )
                } else {
                    "<span>Not available</span>".to_owned()
                };
                let disconnect = if disconnect_enabled && connected.contains(&spec.kind) {
                    format!(
                        "<form method=\"post\" action=\"{}\">{hidden}<button type=\"submit\" class=\"secondary\" id=\"disconnect-{seg}\">Disconnect {name}</button></form>",
                        action(&format!("disconnect/{seg}"))
                    )
                } else {
                    String::new()
                };
                format!("<li><span><strong>{name}</strong> {state_html}</span><span class=\"actions\">{button}{disconnect}</span></li>")
            })
            .collect();
        let heading = if link.widget == "AUTHENTICATION" {
            let p = offered
                .first()
                .map(|(s, _)| s.kind.display_name())
                .unwrap_or("your provider");
            format!("{} wants to access your {} account", esc(company), esc(p))
        } else {
            "Connect your farm accounts".to_owned()
        };
        let empty = if offered.is_empty() {
            "<p id=\"no-providers\">No provider is available on this link.</p>"
        } else {
            ""
        };
        format!(
            "<h1>{heading}</h1><p>{} asks you to connect the accounts where your equipment keeps its data. You sign in at the provider's own page; your password is never shared.</p>{notice_html}{empty}<ul class=\"providers\" id=\"providers\">{items}</ul>",
            esc(company)
        )
    };
    let mut resp = respond(StatusCode::OK, page("Connect your accounts", &brand, &main));
    set_cookie(&state, &mut resp, CSRF_COOKIE, &csrf, "/magic-link", 3600);
    resp
}

async fn recent_uploads(state: &AppState, link: &MagicLink) -> String {
    let since = furrow_model::now_micros() - 30 * 86_400 * 1_000_000;
    let batches = state
        .store
        .list_user_batches_since(&link.owner_id, &link.user_id, since, 50)
        .await
        .unwrap_or_default();
    let rows: String = batches
        .iter()
        .map(|b| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&b.file_name),
                esc(&super::ts(b.created_at)),
                esc(&b.status)
            )
        })
        .collect();
    if rows.is_empty() {
        "<p id=\"recent-none\">No files yet.</p>".into()
    } else {
        format!(
            "<table id=\"recent\"><thead><tr><th>File</th><th>Uploaded</th><th>Status</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    }
}

fn csrf_ok(headers: &HeaderMap, sent: Option<&String>) -> bool {
    match (cookie(headers, CSRF_COOKIE), sent) {
        (Some(c), Some(s)) => !c.is_empty() && same(&c, s),
        _ => false,
    }
}

fn bad_form(brand: &Brand) -> Response {
    notice(
        StatusCode::FORBIDDEN,
        brand,
        "error-csrf",
        "This form has expired",
        "Open the link again and retry.",
    )
}

/// `POST /magic-link/{id}/connect/{Provider}`: opens an OAuth session and sends the browser to the provider.
pub(crate) async fn connect(
    State(state): State<AppState>,
    client: ClientAddr,
    Path((token, segment)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = client_limited(&state, client) {
        return r;
    }
    let link = match open_link(&state, &token, 60).await {
        Ok(l) => l,
        Err(refused) => return refused.page(),
    };
    let brand = Brand::from_settings(&link.settings, None);
    if !csrf_ok(&headers, form.get("csrf")) {
        return bad_form(&brand);
    }
    if let Some(after) = state.onboarding.limit(
        &format!("start:{}", link.hash),
        10,
        Duration::from_secs(3600),
    ) {
        return too_many(after);
    }
    let allowed = offered(&state, &link)
        .await
        .into_iter()
        .find(|(s, _)| s.segment() == segment);
    let Some((spec, true)) = allowed else {
        return notice(
            StatusCode::FORBIDDEN,
            &brand,
            "error-provider-not-allowed",
            "This provider is not offered here",
            "The link does not offer this provider.",
        );
    };
    let key = match resolve_app_key(
        &state,
        &link.owner_id,
        spec.segment(),
        link.app_name.as_deref(),
    )
    .await
    {
        Ok(Some(k)) => k,
        _ => {
            return notice(
                StatusCode::CONFLICT,
                &brand,
                "error-not-configured",
                "This provider is not set up",
                "The company that sent this link has not configured this provider yet.",
            );
        }
    };
    let request = match begin(
        &state,
        &link.owner_id,
        &link.user_id,
        spec,
        &key,
        Origin::Link(link.hash.clone()),
    )
    .await
    {
        Ok(r) => r,
        Err(()) => {
            return notice(
                StatusCode::INTERNAL_SERVER_ERROR,
                &brand,
                "error-internal",
                "Something went wrong",
                "Please try again later.",
            );
        }
    };
    tracing::info!(provider = spec.segment(), user = %link.user_id, "grower sent to the provider's consent page");
    to_provider(&state, &request.url, &request.state)
}

/// `GET /widget/start/{token}`: a start link from the widget session API, once: binds the session's state to
/// this browser (the first-party cookie) and sends it to the provider.
pub(crate) async fn start(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(token): Path<String>,
) -> Response {
    if let Some(r) = client_limited(&state, client) {
        return r;
    }
    let taken = state
        .store
        .take_oauth_start(&token, furrow_model::now_micros())
        .await;
    let url = match taken {
        Ok(Some(url)) => url,
        Ok(None) => {
            return notice(
                StatusCode::GONE,
                &Brand::default(),
                "error-start-used",
                "This sign-in link was already used or has expired",
                "Nothing was saved. Start the connection again from the page that sent you here.",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot take a start link");
            return LinkRefused::Internal.page();
        }
    };
    let oauth_state = url::Url::parse(&url)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    to_provider(&state, &url, &oauth_state)
}

/// Where a connection started: a Magic Link (its hash) or a Leaf-user API key (its id).
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    Link(String),
    ApiKey(String),
}

/// Opens an OAuth session for `user_id` with `key`: a random state (stored hashed), the PKCE verifier where the
/// provider takes one (sealed), the configured redirect URI; the authorization request to send the browser to.
pub(crate) async fn begin(
    state: &AppState,
    owner_id: &str,
    user_id: &str,
    spec: &Spec,
    key: &furrow_store::AppKey,
    origin: Origin,
) -> Result<furrow_provider::AuthorizationRequest, ()> {
    let base = state
        .onboarding
        .config
        .provider_urls
        .get(&spec.kind)
        .map(String::as_str);
    let Some(ep) = providers::endpoints(spec.kind, key, base) else {
        tracing::error!(
            provider = spec.segment(),
            "no consent endpoints for this provider"
        );
        return Err(());
    };
    let config = oauth_config(state, &ep);
    let extra: Vec<(&str, &str)> = ep
        .authorize_extra
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let request = furrow_provider::authorization_url(&config, ep.pkce, &extra).map_err(|e| {
        tracing::error!(provider = spec.segment(), error = %e, "cannot build the authorization URL");
    })?;
    let ttl = state.onboarding.config.session_ttl;
    let (magic_link_hash, api_key_id) = match origin {
        Origin::Link(h) => (Some(h), None),
        Origin::ApiKey(id) => (None, Some(id)),
    };
    let session = OAuthSession {
        state_hash: String::new(),
        owner_id: owner_id.to_owned(),
        user_id: user_id.to_owned(),
        provider: spec.segment().to_owned(),
        app_key_id: key.id.clone(),
        environment: key.environment.clone(),
        magic_link_hash,
        api_key_id,
        code_verifier: request.pkce_verifier.clone(),
        redirect_uri: state.onboarding.config.redirect_uri(),
        expires_at: furrow_model::now_micros() + ttl.as_micros() as i64,
        consumed_at: None,
    };
    state
        .store
        .create_oauth_session(&request.state, &session)
        .await
        .map_err(|e| tracing::error!(error = %e, "cannot store the OAuth session"))?;
    Ok(request)
}

/// `303` to the provider's authorize URL, with the cookie that binds `state` to this browser.
pub(crate) fn to_provider(state: &AppState, url: &str, oauth_state: &str) -> Response {
    let mut resp = (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, url.to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response();
    let value = state.onboarding.state_cookie(oauth_state);
    let ttl = state.onboarding.config.session_ttl;
    set_cookie(
        state,
        &mut resp,
        OAUTH_COOKIE,
        &value,
        "/widget",
        ttl.as_secs(),
    );
    resp
}

/// `POST /magic-link/{id}/disconnect/{Provider}`: deletes the user's credential for a provider the link
/// offers, when its settings enable disconnecting; back to the link's page.
pub(crate) async fn disconnect(
    State(state): State<AppState>,
    client: ClientAddr,
    Path((token, segment)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = client_limited(&state, client) {
        return r;
    }
    let link = match open_link(&state, &token, 60).await {
        Ok(l) => l,
        Err(refused) => return refused.page(),
    };
    let brand = Brand::from_settings(&link.settings, None);
    if !csrf_ok(&headers, form.get("csrf")) {
        return bad_form(&brand);
    }
    let enabled = link
        .settings
        .get("disconnectEnabled")
        .and_then(|v| v.as_bool())
        == Some(true);
    let offered = offered(&state, &link)
        .await
        .into_iter()
        .find(|(s, _)| s.segment() == segment);
    let (true, Some((spec, _))) = (enabled, offered) else {
        return notice(
            StatusCode::FORBIDDEN,
            &brand,
            "error-disconnect-not-allowed",
            "Disconnecting is not offered here",
            "Ask the company that sent you this link to remove the connection.",
        );
    };
    match state
        .store
        .delete_credential(&link.owner_id, &link.user_id, spec.kind)
        .await
    {
        Ok(()) | Err(furrow_store::Error::NotFound(_)) => {}
        Err(e) => {
            tracing::error!(error = %e, "cannot delete a credential from a magic link");
            return notice(
                StatusCode::INTERNAL_SERVER_ERROR,
                &brand,
                "error-internal",
                "Something went wrong",
                "Please try again later.",
            );
        }
    }
    tracing::info!(provider = spec.segment(), user = %link.user_id, "credential disconnected through a magic link");
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, format!("/magic-link/{token}")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response()
}

fn oauth_config(state: &AppState, ep: &providers::OAuthEndpoints) -> OAuthConfig {
    let mut c = OAuthConfig::new(
        ep.client_id.clone(),
        Some(ep.client_secret.clone()),
        ep.token_url.clone(),
    );
    c.auth_url = Some(ep.authorize_url.clone());
    c.client_auth = ep.client_auth;
    c.redirect_uri = Some(state.onboarding.config.redirect_uri());
    c.scopes = ep.scopes.clone();
    c.extra_params = ep.token_extra.clone();
    c
}

/// `GET /widget?code=&state=` (or `?error=&state=`): the provider's redirect back.
pub(crate) async fn callback(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = client_limited(&state, client) {
        return r;
    }
    let plain = Brand::default();
    let invalid = |brand: &Brand| {
        notice(
            StatusCode::BAD_REQUEST,
            brand,
            "error-invalid-state",
            "This sign-in could not be verified",
            "The answer from the provider does not belong to a connection started in this browser, or it was already used. Nothing was saved. Open your link again to retry.",
        )
    };
    if let Some(after) = state
        .onboarding
        .limit("callback", 600, Duration::from_secs(60))
    {
        return too_many(after);
    }
    let Some(st) = q.get("state").filter(|s| !s.is_empty() && s.len() <= 256) else {
        return invalid(&plain);
    };
    let session = match state.store.oauth_session(st).await {
        Ok(Some(s)) => s,
        Ok(None) => return invalid(&plain),
        Err(e) => {
            tracing::error!(error = %e, "OAuth session lookup failed");
            return invalid(&plain);
        }
    };
    let link = match &session.magic_link_hash {
        Some(h) => state
            .store
            .magic_link_by_hash(&session.owner_id, h)
            .await
            .ok(),
        None => None,
    };
    let brand = link
        .as_ref()
        .map(|l| Brand::from_settings(&l.settings, None))
        .unwrap_or_default();
    let expected = state.onboarding.state_cookie(st);
    if !cookie(&headers, OAUTH_COOKIE).is_some_and(|c| same(&c, &expected)) {
        tracing::warn!(provider = %session.provider, "OAuth callback without this browser's session cookie");
        return invalid(&brand);
    }
    let now = furrow_model::now_micros();
    match state.store.consume_oauth_session(st, now).await {
        Ok(true) => {}
        Ok(false) => return invalid(&brand),
        Err(e) => {
            tracing::error!(error = %e, "cannot consume the OAuth session");
            return invalid(&brand);
        }
    }
    let Some(spec) = providers::by_segment(&session.provider) else {
        return invalid(&brand);
    };
    let name = spec.kind.display_name();
    // From here the browser is the one that started: it may be shown the way back to its link.
    let back = link
        .as_ref()
        .filter(|l| l.deleted_at.is_none())
        .map(|l| {
            format!(
                "<p><a href=\"/magic-link/{}\" id=\"back\">Back to your link</a></p>",
                esc(&l.token)
            )
        })
        .unwrap_or_default();
    if let Some(err) = q.get("error") {
        tracing::info!(provider = %session.provider, error = %err.chars().take(40).collect::<String>(), "provider answered with an error");
        let (id, heading, text) = if err == "access_denied" {
            (
                "error-denied",
                format!("You did not allow access to {name}"),
                "Nothing was saved. Open your link again if you change your mind.".to_owned(),
            )
        } else {
            (
                "error-provider",
                format!("{name} did not complete the sign-in"),
                "Nothing was saved. Open your link again to retry.".to_owned(),
            )
        };
        return notice_with(StatusCode::BAD_REQUEST, &brand, id, &heading, &text, &back);
    }
    let Some(code) = q.get("code").filter(|c| !c.is_empty()) else {
        return invalid(&brand);
    };
    match finish(&state, &session, spec, code, link.as_ref()).await {
        Ok(()) => {
            let company = link
                .as_ref()
                .and_then(|l| {
                    l.settings
                        .get("companyName")
                        .and_then(|v| v.as_str())
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| "the company that sent you the link".into());
            let main = format!(
                "<h1 id=\"result-ok\" class=\"ok\">Your {} account is connected</h1><p>{} can now receive your {} data. You can close this tab.</p>{back}",
                esc(name),
                esc(&company),
                esc(name)
            );
            respond(StatusCode::OK, page("Connected", &brand, &main))
        }
        Err(page) => page(&brand, &back),
    }
}

/// A failure page still to be branded (and given the way back to the link).
type Failure = Box<dyn FnOnce(&Brand, &str) -> Response + Send>;

fn fail(status: StatusCode, id: &'static str, heading: String, text: &'static str) -> Failure {
    Box::new(move |b: &Brand, back: &str| notice_with(status, b, id, &heading, text, back))
}

/// Exchanges the code with the app key's secrets, takes the link's use and stores the credential as
/// `POST /users/{id}/{slug}-credentials` does; the exchange's events go to the new credential.
async fn finish(
    state: &AppState,
    session: &OAuthSession,
    spec: &Spec,
    code: &str,
    link: Option<&MagicLink>,
) -> Result<(), Failure> {
    let name = spec.kind.display_name();
    let key = state
        .store
        .get_app_key_by_id(&session.owner_id, &session.app_key_id)
        .await
        .map_err(|_| {
            fail(
                StatusCode::CONFLICT,
                "error-not-configured",
                format!("{name} is no longer set up"),
                "The company that sent this link removed its settings for this provider. Nothing was saved.",
            )
        })?;
    // A key revoked (or expired) while the grower was at the provider ends the connection.
    if let Some(id) = &session.api_key_id {
        let valid = state
            .store
            .get_api_key(&session.owner_id, id)
            .await
            .is_ok_and(|k| k.is_valid(furrow_model::now_micros()));
        if !valid {
            return Err(fail(
                StatusCode::FORBIDDEN,
                "error-key-revoked",
                "This connection was withdrawn".into(),
                "The access it was started with was revoked meanwhile. Nothing was saved.",
            ));
        }
    }
    let base = state
        .onboarding
        .config
        .provider_urls
        .get(&spec.kind)
        .map(String::as_str);
    let ep = providers::endpoints(spec.kind, &key, base).ok_or_else(|| {
        fail(
            StatusCode::BAD_REQUEST,
            "error-provider",
            format!("{name} cannot be connected"),
            "Nothing was saved.",
        )
    })?;
    let mut config = oauth_config(state, &ep);
    // The redirect URI of the authorization request, byte for byte.
    config.redirect_uri = Some(session.redirect_uri.clone());
    let sink = MemorySink::new();
    let mut redact = vec![ep.client_secret.clone(), code.to_owned()];
    redact.extend(key.secrets.values().cloned());
    redact.extend(session.code_verifier.clone());
    let http = HttpClient::new(
        spec.kind,
        state.onboarding.config.http.clone(),
        sink.clone() as Arc<dyn furrow_provider::EventSink>,
        redact,
    )
    .map_err(|e| {
        tracing::error!(error = %e, "cannot build the HTTP client");
        fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error-internal",
            "Something went wrong".into(),
            "Nothing was saved. Please try again later.",
        )
    })?;
    let issued = furrow_provider::exchange_code(&http, &config, code, session.code_verifier.as_deref())
        .await
        .map_err(|e| {
            tracing::warn!(provider = spec.segment(), kind = ?e.kind(), "code exchange refused");
            fail(
                StatusCode::BAD_REQUEST,
                "error-exchange",
                format!("{name} refused the sign-in"),
                "The provider did not accept the answer it sent back. Nothing was saved. Open your link again to retry.",
            )
        })?;
    let Some(refresh) = issued.updates.get("refreshToken") else {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "error-exchange",
            format!("{name} gave no lasting access"),
            "The provider did not grant offline access. Nothing was saved.",
        ));
    };
    if let Some(l) = link {
        // Expiry is not checked again (the grower started in time); a withdrawn link stops here.
        if l.deleted_at.is_some() {
            return Err(fail(
                StatusCode::NOT_FOUND,
                "error-not-found",
                "This link was withdrawn".into(),
                "The company that sent it withdrew the link while you were signing in. Nothing was saved.",
            ));
        }
        match state.store.use_magic_link(&session.owner_id, &l.hash).await {
            Ok(true) => {}
            _ => {
                return Err(fail(
                    StatusCode::GONE,
                    "error-used",
                    "This link has already been used".into(),
                    "It was used as many times as it allows. Nothing was saved.",
                ));
            }
        }
    }
    let body = providers::credential_body(spec.kind, &key, refresh);
    let now = furrow_model::now_micros();
    let tokens = furrow_store::TokenUpdate {
        secrets: Default::default(),
        access_token: issued.access_token.clone(),
        issued_at: now,
        expires_at: issued
            .expires_in
            .map(|d| now + i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 2)),
    };
    let stored = crate::credentials::store_credential(
        state,
        &session.owner_id,
        &session.user_id,
        spec.kind,
        &body,
        true,
        Some(tokens),
    )
    .await;
    let c = match stored {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(provider = spec.segment(), status = %e.status(), "link credential not stored");
            if let Some(l) = link {
                let _ = state
                    .store
                    .unuse_magic_link(&session.owner_id, &l.hash)
                    .await;
            }
            return Err(fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error-internal",
                "The connection could not be saved".into(),
                "Please open your link again to retry.",
            ));
        }
    };
    for event in sink.events() {
        if let Err(e) = state
            .store
            .add_credential_event(&session.owner_id, &c.id, &event)
            .await
        {
            tracing::warn!(error = %e, "cannot record the code exchange");
        }
    }
    tracing::info!(provider = spec.segment(), credential = %c.id, user = %session.user_id, "credential connected through a magic link");
    Ok(())
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// `POST /magic-link/{id}/upload`: a machine-data zip into the same path as `POST /batch` for the link's user.
pub(crate) async fn upload(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(token): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    if let Some(r) = client_limited(&state, client) {
        return r;
    }
    let json = wants_json(&headers);
    let link = match open_link(&state, &token, 60).await {
        Ok(l) if l.widget == "FILEUPLOAD" => l,
        Ok(_) if json => {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "this link does not take files",
                Some("forbidden"),
            )
            .into_response();
        }
        Ok(l) => {
            return notice(
                StatusCode::FORBIDDEN,
                &Brand::from_settings(&l.settings, None),
                "error-not-upload",
                "This link does not take files",
                "Use the link you were sent for uploads.",
            );
        }
        Err(refused) if json => return refused.problem(),
        Err(refused) => return refused.page(),
    };
    let who = Upload {
        user: Some(link.user_id.clone()),
        provider: Some("Other".into()),
        user_fixed: true,
    };
    let (owner, hash) = (link.owner_id.clone(), link.hash.clone());
    let st = &state;
    let used = std::sync::atomic::AtomicBool::new(false);
    let used = &used;
    let check = async |fields: &HashMap<String, String>| -> Result<(), ApiError> {
        if !csrf_ok(&headers, fields.get("csrf")) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "the form has expired: open the link again",
                Some("forbidden"),
            ));
        }
        match st.store.use_magic_link(&owner, &hash).await {
            Ok(true) => {
                used.store(true, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }
            Ok(false) => Err(ApiError::new(
                StatusCode::GONE,
                "this link has already been used",
                Some("magicLinkUsageExceeded"),
            )),
            Err(e) => Err(e.into()),
        }
    };
    let result = receive(&state, &link.owner_id, who, multipart, check).await;
    if result.is_err() && used.load(std::sync::atomic::Ordering::Relaxed) {
        // Nothing was registered: the use is given back.
        if let Err(e) = state
            .store
            .unuse_magic_link(&link.owner_id, &link.hash)
            .await
        {
            tracing::warn!(error = %e, "cannot give a link's use back");
        }
    }
    let brand = Brand::from_settings(&link.settings, None);
    match result {
        Ok(batch) => {
            tracing::info!(batch = %batch.id, user = %link.user_id, "file received through a magic link");
            if json {
                return (
                    StatusCode::CREATED,
                    axum::Json(serde_json::json!({"batchId": batch.id, "fileName": batch.file_name, "status": batch.status})),
                )
                    .into_response();
            }
            (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, format!("/magic-link/{token}"))],
            )
                .into_response()
        }
        Err(e) if json => e.into_response(),
        Err(e) => notice(
            e.status(),
            &brand,
            "error-upload",
            "The upload failed",
            "Check that the file is a .zip export and try again.",
        ),
    }
}
