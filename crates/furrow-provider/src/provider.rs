//! The provider trait, its capabilities, the stored credential an adapter is built from and the sinks it
//! reports to.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use furrow_credentials::Provider as ProviderKind;
use furrow_model::{
    MachineFileDescriptor, NewCredentialEvent, ProviderField, ProviderOrganization,
};
use futures_util::{Stream, StreamExt};
use time::OffsetDateTime;

use crate::auth::Issued;
use crate::error::{Error, Result};
use crate::transport::HttpConfig;

/// A boxed, sendable future: what the object-safe [`Provider`] methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A downloaded file, chunk by chunk.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// A credential's values by their Leaf field name (`clientKey`, `refreshToken`, ...): public and secret.
pub type Secrets = BTreeMap<String, String>;

/// Something a provider may or may not offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// Listing organizations.
    Organizations,
    /// Listing fields.
    Fields,
    /// Field boundaries with the fields.
    Boundaries,
    /// Listing and downloading machine files.
    MachineFiles,
    /// Provider-side webhooks.
    Webhooks,
    /// Irrigation equipment and as-applied irrigation.
    Irrigation,
    /// Imagery layers.
    Imagery,
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Capability::Organizations => "organizations",
            Capability::Fields => "fields",
            Capability::Boundaries => "boundaries",
            Capability::MachineFiles => "machine files",
            Capability::Webhooks => "webhooks",
            Capability::Irrigation => "irrigation",
            Capability::Imagery => "imagery",
        })
    }
}

/// What a provider offers through its adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// [`Provider::organizations`] lists real organizations (otherwise it answers one implicit organization).
    pub organizations: bool,
    /// [`Provider::fields`] works.
    pub fields: bool,
    /// Fields come with boundaries.
    pub boundaries: bool,
    /// [`Provider::machine_files`] and [`Provider::download`] work.
    pub machine_files: bool,
    /// The provider can push change notifications.
    pub webhooks: bool,
    /// [`Provider::irrigation_equipment`] and [`Provider::irrigation_applications`] work.
    pub irrigation: bool,
    /// [`Provider::imagery_layers`] works.
    pub imagery: bool,
}

impl Capabilities {
    /// Organizations, fields with boundaries and machine files.
    pub const FULL: Capabilities = Capabilities {
        organizations: true,
        fields: true,
        boundaries: true,
        machine_files: true,
        webhooks: false,
        irrigation: false,
        imagery: false,
    };

    /// Whether `capability` is offered.
    pub fn has(&self, capability: Capability) -> bool {
        match capability {
            Capability::Organizations => self.organizations,
            Capability::Fields => self.fields,
            Capability::Boundaries => self.boundaries,
            Capability::MachineFiles => self.machine_files,
            Capability::Webhooks => self.webhooks,
            Capability::Irrigation => self.irrigation,
            Capability::Imagery => self.imagery,
        }
    }
}

/// One page of machine files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FilePage {
    /// The files of this page.
    pub files: Vec<MachineFileDescriptor>,
    /// Pass this to [`Provider::machine_files`] to get the next page; `None` on the last page. Opaque, and
    /// durable: it can be stored and used by another process later.
    pub next_cursor: Option<String>,
    /// On the last page, where the provider tracks changes (John Deere's `x-deere-signature`): pass this as
    /// `cursor` to a later [`Provider::machine_files`] to list only what changed since this listing. Durable
    /// like `next_cursor`; `None` when the provider has no change tracking.
    pub changes_cursor: Option<String>,
}

/// A piece of irrigation equipment (a centre pivot, a lateral move) as its provider describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IrrigationEquipment {
    /// The provider's id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The organization it belongs to.
    pub organization_id: String,
    /// The provider's kind of equipment (`pivot`, `lateral`, ...), when it says.
    pub kind: Option<String>,
    /// Length of a pivot, metres.
    pub length_m: Option<f64>,
    /// Where it stands, `[lon, lat]`.
    pub location: Option<[f64; 2]>,
}

