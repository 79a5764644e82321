//! Trimble Agriculture failures, mapped to the shared kinds.

use furrow_provider::Error;

/// What can go wrong in this adapter besides HTTP statuses.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AdapterError {
    /// The credential has no refresh token: only a new grower consent can fix it.
    #[error("credential has no `refreshToken`")]
    NoRefreshToken,
}

impl From<AdapterError> for Error {
    fn from(e: AdapterError) -> Self {
        Error::unauthenticated("trimble", e.to_string())
    }
}
