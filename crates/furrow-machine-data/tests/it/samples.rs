//! The repository's samples (`samples/isoxml`, see its MANIFEST.md): every TASKDATA with time logs
//! converts, summaries and machine counters agree, and the tests of specific sample files. They run on a
//! bare clone.

use std::path::PathBuf;

use furrow_isoxml::TaskData;
use furrow_machine_data::{ConvertOptions, convert_task_data};

use crate::sweep::{
    Converted, Counters, compare_machine_counters, compare_streaming_summaries, convert_every_set,
};

/// The repository's `samples/isoxml` folder.
fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/isoxml")
}

fn sample_set(rel: &str) -> TaskData {
    TaskData::open(samples_dir().join(rel)).expect("sample set opens")
}

#[test]
fn every_sample_taskdata_with_time_logs_converts() {
    // 19 data sets; 8 hold time logs: AFE, TotalsTests, ValidTimeLogs and BrokenTimeLogs (its corrupted
    // copy, which converts the same), the Topcon zip and the three Kverneland zips of LoadFromStream. Every
    // record of their logs (139,530, furrow-isoxml's count) is read; the points written are what the default
    // cleanup keeps.
    assert_eq!(
        convert_every_set(&samples_dir()),
        Converted {
            sets: 19,
            converted: 8,
            files: 45,
            raw: 139_530,
            points: 80_945,
            emptied: 0,
        }
    );
}

#[test]
fn streaming_summary_equals_a_rebuild_from_the_written_points() {
    assert_eq!(compare_streaming_summaries(&samples_dir()), 45);
}

#[test]
fn computed_totals_agree_with_the_machine_counters_or_say_why() {
    // 45 files; ValidTimeLogs and BrokenTimeLogs (19 each, CCI), TotalsTests (2, KRONE) and the three
    // Kverneland zips carry counters, AFE and the Topcon zip do not. Every area agrees; 32 CCI harvest masses
    // (16 per copy) are short by the crop flow of the points whose yield per area is 0, which Leaf's cleanup
    // rule (wetMass > 0) drops and the warning names.
    assert_eq!(
        compare_machine_counters(&samples_dir()),
        Counters {
            files: 45,
            with_counters: 43,
            compared: 85,
            agree: 53,
            explained: 32,
        }
    );
}

#[test]
fn cci_harvest_log_gets_yield_moisture_and_a_summary() {
    let td = sample_set("isoxml-dotnet/ValidTimeLogs.zip");
    let files = convert_task_data(&td, &ConvertOptions::default()).unwrap();
    assert_eq!(files.len(), 19);
    let f = files.iter().find(|f| f.plan.task_id == "TSK1").unwrap();
    assert_eq!(
        f.plan.operation_type,
        furrow_machine_data::OperationType::Harvested
    );
    let b = &f.batches[0];
    let col = |n: &str| {
        b.column_by_name(n)
            .unwrap()
            .as_any()
            .downcast_ref::<arrow_array::Float64Array>()
            .unwrap()
            .clone()
    };
    let moisture = col("harvestMoisture");
    let wmpa = col("wetMassPerArea");
    for i in 0..b.num_rows() {
        // the default cleanup keeps 0 < moisture < 100 and positive yields only
        if !arrow_array::Array::is_null(&moisture, i) {
            assert!(moisture.value(i) > 0.0 && moisture.value(i) < 100.0);
        }
        if !arrow_array::Array::is_null(&wmpa, i) {
            assert!(wmpa.value(i) > 0.0);
        }
    }
    let s = &f.outcome.summary;
    assert_eq!(s["type"], "Feature");
    assert_eq!(s["geometry"]["type"], "MultiPolygon");
    assert!(!s["geometry"]["coordinates"].as_array().unwrap().is_empty());
    assert_eq!(s["properties"]["operationType"], "harvested");
    assert_eq!(s["properties"]["totalArea"]["unit"], "ha");
    assert!(s["properties"]["totalArea"]["value"].as_f64().unwrap() > 0.0);
    assert_eq!(s["properties"]["wetMassPerArea"]["unit"], "t/ha");
    let avg = s["properties"]["harvestMoisture"]["avg"].as_f64().unwrap();
    assert!(avg > 0.0 && avg < 100.0, "moisture {avg}");
    assert_eq!(f.outcome.units["wetMassPerArea"], "t/ha");
    let c = f.outcome.counts;
    assert_eq!(s["properties"]["pointCounts"]["standard"], c.standard);
    assert_eq!(
        c.raw,
        c.invalid_position
            + c.no_position
            + c.jumps
            + c.implausible_speed
            + c.implausible_yield
            + c.cleaned
            + c.standard
    );
}

