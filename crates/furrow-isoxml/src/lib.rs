//! A tolerant, fast ISO 11783-10 (ISOXML) task data parser.
//!
//! - Input: a folder, a zip (nested folders, `__MACOSX`, several data sets, junk before the archive) or
//!   bytes; file names resolve ignoring case ([`TaskData::open`], [`TaskData::open_all`],
//!   [`TaskData::from_zip`], [`TaskData::from_bytes`]).
//! - The XML model of v3 and v4 (tasks, partfields, devices, products, ...), with external files
//!   (`XFR` → `XFC`) merged. Unknown and proprietary attributes and elements are kept.
//! - Binary time logs streamed with bounded memory ([`TimeLog::records`], [`RecordReader`]), validated
//!   and resynchronised after corruption, and a last-value-carried-forward view
//!   ([`TimeLog::filled_records`]).
//! - Grids of type 1 and 2, the DDI dictionary ([`ddi_entry`]) and value presentation ([`present`]).
//! - The summary behind `furrow inspect` ([`inspect`], [`Summary`]).
//!
//! Nothing here panics on input: faults that leave something readable are [`Warning`]s, the rest typed
//! [`Error`]s naming the file, element, attribute or byte offset.
//!
//! ```no_run
//! use furrow_isoxml::{TaskData, ddi_name};
//!
//! let td = TaskData::open("TASKDATA.zip")?;
//! for log in &td.time_logs {
//!     let header = log.header.as_ref().expect("header");
//!     for record in log.records()? {
//!         let record = record?;
//!         for v in &record.values {
//!             let ddi = header.dlvs[usize::from(v.index)].ddi;
//!             println!("{:?} {} = {}", record.time, ddi_name(ddi), v.value);
//!         }
//!     }
//! }
//! # Ok::<(), furrow_isoxml::Error>(())
//! ```
//!
//! The DDI table is generated from `tests/data/ddi/ddi_entities.json` (isoxml-py, Apache-2.0, built from the
//! isobus.net ISO 11783-11 export) by `scripts/gen_ddi.py`.

#![warn(missing_docs)]

mod budget;
mod ddi;
mod error;
mod grid;
mod inspect;
mod model;
mod parse;
mod source;
mod taskdata;
mod time;
mod timelog;
mod xml;

pub use crate::budget::{
    BUSY_WAIT, DEFAULT_MEMORY_BUDGET, memory_budget, memory_reserved, set_memory_budget,
};
pub use crate::ddi::{
    DdiEntry, DdiKind, DisplayValue, PGN_BASED_DDI, PROPRIETARY_DDI_END, PROPRIETARY_DDI_START,
    REQUEST_DEFAULT_DDI, ValuePresentation, ValueSource, ddi_entry, ddi_kind, ddi_name, ddi_table,
    is_proprietary_ddi, present, scale_raw,
};
pub use crate::error::{Error, Result, Warning, WarningKind};
pub use crate::grid::{Grid, GridCells};
pub use crate::inspect::{
    Counts, DlvSummary, Summary, TimeLogStatus, TimeLogSummary, inspect, inspect_json, render_text,
    summaries_to_json,
};
pub use crate::model::{
    AllocationStamp, AttachedFile, BaseStation, CodedComment, ColourLegend, CommentAllocation,
    Connection, ControlAssignment, CropType, CropVariety, CulturalPractice, Customer,
    DataLogTrigger, DataLogValue, Device, DeviceAllocation, DeviceElement, DeviceProcessData,
    DeviceProperty, DeviceValuePresentation, ExternalFileReference, ExtraAttributes, Farm,
    GuidanceAllocation, GuidanceGroup, GuidancePattern, GuidanceShift, LineString, Link, LinkGroup,
    Named, Partfield, Point, PointFileLayout, Polygon, Position, ProcessDataVariable, Product,
    ProductAllocation, ProductGroup, ProductRelation, Task, TaskControllerCapabilities, Time,
    TimeLogRef, TreatmentZone, ValuePresentationElement, Worker, WorkerAllocation,
};
pub use crate::taskdata::TaskData;
pub use crate::time::LoggedDateTime;
pub use crate::timelog::{
    DecodeOptions, DlvHeader, DlvValue, FilledRecord, FilledRecords, HeaderValue, MAX_DLVS,
    MAX_RECORD_LEN, POSITION_NOT_AVAILABLE, PositionHeader, Record, RecordLayout, RecordPosition,
    RecordReader, RecordView, Records, SkippedRange, TimeLog, TimeLogHeader, ValueColumn,
};
pub use crate::xml::XmlElement;

/// Parses XML bytes into an element tree, tolerating malformed input (for fuzzing and tools).
pub fn parse_xml(bytes: &[u8]) -> (Option<XmlElement>, Vec<Warning>) {
    let mut w = error::Warnings::default();
    let text = xml::text(bytes);
    let root = xml::parse(&text, "<bytes>", &mut w).map(|n| n.to_element());
    (root, w.into_vec())
}
