//! The hosted pages' HTML: one layout (branding from the link's settings, readable contrast, visible focus,
//! labels), a notice page for every outcome, and the headers every page carries.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

/// HTML-escapes text for element content and quoted attributes.
pub(crate) fn esc(s: &str) -> String {
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

/// Branding of a page: the link's settings (already validated at creation) and the grower's name when the
/// settings show it.
#[derive(Debug, Default)]
pub(crate) struct Brand {
    pub(crate) background: Option<String>,
    pub(crate) company: Option<String>,
    pub(crate) logo: Option<String>,
    pub(crate) header_image: Option<String>,
    pub(crate) user_name: Option<String>,
}

impl Brand {
    pub(crate) fn from_settings(s: &Value, user_name: Option<String>) -> Self {
        let get = |k: &str| s.get(k).and_then(Value::as_str).map(str::to_owned);
        let show = s.get("showLeafUserName").and_then(Value::as_bool) == Some(true);
        Brand {
            background: get("backgroundColor"),
            company: get("companyName"),
            logo: get("companyLogo"),
            header_image: get("headerImage"),
            user_name: user_name.filter(|_| show),
        }
    }
}

/// Hex colour → whether dark text reads on it (WCAG relative luminance above about 0.18).
fn light(hex: &str) -> bool {
    let h = hex.trim_start_matches('#');
    let full: String = if h.len() == 3 {
        h.chars().flat_map(|c| [c, c]).collect()
    } else {
        h.to_owned()
    };
    let ch = |i: usize| {
        let v = u8::from_str_radix(full.get(i..i + 2).unwrap_or("ff"), 16).unwrap_or(255) as f64
            / 255.0;
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * ch(0) + 0.7152 * ch(2) + 0.0722 * ch(4) > 0.18
}

/// A whole page around `main` (trusted HTML built by the caller with [`esc`]).
pub(crate) fn page(title: &str, brand: &Brand, main: &str) -> String {
    let bg = brand.background.clone().unwrap_or_else(|| "#F5F5F5".into());
    let fg = if light(&bg) { "#1a1a1a" } else { "#ffffff" };
    let header = brand
        .header_image
        .as_ref()
        .map(|u| format!("<img class=\"header\" src=\"{}\" alt=\"\">", esc(u)))
        .unwrap_or_default();
    let logo = brand
        .logo
        .as_ref()
        .map(|u| {
            format!(
                "<img class=\"logo\" src=\"{}\" alt=\"{} logo\">",
                esc(u),
                esc(brand.company.as_deref().unwrap_or("Company"))
            )
        })
        .unwrap_or_default();
    let badge = brand
        .user_name
        .as_ref()
        .map(|n| format!("<p class=\"badge\" id=\"user-name\">{}</p>", esc(n)))
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>
[hidden]{{display:none !important}}
body{{margin:0;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:{bg};color:{fg};line-height:1.5}}
.wrap{{max-width:34rem;margin:0 auto;padding:1.5rem}}
.badge{{text-align:right;font-weight:600;margin:0}}
.header{{max-width:100%;display:block;margin:0 auto 1rem}}
.card{{background:#fff;color:#1a1a1a;border-radius:10px;padding:1.5rem;box-shadow:0 1px 5px #0004}}
.logo{{max-height:3rem;display:block;margin-bottom:.5rem}}
h1{{font-size:1.4rem;margin:.2rem 0 1rem}}
ul.providers{{list-style:none;padding:0;margin:0}}
ul.providers li{{display:flex;justify-content:space-between;align-items:center;border-top:1px solid #ccc;padding:.7rem 0}}
button,.button{{font:inherit;font-weight:600;padding:.55rem 1.2rem;border-radius:6px;border:2px solid #14532d;background:#14532d;color:#fff;cursor:pointer}}
button:focus,a:focus,input:focus{{outline:3px solid #b45309;outline-offset:2px}}
.connected{{color:#14532d;font-weight:600}}
.actions{{display:flex;gap:.5rem}} .actions form{{margin:0}}
button.secondary{{background:#fff;color:#14532d}}
.ok{{color:#14532d}} .fail{{color:#991b1b}}
label{{display:block;font-weight:600;margin:.5rem 0}}
progress{{width:100%;height:1.2rem}}
table{{width:100%;border-collapse:collapse}} td,th{{text-align:left;padding:.3rem;border-top:1px solid #ccc}}
.notice{{font-size:.95rem;background:#f0f4f0;border-left:4px solid #14532d;padding:.5rem .8rem}}
</style></head>
<body><div class="wrap">{badge}{header}<main class="card">{logo}{main}</main></div></body></html>"#,
        title = esc(title),
    )
}

/// Headers every hosted page carries: never framed, never cached, no referrer leaks.
pub(crate) fn respond(status: StatusCode, body: String) -> Response {
    let mut r = (status, Html(body)).into_response();
    r.extensions_mut().insert(crate::error::HostedPage);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// A page that says what happened: `id` names the outcome for tests and scripts (`result-ok`,
/// `error-expired`, …).
pub(crate) fn notice(
    status: StatusCode,
    brand: &Brand,
    id: &str,
    heading: &str,
    text: &str,
) -> Response {
    notice_with(status, brand, id, heading, text, "")
}

/// [`notice`] with trusted HTML after the text (a link back).
pub(crate) fn notice_with(
    status: StatusCode,
    brand: &Brand,
    id: &str,
    heading: &str,
    text: &str,
    after: &str,
) -> Response {
    let class = if status.is_success() { "ok" } else { "fail" };
    let main = format!(
        "<h1 id=\"{}\" class=\"{class}\">{}</h1><p>{}</p>{after}",
        esc(id),
        esc(heading),
        esc(text)
    );
    respond(status, page(heading, brand, &main))
}
