//! One definition of each area (docs/MACHINE-DATA.md, "Areas"), checked over one pass: the file summary,
//! the operation summary (a `SummaryBuilder` over the points inside the field, as `furrow-pipeline` builds
//! it) and the field coverage (`furrow_allocate::field_coverage`) use one swath model and agree.

use arrow_array::{Array, Float64Array, RecordBatch};
use furrow_allocate::{CoverageOptions, Field, FieldIndex, Swath, field_coverage};
use furrow_machine_data::SummaryBuilder;
use geo_types::{LineString, MultiPolygon, Polygon};

use crate::synth::{SPRAYER, convert_one, drive_along, lon_lat, prop, write_task};

fn area_ha(v: &serde_json::Value) -> f64 {
    v["value"].as_f64().expect("an area")
}

/// The swaths of a batch's rows, as `furrow-pipeline` builds them for the field coverage.
fn swaths(batch: &RecordBatch, rows: std::ops::Range<usize>) -> Vec<Swath> {
    let col = |n: &str| {
        batch
            .column_by_name(n)
            .unwrap()
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .clone()
    };
    let (x, y, h, w, d, a) = (
        col("x"),
        col("y"),
        col("heading"),
        col("equipmentWidth"),
        col("distance"),
        col("area"),
    );
    let v = |c: &Float64Array, i: usize| c.is_valid(i).then(|| c.value(i));
    rows.filter_map(|i| {
        Swath::of_point(
            x.value(i),
            y.value(i),
            v(&h, i).unwrap_or(f64::NAN),
            v(&w, i).unwrap_or(f64::NAN),
            v(&d, i)?,
            v(&a, i),
        )
    })
    .collect()
}

/// One pass of a 12 m boom (four 3 m sections, two of them off for a stretch) 400 m long at 30° from
/// north, in a field that holds its first 300 m: covered ≤ total for the file and for the operation, the
/// operation's total ≤ the file's, and the field coverage × boundary area ≤ the operation's covered area
/// within the raster's resolution. Each of them is within 2 % of the exact swath area.
#[test]
fn one_pass_has_one_definition_of_each_area() {
    let tmp = tempfile::tempdir().unwrap();
    let mut dev = String::from(r#"<DET A="DET1" B="1" C="1" D="Sprayer" E="0" F="0"/>"#);
    for k in 0..4 {
        dev.push_str(&format!(
            r#"<DET A="DET{n}" B="{n}" C="4" D="S{k}" E="{e}" F="1"><DOR A="{o}"/></DET><DPT A="{o}" B="0043" C="3000" D="width"/>"#,
            n = k + 2,
            e = k + 10,
            o = 30 + k
        ));
    }
    let mut dlvs = String::from(r#"<DLV A="0002" B="" C="DET1"/>"#);
    for n in 2..6 {
        dlvs.push_str(&format!(r#"<DLV A="008D" B="" C="DET{n}"/>"#));
    }
    // 201 records 2 m apart: 400 m; the outer sections off from 60 m to 120 m
    let records = drive_along(201, 1000, 2.0, 30.0, |i| match i {
        0 => vec![(0, 2_000_000), (1, 1), (2, 1), (3, 1), (4, 1)],
        30 => vec![(1, 0), (4, 0)],
        60 => vec![(1, 1), (4, 1)],
        _ => vec![],
    });
    let td = write_task(
        &tmp.path().join("T"),
        SPRAYER,
        &dev,
        "Wheat",
        "",
        &[(&dlvs, &records)],
    );
    let f = convert_one(&td);
    // exact: 400 m × 12 m, less 60 m × 6 m with two sections off
    let exact_file = 400.0 * 12.0 - 60.0 * 6.0;
    let (file_total, file_covered) = (
        area_ha(&prop(&f, &["totalArea"])) * 1e4,
        area_ha(&prop(&f, &["coveredArea"])) * 1e4,
    );
    assert!(file_covered <= file_total, "{file_covered} > {file_total}");
    for (what, v) in [("total", file_total), ("covered", file_covered)] {
        assert!(
            (v - exact_file).abs() / exact_file < 0.02,
            "file {what} {v} against {exact_file}"
        );
    }

    // the field: a rectangle along the pass, 20 m either side, from 10 m behind the start to 301 m on
    let corner = |along: f64, across: f64| {
        let (s, c) = 30f64.to_radians().sin_cos();
        let (lon, lat) = lon_lat(along * c - across * s, along * s + across * c);
        geo_types::Coord { x: lon, y: lat }
    };
    let ring = LineString::new(vec![
        corner(-10.0, -20.0),
        corner(301.0, -20.0),
        corner(301.0, 20.0),
        corner(-10.0, 20.0),
        corner(-10.0, -20.0),
    ]);
    let index = FieldIndex::build([Field {
        id: "field".into(),
        boundary: MultiPolygon(vec![Polygon::new(ring, vec![])]),
    }])
    .unwrap();
    assert_eq!(f.batches.len(), 1);
    let batch = &f.batches[0];
    let allocation = furrow_allocate::allocate(&index, batch).unwrap();
    let inside = allocation.field.iter().take_while(|f| **f == 0).count();
    assert!(
        allocation.field[inside..]
            .iter()
            .all(|f| *f == furrow_allocate::OUTSIDE)
    );
    assert_eq!(inside, 151, "points up to 300 m");

    // the operation: its summary over the points inside the field, as furrow-pipeline builds it
    let mut op = SummaryBuilder::new(
        f.plan.operation_type,
        &f.plan.original_operation_type,
        f.plan.units,
    );
    op.add_batch(&batch.slice(0, inside));
    let op_summary = op.finish();
    let op_total = area_ha(&op_summary["properties"]["totalArea"]) * 1e4;
    let op_covered = area_ha(&op_summary["properties"]["coveredArea"]) * 1e4;
    let exact_op = 300.0 * 12.0 - 60.0 * 6.0;
    assert!(op_covered <= op_total, "{op_covered} > {op_total}");
    assert!(op_total <= file_total, "{op_total} > {file_total}");
    assert!((op_total - exact_op).abs() / exact_op < 0.02, "{op_total}");
    assert!(
        (op_covered - exact_op).abs() / exact_op < 0.02,
        "{op_covered}"
    );

    // the field coverage of the same swaths, at 1 m
    let c = field_coverage(
        &index,
        0,
        swaths(batch, 0..inside),
        CoverageOptions::default(),
    )
    .unwrap();
    let field_covered = c.coverage * c.field_area_m2;
    eprintln!(
        "file total {file_total:.1} covered {file_covered:.1} (exact {exact_file}); operation total \
         {op_total:.1} covered {op_covered:.1} (exact {exact_op}); field {field_covered:.1} m² of {:.1} m²",
        c.field_area_m2
    );
    // the operation summary's raster: cells a quarter of the width (3 m); one row of them along the strip
    let resolution = 3.0 * 3.0 * 2.0;
    assert!(
        field_covered <= op_covered + resolution,
        "field {field_covered} against the operation's {op_covered}"
    );
    assert!(
        (field_covered - exact_op).abs() / exact_op < 0.02,
        "{field_covered}"
    );
    assert!((c.field_area_m2 - 311.0 * 40.0).abs() / (311.0 * 40.0) < 0.01);
}
