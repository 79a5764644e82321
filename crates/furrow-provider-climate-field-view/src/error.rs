//! Climate failures mapped to the shared kinds.

use furrow_provider::Error;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ClimateError {
    /// `409`: the `X-Next-Token` expired; the listing restarts (this error only escapes when restarting did
    /// not help).
    #[error("page token expired (HTTP 409)")]
    ExpiredPageToken,
    /// A file descriptor without its activity kind.
    #[error("file {0} has no activity kind")]
    NoKind(String),
}

impl From<ClimateError> for Error {
    fn from(e: ClimateError) -> Self {
        match e {
            // Another listing later may get through: retryable.
            ClimateError::ExpiredPageToken => {
                Error::unavailable("climate-field-view", e.to_string())
            }
            ClimateError::NoKind(_) => Error::protocol("climate-field-view", e.to_string()),
        }
    }
}
