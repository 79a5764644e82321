//! Exact round trips through GeoParquet and GeoJSON.

use arrow_array::{Array, BinaryArray, Float64Array, RecordBatch, StructArray};

use furrow_geoparquet::{
    GeoJsonWriter, GeoParquetOptions, GeoParquetWriter, GeometryEncoding, read_geojson,
    read_geoparquet, swath_polygons, swath_rectangle, swath_schema, wkb_point, write_geojson,
};

/// Asserts that the columns of `orig` (all of them) hold the same rows in `back`, whatever the batching.
fn assert_same(orig: &[RecordBatch], back: &[RecordBatch]) {
    let rows = |v: &[RecordBatch]| v.iter().map(RecordBatch::num_rows).sum::<usize>();
    assert_eq!(rows(orig), rows(back));
    let (mut i, mut oi, mut j, mut oj) = (0, 0, 0, 0);
    while i < orig.len() && j < back.len() {
        let k = (orig[i].num_rows() - oi).min(back[j].num_rows() - oj);
        if k > 0 {
            for field in orig[i].schema().fields() {
                let a = orig[i].column_by_name(field.name()).unwrap().slice(oi, k);
                let b = back[j].column_by_name(field.name()).unwrap().slice(oj, k);
                assert_eq!(a.to_data(), b.to_data(), "column {}", field.name());
            }
        }
        oi += k;
        oj += k;
        if oi == orig[i].num_rows() {
            i += 1;
            oi = 0;
        }
        if oj == back[j].num_rows() {
            j += 1;
            oj = 0;
        }
    }
}

/// Writes `batches` to `path` in row groups of `rows` rows; the writer's figures.
fn write_in_row_groups(
    path: &std::path::Path,
    schema: arrow_schema::SchemaRef,
    batches: &[RecordBatch],
    rows: usize,
) -> furrow_geoparquet::WriteStats {
    let opts = GeoParquetOptions {
        row_group_rows: rows,
        ..Default::default()
    };
    let file = std::fs::File::create(path).unwrap();
    let mut w = GeoParquetWriter::try_new(file, schema, &opts).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn geoparquet_round_trip_is_exact_over_several_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    for encoding in [GeometryEncoding::Wkb, GeometryEncoding::Native] {
        let p = dir.path().join("points.parquet");
        let opts = GeoParquetOptions {
            encoding,
            row_group_rows: 1000,
            ..Default::default()
        };
        let batches: Vec<RecordBatch> = (0..5).map(|i| crate::sample(700, i * 700)).collect();
        let file = std::fs::File::create(&p).unwrap();
        let mut w = GeoParquetWriter::try_new(file, crate::schema(), &opts).unwrap();
        for b in &batches {
            w.write(b).unwrap();
        }
        let stats = w.finish().unwrap();
        assert_eq!(stats.rows, 3500);
        assert_eq!(stats.row_groups, 4);
        assert!(stats.bytes > 1000);
        let f = read_geoparquet(&p).unwrap();
        assert_eq!(f.num_rows(), 3500);
        assert_eq!(f.row_groups, 4);
        assert_same(&batches, &f.batches);
        assert_eq!(f.batches.len(), 1);
        let back = &f.batches[0];
        let orig = &batches[0];
        // geometry equals x/y, covering equals the point
        let x = orig
            .column_by_name("x")
            .unwrap()
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        let y = orig
            .column_by_name("y")
            .unwrap()
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        let geom = back.column_by_name("geometry").unwrap();
        for i in (0..orig.num_rows()).step_by(97) {
            let (gx, gy) = match encoding {
                GeometryEncoding::Wkb => {
                    let b = geom.as_any().downcast_ref::<BinaryArray>().unwrap();
                    wkb_point(b.value(i)).unwrap()
                }
                GeometryEncoding::Native => {
                    let s = geom.as_any().downcast_ref::<StructArray>().unwrap();
                    let c = |n: &str| {
                        s.column_by_name(n)
                            .unwrap()
                            .as_any()
                            .downcast_ref::<Float64Array>()
                            .unwrap()
                            .value(i)
                    };
                    (c("x"), c("y"))
                }
            };
            assert_eq!((gx, gy), (x.value(i), y.value(i)));
            let bbox = back
                .column_by_name("bbox")
                .unwrap()
                .as_any()
                .downcast_ref::<StructArray>()
                .unwrap();
            let xmin = bbox
                .column_by_name("xmin")
                .unwrap()
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap();
            assert_eq!(xmin.value(i), x.value(i));
        }
        let bb = stats.bbox.unwrap();
        assert_eq!(bb[0], -93.5);
        assert_eq!(
            f.geo["columns"]["geometry"]["bbox"][0].as_f64(),
            Some(bb[0])
        );
    }
}

