//! The HTTP client every adapter goes through: timeouts, retries with jittered backoff, `Retry-After`,
//! rate limits, and an event per exchange.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use furrow_credentials::Provider as ProviderKind;
use furrow_model::NewCredentialEvent;
use http::{HeaderMap, Method, StatusCode};
use rand::Rng;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::provider::AdmitError;
use crate::provider::{BoxFuture, EventSink};
use crate::redact::Redactor;

/// A request budget: at most `requests` per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in a window.
    pub requests: u32,
    /// The window.
    pub per: Duration,
}

/// Waits so that no more than a [`RateLimit`] of requests start in any window. Share one `Arc` between the
/// clients that draw on the same provider budget.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    starts: tokio::sync::Mutex<VecDeque<Instant>>,
}

impl RateLimiter {
    /// A limiter for `limit`.
    pub fn new(limit: RateLimit) -> Self {
        RateLimiter {
            limit,
            starts: tokio::sync::Mutex::new(VecDeque::new()),
        }
    }

    /// Waits for a slot, then takes it. A window is counted a tenth longer than the limit: the provider
    /// counts arrivals, and network jitter can bring two requests closer there than they left here.
    pub async fn acquire(&self) {
        let per = self.limit.per + self.limit.per / 10;
        let mut starts = self.starts.lock().await;
        loop {
            let now = Instant::now();
            while starts
                .front()
                .is_some_and(|t| now.duration_since(*t) >= per)
            {
                starts.pop_front();
            }
            if starts.len() < self.limit.requests as usize {
                starts.push_back(now);
                return;
            }
            let wait = starts
                .front()
                .map(|t| per.saturating_sub(now.duration_since(*t)))
                .unwrap_or_default();
            tokio::time::sleep(wait).await;
        }
    }
}

/// Timeouts, retries and rate limits of a [`HttpClient`].
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Whole-request timeout (for downloads: time to the response head and per body chunk).
    pub timeout: Duration,
    /// Connection timeout.
    pub connect_timeout: Duration,
    /// Attempts per call, the first included (providers.md 14.4: 6).
    pub max_attempts: u32,
    /// First backoff delay (doubled per attempt, jittered).
    pub backoff_base: Duration,
    /// Longest backoff delay.
    pub backoff_cap: Duration,
    /// A `Retry-After` longer than this is not waited for: the call fails with [`Error::RateLimited`] and the
    /// caller reschedules.
    pub max_retry_after: Duration,
    /// The provider's request budget, enforced on this side.
    pub rate_limit: Option<RateLimit>,
    /// A limiter shared with other clients; wins over `rate_limit`.
    pub shared_limiter: Option<Arc<RateLimiter>>,
    /// A reqwest client (connection pool) shared by many credentials; `None` builds one per
    /// [`HttpClient`] with [`HttpClient::build_client`].
    pub shared_client: Option<reqwest::Client>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_attempts: 6,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(300),
            max_retry_after: Duration::from_secs(300),
            rate_limit: None,
            shared_limiter: None,
            shared_client: None,
        }
    }
}

impl HttpConfig {
    /// Settings for tests against a local simulator: short timeouts and backoff.
    pub fn for_tests() -> Self {
        HttpConfig {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            max_attempts: 4,
            backoff_base: Duration::from_millis(5),
            backoff_cap: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(5),
            rate_limit: None,
            shared_limiter: None,
            shared_client: None,
        }
    }

    /// The delay before attempt `attempt + 1` (1-based `attempt`): exponential, capped, jittered in
    /// `[d/2, d]`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .backoff_base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let d = exp.min(self.backoff_cap);
        let half = d / 2;
        let jitter = rand::thread_rng().gen_range(0..=half.as_millis().max(1) as u64);
        half + Duration::from_millis(jitter)
    }
}

