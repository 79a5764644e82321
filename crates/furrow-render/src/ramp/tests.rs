use super::*;

#[test]
fn leaf_ramp_json_has_leafs_keys_in_order() {
    let json = serde_json::to_string(&Ramp::leaf()).unwrap();
    assert_eq!(
        json,
        r#"{"0%":[200,0,0],"35%":[255,40,0],"45%":[255,150,0],"55%":[255,240,0],"65%":[0,230,0],"75%":[0,190,0],"100%":[0,130,0],"nv":[0,0,0,0]}"#
    );
    let back: Ramp = serde_json::from_str(&json).unwrap();
    assert_eq!(back, Ramp::leaf());
}

#[test]
fn interpolates_linearly_between_stops() {
    let r = Ramp::leaf();
    assert_eq!(r.at(0.0), [200, 0, 0]);
    assert_eq!(r.at(-5.0), [200, 0, 0]);
    assert_eq!(r.at(100.0), [0, 130, 0]);
    assert_eq!(r.at(250.0), [0, 130, 0]);
    assert_eq!(r.at(55.0), [255, 240, 0]);
    // halfway between 35 % (255,40,0) and 45 % (255,150,0)
    assert_eq!(r.at(40.0), [255, 95, 0]);
    // halfway between 75 % (0,190,0) and 100 % (0,130,0)
    assert_eq!(r.at(87.5), [0, 160, 0]);
}

#[test]
fn seven_classes_are_the_seven_stops() {
    let colours: Vec<String> = Ramp::leaf()
        .class_colours(7)
        .into_iter()
        .map(hex_colour)
        .collect();
    assert_eq!(
        colours,
        [
            "#C80000", "#FF2800", "#FF9600", "#FFF000", "#00E600", "#00BE00", "#008200"
        ]
    );
}

#[test]
fn other_class_counts_span_the_ramp() {
    let r = Ramp::leaf();
    let c = r.class_colours(4);
    assert_eq!(c.len(), 4);
    assert_eq!(c[0], [200, 0, 0]);
    assert_eq!(c[3], [0, 130, 0]);
    // position 2 of 6 = the 45 % stop
    assert_eq!(c[1], [255, 150, 0]);
    assert_eq!(r.class_colours(1), vec![[200, 0, 0]]);
}

#[test]
fn hex_round_trip() {
    assert_eq!(parse_hex_colour("#c80000"), Some([200, 0, 0]));
    assert_eq!(
        parse_hex_colour(&hex_colour([1, 2, 255])),
        Some([1, 2, 255])
    );
    assert_eq!(parse_hex_colour("C80000"), None);
    assert_eq!(parse_hex_colour("#C8000é"), None);
}

#[test]
fn rejects_bad_ramps() {
    assert!(Ramp::new(vec![], [0; 4]).is_none());
    assert!(serde_json::from_str::<Ramp>(r#"{"120%":[1,2,3]}"#).is_err());
    assert!(serde_json::from_str::<Ramp>(r#"{"x":[1,2,3]}"#).is_err());
    let r: Ramp =
        serde_json::from_str(r#"{"100%":[0,0,0],"0%":[255,255,255],"nv":[1,2,3]}"#).unwrap();
    assert_eq!(r.stops()[0].percent, 0.0);
    assert_eq!(r.no_value(), [1, 2, 3, 255]);
}
