use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use http::HeaderMap;

use super::*;

#[test]
fn redactor_hides_secrets_by_name_and_value() {
    let r = Redactor::new(["s3cr3t-value".to_owned(), "abc".to_owned()]);
    r.add("fresh-access-token");
    assert_eq!(
        r.header_line("Authorization", "Bearer x"),
        "Authorization: <redacted>"
    );
    assert_eq!(r.header_line("X-Api-Key", "k"), "X-Api-Key: <redacted>");
    assert_eq!(
        r.header_line("Accept", "application/json"),
        "Accept: application/json"
    );
    assert_eq!(
        r.header_line("X-Echo", "has s3cr3t-value in"),
        "X-Echo: has <redacted> in"
    );
    let body = r.body(
        br#"{"access_token":"fresh-access-token","nested":{"refresh_token":"zz"},"name":"ok"}"#,
        Some("application/json"),
    );
    assert!(
        !body.contains("fresh-access-token") && !body.contains("zz"),
        "{body}"
    );
    assert!(body.contains("\"name\":\"ok\""));
    let form = r.body(
        b"grant_type=refresh_token&refresh_token=abcdef",
        Some("application/x-www-form-urlencoded"),
    );
    assert_eq!(form, "grant_type=refresh_token&refresh_token=<redacted>");
    assert_eq!(
        r.url("https://h/p?apiKey=k1&page=2"),
        "https://h/p?apiKey=<redacted>&page=2"
    );
    assert_eq!(r.body(&[0xff, 0xfe, 0], None), "<3 bytes of binary body>");
}

#[test]
fn event_bodies_are_truncated_to_4_kib() {
    let r = Redactor::default();
    let long = "x".repeat(10_000);
    let body = r.body(long.as_bytes(), Some("text/plain"));
    assert!(body.len() <= MAX_EVENT_BODY, "{}", body.len());
    assert!(body.ends_with("bytes]"));
}

#[test]
fn retry_after_accepts_seconds_and_http_dates() {
    let mut h = HeaderMap::new();
    h.insert("retry-after", "7".parse().unwrap());
    assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
    let future = time::OffsetDateTime::now_utc() + time::Duration::seconds(30);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    h.insert("retry-after", future.format(&fmt).unwrap().parse().unwrap());
    let d = retry_after(&h).unwrap();
    assert!(
        d <= Duration::from_secs(30) && d >= Duration::from_secs(28),
        "{d:?}"
    );
    h.insert("retry-after", "soon".parse().unwrap());
    assert_eq!(retry_after(&h), None);
}

#[test]
fn backoff_grows_is_capped_and_jittered() {
    let c = HttpConfig::default();
    for attempt in 1..10 {
        let d = c.backoff(attempt);
        let full = (c.backoff_base * 2u32.pow(attempt - 1)).min(c.backoff_cap);
        assert!(
            d >= full / 2 && d <= full + Duration::from_millis(1),
            "{attempt}: {d:?}"
        );
    }
    assert!(c.backoff(30) <= c.backoff_cap + Duration::from_millis(1));
}

#[test]
fn error_kinds_map_to_retryable_and_status() {
    use furrow_credentials::CredentialStatus;
    let e = Error::unauthenticated("claas", "invalid_grant");
    assert!(!e.is_retryable());
    assert_eq!(e.credential_status(), Some(CredentialStatus::Invalid));
    let e = Error::limited("claas", "scope");
    assert_eq!(
        e.credential_status(),
        Some(CredentialStatus::LimitedPermission)
    );
    assert!(Error::unavailable("claas", "503").is_retryable());
    let e = Error::Unsupported {
        provider: "sentera",
        capability: Capability::MachineFiles,
    };
    assert!(!e.is_retryable());
    assert_eq!(e.to_string(), "sentera: machine files is not supported");
}

#[tokio::test]
async fn rate_limiter_spaces_requests() {
    let l = RateLimiter::new(RateLimit {
        requests: 2,
        per: Duration::from_millis(200),
    });
    let start = Instant::now();
    for _ in 0..5 {
        l.acquire().await;
    }
    // 5 requests at 2 per 200 ms need at least two full windows.
    assert!(
        start.elapsed() >= Duration::from_millis(400),
        "{:?}",
        start.elapsed()
    );
}

#[derive(Debug)]
struct Counting(Arc<AtomicU32>);

impl TokenSource for Counting {
    fn issue<'a>(
        &'a self,
        _http: &'a HttpClient,
        current: &'a Secrets,
    ) -> BoxFuture<'a, Result<Issued>> {
        Box::pin(async move {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let mut updates = Secrets::new();
            updates.insert(
                "refreshToken".into(),
                format!("{}-r{n}", current["refreshToken"]),
            );
            Ok(Issued {
                access_token: format!("access-{n}"),
                expires_in: Some(Duration::from_secs(3600)),
                updates,
            })
        })
    }
}

