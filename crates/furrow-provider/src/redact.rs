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

/// One known secret: the textual forms it may take in an exchange, and the forms looked for inside
/// base64-decoded text.
#[derive(Debug, Clone)]
struct Known {
    /// The value itself, JSON-escaped, URL-encoded and base64-encoded.
    forms: Vec<String>,
    /// The value and its URL-encoded forms: what `Authorization: Basic base64(id:secret)` (RFC 6749 2.3.1
    /// encodes both parts) or any base64 blob holding the secret decodes to.
    inner: Vec<String>,
}

impl Known {
    fn new(secret: &str) -> Self {
        use base64::Engine;
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        let mut inner = vec![secret.to_owned()];
        inner.extend(url_forms(secret));
        let mut forms = inner.clone();
        forms.extend(json_forms(secret));
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            forms.push(engine.encode(secret.as_bytes()));
        }
        let keep = |v: &mut Vec<String>| {
            v.retain(|f| f.len() >= MIN_SECRET_LEN);
            v.sort();
            v.dedup();
        };
        keep(&mut forms);
        keep(&mut inner);
        Known { forms, inner }
    }
}

/// The URL-encoded forms of `s`: `application/x-www-form-urlencoded` (space as `+`), RFC 3986 (space as
/// `%20`), JavaScript's `encodeURIComponent`, each with upper- and lower-case hex.
fn url_forms(s: &str) -> Vec<String> {
    fn encode(s: &str, keep: impl Fn(u8) -> bool, space_plus: bool) -> String {
        let mut out = String::with_capacity(s.len() * 3);
        for b in s.bytes() {
            if b == b' ' && space_plus {
                out.push('+');
            } else if keep(b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }
    let form = encode(
        s,
        |b| b.is_ascii_alphanumeric() || b"*-._".contains(&b),
        true,
    );
    let rfc3986 = encode(
        s,
        |b| b.is_ascii_alphanumeric() || b"-._~".contains(&b),
        false,
    );
    let js = encode(
        s,
        |b| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b),
        false,
    );
    let mut out = Vec::new();
    for f in [form, rfc3986, js] {
        out.push(lower_hex(&f));
        out.push(f);
    }
    out
}

fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            out.extend(chars.by_ref().take(2).map(|h| h.to_ascii_lowercase()));
        }
    }
    out
}

/// The JSON-escaped forms of `s` (inside a string literal): serde's, ASCII-only (`\uXXXX` for the rest, as
/// Python's `json.dumps`), HTML-safe (`<`, `>`, `&` escaped too, as Go's `encoding/json`), and each with
/// `/` escaped as `\/` (PHP).
fn json_forms(s: &str) -> Vec<String> {
    let serde = serde_json::to_string(s).unwrap_or_default();
    let serde = serde
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(&serde)
        .to_owned();
    let ascii = |html: bool| {
        let mut out = String::new();
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
                c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
                c => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
            }
        }
        out
    };
    let mut out = vec![serde, ascii(false), ascii(true)];
    let slashed: Vec<String> = out.iter().map(|f| f.replace('/', "\\/")).collect();
    out.extend(slashed);
    out
}

/// Characters of a base64 run (standard and URL-safe alphabets; padding is taken after the run).
fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Shortest base64 run worth decoding.
const MIN_B64_RUN: usize = 8;

/// The base64 runs of `text` worth decoding, with their byte ranges.
fn b64_runs(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if !is_b64(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && is_b64(bytes[i]) {
                i += 1;
            }
            while i < bytes.len() && bytes[i] == b'=' {
                i += 1;
            }
            if i - start >= MIN_B64_RUN {
                return Some((start, i));
            }
        }
        None
    })
}

