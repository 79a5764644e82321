//! Trimble Agriculture failures, mapped to the shared kinds.

use furrow_provider::Error;

/// What can go wrong in this adapter besides HTTP statuses.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AdapterError {
    /// The credential has no refresh token: only a new grower consent can fix it.
    #[error("credential has no `refreshToken`")]
    NoRefreshToken,
    /// The grower has not shared any organization with the app (organization authorization step).
    #[error("the grower has not shared any organization with this app")]
    NoSharedOrganization {
        /// The organization authorization link.
        connection_uri: String,
    },
}

impl From<AdapterError> for Error {
    fn from(e: AdapterError) -> Self {
        match e {
            AdapterError::NoRefreshToken => Error::unauthenticated("trimble", e.to_string()),
            AdapterError::NoSharedOrganization { ref connection_uri } => Error::LimitedPermission {
                provider: "trimble",
                message: e.to_string(),
                connection_uri: Some(connection_uri.clone()),
            },
        }
    }
}