fn manager(count: Arc<AtomicU32>, sink: Arc<MemorySink>) -> TokenManager {
    let http = HttpClient::new(
        ProviderKind::Claas,
        HttpConfig::for_tests(),
        sink.clone(),
        [],
    )
    .unwrap();
    let mut cred = Secrets::new();
    cred.insert("refreshToken".into(), "rt0".into());
    TokenManager::new(http, Counting(count), sink, cred, TokenPlacement::Bearer)
}

#[tokio::test]
async fn one_refresh_for_many_concurrent_callers_and_persist_first() {
    let count = Arc::new(AtomicU32::new(0));
    let sink = MemorySink::new();
    let m = Arc::new(manager(count.clone(), sink.clone()));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let m = m.clone();
            tokio::spawn(async move { m.access_token().await.unwrap() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), "access-1");
    }
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(sink.latest("refreshToken").as_deref(), Some("rt0-r1"));
    // A rejected token is replaced once; a second caller holding the same stale token reuses the new one.
    assert_eq!(m.replace("access-1").await.unwrap(), "access-2");
    assert_eq!(m.replace("access-1").await.unwrap(), "access-2");
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert_eq!(m.secrets().await["refreshToken"], "rt0-r1-r2");
}

#[derive(Debug)]
struct FailingSink;

impl SecretSink for FailingSink {
    fn persist<'a>(
        &'a self,
        _p: ProviderKind,
        _u: &'a Secrets,
    ) -> BoxFuture<'a, std::result::Result<(), String>> {
        Box::pin(async { Err("disk full".to_owned()) })
    }
}

#[tokio::test]
async fn a_token_that_cannot_be_persisted_is_not_used() {
    let count = Arc::new(AtomicU32::new(0));
    let events = MemorySink::new();
    let http = HttpClient::new(ProviderKind::Claas, HttpConfig::for_tests(), events, []).unwrap();
    let mut cred = Secrets::new();
    cred.insert("refreshToken".into(), "rt0".into());
    let m = TokenManager::new(
        http,
        Counting(count),
        Arc::new(FailingSink),
        cred,
        TokenPlacement::Bearer,
    );
    let err = m.access_token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.is_retryable());
    assert_eq!(m.secrets().await["refreshToken"], "rt0");
}

#[test]
fn authorization_url_carries_pkce_and_state() {
    let mut c = OAuthConfig::new(
        "client-1".into(),
        Some("secret".into()),
        "https://id.example/token".into(),
    );
    c.auth_url = Some("https://id.example/authorize".into());
    c.redirect_uri = Some("https://app.example/cb".into());
    c.scopes = vec!["openid".into(), "offline_access".into()];
    let a = authorization_url(&c, true, &[("audience", "https://api.example")]).unwrap();
    assert!(a.url.starts_with("https://id.example/authorize?"));
    assert!(a.url.contains("code_challenge_method=S256"));
    assert!(a.url.contains("client_id=client-1"));
    assert!(a.url.contains(&format!("state={}", a.state)));
    assert!(a.url.contains("scope=openid+offline_access"));
    assert!(a.pkce_verifier.as_ref().is_some_and(|v| v.len() >= 43));
    let plain = authorization_url(&c, false, &[]).unwrap();
    assert!(!plain.url.contains("code_challenge") && plain.pkce_verifier.is_none());
}

#[test]
fn redactor_hides_every_form_of_a_secret() {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let secret = "p@ss/wörd+\"quoted\" & <tag>=1";
    let token = "rt-9f8e7d6c5b4a";
    let r = Redactor::new([secret.to_owned()]);
    r.add(token);
    let url_form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let json = serde_json::to_string(secret).unwrap();
    let json = json.trim_matches('"');
    let basic = STANDARD.encode(format!("client-id:{url_form}"));
    let forms = [
        secret.to_owned(),
        url_form.clone(),
        // Lower-case hex (the secret itself has no capitals).
        url_form.to_lowercase(),
        json.to_owned(),
        // Python's ensure_ascii, Go's HTML-safe escaping, PHP's escaped slashes.
        r#"p@ss\/w\u00f6rd+\"quoted\" \u0026 \u003ctag\u003e=1"#.to_owned(),
        STANDARD.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
        format!("Basic {basic}"),
        format!("https://host/echo/{basic}?x=1"),
        STANDARD.encode(format!("{{\"refresh_token\":\"{token}\",\"n\":1}}")),
        STANDARD.encode(format!("xx{token}")),
        // An echo of the header, base64-encoded again.
        STANDARD.encode(format!("authorization: Basic {basic}\n")),
    ];
    for form in &forms {
        let text = format!("before {form} after");
        let out = r.text(&text);
        assert!(
            out.starts_with("before ") && out.ends_with(" after"),
            "{out}"
        );
        assert!(out.contains("<redacted>"), "not redacted: {form} -> {out}");
        assert!(!out.contains(secret) && !out.contains(token), "{out}");
        for other in &forms {
            assert!(!out.contains(other.as_str()), "{other} left in {out}");
        }
    }
    // Innocent base64 and text stay.
    let plain = format!("id {} ok", STANDARD.encode("nothing secret here"));
    assert_eq!(r.text(&plain), plain);
    // The body of an exchange: JSON re-escaped, a form body, and base64 in a header value.
    let body = serde_json::json!({"echo": secret, "b64": STANDARD.encode(secret), "h": format!("Basic {basic}")});
    let out = r.body(body.to_string().as_bytes(), Some("application/json"));
    assert!(!out.contains(json) && !out.contains(&basic), "{out}");
    let out = r.body(
        format!("client_id=a&cs={url_form}").as_bytes(),
        Some("application/x-www-form-urlencoded"),
    );
    assert_eq!(out, "client_id=a&cs=<redacted>");
}

