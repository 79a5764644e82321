//! Streaming allocation of points to fields.

use arrow_array::{
    Array, BinaryArray, Float64Array, LargeBinaryArray, RecordBatch, StructArray, UInt32Array,
};
use arrow_buffer::NullBuffer;
use rayon::prelude::*;

use crate::{Error, FieldIndex, Result};

/// No field: the point is outside every boundary.
pub const OUTSIDE: u32 = u32::MAX;

/// Points per parallel chunk; each chunk keeps its own last-hit cache.
const CHUNK: usize = 64 * 1024;

/// How to run an allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocateOptions {
    /// Split the points in chunks over the current rayon pool (default true). Use a
    /// `rayon::ThreadPool::install` to choose the thread count.
    pub parallel: bool,
}

impl Default for AllocateOptions {
    fn default() -> Self {
        Self { parallel: true }
    }
}

/// The field of every point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// Per point, the field index in the [`FieldIndex`] or [`OUTSIDE`].
    pub field: Vec<u32>,
    /// Points per field, by field index.
    pub counts: Vec<u64>,
    /// Points in no field (Leaf's `outsideFieldGeojson` set).
    pub outside: u64,
    /// Points inside more than one (overlapping) field; they went to the lowest field index.
    pub ties: u64,
}

impl Allocation {
    /// The field of each point as an Arrow array, null where outside.
    pub fn to_arrow(&self) -> UInt32Array {
        let nulls = NullBuffer::from(self.field.iter().map(|&f| f != OUTSIDE).collect::<Vec<_>>());
        UInt32Array::new(self.field.clone().into(), Some(nulls))
    }

    /// Indices of the points outside every field.
    pub fn outside_points(&self) -> impl Iterator<Item = usize> + '_ {
        self.field
            .iter()
            .enumerate()
            .filter(|(_, f)| **f == OUTSIDE)
            .map(|(i, _)| i)
    }
}

/// Allocates points given as separate x (longitude) and y (latitude) slices.
pub fn allocate_xy(
    index: &FieldIndex,
    xs: &[f64],
    ys: &[f64],
    opts: AllocateOptions,
) -> Result<Allocation> {
    if xs.len() != ys.len() {
        return Err(Error::Points(format!(
            "{} x values but {} y values",
            xs.len(),
            ys.len()
        )));
    }
    let mut field = vec![OUTSIDE; xs.len()];
    let ties: u64 = if opts.parallel && xs.len() > CHUNK {
        field
            .par_chunks_mut(CHUNK)
            .zip(xs.par_chunks(CHUNK).zip(ys.par_chunks(CHUNK)))
            .map(|(out, (x, y))| allocate_chunk(index, x, y, out))
            .sum()
    } else {
        allocate_chunk(index, xs, ys, &mut field)
    };
    let mut counts = vec![0u64; index.len()];
    let mut outside = 0;
    for &f in &field {
        match counts.get_mut(f as usize) {
            Some(c) => *c += 1,
            None => outside += 1,
        }
    }
    Ok(Allocation {
        field,
        counts,
        outside,
        ties,
    })
}

/// The hot loop: try the previous point's field first (machine data is time-ordered), else the grid cell.
fn allocate_chunk(index: &FieldIndex, xs: &[f64], ys: &[f64], out: &mut [u32]) -> u64 {
    let mut last = OUTSIDE;
    let mut ties = 0;
    for ((&x, &y), o) in xs.iter().zip(ys).zip(out.iter_mut()) {
        if let Some(p) = index.prepared.get(last as usize)
            && p.contains(x, y)
        {
            *o = resolve(index, last, x, y, &mut ties);
            continue;
        }
        let mut found = OUTSIDE;
        for &f in index.candidates(x, y) {
            if index.prepared[f as usize].contains(x, y) {
                found = resolve(index, f, x, y, &mut ties);
                break;
            }
        }
        *o = found;
        if found != OUTSIDE {
            last = found;
        }
    }
    ties
}

/// `f` contains the point; overlapping neighbours decide the lowest index and count ties.
#[inline(always)]
fn resolve(index: &FieldIndex, f: u32, x: f64, y: f64, ties: &mut u64) -> u32 {
    let n = &index.neighbours[f as usize];
    if n.is_empty() {
        return f;
    }
    let mut best = f;
    let mut hits = 1;
    for &g in n {
        if index.prepared[g as usize].contains(x, y) {
            hits += 1;
            best = best.min(g);
        }
    }
    if hits > 1 {
        *ties += 1;
    }
    best
}

