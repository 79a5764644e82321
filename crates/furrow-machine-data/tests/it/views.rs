//! The written views beside the standard points: filtered view, swath polygons as GeoJSON, and
//! `sectionId`, on small synthetic TASKDATA sets.

use std::path::Path;

use arrow_array::{Array, Float64Array, Int32Array, RecordBatch};
use furrow_geoparquet::{GeoParquetFile, read_geoparquet, swath_rectangle};
use furrow_isoxml::{DlvValue, LoggedDateTime, Record, RecordPosition, TaskData, TimeLogHeader};
use furrow_machine_data::{
    ConvertOptions, OperationType, OutputFormat, WriteOptions, convert_task_data, plan, write_plans,
};
use serde_json::Value;

/// Writes a TASKDATA folder with one device (`elements`: DET/DPT XML inside the DVC), one time log
/// whose header holds `dlvs`, and one record per `values` entry: 10 Hz, 0.25 m apart northwards.
fn write_set(dir: &Path, elements: &str, dlvs: &str, values: &[Vec<(u8, i32)>]) -> TaskData {
    write_logs(dir, elements, &[(dlvs, values)])
}

/// Each record's DLV values: (DLV index, value).
type Values = [Vec<(u8, i32)>];

/// [`write_set`] with one task of several time logs (`TLG00001`...), each its header's `dlvs` and its
/// records; the records go on from one log to the next (times and positions).
fn write_logs(dir: &Path, elements: &str, logs: &[(&str, &Values)]) -> TaskData {
    std::fs::create_dir_all(dir).unwrap();
    let tlgs: String = (1..=logs.len())
        .map(|k| format!(r#"<TLG A="TLG{k:05}" C="1"/>"#))
        .collect();
    let taskdata = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ISO11783_TaskData VersionMajor="4" VersionMinor="2" ManagementSoftwareManufacturer="furrow" ManagementSoftwareVersion="1" DataTransferOrigin="2">
<CTP A="CTP1" B="Corn"/>
<PFD A="PFD1" C="Field" D="100000" G="CTP1"/>
<DVC A="DVC1" B="Combine" D="A00E84000DF0E439" E="SN1">
{elements}
</DVC>
<TSK A="TSK1" B="Harvest" E="PFD1" G="4">{tlgs}</TSK>
</ISO11783_TaskData>
"#
    );
    std::fs::write(dir.join("TASKDATA.XML"), taskdata).unwrap();
    let mut i: i32 = 0;
    for (k, (dlvs, values)) in logs.iter().enumerate() {
        let name = format!("TLG{:05}", k + 1);
        let header = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<TIM A="" D="4"><PTN A="" B="" C="" D=""/>
{dlvs}
</TIM>
"#
        );
        std::fs::write(dir.join(format!("{name}.XML")), &header).unwrap();
        let (parsed, _) = TimeLogHeader::parse(header.as_bytes(), &format!("{name}.XML")).unwrap();
        let layout = parsed.layout();
        let mut bin = Vec::new();
        let mut buf = Vec::new();
        for vals in values.iter() {
            let ms = 36_000_000 + i.unsigned_abs() * 100;
            let rec = Record {
                time: Some(LoggedDateTime {
                    days: 16_000,
                    millis: ms,
                }),
                position: RecordPosition {
                    north: Some(416_000_000 + i * 22),
                    east: Some(-935_000_000),
                    up: Some(280_000),
                    status: Some(4),
                    ..RecordPosition::default()
                },
                values: vals
                    .iter()
                    .map(|&(index, value)| DlvValue { index, value })
                    .collect(),
                ..Record::default()
            };
            buf.clear();
            layout.encode(&rec, &mut buf);
            bin.extend_from_slice(&buf);
            i += 1;
        }
        std::fs::write(dir.join(format!("{name}.BIN")), bin).unwrap();
    }
    TaskData::open(dir).unwrap()
}

const COMBINE: &str = r#"<DET A="DET1" B="1" C="1" D="Combine" E="0" F="0"><DOR A="10"/></DET>
<DPT A="10" B="0043" C="9000" D="width"/>"#;

/// Yield (0x0054), moisture (0x0063) and speed (0x018D) of the combine.
const HARVEST_DLVS: &str =
    r#"<DLV A="0054" B="" C="DET1"/><DLV A="0063" B="" C="DET1"/><DLV A="018D" B="" C="DET1"/>"#;

