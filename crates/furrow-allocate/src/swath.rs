//! The swath model every area furrow reports is built on (docs/MACHINE-DATA.md, "Areas"): one rectangle a
//! point, `width` across and `distance` long, from the point back along its heading, laid out in a local
//! metric frame with one earth model ([`metres_per_degree`], WGS 84), and one raster rule (a cell is covered
//! when its centre lies inside a rectangle, [`cell_centre_runs`]).
//!
//! The file summary's covered area (`furrow-machine-data`), the swath polygons (`furrow-geoparquet`) and the
//! field coverage ([`field_coverage`](crate::field_coverage)) all use these functions, so their areas agree.

/// Metres per degree of latitude and of longitude at a latitude (WGS 84 series): the one earth model of
/// distances, swaths and coverage.
pub fn metres_per_degree(lat_deg: f64) -> (f64, f64) {
    let p = lat_deg.to_radians();
    let lat =
        111_132.92 - 559.82 * (2.0 * p).cos() + 1.175 * (4.0 * p).cos() - 0.0023 * (6.0 * p).cos();
    let lon = 111_412.84 * p.cos() - 93.5 * (3.0 * p).cos() + 0.118 * (5.0 * p).cos();
    (lat, lon)
}

/// Derivatives of [`metres_per_degree`] by the latitude, per degree (for stepping a cached scale).
pub fn metres_per_degree_slope(lat_deg: f64) -> (f64, f64) {
    let p = lat_deg.to_radians();
    let k = std::f64::consts::PI / 180.0;
    let lat = (2.0 * 559.82 * (2.0 * p).sin() - 4.0 * 1.175 * (4.0 * p).sin()
        + 6.0 * 0.0023 * (6.0 * p).sin())
        * k;
    let lon =
        (-111_412.84 * p.sin() + 3.0 * 93.5 * (3.0 * p).sin() - 5.0 * 0.118 * (5.0 * p).sin()) * k;
    (lat, lon)
}

/// A local metric frame: metres east (`x`) and north (`y`) of an origin, with the scale of the origin's
/// latitude (an equirectangular frame: within 1e-4 of the ellipsoid's distances a kilometre away).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalFrame {
    /// Longitude of the origin, degrees.
    pub lon0: f64,
    /// Latitude of the origin, degrees.
    pub lat0: f64,
    /// Metres per degree of longitude at the origin.
    pub m_lon: f64,
    /// Metres per degree of latitude at the origin.
    pub m_lat: f64,
}

impl LocalFrame {
    /// The frame around `(lon0, lat0)`.
    pub fn at(lon0: f64, lat0: f64) -> Self {
        let (m_lat, m_lon) = metres_per_degree(lat0);
        LocalFrame {
            lon0,
            lat0,
            m_lon: m_lon.max(1e-6),
            m_lat,
        }
    }

    /// `(x, y)` metres of a position.
    #[inline]
    pub fn to_metres(&self, lon: f64, lat: f64) -> (f64, f64) {
        (
            (lon - self.lon0) * self.m_lon,
            (lat - self.lat0) * self.m_lat,
        )
    }

    /// The position of `(x, y)` metres.
    #[inline]
    pub fn to_lonlat(&self, x: f64, y: f64) -> (f64, f64) {
        (self.lon0 + x / self.m_lon, self.lat0 + y / self.m_lat)
    }
}

/// The unit vector of a heading (degrees clockwise from north) in a metric frame: `(east, north)`.
#[inline]
pub fn heading_vector(heading_deg: f64) -> (f64, f64) {
    let (sin, cos) = heading_deg.to_radians().sin_cos();
    (sin, cos)
}

