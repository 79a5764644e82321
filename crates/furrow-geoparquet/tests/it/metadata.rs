//! The `geo` metadata against the GeoParquet 1.1 JSON schema's rules, and the CRS pitfall.

use std::path::Path;

use furrow_geoparquet::{
    GeoParquetOptions, GeometryEncoding, read_geoparquet, swath_polygons, swath_schema,
    write_geoparquet,
};
use serde_json::Value;

fn schema_doc() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schema-1.1.0.json");
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_slice(&bytes).unwrap()
}

/// Checks `geo` against the rules of the 1.1 JSON schema (required keys, consts, enums, patterns,
/// covering paths, bbox length), reading the rule values from the schema document itself.
pub(crate) fn validate(geo: &Value) -> Result<(), String> {
    let s = schema_doc();
    for k in s["required"].as_array().unwrap() {
        let k = k.as_str().unwrap();
        if geo.get(k).is_none() {
            return Err(format!("missing {k}"));
        }
    }
    if geo["version"] != s["properties"]["version"]["const"] {
        return Err(format!("version {}", geo["version"]));
    }
    if geo["primary_column"].as_str().is_none_or(str::is_empty) {
        return Err("primary_column".into());
    }
    let cols = geo["columns"].as_object().ok_or("columns")?;
    if cols.is_empty() {
        return Err("no columns".into());
    }
    let col_schema = &s["properties"]["columns"]["patternProperties"][".+"];
    let enc_pattern = col_schema["properties"]["encoding"]["pattern"]
        .as_str()
        .unwrap();
    let encodings: Vec<&str> = enc_pattern
        .trim_start_matches("^(")
        .trim_end_matches(")$")
        .split('|')
        .collect();
    for (name, c) in cols {
        for k in col_schema["required"].as_array().unwrap() {
            if c.get(k.as_str().unwrap()).is_none() {
                return Err(format!("{name}: missing {k}"));
            }
        }
        let enc = c["encoding"].as_str().ok_or("encoding")?;
        if !encodings.contains(&enc) {
            return Err(format!("{name}: encoding {enc}"));
        }
        let types = c["geometry_types"].as_array().ok_or("geometry_types")?;
        let mut seen = std::collections::HashSet::new();
        for t in types {
            let t = t.as_str().ok_or("type")?;
            let base = t.trim_end_matches(" Z");
            let ok = base == "GeometryCollection"
                || ["Point", "LineString", "Polygon"]
                    .iter()
                    .any(|b| base == *b || base == format!("Multi{b}"));
            if !ok || !seen.insert(t) {
                return Err(format!("{name}: geometry type {t}"));
            }
        }
        if let Some(crs) = c.get("crs") {
            if !(crs.is_null() || crs.is_object()) {
                return Err(format!("{name}: crs"));
            }
        }
        if let Some(e) = c.get("edges") {
            let allowed = &col_schema["properties"]["edges"]["enum"];
            if !allowed.as_array().unwrap().contains(e) {
                return Err(format!("{name}: edges {e}"));
            }
        }
        if let Some(o) = c.get("orientation") {
            if o != &col_schema["properties"]["orientation"]["const"] {
                return Err(format!("{name}: orientation {o}"));
            }
        }
        if let Some(b) = c.get("bbox") {
            let b = b.as_array().ok_or("bbox")?;
            if !(b.len() == 4 || b.len() == 6) || !b.iter().all(Value::is_number) {
                return Err(format!("{name}: bbox {b:?}"));
            }
        }
        if let Some(cov) = c.get("covering") {
            let bbox = cov.get("bbox").ok_or("covering.bbox")?;
            let mut column = None;
            for k in ["xmin", "ymin", "xmax", "ymax"] {
                let path = bbox[k].as_array().ok_or(format!("covering {k}"))?;
                if path.len() != 2 || path[1] != k || path[0].as_str().is_none_or(str::is_empty) {
                    return Err(format!("{name}: covering {k} {path:?}"));
                }
                if *column.get_or_insert(path[0].clone()) != path[0] {
                    return Err(format!("{name}: covering paths name different columns"));
                }
            }
        }
    }
    Ok(())
}