/// Allocates the points of a RecordBatch. Positions come from, in order of preference: `x`/`y` (or
/// `longitude`/`latitude`) Float64 columns, a native GeoArrow point column `geometry` (struct of `x`, `y`), or a
/// WKB `geometry` column of points. Null or non-point geometries are outside.
pub fn allocate(index: &FieldIndex, batch: &RecordBatch) -> Result<Allocation> {
    allocate_with(index, batch, AllocateOptions::default())
}

/// [`allocate`] with options.
pub fn allocate_with(
    index: &FieldIndex,
    batch: &RecordBatch,
    opts: AllocateOptions,
) -> Result<Allocation> {
    let (xs, ys) = point_columns(batch)?;
    allocate_xy(index, &xs, &ys, opts)
}

/// Extracts x and y of every row of a points batch (see [`allocate`] for the accepted layouts); rows without a
/// point get NaN, which no field contains.
pub fn point_columns(batch: &RecordBatch) -> Result<(Vec<f64>, Vec<f64>)> {
    let f64_col = |name: &str| {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
    };
    for (xn, yn) in [("x", "y"), ("longitude", "latitude"), ("lon", "lat")] {
        if let (Some(x), Some(y)) = (f64_col(xn), f64_col(yn)) {
            return Ok((with_nan(x), with_nan(y)));
        }
    }
    let Some(geom) = batch.column_by_name("geometry") else {
        return Err(Error::Points(
            "no x/y columns and no geometry column".into(),
        ));
    };
    if let Some(s) = geom.as_any().downcast_ref::<StructArray>() {
        let x = s
            .column_by_name("x")
            .and_then(|c| c.as_any().downcast_ref::<Float64Array>());
        let y = s
            .column_by_name("y")
            .and_then(|c| c.as_any().downcast_ref::<Float64Array>());
        let (Some(x), Some(y)) = (x, y) else {
            return Err(Error::Column {
                column: "geometry".into(),
                message: "native points need x and y children".into(),
            });
        };
        let mut xs = with_nan(x);
        let mut ys = with_nan(y);
        if let Some(n) = s.nulls() {
            for i in (0..s.len()).filter(|&i| n.is_null(i)) {
                xs[i] = f64::NAN;
                ys[i] = f64::NAN;
            }
        }
        return Ok((xs, ys));
    }
    if let Some(b) = geom.as_any().downcast_ref::<BinaryArray>() {
        return Ok(wkb_points(
            (0..b.len()).map(|i| b.is_valid(i).then(|| b.value(i))),
        ));
    }
    if let Some(b) = geom.as_any().downcast_ref::<LargeBinaryArray>() {
        return Ok(wkb_points(
            (0..b.len()).map(|i| b.is_valid(i).then(|| b.value(i))),
        ));
    }
    Err(Error::Column {
        column: "geometry".into(),
        message: format!("unsupported type {}", geom.data_type()),
    })
}

fn with_nan(a: &Float64Array) -> Vec<f64> {
    match a.nulls() {
        None => a.values().to_vec(),
        Some(n) => a
            .values()
            .iter()
            .enumerate()
            .map(|(i, v)| if n.is_null(i) { f64::NAN } else { *v })
            .collect(),
    }
}

/// Decodes ISO/OGC WKB points (2D, or Z/M/ZM whose extra ordinates are ignored) in one tight loop.
fn wkb_points<'a>(values: impl Iterator<Item = Option<&'a [u8]>>) -> (Vec<f64>, Vec<f64>) {
    let (lo, _) = values.size_hint();
    let mut xs = Vec::with_capacity(lo);
    let mut ys = Vec::with_capacity(lo);
    for v in values {
        let (x, y) = v.and_then(wkb_point).unwrap_or((f64::NAN, f64::NAN));
        xs.push(x);
        ys.push(y);
    }
    (xs, ys)
}

fn wkb_point(b: &[u8]) -> Option<(f64, f64)> {
    let little = match b.first()? {
        1 => true,
        0 => false,
        _ => return None,
    };
    let rd_u32 = |s: &[u8]| -> Option<u32> {
        let a: [u8; 4] = s.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    let rd_f64 = |s: &[u8]| -> Option<f64> {
        let a: [u8; 8] = s.try_into().ok()?;
        Some(if little {
            f64::from_le_bytes(a)
        } else {
            f64::from_be_bytes(a)
        })
    };
    let ty = rd_u32(b.get(1..5)?)?;
    // 1 = Point, 1001/2001/3001 = Point Z/M/ZM; EWKB flags are masked off.
    if (ty & 0x0fff_ffff) % 1000 != 1 {
        return None;
    }
    Some((rd_f64(b.get(5..13)?)?, rd_f64(b.get(13..21)?)?))
}
