//! Coverage per field: the area the swaths covered, and covered twice or more, by rasterising swath rectangles
//! on a per-field grid (default 1 m) clipped to the field boundary. The swaths, the earth model and the
//! raster rule are the shared ones of [`crate::swath`].

use serde::Serialize;

use crate::FieldIndex;
use crate::swath::{
    LocalFrame, cell_centre_runs, heading_vector, metres_per_degree, swath_corners, swath_width,
};

/// One logged point's swath: the rectangle the implement covered since the previous point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Swath {
    /// Longitude of the point (front centre of the rectangle).
    pub lon: f64,
    /// Latitude of the point.
    pub lat: f64,
    /// Direction of travel, degrees clockwise from north.
    pub heading_deg: f64,
    /// Working width, metres (effective width when sections are off).
    pub width_m: f64,
    /// Distance travelled since the previous point, metres (the rectangle's length).
    pub distance_m: f64,
}

impl Swath {
    /// A standard point's swath: its width is the area it covered over its distance (the sections that
    /// were on, [`swath_width`](crate::swath_width)), else its equipment width; `None` when the point has
    /// no swath (no width, no movement, no position).
    pub fn of_point(
        lon: f64,
        lat: f64,
        heading_deg: f64,
        equipment_width_m: f64,
        distance_m: f64,
        area_m2: Option<f64>,
    ) -> Option<Swath> {
        let width_m = swath_width(equipment_width_m, distance_m, area_m2)?;
        (lon.is_finite() && lat.is_finite()).then_some(Swath {
            lon,
            lat,
            heading_deg,
            width_m,
            distance_m,
        })
    }
}

/// Coverage settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoverageOptions {
    /// Raster cell size in metres (default 1 m; 0.25 m for ±0.05 %).
    pub resolution_m: f64,
    /// Largest grid (cells) per field; the resolution is coarsened to stay under it.
    pub max_cells: usize,
}

impl Default for CoverageOptions {
    fn default() -> Self {
        Self {
            resolution_m: 1.0,
            max_cells: 50_000_000,
        }
    }
}

/// What the swaths covered inside one field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldCoverage {
    /// Area of the field boundary, m² (raster estimate at the same resolution).
    pub field_area_m2: f64,
    /// Sum of swath rectangle areas inside the field, counting overlaps again (gross), m².
    pub gross_m2: f64,
    /// Area covered at least once, m².
    pub covered_m2: f64,
    /// Area covered twice or more, m².
    pub overlap_m2: f64,
    /// covered / field area, 0–1 (Leaf's `fields[].coverage`).
    pub coverage: f64,
    /// The resolution actually used, metres.
    pub resolution_m: f64,
}

/// A swath's four corners in `frame` (east, north metres).
fn corners(s: &Swath, frame: &LocalFrame) -> [(f64, f64); 4] {
    swath_corners(
        frame.to_metres(s.lon, s.lat),
        heading_vector(s.heading_deg),
        s.width_m,
        s.distance_m,
    )
}