#[test]
fn a_batch_with_another_schema_is_refused() {
    let mut w =
        GeoParquetWriter::try_new(Vec::new(), crate::schema(), &GeoParquetOptions::default())
            .unwrap();
    let other = crate::sample(3, 0).project(&[0, 1]).unwrap();
    assert!(matches!(
        w.write(&other),
        Err(furrow_geoparquet::Error::Schema { .. })
    ));
    let no_xy = crate::sample(3, 0).project(&[2, 3]).unwrap();
    assert!(
        GeoParquetWriter::try_new(Vec::new(), no_xy.schema(), &GeoParquetOptions::default())
            .is_err()
    );
}

#[test]
fn geojson_round_trip_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("points.geojson");
    let batches: Vec<RecordBatch> = (0..3).map(|i| crate::sample(400, i * 400)).collect();
    let n = write_geojson(&p, crate::schema(), batches.clone()).unwrap();
    assert_eq!(n, 1200);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    assert_eq!(doc["type"], "FeatureCollection");
    let f0 = &doc["features"][1];
    assert_eq!(f0["geometry"]["type"], "Point");
    assert_eq!(f0["properties"]["timestamp"], "2021-04-09T14:54:05.969Z");
    assert_eq!(f0["properties"]["localTime"], "2021-04-09T16:54:05.969");
    assert_eq!(
        f0["properties"]["machinery"],
        serde_json::json!(["Combine \"X\" ü"])
    );
    assert!(
        doc["features"][0]["properties"].get("timestamp").is_none(),
        "nulls are left out"
    );
    let back = read_geojson(&p, crate::schema()).unwrap();
    assert_same(&batches, &back);
}

#[test]
fn geojson_writer_streams_into_any_writer() {
    let mut w = GeoJsonWriter::try_new(Vec::new(), crate::schema()).unwrap();
    w.write(&crate::sample(2, 0)).unwrap();
    assert_eq!(w.features(), 2);
    let out = w.finish().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["features"].as_array().unwrap().len(), 2);
    let empty = GeoJsonWriter::try_new(Vec::new(), crate::schema())
        .unwrap()
        .finish()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&empty).unwrap();
    assert_eq!(doc["features"], serde_json::json!([]));
}

#[test]
fn swath_rectangles_have_the_right_size_and_orientation() {
    use geo::{Area, GeodesicArea};
    // 12 m × 3 m, heading east, at 41.6°N
    let r = swath_rectangle(-93.5, 41.6, 12.0, 3.0, 90.0);
    let area = r.geodesic_area_unsigned();
    assert!((area - 36.0).abs() < 0.2, "area {area}");
    assert!(r.signed_area() > 0.0, "counter-clockwise");
    let points = crate::sample(50, 0);
    let polys = swath_polygons(&points).unwrap();
    assert_eq!(polys.schema(), swath_schema(&points.schema()));
    assert_eq!(polys.num_rows(), 50);
    assert_eq!(polys.column_by_name("geometry").unwrap().null_count(), 0);
}

