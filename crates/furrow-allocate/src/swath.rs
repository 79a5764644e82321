//! The swath model every area furrow reports is built on (docs/MACHINE-DATA.md, "Areas"): one rectangle a
//! point, `width` across and `distance` long, from the point back along its heading, laid out in a local
//! metric frame with one earth model ([`metres_per_degree`], WGS 84), and one raster rule (a cell is covered
//! when its centre lies inside a rectangle, [`cell_centre_runs`]).
//!
//! A point's `distance` and `heading` are measured in the same frame ([`StepGeometry`]), so its rectangle ends
//! exactly at the previous point.
//!
//! The standard points' distances and headings (`furrow-machine-data`, from ISOXML and from shapefiles alike),
//! the file summary's covered area (`furrow-machine-data`), the swath polygons (`furrow-geoparquet`), the images
//! (`furrow-pipeline` through `furrow-geoparquet`) and the field coverage
//! ([`field_coverage`](crate::field_coverage)) all use these functions, so their areas agree.

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

/// Distance and direction between consecutive points, in the one earth model of furrow's areas
/// ([`metres_per_degree`], WGS 84): the step is measured in the local frame of its mid latitude, so a point's
/// swath (`distance` back along `heading`, laid out with the same scale) ends exactly at the previous point.
/// The scale is cached and stepped to the current latitude by its derivative until the latitude moves by more
/// than 0.01°: one `atan2` a point and no trigonometric call. Steps of a degree or more (teleports, never work)
/// fall back to the haversine.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepGeometry {
    /// The scale cached at a latitude; `None` before the first step.
    scale: Option<CachedScale>,
}

/// A latitude (degrees), the metres per degree of latitude and longitude there, and their derivatives.
#[derive(Debug, Clone, Copy)]
struct CachedScale {
    at: f64,
    m: (f64, f64),
    slope: (f64, f64),
}

/// The mean earth radius of the haversine fallback for steps of a degree or more.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl StepGeometry {
    /// Steps at least this long in degrees of latitude or longitude are measured on the sphere.
    const LARGE: f64 = 1.0;
    /// The cached scale is that of the middle of a band of latitude this wide (degrees), recomputed when a
    /// step's mid latitude leaves the band: every step of a band, on any pass, uses the same scale.
    const BAND: f64 = 0.05;

    /// A geometry with no scale cached yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `(distance in m, its square, bearing in degrees from north)` from `(lon1, lat1)` to `(lon2, lat2)`; no
    /// bearing for a step that does not move. The square lets a comparison (the jump test, on the record
    /// loop's longest chain of latency) go ahead without waiting for the square root.
    #[inline]
    pub fn step(&mut self, lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> (f64, f64, Option<f64>) {
        let (dlon, dlat) = (lon2 - lon1, lat2 - lat1);
        if dlon.abs() >= Self::LARGE || dlat.abs() >= Self::LARGE {
            let d = haversine(lon1, lat1, lon2, lat2);
            return (d, d * d, (d > 0.0).then(|| bearing(lon1, lat1, lon2, lat2)));
        }
        let mid = 0.5 * (lat1 + lat2);
        let (m_lat, m_lon) = match self.scale {
            // the scale of longitude by a first-order Taylor step from the band's middle (error below
            // 2e-7); that of latitude, which changes 70 times slower, held (error below 5e-6), so that the
            // passes of a field along a meridian share a handful of distinct distances, which the columns
            // compress to
            Some(c) if (mid - c.at).abs() <= 0.5 * Self::BAND => {
                (c.m.0, c.m.1 + c.slope.1 * (mid - c.at))
            }
            _ => {
                let at = (mid / Self::BAND).round() * Self::BAND;
                let c = CachedScale {
                    at,
                    m: metres_per_degree(at),
                    slope: metres_per_degree_slope(at),
                };
                self.scale = Some(c);
                (c.m.0, c.m.1 + c.slope.1 * (mid - at))
            }
        };
        let east = dlon * m_lon;
        let north = dlat * m_lat;
        let d2 = east * east + north * north;
        let d = d2.sqrt();
        if d == 0.0 {
            return (0.0, 0.0, None);
        }
        let h = east.atan2(north).to_degrees();
        (d, d2, Some(if h < 0.0 { h + 360.0 } else { h }))
    }
}

