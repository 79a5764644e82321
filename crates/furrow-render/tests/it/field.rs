//! A synthetic field rendered and read back.

use furrow_render::{
    ClassMethod, Colouring, Legend, Projection, Property, RenderOptions, parse_hex_colour,
    render_png,
};

use crate::util::{LAT0, LON0, decode, dlat, dlon, field, hex, pixel_metres};

const PASSES: usize = 20;
const PER_PASS: usize = 100;
const WIDTH: f64 = 12.0;
const STEP: f64 = 4.0;
/// Passes 8 and 9 are the high-yield strip.
const STRIP: [usize; 2] = [8, 9];

/// Yield in t/ha: 6..10 varying along and across, 25 in the strip.
fn yield_of(pass: usize, k: usize) -> f64 {
    if STRIP.contains(&pass) {
        25.0
    } else {
        6.0 + ((pass * 7 + k * 3) % 40) as f64 / 10.0
    }
}

fn render(colouring: Colouring) -> (furrow_render::PngImage, Vec<f64>) {
    let (points, ids) = field(PASSES, PER_PASS, WIDTH, STEP);
    let values: Vec<f64> = ids.iter().map(|&(p, k)| yield_of(p, k)).collect();
    let property = Property {
        name: "wetMassPerArea",
        unit: "t/ha",
        values: &values,
    };
    let options = RenderOptions {
        colouring,
        ..RenderOptions::operation_v2()
    };
    (render_png(&points, &property, &options).unwrap(), values)
}

fn v2() -> (furrow_render::PngImage, Vec<f64>) {
    render(Colouring::Classes {
        method: ClassMethod::Quantile,
        count: 7,
    })
}

#[test]
fn size_follows_the_extent_at_leafs_resolution() {
    let (img, _) = v2();
    let d = decode(&img.png);
    assert_eq!((d.width, d.height), (img.width, img.height));
    assert_eq!(img.grid.projection, Projection::WebMercator);
    // 0.00001° in EPSG:3857 units: the field is small, so the nominal cell holds
    assert!((img.grid.cell - 1.113_194_9).abs() < 1e-6);
    // 400 m × 240 m of swaths, each swath box grown by half its larger side (6 m) each way; on the
    // ground a cell is 1.1132 · cos(41.77°) = 0.830 m
    let ground_cell = img.grid.cell * LAT0.to_radians().cos();
    let expect_w = (400.0 + 2.0 * 6.0) / ground_cell;
    let expect_h = (240.0 + 2.0 * 6.0) / ground_cell;
    assert!(
        (f64::from(d.width) - expect_w).abs() <= 1.0,
        "{} vs {expect_w}",
        d.width
    );
    assert!(
        (f64::from(d.height) - expect_h).abs() <= 1.5,
        "{} vs {expect_h}",
        d.height
    );
    // the extent holds every point and is the grid's outer edge
    let e = img.extent;
    assert!(e.xmin < LON0 && e.xmax > LON0 + dlon(400.0));
    assert!(e.ymin < LAT0 && e.ymax > LAT0 + dlat(240.0));
    assert!((e.xmin - (LON0 - dlon(6.0))).abs() < dlon(0.001));
}

#[test]
fn outside_the_swaths_is_fully_transparent_and_inside_is_opaque() {
    let (img, _) = v2();
    let d = decode(&img.png);
    let mut inside = 0;
    for row in 0..d.height {
        for col in 0..d.width {
            let (e, n) = pixel_metres(&img.grid, col, row);
            let px = d.px(col, row);
            let margin = 0.01;
            if e < -margin || e > 400.0 + margin || n < -margin || n > 240.0 + margin {
                assert_eq!(
                    px,
                    [0, 0, 0, 0],
                    "pixel {col},{row} at {e:.2} m E, {n:.2} m N"
                );
            } else if e > margin && e < 400.0 - margin && n > margin && n < 240.0 - margin {
                assert_eq!(px[3], 255, "pixel {col},{row} at {e:.2} m E, {n:.2} m N");
                inside += 1;
            }
        }
    }
    assert!(inside > 100_000, "{inside}");
}

