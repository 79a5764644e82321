//! The crate's error type.

/// Errors of the conversion to standard points.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The ISOXML parser failed.
    #[error(transparent)]
    Isoxml(#[from] furrow_isoxml::Error),
    /// Building an Arrow batch failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A time log has no header or no binary.
    #[error("time log {log} of task {task}: {message}")]
    TimeLog {
        /// The task id.
        task: String,
        /// The time log name (`TLGnnnnn`).
        log: String,
        /// What is wrong.
        message: String,
    },
    /// Writing an output file failed.
    #[error("{path}: {message}")]
    Output {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A cleanup rule is invalid (unknown operator, wrong value type).
    #[error("cleanup rule for {property}: {message}")]
    Rule {
        /// The property.
        property: String,
        /// What is wrong.
        message: String,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
