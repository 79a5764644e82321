/// What can go wrong in background work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] furrow_store::Error),
    /// A job's payload is not what its kind expects.
    #[error("job {job}: bad payload: {message}")]
    Payload {
        /// The job id.
        job: String,
        /// What is wrong.
        message: String,
    },
    /// The blob store failed.
    #[error("blob store: {0}")]
    Blob(String),
    /// No adapter is registered for a provider.
    #[error("no adapter for provider {0}")]
    NoAdapter(String),
    /// An adapter could not be built for a credential.
    #[error("adapter: {0}")]
    Adapter(String),
}

/// Result with this crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