/// A request that can be sent again on retry.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Option<Bytes>,
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// `GET url`.
    pub fn get(url: impl Into<String>) -> Self {
        Request::new(Method::GET, url)
    }

    /// `POST url`.
    pub fn post(url: impl Into<String>) -> Self {
        Request::new(Method::POST, url)
    }

    /// Adds a header (replacing one of the same name).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.set_header(name, value);
        self
    }

    /// Sets a header in place (replacing one of the same name).
    pub fn set_header(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.headers.push((name, value.into()));
    }

    /// Appends query parameters (values percent-encoded).
    pub fn query(mut self, params: &[(&str, &str)]) -> Self {
        if params.is_empty() {
            return self;
        }
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            ser.append_pair(k, v);
        }
        let sep = if self.url.contains('?') { '&' } else { '?' };
        self.url = format!("{}{sep}{}", self.url, ser.finish());
        self
    }

    /// A form-urlencoded body.
    pub fn form(self, params: &[(&str, &str)]) -> Self {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            ser.append_pair(k, v);
        }
        let mut r = self.header("Content-Type", "application/x-www-form-urlencoded");
        r.body = Some(Bytes::from(ser.finish()));
        r
    }

    /// A JSON body.
    pub fn json(self, value: &serde_json::Value) -> Self {
        let mut r = self.header("Content-Type", "application/json");
        r.body = Some(Bytes::from(value.to_string()));
        r
    }

    /// The value of a header.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response whose body was read completely.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Response {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON; a parse failure is a [`Error::Protocol`] naming the type (never the body).
    pub fn json<T: DeserializeOwned>(&self, provider: ProviderKind) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::protocol(
                provider.slug(),
                format!("unexpected JSON for {}: {e}", std::any::type_name::<T>()),
            )
        })
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The `Retry-After` header: delta seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(v, &fmt).ok()?.assume_utc();
    let secs = (at - time::OffsetDateTime::now_utc())
        .whole_seconds()
        .max(0);
    Some(Duration::from_secs(secs as u64))
}

fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// The default mapping of a non-success status to an error kind (providers.md 14.4).
pub fn status_error(provider: ProviderKind, response: &Response, redactor: &Redactor) -> Error {
    let slug = provider.slug();
    let snippet: String = redactor
        .body(&response.body, response.header("content-type"))
        .chars()
        .take(300)
        .collect();
    let message = format!("HTTP {}: {snippet}", response.status.as_u16());
    match response.status.as_u16() {
        401 => Error::unauthenticated(slug, message),
        403 => Error::limited(slug, message),
        404 | 410 => Error::not_found(slug, message),
        429 => Error::RateLimited {
            provider: slug,
            retry_after: retry_after(&response.headers),
        },
        500..=599 => Error::unavailable(slug, message),
        _ => Error::protocol(slug, message),
    }
}

/// Checks a response's status: 2xx and 304 pass, the rest map through [`status_error`].
pub fn check_status(
    provider: ProviderKind,
    response: Response,
    redactor: &Redactor,
) -> Result<Response> {
    if response.status.is_success() || response.status == StatusCode::NOT_MODIFIED {
        Ok(response)
    } else {
        Err(status_error(provider, &response, redactor))
    }
}

/// Checks the answer of a login or token endpoint: 2xx passes; 400, 401 and 403 mean the credential was
/// refused ([`Error::Unauthenticated`]); the rest maps through [`status_error`].
pub fn check_login(
    provider: ProviderKind,
    response: Response,
    redactor: &Redactor,
) -> Result<Response> {
    match response.status.as_u16() {
        200..=299 => Ok(response),
        400 | 401 | 403 => Err(Error::unauthenticated(
            provider.slug(),
            format!("login refused (HTTP {})", response.status.as_u16()),
        )),
        _ => Err(status_error(provider, &response, redactor)),
    }
}

/// The HTTP client wrapper of one credential. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    provider: ProviderKind,
    client: reqwest::Client,
    config: HttpConfig,
    limiter: Option<Arc<RateLimiter>>,
    events: Arc<dyn EventSink>,
    redactor: Redactor,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("provider", &self.inner.provider)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

enum Attempt<T> {
    Done(T),
    Transient(Error, Option<Duration>),
}