/// 1,200 harvest records: every 10th slow (0.2 m/s), three yield spikes far beyond 3 sigma (200 t/ha: still
/// within the plausible, so the filtered view's outlier test is what removes them).
fn harvest_values() -> Vec<Vec<(u8, i32)>> {
    (0..1200)
        .map(|i| {
            let yield_mg_m2 = match i {
                300 | 700 | 1100 => 20_000_000,
                _ => 1_000_000 + (i % 37) * 5_000,
            };
            let speed_mm_s = if i % 10 == 3 { 200 } else { 2_500 };
            vec![(0, yield_mg_m2), (1, 180_000), (2, speed_mm_s)]
        })
        .collect()
}

/// The task's first plan written to `out` as GeoParquet with the default options, and read back.
fn write_and_read(td: &TaskData, opts: &ConvertOptions, out: &Path) -> GeoParquetFile {
    let plans = plan(td, opts);
    write_plans(
        td,
        &[&plans[0]],
        opts,
        out,
        &WriteOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    read_geoparquet(out).unwrap()
}

fn f64_col<'a>(b: &'a RecordBatch, name: &str) -> &'a Float64Array {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
        .unwrap_or_else(|| panic!("{name}"))
}

#[test]
fn filtered_view_is_written_with_exactly_the_counted_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let td = write_set(
        &tmp.path().join("TASKDATA"),
        COMBINE,
        HARVEST_DLVS,
        &harvest_values(),
    );
    let opts = ConvertOptions::default();
    let plans = plan(&td, &opts);
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].operation_type, OperationType::Harvested);
    for format in [OutputFormat::GeoParquet, OutputFormat::GeoJson] {
        let out = tmp.path().join(format!("h.{}", format.extension()));
        let written = write_plans(
            &td,
            &[&plans[0]],
            &opts,
            &out,
            &WriteOptions {
                format,
                filtered: true,
                ..WriteOptions::default()
            },
            &mut |_| {},
        )
        .unwrap();
        let c = written.outcomes[0].counts;
        // the fixture exercises both filters
        assert_eq!(c.slow, 120, "{c:?}");
        assert_eq!(c.outliers, 3, "{c:?}");
        assert_eq!(c.filtered, c.standard - c.slow - c.outliers);
        let path = written.filtered.expect("filtered file");
        assert_eq!(
            path,
            tmp.path()
                .join(format!("h.filtered.{}", format.extension()))
        );
        match format {
            OutputFormat::GeoParquet => {
                let file = read_geoparquet(&path).unwrap();
                assert_eq!(file.num_rows() as u64, c.filtered);
                for b in &file.batches {
                    let speed = f64_col(b, "speed");
                    let wmpa = f64_col(b, "wetMassPerArea");
                    for i in 0..b.num_rows() {
                        assert!(speed.value(i) >= 0.5, "slow row kept");
                        assert!(wmpa.value(i) < 100.0, "outlier kept: {}", wmpa.value(i));
                    }
                }
                // the standard file still holds every standard point
                assert_eq!(read_geoparquet(&out).unwrap().num_rows() as u64, c.standard);
            }
            OutputFormat::GeoJson => {
                let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                let features = doc["features"].as_array().unwrap();
                assert_eq!(features.len() as u64, c.filtered);
                assert!(
                    features
                        .iter()
                        .all(|f| f["properties"]["speed"].as_f64().unwrap() >= 0.5)
                );
            }
        }
    }
}