#[test]
fn null_points_stay_null_and_stay_out_of_the_extent() {
    use std::sync::Arc;

    use arrow_schema::{DataType, Field, Schema};

    let dir = tempfile::tempdir().unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Float64, true),
    ]));
    let x = Float64Array::from(vec![Some(-93.5), None, Some(-93.25), Some(500.0)]);
    // the last row's y is null: its x (500) must not reach the extent
    let y = Float64Array::from(vec![Some(41.5), Some(45.0), Some(41.75), None]);
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(x), Arc::new(y)]).unwrap();
    for encoding in [GeometryEncoding::Wkb, GeometryEncoding::Native] {
        let p = dir.path().join("nulls.parquet");
        let opts = GeoParquetOptions {
            encoding,
            ..Default::default()
        };
        let mut w =
            GeoParquetWriter::try_new(std::fs::File::create(&p).unwrap(), schema.clone(), &opts)
                .unwrap();
        w.write(&batch).unwrap();
        let stats = w.finish().unwrap();
        assert_eq!(stats.bbox, Some([-93.5, 41.5, -93.25, 41.75]));
        let f = read_geoparquet(&p).unwrap();
        assert_eq!(f.num_rows(), 4);
        let col = &f.geo["columns"]["geometry"];
        assert_eq!(col["geometry_types"], serde_json::json!(["Point"]));
        assert_eq!(col["bbox"], serde_json::json!([-93.5, 41.5, -93.25, 41.75]));
        let b = &f.batches[0];
        let geom = b.column_by_name("geometry").unwrap();
        let valid: Vec<bool> = (0..4).map(|i| geom.is_valid(i)).collect();
        assert_eq!(valid, [true, false, true, false]);
        if encoding == GeometryEncoding::Wkb {
            let wkb = geom.as_any().downcast_ref::<BinaryArray>().unwrap();
            assert_eq!(wkb_point(wkb.value(2)), Some((-93.25, 41.75)));
        }
        let bbox = b.column_by_name("bbox").unwrap();
        assert_eq!(bbox.null_count(), 2);
    }
}

