//! Climate failures mapped to the shared kinds.

use furrow_provider::Error;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ClimateError {
    /// `409`: the stored `X-Next-Token` expired; the listing must restart.
    #[error("page token expired (409)")]
    ExpiredPageToken,
    /// A file descriptor without its activity kind.
    #[error("file {0} has no activity kind")]
    NoKind(String),
}

impl From<ClimateError> for Error {
    fn from(e: ClimateError) -> Self {
        Error::protocol("climate-field-view", e.to_string())
    }
}
