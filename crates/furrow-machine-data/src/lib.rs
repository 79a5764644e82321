//! furrow's standard machine-data points: the Arrow schema, ISOXML → standard conversion, units,
//! cleanup rules and summaries.
//!
//! - [`standard_schema`]: Leaf's standardGeojson properties per [`OperationType`] as an Arrow schema,
//!   with flat `x`/`y` Float64 columns (longitude/latitude), `timestamp` (UTC when known) and `localTime`
//!   (as logged), each numeric field carrying its `unit` ([`UnitSystem`] METRIC or IMPERIAL).
//! - [`plan`] groups a data set's time logs into one [`FilePlan`] per task and operation type;
//!   [`StandardStream`] streams its points as record batches with bounded memory and ends with the
//!   counts, the summary (Leaf's summary feature, covered area as a MultiPolygon) and the units document.
//! - The DDI → property table ([`DDI_MAPPINGS`]) is the one reviewed place where logged values get their
//!   meaning; see `docs/MACHINE-DATA.md`.
//! - [`CleanupRules`] are Leaf's `cleanupRules` (defaults included), plus position checks; the filtered
//!   view's counts follow [`FilterOptions`].
//!
//! ```no_run
//! use furrow_isoxml::TaskData;
//! use furrow_machine_data::{ConvertOptions, convert_task_data};
//!
//! let td = TaskData::open("TASKDATA.zip")?;
//! for file in convert_task_data(&td, &ConvertOptions::default())? {
//!     println!("{} {}: {} points", file.plan.task_id, file.plan.operation_type, file.num_rows());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod cleanup;
mod convert;
mod coverage;
mod error;
mod mapping;
mod output;
mod schema;
mod summary;
mod tabular;
mod totals;
mod units;

pub use crate::cleanup::{
    CleanupRules, FilterOptions, Operator, Plausibility, PositionChecks, Rule,
};
pub use crate::convert::{
    ConvertOptions, FileOutcome, FilePlan, StandardFile, StandardStream, convert_task_data,
    crop_constants, plan,
};
pub use crate::coverage::Coverage;
pub use crate::error::{Error, Result};
pub use crate::mapping::{
    DDI_MAPPINGS, DdiMapping, Target, class_name, class_operation, ddi_evidence, ddi_mapping,
    device_class,
};
pub use crate::output::{OutputFormat, WriteOptions, Written, write_plans};
pub use crate::schema::{
    Column, OperationType, PROPERTY_COUNT, Property, RateKind, Units, columns, field,
    standard_schema, units_document,
};
pub use crate::summary::{Counts, Machine, SummaryBuilder};
pub use crate::tabular::{TabularPlan, TabularStream, write_shapefile};
pub use crate::units::{Quantity, UnitSystem};

#[cfg(test)]
mod tests;
