use furrow_allocate::Field;
use furrow_pipeline::{
    Encoding, Limits, OperationInput, OperationView, Settings, allocate_file, build_operation,
    detect, open, write_operation,
};

use crate::sample;

/// The bounding box of a GeoParquet file's points.
fn bbox(path: &std::path::Path) -> [f64; 4] {
    let f = furrow_geoparquet::read_geoparquet(path).unwrap();
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for batch in &f.batches {
        let (xs, ys) = furrow_allocate::point_columns(batch).unwrap();
        for (x, y) in xs.iter().zip(&ys) {
            b = [b[0].min(*x), b[1].min(*y), b[2].max(*x), b[3].max(*y)];
        }
    }
    b
}

fn rect(id: &str, [x0, y0, x1, y1]: [f64; 4]) -> Field {
    use geo_types::{LineString, MultiPolygon, Polygon};
    let ring = LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]);
    Field {
        id: id.into(),
        boundary: MultiPolygon(vec![Polygon::new(ring, vec![])]),
    }
}

#[test]
fn an_operation_is_its_files_points_inside_its_field_written_on_request() {
    let path = sample("isoxml/isoxml-dotnet/AFE.zip");
    let scratch = tempfile::tempdir().unwrap();
    let found = detect(&path, scratch.path(), &Limits::default()).unwrap();
    let opened = open(&found.datasets[0]).unwrap();
    let unit = opened
        .units()
        .into_iter()
        .find(|u| u.refusal().is_none())
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let c = opened
        .convert(&unit, &Settings::default(), out.path())
        .unwrap();
    let [x0, y0, x1, y1] = bbox(&c.parquet);
    // A field over the western half of the points, and one far away.
    let west = rect("west", [x0 - 1e-4, y0 - 1e-4, (x0 + x1) / 2.0, y1 + 1e-4]);
    let allocated = allocate_file(
        vec![west.clone(), rect("far", [0.0, 0.0, 0.001, 0.001])],
        &c.parquet,
    )
    .unwrap();
    assert_eq!(allocated.touches.len(), 1);
    assert_eq!(allocated.touches[0].field_id, "west");
    assert!(allocated.outside > 0 && allocated.outside < c.counts.written);
    let input = OperationInput::new(
        &c.operation_type.to_string(),
        vec![(c.parquet.clone(), Some(c.summary.clone()))],
        Some(west),
        &Settings::default(),
    );
    let built = build_operation(&input).unwrap();
    assert_eq!(built.points, c.counts.written - allocated.outside);
    assert_eq!(
        built.summary["properties"]["pointCounts"]["standard"],
        built.points
    );
    let coverage = built.coverage.unwrap();
    assert!(coverage > 0.0 && coverage <= 1.0, "{coverage}");
    let mut standard = Vec::new();
    let n = write_operation(
        &input,
        &built.filter,
        OperationView::Standard,
        Encoding::GeoJson,
        &mut standard,
    )
    .unwrap();
    assert_eq!(n, built.points);
    let v: serde_json::Value = serde_json::from_slice(&standard).unwrap();
    assert_eq!(v["features"].as_array().unwrap().len() as u64, n);
    let mut filtered = Vec::new();
    let f = write_operation(
        &input,
        &built.filter,
        OperationView::Filtered,
        Encoding::GeoParquet,
        &mut filtered,
    )
    .unwrap();
    assert_eq!(
        f,
        built.summary["properties"]["pointCounts"]["filtered"]
            .as_u64()
            .unwrap()
    );
    assert!(f <= n);
    let mut polygons = Vec::new();
    let p = write_operation(
        &input,
        &built.filter,
        OperationView::Polygons,
        Encoding::GeoParquet,
        &mut polygons,
    )
    .unwrap();
    assert_eq!(p, n);
    assert_eq!(&polygons[..4], b"PAR1");
}
