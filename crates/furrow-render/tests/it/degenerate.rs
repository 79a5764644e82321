//! Degenerate inputs: an image or a typed error, never a panic or unbounded memory.

use furrow_render::{
    Colouring, Error, Legend, Points, Property, RenderOptions, render_geotiff, render_png,
};

use crate::util::{LAT0, LON0, decode, dlat, dlon};

fn prop<'a>(values: &'a [f64]) -> Property<'a> {
    Property {
        name: "dryMassPerArea",
        unit: "bu/ac",
        values,
    }
}

#[test]
fn one_point_is_its_square() {
    let mut points = Points::new();
    points.push_square(LON0, LAT0, None);
    let img = render_png(&points, &prop(&[7.5]), &RenderOptions::operation_v2()).unwrap();
    let d = decode(&img.png);
    // the point padded by one 3 m footprint each way: 6 m / 0.83 m cells
    assert!((7..=9).contains(&d.width), "{}", d.width);
    let colours = d.colours();
    assert_eq!(colours.len(), 1);
    assert_eq!(
        colours
            .get(&[200, 0, 0])
            .copied()
            .map(|n| (9..=16).contains(&n)),
        Some(true)
    );
    let Legend::Classes(l) = &img.legend else {
        panic!()
    };
    assert_eq!(
        (l.ranges.len(), l.ranges[0].min, l.ranges[0].max),
        (1, 7.5, 7.5)
    );
}

#[test]
fn all_values_equal_is_one_class_or_the_55_percent_colour() {
    let mut points = Points::new();
    for i in 0..50 {
        points.push_square(LON0 + dlon(f64::from(i) * 3.0), LAT0, None);
    }
    let values = [4.0; 50];
    let img = render_png(&points, &prop(&values), &RenderOptions::operation_v2()).unwrap();
    let Legend::Classes(l) = &img.legend else {
        panic!()
    };
    assert_eq!(l.ranges.len(), 1);
    assert_eq!(
        decode(&img.png).colours().keys().collect::<Vec<_>>(),
        [&[200, 0, 0]]
    );
    let img = render_png(&points, &prop(&values), &RenderOptions::file_v1()).unwrap();
    assert_eq!(
        decode(&img.png).colours().keys().collect::<Vec<_>>(),
        [&[255, 240, 0]]
    );
    let Legend::Ramp(l) = &img.legend else {
        panic!()
    };
    assert_eq!((l.min, l.max), (4.0, 4.0));
}

#[test]
fn no_finite_value_is_a_typed_error() {
    let mut points = Points::new();
    points.push_square(LON0, LAT0, None);
    points.push_square(LON0, LAT0, None);
    let values = [f64::NAN, f64::INFINITY];
    for r in [
        render_png(&points, &prop(&values), &RenderOptions::operation_v2()).map(|_| ()),
        render_geotiff(&points, &prop(&values), &RenderOptions::operation_v2()).map(|_| ()),
        render_png(&Points::new(), &prop(&[]), &RenderOptions::file_v1()).map(|_| ()),
    ] {
        assert_eq!(
            r,
            Err(Error::NoValues {
                property: "dryMassPerArea".into()
            })
        );
    }
    assert_eq!(
        Error::NoValues {
            property: "x".into()
        }
        .to_string(),
        "property `x` has no finite value to draw"
    );
}

#[test]
fn zero_area_extent_is_one_pixel() {
    let mut points = Points::new();
    let p = [LON0, LAT0];
    points.push_swath(LON0, LAT0, &[[p, p, p]]);
    points.push_swath(LON0, LAT0, &[[p, p, p, p]]);
    let img = render_png(&points, &prop(&[1.0, 3.0]), &RenderOptions::file_v1()).unwrap();
    let d = decode(&img.png);
    assert_eq!((d.width, d.height), (1, 1));
    assert_eq!(d.px(0, 0), [255, 240, 0, 255]);
    let tif = render_geotiff(&points, &prop(&[1.0, 3.0]), &RenderOptions::default()).unwrap();
    assert_eq!((tif.width, tif.height), (1, 1));
}