/// One as-applied irrigation event of a piece of equipment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IrrigationApplication {
    /// The provider's id.
    pub id: String,
    /// The equipment that applied it.
    pub equipment_id: String,
    /// Start, RFC 3339.
    pub start_time: Option<String>,
    /// End, RFC 3339.
    pub end_time: Option<String>,
    /// Applied depth, millimetres.
    pub depth_mm: Option<f64>,
}

/// An imagery or analytics layer (NDVI, RGB mosaic, stand count, ...) as its provider describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageryLayer {
    /// The provider's id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The organization it belongs to.
    pub organization_id: String,
    /// The field it covers, when the provider says.
    pub field_id: Option<String>,
    /// The provider's layer type (`NDVI`, `RGB`, `STAND_COUNT`, ...).
    pub kind: String,
    /// When the imagery was captured, RFC 3339.
    pub captured_time: Option<String>,
}

/// An equipment or FMIS provider, seen through its adapter, acting for one credential.
///
/// Object-safe: the registry holds `Arc<dyn Provider>`. Helpers live in [`ProviderExt`].
pub trait Provider: Send + Sync + fmt::Debug {
    /// Which provider this is.
    fn kind(&self) -> ProviderKind;

    /// The provider slug (`"john-deere"`).
    fn name(&self) -> &'static str {
        self.kind().slug()
    }

    /// What this provider offers.
    fn capabilities(&self) -> Capabilities;

    /// Validates the credential, refreshing or logging in as needed, and returns the credential values to
    /// persist (rotated refresh token, access token, session id). They were already handed to the
    /// [`SecretSink`] before any use.
    fn authenticate(&self) -> BoxFuture<'_, Result<Secrets>>;

    /// The organizations the credential can see.
    fn organizations(&self) -> BoxFuture<'_, Result<Vec<ProviderOrganization>>>;

    /// The fields of an organization, with boundaries where the provider has them.
    fn fields<'a>(&'a self, organization_id: &'a str) -> BoxFuture<'a, Result<Vec<ProviderField>>>;

    /// One page of the machine files of an organization created or changed since `since`.
    ///
    /// Pass `cursor: None` for the first page, then the previous page's [`FilePage::next_cursor`] (the
    /// cursor carries `since`).
    fn machine_files<'a>(
        &'a self,
        organization_id: &'a str,
        since: Option<OffsetDateTime>,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<FilePage>>;

    /// The bytes of a machine file, as a stream (Range-chunked where the provider requires it; a connection
    /// lost mid-body is resumed).
    fn download<'a>(&'a self, file: &'a MachineFileDescriptor)
    -> BoxFuture<'a, Result<ByteStream>>;

    /// The irrigation equipment of an organization. Unless [`Capabilities::irrigation`]:
    /// [`Error::Unsupported`] without a request.
    fn irrigation_equipment<'a>(
        &'a self,
        organization_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<IrrigationEquipment>>> {
        let _ = organization_id;
        unsupported(self.kind(), Capability::Irrigation)
    }

    /// The as-applied irrigation of one piece of equipment since `since`. Unless
    /// [`Capabilities::irrigation`]: [`Error::Unsupported`] without a request.
    fn irrigation_applications<'a>(
        &'a self,
        organization_id: &'a str,
        equipment_id: &'a str,
        since: Option<OffsetDateTime>,
    ) -> BoxFuture<'a, Result<Vec<IrrigationApplication>>> {
        let _ = (organization_id, equipment_id, since);
        unsupported(self.kind(), Capability::Irrigation)
    }

    /// The imagery and analytics layers of an organization. Unless [`Capabilities::imagery`]:
    /// [`Error::Unsupported`] without a request.
    fn imagery_layers<'a>(
        &'a self,
        organization_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ImageryLayer>>> {
        let _ = organization_id;
        unsupported(self.kind(), Capability::Imagery)
    }
}

