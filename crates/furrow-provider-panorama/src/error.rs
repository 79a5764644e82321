//! Precision Planting Panorama failures, mapped to the shared kinds.

use furrow_provider::Error;

/// What can go wrong in this adapter besides HTTP statuses.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AdapterError {
    /// The provider's login answer lacks the token.
    #[error("login answer without {0}")]
    NoToken(&'static str),
}

impl From<AdapterError> for Error {
    fn from(e: AdapterError) -> Self {
        Error::protocol("panorama", e.to_string())
    }
}
