//! The browser half of each OAuth provider: an authorization endpoint that serves a real login and consent
//! form, checks the client and its registered redirect URI, and redirects back with a single-use code (or
//! `error=access_denied`); the code is exchanged at the provider's token endpoint (`common::oauth_token`, or
//! Cognito's `/oauth2/token` here) under the provider's client authentication.
//!
//! Paths follow providers.md and the adapters' configurations; PKCE (S256 only) is required by Lindsay and
//! Cognito public clients and accepted elsewhere.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use furrow_credentials::Provider as ProviderKind;
use serde_json::json;

use crate::common::{self, json_status, ok_json};
use crate::state::{CodeBinding, SimState, lock};

type St = State<Arc<SimState>>;

/// The authorization endpoint's path on `kind`'s simulator, for providers with a browser consent flow.
pub(crate) fn authorize_path(kind: ProviderKind) -> Option<&'static str> {
    Some(match kind {
        ProviderKind::JohnDeere => "/oauth2/aus78tnlaysMraFhC1t7/v1/authorize",
        ProviderKind::Claas | ProviderKind::Trimble | ProviderKind::Lindsay => "/oauth/authorize",
        ProviderKind::ClimateFieldView => "/static/app-login/index.html",
        ProviderKind::Cnhi | ProviderKind::CnhiFieldOps => "/authorize",
        ProviderKind::AgLeader => "/Account/Authorize",
        ProviderKind::Raven => "/connect/authorize",
        ProviderKind::Panorama => "/oauth2/authorize",
        _ => return None,
    })
}

/// How the token endpoint authenticates the client for the code grant (providers.md 14.5 and §6 of
/// leaf-onboarding.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeClientAuth {
    /// `Authorization: Basic` only (client_secret_basic).
    Basic,
    /// `client_id` and `client_secret` in the body only (client_secret_post; Auth0 at CNH).
    Body,
    /// A public client: `client_id` in the body, no secret, PKCE required (Cognito's app client).
    Public,
}

pub(crate) fn code_client_auth(kind: ProviderKind) -> CodeClientAuth {
    match kind {
        ProviderKind::Cnhi | ProviderKind::CnhiFieldOps => CodeClientAuth::Body,
        ProviderKind::Panorama => CodeClientAuth::Public,
        _ => CodeClientAuth::Basic,
    }
}

/// Whether the provider refuses an authorization request without a PKCE challenge.
fn pkce_required(kind: ProviderKind) -> bool {
    matches!(kind, ProviderKind::Lindsay | ProviderKind::Panorama)
}

/// Seconds a code stays valid: Climate's live about a minute, Trimble's ten minutes [C]; others ten [A].
pub(crate) fn code_lifetime(kind: ProviderKind) -> i64 {
    match kind {
        ProviderKind::ClimateFieldView => 60,
        _ => 600,
    }
}

