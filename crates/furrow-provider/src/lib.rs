//! What furrow needs from an equipment or FMIS provider, and the shared machinery every adapter uses.
//!
//! - [`Provider`]: the small object-safe trait of an adapter acting for one credential (`Arc<dyn Provider>`),
//!   with [`Capabilities`], and helpers in [`ProviderExt`].
//! - [`Error`]: the shared error kinds with [`Error::is_retryable`] and the credential status they imply.
//! - [`HttpClient`]: reqwest (rustls) with timeouts, jittered exponential backoff, `Retry-After`, rate limits
//!   and one redacted [`furrow_model::NewCredentialEvent`] per exchange, sent to an [`EventSink`].
//! - [`TokenManager`]: access tokens cached until shortly before expiry and otherwise asked of the credential's
//!   [`SecretSink`] ([`SecretSink::access_token`]: the store's holds one refresh at a time per credential
//!   across every worker and node), rotated secrets persisted before use; [`OAuthRefresh`] (the `oauth2` crate) as its
//!   usual [`TokenSource`]; [`authorization_url`] and [`exchange_code`] to obtain a grower's refresh token.
//! - [`download()`]: byte streams, `Range`-chunked where required, resumed after truncation.
//! - `conformance` (feature `testing`): the suite every adapter runs against its simulator.
//!
//! ```
//! use furrow_provider::{Capabilities, Capability, Error};
//! assert!(Capabilities::FULL.has(Capability::MachineFiles));
//! let e = Error::RateLimited { provider: "claas", retry_after: None };
//! assert!(e.is_retryable());
//! assert_eq!(e.credential_status(), None);
//! ```

#![warn(missing_docs)]

mod auth;
mod download;
mod error;
mod oauth;
mod provider;
mod redact;
mod rest;
mod rest_provider;
mod transport;

#[cfg(feature = "testing")]
pub mod conformance;

#[cfg(test)]
mod tests;

pub use crate::auth::{
    AuthedClient, Issued, NoAuth, RequestAuth, TokenManager, TokenPlacement, TokenSource,
};
pub use crate::download::{DownloadMode, download};
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::oauth::{
    AuthorizationRequest, ClientAuth, OAuthConfig, OAuthRefresh, authorization_url, exchange_code,
    seconds,
};
pub use crate::provider::{
    AccessToken, AdmitError, BoxFuture, ByteStream, CallPermit, Capabilities, Capability,
    EventSink, FilePage, ImageryLayer, IrrigationApplication, IrrigationEquipment, IssueFn,
    MemorySink, Provider, ProviderContext, ProviderExt, SecretSink, Secrets, TokenRequest,
    read_all, renew_at, unsupported,
};
pub use crate::redact::{MAX_EVENT_BODY, Redactor, is_sensitive_name, redact_json};
pub use crate::rest::{
    IMPLICIT_ORG, RestApi, RestBoundaries, RestKeys, RestPaging, RestSpec, decode_cursor,
    encode_cursor, geojson_multipolygon, rfc3339,
};
pub use crate::rest_provider::{RestProvider, WithHeaders};
pub use crate::transport::{
    HttpClient, HttpConfig, RateLimit, RateLimiter, Request, Response, check_login, check_status,
    retry_after, status_error,
};
pub use furrow_credentials::Provider as ProviderKind;
