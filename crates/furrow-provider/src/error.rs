//! The error kinds every adapter maps its failures to.

use std::time::Duration;

use furrow_credentials::CredentialStatus;

use crate::provider::Capability;

/// A failed provider call, in one of the kinds shared by every adapter.
///
/// `provider` is the provider's slug. Messages never contain secrets: adapters build them from status codes,
/// provider error codes and redacted bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The grant is revoked or expired, or the credential is unusable (credential becomes `INVALID`).
    #[error("{provider}: unauthenticated: {message}")]
    Unauthenticated {
        /// Provider slug.
        provider: &'static str,
        /// What the provider said.
        message: String,
    },
    /// The token works but a scope is missing or an organization is not connected
    /// (credential becomes `LIMITED_PERMISSION`).
    #[error("{provider}: limited permission: {message}")]
    LimitedPermission {
        /// Provider slug.
        provider: &'static str,
        /// What the provider said.
        message: String,
        /// Where the grower can grant the missing access, when known.
        connection_uri: Option<String>,
    },
    /// Too many requests; try again after `retry_after` when given.
    #[error("{provider}: rate limited (retry after {retry_after:?})")]
    RateLimited {
        /// Provider slug.
        provider: &'static str,
        /// The provider's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// A transient failure: timeout, connection error, 5xx, truncated body, secrets not yet persisted.
    #[error("{provider}: unavailable: {message}")]
    Unavailable {
        /// Provider slug.
        provider: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The resource does not exist (any more).
    #[error("{provider}: not found: {message}")]
    NotFound {
        /// Provider slug.
        provider: &'static str,
        /// What was looked for.
        message: String,
    },
    /// The provider answered something the adapter does not understand.
    #[error("{provider}: protocol error: {message}")]
    Protocol {
        /// Provider slug.
        provider: &'static str,
        /// What was unexpected.
        message: String,
    },
    /// The credential was deleted (or its work cancelled) while the call waited: no request was made with
    /// its secrets.
    #[error("{provider}: stopped: {message}")]
    Stopped {
        /// Provider slug.
        provider: &'static str,
        /// Why.
        message: String,
    },
    /// The provider does not offer this capability; no request was made.
    #[error("{provider}: {capability} is not supported")]
    Unsupported {
        /// Provider slug.
        provider: &'static str,
        /// The capability asked for.
        capability: Capability,
    },
}

/// The kind of an [`Error`], without its context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// See [`Error::Unauthenticated`].
    Unauthenticated,
    /// See [`Error::LimitedPermission`].
    LimitedPermission,
    /// See [`Error::RateLimited`].
    RateLimited,
    /// See [`Error::Unavailable`].
    Unavailable,
    /// See [`Error::NotFound`].
    NotFound,
    /// See [`Error::Protocol`].
    Protocol,
    /// See [`Error::Stopped`].
    Stopped,
    /// See [`Error::Unsupported`].
    Unsupported,
}

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Unauthenticated { .. } => ErrorKind::Unauthenticated,
            Error::LimitedPermission { .. } => ErrorKind::LimitedPermission,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Unavailable { .. } => ErrorKind::Unavailable,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Protocol { .. } => ErrorKind::Protocol,
            Error::Stopped { .. } => ErrorKind::Stopped,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
        }
    }

    /// Whether the same call may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind(), ErrorKind::RateLimited | ErrorKind::Unavailable)
    }

    /// The credential status this error puts the credential in; `None` leaves it unchanged
    /// (transient failures never change it).
    pub fn credential_status(&self) -> Option<CredentialStatus> {
        match self.kind() {
            ErrorKind::Unauthenticated => Some(CredentialStatus::Invalid),
            ErrorKind::LimitedPermission => Some(CredentialStatus::LimitedPermission),
            _ => None,
        }
    }

    /// The provider slug.
    pub fn provider(&self) -> &'static str {
        match self {
            Error::Unauthenticated { provider, .. }
            | Error::LimitedPermission { provider, .. }
            | Error::RateLimited { provider, .. }
            | Error::Unavailable { provider, .. }
            | Error::NotFound { provider, .. }
            | Error::Protocol { provider, .. }
            | Error::Stopped { provider, .. }
            | Error::Unsupported { provider, .. } => provider,
        }
    }

    /// A [`Error::Protocol`] error.
    pub fn protocol(provider: &'static str, message: impl Into<String>) -> Self {
        Error::Protocol {
            provider,
            message: message.into(),
        }
    }

    /// A [`Error::Unauthenticated`] error.
    pub fn unauthenticated(provider: &'static str, message: impl Into<String>) -> Self {
        Error::Unauthenticated {
            provider,
            message: message.into(),
        }
    }

    /// A [`Error::Unavailable`] error.
    pub fn unavailable(provider: &'static str, message: impl Into<String>) -> Self {
        Error::Unavailable {
            provider,
            message: message.into(),
        }
    }

    /// A [`Error::LimitedPermission`] error without a connection URI.
    pub fn limited(provider: &'static str, message: impl Into<String>) -> Self {
        Error::LimitedPermission {
            provider,
            message: message.into(),
            connection_uri: None,
        }
    }

    /// A [`Error::Stopped`] error.
    pub fn stopped(provider: &'static str, message: impl Into<String>) -> Self {
        Error::Stopped {
            provider,
            message: message.into(),
        }
    }

    /// A [`Error::NotFound`] error.
    pub fn not_found(provider: &'static str, message: impl Into<String>) -> Self {
        Error::NotFound {
            provider,
            message: message.into(),
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
