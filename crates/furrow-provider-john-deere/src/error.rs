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
}

impl From<JdError> for Error {
    fn from(e: JdError) -> Self {
        match e {
            JdError::ForeignLink => Error::protocol("john-deere", e.to_string()),
            JdError::NotConnected(_) => Error::limited("john-deere", e.to_string()),
        }
    }
}
