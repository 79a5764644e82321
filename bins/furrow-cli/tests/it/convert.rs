//! `furrow convert` over the corpus and its output files.

use std::path::{Path, PathBuf};

#[cfg(feature = "corpus")]
use super::corpus;
use super::{furrow, sample};

fn inputs(root: &str) -> Vec<PathBuf> {
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
    walk(Path::new(root), &mut out);
    out
}

/// Converts every input under `root`; returns (inputs converted, inputs without time logs, files written).
fn convert_all(root: &str) -> (usize, usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let (mut converted, mut without_logs, mut files) = (0, 0, 0);
    for (i, input) in inputs(root).iter().enumerate() {
        let out_dir = dir.path().join(format!("out{i}"));
        let out = furrow(&[
            "convert",
            input.to_str().unwrap(),
            "-o",
            out_dir.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            converted += 1;
            let written: Vec<_> = std::fs::read_dir(&out_dir)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            let parquet = written.iter().filter(|n| n.ends_with(".parquet")).count();
            assert!(parquet > 0, "{}: {written:?}", input.display());
            assert_eq!(
                written
                    .iter()
                    .filter(|n| n.ends_with(".summary.json"))
                    .count(),
                parquet
            );
            files += parquet;
        } else {
            // inputs without time logs (or unreadable archives) fail with a message naming the input
            assert_eq!(out.status.code(), Some(1), "{}: {err}", input.display());
            assert!(
                err.contains("no time logs") || err.contains("reading"),
                "{}: {err}",
                input.display()
            );
            without_logs += 1;
        }
    }
    (converted, without_logs, files)
}

#[test]
fn converts_every_sample_taskdata_that_holds_time_logs() {
    let (converted, without_logs, files) = convert_all(&sample(""));
    // Eight inputs hold time logs (AFE, ValidTimeLogs and its corrupted copy BrokenTimeLogs, TotalsTests, the
    // Topcon log and three of the zip layouts); the prescriptions, the CNH export and the other layouts do not
    // (or are not readable archives).
    assert_eq!(
        (converted, without_logs),
        (8, 11),
        "converted {converted}, without logs {without_logs}"
    );
    assert_eq!(files, 45, "files {files}");
}

#[cfg(feature = "corpus")]
#[test]
fn converts_every_corpus_taskdata_that_holds_time_logs() {
    let (converted, without_logs, files) = convert_all(&corpus(""));
    // 14 inputs (zips and folders) hold the 14 TASKDATA sets with time logs of the corpus
    assert_eq!(
        converted, 14,
        "converted {converted}, without logs {without_logs}"
    );
    assert!(files >= 78, "files {files}");
}

#[test]
fn writes_one_geojson_or_parquet_file_with_summary_units_and_polygons() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample("isoxml-js/2021-04-09T15_33_26_taskdata.zip");
    let gj = dir.path().join("topcon.geojson");
    let out = furrow(&[
        "convert",
        &input,
        "-o",
        gj.to_str().unwrap(),
        "--units",
        "imperial",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("207 points written"));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&gj).unwrap()).unwrap();
    assert_eq!(doc["features"].as_array().unwrap().len(), 207);
    let units: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("topcon.units.json")).unwrap())
            .unwrap();
    assert_eq!(units["speed"], "ft/s");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("topcon.summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["type"], "Feature");
    assert_eq!(summary["properties"]["pointCounts"]["raw"], 207);

    let pq = dir.path().join("cci.parquet");
    let out = furrow(&[
        "convert",
        &sample("isoxml-dotnet/TotalsTests.zip"),
        "-o",
        pq.to_str().unwrap(),
        "--polygons",
        "--raw",
    ]);
    // two operation types in one task: a single file is refused with a clear message
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("several operation types"));
    let out = furrow(&[
        "convert",
        &sample("isoxml-dotnet/ValidTimeLogs.zip"),
        "-o",
        dir.path().join("valid").to_str().unwrap(),
        "--polygons",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let poly = dir.path().join("valid/TSK1-harvested.polygons.parquet");
    assert!(poly.exists());
    assert!(dir.path().join("valid/TSK1-harvested.parquet").exists());
}

#[test]
fn bad_input_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("x");
    let bad = furrow(&[
        "convert",
        &sample("isoxml-dotnet/LoadFromStream/InvalidArchive.zip"),
        "-o",
        o.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("InvalidArchive.zip"));
    let missing = furrow(&[
        "convert",
        "/nonexistent/TASKDATA",
        "-o",
        o.to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/TASKDATA"));
}

#[test]
fn geojson_output_gets_polygons_and_the_filtered_view_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = furrow(&[
        "convert",
        &sample("isoxml-dotnet/ValidTimeLogs.zip"),
        "-o",
        dir.path().to_str().unwrap(),
        "--format",
        "geojson",
        "--polygons",
        "--filtered",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.path().join(name)).unwrap()).unwrap()
    };
    let summary = read("TSK1-harvested.summary.json");
    let counts = &summary["properties"]["pointCounts"];
    let points = read("TSK1-harvested.geojson");
    let polygons = read("TSK1-harvested.polygons.geojson");
    let filtered = read("TSK1-harvested.filtered.geojson");
    let len = |v: &serde_json::Value| v["features"].as_array().unwrap().len() as u64;
    assert_eq!(len(&points), counts["written"].as_u64().unwrap());
    assert_eq!(len(&polygons), len(&points));
    assert_eq!(len(&filtered), counts["filtered"].as_u64().unwrap());
    assert!(
        len(&filtered) > 0 && len(&filtered) < len(&points),
        "{counts}"
    );
    let types: std::collections::BTreeSet<String> = polygons["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["geometry"]["type"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(types.into_iter().collect::<Vec<_>>(), ["Polygon"]);
}