/// The flat-column encoder (`chunked.rs`) on what it must not get wrong: nulls (null points, so a
/// nullable `bbox` struct), NaN, an all-null column, a constant column with nulls (written as a one-entry
/// dictionary), strings and binary, row groups cut across batches; and the chunk statistics readers prune
/// with.
#[test]
fn flat_chunks_keep_nulls_nans_constants_and_statistics() {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int32Array, Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::file::statistics::Statistics;

    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Float64, true),
        Field::new("v", DataType::Float64, true),
        Field::new("constant", DataType::Float64, true),
        Field::new("none", DataType::Float64, true),
        Field::new("n", DataType::Int64, false),
        Field::new("k", DataType::Int32, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("crop", DataType::Utf8, true),
        Field::new("b", DataType::Binary, true),
        // equal for a while, then not (with nulls): not constant in the row group where they change
        Field::new("status", DataType::Utf8, true),
        Field::new("late", DataType::Float64, true),
    ]));
    let batch = |n: usize, seed: usize| {
        let row = |i: usize| i + seed;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Float64Array::from_iter((0..n).map(|i| {
                (row(i) % 11 != 3).then(|| -93.5 + row(i) as f64 * 1e-5)
            }))),
            Arc::new(Float64Array::from_iter((0..n).map(|i| {
                (row(i) % 11 != 3).then(|| 41.6 - row(i) as f64 * 1e-5)
            }))),
            Arc::new(Float64Array::from_iter((0..n).map(|i| match row(i) % 5 {
                0 => None,
                1 => Some(f64::NAN),
                2 => Some(0.0),
                _ => Some(row(i) as f64 * 0.25 - 100.0),
            }))),
            Arc::new(Float64Array::from_iter(
                (0..n).map(|i| (row(i) % 4 != 0).then_some(9.0)),
            )),
            Arc::new(Float64Array::from(vec![None::<f64>; n])),
            Arc::new(Int64Array::from_iter_values(
                (0..n).map(|i| row(i) as i64 * 100 - 5000),
            )),
            Arc::new(Int32Array::from_iter(
                (0..n).map(|i| (row(i) % 3 == 0).then_some(7)),
            )),
            Arc::new(StringArray::from_iter(
                (0..n).map(|i| (row(i) % 6 != 0).then(|| format!("s{}", row(i) % 13))),
            )),
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                "corn", n,
            ))),
            Arc::new(BinaryArray::from_iter((0..n).map(|i| {
                (row(i) % 9 != 0).then(|| vec![row(i) as u8; row(i) % 4])
            }))),
            Arc::new(StringArray::from_iter((0..n).map(|i| {
                (row(i) % 7 != 0).then_some(if row(i) < 762 { "On" } else { "Off" })
            }))),
            Arc::new(Float64Array::from_iter((0..n).map(|i| {
                (row(i) % 4 != 1).then_some(if row(i) < 760 { 1.0 } else { 2.0 })
            }))),
        ];
        RecordBatch::try_new(schema.clone(), columns).unwrap()
    };
    let batches = vec![
        batch(300, 0),
        batch(1, 300),
        batch(450, 301),
        batch(249, 751),
    ];
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("flat.parquet");
    let stats = write_in_row_groups(&p, schema.clone(), &batches, 256);
    assert_eq!((stats.rows, stats.row_groups), (1000, 4));

    // every value back, NaN and nulls included (compared bit for bit)
    let f = read_geoparquet(&p).unwrap();
    assert_eq!(f.num_rows(), 1000);
    assert_same(&batches, &f.batches);
    let back_v: Vec<Option<u64>> = f
        .batches
        .iter()
        .flat_map(|b| {
            let v = b
                .column_by_name("v")
                .unwrap()
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap();
            (0..v.len())
                .map(|i| v.is_valid(i).then(|| v.value(i).to_bits()))
                .collect::<Vec<_>>()
        })
        .collect();
    let orig_v: Vec<Option<u64>> = batches
        .iter()
        .flat_map(|b| {
            let v = b.column(2).as_any().downcast_ref::<Float64Array>().unwrap();
            (0..v.len())
                .map(|i| v.is_valid(i).then(|| v.value(i).to_bits()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(back_v, orig_v);
    // null points: null geometry and null covering
    let null_points: usize = f
        .batches
        .iter()
        .map(|b| b.column_by_name("bbox").unwrap().null_count())
        .sum();
    assert_eq!(null_points, (0..1000).filter(|r| r % 11 == 3).count());
    let null_geoms: usize = f
        .batches
        .iter()
        .map(|b| b.column_by_name("geometry").unwrap().null_count())
        .sum();
    assert_eq!(null_geoms, null_points);
    // the covering: xmin = xmax = x, ymin = ymax = y on every valid row (xmax and ymax are encoded once
    // with xmin and ymin, their chunks shared)
    let mut checked = 0;
    for b in &f.batches {
        let bbox = b.column_by_name("bbox").unwrap();
        let bbox = bbox.as_any().downcast_ref::<StructArray>().unwrap();
        let get = |n: &str| {
            bbox.column_by_name(n)
                .unwrap()
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap()
                .clone()
        };
        let (x0, y0, x1, y1) = (get("xmin"), get("ymin"), get("xmax"), get("ymax"));
        let xs = b.column_by_name("x").unwrap();
        let xs = xs.as_any().downcast_ref::<Float64Array>().unwrap();
        let ys = b.column_by_name("y").unwrap();
        let ys = ys.as_any().downcast_ref::<Float64Array>().unwrap();
        for i in 0..b.num_rows() {
            if bbox.is_valid(i) {
                assert_eq!((x0.value(i), x1.value(i)), (xs.value(i), xs.value(i)));
                assert_eq!((y0.value(i), y1.value(i)), (ys.value(i), ys.value(i)));
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 1000 - null_points);

    // chunk statistics and encodings, row group by row group
    let reader = SerializedFileReader::new(std::fs::File::open(&p).unwrap()).unwrap();
    let meta = reader.metadata();
    let leaf = |rg: usize, name: &str| {
        let g = meta.row_group(rg);
        (0..g.num_columns())
            .map(|c| g.column(c))
            .find(|c| c.column_path().string() == name)
            .unwrap_or_else(|| panic!("no column {name}"))
            .clone()
    };
    let mut start = 0usize;
    for rg in 0..meta.num_row_groups() {
        let rows = meta.row_group(rg).num_rows() as usize;
        let range = start..start + rows;
        start += rows;
        // v: min/max of the valid, non-NaN values; 0.0 written as -0.0 when it is the minimum
        let vals: Vec<f64> = range
            .clone()
            .filter(|r| !matches!(r % 5, 0 | 1))
            .map(|r| {
                if r % 5 == 2 {
                    0.0
                } else {
                    r as f64 * 0.25 - 100.0
                }
            })
            .collect();
        let (lo, hi) = vals
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        match leaf(rg, "v").statistics() {
            Some(Statistics::Double(s)) => {
                let (smin, smax) = (*s.min_opt().unwrap(), *s.max_opt().unwrap());
                assert_eq!(smin, lo, "row group {rg}");
                assert_eq!(smax, hi, "row group {rg}");
                if lo == 0.0 {
                    assert!(smin.is_sign_negative());
                }
                assert_eq!(
                    s.null_count_opt(),
                    Some(range.clone().filter(|r| r % 5 == 0).count() as u64)
                );
            }
            other => panic!("v statistics: {other:?}"),
        }
        match leaf(rg, "n").statistics() {
            Some(Statistics::Int64(s)) => {
                assert_eq!(*s.min_opt().unwrap(), range.start as i64 * 100 - 5000);
                assert_eq!(*s.max_opt().unwrap(), (range.end - 1) as i64 * 100 - 5000);
            }
            other => panic!("n statistics: {other:?}"),
        }
        match leaf(rg, "bbox.ymin").statistics() {
            Some(Statistics::Double(s)) => {
                let ys: Vec<f64> = range
                    .clone()
                    .filter(|r| r % 11 != 3)
                    .map(|r| 41.6 - r as f64 * 1e-5)
                    .collect();
                assert_eq!(*s.max_opt().unwrap(), ys[0]);
                assert_eq!(*s.min_opt().unwrap(), *ys.last().unwrap());
            }
            other => panic!("bbox.ymin statistics: {other:?}"),
        }
        assert_eq!(
            leaf(rg, "bbox.ymax").statistics(),
            leaf(rg, "bbox.ymin").statistics()
        );
        assert_eq!(leaf(rg, "bbox.xmax").column_path().string(), "bbox.xmax");
        match leaf(rg, "none").statistics() {
            Some(Statistics::Double(s)) => {
                assert_eq!((s.min_opt(), s.null_count_opt()), (None, Some(rows as u64)));
            }
            other => panic!("none statistics: {other:?}"),
        }
        // a constant chunk's statistics are its one value, whichever row holds it first
        match leaf(rg, "constant").statistics() {
            Some(Statistics::Double(s)) => {
                assert_eq!((s.min_opt(), s.max_opt()), (Some(&9.0), Some(&9.0)));
                assert_eq!(
                    s.null_count_opt(),
                    Some(range.clone().filter(|r| r % 4 == 0).count() as u64)
                );
            }
            other => panic!("constant statistics: {other:?}"),
        }
        match leaf(rg, "k").statistics() {
            Some(Statistics::Int32(s)) => {
                assert_eq!((s.min_opt(), s.max_opt()), (Some(&7), Some(&7)));
            }
            other => panic!("k statistics: {other:?}"),
        }
        // constant chunks are a one-entry dictionary; varying ones are plain
        for name in ["constant", "crop", "k"] {
            let c = leaf(rg, name);
            assert!(
                c.dictionary_page_offset().is_some(),
                "{name} in row group {rg}"
            );
        }
        for name in ["status", "late"] {
            // both change value a few rows into the third row group's last batch (rows 751–767)
            let c = leaf(rg, name);
            assert_eq!(
                c.dictionary_page_offset().is_some(),
                rg != 2,
                "{name} in row group {rg}"
            );
        }
        for name in ["v", "s", "b", "geometry", "bbox.ymin"] {
            let c = leaf(rg, name);
            assert!(
                c.dictionary_page_offset().is_none(),
                "{name} in row group {rg}"
            );
        }
    }
}

/// 64-bit integer chunks are DELTA_BINARY_PACKED: every block and miniblock shape (one value, a partial
/// miniblock, a block plus one delta, several blocks), nulls, and deltas that wrap (`i64::MIN` next to
/// `i64::MAX`) come back exactly. Binary chunks (WKB) are DELTA_BYTE_ARRAY: prefixes shared with the
/// value before of every length (none, part of a word, a word, more, all, a value that is the other's
/// prefix), empty values and nulls come back exactly too.
#[test]
fn delta_encoded_chunks_are_exact() {
    use std::sync::Arc;

    use arrow_array::types::TimestampMillisecondType;
    use arrow_array::{ArrayRef, BinaryArray, Int64Array, PrimitiveArray};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    use parquet::basic::Encoding;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Float64, false),
        Field::new(
            "t",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("wild", DataType::Int64, false),
        Field::new("sparse", DataType::Int64, true),
        Field::new("blob", DataType::Binary, true),
        Field::new("fixed", DataType::Binary, false),
    ]));
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut row = 0usize;
    let mut batch = |n: usize| {
        let rows: Vec<usize> = (row..row + n).collect();
        row += n;
        let wild: Vec<i64> = rows
            .iter()
            .map(|&i| match i % 6 {
                0 => i64::MIN,
                1 => i64::MAX,
                2 => next() as i64,
                3 => -(i as i64),
                _ => (next() % 1000) as i64,
            })
            .collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|&i| i as f64 * 1e-5),
            )),
            Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|&i| 45.0 + i as f64 * 1e-5),
            )),
            Arc::new(
                PrimitiveArray::<TimestampMillisecondType>::from_iter(rows.iter().map(|&i| {
                    // a 10 Hz clock with a dropout now and then and one jump back
                    (i % 17 != 5).then_some(
                        1_700_000_000_000 + i as i64 * 100 - i64::from(i > 700) * 3_600_000,
                    )
                }))
                .with_timezone("UTC"),
            ),
            Arc::new(Int64Array::from(wild)),
            Arc::new(Int64Array::from_iter(
                rows.iter().map(|&i| (i % 40 == 7).then_some(i as i64 * 3)),
            )),
            Arc::new(BinaryArray::from_iter(rows.iter().map(|&i| {
                let head = b"0123456789abcdefghij";
                match i % 9 {
                    0 => None,
                    1 => Some(Vec::new()),
                    // shares 0..=20 bytes with a neighbour of the same shape
                    2 | 3 => Some([&head[..i % 21], &(i as u64).to_le_bytes()[..]].concat()),
                    4 => Some(head[..i % 21].to_vec()),
                    5 | 6 => Some(head.to_vec()),
                    _ => Some((i as u32).to_be_bytes().to_vec()),
                }
            }))),
            // point-like values, 21 bytes each (a header, then x and y), sharing 0 to 21 bytes with
            // the one before; one row of the third row group is a byte short (the general path)
            Arc::new(BinaryArray::from_iter_values(rows.iter().map(|&i| {
                let head = [1u8, 1, 0, 0, (i % 97 == 0) as u8];
                let x = ((i / 50) as f64).to_le_bytes();
                let y = if i % 10 == 0 { i.saturating_sub(1) } else { i };
                let y = (y as f64 * 0.25).to_le_bytes();
                let v = [&head[..], &x, &y].concat();
                if i == 777 { v[..20].to_vec() } else { v }
            }))),
        ];
        RecordBatch::try_new(schema.clone(), columns).unwrap()
    };
    // row groups of 300: batches cut across them, chunks of 1, 2, 33, 129, 130 and 300 values
    let batches: Vec<RecordBatch> = [1, 2, 33, 129, 130, 5, 300, 299, 1, 300]
        .iter()
        .map(|&n| batch(n))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("delta.parquet");
    let stats = write_in_row_groups(&p, schema.clone(), &batches, 300);
    assert_eq!((stats.rows, stats.row_groups), (1200, 4));
    let f = read_geoparquet(&p).unwrap();
    assert_same(&batches, &f.batches);

    // a file of single short row groups too: 1, 2, 129 (a block and one delta) and 258 (three blocks)
    for n in [1usize, 2, 129, 258] {
        let b = batch(n);
        let q = dir.path().join(format!("delta{n}.parquet"));
        let stats = write_in_row_groups(&q, schema.clone(), std::slice::from_ref(&b), n);
        assert_eq!(stats.row_groups, 1);
        assert_same(
            std::slice::from_ref(&b),
            &read_geoparquet(&q).unwrap().batches,
        );
    }

    // the integer and binary chunks say so in their metadata (and the doubles stay PLAIN)
    let r = SerializedFileReader::new(std::fs::File::open(&p).unwrap()).unwrap();
    let md = r.metadata();
    let mut delta = 0;
    for rg in md.row_groups() {
        for c in rg.columns() {
            let encodings: Vec<Encoding> = c.encodings().collect();
            let name = c.column_path().string();
            if ["t", "wild", "sparse"].contains(&name.as_str()) {
                assert!(
                    encodings.contains(&Encoding::DELTA_BINARY_PACKED),
                    "{name}: {encodings:?}"
                );
                assert!(
                    !encodings.contains(&Encoding::PLAIN),
                    "{name}: {encodings:?}"
                );
                delta += 1;
            } else if ["blob", "fixed", "geometry"].contains(&name.as_str()) {
                assert!(
                    encodings.contains(&Encoding::DELTA_BYTE_ARRAY),
                    "{name}: {encodings:?}"
                );
                assert!(
                    !encodings.contains(&Encoding::PLAIN),
                    "{name}: {encodings:?}"
                );
                delta += 1;
            } else if name == "y" {
                assert!(
                    !encodings.contains(&Encoding::DELTA_BINARY_PACKED),
                    "{name}"
                );
            }
        }
    }
    assert_eq!(delta, 24);
}

