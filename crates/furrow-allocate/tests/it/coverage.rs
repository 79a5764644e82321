use furrow_allocate::{
    CoverageOptions, Field, FieldIndex, Swath, field_coverage, metres_per_degree,
};
use geo::{Area, BooleanOps};
use geo_types::{Coord, LineString, MultiPolygon, Polygon, polygon};

/// A 200 m × 200 m square field near 41.5°N.
fn field() -> (FieldIndex, f64, f64, f64, f64) {
    let (lat0, lon0) = (41.5, -93.5);
    let (m_lat, m_lon) = metres_per_degree(lat0);
    let (dlon, dlat) = (200.0 / m_lon, 200.0 / m_lat);
    let sq = polygon![(x: lon0, y: lat0), (x: lon0 + dlon, y: lat0), (x: lon0 + dlon, y: lat0 + dlat), (x: lon0, y: lat0 + dlat)];
    (
        FieldIndex::build([Field {
            id: "f".into(),
            boundary: MultiPolygon(vec![sq]),
        }])
        .unwrap(),
        lon0,
        lat0,
        m_lon,
        m_lat,
    )
}

/// Serpentine passes with some overlap between neighbouring passes and a diagonal pass across them.
fn swaths(lon0: f64, lat0: f64, m_lon: f64, m_lat: f64) -> Vec<Swath> {
    let mut out = Vec::new();
    let width = 12.0;
    for pass in 0..16 {
        let x = 10.0 + pass as f64 * 11.0; // 1 m overlap between passes
        let northbound = pass % 2 == 0;
        for k in 1..=38 {
            let y = if northbound {
                5.0 + k as f64 * 5.0
            } else {
                195.0 - k as f64 * 5.0
            };
            out.push(Swath {
                lon: lon0 + x / m_lon,
                lat: lat0 + y / m_lat,
                heading_deg: if northbound { 0.0 } else { 180.0 },
                width_m: width,
                distance_m: 5.0,
            });
        }
    }
    for k in 1..=30 {
        let d = k as f64 * 6.0;
        out.push(Swath {
            lon: lon0 + (20.0 + d * 0.6) / m_lon,
            lat: lat0 + (10.0 + d * 0.8) / m_lat,
            heading_deg: 36.87,
            width_m: 8.0,
            distance_m: 6.0,
        });
    }
    out
}

/// The exact answer: union of the swath rectangles (in metres) clipped to the field, and the area covered twice.
fn exact(sw: &[Swath], lon0: f64, lat0: f64, m_lon: f64, m_lat: f64) -> (f64, f64) {
    let field = MultiPolygon(vec![
        polygon![(x: 0.0, y: 0.0), (x: 200.0, y: 0.0), (x: 200.0, y: 200.0), (x: 0.0, y: 200.0)],
    ]);
    let quads: Vec<MultiPolygon<f64>> = sw
        .iter()
        .map(|s| {
            let (fx, fy) = ((s.lon - lon0) * m_lon, (s.lat - lat0) * m_lat);
            let h = s.heading_deg.to_radians();
            let (dx, dy) = (h.sin(), h.cos());
            let (px, py) = (dy, -dx);
            let hw = s.width_m / 2.0;
            let (bx, by) = (fx - dx * s.distance_m, fy - dy * s.distance_m);
            let ring: Vec<Coord<f64>> = [
                (fx - px * hw, fy - py * hw),
                (bx - px * hw, by - py * hw),
                (bx + px * hw, by + py * hw),
                (fx + px * hw, fy + py * hw),
            ]
            .into_iter()
            .map(|(x, y)| Coord { x, y })
            .collect();
            MultiPolygon(vec![Polygon::new(LineString(ring), vec![])])
        })
        .collect();
    let mut union = MultiPolygon::<f64>(vec![]);
    let mut twice = MultiPolygon::<f64>(vec![]);
    for q in &quads {
        let q = q.intersection(&field);
        twice = twice.union(&union.intersection(&q));
        union = union.union(&q);
    }
    (union.unsigned_area(), twice.unsigned_area())
}

#[test]
fn raster_coverage_is_within_one_percent_of_the_exact_union() {
    let (index, lon0, lat0, m_lon, m_lat) = field();
    let sw = swaths(lon0, lat0, m_lon, m_lat);
    let (covered, overlap) = exact(&sw, lon0, lat0, m_lon, m_lat);
    assert!(
        covered > 30_000.0 && overlap > 1_000.0,
        "a real case: covered {covered}, overlap {overlap}"
    );
    let c = field_coverage(&index, 0, sw.iter().copied(), CoverageOptions::default()).unwrap();
    assert!(
        (c.field_area_m2 - 40_000.0).abs() / 40_000.0 < 0.01,
        "field area {}",
        c.field_area_m2
    );
    assert!(
        (c.covered_m2 - covered).abs() / covered < 0.01,
        "covered {} vs exact {covered}",
        c.covered_m2
    );
    assert!(
        (c.overlap_m2 - overlap).abs() / overlap < 0.05,
        "overlap {} vs exact {overlap}",
        c.overlap_m2
    );
    assert!(c.gross_m2 > c.covered_m2);
    assert!((c.coverage - c.covered_m2 / c.field_area_m2).abs() < 1e-12);
    let fine = field_coverage(
        &index,
        0,
        sw.iter().copied(),
        CoverageOptions {
            resolution_m: 0.25,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        (fine.covered_m2 - covered).abs() / covered < 0.002,
        "0.25 m: {} vs {covered}",
        fine.covered_m2
    );
}

#[test]
fn swaths_outside_the_field_and_bad_values_count_nothing() {
    let (index, lon0, lat0, m_lon, m_lat) = field();
    let outside = Swath {
        lon: lon0 - 50.0 / m_lon,
        lat: lat0 + 100.0 / m_lat,
        heading_deg: 0.0,
        width_m: 10.0,
        distance_m: 10.0,
    };
    let nan = Swath {
        lon: f64::NAN,
        ..outside
    };
    let zero = Swath {
        lon: lon0 + 100.0 / m_lon,
        width_m: 0.0,
        ..outside
    };
    let c = field_coverage(&index, 0, [outside, nan, zero], CoverageOptions::default()).unwrap();
    assert_eq!((c.covered_m2, c.overlap_m2, c.gross_m2), (0.0, 0.0, 0.0));
    assert!(field_coverage(&index, 7, [], CoverageOptions::default()).is_none());
    // A grid cap coarsens the resolution instead of allocating without bound.
    let capped = field_coverage(
        &index,
        0,
        swaths(lon0, lat0, m_lon, m_lat),
        CoverageOptions {
            resolution_m: 0.01,
            max_cells: 100_000,
        },
    )
    .unwrap();
    assert!(capped.resolution_m >= 0.64, "{}", capped.resolution_m);
}
