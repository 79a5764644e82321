//! Covered area as a MultiPolygon: swaths rasterised on a local grid, with bounded memory.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use geo::{BooleanOps, MultiPolygon, Polygon, Rect, coord};

const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;
/// Above this many cells the grid is coarsened (cell size doubled), so memory stays bounded.
const MAX_CELLS: usize = 2_000_000;
/// Above this many row runs the grid is coarsened before the union, so the union stays fast.
const MAX_RUNS: usize = 40_000;
/// Above this many 64 × 64-cell tiles (512 bytes each: 32 MB) the grid is coarsened too, so cells spread
/// thin over a large area cannot take more memory than dense ones.
const MAX_TILES: usize = 65_536;

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

/// The covered cells: 64 × 64-cell tiles, a row of a tile a 64-bit mask. Consecutive swaths land in the
/// tile of the previous one, so most cells are one bit set in a tile already at hand, with no hashing.
#[derive(Debug, Default, Clone)]
struct CellSet {
    /// Tile key (tile column and row, see [`key`]) → index in `tiles`.
    index: HashMap<u64, usize, BuildHasherDefault<CellHasher>>,
    tiles: Vec<(u64, [u64; 64])>,
    /// Cells set.
    count: usize,
    /// The last tile used: its key and index.
    last: Option<(u64, usize)>,
}

impl CellSet {
    fn insert(&mut self, ix: i32, iy: i32) {
        let tk = key(ix >> 6, iy >> 6);
        let t = match self.last {
            Some((k, t)) if k == tk => t,
            _ => {
                let next = self.tiles.len();
                let t = *self.index.entry(tk).or_insert(next);
                if t == next {
                    self.tiles.push((tk, [0; 64]));
                }
                self.last = Some((tk, t));
                t
            }
        };
        let (row, bit) = ((iy & 63) as usize, 1u64 << (ix & 63));
        if let Some((_, rows)) = self.tiles.get_mut(t) {
            // no branch on whether the cell is new (half the time it is: unpredictable)
            self.count += usize::from(rows[row] & bit == 0);
            rows[row] |= bit;
        }
    }

    fn len(&self) -> usize {
        self.count
    }

    /// Every cell, tile by tile.
    fn for_each(&self, mut f: impl FnMut(i32, i32)) {
        for (tk, rows) in &self.tiles {
            let (tx, ty) = unkey(*tk);
            for (r, mask) in rows.iter().enumerate() {
                let mut m = *mask;
                while m != 0 {
                    let b = m.trailing_zeros() as i32;
                    m &= m - 1;
                    f(tx * 64 + b, ty * 64 + r as i32);
                }
            }
        }
    }

    /// Row runs of cells `(iy, first ix, last ix)` in row order, from the tiles sorted by row band.
    fn runs(&self) -> Vec<(i32, i32, i32)> {
        let mut order: Vec<(i32, i32, usize)> = self
            .tiles
            .iter()
            .enumerate()
            .map(|(i, (tk, _))| {
                let (tx, ty) = unkey(*tk);
                (ty, tx, i)
            })
            .collect();
        order.sort_unstable();
        let mut runs: Vec<(i32, i32, i32)> = Vec::new();
        for band in order.chunk_by(|a, b| a.0 == b.0) {
            let ty = band[0].0;
            for r in 0..64 {
                let iy = ty * 64 + r as i32;
                for &(_, tx, i) in band {
                    let mut m = self.tiles[i].1[r];
                    while m != 0 {
                        let ix = tx * 64 + m.trailing_zeros() as i32;
                        m &= m - 1;
                        match runs.last_mut() {
                            Some((ry, _, b)) if *ry == iy && *b + 1 == ix => *b = ix,
                            _ => runs.push((iy, ix, ix)),
                        }
                    }
                }
            }
        }
        runs
    }
}

fn key(ix: i32, iy: i32) -> u64 {
    (u64::from(ix as u32) << 32) | u64::from(iy as u32)
}

/// `v.floor() as i32` without a libm call (x86-64's baseline has no rounding instruction): the same for
/// every input, NaN and out-of-range values included (`as` saturates, NaN gives 0).
fn floor_i32(v: f64) -> i32 {
    let t = v as i32;
    t.saturating_sub(i32::from(f64::from(t) > v))
}

