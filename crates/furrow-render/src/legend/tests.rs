use super::*;

fn legend(values: &[f64], method: ClassMethod, count: usize) -> ClassLegend {
    let mut v = values.to_vec();
    let b = breaks(&mut v, method, count);
    class_legend(&b, &Ramp::leaf(), count, "t/ha")
}

#[test]
fn quantile_breaks_follow_nearest_rank() {
    // n = 14: break k = v[2k]
    let values: Vec<f64> = (0..14).rev().map(f64::from).collect();
    let l = legend(&values, ClassMethod::Quantile, 7);
    let b: Vec<(f64, f64)> = l.ranges.iter().map(|r| (r.min, r.max)).collect();
    assert_eq!(
        b,
        [
            (0.0, 2.0),
            (2.0, 4.0),
            (4.0, 6.0),
            (6.0, 8.0),
            (8.0, 10.0),
            (10.0, 12.0),
            (12.0, 13.0)
        ]
    );
    assert_eq!(l.ranges[0].color_code, "#C80000");
    assert_eq!(l.ranges[6].color_code, "#008200");
}

#[test]
fn equal_breaks_merge_and_keep_colours_from_the_bottom() {
    // 10 zeros, then 1..=4: quantile breaks v[2], v[4], v[6], v[8] are 0, v[10] = 1, v[12] = 3
    let mut values = vec![0.0; 10];
    values.extend([1.0, 2.0, 3.0, 4.0]);
    let l = legend(&values, ClassMethod::Quantile, 7);
    let b: Vec<(f64, f64)> = l.ranges.iter().map(|r| (r.min, r.max)).collect();
    assert_eq!(b, [(0.0, 1.0), (1.0, 3.0), (3.0, 4.0)]);
    let c: Vec<&str> = l.ranges.iter().map(|r| r.color_code.as_str()).collect();
    assert_eq!(c, ["#C80000", "#FF2800", "#FF9600"]);
}

#[test]
fn one_distinct_value_is_one_range() {
    let l = legend(&[5.5; 9], ClassMethod::Quantile, 7);
    assert_eq!(
        l.ranges,
        [LegendRange {
            color_code: "#C80000".into(),
            min: 5.5,
            max: 5.5
        }]
    );
    assert_eq!(l.class_of(5.5), Some(0));
    let l = legend(&[5.5], ClassMethod::EqualInterval, 7);
    assert_eq!(l.ranges.len(), 1);
}

#[test]
fn equal_interval_splits_the_range() {
    let l = legend(&[0.0, 1.0, 7.0], ClassMethod::EqualInterval, 7);
    assert_eq!(l.ranges.len(), 7);
    for (i, r) in l.ranges.iter().enumerate() {
        assert_eq!(r.min, i as f64);
        assert_eq!(r.max, (i + 1) as f64);
    }
}

#[test]
fn class_of_takes_the_first_class_whose_max_reaches_the_value() {
    let l = legend(
        &(0..14).map(f64::from).collect::<Vec<_>>(),
        ClassMethod::Quantile,
        7,
    );
    assert_eq!(l.class_of(0.0), Some(0));
    assert_eq!(l.class_of(2.0), Some(0));
    assert_eq!(l.class_of(2.5), Some(1));
    assert_eq!(l.class_of(13.0), Some(6));
    assert_eq!(l.class_of(99.0), Some(6));
    assert_eq!(l.class_of(f64::NAN), None);
}

#[test]
fn legend_json_is_leafs_shape() {
    let l = Legend::Classes(legend(&[1.0, 2.0], ClassMethod::Quantile, 7));
    let json = serde_json::to_value(&l).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"ranges": [
            {"colorCode": "#C80000", "min": 1.0, "max": 2.0}
        ], "unit": "t/ha"})
    );
    let back: Legend = serde_json::from_value(json).unwrap();
    assert_eq!(back, l);
}
