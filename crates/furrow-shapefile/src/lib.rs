//! Machine-data shapefiles: yield, planting and application exports from John Deere Operations
//! Center and Gen4 displays, Ag Leader SMS and others, read as columns.
//!
//! - [`ShapefileSet::discover`] finds every `.shp` under a folder with its sidecars (`.shx`,
//!   `.dbf`, `.prj`, `.cpg`, `-Deere-Metadata.json`), matching stems ignoring case.
//! - [`ShapefileSet::open`] gives a [`Reader`]: the geometry kind, the [`Crs`] from the `.prj`,
//!   the record count, and the [`Profile`]: which vendor columns map to which standard property
//!   (Leaf names, METRIC units, factor from the source unit), which stay extras and why, the
//!   operation type and the time column.
//! - [`Reader::next_batch`] yields [`Batch`]es of at most 64 Ki rows: WGS 84 lon/lat (the
//!   centroid for swath polygons, whose rings are kept in [`Polygons`]), times, and one column
//!   per mapped property or extra. Memory is bounded by the batch size, not the file size.
//!
//! Point, PointZ, PointM, MultiPoint and Polygon (Z/M) shapes are read; Z and M values are not
//! used. Any `.prj` in WKT 1 naming a geographic CRS, transverse Mercator (UTM, Gauss-Krüger,
//! State Plane), Lambert conformal conic, Albers, Mercator or Web Mercator, in metres or feet, on any datum, is
//! reprojected with proj4rs. The vendor profile table is [`PROFILE_TABLE`]; a column is mapped
//! only when its unit is stated (by its name, the vendor's convention, or the Deere sidecar).
//!
//! Nothing here panics on input: faults that leave data usable are [`Warning`]s (and counts in
//! [`ReadStats`]), the rest typed [`Error`]s naming the file, record and field.
//!
//! ```no_run
//! use furrow_shapefile::ShapefileSet;
//!
//! for set in ShapefileSet::discover("unzipped/".as_ref())? {
//!     let mut reader = set.open()?;
//!     let profile = reader.profile();
//!     println!("{}: {} records, {}", set.name(), reader.record_count(), profile.operation_type.as_str());
//!     while let Some(batch) = reader.next_batch()? {
//!         if let Some(yield_m3_ha) = batch.numbers("dryVolumePerArea") {
//!             println!("{} rows, first {:?} at {}, {}", batch.len(), yield_m3_ha.first(), batch.lon[0], batch.lat[0]);
//!         }
//!     }
//!     for w in reader.warnings() {
//!         eprintln!("{w}");
//!     }
//! }
//! # Ok::<(), furrow_shapefile::Error>(())
//! ```

#![warn(missing_docs)]

mod crs;
mod dbf;
mod error;
mod profile;
mod reader;
mod set;
mod shp;
mod text;

#[cfg(test)]
mod tests;

pub use crate::crs::Crs;
pub use crate::dbf::DbfField;
pub use crate::error::{Error, Result, Warning, WarningKind};
pub use crate::profile::{
    ColumnPlan, JD_CROP_CODES, Mapping, OperationType, PROFILE_TABLE, PROPERTIES, Profile,
    ProfileRow, PropertyDef, Quantity, Role, SourceUnit, Target, TimeKind, UNITS, UnitDef, Vendor,
    unit,
};
pub use crate::reader::{
    Batch, Column, ColumnData, DEFAULT_BATCH_SIZE, ReadOptions, ReadStats, Reader, TextColumn,
};
pub use crate::set::ShapefileSet;
pub use crate::shp::{GeometryKind, Polygons};
