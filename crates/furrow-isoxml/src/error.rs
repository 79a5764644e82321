//! Errors and warnings of this crate.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of this crate: input that cannot be read at all, or a part of it that is unusable.
///
/// Faults that leave something readable are [`Warning`]s instead.
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
    /// Reading a file inside a data set failed.
    #[error("cannot read `{file}` at byte {offset}")]
    Read {
        /// The file name inside the data set.
        file: String,
        /// Byte offset where reading failed.
        offset: u64,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The input is not a readable zip archive.
    #[error("`{path}` is not a readable zip archive")]
    Zip {
        /// The archive (`<bytes>` for in-memory input).
        path: PathBuf,
        /// The cause.
        #[source]
        source: zip::result::ZipError,
    },
    /// No `TASKDATA.XML` was found in the input.
    #[error("no TASKDATA.XML found in `{path}`")]
    NoTaskData {
        /// The folder, archive or `<bytes>`.
        path: PathBuf,
    },
    /// An XML file has no usable root element.
    #[error("`{file}`: {message}")]
    Xml {
        /// The file name inside the data set.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A file referenced by an element does not exist in the data set.
    #[error("`{file}` referenced by {element} is missing")]
    MissingFile {
        /// The expected file name.
        file: String,
        /// The referencing element, e.g. `TLG TLG00001` or `GRD GRD00001`.
        element: String,
    },
    /// A file is larger than this crate accepts for its kind.
    #[error("`{file}` is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// The file name inside the data set.
        file: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Reading the data set would need more memory than the whole budget of the process
    /// ([`set_memory_budget`](crate::set_memory_budget)), by an estimate made before reading it.
    #[error(
        "{what} would need an estimated {} MiB or more of memory to read, over the budget of {} MiB",
        needed.div_ceil(1 << 20),
        budget / (1 << 20)
    )]
    MemoryBudget {
        /// The data set.
        what: String,
        /// Estimated bytes.
        needed: u64,
        /// The budget, bytes.
        budget: u64,
    },
    /// Other readers of the process hold the memory budget: try again later. Not a fault of the input.
    #[error(
        "{what}: other readers hold the memory budget (this one needs about {} MiB); try again later",
        needed.div_ceil(1 << 20)
    )]
    MemoryBusy {
        /// The data set.
        what: String,
        /// Estimated bytes.
        needed: u64,
    },
    /// A time log has no usable XML header.
    #[error("time log `{file}` has no usable header: {message}")]
    TimeLogHeader {
        /// The header file name.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A grid's binary does not match its `GRD` element.
    #[error("grid `{file}` ({element}): {message}")]
    Grid {
        /// The grid file name.
        file: String,
        /// The element, e.g. `GRD in TSK1`.
        element: String,
        /// What is wrong.
        message: String,
    },
}

/// What kind of fault a [`Warning`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum WarningKind {
    /// XML that is not well formed or ends early; what came before is kept.
    MalformedXml,
    /// An element this crate does not model (kept or skipped).
    UnknownElement,
    /// An attribute this crate does not model and that is not proprietary (`P<digits>_`); kept.
    UnknownAttribute,
    /// A required attribute is missing.
    MissingAttribute,
    /// An attribute value that cannot be parsed or is out of range.
    InvalidValue,
    /// Two objects share one id.
    DuplicateId,
    /// A reference to an id that does not exist.
    DanglingReference,
    /// A referenced file is missing (external XML, time log, grid).
    MissingFile,
    /// A file or element referenced more than once (read once).
    DuplicateReference,
    /// The input holds more than one data set, or an ambiguous file name.
    Ambiguous,
    /// The last time-log record is incomplete and was dropped.
    TruncatedRecord,
    /// Bytes of a time log were skipped to find the next plausible record.
    Resync,
    /// A record's time of day was at or past 24 h; its date was rolled forward (warned once a log).
    TimeRollover,
    /// A grid whose binary could not be used.
    Grid,
    /// A time log that could not be used.
    TimeLog,
    /// Too many warnings of one file; the rest are counted only.
    Suppressed,
}

/// A fault that did not stop parsing, with where it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    /// Kind of fault.
    pub kind: WarningKind,
    /// File inside the data set, when known.
    pub file: Option<String>,
    /// Element (code and id, e.g. `TSK TSK1 > TLG`), when known.
    pub element: Option<String>,
    /// Attribute letter or name, when known.
    pub attribute: Option<String>,
    /// Byte offset in the file, when known.
    pub offset: Option<u64>,
    /// Human-readable description.
    pub message: String,
}

impl Warning {
    pub(crate) fn new(kind: WarningKind, message: impl Into<String>) -> Self {
        Warning {
            kind,
            file: None,
            element: None,
            attribute: None,
            offset: None,
            message: message.into(),
        }
    }

    pub(crate) fn file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub(crate) fn element(mut self, element: impl Into<String>) -> Self {
        self.element = Some(element.into());
        self
    }

    pub(crate) fn attribute(mut self, attribute: impl Into<String>) -> Self {
        self.attribute = Some(attribute.into());
        self
    }

    pub(crate) fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            if let Some(offset) = self.offset {
                write!(f, " @{offset}")?;
            }
            write!(f, ": ")?;
        }
        if let Some(element) = &self.element {
            write!(f, "{element}")?;
            if let Some(attribute) = &self.attribute {
                write!(f, " @{attribute}")?;
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Collects warnings with a cap, so hostile input cannot grow memory without bound.
#[derive(Debug, Default)]
pub(crate) struct Warnings {
    list: Vec<Warning>,
    suppressed: u64,
}

/// Most warnings kept per collector; the rest are counted.
pub(crate) const MAX_WARNINGS: usize = 1000;

impl Warnings {
    pub(crate) fn push(&mut self, warning: Warning) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(warning);
        } else {
            self.suppressed = self.suppressed.saturating_add(1);
        }
    }

    pub(crate) fn as_slice(&self) -> &[Warning] {
        &self.list
    }

    pub(crate) fn into_vec(mut self) -> Vec<Warning> {
        if self.suppressed > 0 {
            self.list.push(Warning::new(
                WarningKind::Suppressed,
                format!("{} more warnings not shown", self.suppressed),
            ));
        }
        self.list
    }

    pub(crate) fn extend(&mut self, warnings: impl IntoIterator<Item = Warning>) {
        for w in warnings {
            self.push(w);
        }
    }
}