/// Rasterises `swaths` over field `field` of `index`.
pub fn field_coverage(
    index: &FieldIndex,
    field: u32,
    swaths: impl IntoIterator<Item = Swath>,
    opts: CoverageOptions,
) -> Option<FieldCoverage> {
    let prepared = index.prepared.get(field as usize)?;
    let [x0, y0, x1, y1] = prepared.bbox;
    if !(x0 <= x1 && y0 <= y1) {
        return None;
    }
    let lat0 = (y0 + y1) / 2.0;
    let (m_lat, m_lon) = metres_per_degree(lat0);
    let frame = LocalFrame {
        lon0: x0,
        lat0: y0,
        m_lon,
        m_lat,
    };
    let (w, h) = ((x1 - x0) * m_lon, (y1 - y0) * m_lat);
    let mut res = opts.resolution_m.max(1e-3);
    while (w / res).ceil() * (h / res).ceil() > opts.max_cells as f64 {
        res *= 2.0;
    }
    let nx = ((w / res).ceil() as usize).max(1);
    let ny = ((h / res).ceil() as usize).max(1);
    // Which cells are in the field (cell centres, the engine's containment rule).
    let mut inside = vec![false; nx * ny];
    let mut field_cells = 0usize;
    for j in 0..ny {
        let lat = y0 + (j as f64 + 0.5) * res / m_lat;
        for i in 0..nx {
            let lon = x0 + (i as f64 + 0.5) * res / m_lon;
            if prepared.contains(lon, lat) {
                inside[j * nx + i] = true;
                field_cells += 1;
            }
        }
    }
    let mut hits = vec![0u8; nx * ny];
    let mut gross_cells = 0usize;
    for s in swaths {
        if !(s.width_m > 0.0
            && s.distance_m > 0.0
            && s.lon.is_finite()
            && s.lat.is_finite()
            && s.heading_deg.is_finite())
        {
            continue;
        }
        let quad = corners(&s, &frame);
        fill_convex(&quad, res, nx, ny, |c| {
            if inside[c] {
                hits[c] = hits[c].saturating_add(1);
                gross_cells += 1;
            }
        });
    }
    let cell = res * res;
    let covered = hits.iter().filter(|&&h| h >= 1).count() as f64 * cell;
    let overlap = hits.iter().filter(|&&h| h >= 2).count() as f64 * cell;
    let field_area = field_cells as f64 * cell;
    Some(FieldCoverage {
        field_area_m2: field_area,
        gross_m2: gross_cells as f64 * cell,
        covered_m2: covered,
        overlap_m2: overlap,
        coverage: if field_area > 0.0 {
            covered / field_area
        } else {
            0.0
        },
        resolution_m: res,
    })
}

/// Calls `visit` with every cell of the `nx` × `ny` grid whose centre lies in the convex quad (the shared
/// cell-centre rule, [`cell_centre_runs`]).
fn fill_convex(
    quad: &[(f64, f64); 4],
    res: f64,
    nx: usize,
    ny: usize,
    mut visit: impl FnMut(usize),
) {
    let (nx_i, ny_i) = (nx as i64, ny as i64);
    cell_centre_runs(quad, res, |j, i0, i1| {
        if !(0..ny_i).contains(&j) {
            return;
        }
        let row = j as usize * nx;
        for i in i0.max(0)..i1.min(nx_i) {
            visit(row + i as usize);
        }
    });
}

/// Coverage of every field that received points, from a standard points batch: positions (see
/// [`point_columns`](crate::point_columns)), `heading` (degrees), `equipmentWidth` and `distance` (metres), and
/// `area` (m²) when present, so each swath is as wide as the sections that were on ([`Swath::of_point`]).
/// Returns `None` when the batch lacks the swath columns.
pub fn batch_coverage(
    index: &FieldIndex,
    batch: &arrow_array::RecordBatch,
    allocation: &crate::Allocation,
    opts: CoverageOptions,
) -> crate::Result<Option<Vec<(u32, FieldCoverage)>>> {
    use arrow_array::Float64Array;
    use rayon::prelude::*;
    let col = |name: &str| {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
    };
    let (Some(heading), Some(width), Some(distance)) =
        (col("heading"), col("equipmentWidth"), col("distance"))
    else {
        return Ok(None);
    };
    let area = col("area");
    let (xs, ys) = crate::point_columns(batch)?;
    let mut per_field: Vec<Vec<usize>> = vec![Vec::new(); index.len()];
    for (i, &f) in allocation.field.iter().enumerate() {
        if let Some(v) = per_field.get_mut(f as usize) {
            v.push(i);
        }
    }
    let value = |a: &Float64Array, i: usize| if a.is_valid(i) { a.value(i) } else { f64::NAN };
    use arrow_array::Array;
    let out = per_field
        .par_iter()
        .enumerate()
        .filter(|(_, rows)| !rows.is_empty())
        .filter_map(|(f, rows)| {
            let swaths = rows.iter().filter_map(|&i| {
                Swath::of_point(
                    xs[i],
                    ys[i],
                    value(heading, i),
                    value(width, i),
                    value(distance, i),
                    area.map(|a| value(a, i)),
                )
            });
            field_coverage(index, f as u32, swaths, opts).map(|c| (f as u32, c))
        })
        .collect();
    Ok(Some(out))
}
