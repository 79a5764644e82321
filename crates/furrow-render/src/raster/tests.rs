use super::*;
use crate::grid::{Grid, Projection};

/// A 10 × 10 grid of 1° cells from (0, 10) to (10, 0) in plain degrees.
fn grid() -> Grid {
    Grid {
        projection: Projection::Geographic,
        x0: 0.0,
        y0: 10.0,
        cell: 1.0,
        width: 10,
        height: 10,
    }
}

fn painted(means: &[f64]) -> Vec<(usize, usize)> {
    means
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.is_nan())
        .map(|(i, _)| (i % 10, i / 10))
        .collect()
}

#[test]
fn polygon_covers_the_cell_centres_inside() {
    let mut pts = Points::new();
    // x 2..5, y 6..8: columns 2,3,4 and rows 2,3 (row 0 is y 9..10)
    pts.push_swath(
        3.0,
        7.0,
        &[[[2.0, 6.0], [5.0, 6.0], [5.0, 8.0], [2.0, 8.0]]],
    );
    let m = cell_means(&pts, &[4.0], &grid());
    assert_eq!(
        painted(&m),
        [(2, 2), (3, 2), (4, 2), (2, 3), (3, 3), (4, 3)]
    );
    assert!(m.iter().filter(|v| !v.is_nan()).all(|&v| v == 4.0));
}

#[test]
fn holes_stay_empty_and_rings_may_be_closed() {
    let mut pts = Points::new();
    let outer = vec![[0.0, 0.0], [3.0, 0.0], [3.0, 3.0], [0.0, 3.0], [0.0, 0.0]];
    let hole = vec![[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0]];
    pts.push_swath(1.5, 1.5, &[outer, hole]);
    let m = cell_means(&pts, &[1.0], &grid());
    let p = painted(&m);
    assert_eq!(p.len(), 8);
    assert!(!p.contains(&(1, 8)));
}

#[test]
fn overlaps_average() {
    let mut pts = Points::new();
    pts.push_swath(
        1.0,
        9.0,
        &[[[0.0, 8.0], [2.0, 8.0], [2.0, 10.0], [0.0, 10.0]]],
    );
    pts.push_swath(
        2.0,
        9.0,
        &[[[1.0, 8.0], [3.0, 8.0], [3.0, 10.0], [1.0, 10.0]]],
    );
    let m = cell_means(&pts, &[2.0, 4.0], &grid());
    assert_eq!(m[0], 2.0);
    assert_eq!(m[1], 3.0);
    assert_eq!(m[2], 4.0);
    assert!(m[3].is_nan());
}

#[test]
fn a_sliver_paints_the_cell_of_its_point() {
    let mut pts = Points::new();
    pts.push_swath(4.2, 4.7, &[[[4.1, 4.6], [4.3, 4.6], [4.3, 4.8]]]);
    let m = cell_means(&pts, &[7.0], &grid());
    assert_eq!(painted(&m), [(4, 5)]);
}

#[test]
fn no_value_paints_nothing() {
    let mut pts = Points::new();
    pts.push_swath(
        4.5,
        4.5,
        &[[[4.0, 4.0], [5.0, 4.0], [5.0, 5.0], [4.0, 5.0]]],
    );
    pts.push_swath(
        4.5,
        4.5,
        &[[[4.0, 4.0], [5.0, 4.0], [5.0, 5.0], [4.0, 5.0]]],
    );
    let m = cell_means(&pts, &[f64::NAN, f64::INFINITY], &grid());
    assert!(m.iter().all(|v| v.is_nan()));
}

#[test]
fn squares_are_metres_on_the_ground() {
    // 1 cell = 1e-5°; a 3 m square at the equator spans 3 / 1.113 = 2.7 cells each way
    let g = Grid {
        projection: Projection::Geographic,
        x0: 0.0,
        y0: 0.0001,
        cell: 1e-5,
        width: 20,
        height: 20,
    };
    let mut pts = Points::new();
    pts.push_square(0.000_055, 0.000_045, None);
    let m = cell_means(&pts, &[1.0], &g);
    let n = m.iter().filter(|v| !v.is_nan()).count();
    assert_eq!(n, 9, "3 × 3 cells");
    let mut pts = Points::new();
    pts.push_square(0.000_055, 0.000_045, Some(12.0));
    let m = cell_means(&pts, &[1.0], &g);
    let n = m.iter().filter(|v| !v.is_nan()).count();
    assert!((100..=121).contains(&n), "{n}");
}

#[test]
fn footprints_outside_the_grid_are_clipped() {
    let mut pts = Points::new();
    pts.push_swath(
        5.0,
        5.0,
        &[[
            [-100.0, -100.0],
            [100.0, -100.0],
            [100.0, 100.0],
            [-100.0, 100.0],
        ]],
    );
    let m = cell_means(&pts, &[1.0], &grid());
    assert!(m.iter().all(|&v| v == 1.0));
}

#[test]
fn ceil_clamped_is_ceil_within_bounds() {
    for x in [
        -3.5,
        -0.0,
        0.0,
        0.2,
        1.0,
        1.000_001,
        6.5,
        9.0,
        9.99,
        10.0,
        1e300,
        f64::NAN,
        f64::INFINITY,
    ] {
        let expect = if x.is_nan() {
            0.0
        } else {
            x.ceil().clamp(0.0, 10.0)
        };
        assert_eq!(ceil_clamped(x, 10), expect as usize, "{x}");
    }
}

fn mercator_grid(south: f64, north: f64) -> Grid {
    let p = Projection::WebMercator;
    Grid {
        projection: p,
        x0: p.x(-93.5),
        y0: p.y(north),
        cell: 1.113_194_9,
        width: 100,
        height: ((p.y(north) - p.y(south)) / 1.113_194_9).ceil() as u32,
    }
}

#[test]
fn mapper_series_matches_the_mercator_formula() {
    for (south, north) in [(41.76, 41.81), (-34.2, -33.9), (59.0, 59.3), (0.0, 0.05)] {
        let g = mercator_grid(south, north);
        let m = Mapper::new(&g);
        assert!(matches!(m.y, YMap::Series { .. }), "{south}..{north}");
        for i in 0..=100 {
            let lat = south + (north - south) * f64::from(i) / 100.0;
            let (px, py) = m.pixel(-93.45, lat);
            let (ex, ey) = g.pixel_of(-93.45, lat);
            assert!(
                (px - ex).abs() < 1e-9 && (py - ey).abs() < 1e-5,
                "{lat}: {py} vs {ey}"
            );
        }
    }
    // a span too wide for the series keeps the formula
    let g = mercator_grid(-60.0, 70.0);
    assert!(matches!(Mapper::new(&g).y, YMap::Exact));
}
