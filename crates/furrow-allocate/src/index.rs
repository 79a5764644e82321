//! The field index: every field's prepared boundary, and a packed uniform grid over their bounding boxes.

use geo_types::MultiPolygon;

use crate::boundary::{self, Validity};
use crate::prepared::PreparedPolygon;
use crate::{Error, Result};

/// A field to allocate points to: an id and its active boundary (lon/lat MultiPolygon, holes allowed).
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The field's id.
    pub id: String,
    /// The active boundary.
    pub boundary: MultiPolygon<f64>,
}

/// How [`FieldIndex::build_with`] treats boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildOptions {
    /// Repair what can be repaired (Leaf's `automaticFixBoundary`, default true); otherwise invalid boundaries
    /// are an error.
    pub automatic_fix_boundary: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            automatic_fix_boundary: true,
        }
    }
}

/// Per field: what validation found and whether repair changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundaryStatus {
    /// Validity of the boundary as given.
    pub validity: Validity,
    /// Validity after repair (what the index uses).
    pub validity_after_fix: Validity,
    /// Whether the repair changed the geometry (Leaf's `fixStatus: FIXED`).
    pub fixed: bool,
}

/// Every field prepared for point-in-polygon tests, with a grid over their bounding boxes.
///
/// Build once per user (thousands of fields take milliseconds), then stream points through
/// [`allocate`](crate::allocate) or [`allocate_xy`](crate::allocate_xy). Field indexes (`u32`) follow the order
/// of the input; when fields overlap, a point goes to the lowest index and is counted as a tie.
#[derive(Debug, Clone)]
pub struct FieldIndex {
    pub(crate) ids: Vec<String>,
    pub(crate) boundaries: Vec<MultiPolygon<f64>>,
    pub(crate) status: Vec<BoundaryStatus>,
    pub(crate) prepared: Vec<PreparedPolygon>,
    /// For each field, the other fields whose interiors may overlap its own (ascending).
    pub(crate) neighbours: Vec<Vec<u32>>,
    grid: Grid,
}

#[derive(Debug, Clone)]
struct Grid {
    x0: f64,
    y0: f64,
    inv_w: f64,
    inv_h: f64,
    nx: usize,
    ny: usize,
    cell_start: Vec<u32>,
    cell_fields: Vec<u32>,
}

impl FieldIndex {
    /// Builds the index with default options (repair on).
    pub fn build(fields: impl IntoIterator<Item = Field>) -> Result<Self> {
        Self::build_with(fields, BuildOptions::default())
    }

