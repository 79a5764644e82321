//! Legends, properties and JSON shapes.

use furrow_render::{
    IMAGEABLE_PROPERTIES, Legend, Points, Property, Ramp, RenderOptions, imageable_properties,
    is_imageable, render_png,
};

use crate::util::{LAT0, LON0, dlon};

#[test]
fn v2_legend_json_is_leafs_shape() {
    let mut points = Points::new();
    let mut values = Vec::new();
    for i in 0..70 {
        points.push_square(LON0 + dlon(f64::from(i) * 3.0), LAT0, None);
        values.push(f64::from(i) / 10.0);
    }
    let img = render_png(
        &points,
        &Property {
            name: "dryMassPerArea",
            unit: "t/ha",
            values: &values,
        },
        &RenderOptions::operation_v2(),
    )
    .unwrap();
    let json = serde_json::to_value(&img.legend).unwrap();
    let ranges = json["ranges"].as_array().unwrap();
    assert_eq!(ranges.len(), 7);
    let codes: Vec<&str> = ranges
        .iter()
        .map(|r| r["colorCode"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "#C80000", "#FF2800", "#FF9600", "#FFF000", "#00E600", "#00BE00", "#008200"
        ]
    );
    // break k = v[floor(k·70/7)] = v[10k] = k
    assert_eq!(ranges[0]["min"], 0.0);
    assert_eq!(ranges[0]["max"], 1.0);
    assert_eq!(ranges[6]["min"], 6.0);
    assert_eq!(ranges[6]["max"], 6.9);
    assert_eq!(json["unit"], "t/ha");
    assert_eq!(ranges[0].as_object().unwrap().len(), 3);
    let extent = serde_json::to_value(img.extent).unwrap();
    let mut keys: Vec<&String> = extent.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["xmax", "xmin", "ymax", "ymin"]);
    let back: Legend = serde_json::from_value(json).unwrap();
    assert_eq!(back, img.legend);
}

#[test]
fn v1_legend_carries_leafs_ramp_object() {
    let mut points = Points::new();
    points.push_square(LON0, LAT0, None);
    points.push_square(LON0 + dlon(10.0), LAT0, None);
    let img = render_png(
        &points,
        &Property {
            name: "elevation",
            unit: "ft",
            values: &[300.0, 310.0],
        },
        &RenderOptions::file_v1(),
    )
    .unwrap();
    let json = serde_json::to_value(&img.legend).unwrap();
    assert_eq!(json["ramp"], serde_json::to_value(Ramp::leaf()).unwrap());
    assert_eq!(json["ramp"]["nv"], serde_json::json!([0, 0, 0, 0]));
    assert_eq!(
        (json["min"].as_f64(), json["max"].as_f64()),
        (Some(300.0), Some(310.0))
    );
    assert_eq!(json["unit"], "ft");
}

#[test]
fn imageable_properties_are_leafs_keys() {
    assert_eq!(IMAGEABLE_PROPERTIES.len(), 4);
    assert_eq!(imageable_properties("harvested").len(), 19);
    assert_eq!(imageable_properties("planted").len(), 13);
    assert_eq!(imageable_properties("applied").len(), 10);
    assert_eq!(imageable_properties("tillage").len(), 10);
    assert!(imageable_properties("other").is_empty());
    assert!(is_imageable("harvested", "wetMassPerArea"));
    assert!(is_imageable("planted", "singulation"));
    assert!(!is_imageable("planted", "wetMass"));
    for (_, props) in IMAGEABLE_PROPERTIES {
        for p in [
            "crop",
            "variety",
            "recordingStatus",
            "machinery",
            "products",
            "timestamp",
            "tillType",
        ] {
            assert!(!props.contains(&p));
        }
        for p in [
            "elevation",
            "speed",
            "heading",
            "distance",
            "area",
            "equipmentWidth",
            "fuelUsed",
        ] {
            assert!(props.contains(&p), "{p}");
        }
    }
}