#[test]
fn a_million_points_in_one_pixel() {
    let n = 1_000_000;
    let mut points = Points::with_capacity(n);
    let p = [LON0, LAT0];
    let ring = [p, p, p];
    let mut values = Vec::with_capacity(n);
    for i in 0..n {
        points.push_swath(LON0, LAT0, &[ring]);
        values.push((i % 2) as f64);
    }
    let img = render_png(&points, &prop(&values), &RenderOptions::file_v1()).unwrap();
    let d = decode(&img.png);
    assert_eq!((d.width, d.height), (1, 1));
    let Legend::Ramp(l) = &img.legend else {
        panic!()
    };
    assert_eq!((l.min, l.max), (0.5, 0.5), "the cell is the mean");
    let img = render_png(&points, &prop(&values), &RenderOptions::operation_v2()).unwrap();
    let Legend::Classes(l) = &img.legend else {
        panic!()
    };
    assert_eq!(
        l.ranges.len(),
        1,
        "quantiles of half 0, half 1 merge to [0, 1]: {:?}",
        l.ranges
    );
    assert_eq!((l.ranges[0].min, l.ranges[0].max), (0.0, 1.0));
}

#[test]
fn a_continent_wide_extent_is_capped() {
    let mut points = Points::new();
    points.push_square(-170.0, -60.0, None);
    points.push_square(170.0, 70.0, None);
    let options = RenderOptions::operation_v2().with_max_side(512);
    let img = render_png(&points, &prop(&[1.0, 2.0]), &options).unwrap();
    let d = decode(&img.png);
    assert_eq!(d.width.max(d.height), 512);
    // each tiny square still paints its own cell
    assert_eq!(d.colours().values().sum::<usize>(), 2);
    let tif = render_geotiff(&points, &prop(&[1.0, 2.0]), &options).unwrap();
    assert_eq!(tif.width, 512);
}

#[test]
fn bad_input_is_a_typed_error() {
    let mut points = Points::new();
    points.push_square(LON0, LAT0, None);
    assert_eq!(
        render_png(&points, &prop(&[1.0, 2.0]), &RenderOptions::default()),
        Err(Error::LengthMismatch {
            property: "dryMassPerArea".into(),
            points: 1,
            values: 2
        })
    );
    let mut far = Points::new();
    far.push_square(10.0, 89.0, None);
    assert_eq!(
        render_png(&far, &prop(&[1.0]), &RenderOptions::default()),
        Err(Error::InvalidPosition {
            index: 0,
            lon: 10.0,
            lat: 89.0
        })
    );
    // GeoTIFFs are in EPSG:4326, where 89° is fine
    assert!(render_geotiff(&far, &prop(&[1.0]), &RenderOptions::default()).is_ok());
    let mut nan = Points::new();
    nan.push_square(LON0, LAT0, None);
    nan.push_square(f64::NAN, LAT0, None);
    assert!(matches!(
        render_png(&nan, &prop(&[1.0, 2.0]), &RenderOptions::default()),
        Err(Error::InvalidPosition { index: 1, .. })
    ));
    // a point without a value may have any position: it is not drawn
    assert!(render_png(&nan, &prop(&[1.0, f64::NAN]), &RenderOptions::default()).is_ok());
    let mut swath = Points::new();
    swath.push_swath(
        LON0,
        LAT0,
        &[[[LON0, LAT0], [200.0, LAT0], [LON0, LAT0 + dlat(1.0)]]],
    );
    assert!(matches!(
        render_png(&swath, &prop(&[1.0]), &RenderOptions::default()),
        Err(Error::InvalidSwath {
            index: 0,
            lon: 200.0,
            ..
        })
    ));
    for options in [
        RenderOptions::default().with_max_side(0),
        RenderOptions::default().with_max_side(100_000),
        RenderOptions {
            cell_size_deg: 0.0,
            ..RenderOptions::default()
        },
        RenderOptions {
            cell_size_deg: f64::NAN,
            ..RenderOptions::default()
        },
        RenderOptions {
            colouring: Colouring::Classes {
                method: furrow_render::ClassMethod::Quantile,
                count: 0,
            },
            ..RenderOptions::default()
        },
    ] {
        assert!(matches!(
            render_png(&points, &prop(&[1.0]), &options),
            Err(Error::InvalidOption { .. })
        ));
    }
}

#[test]
fn swaths_without_vertices_and_bad_widths_fall_back_to_the_default_square() {
    let mut a = Points::new();
    a.push_swath::<Vec<[f64; 2]>>(LON0, LAT0, &[]);
    a.push_swath(LON0, LAT0, &[Vec::<[f64; 2]>::new()]);
    a.push_square(LON0, LAT0, Some(-2.0));
    a.push_square(LON0, LAT0, Some(f64::NAN));
    let mut b = Points::new();
    for _ in 0..4 {
        b.push_square(LON0, LAT0, None);
    }
    let values = [1.0, 2.0, 3.0, 4.0];
    let ia = render_png(&a, &prop(&values), &RenderOptions::default()).unwrap();
    let ib = render_png(&b, &prop(&values), &RenderOptions::default()).unwrap();
    assert_eq!(ia, ib);
}