/// Nested columns whose rows are all alike (every row the same one-string list, or an empty list or
/// map) are written without the upstream writers; row groups where they are not alike (two strings, two
/// items, a null list, a null item, entries in the map) go through them. Both come back exactly, and
/// pyarrow-style readers see one level a row.
#[test]
fn uniform_nested_chunks_are_exact() {
    use std::sync::Arc;

    use arrow_array::builder::{
        Float64Builder, ListBuilder, MapBuilder, MapFieldNames, StringBuilder,
    };
    use arrow_array::{ArrayRef, ListArray};
    use arrow_schema::{DataType, Field, Fields, Schema};
    use parquet::basic::Encoding;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    let names = || {
        ListBuilder::new(StringBuilder::new()).with_field(Arc::new(Field::new(
            "item",
            DataType::Utf8,
            true,
        )))
    };
    let map = || {
        MapBuilder::new(
            Some(MapFieldNames {
                entry: "entries".into(),
                key: "keys".into(),
                value: "values".into(),
            }),
            StringBuilder::new(),
            Float64Builder::new(),
        )
    };
    let list_of = |t: DataType| DataType::List(Arc::new(Field::new("item", t, true)));
    let product = DataType::Struct(Fields::from(vec![
        Field::new("name", DataType::Utf8, true),
        Field::new("rate", DataType::Float64, true),
    ]));
    let extra_type = map().finish().data_type().clone();
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Float64, false),
        Field::new("machinery", list_of(DataType::Utf8), true),
        Field::new("tillType", list_of(DataType::Utf8), true),
        Field::new("extra", extra_type, true),
        Field::new("products", list_of(product.clone()), true),
    ]));
    // `odd`: how the rows of the batch differ from the uniform ones (0 = they do not)
    let batch = |start: usize, n: usize, odd: usize| {
        let mut machinery = names();
        let mut till = names();
        let mut extra = map();
        for i in start..start + n {
            match (odd, i % 3) {
                (1, 0) => machinery.values().append_value("Planter 24"),
                (2, 0) => {
                    machinery.values().append_value("Combine");
                    machinery.values().append_value("Header");
                }
                (3, 0) => {
                    machinery.append(false);
                    till.append(true);
                    extra.append(true).unwrap();
                    continue;
                }
                (4, 0) => machinery.values().append_null(),
                _ => machinery.values().append_value("Combine"),
            }
            machinery.append(true);
            if odd == 5 && i % 3 == 0 {
                till.values().append_value("chisel");
                extra.keys().append_value("DDI 0x0179");
                extra.values().append_value(i as f64);
            }
            till.append(true);
            extra.append(true).unwrap();
        }
        let products = ListArray::new_null(Arc::new(Field::new("item", product.clone(), true)), 0);
        // empty product lists, not null ones: offsets all zero
        let products: ArrayRef = Arc::new(ListArray::new(
            Arc::new(Field::new("item", product.clone(), true)),
            arrow_buffer::OffsetBuffer::new_zeroed(n),
            products.values().clone(),
            None,
        ));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Float64Array::from_iter_values(
                (start..start + n).map(|i| i as f64 * 1e-5),
            )),
            Arc::new(Float64Array::from_iter_values(
                (start..start + n).map(|i| 40.0 + i as f64 * 1e-5),
            )),
            Arc::new(machinery.finish()),
            Arc::new(till.finish()),
            Arc::new(extra.finish()),
            products,
        ];
        RecordBatch::try_new(schema.clone(), columns).unwrap()
    };
    // row groups of 100 rows: uniform over two batches, then each kind of difference, then uniform
    let mut batches = Vec::new();
    let mut start = 0;
    for (n, odd) in [
        (60, 0),
        (40, 0),
        (100, 1),
        (100, 2),
        (100, 3),
        (100, 4),
        (100, 5),
        (7, 0),
    ] {
        batches.push(batch(start, n, odd));
        start += n;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nested.parquet");
    assert_eq!(
        write_in_row_groups(&p, schema.clone(), &batches, 100).row_groups,
        7
    );
    let back = read_geoparquet(&p).unwrap();
    assert_same(&batches, &back.batches);

    // the uniform machinery chunks are one-entry dictionaries; the others are not
    let r = SerializedFileReader::new(std::fs::File::open(&p).unwrap()).unwrap();
    let (mut dictionaries, mut levels) = (Vec::new(), Vec::new());
    for rg in r.metadata().row_groups() {
        let c = rg
            .columns()
            .iter()
            .find(|c| c.column_path().string() == "machinery.list.item")
            .unwrap();
        levels.push(c.num_values());
        dictionaries.push(c.encodings().any(|e| e == Encoding::RLE_DICTIONARY));
    }
    // one level a row, and one more for each second item (33 rows of the third row group)
    assert_eq!(levels, [100, 100, 133, 100, 100, 100, 7]);
    // the fifth difference is in `tillType` and `extra` alone: machinery stays uniform there
    assert_eq!(dictionaries, [true, false, false, false, false, true, true]);
}

