//! Slingshot failures mapped to the shared kinds.

use furrow_provider::Error;

#[derive(Debug, thiserror::Error)]
pub(crate) enum SlingshotError {
    /// The file has no coverage to convert.
    #[error("job data {0} has no coverage")]
    NoCoverage(String),
    /// The conversion never finished.
    #[error("job data {0} still converting after {1} polls")]
    NotReady(String, u32),
    /// The shared secret is not base64.
    #[error("shared secret is not base64")]
    BadSecret,
    /// An XML answer that is not the documented shape.
    #[error("unexpected XML for {0}: {1}")]
    Xml(&'static str, String),
}

impl From<SlingshotError> for Error {
    fn from(e: SlingshotError) -> Self {
        let slug = "raven-slingshot";
        match e {
            SlingshotError::NoCoverage(_) => Error::not_found(slug, e.to_string()),
            SlingshotError::NotReady(..) => Error::unavailable(slug, e.to_string()),
            SlingshotError::BadSecret => Error::unauthenticated(slug, e.to_string()),
            SlingshotError::Xml(..) => Error::protocol(slug, e.to_string()),
        }
    }
}