#[test]
fn distinct_colours_are_the_legend_classes() {
    let (img, _) = v2();
    let Legend::Classes(legend) = &img.legend else {
        panic!("classes")
    };
    assert_eq!(legend.ranges.len(), 7);
    assert_eq!(legend.unit, "t/ha");
    let colours = decode(&img.png).colours();
    assert_eq!(colours.len(), legend.ranges.len());
    let legend_colours: Vec<[u8; 3]> = legend
        .ranges
        .iter()
        .map(|r| parse_hex_colour(&r.color_code).unwrap())
        .collect();
    for c in colours.keys() {
        assert!(legend_colours.contains(c), "{} not in the legend", hex(*c));
    }
}

#[test]
fn the_high_yield_strip_is_the_top_class_colour() {
    let (img, _) = v2();
    let Legend::Classes(legend) = &img.legend else {
        panic!("classes")
    };
    let top = parse_hex_colour(&legend.ranges.last().unwrap().color_code).unwrap();
    assert_eq!(hex(top), "#008200");
    assert_eq!(legend.ranges.last().unwrap().max, 25.0);
    let d = decode(&img.png);
    let (mut in_strip, mut top_elsewhere) = (0, 0);
    for row in 0..d.height {
        for col in 0..d.width {
            let (e, n) = pixel_metres(&img.grid, col, row);
            let px = d.px(col, row);
            let strip = (8.0 * WIDTH + 0.01..10.0 * WIDTH - 0.01).contains(&n)
                && (0.01..399.99).contains(&e);
            if strip {
                assert_eq!(px, [top[0], top[1], top[2], 255], "strip pixel {col},{row}");
                in_strip += 1;
            } else if px[..3] == top && px[3] == 255 {
                top_elsewhere += 1;
            }
        }
    }
    assert!(in_strip > 10_000, "{in_strip}");
    // the top class is [v(6n/7), 25]: a few points just below the strip's value fall in it too, but the
    // strip holds most of it
    assert!(top_elsewhere < in_strip, "{top_elsewhere} vs {in_strip}");
}

#[test]
fn legend_ranges_cover_every_value_and_chain() {
    let (img, values) = v2();
    let Legend::Classes(legend) = &img.legend else {
        panic!("classes")
    };
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(legend.ranges[0].min, min);
    assert_eq!(legend.ranges.last().unwrap().max, max);
    for w in legend.ranges.windows(2) {
        assert_eq!(w[0].max, w[1].min);
        assert!(w[0].min < w[0].max);
    }
    for v in values {
        assert!(legend.class_of(v).is_some());
        assert!(legend.ranges.iter().any(|r| r.min <= v && v <= r.max));
    }
}

#[test]
fn the_v1_ramp_image_uses_only_ramp_colours_from_red_to_green() {
    let (img, values) = render(Colouring::Ramp);
    let Legend::Ramp(legend) = &img.legend else {
        panic!("ramp")
    };
    // swaths tile without overlap, so the cell values are the point values
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!((legend.min, legend.max), (min, 25.0));
    let ramp_colours: std::collections::BTreeSet<[u8; 3]> = (0..=10_000)
        .map(|i| legend.ramp.at(f64::from(i) / 100.0))
        .collect();
    let colours = decode(&img.png).colours();
    assert!(colours.contains_key(&[200, 0, 0]));
    assert!(colours.contains_key(&[0, 130, 0]));
    for c in colours.keys() {
        assert!(ramp_colours.contains(c), "{} is not on the ramp", hex(*c));
    }
    assert!(
        img.aux_xml
            .contains("<Description>wetMassPerArea</Description>")
    );
}