    /// Builds the index: validates, repairs (when allowed) and orients each boundary, prepares it, and grids the
    /// bounding boxes.
    pub fn build_with(fields: impl IntoIterator<Item = Field>, opts: BuildOptions) -> Result<Self> {
        let mut ids = Vec::new();
        let mut boundaries = Vec::new();
        let mut status = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for f in fields {
            if !seen.insert(f.id.clone()) {
                return Err(Error::DuplicateField(f.id));
            }
            let report = boundary::validate(&f.boundary);
            let (geom, fixed, after) = if opts.automatic_fix_boundary {
                let (g, r) = boundary::repair(&f.boundary);
                let after = boundary::validate(&g);
                (g, r.fixed, after)
            } else {
                (boundary::orient(&f.boundary), false, report.clone())
            };
            if after.validity != Validity::Valid && !tolerable(after.validity) {
                return Err(Error::InvalidBoundary {
                    field: f.id,
                    validity: after.validity,
                    message: after.message,
                });
            }
            ids.push(f.id);
            boundaries.push(geom);
            status.push(BoundaryStatus {
                validity: report.validity,
                validity_after_fix: after.validity,
                fixed,
            });
        }
        let prepared: Vec<PreparedPolygon> = boundaries.iter().map(PreparedPolygon::new).collect();
        let grid = Grid::build(&prepared);
        let neighbours = overlapping(&boundaries, &prepared, &grid);
        Ok(Self {
            ids,
            boundaries,
            status,
            prepared,
            neighbours,
            grid,
        })
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The id of field `index`.
    pub fn id(&self, index: u32) -> Option<&str> {
        self.ids.get(index as usize).map(String::as_str)
    }

    /// The boundary used for field `index` (repaired and oriented).
    pub fn boundary(&self, index: u32) -> Option<&MultiPolygon<f64>> {
        self.boundaries.get(index as usize)
    }

    /// Validation and repair outcome of field `index`.
    pub fn boundary_status(&self, index: u32) -> Option<&BoundaryStatus> {
        self.status.get(index as usize)
    }

    /// The index of the field containing (x, y), lowest index first when fields overlap. Slow path without
    /// the coherence cache; [`allocate_xy`](crate::allocate_xy) is what streams use.
    pub fn locate(&self, x: f64, y: f64) -> Option<u32> {
        self.candidates(x, y)
            .iter()
            .copied()
            .find(|&f| self.prepared[f as usize].contains(x, y))
    }

    #[inline(always)]
    pub(crate) fn candidates(&self, x: f64, y: f64) -> &[u32] {
        self.grid.cell(x, y)
    }
}

/// Problems the crossing-number test handles consistently, so they do not stop allocation: a ring touching
/// itself or a repeated point changes nothing for even-odd containment.
fn tolerable(v: Validity) -> bool {
    matches!(
        v,
        Validity::RepeatedPoint
            | Validity::RingSelfIntersection
            | Validity::SelfIntersection
            | Validity::DuplicateRings
            | Validity::NestedShells
            | Validity::NestedHoles
            | Validity::HoleOutsideShell
            | Validity::DisconnectedInterior
    )
}

impl Grid {
    fn build(prepared: &[PreparedPolygon]) -> Self {
        let mut b = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for p in prepared.iter().filter(|p| p.bbox[0] <= p.bbox[2]) {
            b[0] = b[0].min(p.bbox[0]);
            b[1] = b[1].min(p.bbox[1]);
            b[2] = b[2].max(p.bbox[2]);
            b[3] = b[3].max(p.bbox[3]);
        }
        if !b.iter().all(|v| v.is_finite()) {
            return Self {
                x0: 0.0,
                y0: 0.0,
                inv_w: 0.0,
                inv_h: 0.0,
                nx: 1,
                ny: 1,
                cell_start: vec![0, 0],
                cell_fields: Vec::new(),
            };
        }
        // About four cells per field, shaped like the extent.
        let cells = (prepared.len() * 4).clamp(1, 1 << 22) as f64;
        let (w, h) = ((b[2] - b[0]).max(1e-12), (b[3] - b[1]).max(1e-12));
        let nx = ((cells * w / h).sqrt().round() as usize).clamp(1, 1 << 12);
        let ny = ((cells / nx as f64).round() as usize).clamp(1, 1 << 12);
        let inv_w = nx as f64 / w;
        let inv_h = ny as f64 / h;
        let cx = |x: f64| (((x - b[0]) * inv_w) as usize).min(nx - 1);
        let cy = |y: f64| (((y - b[1]) * inv_h) as usize).min(ny - 1);
        let mut counts = vec![0u32; nx * ny + 1];
        for p in prepared.iter().filter(|p| p.bbox[0] <= p.bbox[2]) {
            for j in cy(p.bbox[1])..=cy(p.bbox[3]) {
                for i in cx(p.bbox[0])..=cx(p.bbox[2]) {
                    counts[j * nx + i + 1] += 1;
                }
            }
        }
        for c in 0..nx * ny {
            counts[c + 1] += counts[c];
        }
        let mut fill = counts.clone();
        let mut cell_fields = vec![0u32; counts[nx * ny] as usize];
        for (f, p) in prepared
            .iter()
            .enumerate()
            .filter(|(_, p)| p.bbox[0] <= p.bbox[2])
        {
            for j in cy(p.bbox[1])..=cy(p.bbox[3]) {
                for i in cx(p.bbox[0])..=cx(p.bbox[2]) {
                    let c = j * nx + i;
                    cell_fields[fill[c] as usize] = f as u32;
                    fill[c] += 1;
                }
            }
        }
        Self {
            x0: b[0],
            y0: b[1],
            inv_w,
            inv_h,
            nx,
            ny,
            cell_start: counts,
            cell_fields,
        }
    }

    #[inline(always)]
    fn cell(&self, x: f64, y: f64) -> &[u32] {
        let fx = (x - self.x0) * self.inv_w;
        let fy = (y - self.y0) * self.inv_h;
        // NaN and out-of-extent points have no candidates.
        if !(fx >= 0.0 && fy >= 0.0 && fx <= self.nx as f64 && fy <= self.ny as f64) {
            return &[];
        }
        let c = (fy as usize).min(self.ny - 1) * self.nx + (fx as usize).min(self.nx - 1);
        &self.cell_fields[self.cell_start[c] as usize..self.cell_start[c + 1] as usize]
    }
}

fn overlapping(
    boundaries: &[MultiPolygon<f64>],
    prepared: &[PreparedPolygon],
    grid: &Grid,
) -> Vec<Vec<u32>> {
    let overlap =
        |a: &[f64; 4], b: &[f64; 4]| a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
    let mut pairs = Vec::new();
    for w in grid.cell_start.windows(2) {
        let cell = &grid.cell_fields[w[0] as usize..w[1] as usize];
        for (i, &a) in cell.iter().enumerate() {
            for &b in &cell[i + 1..] {
                if overlap(&prepared[a as usize].bbox, &prepared[b as usize].bbox) {
                    pairs.push((a.min(b), a.max(b)));
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut out = vec![Vec::new(); prepared.len()];
    for (a, b) in pairs {
        if boundary::interiors_overlap(&boundaries[a as usize], &boundaries[b as usize]) {
            out[a as usize].push(b);
            out[b as usize].push(a);
        }
    }
    for n in &mut out {
        n.sort_unstable();
    }
    out
}
