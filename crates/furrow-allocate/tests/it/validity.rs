use furrow_allocate::{Field, FieldIndex, Validity, repair, validate};
use geo_types::{LineString, MultiPolygon, Polygon};

fn mp(shell: Vec<(f64, f64)>, holes: Vec<Vec<(f64, f64)>>) -> MultiPolygon<f64> {
    MultiPolygon(vec![Polygon::new(
        LineString::from(shell),
        holes.into_iter().map(LineString::from).collect(),
    )])
}

fn square(x0: f64, y0: f64, s: f64) -> Vec<(f64, f64)> {
    vec![
        (x0, y0),
        (x0 + s, y0),
        (x0 + s, y0 + s),
        (x0, y0 + s),
        (x0, y0),
    ]
}

#[test]
fn leaf_validity_values_are_reported() {
    let cases: Vec<(MultiPolygon<f64>, Validity)> = vec![
        (mp(square(0.0, 0.0, 1.0), vec![]), Validity::Valid),
        (
            mp(square(0.0, 0.0, 1.0), vec![square(0.2, 0.2, 0.2)]),
            Validity::Valid,
        ),
        (
            mp(vec![(0.0, 0.0), (1.0, 0.0), (0.0, 0.0)], vec![]),
            Validity::TooFewPoints,
        ),
        (
            mp(
                vec![(0.0, 0.0), (1.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)],
                vec![],
            ),
            Validity::RepeatedPoint,
        ),
        (
            mp(
                vec![(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)],
                vec![],
            ),
            Validity::RingSelfIntersection,
        ),
        (
            mp(square(0.0, 0.0, 1.0), vec![square(2.0, 2.0, 0.5)]),
            Validity::HoleOutsideShell,
        ),
        (
            mp(square(0.0, 0.0, 1.0), vec![square(0.5, 0.5, 1.0)]),
            Validity::SelfIntersection,
        ),
        (
            mp(
                square(0.0, 0.0, 1.0),
                vec![square(0.1, 0.1, 0.8), square(0.2, 0.2, 0.2)],
            ),
            Validity::NestedHoles,
        ),
        (
            mp(
                square(0.0, 0.0, 1.0),
                vec![square(0.1, 0.1, 0.2), square(0.1, 0.1, 0.2)],
            ),
            Validity::DuplicateRings,
        ),
        (
            mp(
                vec![(0.0, 0.0), (200.0, 0.0), (200.0, 1.0), (0.0, 0.0)],
                vec![],
            ),
            Validity::InvalidCoordinate,
        ),
        (
            mp(
                vec![(0.0, 0.0), (f64::NAN, 0.0), (1.0, 1.0), (0.0, 0.0)],
                vec![],
            ),
            Validity::InvalidCoordinate,
        ),
        (MultiPolygon(vec![]), Validity::TooFewPoints),
    ];
    for (i, (geom, want)) in cases.iter().enumerate() {
        let got = validate(geom);
        assert_eq!(got.validity, *want, "case {i}: {}", got.message);
        assert_eq!(
            got.message.is_empty(),
            *want == Validity::Valid,
            "case {i} names the place"
        );
    }
    let (closed, report) = furrow_allocate::from_coordinates(&[vec![vec![
        [0.0, 0.0],
        [1.0, 0.0],
        [1.0, 1.0],
        [0.0, 1.0],
    ]]]);
    assert_eq!(report.validity, Validity::RingNotClosed);
    assert_eq!(report.message, "polygon 0 ring 0");
    assert_eq!(
        validate(&closed).validity,
        Validity::Valid,
        "the geometry built is closed"
    );
    let (_, report) = furrow_allocate::from_coordinates(&[vec![vec![
        [0.0, 0.0],
        [1.0, 0.0],
        [1.0, 1.0],
        [0.0, 0.0],
    ]]]);
    assert_eq!(report.validity, Validity::Valid);
    let overlapping = MultiPolygon(vec![
        Polygon::new(square(0.0, 0.0, 1.0).into(), vec![]),
        Polygon::new(square(0.5, 0.5, 1.0).into(), vec![]),
    ]);
    assert_eq!(validate(&overlapping).validity, Validity::SelfIntersection);
    let nested = MultiPolygon(vec![
        Polygon::new(square(0.0, 0.0, 1.0).into(), vec![]),
        Polygon::new(square(0.2, 0.2, 0.2).into(), vec![]),
    ]);
    assert_eq!(validate(&nested).validity, Validity::NestedShells);
    assert_eq!(Validity::HoleOutsideShell.to_string(), "HOLE_OUTSIDE_SHELL");
}

#[test]
fn repair_closes_dedupes_and_orients() {
    let open_cw_dupes = mp(
        vec![(0.0, 0.0), (0.0, 1.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0)],
        vec![],
    );
    assert_ne!(validate(&open_cw_dupes).validity, Validity::Valid);
    let (fixed, report) = repair(&open_cw_dupes);
    assert!(report.fixed);
    assert_eq!(validate(&fixed).validity, Validity::Valid);
    let ring = fixed.0[0].exterior();
    assert_eq!(ring.0.first(), ring.0.last());
    assert_eq!(ring.0.len(), 5);
    use geo::Winding;
    assert!(ring.is_ccw(), "shells counter-clockwise");

    let (same, report) = repair(&mp(
        square(0.0, 0.0, 1.0),
        vec![square(0.2, 0.2, 0.2).into_iter().rev().collect()],
    ));
    assert!(
        !report.fixed,
        "an already valid, oriented boundary is untouched"
    );
    assert_eq!(validate(&same).validity, Validity::Valid);

    // A degenerate extra polygon is dropped.
    let with_sliver = MultiPolygon(vec![
        Polygon::new(square(0.0, 0.0, 1.0).into(), vec![]),
        Polygon::new(
            LineString::from(vec![(5.0, 5.0), (6.0, 6.0), (5.0, 5.0)]),
            vec![],
        ),
    ]);
    let (fixed, report) = repair(&with_sliver);
    assert!(report.fixed);
    assert_eq!(fixed.0.len(), 1);
}