/// A swath rectangle's corners in a metric frame, counter-clockwise: front right, front left, back left,
/// back right. The front edge is centred on `front`; the rectangle reaches `distance` back along the
/// direction `dir` (a unit vector, see [`heading_vector`]) and is `width` across.
#[inline]
pub fn swath_corners(
    front: (f64, f64),
    dir: (f64, f64),
    width: f64,
    distance: f64,
) -> [(f64, f64); 4] {
    let (dx, dy) = dir;
    // the right-hand normal of the direction of travel
    let (rx, ry) = (dy, -dx);
    let (hw, d) = (width / 2.0, distance);
    let (fx, fy) = front;
    let (bx, by) = (fx - dx * d, fy - dy * d);
    [
        (fx + rx * hw, fy + ry * hw),
        (fx - rx * hw, fy - ry * hw),
        (bx - rx * hw, by - ry * hw),
        (bx + rx * hw, by + ry * hw),
    ]
}

/// A point's swath rectangle in longitude/latitude, counter-clockwise (see [`swath_corners`]), laid out in
/// the local frame of the point.
pub fn swath_lonlat(
    lon: f64,
    lat: f64,
    width: f64,
    distance: f64,
    heading_deg: f64,
) -> [(f64, f64); 4] {
    let frame = LocalFrame::at(lon, lat);
    swath_corners((0.0, 0.0), heading_vector(heading_deg), width, distance)
        .map(|(x, y)| frame.to_lonlat(x, y))
}

/// The width of a point's swath: the area it covered over the distance it moved (the sections that were
/// on), else its equipment width. `None` when neither gives a positive finite width, or the point did not
/// move.
#[inline]
pub fn swath_width(equipment_width: f64, distance: f64, area: Option<f64>) -> Option<f64> {
    if distance.is_nan() || distance <= 0.0 || distance.is_infinite() {
        return None;
    }
    let w = match area {
        Some(a) if a.is_finite() && a >= 0.0 => a / distance,
        _ => equipment_width,
    };
    (w > 0.0 && w.is_finite()).then_some(w)
}

