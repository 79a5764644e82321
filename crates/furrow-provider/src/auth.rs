//! Access-token management (cache, single-flight refresh, persistence before use) and the authenticated
//! client adapters send their data calls through.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use furrow_credentials::Provider as ProviderKind;
use http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::provider::{AccessToken, BoxFuture, SecretSink, Secrets, TokenRequest};
use crate::transport::{HttpClient, Request, Response, check_status};

/// A token just obtained from the provider.
#[derive(Clone, PartialEq, Eq)]
pub struct Issued {
    /// The access token (or session id) to send on data calls.
    pub access_token: String,
    /// Its lifetime, when the provider says.
    pub expires_in: Option<Duration>,
    /// Credential values to persist before the token is used (`refreshToken` when rotated, `accessToken`,
    /// `sessionId`, ...).
    pub updates: Secrets,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field("updates", &self.updates.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// How a provider issues access tokens: an OAuth refresh grant ([`crate::OAuthRefresh`]), a login, ...
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// Obtains a new token from the current credential values.
    fn issue<'a>(
        &'a self,
        http: &'a HttpClient,
        current: &'a Secrets,
    ) -> BoxFuture<'a, Result<Issued>>;
}

/// Adds credentials to requests, and reacts when the provider rejects them.
pub trait RequestAuth: Send + Sync + fmt::Debug {
    /// Adds the credentials to `req`; returns the token used, if any.
    fn apply<'a>(&'a self, req: &'a mut Request) -> BoxFuture<'a, Result<Option<String>>>;

    /// The provider answered 401 to a request made with `used`: renew it. `Ok(true)` when a retry makes sense.
    fn rejected<'a>(&'a self, used: Option<&'a str>) -> BoxFuture<'a, Result<bool>>;

    /// Validates the credential now and returns the values to persist.
    fn authenticate(&self) -> BoxFuture<'_, Result<Secrets>>;
}

/// Where the access token goes on a data request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPlacement {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// A header of this name carries the token as is (`SessionID`, ...).
    Header(&'static str),
}

#[derive(Debug)]
struct TokenState {
    secrets: Secrets,
    access: Option<(String, Option<Instant>)>,
    refreshes: u64,
}

/// A credential's access token for data calls: cached until shortly before it expires, and otherwise asked
/// of the [`SecretSink`] ([`SecretSink::access_token`]), which hands out the stored token or obtains a new one
/// under the credential's lock (one refresh at a time across every worker and node when the sink is the
/// store's) and persists rotated values before they are used. Within one manager, calls wait for each other.
pub struct TokenManager {
    http: HttpClient,
    source: Box<dyn TokenSource>,
    sink: Arc<dyn SecretSink>,
    placement: TokenPlacement,
    state: tokio::sync::Mutex<TokenState>,
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("provider", &self.http.provider())
            .field("source", &self.source)
            .field("placement", &self.placement)
            .finish_non_exhaustive()
    }
}

fn instant_of(at: SystemTime) -> Instant {
    match at.duration_since(SystemTime::now()) {
        Ok(ahead) => Instant::now() + ahead,
        Err(_) => Instant::now(),
    }
}

impl TokenManager {
    /// A manager starting from the stored credential values; whether a stored access token is still good is
    /// the sink's to say.
    pub fn new(
        http: HttpClient,
        source: impl TokenSource + 'static,
        sink: Arc<dyn SecretSink>,
        credential: Secrets,
        placement: TokenPlacement,
    ) -> Self {
        TokenManager {
            http,
            source: Box::new(source),
            sink,
            placement,
            state: tokio::sync::Mutex::new(TokenState {
                secrets: credential,
                access: None,
                refreshes: 0,
            }),
        }
    }

    fn provider(&self) -> ProviderKind {
        self.http.provider()
    }

