use super::*;

fn bbox(west: f64, east: f64, south: f64, north: f64) -> LonLatBox {
    let mut b = LonLatBox::EMPTY;
    b.add(west, east, south, north);
    b
}

#[test]
fn nominal_cell_is_leafs_resolution() {
    // 0.00001° in EPSG:3857 units, as leaf-images.md §4.2 states it
    let g = Grid::fit(
        bbox(-93.49, -93.48, 41.77, 41.78),
        Projection::WebMercator,
        1e-5,
        4096,
    )
    .unwrap();
    assert!((g.cell - 1.113_194_9).abs() < 1e-7, "{}", g.cell);
    assert_eq!(g.width, 1000);
    let e = g.extent();
    assert!((e.xmin + 93.49).abs() < 1e-12);
    assert!((e.ymax - 41.78).abs() < 1e-9);
    assert!((e.ymin - 41.77).abs() < 1e-5); // the last row reaches past the south edge
    assert!(e.ymin <= 41.77);
    assert!(e.xmax >= -93.48);
}

#[test]
fn cell_grows_to_respect_the_cap() {
    let g = Grid::fit(
        bbox(10.0, 10.5, 50.0, 50.1),
        Projection::Geographic,
        1e-5,
        2048,
    )
    .unwrap();
    assert_eq!(g.width, 2048);
    assert!(g.height < 2048);
    assert!((g.cell - 0.5 / 2048.0).abs() < 1e-15);
}

#[test]
fn zero_area_is_one_cell() {
    let g = Grid::fit(
        bbox(5.0, 5.0, 45.0, 45.0),
        Projection::WebMercator,
        1e-5,
        4096,
    )
    .unwrap();
    assert_eq!((g.width, g.height), (1, 1));
}

#[test]
fn mercator_round_trips() {
    let p = Projection::WebMercator;
    for lat in [-85.0, -41.5, 0.0, 12.25, 60.0, 85.0] {
        assert!((p.lat(p.y(lat)) - lat).abs() < 1e-10);
    }
    assert!((p.y(45.0) - 5_621_521.486_192).abs() < 1e-3);
    assert_eq!(p.epsg(), 3857);
    assert!(!p.valid(0.0, 86.0));
    assert!(Projection::Geographic.valid(0.0, 86.0));
}

#[test]
fn pixel_of_the_corner_is_zero() {
    let g = Grid::fit(
        bbox(-1.0, 1.0, -1.0, 1.0),
        Projection::Geographic,
        0.5,
        4096,
    )
    .unwrap();
    assert_eq!((g.width, g.height), (4, 4));
    assert_eq!(g.pixel_of(-1.0, 1.0), (0.0, 0.0));
    assert_eq!(g.pixel_of(1.0, -1.0), (4.0, 4.0));
    assert_eq!(g.geo_transform(), [-1.0, 0.5, 0.0, 1.0, 0.0, -0.5]);
}
