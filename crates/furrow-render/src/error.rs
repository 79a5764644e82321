//! The error type of this crate.

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an image could not be rendered.
///
/// Every input gives an image or one of these; nothing here panics on data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The property has a different number of values than there are points.
    #[error("property `{property}` has {values} values for {points} points")]
    LengthMismatch {
        /// The property name.
        property: String,
        /// Number of points.
        points: usize,
        /// Number of values given.
        values: usize,
    },
    /// No point has a finite value of the property, so there is nothing to draw (Leaf makes no image then).
    #[error("property `{property}` has no finite value to draw")]
    NoValues {
        /// The property name.
        property: String,
    },
    /// A point's position is not a finite longitude/latitude inside the image projection's domain.
    #[error("point {index} has an invalid position ({lon}, {lat})")]
    InvalidPosition {
        /// Index of the point.
        index: usize,
        /// Its longitude.
        lon: f64,
        /// Its latitude.
        lat: f64,
    },
    /// A point's swath polygon has a vertex that is not a finite longitude/latitude in the projection's domain.
    #[error("swath of point {index} has an invalid vertex ({lon}, {lat})")]
    InvalidSwath {
        /// Index of the point.
        index: usize,
        /// The vertex longitude.
        lon: f64,
        /// The vertex latitude.
        lat: f64,
    },
    /// A rendering option is out of its range.
    #[error("option `{option}` {reason}")]
    InvalidOption {
        /// The option's field name.
        option: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The image encoder failed.
    #[error("cannot encode {format}: {message}")]
    Encode {
        /// `PNG` or `GeoTIFF`.
        format: &'static str,
        /// The encoder's message.
        message: String,
    },
}
