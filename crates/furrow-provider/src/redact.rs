//! Redaction of secrets from recorded exchanges.

use std::sync::{Arc, RwLock};

use serde_json::Value;

/// Longest recorded body, in bytes.
pub const MAX_EVENT_BODY: usize = 4096;

const REDACTED: &str = "<redacted>";
/// Known secrets shorter than this are not searched for in free text (too many false hits).
const MIN_SECRET_LEN: usize = 6;
/// Tokens issued during a long sync keep being added; the oldest dynamic ones are forgotten first.
const MAX_DYNAMIC_SECRETS: usize = 64;

/// Whether a header, query parameter, form field or JSON key names a secret.
pub fn is_sensitive_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "authorization",
        "cookie",
        "token",
        "secret",
        "password",
        "pwd",
        "key",
        "session",
        "signature",
        "code",
        "verifier",
        "assertion",
        "credential",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// Replaces secrets by `<redacted>`: by name (headers, query parameters, form fields, JSON keys that name a
/// secret) and by value (every known secret of the credential, and every token issued since).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    fixed: Arc<RwLock<Vec<String>>>,
    dynamic: Arc<RwLock<Vec<String>>>,
}

impl Redactor {
    /// A redactor that knows these secret values.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let r = Redactor::default();
        if let Ok(mut fixed) = r.fixed.write() {
            fixed.extend(secrets.into_iter().filter(|s| s.len() >= MIN_SECRET_LEN));
        }
        r
    }

    /// Learns a new secret value (a token just issued).
    pub fn add(&self, secret: &str) {
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        if let Ok(mut d) = self.dynamic.write()
            && !d.iter().any(|s| s == secret)
        {
            if d.len() >= MAX_DYNAMIC_SECRETS {
                d.remove(0);
            }
            d.push(secret.to_owned());
        }
    }

    /// `text` with every known secret value replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for lock in [&self.fixed, &self.dynamic] {
            if let Ok(list) = lock.read() {
                for s in list.iter() {
                    if out.contains(s.as_str()) {
                        out = out.replace(s.as_str(), REDACTED);
                    }
                }
            }
        }
        out
    }

    /// One header as a `Name: value` line.
    pub fn header_line(&self, name: &str, value: &str) -> String {
        if is_sensitive_name(name) {
            format!("{name}: {REDACTED}")
        } else {
            format!("{name}: {}", self.text(value))
        }
    }

    /// A URL with sensitive query parameters and matrix parameters redacted.
    pub fn url(&self, url: &str) -> String {
        let text = self.text(url);
        match text.split_once('?') {
            Some((path, query)) => format!("{path}?{}", redact_pairs(query)),
            None => text,
        }
    }

    /// A body for the event log: secrets redacted by key and by value, at most [`MAX_EVENT_BODY`] bytes.
    pub fn body(&self, body: &[u8], content_type: Option<&str>) -> String {
        if body.is_empty() {
            return String::new();
        }
        let ct = content_type.unwrap_or("").to_ascii_lowercase();
        let textual = ct.is_empty()
            || ct.contains("json")
            || ct.contains("text")
            || ct.contains("xml")
            || ct.contains("x-www-form-urlencoded")
            || ct.contains("graphql");
        let Ok(text) = std::str::from_utf8(body) else {
            return format!("<{} bytes of binary body>", body.len());
        };
        if !textual {
            return format!("<{} bytes of {ct}>", body.len());
        }
        let redacted = if let Ok(mut json) = serde_json::from_str::<Value>(text) {
            redact_json(&mut json);
            json.to_string()
        } else if ct.contains("x-www-form-urlencoded") {
            redact_pairs(text)
        } else {
            text.to_owned()
        };
        truncate(self.text(&redacted))
    }
}

fn redact_pairs(pairs: &str) -> String {
    pairs
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_sensitive_name(k) => format!("{k}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Replaces the values of secret-naming keys, recursively.
pub fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_sensitive_name(k) && !matches!(v, Value::Object(_) | Value::Array(_)) {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact_json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

fn truncate(mut s: String) -> String {
    if s.len() <= MAX_EVENT_BODY {
        return s;
    }
    let total = s.len();
    // Room for the marker, so the whole recorded body stays within the limit.
    let mut cut = MAX_EVENT_BODY - 40;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s.push_str(&format!("...[truncated {} bytes]", total - cut));
    s
}