/// Whether the base64 run `run`, decoded at any of its four alignments with either alphabet, holds one of
/// `needles`, directly or (`depth` more levels) in a base64 run of its own (an echo of a `Basic` header,
/// base64-encoded again).
fn b64_holds(run: &str, needles: &[&str], depth: u8) -> bool {
    use base64::Engine;
    use base64::alphabet::{STANDARD, URL_SAFE};
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    // Lenient: a run cut anywhere still decodes.
    let config = GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone);
    let engines = [
        GeneralPurpose::new(&STANDARD, config),
        GeneralPurpose::new(&URL_SAFE, config),
    ];
    let body = run.trim_end_matches('=');
    for skip in 0..4 {
        let Some(part) = body.get(skip..) else { break };
        let rem = part.len() % 4;
        let part = &part[..part.len() - usize::from(rem == 1)];
        if part.len() < MIN_B64_RUN {
            continue;
        }
        for engine in &engines {
            if let Ok(bytes) = engine.decode(part) {
                let text = String::from_utf8_lossy(&bytes);
                if needles.iter().any(|n| text.contains(n)) {
                    return true;
                }
                if depth > 0
                    && b64_runs(&text).any(|(a, b)| b64_holds(&text[a..b], needles, depth - 1))
                {
                    return true;
                }
            }
        }
    }
    false
}

/// Replaces secrets by `<redacted>`: by name (headers, query parameters, form fields, JSON keys that name a
/// secret) and by value (every known secret of the credential, and every token issued since) in every form
/// it may take on the wire: as is, JSON-escaped, URL-encoded, base64-encoded alone, and inside any base64
/// blob (`Authorization: Basic base64(client:secret)`).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    fixed: Arc<RwLock<Vec<Known>>>,
    dynamic: Arc<RwLock<Vec<(String, Known)>>>,
}

impl Redactor {
    /// A redactor that knows these secret values.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let r = Redactor::default();
        if let Ok(mut fixed) = r.fixed.write() {
            fixed.extend(
                secrets
                    .into_iter()
                    .filter(|s| s.len() >= MIN_SECRET_LEN)
                    .map(|s| Known::new(&s)),
            );
        }
        r
    }

    /// Learns a new secret value (a token just issued).
    pub fn add(&self, secret: &str) {
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        if let Ok(mut d) = self.dynamic.write()
            && !d.iter().any(|(s, _)| s == secret)
        {
            if d.len() >= MAX_DYNAMIC_SECRETS {
                d.remove(0);
            }
            d.push((secret.to_owned(), Known::new(secret)));
        }
    }

    /// `text` with every known secret value replaced, in any of its forms.
    pub fn text(&self, text: &str) -> String {
        let (Ok(fixed), Ok(dynamic)) = (self.fixed.read(), self.dynamic.read()) else {
            return REDACTED.to_owned();
        };
        let known: Vec<&Known> = fixed.iter().chain(dynamic.iter().map(|(_, k)| k)).collect();
        if known.is_empty() {
            return text.to_owned();
        }
        // Longest first, so a form is never half-replaced by a shorter one inside it.
        let mut forms: Vec<&str> = known
            .iter()
            .flat_map(|k| k.forms.iter().map(String::as_str))
            .collect();
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        let mut out = text.to_owned();
        for f in forms {
            if out.contains(f) {
                out = out.replace(f, REDACTED);
            }
        }
        let needles: Vec<&str> = known
            .iter()
            .flat_map(|k| k.inner.iter().map(String::as_str))
            .collect();
        redact_b64_runs(&out, &needles)
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
        // Only what can be kept is searched (with room for a secret's longest form across the cut).
        let total = redacted.len();
        let mut cut = total.min(MAX_EVENT_BODY * 2);
        while !redacted.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut out = self.text(&redacted[..cut]);
        if cut < total {
            out.push_str(&format!("...[truncated {} bytes]", total - cut));
        }
        truncate(out)
    }
}

/// Replaces every base64 run of `text` that decodes to something holding one of `needles`.
fn redact_b64_runs(text: &str, needles: &[&str]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in b64_runs(text) {
        // Runs are ASCII, so `start..end` are char boundaries.
        if b64_holds(&text[start..end], needles, 1) {
            out.push_str(&text[last..start]);
            out.push_str(REDACTED);
            last = end;
        }
    }
    out.push_str(&text[last..]);
    out
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