/// Helpers over any [`Provider`].
pub trait ProviderExt: Provider {
    /// Every page of [`Provider::machine_files`].
    fn all_machine_files<'a>(
        &'a self,
        organization_id: &'a str,
        since: Option<OffsetDateTime>,
    ) -> BoxFuture<'a, Result<Vec<MachineFileDescriptor>>> {
        Box::pin(async move {
            let mut files = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = self
                    .machine_files(organization_id, since, cursor.as_deref())
                    .await?;
                files.extend(page.files);
                match page.next_cursor {
                    Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
                    Some(_) => {
                        return Err(Error::protocol(
                            self.name(),
                            "the provider repeated a page cursor",
                        ));
                    }
                    None => return Ok(files),
                }
            }
        })
    }

    /// Every page of [`Provider::machine_files`] from `changes` (a [`FilePage::changes_cursor`] kept from an
    /// earlier listing; `None` lists everything since `since`), and the cursor to keep for next time (`None`
    /// when the provider has no change tracking).
    fn machine_file_changes<'a>(
        &'a self,
        organization_id: &'a str,
        since: Option<OffsetDateTime>,
        changes: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(Vec<MachineFileDescriptor>, Option<String>)>> {
        Box::pin(async move {
            let mut files = Vec::new();
            let mut cursor: Option<String> = changes.map(str::to_owned);
            loop {
                let page = self
                    .machine_files(organization_id, since, cursor.as_deref())
                    .await?;
                files.extend(page.files);
                match page.next_cursor {
                    Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
                    Some(_) => {
                        return Err(Error::protocol(
                            self.name(),
                            "the provider repeated a page cursor",
                        ));
                    }
                    None => return Ok((files, page.changes_cursor)),
                }
            }
        })
    }

    /// The whole file in memory.
    fn download_bytes<'a>(
        &'a self,
        file: &'a MachineFileDescriptor,
    ) -> BoxFuture<'a, Result<Vec<u8>>> {
        Box::pin(async move { read_all(self.download(file).await?).await })
    }
}

impl<P: Provider + ?Sized> ProviderExt for P {}

/// Every chunk of a [`ByteStream`], in memory.
pub async fn read_all(mut stream: ByteStream) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

/// The answer of a capability a provider does not have: an error, without any request.
pub fn unsupported<'a, T: Send + 'a>(
    kind: ProviderKind,
    capability: Capability,
) -> BoxFuture<'a, Result<T>> {
    Box::pin(std::future::ready(Err(Error::Unsupported {
        provider: kind.slug(),
        capability,
    })))
}

/// Held while one request to the provider is in flight (see [`EventSink::admit`]); dropping it lets a
/// waiting deletion of the credential go on.
#[derive(Default)]
pub struct CallPermit(Option<Box<dyn std::any::Any + Send>>);

impl CallPermit {
    /// A permit holding `guard` until the request is answered.
    pub fn new(guard: impl Send + 'static) -> Self {
        CallPermit(Some(Box::new(guard)))
    }
}

impl fmt::Debug for CallPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "CallPermit(held)"
        } else {
            "CallPermit(free)"
        })
    }
}

/// Why [`EventSink::admit`] refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdmitError {
    /// The credential is gone: its secrets must not be sent ([`Error::Stopped`]).
    Stopped(String),
    /// It could not be checked now ([`Error::Unavailable`]: try again later).
    Unavailable(String),
}

/// Receives every HTTP exchange with a provider, already redacted and truncated.
pub trait EventSink: Send + Sync + fmt::Debug {
    /// Records one exchange. Must not block for long: the store queues it.
    fn record(&self, event: NewCredentialEvent);

    /// Asked before every request to the provider (each attempt, token requests included); the permit is
    /// held until the answer's head arrived. [`AdmitError::Stopped`] stops the request with
    /// [`Error::Stopped`]: the credential was deleted, so its secrets must not be sent again. The default
    /// admits everything.
    fn admit(&self) -> BoxFuture<'_, std::result::Result<CallPermit, AdmitError>> {
        Box::pin(std::future::ready(Ok(CallPermit::default())))
    }
}