#[test]
fn the_index_reports_status_and_refuses_unusable_boundaries() {
    let index = FieldIndex::build([
        Field {
            id: "ok".into(),
            boundary: mp(square(0.0, 0.0, 1.0), vec![]),
        },
        Field {
            id: "dupes".into(),
            boundary: mp(
                vec![
                    (2.0, 0.0),
                    (3.0, 0.0),
                    (3.0, 0.0),
                    (3.0, 1.0),
                    (2.0, 1.0),
                    (2.0, 0.0),
                ],
                vec![],
            ),
        },
    ])
    .unwrap();
    let s = index.boundary_status(1).unwrap();
    assert_eq!(
        (s.validity, s.validity_after_fix, s.fixed),
        (Validity::RepeatedPoint, Validity::Valid, true)
    );
    assert_eq!(index.locate(2.5, 0.5), Some(1));

    let strict = FieldIndex::build_with(
        [Field {
            id: "tiny".into(),
            boundary: mp(vec![(2.0, 0.0), (3.0, 0.0), (2.0, 0.0)], vec![]),
        }],
        furrow_allocate::BuildOptions {
            automatic_fix_boundary: false,
        },
    );
    assert!(matches!(
        strict,
        Err(furrow_allocate::Error::InvalidBoundary {
            validity: Validity::TooFewPoints,
            ..
        })
    ));

    let bad = FieldIndex::build([Field {
        id: "x".into(),
        boundary: mp(
            vec![(0.0, 0.0), (500.0, 0.0), (1.0, 1.0), (0.0, 0.0)],
            vec![],
        ),
    }]);
    match bad {
        Err(e) => assert!(
            e.to_string().contains("INVALID_COORDINATE") && e.to_string().contains("field x"),
            "{e}"
        ),
        Ok(_) => panic!("an out-of-range longitude must be refused"),
    }
    let dup = FieldIndex::build([
        Field {
            id: "a".into(),
            boundary: mp(square(0.0, 0.0, 1.0), vec![]),
        },
        Field {
            id: "a".into(),
            boundary: mp(square(2.0, 0.0, 1.0), vec![]),
        },
    ]);
    assert!(matches!(
        dup,
        Err(furrow_allocate::Error::DuplicateField(_))
    ));
}

#[test]
fn fields_from_geojson_reads_polygons_and_multipolygons_with_ids() {
    let text = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","id":"north","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
        {"type":"Feature","properties":{"id":7},"geometry":{"type":"MultiPolygon","coordinates":[[[[2,0],[3,0],[3,1],[2,1]]]]}}
    ]}"#;
    let fields = furrow_allocate::fields_from_geojson(text).unwrap();
    assert_eq!(fields.len(), 2);
    assert_eq!(fields[0].field.id, "north");
    assert_eq!(fields[0].report.validity, Validity::Valid);
    assert_eq!(fields[1].field.id, "7");
    assert_eq!(fields[1].report.validity, Validity::RingNotClosed);
    let index = FieldIndex::build(fields.into_iter().map(|f| f.field)).unwrap();
    assert_eq!(index.locate(2.5, 0.5), Some(1));

    for (bad, needle) in [
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[]}}]}"#,
            "no id",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"p","geometry":{"type":"Point","coordinates":[0,0]}}]}"#,
            "NOT_ALLOWED_GEOMETRY_TYPE",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"p","geometry":{"type":"Polygon","coordinates":[[[0,"a"]]]}}]}"#,
            "position 0",
        ),
        ("[1,2", "not JSON"),
    ] {
        let e = furrow_allocate::fields_from_geojson(bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{e}");
    }
}

#[test]
fn points_from_geojson_builds_xy_numeric_and_string_columns() {
    use arrow_array::Array;
    let text = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","geometry":{"type":"Point","coordinates":[1.5,2.5]},"properties":{"speed":3.0,"crop":"corn"}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[1.6,2.6]},"properties":{"speed":null}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[1.7,2.7]},"properties":{"crop":"soy","speed":4}}
    ]}"#;
    let b = furrow_allocate::points_from_geojson(text).unwrap();
    assert_eq!(b.num_rows(), 3);
    let names: Vec<String> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["x", "y", "crop", "speed"]);
    let speed = b
        .column_by_name("speed")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::Float64Array>()
        .unwrap();
    assert_eq!(
        (speed.value(0), speed.is_null(1), speed.value(2)),
        (3.0, true, 4.0)
    );
    let crop = b
        .column_by_name("crop")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::StringArray>()
        .unwrap();
    assert_eq!((crop.value(0), crop.is_null(1)), ("corn", true));
    assert!(furrow_allocate::points_from_geojson(r#"{"type":"FeatureCollection","features":[{"geometry":{"type":"LineString","coordinates":[]}}]}"#).is_err());
}
