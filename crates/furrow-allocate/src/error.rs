/// What can go wrong while allocating.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A field boundary cannot be used, even after repair.
    #[error("field {field}: boundary is {validity}: {message}")]
    InvalidBoundary {
        /// The field's id.
        field: String,
        /// Leaf's validity value.
        validity: crate::Validity,
        /// Where it is wrong.
        message: String,
    },
    /// The points batch has no usable position columns.
    #[error("points: {0}")]
    Points(String),
    /// Two fields share an id.
    #[error("field id {0} appears twice")]
    DuplicateField(String),
    /// A column holds an unexpected type.
    #[error("column {column}: {message}")]
    Column {
        /// The column name.
        column: String,
        /// What is wrong.
        message: String,
    },
}

/// Result with this crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
