//! Footprints to cell values: each cell gets the mean of the points whose footprint covers its centre
//! (leaf-images.md §4.1).

use crate::grid::{EARTH_RADIUS_M, Grid, M_PER_DEG, Projection};
use crate::points::{Points, Shape};

/// Mean value per cell, row-major from the north-west corner; NaN where no footprint reached.
///
/// Points whose value is not finite paint nothing. A footprint that covers no cell centre (a swath thinner
/// than a cell, or a degenerate one) paints the cell its point lies in, so no point with a value vanishes.
/// Positions must have been validated against the grid's projection.
pub(crate) fn cell_means(points: &Points, values: &[f64], grid: &Grid) -> Vec<f64> {
    let (w, h) = (grid.width as usize, grid.height as usize);
    let mut sum = vec![0.0f64; w * h];
    let mut count = vec![0u32; w * h];
    let mut scratch = Scratch::default();
    let map = Mapper::new(grid);
    for (i, &v) in values.iter().enumerate() {
        if !v.is_finite() {
            continue;
        }
        let (lon, lat) = (points.lon[i], points.lat[i]);
        let mut add = |idx: usize| {
            sum[idx] += v;
            count[idx] += 1;
        };
        let painted = match points.shape[i] {
            Shape::Square(side) => square(grid, &map, lon, lat, side, &mut add),
            Shape::Polygon { start, end } => {
                polygon(grid, &map, points.rings(start, end), &mut scratch, &mut add)
            }
        };
        if !painted {
            let (px, py) = map.pixel(lon, lat);
            let col = (px.floor().max(0.0) as usize).min(w - 1);
            let row = (py.floor().max(0.0) as usize).min(h - 1);
            add(row * w + col);
        }
    }
    let mut means = sum;
    for (m, &c) in means.iter_mut().zip(&count) {
        *m = if c == 0 { f64::NAN } else { *m / f64::from(c) };
    }
    means
}

/// Longitude/latitude to fractional column/row, as `Grid::pixel_of` (tests only) but without the two
/// transcendental calls per vertex that Web Mercator's y costs: within a grid's latitude span the
/// projection is replaced by its Taylor series around the middle latitude, when that is exact to a
/// millionth of a cell over the span (always, for a field; a continent falls back to the formula).
pub(crate) struct Mapper {
    x0: f64,
    y0: f64,
    inv_cell: f64,
    units_per_lon: f64,
    y: YMap,
}

enum YMap {
    /// Projected y = latitude (EPSG:4326).
    Linear,
    /// `y(lat_c + d) = y_c + Σ c[k]·d^(k+1)`, `d` in radians.
    Series { lat_c: f64, y_c: f64, c: [f64; 5] },
    /// The formula.
    Exact,
}

impl Mapper {
    pub(crate) fn new(grid: &Grid) -> Self {
        let units_per_lon = match grid.projection {
            Projection::WebMercator => M_PER_DEG,
            Projection::Geographic => 1.0,
        };
        let mut m = Mapper {
            x0: grid.x0,
            y0: grid.y0,
            inv_cell: 1.0 / grid.cell,
            units_per_lon,
            y: YMap::Linear,
        };
        if grid.projection == Projection::WebMercator {
            let e = grid.extent();
            let lat_c = (e.ymin + e.ymax) / 2.0;
            let (s, t) = (1.0 / lat_c.to_radians().cos(), lat_c.to_radians().tan());
            let t2 = t * t;
            // derivatives of y = R·ln(tan(π/4 + φ/2)), divided by k!
            let c = [
                s,
                s * t / 2.0,
                s * (1.0 + 2.0 * t2) / 6.0,
                s * t * (5.0 + 6.0 * t2) / 24.0,
                s * (5.0 + 28.0 * t2 + 24.0 * t2 * t2) / 120.0,
            ]
            .map(|k| k * EARTH_RADIUS_M);
            m.y = YMap::Series {
                lat_c,
                y_c: grid.projection.y(lat_c),
                c,
            };
            let tolerance = 1e-6 * grid.cell;
            let exact = (0..=64).all(|i| {
                let lat = e.ymin + (e.ymax - e.ymin) * f64::from(i) / 64.0;
                (m.y(lat) - grid.projection.y(lat)).abs() <= tolerance
            });
            if !exact {
                m.y = YMap::Exact;
            }
        }
        m
    }

    #[inline]
    fn y(&self, lat: f64) -> f64 {
        match self.y {
            YMap::Linear => lat,
            YMap::Series { lat_c, y_c, c } => {
                let d = (lat - lat_c).to_radians();
                y_c + d * (c[0] + d * (c[1] + d * (c[2] + d * (c[3] + d * c[4]))))
            }
            YMap::Exact => Projection::WebMercator.y(lat),
        }
    }

