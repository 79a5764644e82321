//! The crate's error type.

use std::path::PathBuf;

/// Errors of the GeoParquet and GeoJSON writers and readers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing to the output stream failed.
    #[error("writing: {0}")]
    Write(#[source] std::io::Error),
    /// A column the writer needs is missing or has the wrong type.
    #[error("column {column}: {message}")]
    Column {
        /// Column name.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// A batch does not have the schema the writer was created with.
    #[error("batch {index}: schema differs from the writer's schema")]
    Schema {
        /// 0-based index of the batch.
        index: usize,
    },
    /// The Parquet library failed.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// The Arrow library failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The GeoArrow / GeoParquet library failed.
    #[error("geoarrow: {0}")]
    GeoArrow(#[from] geoarrow_schema::error::GeoArrowError),
    /// The `geo` metadata of a file is missing or invalid.
    #[error("geoparquet metadata: {0}")]
    Metadata(String),
    /// A GeoJSON document could not be read.
    #[error("geojson {path}: {message}")]
    GeoJson {
        /// The file.
        path: String,
        /// What is wrong (with the feature index where known).
        message: String,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
