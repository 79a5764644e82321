//! Synthetic fields and machine tracks for tests, benchmarks and peer comparisons (deterministic by seed).
//!
//! Fields are irregular star-shaped polygons (simple by construction) of about `vertices` vertices, laid on a grid
//! with gaps between them (roads, headlands), a tenth of them with a hole. Tracks are serpentine passes over the
//! whole extent, in time order, so some points fall between fields.

use geo_types::{Coord, LineString, MultiPolygon, Polygon};

use crate::Field;

/// A small, fast, deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The layout of a synthetic data set.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Number of fields.
    pub fields: usize,
    /// Vertices per field boundary (about).
    pub vertices: usize,
    /// South-west corner, lon/lat.
    pub origin: (f64, f64),
    /// Size of each field's grid cell, degrees.
    pub cell: f64,
}

impl Layout {
    /// `fields` fields of ~200 vertices in Iowa, ~900 m cells.
    pub fn new(fields: usize) -> Self {
        Self {
            fields,
            vertices: 200,
            origin: (-93.8, 41.4),
            cell: 0.01,
        }
    }

    fn columns(&self) -> usize {
        (self.fields as f64).sqrt().ceil().max(1.0) as usize
    }

    /// The extent covered by the fields: [min lon, min lat, max lon, max lat].
    pub fn extent(&self) -> [f64; 4] {
        let cols = self.columns();
        let rows = self.fields.div_ceil(cols);
        [
            self.origin.0,
            self.origin.1,
            self.origin.0 + cols as f64 * self.cell,
            self.origin.1 + rows as f64 * self.cell,
        ]
    }
}

fn star(
    rng: &mut Rng,
    cx: f64,
    cy: f64,
    r_min: f64,
    r_max: f64,
    n: usize,
    clockwise: bool,
) -> LineString<f64> {
    // Smooth radial noise from a few harmonics keeps the shape field-like.
    let phases: Vec<f64> = (0..4).map(|_| rng.f64() * std::f64::consts::TAU).collect();
    let mut pts: Vec<Coord<f64>> = (0..n)
        .map(|i| {
            let t = i as f64 / n as f64 * std::f64::consts::TAU;
            let wobble = phases
                .iter()
                .enumerate()
                .map(|(k, p)| ((k + 2) as f64 * t + p).sin() / (k + 1) as f64)
                .sum::<f64>();
            let jitter = (rng.f64() - 0.5) * 0.04;
            let u = ((wobble / 2.1) * 0.5 + 0.5 + jitter).clamp(0.0, 1.0);
            let r = r_min + (r_max - r_min) * u;
            Coord {
                x: cx + r * t.cos(),
                y: cy + r * t.sin(),
            }
        })
        .collect();
    if clockwise {
        pts.reverse();
    }
    pts.push(pts[0]);
    LineString(pts)
}

/// The fields of a layout: ids `field-0000`…, every tenth with a hole.
pub fn fields(layout: &Layout, seed: u64) -> Vec<Field> {
    let mut rng = Rng::new(seed);
    let cols = layout.columns();
    (0..layout.fields)
        .map(|i| {
            let (col, row) = (i % cols, i / cols);
            let c = layout.cell;
            let cx = layout.origin.0 + (col as f64 + 0.5) * c;
            let cy = layout.origin.1 + (row as f64 + 0.5) * c;
            let shell = star(&mut rng, cx, cy, 0.25 * c, 0.45 * c, layout.vertices, false);
            let holes = if i % 10 == 3 {
                vec![star(
                    &mut rng,
                    cx + 0.02 * c,
                    cy - 0.01 * c,
                    0.06 * c,
                    0.12 * c,
                    (layout.vertices / 5).max(8),
                    true,
                )]
            } else {
                Vec::new()
            };
            Field {
                id: format!("field-{i:05}"),
                boundary: MultiPolygon(vec![Polygon::new(shell, holes)]),
            }
        })
        .collect()
}

/// `n` track points in time order: serpentine east-west passes over the extent with row spacing chosen so the
/// points fill it, a little GPS noise on each.
pub fn track(layout: &Layout, n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng::new(seed ^ 0x5eed);
    let e = layout.extent();
    let (w, h) = (e[2] - e[0], e[3] - e[1]);
    // rows * per_row = n, with spacing along the row equal to row spacing / 4 (dense logging along passes).
    let rows = ((n as f64 * h / (4.0 * w)).sqrt().ceil() as usize).max(1);
    let per_row = n.div_ceil(rows).max(1);
    let mut xs = Vec::with_capacity(n);
    let mut ys = Vec::with_capacity(n);
    'outer: for r in 0..rows {
        let y = e[1] + (r as f64 + 0.5) * h / rows as f64;
        for k in 0..per_row {
            if xs.len() == n {
                break 'outer;
            }
            let t = (k as f64 + 0.5) / per_row as f64;
            let t = if r % 2 == 0 { t } else { 1.0 - t };
            xs.push(e[0] + t * w + (rng.f64() - 0.5) * 1e-6);
            ys.push(y + (rng.f64() - 0.5) * 1e-6);
        }
    }
    (xs, ys)
}
