//! Checks run over every TASKDATA of a folder: the repository's samples (`samples.rs`) and the team's corpus
//! (`corpus.rs`, feature `corpus`).

use std::path::{Path, PathBuf};

use furrow_isoxml::TaskData;
use furrow_machine_data::{ConvertOptions, SummaryBuilder, convert_task_data, plan};

/// Zips and folders holding a TASKDATA.XML under `root`, sorted.
pub(crate) fn inputs(root: &Path) -> Vec<PathBuf> {
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
    walk(root, &mut out);
    out
}

/// What [`convert_every_set`] saw.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Converted {
    /// Data sets read.
    pub(crate) sets: usize,
    /// Data sets with usable time logs (a non-empty plan); each converted.
    pub(crate) converted: usize,
    /// Standard files written.
    pub(crate) files: usize,
    /// Records decoded from their time logs.
    pub(crate) raw: u64,
    /// Points written.
    pub(crate) points: u64,
    /// Files with records but no point written, each with a summary that says why (a warning, or the
    /// cleanup rules that dropped the points).
    pub(crate) emptied: usize,
}

/// Converts every data set with time logs under `root`; a conversion that fails fails the test.
pub(crate) fn convert_every_set(root: &Path) -> Converted {
    let opts = ConvertOptions::default();
    let mut seen = Converted::default();
    for input in inputs(root) {
        let Ok(all) = TaskData::open_all(&input) else {
            continue;
        };
        for td in all {
            seen.sets += 1;
            if plan(&td, &opts).is_empty() {
                continue;
            }
            let out = convert_task_data(&td, &opts)
                .unwrap_or_else(|e| panic!("{}: {e}", input.display()));
            assert!(!out.is_empty(), "{}", input.display());
            for f in &out {
                seen.files += 1;
                seen.points += f.num_rows() as u64;
                let c = f.outcome.counts;
                seen.raw += c.raw;
                assert_eq!(c.written as usize, f.num_rows());
                assert!(c.raw >= c.standard && c.standard >= c.filtered);
                if c.raw > 0 && c.written == 0 {
                    let props = &f.outcome.summary["properties"];
                    let warned = props["warnings"].as_array().is_some_and(|w| !w.is_empty());
                    let cleaned = props["pointCounts"]["cleanedBy"]
                        .as_object()
                        .is_some_and(|c| !c.is_empty());
                    assert!(
                        warned || cleaned,
                        "{} {}: {} records, no point written and no reason given",
                        input.display(),
                        f.plan.stem(),
                        c.raw
                    );
                    eprintln!(
                        "emptied {} {}: {} records; warnings {}; cleanedBy {}",
                        input.display(),
                        f.plan.stem(),
                        c.raw,
                        props["warnings"],
                        props["pointCounts"]["cleanedBy"]
                    );
                    seen.emptied += 1;
                }
            }
            seen.converted += 1;
        }
    }
    eprintln!("{}: {seen:?}", root.display());
    seen
}

/// The streaming summary (values added a batch at a time, column by column) equals the summary rebuilt
/// point by point from the written rows, for every standard file under `root`: statistics, totals, time
/// span, total area and distance. (The covered area differs by design: a rebuild only knows the full
/// equipment width, not the sections that were on.) Returns how many files were compared.
pub(crate) fn compare_streaming_summaries(root: &Path) -> usize {
    let opts = ConvertOptions::default();
    let mut files = 0;
    for input in inputs(root) {
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
    files
}

/// What [`compare_machine_counters`] saw.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Standard files.
    pub(crate) files: usize,
    /// Files whose time logs or task carry counters.
    pub(crate) with_counters: usize,
    /// Figures compared (area, wet mass, applied, planted).
    pub(crate) compared: usize,
    /// Figures within 10 % (or nothing counted and nothing computed).
    pub(crate) agree: usize,
    /// Figures further apart whose warning names the reason.
    pub(crate) explained: usize,
}

/// The machine's own counters are the reference: every file under `root` whose time logs or task carry
/// counters of its area or amount (task totals, lifetime counters) agrees with them within 10 %, or its
/// summary carries a warning that names the reason and accounts for the difference (never
/// "unexplained").
pub(crate) fn compare_machine_counters(root: &Path) -> Counters {
    let opts = ConvertOptions::default();
    let mut seen = Counters::default();
    let mut reasons: Vec<String> = Vec::new();
    for input in inputs(root) {
        let Ok(all) = TaskData::open_all(&input) else {
            continue;
        };
        for td in all {
            let Ok(out) = convert_task_data(&td, &opts) else {
                continue;
            };
            for f in out {
                seen.files += 1;
                let props = &f.outcome.summary["properties"];
                let totals = &props["machineTotals"];
                if totals.is_null() {
                    continue;
                }
                seen.with_counters += 1;
                let warnings: Vec<&str> = props["warnings"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|w| w.as_str()).collect())
                    .unwrap_or_default();
                for key in ["totalArea", "totalWetMass", "totalApplied", "totalPlanted"] {
                    let t = &totals[key];
                    if t.is_null() {
                        continue;
                    }
                    seen.compared += 1;
                    let machine = t["machine"].as_f64().expect("machine figure");
                    let computed = t["computed"].as_f64();
                    let ratio = t["ratio"].as_f64();
                    let nothing = machine == 0.0 && computed.is_none_or(|c| c == 0.0);
                    if nothing || ratio.is_some_and(|r| (r - 1.0).abs() <= 0.10) {
                        seen.agree += 1;
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
                    seen.explained += 1;
                    reasons.push(w.to_string());
                }
            }
        }
    }
    eprintln!("{}: {seen:?}", root.display());
    for r in &reasons {
        eprintln!("  {r}");
    }
    seen
}
