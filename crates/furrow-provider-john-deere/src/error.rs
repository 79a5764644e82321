//! John Deere failures mapped to the shared kinds.

use furrow_provider::Error;

#[derive(Debug, thiserror::Error)]
pub(crate) enum JdError {
    /// A `nextPage` link pointing away from the API host: following it would leak the bearer token.
    #[error("refusing to follow a link to another host")]
    ForeignLink,
    /// An organization the app is not connected to.
    #[error("organization {0} is not connected to the app")]
    NotConnected(String),
    /// `406` from `/fieldOps/{id}`: no shapefile can be made for this operation (e.g. TILLAGE).
    #[error("no shapefile can be exported for field operation {0} (HTTP 406)")]
    NoShapefile(String),
    /// The export still answered `202` after the longest wait.
    #[error("the shapefile of field operation {0} was not ready after {1} s")]
    ExportNotReady(String, u64),
    /// `307` without a usable `Location`.
    #[error("shapefile export of field operation {0} redirected without a Location")]
    NoLocation(String),
}

impl From<JdError> for Error {
    fn from(e: JdError) -> Self {
        match e {
            JdError::ForeignLink => Error::protocol("john-deere", e.to_string()),
            JdError::NotConnected(_) => Error::limited("john-deere", e.to_string()),
            JdError::NoShapefile(_) => Error::not_found("john-deere", e.to_string()),
            JdError::ExportNotReady(..) => Error::unavailable("john-deere", e.to_string()),
            JdError::NoLocation(_) => Error::protocol("john-deere", e.to_string()),
        }
    }
}
