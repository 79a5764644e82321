//! Raster geometry: projections, grid fitting, georeferencing (leaf-images.md §4.2–§4.3).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Radius of the Web Mercator sphere (EPSG:3857), also used to turn ground metres into degrees.
pub(crate) const EARTH_RADIUS_M: f64 = 6_378_137.0;
/// Metres per degree on that sphere.
pub(crate) const M_PER_DEG: f64 = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
/// Web Mercator's latitude limit (the square world).
pub const MERCATOR_MAX_LAT: f64 = 85.051_128_779_806_59;

/// The coordinate reference system of an image's grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Projection {
    /// EPSG:3857, WGS 84 / Pseudo-Mercator: PNG images.
    WebMercator,
    /// EPSG:4326, WGS 84 longitude/latitude: GeoTIFFs.
    Geographic,
}

impl Projection {
    /// The EPSG code.
    pub fn epsg(self) -> u16 {
        match self {
            Projection::WebMercator => 3857,
            Projection::Geographic => 4326,
        }
    }

    fn max_lat(self) -> f64 {
        match self {
            Projection::WebMercator => MERCATOR_MAX_LAT,
            Projection::Geographic => 90.0,
        }
    }

    /// Whether `(lon, lat)` lies in the projection's domain.
    pub(crate) fn valid(self, lon: f64, lat: f64) -> bool {
        lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= self.max_lat()
    }

    /// Projected x of a longitude (linear in both projections).
    #[inline]
    pub(crate) fn x(self, lon: f64) -> f64 {
        match self {
            Projection::WebMercator => lon * M_PER_DEG,
            Projection::Geographic => lon,
        }
    }

    /// Projected y of a latitude.
    #[inline]
    pub(crate) fn y(self, lat: f64) -> f64 {
        match self {
            Projection::WebMercator => {
                EARTH_RADIUS_M
                    * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
                        .tan()
                        .ln()
            }
            Projection::Geographic => lat,
        }
    }

    fn lon(self, x: f64) -> f64 {
        match self {
            Projection::WebMercator => x / M_PER_DEG,
            Projection::Geographic => x,
        }
    }

    fn lat(self, y: f64) -> f64 {
        match self {
            Projection::WebMercator => {
                (2.0 * (y / EARTH_RADIUS_M).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees()
            }
            Projection::Geographic => y,
        }
    }

    /// Projected units of one degree of longitude (the nominal cell size unit).
    fn units_per_deg(self) -> f64 {
        match self {
            Projection::WebMercator => M_PER_DEG,
            Projection::Geographic => 1.0,
        }
    }
}

/// Image bounds in WGS 84: the outer edges of the grid (leaf-images.md §2.3, `extent`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Extent {
    /// West longitude.
    pub xmin: f64,
    /// East longitude.
    pub xmax: f64,
    /// South latitude.
    pub ymin: f64,
    /// North latitude.
    pub ymax: f64,
}

/// A north-up grid: cell `(col, row)` spans projected x `x0 + col·cell .. + cell` and y `y0 − row·cell ..
/// − cell`; row 0 is the northern edge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// The grid's projection.
    pub projection: Projection,
    /// Projected x of the western edge.
    pub x0: f64,
    /// Projected y of the northern edge.
    pub y0: f64,
    /// Cell size in projected units (square cells).
    pub cell: f64,
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
}

/// A longitude/latitude box, grown point by point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LonLatBox {
    pub(crate) west: f64,
    pub(crate) east: f64,
    pub(crate) south: f64,
    pub(crate) north: f64,
}

impl LonLatBox {
    pub(crate) const EMPTY: Self = Self {
        west: f64::INFINITY,
        east: f64::NEG_INFINITY,
        south: f64::INFINITY,
        north: f64::NEG_INFINITY,
    };

    pub(crate) fn is_empty(&self) -> bool {
        self.west > self.east
    }

    #[inline]
    pub(crate) fn add(&mut self, west: f64, east: f64, south: f64, north: f64) {
        self.west = self.west.min(west);
        self.east = self.east.max(east);
        self.south = self.south.min(south);
        self.north = self.north.max(north);
    }
}

impl Grid {
    /// The grid over `bounds` with nominal cells of `cell_deg` degrees (in projected units at the equator),
    /// grown until the longest side has at most `max_side` cells. At least one cell each way.
    pub(crate) fn fit(
        bounds: LonLatBox,
        projection: Projection,
        cell_deg: f64,
        max_side: u32,
    ) -> Result<Grid> {
        let lat_max = projection.max_lat();
        let west = projection.x(bounds.west.clamp(-180.0, 180.0));
        let east = projection.x(bounds.east.clamp(-180.0, 180.0));
        let south = projection.y(bounds.south.clamp(-lat_max, lat_max));
        let north = projection.y(bounds.north.clamp(-lat_max, lat_max));
        let (w, h) = (east - west, north - south);
        if !(w >= 0.0 && h >= 0.0 && w.is_finite() && h.is_finite()) {
            return Err(Error::InvalidOption {
                option: "bounds",
                reason: format!("gave an unusable extent {w} × {h}"),
            });
        }
        let mut cell = cell_deg * projection.units_per_deg();
        let longest = w.max(h);
        if longest / cell > f64::from(max_side) {
            cell = longest / f64::from(max_side);
        }
        // The tolerance keeps a rounding error from adding a column of nothing.
        let cells = |len: f64| (((len / cell) - 1e-9).ceil() as u32).clamp(1, max_side);
        Ok(Grid {
            projection,
            x0: west,
            y0: north,
            cell,
            width: cells(w),
            height: cells(h),
        })
    }

    /// GDAL's geotransform: `[x0, cell, 0, y0, 0, −cell]` in projected units.
    pub fn geo_transform(&self) -> [f64; 6] {
        [self.x0, self.cell, 0.0, self.y0, 0.0, -self.cell]
    }

    /// The outer edges in WGS 84 longitude/latitude.
    pub fn extent(&self) -> Extent {
        let p = self.projection;
        Extent {
            xmin: p.lon(self.x0),
            xmax: p.lon(self.x0 + self.cell * f64::from(self.width)),
            ymin: p.lat(self.y0 - self.cell * f64::from(self.height)),
            ymax: p.lat(self.y0),
        }
    }

    /// Number of cells.
    pub fn cells(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// Fractional column and row of a longitude/latitude (cell centres at `.5`); the renderer uses the
    /// faster `raster::Mapper`, tests compare it with this.
    #[cfg(test)]
    pub(crate) fn pixel_of(&self, lon: f64, lat: f64) -> (f64, f64) {
        let p = self.projection;
        (
            (p.x(lon) - self.x0) / self.cell,
            (self.y0 - p.y(lat)) / self.cell,
        )
    }
}

#[cfg(test)]
mod tests;
