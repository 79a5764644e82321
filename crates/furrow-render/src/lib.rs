//! Per-property raster images of machine data, as Leaf serves them (`shared/reference/leaf-images.md`).
//!
//! Pure rendering: plain Rust in, bytes and serialisable legends out; no IO, no async, no Arrow.
//!
//! - [`Points`] in WGS 84, each drawn as Leaf's square footprint of its equipment width or as a swath
//!   polygon the caller built; one [`Property`] (name, unit, one `f64` per point, NaN = no value).
//! - [`render_png`]: an RGBA PNG in EPSG:3857 at 0.00001° cells (at most 4096 a side), each cell the mean
//!   of the points covering its centre, coloured by Leaf's ramp ([`Colouring::Ramp`], file images V1) or by
//!   7 quantile classes ([`Colouring::Classes`], operation images V2), with the [`Legend`], the WGS 84
//!   [`Extent`] and the GDAL `.aux.xml` side file.
//! - [`render_geotiff`]: the raw cell means as a Float32 GeoTIFF in EPSG:4326.
//! - [`imageable_properties`]: which properties get images.
//!
//! ```
//! use furrow_render::{Legend, Points, Property, RenderOptions, render_png};
//!
//! let mut points = Points::new();
//! let mut yield_t_ha = Vec::new();
//! for i in 0..100 {
//!     // a 12 m wide harvester pass heading east, a point every 2 m
//!     points.push_square(-93.49 + f64::from(i) * 0.000_024, 41.77, Some(12.0));
//!     yield_t_ha.push(8.0 + f64::from(i % 10));
//! }
//! let property = Property { name: "wetMassPerArea", unit: "t/ha", values: &yield_t_ha };
//! let image = render_png(&points, &property, &RenderOptions::operation_v2())?;
//! assert!(image.png.starts_with(b"\x89PNG"));
//! let Legend::Classes(legend) = &image.legend else { unreachable!() };
//! assert_eq!(legend.ranges.len(), 7);
//! assert_eq!(legend.ranges[0].color_code, "#C80000");
//! assert!(image.aux_xml.contains("EPSG\",\"3857") || image.aux_xml.contains("3857"));
//! # Ok::<(), furrow_render::Error>(())
//! ```

#![warn(missing_docs)]

mod encode;
mod error;
mod geotiff;
mod grid;
mod legend;
mod points;
mod properties;
mod ramp;
mod raster;
mod render;

pub use crate::error::{Error, Result};
pub use crate::geotiff::GEOTIFF_NODATA;
pub use crate::grid::{Extent, Grid, MERCATOR_MAX_LAT, Projection};
pub use crate::legend::{ClassLegend, ClassMethod, Legend, LegendRange, RampLegend};
pub use crate::points::{DEFAULT_SIDE_M, Points};
pub use crate::properties::{IMAGEABLE_PROPERTIES, imageable_properties, is_imageable};
pub use crate::ramp::{Ramp, RampStop, hex_colour, parse_hex_colour};
pub use crate::render::{
    Colouring, DEFAULT_CELL_DEG, DEFAULT_MAX_SIDE, GeoTiffImage, LEAF_CLASSES, MAX_CLASSES,
    MAX_SIDE_LIMIT, PngImage, Property, RenderOptions, render_geotiff, render_png,
};
