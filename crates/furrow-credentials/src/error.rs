//! Errors of this crate.

use std::fmt;

use serde::Serialize;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A credential body failed validation.
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// Not a provider slug or Leaf name.
    #[error("unknown provider `{0}`")]
    UnknownProvider(String),
    /// Not a credential status.
    #[error("unknown credential status `{0}`")]
    UnknownStatus(String),
    /// Not `STAGE` or `PRODUCTION`.
    #[error("unknown client environment `{0}`")]
    UnknownEnvironment(String),
    /// Not an RFC 3339 timestamp.
    #[error("invalid timestamp `{value}`")]
    InvalidTimestamp {
        /// The rejected text.
        value: String,
        /// Why `time` rejected it.
        #[source]
        source: time::error::Parse,
    },
}

/// One problem with one field of a request body; an element of problem+json `fieldErrors`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    /// The JSON field name (`"clientKey"`), or `"body"` when the body itself is wrong.
    pub field: String,
    /// What is wrong, lowercase (`"missing required field `clientKey`"`).
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found in a credential body (never empty when returned as an error).
///
/// Serialises as the bare array of [`FieldError`]s, ready to be the problem+json `fieldErrors`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors {
    /// The problems, in a stable order: field-table order first, then unknown fields in body order.
    pub errors: Vec<FieldError>,
}

impl ValidationErrors {
    /// The problems.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// Whether there is no problem.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Number of problems.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Whether some problem names `field`.
    pub fn has_field(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }

    pub(crate) fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid credential body")?;
        for (i, e) in self.errors.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}
