//! Errors and warnings of this crate.

use std::fmt;
use std::path::PathBuf;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of this crate: a shapefile set, or a part of it, that cannot be read.
///
/// Faults that leave the data usable are [`Warning`]s instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading a file or folder failed.
    #[error("cannot read `{path}`")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A `.shp` has no `.dbf` beside it (same stem, any case of extension).
    #[error("`{shp}` has no .dbf beside it")]
    MissingDbf {
        /// The `.shp` file.
        shp: PathBuf,
    },
    /// A file's header is not what its format requires.
    #[error("`{path}`: bad header: {message}")]
    Header {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A `.shp` record cannot be decoded.
    #[error("`{path}` record {record}: {message}")]
    Record {
        /// The `.shp` file.
        path: PathBuf,
        /// Record index (0-based, in file order).
        record: u64,
        /// What is wrong.
        message: String,
    },
    /// The geometry type of the `.shp` is not one this crate reads (lines, multipatches).
    #[error("`{path}`: unsupported shape type {shape_type} ({name})")]
    UnsupportedShapeType {
        /// The `.shp` file.
        path: PathBuf,
        /// The shape type code from the header.
        shape_type: i32,
        /// Its name in the ESRI specification.
        name: &'static str,
    },
    /// The `.prj` names a coordinate reference system this crate cannot reproject.
    #[error("`{path}`: unsupported coordinate reference system: {message}")]
    UnsupportedCrs {
        /// The `.prj` file.
        path: PathBuf,
        /// What is not supported.
        message: String,
    },
    /// There is no `.prj` and the coordinates are not plausible longitudes and latitudes.
    #[error(
        "`{path}` has no .prj and its coordinates (x {min_x}..{max_x}, y {min_y}..{max_y}) are not longitude/latitude: \
         the coordinate reference system is unknown"
    )]
    UnknownCrs {
        /// The `.shp` file.
        path: PathBuf,
        /// Smallest x of the header's bounding box.
        min_x: f64,
        /// Smallest y.
        min_y: f64,
        /// Largest x.
        max_x: f64,
        /// Largest y.
        max_y: f64,
    },
}

/// What kind of fault a [`Warning`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// No `.prj`: the coordinates look like longitude/latitude and WGS 84 is assumed.
    AssumedWgs84,
    /// The datum is not one this crate knows: the ellipsoid is used without a datum shift.
    DatumShift,
    /// The `.dbf`, `.shx` and `.shp` disagree on the number of records.
    CountMismatch,
    /// Records flagged deleted in the `.dbf` (skipped and counted).
    DeletedRecords,
    /// Records with a null geometry (kept with NaN coordinates and counted).
    NullGeometry,
    /// Multipoint records with more than one point (their mean is used).
    MultiPoint,
    /// A column whose unit is not stated, so it is kept as an extra column, not mapped.
    UnitUnknown,
    /// A column this crate could not use as its name suggests (kept as an extra, or skipped, with the reason).
    Column,
    /// Values that could not be parsed (counted; the row keeps a missing value).
    InvalidValue,
    /// A sidecar file (`.cpg`, `-Deere-Metadata.json`) that could not be used.
    Sidecar,
    /// Nothing says which operation the data records.
    OperationType,
    /// A `.shp` record that ends early or is malformed (the row keeps a null geometry).
    BadRecord,
}

/// A fault that did not stop reading.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Warning {
    /// Kind of fault.
    pub kind: WarningKind,
    /// Human-readable description, naming the file and column where it applies.
    pub message: String,
}

impl Warning {
    pub(crate) fn new(kind: WarningKind, message: impl Into<String>) -> Self {
        Warning {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
