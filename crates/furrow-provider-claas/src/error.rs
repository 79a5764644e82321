//! CLAAS-specific failures, mapped to the shared kinds.

use furrow_provider::Error;

/// What can go wrong before any request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClaasError {
    /// The credential lacks a field.
    #[error("credential has no `{0}`")]
    MissingField(&'static str),
}

impl From<ClaasError> for Error {
    fn from(e: ClaasError) -> Self {
        // A credential that cannot be used is as good as revoked: INVALID.
        Error::unauthenticated("claas", e.to_string())
    }
}
