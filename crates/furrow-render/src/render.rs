//! The entry points: points and one property in, an image and its legend and side files out.

use crate::encode::{aux_xml, png_rgba};
use crate::error::{Error, Result};
use crate::geotiff;
use crate::grid::{Extent, Grid, LonLatBox, M_PER_DEG, Projection};
use crate::legend::{ClassMethod, Legend, RampLegend, breaks, class_legend};
use crate::points::{Points, Shape};
use crate::ramp::Ramp;
use crate::raster::cell_means;

/// Longest image side by default (leaf-images.md §4.2: at most 4096 cells; the cell grows to fit).
pub const DEFAULT_MAX_SIDE: u32 = 4096;
/// The largest `max_side` accepted: 16384² cells are about 3 GiB of working memory.
pub const MAX_SIDE_LIMIT: u32 = 16_384;
/// Nominal cell size in degrees (Leaf's `geoimagesResolution`).
pub const DEFAULT_CELL_DEG: f64 = 0.00001;
/// Classes of Leaf's V2 legend.
pub const LEAF_CLASSES: usize = 7;
/// The most classes accepted.
pub const MAX_CLASSES: usize = 256;

/// One property to draw: its name, its unit (in the user's unit system, written into the legend) and one
/// value per point, in the order of [`Points`]. NaN or infinite = no value (`opt.unwrap_or(f64::NAN)`).
#[derive(Debug, Clone, Copy)]
pub struct Property<'a> {
    /// The standard property name, e.g. `wetMassPerArea`.
    pub name: &'a str,
    /// Its unit label, e.g. `t/ha` or `bu/ac`.
    pub unit: &'a str,
    /// One value per point.
    pub values: &'a [f64],
}

/// How cells are coloured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Colouring {
    /// Linear interpolation along the ramp over the image's cell min..max (file images V1, §3.1).
    Ramp,
    /// Flat colours per class (operation images V2, §3.2: quantile, 7 classes).
    Classes {
        /// How breaks are chosen.
        method: ClassMethod,
        /// Number of classes, 1..=256 (fewer come out when breaks coincide).
        count: usize,
    },
}

/// Rendering options. [`Default`] is Leaf's operation image V2.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// Longest side in cells; the cell grows beyond [`RenderOptions::cell_size_deg`] to fit. 1..=16384.
    pub max_side: u32,
    /// Nominal cell size in degrees (in EPSG:3857 units at the equator for PNGs: 0.00001° = 1.113 m).
    pub cell_size_deg: f64,
    /// Ramp or classes.
    pub colouring: Colouring,
    /// The colours.
    pub ramp: Ramp,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self::operation_v2()
    }
}

impl RenderOptions {
    /// Operation image V2: 7 quantile classes in the ramp's stop colours.
    pub fn operation_v2() -> Self {
        Self {
            max_side: DEFAULT_MAX_SIDE,
            cell_size_deg: DEFAULT_CELL_DEG,
            colouring: Colouring::Classes {
                method: ClassMethod::Quantile,
                count: LEAF_CLASSES,
            },
            ramp: Ramp::leaf(),
        }
    }

    /// File image V1: the continuous ramp.
    pub fn file_v1() -> Self {
        Self {
            colouring: Colouring::Ramp,
            ..Self::operation_v2()
        }
    }

    /// The same options with another longest side.
    pub fn with_max_side(mut self, max_side: u32) -> Self {
        self.max_side = max_side;
        self
    }

    fn validate(&self) -> Result<()> {
        if !(1..=MAX_SIDE_LIMIT).contains(&self.max_side) {
            return Err(Error::InvalidOption {
                option: "max_side",
                reason: format!("must be 1..={MAX_SIDE_LIMIT}, not {}", self.max_side),
            });
        }
        if !(self.cell_size_deg.is_finite() && self.cell_size_deg > 0.0) {
            return Err(Error::InvalidOption {
                option: "cell_size_deg",
                reason: format!("must be a positive number, not {}", self.cell_size_deg),
            });
        }
        if let Colouring::Classes { count, .. } = self.colouring {
            if !(1..=MAX_CLASSES).contains(&count) {
                return Err(Error::InvalidOption {
                    option: "colouring.count",
                    reason: format!("must be 1..={MAX_CLASSES}, not {count}"),
                });
            }
        }
        Ok(())
    }
}

/// A rendered PNG (EPSG:3857, RGBA, north up, transparent where there is no data) and what goes with it.
#[derive(Debug, Clone, PartialEq)]
pub struct PngImage {
    /// The property drawn.
    pub property: String,
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// The PNG file.
    pub png: Vec<u8>,
    /// What the colours mean.
    pub legend: Legend,
    /// The outer edges in WGS 84 (the V2 `extent`).
    pub extent: Extent,
    /// The grid (EPSG:3857 origin and cell size).
    pub grid: Grid,
    /// The GDAL side file, served at the PNG's URL + `.aux.xml`.
    pub aux_xml: String,
}

/// A rendered GeoTIFF (EPSG:4326, one Float32 band of cell means, nodata −9999).
#[derive(Debug, Clone, PartialEq)]
pub struct GeoTiffImage {
    /// The property drawn.
    pub property: String,
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// The TIFF file.
    pub tiff: Vec<u8>,
    /// The outer edges in WGS 84.
    pub extent: Extent,
    /// The grid (EPSG:4326 origin and cell size in degrees).
    pub grid: Grid,
}

