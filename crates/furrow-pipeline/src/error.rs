use std::path::PathBuf;

/// What can go wrong in the pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The original or a scratch file could not be read or written.
    #[error("cannot use {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An ISOXML dataset could not be read.
    #[error(transparent)]
    IsoXml(#[from] furrow_isoxml::Error),
    /// The conversion to standard points failed.
    #[error(transparent)]
    MachineData(#[from] furrow_machine_data::Error),
    /// Reading or writing GeoParquet or GeoJSON failed.
    #[error(transparent)]
    GeoParquet(#[from] furrow_geoparquet::Error),
    /// The spatial work failed.
    #[error(transparent)]
    Allocate(#[from] furrow_allocate::Error),
    /// The data cannot give what was asked for (named in the message).
    #[error("{0}")]
    Data(String),
}

/// Result with the pipeline's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
