use std::path::PathBuf;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database refused or failed a query.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A file in the data directory could not be read or written.
    #[error("cannot use {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The secret key is not 32 bytes of base64.
    #[error("invalid secret key: {0}")]
    InvalidKey(String),
    /// Sealed data could not be opened: wrong key or tampered row.
    #[error("cannot decrypt the secrets of credential {credential_id}: wrong key or tampered data")]
    Decrypt {
        /// The credential whose secrets failed.
        credential_id: String,
    },
    /// A stored row holds a value furrow cannot read back.
    #[error("corrupt row in {table}: {message}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The row to create exists already (unique key).
    #[error("{0} already exists")]
    AlreadyExists(&'static str),
    /// The row does not exist for this API owner.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The change is not allowed in the row's current state.
    #[error("{0}")]
    Conflict(&'static str),
    /// An event no webhook can subscribe to.
    #[error("unknown webhook event {0}")]
    UnknownEvent(String),
    /// The blob store failed.
    #[error("blob store: {0}")]
    Blob(#[from] crate::blobs::BlobError),
    /// Another process serves this SQLite database ([`Store::claim_serving`](crate::Store::claim_serving)).
    #[error(
        "another process serves the SQLite database {path}: one furrow-server at a time serves an SQLite file \
         (stop it first, or use PostgreSQL with --database-url to run several nodes)"
    )]
    AlreadyServed {
        /// The database file.
        path: PathBuf,
    },
    /// Password hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Result with the store's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
