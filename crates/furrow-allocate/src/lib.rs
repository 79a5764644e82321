//! The spatial allocation engine: which field each machine-data point fell in.
//!
//! [`FieldIndex::build`] validates, repairs and orients field boundaries (Leaf's validity values and
//! `automaticFixBoundary`), prepares each one with a y-stripe edge index, and grids their bounding boxes.
//! [`allocate`] then streams a RecordBatch of points (flat x/y columns, native GeoArrow points or WKB) through it,
//! testing the previous point's field first, since machine data is time-ordered, and splitting large batches over
//! rayon.
//!
//! ```
//! use furrow_allocate::{allocate_xy, AllocateOptions, Field, FieldIndex, OUTSIDE};
//! use geo_types::{polygon, MultiPolygon};
//!
//! let square = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
//! let index = FieldIndex::build([Field { id: "north".into(), boundary: MultiPolygon(vec![square]) }]).unwrap();
//! let a = allocate_xy(&index, &[0.5, 2.0], &[0.5, 2.0], AllocateOptions::default()).unwrap();
//! assert_eq!(a.field, [0, OUTSIDE]);
//! assert_eq!(index.id(0), Some("north"));
//! ```
//!
//! Boundary rule: containment is the crossing-number (even-odd) rule with half-open edges, applied the same
//! everywhere: a point on an edge shared by two adjacent fields belongs to exactly one of them. When fields
//! overlap, the lowest field index wins and the point is counted in [`Allocation::ties`].
#![warn(missing_docs)]

mod aggregate;
mod allocate;
mod boundary;
mod coverage;
mod error;
mod geojson;
mod index;
mod operations;
mod prepared;
mod swath;
pub mod synthetic;

pub use aggregate::{Aggregate, FieldAggregate, Stats, aggregate};
pub use allocate::{
    AllocateOptions, Allocation, OUTSIDE, allocate, allocate_with, allocate_xy, point_columns,
};
pub use boundary::{
    RepairReport, ValidationReport, Validity, from_coordinates, orient, repair, validate,
};
pub use coverage::{CoverageOptions, FieldCoverage, Swath, batch_coverage, field_coverage};
pub use error::{Error, Result};
pub use geojson::{GeoJsonField, fields_from_geojson, points_from_geojson};
pub use index::{BoundaryStatus, BuildOptions, Field, FieldIndex};
pub use operations::{FieldTouch, FileFacts, GroupingConfig, Operation, OperationGrouper};
pub use swath::{
    LocalFrame, StepGeometry, cell_centre_runs, heading_vector, metres_per_degree,
    metres_per_degree_slope, ring_area_m2, swath_corners, swath_lonlat, swath_width,
};