#[test]
fn polygons_are_written_as_geojson_swath_rectangles() {
    let tmp = tempfile::tempdir().unwrap();
    let td = write_set(
        &tmp.path().join("TASKDATA"),
        COMBINE,
        HARVEST_DLVS,
        &harvest_values()[..200],
    );
    let opts = ConvertOptions::default();
    let plans = plan(&td, &opts);
    let out = tmp.path().join("h.geojson");
    let written = write_plans(
        &td,
        &[&plans[0]],
        &opts,
        &out,
        &WriteOptions {
            format: OutputFormat::GeoJson,
            polygons: true,
            ..WriteOptions::default()
        },
        &mut |_| {},
    )
    .unwrap();
    let path = written.polygons.expect("polygons file");
    assert_eq!(path, tmp.path().join("h.polygons.geojson"));
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(doc["type"], "FeatureCollection");
    let features = doc["features"].as_array().unwrap();
    assert_eq!(features.len() as u64, written.outcomes[0].counts.written);
    let mut polygons = 0;
    for f in features {
        let p = &f["properties"];
        let g = &f["geometry"];
        if g.is_null() {
            // the first point has no distance or heading yet
            assert!(p["heading"].is_null() || p["distance"].as_f64() == Some(0.0));
            continue;
        }
        polygons += 1;
        assert_eq!(g["type"], "Polygon");
        let ring = g["coordinates"][0].as_array().unwrap();
        assert_eq!(ring.len(), 5);
        assert_eq!(ring[0], ring[4]);
        let num = |k: &str| p[k].as_f64().unwrap();
        let want = swath_rectangle(
            num("x"),
            num("y"),
            num("equipmentWidth"),
            num("distance"),
            num("heading"),
        );
        for (c, w) in ring.iter().zip(want.exterior().coords()) {
            assert_eq!(c[0].as_f64().unwrap(), w.x);
            assert_eq!(c[1].as_f64().unwrap(), w.y);
        }
    }
    assert!(polygons > 150, "{polygons} polygons");
}

fn section_ids(td: &TaskData) -> Vec<Option<i32>> {
    let opts = ConvertOptions {
        cleanup: None,
        ..ConvertOptions::default()
    };
    let files = convert_task_data(td, &opts).unwrap();
    assert_eq!(files.len(), 1);
    files[0]
        .batches
        .iter()
        .flat_map(|b| {
            let a = b
                .column_by_name("sectionId")
                .and_then(|c| c.as_any().downcast_ref::<Int32Array>())
                .unwrap()
                .clone();
            (0..a.len()).map(move |i| a.is_valid(i).then(|| a.value(i)))
        })
        .collect()
}

#[test]
fn section_id_is_the_only_section_or_the_only_section_on() {
    let tmp = tempfile::tempdir().unwrap();
    // two sections (element numbers 5 and 6) under the combine, their states in condensed work state
    let two = format!(
        r#"{COMBINE}
<DET A="DET2" B="2" C="4" D="Left" E="5" F="1"><DOR A="11"/></DET>
<DET A="DET3" B="3" C="4" D="Right" E="6" F="1"><DOR A="12"/></DET>
<DPT A="11" B="0043" C="4500" D="width"/><DPT A="12" B="0043" C="4500" D="width"/>"#
    );
    // 2 bits per section, section 5 first: both on, only 6 on, only 5 on, none on
    let states = [0b0101, 0b0100, 0b0001, 0b0000];
    let values: Vec<Vec<(u8, i32)>> = (0..40)
        .map(|i| vec![(0, 1_000_000), (1, states[i / 10])])
        .collect();
    let td = write_set(
        &tmp.path().join("two"),
        &two,
        r#"<DLV A="0054" B="" C="DET1"/><DLV A="00A1" B="" C="DET1"/>"#,
        &values,
    );
    let ids = section_ids(&td);
    assert_eq!(ids.len(), 40);
    let want: Vec<Option<i32>> = (0..40)
        .map(|i| [None, Some(6), Some(5), None][i / 10])
        .collect();
    assert_eq!(ids, want);

    // a log of a single section: its number on every point, on or off
    let one = format!(
        r#"{COMBINE}
<DET A="DET2" B="2" C="4" D="Header" E="7" F="1"><DOR A="11"/></DET>
<DPT A="11" B="0043" C="9000" D="width"/>"#
    );
    let values: Vec<Vec<(u8, i32)>> = (0..20)
        .map(|i| vec![(0, 1_000_000), (1, i32::from(i < 10))])
        .collect();
    let td = write_set(
        &tmp.path().join("one"),
        &one,
        r#"<DLV A="0054" B="" C="DET1"/><DLV A="008D" B="" C="DET2"/>"#,
        &values,
    );
    assert_eq!(section_ids(&td), vec![Some(7); 20]);

    // no sections: null
    let td = write_set(
        &tmp.path().join("none"),
        COMBINE,
        HARVEST_DLVS,
        &harvest_values()[..20],
    );
    assert!(section_ids(&td).iter().all(Option::is_none));
}