/// When to stop using an access token issued at `issued_at` for `lifetime`: a little before it expires (a
/// tenth of its lifetime, at most a minute). `None` when the lifetime is unknown: use it until refused.
pub fn renew_at(issued_at: SystemTime, lifetime: Option<Duration>) -> Option<SystemTime> {
    lifetime.map(|life| {
        let margin = (life / 10).min(Duration::from_secs(60));
        issued_at + life.saturating_sub(margin)
    })
}

/// Obtains a new token from the credential values it is given (a refresh grant, a login); see
/// [`TokenRequest::issue`].
pub type IssueFn<'a> = dyn Fn(Secrets) -> BoxFuture<'a, Result<Issued>> + Send + Sync + 'a;

/// What [`crate::TokenManager`] asks a [`SecretSink`] for: a valid access token.
pub struct TokenRequest<'a> {
    /// The credential values the caller knows (the sink may know newer ones: another worker's rotation).
    pub current: &'a Secrets,
    /// A token the provider just refused: never hand it out again.
    pub rejected: Option<&'a str>,
    /// Obtain a new token even when a stored one is still valid (validation proves the grant works).
    pub force: bool,
    /// Obtains a new token from the given values. The sink calls it at most once per request, with the
    /// newest values it has, while it holds the credential's lock.
    pub issue: &'a IssueFn<'a>,
}

impl fmt::Debug for TokenRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("current", &self.current.keys().collect::<Vec<_>>())
            .field("rejected", &self.rejected.map(|_| "<redacted>"))
            .field("force", &self.force)
            .finish_non_exhaustive()
    }
}

/// A valid access token, as [`SecretSink::access_token`] hands it out.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The token (or session id) to send.
    pub token: String,
    /// When to stop using it (see [`renew_at`]); `None`: until the provider refuses it.
    pub renew_at: Option<SystemTime>,
    /// The credential's values now (a refresh token rotated by this call or by another worker included).
    pub secrets: Secrets,
    /// What this call obtained and persisted; empty when a stored token was handed out again.
    pub updates: Secrets,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"<redacted>")
            .field("renew_at", &self.renew_at)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("updates", &self.updates.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Where a credential's rotated values (refresh token, access token, session id) are kept, persisted before
/// they are used.
pub trait SecretSink: Send + Sync + fmt::Debug {
    /// Stores `updates` (field name to value) durably; an error stops the new token from being used.
    fn persist<'a>(
        &'a self,
        provider: ProviderKind,
        updates: &'a Secrets,
    ) -> BoxFuture<'a, std::result::Result<(), String>>;

    /// A valid access token for the credential. A sink shared by many workers and nodes (the store's) keeps
    /// the token with its expiry and hands it out until shortly before it expires, and obtains a new one
    /// under the credential's lock, re-reading the stored values first, so a refresh token is never presented
    /// twice. The default (one adapter, one process: [`MemorySink`]) always issues a new token from
    /// `current` and persists it before returning.
    fn access_token<'a>(
        &'a self,
        provider: ProviderKind,
        request: TokenRequest<'a>,
    ) -> BoxFuture<'a, Result<AccessToken>> {
        Box::pin(async move {
            let issued = (request.issue)(request.current.clone()).await?;
            if !issued.updates.is_empty() {
                self.persist(provider, &issued.updates).await.map_err(|e| {
                    Error::unavailable(
                        provider.slug(),
                        format!("cannot persist rotated secrets: {e}"),
                    )
                })?;
            }
            let mut secrets = request.current.clone();
            secrets.extend(issued.updates.clone());
            Ok(AccessToken {
                token: issued.access_token,
                renew_at: renew_at(SystemTime::now(), issued.expires_in),
                secrets,
                updates: issued.updates,
            })
        })
    }
}