pub(crate) fn routes(kind: ProviderKind) -> Router<Arc<SimState>> {
    let Some(path) = authorize_path(kind) else {
        return Router::new();
    };
    let mut r = Router::new().route(path, get(show).post(decide));
    if kind == ProviderKind::Panorama {
        r = r.route("/oauth2/token", axum::routing::post(cognito_token));
    }
    r
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page that answers the browser itself: a bad client or redirect URI is never redirected to (RFC 6749
/// 4.1.2.1).
fn problem_page(s: &SimState, status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{name}: sign-in error</title></head>\
         <body><main><h1>{name} sign-in error</h1><p id=\"error\">{}</p></main></body></html>",
        esc(message),
        name = esc(s.kind.display_name()),
    );
    (status, Html(body)).into_response()
}

/// The parameters of an authorization request, from the query (GET) or the form (POST).
struct AuthRequest {
    client_id: String,
    redirect_uri: String,
    state: String,
    scope: String,
    challenge: Option<String>,
    /// Every parameter as sent, echoed into the form's hidden fields.
    params: Vec<(String, String)>,
}

/// Checks the request against the registered app: client, redirect URI, response type, PKCE and the
/// provider's own required parameters.
fn check(s: &SimState, p: &HashMap<String, String>) -> Result<AuthRequest, Response> {
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    let client_id = get("client_id");
    if !s.is_app_client_id(&client_id) {
        return Err(problem_page(
            s,
            StatusCode::BAD_REQUEST,
            "Unknown client: the application is not registered.",
        ));
    }
    let redirect_uri = get("redirect_uri");
    if !lock(&s.redirect_uris).contains(&redirect_uri) {
        return Err(problem_page(
            s,
            StatusCode::BAD_REQUEST,
            "The redirect URI does not match one registered for this application.",
        ));
    }
    if get("response_type") != "code" {
        return Err(problem_page(
            s,
            StatusCode::BAD_REQUEST,
            "Unsupported response_type: only the authorization code flow is enabled.",
        ));
    }
    let challenge = p.get("code_challenge").filter(|c| !c.is_empty()).cloned();
    match (
        &challenge,
        p.get("code_challenge_method").map(String::as_str),
    ) {
        (Some(_), Some("S256")) => {}
        (Some(_), _) => {
            return Err(problem_page(
                s,
                StatusCode::BAD_REQUEST,
                "Only the S256 code challenge method is supported.",
            ));
        }
        (None, _) if pkce_required(s.kind) => {
            return Err(problem_page(
                s,
                StatusCode::BAD_REQUEST,
                "A PKCE code_challenge (S256) is required.",
            ));
        }
        (None, _) => {}
    }
    let scope = get("scope");
    let cnh = matches!(s.kind, ProviderKind::Cnhi | ProviderKind::CnhiFieldOps);
    if cnh
        && (!matches!(
            get("connection").as_str(),
            "PROD-ADFS-CONN" | "STG-ADFS-CONN"
        ) || get("audience").is_empty())
    {
        return Err(problem_page(
            s,
            StatusCode::BAD_REQUEST,
            "connection and audience are required.",
        ));
    }
    if s.kind == ProviderKind::Trimble && !scope.split(' ').any(|x| x == "openid") {
        return Err(problem_page(
            s,
            StatusCode::BAD_REQUEST,
            "scope must include openid.",
        ));
    }
    let mut params: Vec<(String, String)> = p
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "username" | "password" | "decision"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    params.sort();
    Ok(AuthRequest {
        client_id,
        redirect_uri,
        state: get("state"),
        scope,
        challenge,
        params,
    })
}

fn login_form(s: &SimState, req: &AuthRequest, failed: bool) -> Response {
    let path = authorize_path(s.kind).unwrap_or("/");
    let name = esc(s.kind.display_name());
    let hidden: String = req
        .params
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            )
        })
        .collect();
    let scopes: String = req
        .scope
        .split([' ', '+'])
        .filter(|x| !x.is_empty())
        .map(|x| format!("<li>{}</li>", esc(x)))
        .collect();
    let error = if failed {
        "<p id=\"login-error\" role=\"alert\" class=\"err\">Incorrect username or password.</p>"
    } else {
        ""
    };
    let hint = s
        .primary_login
        .get()
        .map(|(u, p)| {
            format!(
                "<p class=\"hint\">Simulator: sign in as <code>{}</code> with password <code>{}</code>.</p>",
                esc(u),
                esc(p)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to {name}</title>
<style>
body{{font-family:system-ui,sans-serif;background:#eef1f4;color:#1a1a1a;margin:0}}
main{{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0003}}
label{{display:block;margin-top:1rem;font-weight:600}}
input[type=text],input[type=password]{{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box;border:1px solid #555;border-radius:4px}}
.buttons{{display:flex;gap:1rem;margin-top:1.5rem}}
button{{font-size:1rem;padding:.6rem 1.4rem;border-radius:4px;border:2px solid #1d4d1d;cursor:pointer}}
button.allow{{background:#1d4d1d;color:#fff}} button.deny{{background:#fff;color:#1d4d1d}}
button:focus{{outline:3px solid #f0b400;outline-offset:2px}}
.err{{color:#a00000;font-weight:600}} .hint{{font-size:.9rem;color:#333}}
</style></head>
<body><main>
<h1>Sign in to {name}</h1>
<p>An application (<code>{client}</code>) asks for access to your {name} account:</p>
<ul id="scopes">{scopes}</ul>
{error}
<form method="post" action="{path}">
{hidden}
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password">
<div class="buttons">
<button type="submit" class="allow" id="allow" name="decision" value="allow">Allow</button>
<button type="submit" class="deny" id="deny" name="decision" value="deny">Deny</button>
</div>
</form>
{hint}
</main></body></html>"#,
        client = esc(&req.client_id),
    );
    let mut resp = Html(body).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp
}

/// `redirect_uri` with the answer's parameters added (keeping any query it had).
fn redirect_back(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(u) => u,
        Err(_) => return (StatusCode::BAD_REQUEST, "bad redirect_uri").into_response(),
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
    }
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, url.to_string()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response()
}

async fn show(State(s): St, Query(q): Query<HashMap<String, String>>) -> Response {
    match check(&s, &q) {
        Ok(req) => login_form(&s, &req, false),
        Err(page) => page,
    }
}

async fn decide(State(s): St, body: Bytes) -> Response {
    let p: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let req = match check(&s, &p) {
        Ok(r) => r,
        Err(page) => return page,
    };
    if p.get("decision").map(String::as_str) != Some("allow") {
        return redirect_back(
            &req.redirect_uri,
            &[
                ("error", "access_denied"),
                (
                    "error_description",
                    "The resource owner denied the request.",
                ),
                ("state", &req.state),
            ],
        );
    }
    let username = p.get("username").map(String::as_str).unwrap_or_default();
    let password = p.get("password").map(String::as_str).unwrap_or_default();
    let Some(index) = s.grants.index_of_login(username, password) else {
        return login_form(&s, &req, true);
    };
    let code = s.grants.code_bound(
        index,
        req.challenge.clone(),
        CodeBinding {
            client_id: req.client_id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            expires_at: s.now() + code_lifetime(s.kind),
        },
    );
    redirect_back(&req.redirect_uri, &[("code", &code), ("state", &req.state)])
}

/// Cognito's `/oauth2/token` for a public app client: `client_id` in the form, the PKCE verifier, no secret;
/// the refresh grant too. Answers as Cognito does (`id_token`, no rotation).
async fn cognito_token(State(s): St, body: Bytes) -> Response {
    let p: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let client_id = p.get("client_id").cloned().unwrap_or_default();
    if !s.is_app_client_id(&client_id) {
        return json_status(StatusCode::BAD_REQUEST, json!({"error": "invalid_client"}));
    }
    let life = s.lifetime();
    let invalid = || json_status(StatusCode::BAD_REQUEST, json!({"error": "invalid_grant"}));
    match p.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let code = p.get("code").map(String::as_str).unwrap_or_default();
            match s.grants.exchange_bound(
                code,
                p.get("code_verifier").map(String::as_str),
                &client_id,
                p.get("redirect_uri")
                    .map(String::as_str)
                    .unwrap_or_default(),
                s.now(),
                life,
            ) {
                Ok((at, rt)) => ok_json(json!({
                    "access_token": at, "refresh_token": rt, "id_token": crate::state::random_token("idt"),
                    "token_type": "Bearer", "expires_in": life
                })),
                Err(_) => invalid(),
            }
        }
        Some("refresh_token") => {
            let rt = p
                .get("refresh_token")
                .map(String::as_str)
                .unwrap_or_default();
            match s.grants.refresh(rt, s.now(), life, &s.faults) {
                Ok((at, _)) => ok_json(json!({
                    "access_token": at, "id_token": crate::state::random_token("idt"),
                    "token_type": "Bearer", "expires_in": life
                })),
                Err(_) => invalid(),
            }
        }
        _ => json_status(
            StatusCode::BAD_REQUEST,
            json!({"error": "unsupported_grant_type"}),
        ),
    }
}

/// Whether the client authenticated at the token endpoint the way `kind` requires for the code grant;
/// `Some((id, secret))` when it did.
pub(crate) fn code_client(
    kind: ProviderKind,
    headers: &HeaderMap,
    p: &HashMap<String, String>,
) -> Option<(String, String)> {
    let in_body = p.contains_key("client_secret");
    match code_client_auth(kind) {
        CodeClientAuth::Basic if !in_body => common::basic(headers),
        CodeClientAuth::Body if headers.get(header::AUTHORIZATION).is_none() => {
            Some((p.get("client_id")?.clone(), p.get("client_secret")?.clone()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