/// Renders one property as a PNG with its legend, extent and `.aux.xml`.
///
/// Errors: [`Error::LengthMismatch`], [`Error::NoValues`] (no finite value: Leaf makes no image),
/// [`Error::InvalidPosition`] / [`Error::InvalidSwath`] for a point with a value whose position or swath is
/// not a WGS 84 coordinate inside Web Mercator's ±85.05°, [`Error::InvalidOption`].
pub fn render_png(
    points: &Points,
    property: &Property<'_>,
    options: &RenderOptions,
) -> Result<PngImage> {
    let (grid, means, mut values) = rasterise(points, property, options, Projection::WebMercator)?;
    let mut rgba = vec![0u8; means.len() * 4];
    let no_value = options.ramp.no_value();
    let legend = match options.colouring {
        Colouring::Classes { method, count } => {
            let bounds = breaks(&mut values, method, count);
            let legend = class_legend(&bounds, &options.ramp, count, property.unit);
            let colours = options.ramp.class_colours(count);
            paint(&means, &mut rgba, no_value, |m| {
                legend.class_of(m).map(|c| colours[c])
            });
            Legend::Classes(legend)
        }
        Colouring::Ramp => {
            let (min, max) = means
                .iter()
                .filter(|m| !m.is_nan())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &m| {
                    (lo.min(m), hi.max(m))
                });
            let ramp = &options.ramp;
            let span = max - min;
            paint(&means, &mut rgba, no_value, |m| {
                Some(if span > 0.0 {
                    ramp.at(100.0 * (m - min) / span)
                } else {
                    ramp.at(55.0)
                })
            });
            Legend::Ramp(RampLegend {
                ramp: ramp.clone(),
                min,
                max,
                unit: property.unit.to_owned(),
            })
        }
    };
    drop(means);
    let png = png_rgba(&rgba, grid.width, grid.height)?;
    Ok(PngImage {
        property: property.name.to_owned(),
        width: grid.width,
        height: grid.height,
        png,
        legend,
        extent: grid.extent(),
        aux_xml: aux_xml(&grid, property.name),
        grid,
    })
}

/// Renders one property's raw cell means as a GeoTIFF. Only `max_side` and `cell_size_deg` of the options
/// apply. Errors as [`render_png`], with latitudes allowed up to ±90°.
pub fn render_geotiff(
    points: &Points,
    property: &Property<'_>,
    options: &RenderOptions,
) -> Result<GeoTiffImage> {
    let (grid, means, _) = rasterise(points, property, options, Projection::Geographic)?;
    let tiff = geotiff::encode(&grid, &means, property.name)?;
    Ok(GeoTiffImage {
        property: property.name.to_owned(),
        width: grid.width,
        height: grid.height,
        tiff,
        extent: grid.extent(),
        grid,
    })
}

fn paint(
    means: &[f64],
    rgba: &mut [u8],
    no_value: [u8; 4],
    colour: impl Fn(f64) -> Option<[u8; 3]>,
) {
    for (m, px) in means.iter().zip(rgba.chunks_exact_mut(4)) {
        let c = if m.is_nan() { None } else { colour(*m) };
        match c {
            Some([r, g, b]) => px.copy_from_slice(&[r, g, b, 255]),
            None => px.copy_from_slice(&no_value),
        }
    }
}

/// Validates, fits the grid and computes the cell means. Also returns the finite values of the points.
fn rasterise(
    points: &Points,
    property: &Property<'_>,
    options: &RenderOptions,
    projection: Projection,
) -> Result<(Grid, Vec<f64>, Vec<f64>)> {
    options.validate()?;
    if property.values.len() != points.len() {
        return Err(Error::LengthMismatch {
            property: property.name.to_owned(),
            points: points.len(),
            values: property.values.len(),
        });
    }
    let mut bounds = LonLatBox::EMPTY;
    let mut values = Vec::new();
    for (i, &v) in property.values.iter().enumerate() {
        if !v.is_finite() {
            continue;
        }
        values.push(v);
        footprint_bounds(points, i, projection, &mut bounds)?;
    }
    if bounds.is_empty() {
        return Err(Error::NoValues {
            property: property.name.to_owned(),
        });
    }
    let grid = Grid::fit(bounds, projection, options.cell_size_deg, options.max_side)?;
    let means = cell_means(points, property.values, &grid);
    Ok((grid, means, values))
}

/// Adds point `i`'s footprint, padded as leaf-images.md §4.1 says (the points' box grown by one footprint:
/// a square's side each way; a swath's bounding box grown by half its larger side).
fn footprint_bounds(
    points: &Points,
    i: usize,
    projection: Projection,
    b: &mut LonLatBox,
) -> Result<()> {
    let (lon, lat) = (points.lon[i], points.lat[i]);
    if !projection.valid(lon, lat) {
        return Err(Error::InvalidPosition { index: i, lon, lat });
    }
    let cos = lat.to_radians().cos().max(1e-12);
    match points.shape[i] {
        Shape::Square(side) => {
            let dlat = side / M_PER_DEG;
            let dlon = dlat / cos;
            b.add(lon - dlon, lon + dlon, lat - dlat, lat + dlat);
        }
        Shape::Polygon { start, end } => {
            let mut p = LonLatBox::EMPTY;
            p.add(lon, lon, lat, lat);
            for ring in points.rings(start, end) {
                for &[x, y] in ring {
                    if !projection.valid(x, y) {
                        return Err(Error::InvalidSwath {
                            index: i,
                            lon: x,
                            lat: y,
                        });
                    }
                    p.add(x, x, y, y);
                }
            }
            let size_m = ((p.east - p.west) * cos).max(p.north - p.south) * M_PER_DEG;
            let dlat = size_m / 2.0 / M_PER_DEG;
            let dlon = dlat / cos;
            b.add(p.west - dlon, p.east + dlon, p.south - dlat, p.north + dlat);
        }
    }
    Ok(())
}