/// The cells of a grid of `cell`-metre squares (cell `(i, j)` spans `[i·cell, (i+1)·cell)` east and
/// `[j·cell, (j+1)·cell)` north) whose centre lies inside the convex quadrilateral `quad` (metres), as runs
/// `visit(j, i_first, i_end)` of one row each (`i_end` excluded). Edges are half-open, so two rectangles
/// that share an edge share no cell, and a cell is counted by the area it stands for: the union's raster
/// area is an unbiased estimate of its true area.
pub fn cell_centre_runs(quad: &[(f64, f64); 4], cell: f64, mut visit: impl FnMut(i64, i64, i64)) {
    if cell.is_nan() || cell <= 0.0 || quad.iter().any(|p| !(p.0.is_finite() && p.1.is_finite())) {
        return;
    }
    let ymin = quad.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let ymax = quad.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let j0 = (ymin / cell - 0.5).ceil() as i64;
    let j1 = (ymax / cell - 0.5).ceil() as i64;
    for j in j0..j1 {
        let yc = (j as f64 + 0.5) * cell;
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
        let i0 = (xl / cell - 0.5).ceil() as i64;
        let i1 = (xr / cell - 0.5).ceil() as i64;
        if i1 > i0 {
            visit(j, i0, i1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rectangles_are_the_right_size_and_counter_clockwise() {
        for heading in [0.0, 37.0, 90.0, 181.0, 300.0] {
            let q = swath_corners((5.0, -3.0), heading_vector(heading), 12.0, 3.0);
            // shoelace: positive for counter-clockwise
            let area: f64 = (0..4)
                .map(|k| {
                    let (a, b) = (q[k], q[(k + 1) % 4]);
                    a.0 * b.1 - b.0 * a.1
                })
                .sum::<f64>()
                / 2.0;
            assert!((area - 36.0).abs() < 1e-9, "{heading}: {area}");
            // the front edge is centred on the point, the back edge 3 m behind it
            let mid_front = ((q[0].0 + q[1].0) / 2.0, (q[0].1 + q[1].1) / 2.0);
            assert!((mid_front.0 - 5.0).abs() < 1e-12 && (mid_front.1 + 3.0).abs() < 1e-12);
            let (dx, dy) = heading_vector(heading);
            let mid_back = ((q[2].0 + q[3].0) / 2.0, (q[2].1 + q[3].1) / 2.0);
            assert!((mid_back.0 - (5.0 - 3.0 * dx)).abs() < 1e-12);
            assert!((mid_back.1 - (-3.0 - 3.0 * dy)).abs() < 1e-12);
        }
        // lon/lat: the frame's scale turns back into the same metres
        let ll = swath_lonlat(-93.5, 41.6, 12.0, 3.0, 90.0);
        let f = LocalFrame::at(-93.5, 41.6);
        let m: Vec<(f64, f64)> = ll.iter().map(|&(x, y)| f.to_metres(x, y)).collect();
        assert!(((m[0].0 - m[3].0).hypot(m[0].1 - m[3].1) - 3.0).abs() < 1e-9);
        assert!(((m[0].0 - m[1].0).hypot(m[0].1 - m[1].1) - 12.0).abs() < 1e-9);
    }

    #[test]
    fn the_slope_is_the_derivative_of_the_scale() {
        for lat in [-70.0, -20.0, 0.0, 41.6, 52.5, 80.0] {
            let h = 1e-4;
            let (a, b) = (metres_per_degree(lat + h), metres_per_degree(lat - h));
            let (sl, so) = metres_per_degree_slope(lat);
            assert!((((a.0 - b.0) / (2.0 * h)) - sl).abs() < 1e-5, "{lat}");
            assert!((((a.1 - b.1) / (2.0 * h)) - so).abs() < 1e-5, "{lat}");
        }
    }

    /// Cell-centre counts of rotated rectangles average to their area (no edge inflation), and two
    /// rectangles sharing an edge share no cell.
    #[test]
    fn cell_centre_rasters_are_unbiased_and_half_open() {
        let (mut cells, mut exact) = (0i64, 0.0);
        for k in 0..200 {
            let heading = f64::from(k) * 1.7;
            let front = (f64::from(k) * 0.37, f64::from(k % 7) * 0.11);
            let q = swath_corners(front, heading_vector(heading), 9.0, 6.0);
            cell_centre_runs(&q, 1.0, |_, a, b| cells += b - a);
            exact += 54.0;
        }
        let got = cells as f64;
        assert!((got - exact).abs() / exact < 0.01, "{got} vs {exact}");
        // two halves of one rectangle: their cells add up to the whole one's, none twice
        let dir = heading_vector(23.0);
        let whole = swath_corners((0.3, 0.7), dir, 8.0, 10.0);
        let front_half = swath_corners((0.3, 0.7), dir, 8.0, 5.0);
        let back_half = swath_corners((0.3 - 5.0 * dir.0, 0.7 - 5.0 * dir.1), dir, 8.0, 5.0);
        let set = |q: &[(f64, f64); 4]| {
            let mut s = std::collections::BTreeSet::new();
            cell_centre_runs(q, 0.5, |j, a, b| s.extend((a..b).map(|i| (j, i))));
            s
        };
        let (w, f, b) = (set(&whole), set(&front_half), set(&back_half));
        assert!(f.is_disjoint(&b));
        assert_eq!(
            f.union(&b)
                .copied()
                .collect::<std::collections::BTreeSet<_>>(),
            w
        );
        assert!(w.len() > 250);
    }

    #[test]
    fn swath_width_prefers_the_area_covered() {
        assert_eq!(swath_width(12.0, 2.0, Some(12.0)), Some(6.0));
        assert_eq!(swath_width(12.0, 2.0, None), Some(12.0));
        assert_eq!(swath_width(12.0, 2.0, Some(f64::NAN)), Some(12.0));
        assert_eq!(swath_width(12.0, 0.0, Some(0.0)), None);
        assert_eq!(swath_width(12.0, 2.0, Some(0.0)), None);
        assert_eq!(swath_width(f64::NAN, 2.0, None), None);
    }
}
