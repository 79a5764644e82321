//! Covered area as a MultiPolygon: swaths rasterised on a local grid, with bounded memory.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use furrow_allocate::{LocalFrame, cell_centre_runs, heading_vector, swath_corners};
use geo::{BooleanOps, MultiPolygon, Polygon, Rect, coord};
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
    #[cfg(test)]
    fn insert(&mut self, ix: i32, iy: i32) {
        self.insert_run(iy, ix, ix + 1);
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

fn unkey(k: u64) -> (i32, i32) {
    ((k >> 32) as u32 as i32, k as u32 as i32)
}

impl CellSet {
    /// The index of the tile with key `tk`, added when missing.
    #[inline]
    fn tile(&mut self, tk: u64) -> usize {
        match self.last {
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
        }
    }

    /// Sets the cells `i0..i1` of row `iy`, a word of a tile row at a time.
    fn insert_run(&mut self, iy: i32, i0: i32, i1: i32) {
        let (ty, row) = (iy >> 6, (iy & 63) as usize);
        let mut i = i0;
        while i < i1 {
            let tx = i >> 6;
            let end = i1.min((tx + 1) * 64);
            let (lo, n) = ((i & 63) as u32, (end - i) as u32);
            let mask = if n >= 64 {
                u64::MAX
            } else {
                ((1u64 << n) - 1) << lo
            };
            let t = self.tile(key(tx, ty));
            if let Some((_, rows)) = self.tiles.get_mut(t) {
                self.count += (mask & !rows[row]).count_ones() as usize;
                rows[row] |= mask;
            }
            i = end;
        }
    }

    /// How many of the cells `i0..i1` of row `iy` are not set (no change to the set).
    fn count_unset(&self, iy: i32, i0: i32, i1: i32) -> usize {
        let (ty, row) = (iy >> 6, (iy & 63) as usize);
        let mut i = i0;
        let mut n_unset = 0usize;
        while i < i1 {
            let tx = i >> 6;
            let end = i1.min((tx + 1) * 64);
            let (lo, n) = ((i & 63) as u32, (end - i) as u32);
            let mask = if n >= 64 {
                u64::MAX
            } else {
                ((1u64 << n) - 1) << lo
            };
            let set = self
                .index
                .get(&key(tx, ty))
                .and_then(|&t| self.tiles.get(t))
                .map_or(0, |(_, rows)| rows[row]);
            n_unset += (mask & !set).count_ones() as usize;
            i = end;
        }
        n_unset
    }
}

/// The strip of consecutive swaths of one pass being gathered: one rectangle from `back` along `dir`,
/// `len` long and `width` wide, rasterised when the pass turns, changes width or breaks off.
#[derive(Debug, Clone, Copy)]
struct Strip {
    back: (f64, f64),
    dir: (f64, f64),
    width: f64,
    len: f64,
}

impl Strip {
    fn corners(&self) -> [(f64, f64); 4] {
        let front = (
            self.back.0 + self.dir.0 * self.len,
            self.back.1 + self.dir.1 * self.len,
        );
        swath_corners(front, self.dir, self.width, self.len)
    }
}

/// Largest sine of the angle between a swath and the strip it joins (1°).
const MAX_TURN_SIN: f64 = 0.017_452;

/// The covered area of a file: the union of its points' swaths (the shared swath model,
/// `furrow_allocate::swath_corners`: a rectangle `width` across from the point back along its heading by
/// `distance`), rasterised on a grid in a local metric frame (WGS 84 scale at the first point) by the
/// cell-centre rule (`furrow_allocate::cell_centre_runs`: a cell is covered when its centre lies in a
/// rectangle), so the raster area is an unbiased estimate of the union's. The cell size is a quarter of
/// the first width (1–25 m), doubled whenever the cells pass two million (a coarse cell is covered when
/// at least two of its four cells are). Consecutive swaths of one pass (same width, within 1° of one
/// direction, each starting where the last ended, within a tenth of a cell of one line) are gathered
/// into one strip and rasterised once: the same cells as swath by swath, up to slivers thinner than a
/// tenth of a cell. No swath is ever skipped; the area reported never exceeds the sum of the swaths'
/// areas.
#[derive(Debug, Default, Clone)]
pub struct Coverage {
    frame: Option<LocalFrame>,
    cell: f64,
    cells: CellSet,
    strip: Option<Strip>,
    /// The last heading (bits) and its unit vector.
    direction: Option<(u64, (f64, f64))>,
    /// Σ width × distance of the swaths added, m².
    gross: f64,
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

    /// Number of covered cells rasterised so far (the pass being gathered not included).
    pub fn cell_count(&self) -> usize {
        self.cells.len()
    }

    /// Σ width × distance of the swaths added, m² (overlaps counted again).
    pub fn swath_area_m2(&self) -> f64 {
        self.gross
    }

    /// Covered area in m²: covered cells × cell area, the pass being gathered included, at most the sum
    /// of the swaths' areas.
    pub fn area_m2(&self) -> f64 {
        let mut n = self.cells.len();
        if let Some(st) = &self.strip {
            cell_centre_runs(&st.corners(), self.cell, |j, i0, i1| {
                n += self
                    .cells
                    .count_unset(clamp_i32(j), clamp_i32(i0), clamp_i32(i1));
            });
        }
        (n as f64 * self.cell * self.cell).min(self.gross)
    }

    /// Adds the swath that ends at `(x, y)` (lon/lat), `width` m wide, `distance` m long, travelling
    /// along `heading` degrees. A swath without a positive width and distance, a heading or a position
    /// covers nothing.
    #[inline]
    pub fn add(&mut self, x: f64, y: f64, width: f64, heading: f64, distance: f64) {
        if !(width > 0.0
            && distance > 0.0
            && width.is_finite()
            && distance.is_finite()
            && heading.is_finite()
            && x.is_finite()
            && y.is_finite())
        {
            return;
        }
        self.gross += width * distance;
        let frame = *self.frame.get_or_insert_with(|| LocalFrame::at(x, y));
        if self.cell == 0.0 {
            self.cell = (width / 4.0).clamp(1.0, 25.0);
        }
        let p = frame.to_metres(x, y);
        // a pass keeps its heading from one swath to the next: its unit vector is kept too
        let dir = match self.direction {
            Some((bits, v)) if bits == heading.to_bits() => v,
            _ => {
                let v = heading_vector(heading);
                self.direction = Some((heading.to_bits(), v));
                v
            }
        };
        let back = (p.0 - dir.0 * distance, p.1 - dir.1 * distance);
        if let Some(st) = &mut self.strip {
            let tol = 0.1 * self.cell;
            let (fx, fy) = (st.back.0 + st.dir.0 * st.len, st.back.1 + st.dir.1 * st.len);
            let (gx, gy) = (back.0 - fx, back.1 - fy);
            let (rx, ry) = (p.0 - st.back.0, p.1 - st.back.1);
            let along = rx * st.dir.0 + ry * st.dir.1;
            let across = rx * st.dir.1 - ry * st.dir.0;
            let turn = dir.0 * st.dir.1 - dir.1 * st.dir.0;
            if st.width == width
                && gx * gx + gy * gy <= tol * tol
                && across.abs() <= tol
                && turn.abs() <= MAX_TURN_SIN
                && dir.0 * st.dir.0 + dir.1 * st.dir.1 > 0.0
                && along > st.len
            {
                st.len = along;
                return;
            }
            self.flush();
        }
        self.strip = Some(Strip {
            back,
            dir,
            width,
            len: distance,
        });
    }

    /// Rasterises the strip being gathered.
    fn flush(&mut self) {
        let Some(st) = self.strip.take() else {
            return;
        };
        let cells = &mut self.cells;
        cell_centre_runs(&st.corners(), self.cell, |j, i0, i1| {
            cells.insert_run(clamp_i32(j), clamp_i32(i0), clamp_i32(i1));
        });
        while self.cells.len() > MAX_CELLS || self.cells.tiles.len() > MAX_TILES {
            self.coarsen();
        }
    }

    /// Doubles the cell size: a coarse cell is covered when at least two of its four cells are (an
    /// edge through it covers about half of it), so coarsening does not inflate the area either.
    fn coarsen(&mut self) {
        self.cell *= 2.0;
        let mut counts: HashMap<u64, u8, BuildHasherDefault<CellHasher>> = HashMap::default();
        self.cells.for_each(|ix, iy| {
            *counts
                .entry(key(ix.div_euclid(2), iy.div_euclid(2)))
                .or_default() += 1;
        });
        let mut coarse = CellSet::default();
        let mut keys: Vec<u64> = counts
            .into_iter()
            .filter(|(_, n)| *n >= 2)
            .map(|(k, _)| k)
            .collect();
        keys.sort_unstable();
        for k in keys {
            let (ix, iy) = unkey(k);
            coarse.insert_run(iy, ix, ix + 1);
        }
        self.cells = coarse;
    }

    /// The covered cells as a MultiPolygon in lon/lat (row runs of cells merged by a union).
    pub fn to_multipolygon(&self) -> MultiPolygon<f64> {
        let mut me = self.clone();
        me.flush();
        let Some(frame) = me.frame else {
            return MultiPolygon::new(vec![]);
        };
        loop {
            let runs = me.runs();
            if runs.len() <= MAX_RUNS || me.cells.len() < 4 {
                let c = me.cell;
                let polys: Vec<Polygon<f64>> = runs
                    .into_iter()
                    .map(|(iy, a, b)| {
                        let (x0, y0) = frame.to_lonlat(f64::from(a) * c, f64::from(iy) * c);
                        let (x1, y1) = frame.to_lonlat(f64::from(b + 1) * c, f64::from(iy + 1) * c);
                        Rect::new(coord! { x: x0, y: y0 }, coord! { x: x1, y: y1 }).to_polygon()
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

/// A cell index as the set's `i32` (saturating; a grid that far out is beyond any field).
fn clamp_i32(v: i64) -> i32 {
    v.clamp(i64::from(i32::MIN / 2), i64::from(i32::MAX / 2)) as i32
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
        // a coarse cell is covered when two or more of its four cells are
        let mut quads: std::collections::BTreeMap<(i32, i32), u8> = Default::default();
        for &(iy, ix) in &plain {
            *quads
                .entry((iy.div_euclid(2), ix.div_euclid(2)))
                .or_default() += 1;
        }
        let coarse: BTreeSet<(i32, i32)> = quads
            .into_iter()
            .filter(|(_, n)| *n >= 2)
            .map(|(k, _)| k)
            .collect();
        assert!(coarse.len() > 1_000 && coarse.len() < plain.len());
        let mut got = BTreeSet::new();
        cov.cells.for_each(|ix, iy| {
            got.insert((iy, ix));
        });
        assert_eq!((cov.cells.len(), cov.cell), (coarse.len(), 2.0));
        assert_eq!(got, coarse);
    }
}