impl HttpClient {
    /// A client for `provider` that records to `events` and redacts `secrets` (plus every token it learns).
    pub fn new(
        provider: ProviderKind,
        config: HttpConfig,
        events: Arc<dyn EventSink>,
        secrets: impl IntoIterator<Item = String>,
    ) -> Result<Self> {
        let client = match &config.shared_client {
            Some(c) => c.clone(),
            None => Self::build_client(&config).map_err(|e| {
                Error::protocol(provider.slug(), format!("cannot build HTTP client: {e}"))
            })?,
        };
        let limiter = config
            .shared_limiter
            .clone()
            .or_else(|| config.rate_limit.map(|l| Arc::new(RateLimiter::new(l))));
        Ok(HttpClient {
            inner: Arc::new(Inner {
                provider,
                client,
                config,
                limiter,
                events,
                redactor: Redactor::new(secrets),
            }),
        })
    }

    /// A reqwest client with furrow's settings (rustls, no redirects), to share through
    /// [`HttpConfig::shared_client`].
    pub fn build_client(
        config: &HttpConfig,
    ) -> std::result::Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("furrow/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    /// The provider.
    pub fn provider(&self) -> ProviderKind {
        self.inner.provider
    }

    /// The redactor (add tokens as they are issued).
    pub fn redactor(&self) -> &Redactor {
        &self.inner.redactor
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    fn build(&self, req: &Request) -> reqwest::RequestBuilder {
        let mut b = self
            .inner
            .client
            .request(req.method.clone(), &req.url)
            .timeout(self.inner.config.timeout);
        for (n, v) in &req.headers {
            b = b.header(n, v);
        }
        if let Some(body) = &req.body {
            b = b.body(body.clone());
        }
        b
    }

    fn record(&self, req: &Request, status: u16, headers: Option<&HeaderMap>, body: String) {
        let r = &self.inner.redactor;
        let mut lines: Vec<String> = req
            .headers
            .iter()
            .map(|(n, v)| r.header_line(n, v))
            .collect();
        if let Some(h) = headers {
            lines.extend(
                h.iter()
                    .map(|(n, v)| r.header_line(n.as_str(), v.to_str().unwrap_or("<binary>"))),
            );
        }
        self.inner.events.record(NewCredentialEvent {
            status_code: i64::from(status),
            headers: lines.join("\n"),
            body,
            method: Some(req.method.to_string()),
            url: Some(r.url(&req.url)),
        });
    }

    fn connection_error(&self, req: &Request, e: &reqwest::Error) -> Error {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else {
            "request failed"
        };
        let msg = format!(
            "{} {}: {what}",
            req.method,
            self.inner.redactor.url(&req.url)
        );
        self.record(req, 0, None, msg.clone());
        Error::unavailable(self.inner.provider.slug(), msg)
    }

    fn transient_status(&self, status: StatusCode, headers: &HeaderMap) -> Error {
        let slug = self.inner.provider.slug();
        if status == StatusCode::TOO_MANY_REQUESTS {
            Error::RateLimited {
                provider: slug,
                retry_after: retry_after(headers),
            }
        } else {
            Error::unavailable(slug, format!("HTTP {}", status.as_u16()))
        }
    }

    async fn with_retries<T, F>(&self, mut once: F) -> Result<T>
    where
        F: FnMut() -> BoxFuture<'static, Attempt<T>>,
        T: Send,
    {
        let cfg = &self.inner.config;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Some(l) = &self.inner.limiter {
                l.acquire().await;
            }
            // Asked before every attempt, held until the answer's head: a deleted credential's secrets are
            // never sent once the deletion answered.
            let slug = self.inner.provider.slug();
            let permit = self.inner.events.admit().await.map_err(|e| match e {
                AdmitError::Stopped(m) => Error::stopped(slug, m),
                AdmitError::Unavailable(m) => Error::unavailable(slug, m),
            })?;
            let outcome = once().await;
            drop(permit);
            match outcome {
                Attempt::Done(t) => return Ok(t),
                Attempt::Transient(err, after) => {
                    if attempt >= cfg.max_attempts.max(1) {
                        return Err(err);
                    }
                    if let Some(after) = after
                        && after > cfg.max_retry_after
                    {
                        return Err(err);
                    }
                    let delay = cfg.backoff(attempt).max(after.unwrap_or_default());
                    tracing::debug!(provider = self.inner.provider.slug(), attempt, ?delay, %err, "retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// Sends `req`, retrying connection errors, timeouts, 429 and 5xx; reads the whole body; records every
    /// attempt. Any other status is returned as is.
    pub async fn send_raw(&self, req: &Request) -> Result<Response> {
        self.with_retries(|| {
            let this = self.clone();
            let req = req.clone();
            Box::pin(async move {
                let result = match this.build(&req).send().await {
                    Ok(resp) => {
                        let status = resp.status();
                        let headers = resp.headers().clone();
                        resp.bytes().await.map(|body| (status, headers, body))
                    }
                    Err(e) => Err(e),
                };
                match result {
                    Ok((status, headers, body)) => {
                        let ct = headers.get("content-type").and_then(|v| v.to_str().ok());
                        let recorded = this.inner.redactor.body(&body, ct);
                        this.record(&req, status.as_u16(), Some(&headers), recorded);
                        if is_transient(status) {
                            let after = retry_after(&headers);
                            Attempt::Transient(this.transient_status(status, &headers), after)
                        } else {
                            Attempt::Done(Response {
                                status,
                                headers,
                                body,
                            })
                        }
                    }
                    Err(e) => Attempt::Transient(this.connection_error(&req, &e), None),
                }
            })
        })
        .await
    }

    /// [`send_raw`](Self::send_raw), then [`check_status`].
    pub async fn send(&self, req: &Request) -> Result<Response> {
        let resp = self.send_raw(req).await?;
        check_status(self.inner.provider, resp, &self.inner.redactor)
    }

    /// Sends `req` and returns once the head arrived, leaving the body unread (downloads). Retries like
    /// [`send_raw`](Self::send_raw); a non-transient error status is read and returned as `Err`.
    pub async fn send_streaming(&self, req: &Request) -> Result<reqwest::Response> {
        let resp = self
            .with_retries(|| {
                let this = self.clone();
                let req = req.clone();
                Box::pin(async move {
                    match this.build(&req).send().await {
                        Ok(resp) => {
                            let status = resp.status();
                            if status.is_success() {
                                let len = resp
                                    .content_length()
                                    .map_or("unknown length".to_owned(), |l| format!("{l} bytes"));
                                this.record(
                                    &req,
                                    status.as_u16(),
                                    Some(resp.headers()),
                                    format!("<streamed body, {len}>"),
                                );
                                return Attempt::Done(Ok(resp));
                            }
                            let headers = resp.headers().clone();
                            let body = resp.bytes().await.unwrap_or_default();
                            let ct = headers.get("content-type").and_then(|v| v.to_str().ok());
                            let recorded = this.inner.redactor.body(&body, ct);
                            this.record(&req, status.as_u16(), Some(&headers), recorded);
                            if is_transient(status) {
                                let after = retry_after(&headers);
                                return Attempt::Transient(
                                    this.transient_status(status, &headers),
                                    after,
                                );
                            }
                            Attempt::Done(Err(Response {
                                status,
                                headers,
                                body,
                            }))
                        }
                        Err(e) => Attempt::Transient(this.connection_error(&req, &e), None),
                    }
                })
            })
            .await?;
        resp.map_err(|r| status_error(self.inner.provider, &r, &self.inner.redactor))
    }

    /// Unauthenticated-response variant for adapters that need the status of a streaming call (401 handling).
    pub(crate) async fn send_streaming_raw(
        &self,
        req: &Request,
    ) -> Result<std::result::Result<reqwest::Response, Response>> {
        match self.send_streaming(req).await {
            Ok(r) => Ok(Ok(r)),
            Err(Error::Unauthenticated { .. }) => Ok(Err(Response {
                status: StatusCode::UNAUTHORIZED,
                headers: HeaderMap::new(),
                body: Bytes::new(),
            })),
            Err(e) => Err(e),
        }
    }
}
