//! GeoParquet 1.1 and RFC 7946 GeoJSON writers (and readers) for Arrow record batches.
//!
//! - [`GeoParquetWriter`]: streaming GeoParquet 1.1 (geoparquet 0.9 for the `geo` metadata; flat columns
//!   and uniform nested columns encoded by furrow, other nested ones by the upstream Parquet writer, see
//!   `docs/GEOPARQUET.md`): WKB geometry (or native GeoArrow points), a `bbox` covering column, OGC:CRS84 as
//!   PROJJSON written verbatim ([`CRS84_PROJJSON`]), `geometry_types`, zstd, row groups of 64k rows.
//!   Point batches carry flat `x`/`y` Float64 columns (longitude/latitude); the writer builds the
//!   geometry from them without copying.
//! - [`swath_polygons`]: each point's swath rectangle (width × distance along the heading), for the
//!   polygons file; polygon files declare `"orientation": "counterclockwise"`.
//! - [`GeoJsonWriter`]: a streaming `FeatureCollection` of points.
//! - [`read_geoparquet`] and [`read_geojson`] read both formats back, for round trips.
//!
//! ```no_run
//! use std::sync::Arc;
//! use arrow_array::{Float64Array, RecordBatch};
//! use arrow_schema::{DataType, Field, Schema};
//! use furrow_geoparquet::{GeoParquetOptions, write_geoparquet};
//!
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("x", DataType::Float64, false),
//!     Field::new("y", DataType::Float64, false),
//! ]));
//! let batch = RecordBatch::try_new(schema.clone(), vec![
//!     Arc::new(Float64Array::from(vec![-93.5, -93.4])),
//!     Arc::new(Float64Array::from(vec![41.6, 41.7])),
//! ])?;
//! let stats = write_geoparquet("points.parquet", schema, [batch], &GeoParquetOptions::default())?;
//! assert_eq!(stats.rows, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod chunked;
mod crs;
mod error;
mod geojson;
mod parquet_io;
mod swath;

pub use crate::crs::{CRS84_PROJJSON, crs84};
pub use crate::error::{Error, Result};
pub use crate::geojson::{GeoJsonWriter, read_geojson, write_geojson};
pub use crate::parquet_io::{
    BBOX_COLUMN, GEOMETRY_COLUMN, GeoParquetBatches, GeoParquetFile, GeoParquetOptions,
    GeoParquetWriter, GeometryEncoding, WriteStats, point_type, polygon_type, read_geoparquet,
    wkb_point, write_geoparquet,
};
pub use crate::swath::{swath_polygons, swath_rectangle, swath_schema};

#[cfg(test)]
mod tests;
