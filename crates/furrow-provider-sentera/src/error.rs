//! Sentera failures mapped to the shared kinds.

use furrow_provider::Error;

#[derive(Debug, thiserror::Error)]
pub(crate) enum SenteraError {
    /// GraphQL answered `errors[]` (with HTTP 200).
    #[error("GraphQL error: {0}")]
    Graphql(String),
    /// The session answer had no `auth_token`.
    #[error("session answer without auth_token")]
    NoToken,
}

impl From<SenteraError> for Error {
    fn from(e: SenteraError) -> Self {
        match &e {
            SenteraError::Graphql(m) if m.to_ascii_lowercase().contains("not found") => {
                Error::not_found("sentera", e.to_string())
            }
            SenteraError::Graphql(m) if m.to_ascii_lowercase().contains("not authorized") => {
                Error::limited("sentera", e.to_string())
            }
            _ => Error::protocol("sentera", e.to_string()),
        }
    }
}