/// Doubles written from one buffer (a row group of one batch, so compressed straight from the Arrow
/// buffer) and shared by several columns (`y` and the covering's `ymin`/`ymax`, compressed once): every
/// row reads back as written, from version 2 pages whose definition levels sit outside the compressed
/// values; a sliced batch (values at an offset) too.
#[test]
fn shared_and_in_place_values_are_exact_in_version_2_pages() {
    use parquet::basic::PageType;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    let dir = tempfile::tempdir().unwrap();
    let whole = crate::sample(3000, 11);
    for (name, batch) in [
        ("whole", whole.clone()),
        ("sliced", whole.slice(1234, 1500)),
    ] {
        let p = dir.path().join(format!("{name}.parquet"));
        let stats = write_in_row_groups(&p, batch.schema(), std::slice::from_ref(&batch), 4096);
        assert_eq!(stats.row_groups, 1);
        let f = read_geoparquet(&p).unwrap();
        assert_same(std::slice::from_ref(&batch), &f.batches);
        let back = &f.batches[0];
        let bbox = back
            .column_by_name("bbox")
            .unwrap()
            .as_any()
            .downcast_ref::<StructArray>()
            .unwrap();
        for (corner, of) in [("xmin", "x"), ("xmax", "x"), ("ymin", "y"), ("ymax", "y")] {
            assert_eq!(
                bbox.column_by_name(corner).unwrap().to_data(),
                batch.column_by_name(of).unwrap().to_data(),
                "{name}: bbox.{corner}"
            );
        }
        // the flat columns' data pages are version 2
        let reader = SerializedFileReader::new(std::fs::File::open(&p).unwrap()).unwrap();
        let rg = reader.get_row_group(0).unwrap();
        let leaves = rg.metadata().columns();
        let mut v2 = Vec::new();
        for (i, c) in leaves.iter().enumerate() {
            let mut pages = rg.get_column_page_reader(i).unwrap();
            while let Some(page) = pages.get_next_page().unwrap() {
                if page.page_type() == PageType::DATA_PAGE_V2 {
                    v2.push(c.column_path().string());
                }
            }
        }
        for col in ["x", "y", "wetMass", "bbox.ymin", "bbox.ymax", "geometry"] {
            assert!(v2.iter().any(|c| c == col), "{name}: {col} in {v2:?}");
        }
    }
}
