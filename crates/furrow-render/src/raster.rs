//! Footprints to cell values: each cell gets the mean of the points whose footprint covers its centre
//! (leaf-images.md §4.1).

use crate::grid::{Grid, M_PER_DEG, Projection};
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
            Shape::Square(side) => square(grid, lon, lat, side, &mut add),
            Shape::Polygon { start, end } => {
                polygon(grid, points.rings(start, end), &mut scratch, &mut add)
            }
        };
        if !painted {
            let (px, py) = grid.pixel_of(lon, lat);
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

/// Cells whose centres `i + 0.5` satisfy `from ≤ centre < to`, clipped to `0..n`.
#[inline]
fn centres(from: f64, to: f64, n: usize) -> std::ops::Range<usize> {
    let n = n as f64;
    let a = (from - 0.5).ceil().clamp(0.0, n) as usize;
    let b = (to - 0.5).ceil().clamp(0.0, n) as usize;
    a..b.max(a)
}

/// An axis-aligned square of `side` ground metres centred on the point. Whether it covered a cell centre.
fn square(grid: &Grid, lon: f64, lat: f64, side: f64, add: &mut impl FnMut(usize)) -> bool {
    let (px, py) = grid.pixel_of(lon, lat);
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
    rings: impl Iterator<Item = &'a [[f64; 2]]>,
    s: &mut Scratch,
    add: &mut impl FnMut(usize),
) -> bool {
    s.xy.clear();
    s.ends.clear();
    let (mut ymin, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY);
    for ring in rings {
        for &[lon, lat] in ring {
            let p = grid.pixel_of(lon, lat);
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
