use std::process::Command;

fn furrow(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_furrow"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn allocate_prints_a_table_writes_summary_and_geoparquet() {
    let dir = tempfile::tempdir().unwrap();
    let fields = dir.path().join("fields.geojson");
    std::fs::write(
        &fields,
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","id":"west","properties":{},"geometry":{"type":"Polygon","coordinates":[[[-93.500,41.500],[-93.498,41.500],[-93.498,41.502],[-93.500,41.502],[-93.500,41.500]]]}},
        {"type":"Feature","properties":{"id":"east"},"geometry":{"type":"MultiPolygon","coordinates":[[[[-93.496,41.500],[-93.494,41.500],[-93.494,41.502],[-93.496,41.502]]]]}}]}"#,
    )
    .unwrap();
    // Five points in west, three in east, two outside; swath columns for coverage.
    let pts: Vec<(f64, f64)> = vec![
        (-93.4995, 41.5005),
        (-93.4990, 41.5005),
        (-93.4985, 41.5005),
        (-93.4990, 41.5010),
        (-93.4990, 41.5015),
        (-93.4955, 41.5005),
        (-93.4950, 41.5010),
        (-93.4945, 41.5015),
        (-93.4970, 41.5010),
        (-93.4800, 41.4000),
    ];
    let features: Vec<String> = pts
        .iter()
        .enumerate()
        .map(|(i, (x, y))| {
            format!(
                r#"{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{x},{y}]}},"properties":{{"heading":90.0,"equipmentWidth":12.0,"distance":8.0,"appliedRate":{},"crop":"corn"}}}}"#,
                100 + i
            )
        })
        .collect();
    let points = dir.path().join("points.geojson");
    std::fs::write(
        &points,
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        ),
    )
    .unwrap();
    let summary = dir.path().join("summary.json");
    let out = dir.path().join("allocated.parquet");
    let o = furrow(&[
        "allocate",
        "--fields",
        fields.to_str().unwrap(),
        "--points",
        points.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--summary",
        summary.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("west") && l.split_whitespace().nth(1) == Some("5")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("east") && l.split_whitespace().nth(1) == Some("3")),
        "{text}"
    );
    assert!(
        text.contains("10 points, 8 in 2 fields, 2 outside"),
        "{text}"
    );
    assert!(text.contains("M points/s"));

    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    assert_eq!(s["outside"], 2);
    let west = s["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fieldId"] == "west")
        .unwrap();
    assert_eq!(west["points"], 5);
    assert_eq!(west["properties"]["appliedRate"]["min"], 100.0);
    assert_eq!(west["groups"]["crop=corn"]["points"], 5);
    let cov = s["coverage"].as_array().unwrap();
    assert_eq!(cov.len(), 2);
    assert!(
        cov.iter()
            .all(|c| c["coverage"]["coveredM2"].as_f64().unwrap() > 100.0)
    );

    // The GeoParquet output carries fieldId, and allocating it again gives the same table.
    let file = furrow_geoparquet::read_geoparquet(&out).unwrap();
    assert_eq!(file.batches.iter().map(|b| b.num_rows()).sum::<usize>(), 10);
    assert!(file.schema.field_with_name("fieldId").is_ok());
    let again = furrow(&[
        "allocate",
        "--fields",
        fields.to_str().unwrap(),
        "--points",
        out.to_str().unwrap(),
    ]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        String::from_utf8(again.stdout)
            .unwrap()
            .contains("10 points, 8 in 2 fields, 2 outside")
    );
}

#[test]
fn allocate_reports_bad_inputs_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.geojson");
    std::fs::write(&bad, r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[0,0]}}]}"#).unwrap();
    let o = furrow(&[
        "allocate",
        "--fields",
        bad.to_str().unwrap(),
        "--points",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.geojson") && err.contains("no id"),
        "{err}"
    );
    let o = furrow(&[
        "allocate",
        "--fields",
        "/nonexistent.geojson",
        "--points",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent.geojson"));
}