    async fn obtain(
        &self,
        state: &mut TokenState,
        rejected: Option<&str>,
        force: bool,
    ) -> Result<AccessToken> {
        let issue = |current: Secrets| -> BoxFuture<'_, Result<Issued>> {
            Box::pin(async move {
                let issued = self.source.issue(&self.http, &current).await?;
                // Known before anything else can record it.
                let redactor = self.http.redactor();
                redactor.add(&issued.access_token);
                for v in issued.updates.values() {
                    redactor.add(v);
                }
                Ok(issued)
            })
        };
        let token = self
            .sink
            .access_token(
                self.provider(),
                TokenRequest {
                    current: &state.secrets,
                    rejected,
                    force,
                    issue: &issue,
                },
            )
            .await?;
        let redactor = self.http.redactor();
        redactor.add(&token.token);
        for (k, v) in &token.secrets {
            if self.provider().field(k).is_none_or(|f| f.secret) {
                redactor.add(v);
            }
        }
        state.secrets.extend(token.secrets.clone());
        state.access = Some((token.token.clone(), token.renew_at.map(instant_of)));
        if !token.updates.is_empty() {
            state.refreshes += 1;
        }
        Ok(token)
    }

    /// A valid access token: the cached one until shortly before it expires, else the sink's.
    pub async fn access_token(&self) -> Result<String> {
        let mut state = self.state.lock().await;
        if let Some((token, exp)) = &state.access
            && exp.is_none_or(|e| Instant::now() < e)
        {
            return Ok(token.clone());
        }
        Ok(self.obtain(&mut state, None, false).await?.token)
    }

    /// A token other than `rejected` (which the provider just refused): another call's replacement when there
    /// is one, else a new one.
    pub async fn replace(&self, rejected: &str) -> Result<String> {
        let mut state = self.state.lock().await;
        if let Some((token, _)) = &state.access
            && token != rejected
        {
            return Ok(token.clone());
        }
        Ok(self.obtain(&mut state, Some(rejected), false).await?.token)
    }

    /// Obtains a new token now (validation) and returns the values persisted.
    pub async fn refresh(&self) -> Result<Secrets> {
        let mut state = self.state.lock().await;
        Ok(self.obtain(&mut state, None, true).await?.updates)
    }

    /// The credential values as they are now (after rotations).
    pub async fn secrets(&self) -> Secrets {
        self.state.lock().await.secrets.clone()
    }

    /// How many times this manager obtained a token from the provider.
    pub async fn refresh_count(&self) -> u64 {
        self.state.lock().await.refreshes
    }
}

impl RequestAuth for TokenManager {
    fn apply<'a>(&'a self, req: &'a mut Request) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(async move {
            let token = self.access_token().await?;
            match self.placement {
                TokenPlacement::Bearer => {
                    req.set_header("Authorization", format!("Bearer {token}"))
                }
                TokenPlacement::Header(name) => req.set_header(name, token.clone()),
            }
            Ok(Some(token))
        })
    }

    fn rejected<'a>(&'a self, used: Option<&'a str>) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            match used {
                Some(t) => self.replace(t).await.map(|_| true),
                None => Ok(false),
            }
        })
    }

    fn authenticate(&self) -> BoxFuture<'_, Result<Secrets>> {
        Box::pin(self.refresh())
    }
}

/// An [`HttpClient`] plus a [`RequestAuth`]: data calls with one retry after a 401 and a renewed token.
#[derive(Debug, Clone)]
pub struct AuthedClient {
    /// The underlying client.
    pub http: HttpClient,
    /// The credentials.
    pub auth: Arc<dyn RequestAuth>,
}

impl AuthedClient {
    /// Wraps `http` with `auth`.
    pub fn new(http: HttpClient, auth: Arc<dyn RequestAuth>) -> Self {
        AuthedClient { http, auth }
    }

    /// The provider.
    pub fn provider(&self) -> ProviderKind {
        self.http.provider()
    }

    /// Sends with credentials; on 401 renews them once and sends again. Returns any final status.
    pub async fn send_raw(&self, req: &Request) -> Result<Response> {
        let mut r = req.clone();
        let used = self.auth.apply(&mut r).await?;
        let resp = self.http.send_raw(&r).await?;
        if resp.status == StatusCode::UNAUTHORIZED && self.auth.rejected(used.as_deref()).await? {
            let mut r = req.clone();
            self.auth.apply(&mut r).await?;
            return self.http.send_raw(&r).await;
        }
        Ok(resp)
    }

    /// [`send_raw`](Self::send_raw), then the default status mapping.
    pub async fn send(&self, req: &Request) -> Result<Response> {
        let resp = self.send_raw(req).await?;
        check_status(self.provider(), resp, self.http.redactor())
    }

    /// `GET`-style call answering JSON.
    pub async fn json<T: DeserializeOwned>(&self, req: &Request) -> Result<T> {
        self.send(req).await?.json(self.provider())
    }

    /// Opens a download with credentials (one renewal after a 401).
    pub async fn send_streaming(&self, req: &Request) -> Result<reqwest::Response> {
        let mut r = req.clone();
        let used = self.auth.apply(&mut r).await?;
        match self.http.send_streaming_raw(&r).await? {
            Ok(resp) => Ok(resp),
            Err(_) if self.auth.rejected(used.as_deref()).await? => {
                let mut r = req.clone();
                self.auth.apply(&mut r).await?;
                self.http.send_streaming(&r).await
            }
            Err(_) => Err(Error::unauthenticated(self.provider().slug(), "HTTP 401")),
        }
    }
}

/// No credentials on the request (a provider whose calls are signed elsewhere, or public endpoints).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

impl RequestAuth for NoAuth {
    fn apply<'a>(&'a self, _req: &'a mut Request) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(std::future::ready(Ok(None)))
    }

    fn rejected<'a>(&'a self, _used: Option<&'a str>) -> BoxFuture<'a, Result<bool>> {
        Box::pin(std::future::ready(Ok(false)))
    }

    fn authenticate(&self) -> BoxFuture<'_, Result<Secrets>> {
        Box::pin(std::future::ready(Ok(Secrets::new())))
    }
}