/// A sink shared by two adapters of one credential, keeping the token as the store does.
#[derive(Debug, Default)]
struct SharedSink {
    stored: tokio::sync::Mutex<Option<AccessToken>>,
}

impl SecretSink for SharedSink {
    fn persist<'a>(
        &'a self,
        _p: ProviderKind,
        _u: &'a Secrets,
    ) -> BoxFuture<'a, std::result::Result<(), String>> {
        Box::pin(async { Ok(()) })
    }

    fn access_token<'a>(
        &'a self,
        _provider: ProviderKind,
        request: TokenRequest<'a>,
    ) -> BoxFuture<'a, Result<AccessToken>> {
        Box::pin(async move {
            let mut stored = self.stored.lock().await;
            if let Some(t) = stored.as_ref()
                && !request.force
                && Some(t.token.as_str()) != request.rejected
            {
                return Ok(AccessToken {
                    updates: Secrets::new(),
                    ..t.clone()
                });
            }
            let current = stored
                .as_ref()
                .map_or_else(|| request.current.clone(), |t| t.secrets.clone());
            let issued = (request.issue)(current.clone()).await?;
            let mut secrets = current;
            secrets.extend(issued.updates.clone());
            let token = AccessToken {
                token: issued.access_token,
                renew_at: renew_at(std::time::SystemTime::now(), issued.expires_in),
                secrets,
                updates: issued.updates,
            };
            *stored = Some(token.clone());
            Ok(token)
        })
    }
}

#[tokio::test]
async fn adapters_sharing_a_sink_share_its_token_and_rotations() {
    let count = Arc::new(AtomicU32::new(0));
    let sink = Arc::new(SharedSink::default());
    let events = MemorySink::new();
    let make = || {
        let http = HttpClient::new(
            ProviderKind::Claas,
            HttpConfig::for_tests(),
            events.clone(),
            [],
        )
        .unwrap();
        let mut cred = Secrets::new();
        cred.insert("refreshToken".into(), "rt0".into());
        TokenManager::new(
            http,
            Counting(count.clone()),
            sink.clone(),
            cred,
            TokenPlacement::Bearer,
        )
    };
    let (a, b) = (make(), make());
    assert_eq!(a.access_token().await.unwrap(), "access-1");
    assert_eq!(
        b.access_token().await.unwrap(),
        "access-1",
        "shared, not refreshed"
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(
        b.secrets().await["refreshToken"],
        "rt0-r1",
        "b learnt the rotation"
    );
    // b's token is refused: the replacement is issued from the rotated refresh token, never from rt0 again.
    assert_eq!(b.replace("access-1").await.unwrap(), "access-2");
    assert_eq!(
        sink.stored.lock().await.as_ref().unwrap().secrets["refreshToken"],
        "rt0-r1-r2"
    );
    assert_eq!(a.replace("access-1").await.unwrap(), "access-2");
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[derive(Debug, Default)]
struct ClosedDoor(MemorySink);

impl EventSink for ClosedDoor {
    fn record(&self, event: furrow_model::NewCredentialEvent) {
        self.0.record(event);
    }

    fn admit(&self) -> BoxFuture<'_, std::result::Result<CallPermit, AdmitError>> {
        Box::pin(async { Err(AdmitError::Stopped("the credential was deleted".into())) })
    }
}

#[tokio::test]
async fn a_request_the_sink_does_not_admit_is_never_sent() {
    let sim = furrow_provider_sim::Simulator::start(ProviderKind::Claas)
        .await
        .unwrap();
    let events = Arc::new(ClosedDoor::default());
    let http = HttpClient::new(
        ProviderKind::Claas,
        HttpConfig::for_tests(),
        events.clone(),
        [],
    )
    .unwrap();
    let err = http
        .send(&Request::get(format!("{}/organizations", sim.base_url())))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Stopped);
    assert!(!err.is_retryable());
    assert_eq!(err.credential_status(), None);
    assert_eq!(sim.requests(), 0);
    assert!(events.0.events().is_empty());
}