fn haversine(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

fn bearing(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dl = (lon2 - lon1).to_radians();
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    (y.atan2(x).to_degrees() + 360.0) % 360.0
}

/// The area of a ring of longitude/latitude vertices in m² (shoelace in the local frame of its first vertex,
/// [`LocalFrame`]); 0 for an empty ring.
pub fn ring_area_m2(lon: &[f64], lat: &[f64]) -> f64 {
    let (Some(&x0), Some(&y0)) = (lon.first(), lat.first()) else {
        return 0.0;
    };
    let frame = LocalFrame::at(x0, y0);
    let n = lon.len().min(lat.len());
    let mut s = 0.0;
    for i in 0..n {
        let j = (i + 1) % n;
        let (xi, yi) = frame.to_metres(lon[i], lat[i]);
        let (xj, yj) = frame.to_metres(lon[j], lat[j]);
        s += xi * yj - xj * yi;
    }
    (s / 2.0).abs()
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

    /// Steps are measured in the local WGS 84 frame of their mid latitude (the frame swaths are laid out
    /// in): the cached scale gives the same distances (within 5e-6) and bearings as the scale computed
    /// afresh, and the figures stay within the sphere's by the ellipsoid's flattening.
    #[test]
    fn steps_are_measured_in_the_local_wgs84_frame() {
        let mut g = StepGeometry::new();
        // a walk of 20,000 steps of up to ~70 m in every direction, at latitudes from 0 to 70°; the
        // cached scale is refreshed a few times on the way
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut worst_d, mut worst_h, mut worst_sphere, mut n) = (0.0f64, 0.0f64, 0.0f64, 0);
        for start_lat in [0.0, 35.0, 52.5, 70.0] {
            let (mut lon, mut lat) = (-93.5, start_lat);
            for _ in 0..5_000 {
                let (lon2, lat2) = (lon + (next() - 0.5) * 1e-3, lat + (next() - 0.5) * 1e-3);
                let (d, d2, h) = g.step(lon, lat, lon2, lat2);
                assert!((d * d - d2).abs() <= 1e-12 * d2, "{d}² against {d2}");
                let (ml, mo) = metres_per_degree(0.5 * (lat + lat2));
                let (e, no) = ((lon2 - lon) * mo, (lat2 - lat) * ml);
                let exact = e.hypot(no);
                worst_d = worst_d.max((d - exact).abs() / exact);
                let hb = (e.atan2(no).to_degrees() + 360.0) % 360.0;
                let diff = (h.expect("moved") - hb).abs();
                worst_h = worst_h.max(diff.min(360.0 - diff));
                let sphere = haversine(lon, lat, lon2, lat2);
                worst_sphere = worst_sphere.max((d - sphere).abs() / sphere);
                (lon, lat) = (lon2, lat2);
                n += 1;
            }
        }
        assert_eq!(n, 20_000);
        assert!(worst_d < 5e-6, "distance relative error {worst_d}");
        assert!(worst_h < 1e-4, "bearing error {worst_h}°");
        // WGS 84 against the mean sphere: under 0.7 % at these latitudes, and not nothing
        assert!(worst_sphere < 7e-3 && worst_sphere > 1e-4, "{worst_sphere}");
        // no movement: no bearing; a step of a degree or more: the haversine
        assert_eq!(g.step(1.0, 50.0, 1.0, 50.0), (0.0, 0.0, None));
        let (d, d2, h) = g.step(1.0, 50.0, 2.5, 50.2);
        assert_eq!(d, haversine(1.0, 50.0, 2.5, 50.2));
        assert_eq!(d2, d * d);
        assert_eq!(h, Some(bearing(1.0, 50.0, 2.5, 50.2)));
    }

    /// A ring's area is that of the same ring laid out with the swaths' scale: a 12 m × 3 m swath rectangle
    /// has 36 m², whichever way it points and whichever vertex comes first.
    #[test]
    fn ring_areas_use_the_swath_frame() {
        for heading in [0.0, 37.0, 90.0, 181.0, 300.0] {
            let q = swath_lonlat(-93.5, 41.6, 12.0, 3.0, heading);
            for first in 0..4 {
                let lon: Vec<f64> = (0..4).map(|k| q[(first + k) % 4].0).collect();
                let lat: Vec<f64> = (0..4).map(|k| q[(first + k) % 4].1).collect();
                let a = ring_area_m2(&lon, &lat);
                assert!((a - 36.0).abs() < 1e-3, "{heading}/{first}: {a}");
            }
        }
        assert_eq!(ring_area_m2(&[], &[]), 0.0);
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