/// `v.ceil() as usize` without a libm call: the same for every input (`as` saturates, NaN gives 0).
fn ceil_usize(v: f64) -> usize {
    let t = v as usize;
    t.saturating_add(usize::from((t as f64) < v))
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
    /// The last swath's heading (radians), its sine and cosine.
    direction: Option<(f64, f64, f64)>,
}

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
    #[inline]
    pub fn add(&mut self, x: f64, y: f64, width: f64, heading: f64, distance: f64) {
        if width.is_nan() || width <= 0.0 || !x.is_finite() || !y.is_finite() {
            return;
        }
        // most points lie within half a cell of the last swath added (squared distances: no square
        // root a point): settled here, inline
        if let (Some((x0, y0, mx)), Some((lx, ly))) = (self.origin, self.last) {
            let (ex, ey) = ((x - x0) * mx - lx, (y - y0) * M_PER_DEG - ly);
            let half = self.cell / 2.0;
            if ex * ex + ey * ey < half * half {
                return;
            }
        }
        self.add_swath(x, y, width, heading, distance);
    }

    /// [`Self::add`] of a swath far enough from the last one.
    fn add_swath(&mut self, x: f64, y: f64, width: f64, heading: f64, distance: f64) {
        let (x0, y0, mx) = *self
            .origin
            .get_or_insert_with(|| (x, y, M_PER_DEG * y.to_radians().cos().max(1e-6)));
        if self.cell == 0.0 {
            self.cell = (width / 4.0).clamp(1.0, 25.0);
        }
        let (px, py) = ((x - x0) * mx, (y - y0) * M_PER_DEG);
        self.last = Some((px, py));
        let h = if heading.is_finite() {
            heading.to_radians()
        } else {
            0.0
        };
        // a pass keeps its heading from one swath to the next: its sine and cosine are kept too
        let (dx, dy) = match self.direction {
            Some((at, sin, cos)) if at.to_bits() == h.to_bits() => (sin, cos),
            _ => {
                let (sin, cos) = (h.sin(), h.cos());
                self.direction = Some((h, sin, cos));
                (sin, cos)
            }
        };
        let (rx, ry) = (dy, -dx);
        let c = self.cell;
        let along = if distance.is_finite() && distance > 0.0 && distance < 50.0 {
            distance
        } else {
            0.0
        };
        let n_along = ceil_usize(along / c);
        let n_across = ceil_usize(width / c);
        // across the swath, then along it: samples along a short step mostly fall in the cell of the one
        // before, which is then not inserted again (the same cells as in any order)
        let mut prev = None;
        for j in 0..=n_across {
            let b = -width / 2.0 + (j as f64 * c).min(width);
            for i in 0..=n_along {
                let a = -(i as f64 * c).min(along);
                let (qx, qy) = (px + dx * a + rx * b, py + dy * a + ry * b);
                let cell = (floor_i32(qx / c), floor_i32(qy / c));
                if prev != Some(cell) {
                    self.cells.insert(cell.0, cell.1);
                    prev = Some(cell);
                }
            }
        }
        while self.cells.len() > MAX_CELLS || self.cells.tiles.len() > MAX_TILES {
            self.coarsen();
        }
    }

    fn coarsen(&mut self) {
        self.cell *= 2.0;
        let mut coarse = CellSet::default();
        self.cells
            .for_each(|ix, iy| coarse.insert(ix.div_euclid(2), iy.div_euclid(2)));
        self.cells = coarse;
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
        self.cells.runs()
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn floor_i32_is_floor() {
        let mut v = -70_000.0f64;
        while v < 70_000.0 {
            for x in [v, v + 0.5, v + 1e-9, v - 1e-9, -v] {
                assert_eq!(floor_i32(x), x.floor() as i32, "{x}");
            }
            v += 0.37;
        }
        for x in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            3e9,
            -3e9,
            -0.0,
            0.0,
            -1e-300,
        ] {
            assert_eq!(floor_i32(x), x.floor() as i32, "{x}");
        }
    }

    #[test]
    fn ceil_usize_is_ceil() {
        let mut n = 0;
        let mut v = 0.0f64;
        while v < 500.0 {
            for x in [v, v + 0.5, v + 1e-9, (v - 1e-9).max(0.0), v / 7.0] {
                assert_eq!(ceil_usize(x), x.ceil() as usize, "{x}");
                n += 1;
            }
            v += 0.37;
        }
        for x in [f64::NAN, f64::INFINITY, -1.0, -0.0, 1e300, 4.5e15 + 0.5] {
            assert_eq!(ceil_usize(x), x.ceil() as usize, "{x}");
        }
        assert!(n > 6_000);
    }

    /// The tiled set against a plain set of the same cells: count, cells, row runs and coarsening, over
    /// cells clustered like swaths and scattered across tile borders and the sign change of both axes.
    #[test]
    fn tiled_cells_match_a_plain_set() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |n: i32| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as i32
        };
        let mut tiled = CellSet::default();
        let mut plain: BTreeSet<(i32, i32)> = BTreeSet::new();
        let (mut x, mut y) = (-70, -40);
        for i in 0..60_000 {
            // a walk (runs along rows, repeats) with a jump now and then
            if i % 5_000 == 0 {
                (x, y) = (next(600) - 300, next(600) - 300);
            }
            x += next(3) - 1;
            y += next(3) - 1;
            for k in 0..4 {
                tiled.insert(x + k, y);
                plain.insert((y, x + k));
            }
        }
        assert_eq!(tiled.len(), plain.len());
        let mut seen = BTreeSet::new();
        tiled.for_each(|ix, iy| {
            assert!(seen.insert((iy, ix)), "cell {ix}/{iy} twice");
        });
        assert_eq!(seen, plain);
        let mut runs: Vec<(i32, i32, i32)> = Vec::new();
        for &(iy, ix) in &plain {
            match runs.last_mut() {
                Some((ry, _, b)) if *ry == iy && *b + 1 == ix => *b = ix,
                _ => runs.push((iy, ix, ix)),
            }
        }
        assert_eq!(tiled.runs(), runs);
        assert!(runs.len() > 1_000 && runs.iter().any(|r| r.0 < 0) && runs.iter().any(|r| r.1 > 0));

        let mut cov = Coverage {
            cells: tiled,
            cell: 1.0,
            ..Coverage::default()
        };
        cov.coarsen();
        let coarse: BTreeSet<(i32, i32)> = plain
            .iter()
            .map(|&(iy, ix)| (iy.div_euclid(2), ix.div_euclid(2)))
            .collect();
        let mut got = BTreeSet::new();
        cov.cells.for_each(|ix, iy| {
            got.insert((iy, ix));
        });
        assert_eq!((cov.cells.len(), cov.cell), (coarse.len(), 2.0));
        assert_eq!(got, coarse);
    }
}