    /// Fractional column and row (cell centres at `.5`).
    #[inline]
    pub(crate) fn pixel(&self, lon: f64, lat: f64) -> (f64, f64) {
        (
            (lon * self.units_per_lon - self.x0) * self.inv_cell,
            (self.y0 - self.y(lat)) * self.inv_cell,
        )
    }
}

/// Cells whose centres `i + 0.5` satisfy `from ≤ centre < to`, clipped to `0..n`.
#[inline]
fn centres(from: f64, to: f64, n: usize) -> std::ops::Range<usize> {
    let a = ceil_clamped(from - 0.5, n);
    let b = ceil_clamped(to - 0.5, n);
    a..b.max(a)
}

/// `ceil(x)` clamped to `0..=n` (NaN → 0); `f64::ceil` is a libm call without SSE 4.1.
#[inline]
fn ceil_clamped(x: f64, n: usize) -> usize {
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= n as f64 {
        n
    } else {
        let t = x as usize;
        if (t as f64) < x { t + 1 } else { t }
    }
}

/// An axis-aligned square of `side` ground metres centred on the point. Whether it covered a cell centre.
fn square(
    grid: &Grid,
    map: &Mapper,
    lon: f64,
    lat: f64,
    side: f64,
    add: &mut impl FnMut(usize),
) -> bool {
    let (px, py) = map.pixel(lon, lat);
    let half_m = side / 2.0;
    // Ground metres per projected unit shrink with cos(latitude) in both projections' x, and in
    // Mercator's y; Geographic y is plain degrees.
    let cos = lat.to_radians().cos().max(1e-12);
    let (hx, hy) = match grid.projection {
        Projection::WebMercator => (half_m / cos / grid.cell, half_m / cos / grid.cell),
        Projection::Geographic => (
            half_m / (M_PER_DEG * cos) / grid.cell,
            half_m / M_PER_DEG / grid.cell,
        ),
    };
    let w = grid.width as usize;
    let cols = centres(px - hx, px + hx, w);
    let rows = centres(py - hy, py + hy, grid.height as usize);
    let painted = !cols.is_empty() && !rows.is_empty();
    for row in rows {
        for col in cols.clone() {
            add(row * w + col);
        }
    }
    painted
}

#[derive(Default)]
struct Scratch {
    /// Projected vertices of every ring, with ring ends.
    xy: Vec<(f64, f64)>,
    ends: Vec<usize>,
    crossings: Vec<f64>,
}

/// A polygon filled by the even-odd rule over cell centres (no anti-aliasing: a cell is in or out).
/// Whether it covered a cell centre.
fn polygon<'a>(
    grid: &Grid,
    map: &Mapper,
    rings: impl Iterator<Item = &'a [[f64; 2]]>,
    s: &mut Scratch,
    add: &mut impl FnMut(usize),
) -> bool {
    s.xy.clear();
    s.ends.clear();
    let (mut ymin, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY);
    for ring in rings {
        for &[lon, lat] in ring {
            let p = map.pixel(lon, lat);
            ymin = ymin.min(p.1);
            ymax = ymax.max(p.1);
            s.xy.push(p);
        }
        s.ends.push(s.xy.len());
    }
    let w = grid.width as usize;
    let mut painted = false;
    for row in centres(ymin, ymax, grid.height as usize) {
        let yc = row as f64 + 0.5;
        s.crossings.clear();
        let mut from = 0;
        for &end in &s.ends {
            let ring = &s.xy[from..end];
            from = end;
            let Some(&last) = ring.last() else { continue };
            let mut a = last;
            for &b in ring {
                // Half-open in y, so a centre on a shared vertex or edge is counted once.
                if (a.1 <= yc) != (b.1 <= yc) {
                    s.crossings
                        .push(a.0 + (yc - a.1) * (b.0 - a.0) / (b.1 - a.1));
                }
                a = b;
            }
        }
        if s.crossings.len() > 2 {
            s.crossings.sort_unstable_by(f64::total_cmp);
        } else if s.crossings.len() == 2 && s.crossings[0] > s.crossings[1] {
            s.crossings.swap(0, 1);
        }
        for pair in s.crossings.chunks_exact(2) {
            let base = row * w;
            for col in centres(pair[0], pair[1], w) {
                add(base + col);
                painted = true;
            }
        }
    }
    painted
}

#[cfg(test)]
mod tests;