#[test]
fn the_validator_rejects_broken_metadata() {
    let good = serde_json::json!({"version": "1.1.0", "primary_column": "geometry",
        "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"]}}});
    assert_eq!(validate(&good), Ok(()));
    for (path, value) in [
        ("/version", serde_json::json!("1.0.0")),
        ("/columns/geometry/encoding", serde_json::json!("wkt")),
        (
            "/columns/geometry/geometry_types",
            serde_json::json!(["Point", "Point"]),
        ),
        (
            "/columns/geometry/geometry_types",
            serde_json::json!(["Circle"]),
        ),
        (
            "/columns/geometry/orientation",
            serde_json::json!("clockwise"),
        ),
        ("/columns/geometry/bbox", serde_json::json!([1, 2, 3])),
    ] {
        let mut bad = good.clone();
        let (parent, key) = path.rsplit_once('/').unwrap();
        bad.pointer_mut(if parent.is_empty() { "" } else { parent })
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert(key.into(), value);
        assert!(validate(&bad).is_err(), "{path} accepted");
    }
}

#[test]
fn points_and_polygons_metadata_pass_the_schema_and_carry_crs84() {
    let dir = tempfile::tempdir().unwrap();
    for encoding in [GeometryEncoding::Wkb, GeometryEncoding::Native] {
        let p = dir.path().join(format!("points-{encoding:?}.parquet"));
        let opts = GeoParquetOptions {
            encoding,
            ..Default::default()
        };
        write_geoparquet(&p, crate::schema(), [crate::sample(500, 0)], &opts).unwrap();
        let f = read_geoparquet(&p).unwrap();
        validate(&f.geo).unwrap();
        let col = &f.geo["columns"]["geometry"];
        assert_eq!(col["geometry_types"], serde_json::json!(["Point"]));
        assert_eq!(
            col["encoding"],
            if encoding == GeometryEncoding::Wkb {
                "WKB"
            } else {
                "point"
            }
        );
        // the PROJJSON is written verbatim, not dropped (geoparquet 0.9 drops authority codes)
        assert_eq!(col["crs"], furrow_geoparquet::crs84());
        assert_eq!(col["crs"]["id"]["code"], "CRS84");
        assert_eq!(
            col["covering"]["bbox"]["xmin"],
            serde_json::json!(["bbox", "xmin"])
        );
        let bbox: Vec<f64> = col["bbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(bbox[0], -93.5);
        assert!(bbox[2] > bbox[0] && bbox[3] > bbox[1]);
    }
    let p = dir.path().join("polygons.parquet");
    let points = crate::sample(300, 0);
    let polys = swath_polygons(&points).unwrap();
    write_geoparquet(
        &p,
        swath_schema(&points.schema()),
        [polys],
        &GeoParquetOptions::default(),
    )
    .unwrap();
    let f = read_geoparquet(&p).unwrap();
    validate(&f.geo).unwrap();
    let col = &f.geo["columns"]["geometry"];
    assert_eq!(col["geometry_types"], serde_json::json!(["Polygon"]));
    assert_eq!(col["orientation"], "counterclockwise");
    assert_eq!(col["crs"]["id"]["authority"], "OGC");
}

#[test]
fn geoparquet_crate_drops_an_epsg_code_which_is_why_furrow_passes_projjson() {
    use std::sync::Arc;

    use arrow_schema::Schema;
    use geoarrow_array::GeoArrowArray;
    use geoarrow_array::builder::PointBuilder;
    use geoarrow_schema::crs::Crs;
    use geoarrow_schema::{Dimension, Metadata, PointType};
    use geoparquet::writer::{GeoParquetRecordBatchEncoder, GeoParquetWriterOptionsBuilder};

    let geo_of = |crs: Crs| -> Value {
        let t = PointType::new(Dimension::XY, Arc::new(Metadata::new(crs, None)));
        let mut b = PointBuilder::with_capacity(t.clone(), 1);
        b.push_point(Some(&geo_types::point!(x: 1.0, y: 2.0)));
        let schema = Schema::new(vec![t.to_field("geometry", true)]);
        let opts = GeoParquetWriterOptionsBuilder::default().build();
        let mut enc = GeoParquetRecordBatchEncoder::try_new(&schema, &opts).unwrap();
        let batch =
            arrow_array::RecordBatch::try_new(Arc::new(schema), vec![b.finish().into_array_ref()])
                .unwrap();
        enc.encode_record_batch(&batch).unwrap();
        serde_json::from_str(enc.into_keyvalue().unwrap().value.as_deref().unwrap()).unwrap()
    };
    let epsg = geo_of(Crs::from_authority_code("EPSG:4326".into()));
    assert!(epsg["columns"]["geometry"].get("crs").is_none(), "{epsg}");
    let projjson = geo_of(Crs::from_projjson(furrow_geoparquet::crs84()));
    assert_eq!(
        projjson["columns"]["geometry"]["crs"]["id"]["code"],
        "CRS84"
    );
}
