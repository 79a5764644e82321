//! Every TASKDATA of the shared corpus that holds time logs converts.

use std::path::{Path, PathBuf};

use furrow_isoxml::TaskData;
use furrow_machine_data::{ConvertOptions, convert_task_data, plan};

/// `isoxml-corpus` in `FURROW_SHARED_DIR` when set, else in `shared/` beside the repository.
pub(crate) fn corpus_root() -> PathBuf {
    let dir = std::env::var_os("FURROW_SHARED_DIR")
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
            PathBuf::from,
        )
        .join("isoxml-corpus");
    assert!(
        dir.is_dir(),
        "ISOXML corpus not found at {}: clone furrow next to `shared/`, or set FURROW_SHARED_DIR",
        dir.display()
    );
    dir
}

/// Zips and folders holding a TASKDATA.XML, sorted.
pub(crate) fn inputs() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_lowercase();
            if p.is_dir() {
                walk(&p, out);
            } else if name.ends_with(".zip") {
                out.push(p);
            } else if name == "taskdata.xml" {
                out.push(p.parent().unwrap_or(dir).to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(&corpus_root(), &mut out);
    out
}

#[test]
fn every_corpus_taskdata_with_time_logs_converts() {
    let opts = ConvertOptions::default();
    let (mut sets, mut with_logs, mut converted, mut files, mut points) = (0, 0, 0, 0, 0u64);
    for input in inputs() {
        let Ok(all) = TaskData::open_all(&input) else {
            continue;
        };
        for td in all {
            sets += 1;
            if plan(&td, &opts).is_empty() {
                continue;
            }
            with_logs += 1;
            let out = convert_task_data(&td, &opts)
                .unwrap_or_else(|e| panic!("{}: {e}", input.display()));
            assert!(!out.is_empty());
            for f in &out {
                files += 1;
                points += f.num_rows() as u64;
                let c = f.outcome.counts;
                assert_eq!(c.written as usize, f.num_rows());
                assert!(c.raw >= c.standard && c.standard >= c.filtered);
            }
            converted += 1;
        }
    }
    eprintln!(
        "sets {sets}, with logs {with_logs}, converted {converted}, files {files}, points {points}"
    );
    assert_eq!(converted, with_logs);
    // 14 TASKDATA sets of the corpus hold usable time logs (MANIFEST.md); 60 sets in all
    assert_eq!(converted, 14, "converted {converted} of {sets}");
    assert!(points > 100_000, "points {points}");
}

fn corpus_set(rel: &str) -> TaskData {
    TaskData::open(corpus_root().join(rel)).expect("corpus set opens")
}

#[test]
fn cci_harvest_log_gets_yield_moisture_and_a_summary() {
    let td = corpus_set("isoxml-dotnet/TimeLogs/ValidTimeLogs");
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
    let td = corpus_set("isoxml-dotnet/TimeLogs/ValidTimeLogs");
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
    let td = corpus_set("isoxml-js/data/2021-04-09T15_33_26_taskdata.zip");
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

/// The streaming summary (values added a batch at a time, column by column) equals the summary rebuilt
/// point by point from the written rows, for every corpus file: statistics, totals, time span, total area
/// and distance. (The covered area differs by design: a rebuild only knows the full equipment width, not
/// the sections that were on.)
#[test]
fn streaming_summary_equals_a_rebuild_from_the_written_points() {
    use furrow_machine_data::SummaryBuilder;
    let opts = ConvertOptions::default();
    let mut files = 0;
    for input in inputs() {
        let Ok(all) = TaskData::open_all(&input) else {
            continue;
        };
        for td in all {
            let Ok(out) = convert_task_data(&td, &opts) else {
                continue;
            };
            for f in out {
                let p = &f.plan;
                let mut rebuilt =
                    SummaryBuilder::new(p.operation_type, &p.original_operation_type, p.units);
                rebuilt.set_context(
                    p.crops.clone(),
                    p.varieties.clone(),
                    p.products.clone(),
                    p.machinery.clone(),
                );
                rebuilt.set_counts(f.outcome.counts);
                for b in &f.batches {
                    rebuilt.add_batch(b);
                }
                // what only the conversion knows (the cleanup rules' drops, its notes, the machine's
                // counters) is not in the points
                let strip = |mut v: serde_json::Value| {
                    let props = v["properties"].as_object_mut().expect("properties");
                    props.remove("coveredArea");
                    props.remove("warnings");
                    props.remove("machineTotals");
                    if let Some(c) = props
                        .get_mut("pointCounts")
                        .and_then(serde_json::Value::as_object_mut)
                    {
                        c.remove("cleanedBy");
                    }
                    v["properties"].take()
                };
                assert_eq!(
                    strip(f.outcome.summary.clone()),
                    strip(rebuilt.finish()),
                    "{}: {}",
                    input.display(),
                    p.stem()
                );
                files += 1;
            }
        }
    }
    assert!(files >= 60, "only {files} standard files compared");
}

/// The machine's own counters are the reference: every corpus file whose time logs or task carry
/// counters of its area or amount (task totals, lifetime counters) agrees with them within 10 %, or its
/// summary carries a warning that names the reason and accounts for the difference (never
/// "unexplained").
#[test]
fn computed_totals_agree_with_the_machine_counters_or_say_why() {
    let opts = ConvertOptions::default();
    let (mut files, mut with_counters, mut compared, mut agree, mut explained) = (0, 0, 0, 0, 0);
    let mut reasons: Vec<String> = Vec::new();
    for input in inputs() {
        let Ok(all) = TaskData::open_all(&input) else {
            continue;
        };
        for td in all {
            let Ok(out) = convert_task_data(&td, &opts) else {
                continue;
            };
            for f in out {
                files += 1;
                let props = &f.outcome.summary["properties"];
                let totals = &props["machineTotals"];
                if totals.is_null() {
                    continue;
                }
                with_counters += 1;
                let warnings: Vec<&str> = props["warnings"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|w| w.as_str()).collect())
                    .unwrap_or_default();
                for key in ["totalArea", "totalWetMass", "totalApplied", "totalPlanted"] {
                    let t = &totals[key];
                    if t.is_null() {
                        continue;
                    }
                    compared += 1;
                    let machine = t["machine"].as_f64().expect("machine figure");
                    let computed = t["computed"].as_f64();
                    let ratio = t["ratio"].as_f64();
                    let nothing = machine == 0.0 && computed.is_none_or(|c| c == 0.0);
                    if nothing || ratio.is_some_and(|r| (r - 1.0).abs() <= 0.10) {
                        agree += 1;
                        continue;
                    }
                    let w = warnings
                        .iter()
                        .find(|w| w.starts_with(&format!("machine counters: {key} ")))
                        .unwrap_or_else(|| {
                            panic!(
                                "{} {}: {key} ratio {ratio:?} without a warning",
                                input.display(),
                                f.plan.stem()
                            )
                        });
                    assert!(
                        !w.contains("unexplained"),
                        "{} {}: {w}",
                        input.display(),
                        f.plan.stem()
                    );
                    explained += 1;
                    reasons.push(w.to_string());
                }
            }
        }
    }
    eprintln!(
        "files {files}, with counters {with_counters}, figures compared {compared}: {agree} within 10 %, \
         {explained} with a named reason"
    );
    for r in &reasons {
        eprintln!("  {r}");
    }
    // 79 files; the CCI sets (ValidTimeLogs and its variants), KRONE's totals tests and the Kverneland
    // set carry counters. Every area agrees; the CCI harvests' masses are short by the crop flow of the
    // points whose yield per area is 0, which Leaf's cleanup rule (wetMass > 0) drops and the warning names.
    assert_eq!((files, with_counters, compared), (79, 76, 150));
    assert_eq!((agree, explained), (92, 58));
}