#[test]
fn aux_xml_geotransform_is_the_grid() {
    let (img, _) = v2();
    let gt = img
        .aux_xml
        .split("<GeoTransform>")
        .nth(1)
        .and_then(|s| s.split("</GeoTransform>").next())
        .unwrap();
    let gt: Vec<f64> = gt.split(',').map(|v| v.trim().parse().unwrap()).collect();
    assert_eq!(gt, img.grid.geo_transform());
    assert_eq!(gt[1], -gt[5]);
    assert!(
        img.aux_xml
            .contains("AUTHORITY[&quot;EPSG&quot;,&quot;3857&quot;]]</SRS>")
    );
}

#[test]
fn a_point_without_a_value_is_left_transparent() {
    let (mut points, ids) = field(4, 10, WIDTH, STEP);
    let mut values: Vec<f64> = ids.iter().map(|&(p, k)| (p * 10 + k) as f64).collect();
    // point (1, 5) has no value; an isolated point 100 m north has none either
    values[15] = f64::NAN;
    points.push_square(LON0 + dlon(20.0), LAT0 + dlat(100.0), Some(6.0));
    values.push(f64::NAN);
    let img = render_png(
        &points,
        &Property {
            name: "seedRate",
            unit: "seeds/ac",
            values: &values,
        },
        &RenderOptions::operation_v2(),
    )
    .unwrap();
    let d = decode(&img.png);
    let mut hole = 0;
    for row in 0..d.height {
        for col in 0..d.width {
            let (e, n) = pixel_metres(&img.grid, col, row);
            let in_hole = (20.01..23.99).contains(&e) && (12.01..23.99).contains(&n);
            let px = d.px(col, row);
            if in_hole {
                assert_eq!(px, [0, 0, 0, 0]);
                hole += 1;
            } else if (0.01..39.99).contains(&e) && (0.01..47.99).contains(&n) {
                assert_eq!(px[3], 255);
            }
        }
    }
    assert!(hole > 50, "{hole}");
    // the valueless point neither paints nor widens the image
    assert!(img.extent.ymax < LAT0 + dlat(70.0));
}

#[test]
fn quantile_classes_hold_equal_counts_on_skewed_values() {
    // 2,000 non-overlapping swaths with exponentially distributed values: a strongly skewed yield map
    let (points, ids) = field(20, 100, WIDTH, STEP);
    let values: Vec<f64> = ids
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let u = ((i as u64 * 2_654_435_761) % 1_000_003) as f64 / 1_000_003.0;
            -(1.0 - u).ln() * 3.0
        })
        .collect();
    let img = render_png(
        &points,
        &Property {
            name: "wetMass",
            unit: "lb",
            values: &values,
        },
        &RenderOptions::operation_v2(),
    )
    .unwrap();
    let Legend::Classes(legend) = &img.legend else {
        panic!("classes")
    };
    assert_eq!(legend.ranges.len(), 7);
    let mut per_class = [0usize; 7];
    for &v in &values {
        per_class[legend.class_of(v).unwrap()] += 1;
    }
    for (c, &n) in per_class.iter().enumerate() {
        assert!(
            (283..=290).contains(&n),
            "class {c} has {n} of 2000: {per_class:?}"
        );
    }
    // equal-size swaths: equal counts of pixels too, within the rounding of swath edges to cells
    let colours = decode(&img.png).colours();
    let total: usize = colours.values().sum();
    for (c, &n) in &colours {
        let share = n as f64 / total as f64;
        assert!(
            (share - 1.0 / 7.0).abs() < 0.01,
            "{} has {share:.3}",
            hex(*c)
        );
    }
    // equal intervals on the same data put most points in the lowest class
    let eq = render_png(
        &points,
        &Property {
            name: "wetMass",
            unit: "lb",
            values: &values,
        },
        &RenderOptions {
            colouring: Colouring::Classes {
                method: ClassMethod::EqualInterval,
                count: 7,
            },
            ..RenderOptions::operation_v2()
        },
    )
    .unwrap();
    let Legend::Classes(eq) = &eq.legend else {
        panic!("classes")
    };
    let lowest = values
        .iter()
        .filter(|&&v| eq.class_of(v) == Some(0))
        .count();
    assert!(lowest > 1000, "{lowest}");
}
