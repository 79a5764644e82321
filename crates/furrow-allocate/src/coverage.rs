//! Coverage per field: the area the swaths covered, and covered twice or more, by rasterising swath rectangles
//! on a per-field grid (default 1 m) clipped to the field boundary.

use serde::Serialize;

use crate::FieldIndex;

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

/// Metres per degree of latitude and longitude at a latitude (WGS 84 series).
pub fn metres_per_degree(lat_deg: f64) -> (f64, f64) {
    let p = lat_deg.to_radians();
    let lat =
        111_132.92 - 559.82 * (2.0 * p).cos() + 1.175 * (4.0 * p).cos() - 0.0023 * (6.0 * p).cos();
    let lon = 111_412.84 * p.cos() - 93.5 * (3.0 * p).cos() + 0.118 * (5.0 * p).cos();
    (lat, lon)
}

/// A swath's four corners in a local metric frame (east, north).
pub(crate) fn swath_corners(s: &Swath, to_m: impl Fn(f64, f64) -> (f64, f64)) -> [(f64, f64); 4] {
    let (fx, fy) = to_m(s.lon, s.lat);
    let h = s.heading_deg.to_radians();
    let (dx, dy) = (h.sin(), h.cos()); // unit vector along travel
    let (px, py) = (dy, -dx); // unit vector to the right
    let (hw, d) = (s.width_m / 2.0, s.distance_m);
    let (bx, by) = (fx - dx * d, fy - dy * d);
    [
        (fx - px * hw, fy - py * hw),
        (fx + px * hw, fy + py * hw),
        (bx + px * hw, by + py * hw),
        (bx - px * hw, by - py * hw),
    ]
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
    let to_m = |lon: f64, lat: f64| ((lon - x0) * m_lon, (lat - y0) * m_lat);
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
        let quad = swath_corners(&s, to_m);
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

/// Calls `visit` with every cell whose centre lies in the convex quad (half-open in x and y).
fn fill_convex(
    quad: &[(f64, f64); 4],
    res: f64,
    nx: usize,
    ny: usize,
    mut visit: impl FnMut(usize),
) {
    let ymin = quad.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let ymax = quad.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let j0 = ((ymin / res - 0.5).ceil().max(0.0)) as usize;
    let j1 = (((ymax / res - 0.5).ceil()).max(0.0) as usize).min(ny);
    for j in j0..j1 {
        let yc = (j as f64 + 0.5) * res;
        let (mut xl, mut xr) = (f64::INFINITY, f64::NEG_INFINITY);
        for k in 0..4 {
            let (a, b) = (quad[k], quad[(k + 1) % 4]);
            if (a.1 <= yc) != (b.1 <= yc) {
                let x = a.0 + (yc - a.1) * (b.0 - a.0) / (b.1 - a.1);
                xl = xl.min(x);
                xr = xr.max(x);
            }
        }
        if xl > xr {
            continue;
        }
        let i0 = ((xl / res - 0.5).ceil().max(0.0)) as usize;
        let i1 = (((xr / res - 0.5).ceil()).max(0.0) as usize).min(nx);
        for i in i0..i1 {
            visit(j * nx + i);
        }
    }
}

/// Coverage of every field that received points, from a standard points batch: positions (see
/// [`point_columns`](crate::point_columns)), `heading` (degrees), `equipmentWidth` and `distance` (metres). Returns
/// `None` when the batch lacks the swath columns.
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
            let swaths = rows.iter().map(|&i| Swath {
                lon: xs[i],
                lat: ys[i],
                heading_deg: value(heading, i),
                width_m: value(width, i),
                distance_m: value(distance, i),
            });
            field_coverage(index, f as u32, swaths, opts).map(|c| (f as u32, c))
        })
        .collect();
    Ok(Some(out))
}
