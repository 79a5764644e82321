//! Access-token management (cache, single-flight refresh, persistence before use) and the authenticated
//! client adapters send their data calls through.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use furrow_credentials::Provider as ProviderKind;
use http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::provider::{BoxFuture, SecretSink, Secrets};
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

/// Caches a credential's access token until shortly before it expires and refreshes it one call at a time,
/// handing rotated values to the [`SecretSink`] before the new token is used.
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

impl TokenManager {
    /// A manager starting from the stored credential values (any stored access token is not trusted: its
    /// expiry is unknown).
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

    async fn refresh_locked(&self, state: &mut TokenState) -> Result<(String, Secrets)> {
        let issued = self.source.issue(&self.http, &state.secrets).await?;
        let redactor = self.http.redactor();
        redactor.add(&issued.access_token);
        for v in issued.updates.values() {
            redactor.add(v);
        }
        if !issued.updates.is_empty() {
            // Persist first: a crash after this point loses nothing; a failure here keeps the old state.
            self.sink
                .persist(self.provider(), &issued.updates)
                .await
                .map_err(|e| {
                    Error::unavailable(
                        self.provider().slug(),
                        format!("cannot persist rotated secrets: {e}"),
                    )
                })?;
        }
        state.secrets.extend(issued.updates.clone());
        let expires_at = issued.expires_in.map(|life| {
            // Renew a little early: a tenth of the lifetime, at most a minute.
            let margin = (life / 10).min(Duration::from_secs(60));
            Instant::now() + life.saturating_sub(margin)
        });
        state.access = Some((issued.access_token.clone(), expires_at));
        state.refreshes += 1;
        Ok((issued.access_token, issued.updates))
    }

    /// A valid access token, refreshing when there is none or it is about to expire.
    pub async fn access_token(&self) -> Result<String> {
        let mut state = self.state.lock().await;
        if let Some((token, exp)) = &state.access
            && exp.is_none_or(|e| Instant::now() < e)
        {
            return Ok(token.clone());
        }
        Ok(self.refresh_locked(&mut state).await?.0)
    }

    /// Refreshes unless another call already replaced `rejected`.
    pub async fn replace(&self, rejected: &str) -> Result<String> {
        let mut state = self.state.lock().await;
        if let Some((token, _)) = &state.access
            && token != rejected
        {
            return Ok(token.clone());
        }
        Ok(self.refresh_locked(&mut state).await?.0)
    }

    /// Refreshes now and returns the values persisted.
    pub async fn refresh(&self) -> Result<Secrets> {
        let mut state = self.state.lock().await;
        Ok(self.refresh_locked(&mut state).await?.1)
    }

    /// The credential values as they are now (after rotations).
    pub async fn secrets(&self) -> Secrets {
        self.state.lock().await.secrets.clone()
    }

    /// How many times a token was obtained from the provider.
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