#[test]
fn written_file_holds_the_same_rows_as_the_in_memory_conversion() {
    // more rows than one in-memory batch (65,536), so the writer's smaller batches cross its boundaries
    let tmp = tempfile::tempdir().unwrap();
    let values: Vec<Vec<(u8, i32)>> = (0..70_000)
        .map(|i| {
            let speed = if i % 10 == 3 { 200 } else { 2_500 };
            vec![(0, 1_000_000 + (i % 37) * 5_000), (1, 180_000), (2, speed)]
        })
        .collect();
    let td = write_set(&tmp.path().join("big"), COMBINE, HARVEST_DLVS, &values);
    let opts = ConvertOptions::default();
    let memory = convert_task_data(&td, &opts).unwrap().remove(0);
    assert_eq!(memory.batches.len(), 2);
    let file = write_and_read(&td, &opts, &tmp.path().join("big.parquet"));
    assert_eq!(file.num_rows(), memory.num_rows());
    // (batch, row) of every 61st row, in both
    let rows = |batches: &[RecordBatch]| -> Vec<(usize, usize)> {
        batches
            .iter()
            .enumerate()
            .flat_map(|(b, batch)| (0..batch.num_rows()).map(move |r| (b, r)))
            .step_by(61)
            .collect()
    };
    let (want, got) = (rows(&memory.batches), rows(&file.batches));
    assert_eq!(want.len(), got.len());
    let schema = memory.batches[0].schema();
    for (c, field) in schema.fields().iter().enumerate() {
        for (&(wb, wr), &(gb, gr)) in want.iter().zip(&got) {
            let w = memory.batches[wb].column(c).slice(wr, 1);
            let g = file.batches[gb]
                .column_by_name(field.name())
                .unwrap_or_else(|| panic!("{} missing", field.name()))
                .slice(gr, 1);
            assert_eq!(w.to_data(), g.to_data(), "{} row {wr}", field.name());
        }
    }
}

/// A log that brings a property the task's earlier log lacks, after rows of the batch have settled:
/// those rows are null in its column (and every later one holds its value), in memory and as written.
#[test]
fn a_column_a_later_log_brings_is_null_for_the_rows_before_it() {
    let tmp = tempfile::tempdir().unwrap();
    // yield and speed only, then yield, moisture and speed: 20,000 and 3,000 rows (the batch holds
    // both; the first log's rows settle in windows of 2,048 before the second log opens)
    let first: Vec<Vec<(u8, i32)>> = (0..20_000)
        .map(|i| vec![(0, 1_000_000 + (i % 37) * 5_000), (1, 2_500)])
        .collect();
    let second: Vec<Vec<(u8, i32)>> = (0..3_000)
        .map(|i| vec![(0, 1_000_000 + (i % 37) * 5_000), (1, 180_000), (2, 2_500)])
        .collect();
    let yield_speed = r#"<DLV A="0054" B="" C="DET1"/><DLV A="018D" B="" C="DET1"/>"#;
    let td = write_logs(
        &tmp.path().join("TASKDATA"),
        COMBINE,
        &[(yield_speed, &first), (HARVEST_DLVS, &second)],
    );
    let opts = ConvertOptions {
        batch_rows: 65_536,
        ..ConvertOptions::default()
    };
    let files = convert_task_data(&td, &opts).unwrap();
    assert_eq!(files.len(), 1);
    let batches = &files[0].batches;
    assert_eq!(batches.len(), 1, "one batch");
    let b = &batches[0];
    let rows = b.num_rows();
    let moisture = f64_col(b, "harvestMoisture");
    // the filtered rows of each log: the first log's are the rows before the second's
    let from_second = (0..rows).filter(|&i| moisture.is_valid(i)).count();
    assert!(
        rows > 20_000 && from_second > 2_900,
        "{rows} rows, {from_second}"
    );
    assert_eq!(moisture.null_count(), rows - from_second);
    for i in 0..rows {
        assert_eq!(moisture.is_valid(i), i >= rows - from_second, "row {i}");
        if moisture.is_valid(i) {
            assert!((moisture.value(i) - 18.0).abs() < 1e-9, "row {i}");
        }
    }
    // a column every row has: no nulls at all
    assert_eq!(f64_col(b, "wetMassPerArea").null_count(), 0);

    // written and read back: the same nulls
    let back = write_and_read(&td, &opts, &tmp.path().join("two-logs.parquet"));
    assert_eq!(back.num_rows(), rows);
    let nulls: usize = back
        .batches
        .iter()
        .map(|b| f64_col(b, "harvestMoisture").null_count())
        .sum();
    assert_eq!(nulls, rows - from_second);
}
