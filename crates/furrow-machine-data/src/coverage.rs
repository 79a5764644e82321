//! Covered area as a MultiPolygon: swaths rasterised on a local grid, with bounded memory.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use geo::{BooleanOps, MultiPolygon, Polygon, Rect, coord};

const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;
/// Above this many cells the grid is coarsened (cell size doubled), so memory stays bounded.
const MAX_CELLS: usize = 2_000_000;
/// Above this many row runs the grid is coarsened before the union, so the union stays fast.
const MAX_RUNS: usize = 40_000;

/// A fast multiplicative hasher for integer keys (cells, histogram bins).
#[derive(Default)]
pub(crate) struct CellHasher(u64);

impl Hasher for CellHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ (v >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type CellSet = HashSet<u64, BuildHasherDefault<CellHasher>>;

fn key(ix: i32, iy: i32) -> u64 {
    (u64::from(ix as u32) << 32) | u64::from(iy as u32)
}

fn unkey(k: u64) -> (i32, i32) {
    ((k >> 32) as u32 as i32, k as u32 as i32)
}

/// Accumulates swaths (a point, its effective width, heading and distance) into grid cells in a local
/// equirectangular frame around the first point; the cell size is a quarter of the first width
/// (1–25 m), doubled whenever the cell count passes two million.
#[derive(Debug, Default, Clone)]
pub struct Coverage {
    origin: Option<(f64, f64, f64)>,
    cell: f64,
    cells: CellSet,
    last: Option<(f64, f64)>,
    /// Direct-mapped cache of cells inserted lately: consecutive swaths overlap, and most of their cells
    /// are already in `cells`; checking here first skips the hash-table probe (a cache miss when large).
    recent: Vec<u64>,
}

const RECENT: usize = 4096;

impl std::fmt::Debug for CellHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CellHasher")
    }
}

impl Coverage {
    /// An empty coverage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Grid cell size in metres (0 before the first swath).
    pub fn cell_size(&self) -> f64 {
        self.cell
    }

    /// Number of covered cells.
    pub fn cell_count(&self) -> usize {
        self.cells.len()
    }

    /// Covered area in m² (cells × cell area).
    pub fn area_m2(&self) -> f64 {
        self.cells.len() as f64 * self.cell * self.cell
    }

    /// Adds the swath that ends at `(x, y)` (lon/lat), `width` m wide, `distance` m long, travelling
    /// along `heading` degrees.
    pub fn add(&mut self, x: f64, y: f64, width: f64, heading: f64, distance: f64) {
        if width.is_nan() || width <= 0.0 || !x.is_finite() || !y.is_finite() {
            return;
        }
        if self.recent.is_empty() {
            self.recent = vec![u64::MAX; RECENT];
        }
        let (x0, y0, mx) = *self
            .origin
            .get_or_insert_with(|| (x, y, M_PER_DEG * y.to_radians().cos().max(1e-6)));
        if self.cell == 0.0 {
            self.cell = (width / 4.0).clamp(1.0, 25.0);
        }
        let (px, py) = ((x - x0) * mx, (y - y0) * M_PER_DEG);
        if let Some((lx, ly)) = self.last {
            if (px - lx).hypot(py - ly) < self.cell / 2.0 {
                return;
            }
        }
        self.last = Some((px, py));
        let h = if heading.is_finite() {
            heading.to_radians()
        } else {
            0.0
        };
        let (dx, dy) = (h.sin(), h.cos());
        let (rx, ry) = (dy, -dx);
        let c = self.cell;
        let along = if distance.is_finite() && distance > 0.0 && distance < 50.0 {
            distance
        } else {
            0.0
        };
        let n_along = (along / c).ceil() as usize;
        let n_across = (width / c).ceil() as usize;
        for i in 0..=n_along {
            let a = -(i as f64 * c).min(along);
            for j in 0..=n_across {
                let b = -width / 2.0 + (j as f64 * c).min(width);
                let (qx, qy) = (px + dx * a + rx * b, py + dy * a + ry * b);
                let k = key((qx / c).floor() as i32, (qy / c).floor() as i32);
                let slot = (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize;
                // u64::MAX marks an empty slot, so that key (cell -1/-1) always goes to the set
                if k == u64::MAX || self.recent.get(slot) != Some(&k) {
                    self.cells.insert(k);
                    if let Some(r) = self.recent.get_mut(slot) {
                        *r = k;
                    }
                }
            }
        }
        while self.cells.len() > MAX_CELLS {
            self.coarsen();
        }
    }

    fn coarsen(&mut self) {
        self.cell *= 2.0;
        self.recent.fill(u64::MAX);
        self.cells = self
            .cells
            .iter()
            .map(|&k| {
                let (ix, iy) = unkey(k);
                key(ix.div_euclid(2), iy.div_euclid(2))
            })
            .collect();
    }

    /// The covered cells as a MultiPolygon in lon/lat (row runs of cells merged by a union).
    pub fn to_multipolygon(&self) -> MultiPolygon<f64> {
        let mut me = self.clone();
        let Some((x0, y0, mx)) = me.origin else {
            return MultiPolygon::new(vec![]);
        };
        loop {
            let runs = me.runs();
            if runs.len() <= MAX_RUNS || me.cells.len() < 4 {
                let c = me.cell;
                let polys: Vec<Polygon<f64>> = runs
                    .into_iter()
                    .map(|(iy, a, b)| {
                        Rect::new(
                            coord! { x: x0 + f64::from(a) * c / mx, y: y0 + f64::from(iy) * c / M_PER_DEG },
                            coord! { x: x0 + f64::from(b + 1) * c / mx, y: y0 + f64::from(iy + 1) * c / M_PER_DEG },
                        )
                        .to_polygon()
                    })
                    .collect();
                return union_all(polys);
            }
            me.coarsen();
        }
    }

    fn runs(&self) -> Vec<(i32, i32, i32)> {
        let mut cells: Vec<(i32, i32)> = self
            .cells
            .iter()
            .map(|&k| {
                let (ix, iy) = unkey(k);
                (iy, ix)
            })
            .collect();
        cells.sort_unstable();
        let mut runs: Vec<(i32, i32, i32)> = Vec::new();
        for (iy, ix) in cells {
            match runs.last_mut() {
                Some((ry, _, b)) if *ry == iy && *b + 1 == ix => *b = ix,
                _ => runs.push((iy, ix, ix)),
            }
        }
        runs
    }
}

/// Union of many polygons by pairwise merging (balanced, so each union stays small).
fn union_all(mut parts: Vec<Polygon<f64>>) -> MultiPolygon<f64> {
    if parts.is_empty() {
        return MultiPolygon::new(vec![]);
    }
    let mut level: Vec<MultiPolygon<f64>> = parts
        .drain(..)
        .map(|p| MultiPolygon::new(vec![p]))
        .collect::<Vec<_>>()
        .chunks(64)
        .map(|chunk| {
            let polys: Vec<Polygon<f64>> = chunk.iter().flat_map(|m| m.0.clone()).collect();
            geo::unary_union(&polys)
        })
        .collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [a, b] => a.union(b),
                [a] => a.clone(),
                _ => MultiPolygon::new(vec![]),
            })
            .collect();
    }
    level.pop().unwrap_or_else(|| MultiPolygon::new(vec![]))
}