#[test]
fn raw_view_keeps_what_cleanup_drops_and_imperial_converts_units() {
    let td = sample_set("isoxml-dotnet/ValidTimeLogs.zip");
    let raw = ConvertOptions {
        cleanup: None,
        ..ConvertOptions::default()
    };
    let std_files = convert_task_data(&td, &ConvertOptions::default()).unwrap();
    let raw_files = convert_task_data(&td, &raw).unwrap();
    let (s, r) = (&std_files[0], &raw_files[0]);
    assert!(r.num_rows() > s.num_rows());
    assert_eq!(
        r.outcome.counts.written,
        r.outcome.counts.raw - r.outcome.counts.invalid_position
    );
    let imperial = ConvertOptions {
        units: furrow_machine_data::UnitSystem::Imperial,
        ..ConvertOptions::default()
    };
    let imp = &convert_task_data(&td, &imperial).unwrap()[0];
    let get = |f: &furrow_machine_data::StandardFile, n: &str| {
        f.batches[0]
            .column_by_name(n)
            .unwrap()
            .as_any()
            .downcast_ref::<arrow_array::Float64Array>()
            .unwrap()
            .value(5)
    };
    let ratio = get(imp, "equipmentWidth") / get(s, "equipmentWidth");
    assert!((ratio - 1.0 / 0.3048).abs() < 1e-9, "ft/m {ratio}");
    let schema = imp.batches[0].schema();
    assert_eq!(
        schema.field_with_name("distance").unwrap().metadata()["unit"],
        "ft"
    );
    assert_eq!(imp.outcome.units["wetMassPerArea"], "lb/ac");
}

#[test]
fn topcon_log_has_utc_unknown_and_local_time_kept() {
    // local 14:54 vs GPS 15:28: no whole quarter-hour offset, so UTC stays unknown (isoxml-format.md 8.1)
    let td = sample_set("isoxml-js/2021-04-09T15_33_26_taskdata.zip");
    let f = &convert_task_data(&td, &ConvertOptions::default()).unwrap()[0];
    let b = &f.batches[0];
    assert_eq!(f.num_rows(), 207);
    let ts = b.column_by_name("timestamp").unwrap();
    assert_eq!(arrow_array::Array::null_count(ts.as_ref()), b.num_rows());
    let local = b
        .column_by_name("localTime")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::TimestampMillisecondArray>()
        .unwrap();
    // first record: 2021-04-09T14:54:04.969 (isoxml-format.md section 5)
    assert_eq!(local.value(0), 1_617_980_044_969);
    let speed = b
        .column_by_name("speed")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::Float64Array>()
        .unwrap();
    // record 2 logs 595 mm/s
    assert!((speed.value(2) - 0.595).abs() < 1e-12);
    // yaw/roll/pitch (0090-0092) are not standard properties: kept in `extra`
    let extra = b
        .column_by_name("extra")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::MapArray>()
        .unwrap();
    let keys = extra.value(2);
    let names = keys
        .column(0)
        .as_any()
        .downcast_ref::<arrow_array::StringArray>()
        .unwrap();
    assert!(names.iter().any(|k| k == Some("0090/DET-1")), "{names:?}");
}