/// An [`EventSink`] and [`SecretSink`] keeping everything in memory; for tests and examples.
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<NewCredentialEvent>>,
    persisted: Mutex<Vec<Secrets>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The events recorded so far.
    pub fn events(&self) -> Vec<NewCredentialEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// Every `persist` call so far, in order.
    pub fn persisted(&self) -> Vec<Secrets> {
        self.persisted.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// The latest persisted value of `field`.
    pub fn latest(&self, field: &str) -> Option<String> {
        self.persisted()
            .iter()
            .rev()
            .find_map(|p| p.get(field).cloned())
    }
}

impl EventSink for MemorySink {
    fn record(&self, event: NewCredentialEvent) {
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }
}

impl SecretSink for MemorySink {
    fn persist<'a>(
        &'a self,
        _provider: ProviderKind,
        updates: &'a Secrets,
    ) -> BoxFuture<'a, std::result::Result<(), String>> {
        Box::pin(async move {
            self.persisted
                .lock()
                .map_err(|_| "poisoned".to_owned())?
                .push(updates.clone());
            Ok(())
        })
    }
}

/// Everything an adapter is built from: the stored credential, where the provider is, and the sinks.
#[derive(Debug, Clone)]
pub struct ProviderContext {
    /// The credential's values by Leaf field name, secrets decrypted.
    pub credential: Secrets,
    /// Serve every provider URL (token and API) from this base instead of the real hosts: a simulator, a
    /// proxy. `None` uses the provider's hosts for the credential's `clientEnvironment`.
    pub base_url: Option<String>,
    /// The OAuth token endpoint to use instead of the provider's (or `base_url`'s): a separate
    /// authorization server, as in tests against a real one.
    pub token_url: Option<String>,
    /// Timeouts, retries and rate limits.
    pub http: HttpConfig,
    /// Receives every exchange.
    pub events: Arc<dyn EventSink>,
    /// Receives rotated secrets before use.
    pub secrets: Arc<dyn SecretSink>,
}

impl ProviderContext {
    /// A context with default HTTP settings.
    pub fn new(
        credential: Secrets,
        events: Arc<dyn EventSink>,
        secrets: Arc<dyn SecretSink>,
    ) -> Self {
        ProviderContext {
            credential,
            base_url: None,
            token_url: None,
            http: HttpConfig::default(),
            events,
            secrets,
        }
    }

    /// Points every provider URL at `base_url`.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into().trim_end_matches('/').to_owned());
        self
    }

    /// Sends token requests to `token_url` (OAuth adapters), whatever `base_url` says.
    pub fn with_token_url(mut self, token_url: impl Into<String>) -> Self {
        self.token_url = Some(token_url.into());
        self
    }

    /// `token_url` when set, else `default` (an adapter's token endpoint for its hosts).
    pub fn token_url_or(&self, default: String) -> String {
        self.token_url.clone().unwrap_or(default)
    }

    /// Replaces the HTTP settings.
    pub fn with_http(mut self, http: HttpConfig) -> Self {
        self.http = http;
        self
    }

    /// The value of a required credential field, or [`Error::Unauthenticated`] naming it.
    pub fn require(&self, kind: ProviderKind, field: &str) -> Result<String> {
        self.credential
            .get(field)
            .filter(|v| !v.trim().is_empty())
            .cloned()
            .ok_or_else(|| {
                Error::unauthenticated(kind.slug(), format!("credential has no `{field}`"))
            })
    }

    /// `true` when the credential's `clientEnvironment` is `PRODUCTION`.
    pub fn is_production(&self) -> bool {
        self.credential.get("clientEnvironment").map(String::as_str) == Some("PRODUCTION")
    }

    /// The values of the credential fields that are secret for `kind` (they are redacted everywhere).
    pub fn secret_values(&self, kind: ProviderKind) -> Vec<String> {
        self.credential
            .iter()
            .filter(|(k, _)| kind.field(k).is_none_or(|f| f.secret))
            .map(|(_, v)| v.clone())
            .collect()
    }
}
