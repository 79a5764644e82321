//! Runs every file set of the shared ISOXML corpus (`../shared/isoxml-corpus`, see its MANIFEST.md), and the
//! tests of files that are only in the corpus. Behind the `corpus` feature; fails when the folder is missing.
//! Files that are also in `samples/isoxml` are tested from there, in `samples.rs`.

use std::path::{Path, PathBuf};

use furrow_isoxml::{Error, Summary, TaskData, WarningKind};

use crate::check_inputs;

/// `isoxml-corpus` in `FURROW_SHARED_DIR` when set, else in `shared/` beside the repository.
pub(crate) fn corpus_dir() -> PathBuf {
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

pub(crate) fn corpus(rel: &str) -> PathBuf {
    corpus_dir().join(rel)
}

// Record counts agree with MANIFEST.md: CCI 21 logs "about 61,300" records, KRONE 314 + 27 + 4,336,
// Topcon AFE 3 × 3,633, Kverneland 373, Topcon/Deutz 207.
include!("expected.rs");

#[test]
fn every_corpus_input_reads_with_exact_counts() {
    let (inputs, sets, logs, records) = check_inputs(&corpus_dir(), EXPECTED);
    assert_eq!(inputs, 65, "corpus inputs");
    assert_eq!((sets, logs, records), (65, 105, 253_601));
}

/// The corpus keeps KRONE's own zip beside the folder (`samples/isoxml` has the folder zipped).
#[test]
fn totals_tests_zip_of_the_corpus() {
    crate::samples::check_totals_tests(
        &TaskData::open(corpus("isoxml-dotnet/TimeLogs/TotalsTests/TASKDATA.zip")).unwrap(),
    );
}

#[test]
fn mac_resource_fork_files_in_a_folder_are_skipped() {
    let dir = TaskData::open_all(corpus("isoxml-dotnet/Structure/MacOSExtensionFiles")).unwrap();
    assert_eq!(dir.len(), 1);
}

#[test]
fn external_files_of_a_folder_are_merged() {
    let td = TaskData::open(corpus("isoxml-dotnet/ExternalFiles/MultipleExternals")).unwrap();
    assert_eq!(td.external_files.len(), 2);
    assert!(td.external_files.iter().all(|x| x.merged));
    assert!(!td.customers.is_empty() && !td.farms.is_empty());
}

#[test]
fn broken_inputs_give_warnings_not_failures() {
    let cases: &[(&str, WarningKind)] = &[
        (
            "isoxml-dotnet/TimeLogs/BrokenTimeLogs",
            WarningKind::MalformedXml,
        ),
        (
            "isoxml-dotnet/TimeLogs/MissingTimeLogs",
            WarningKind::MissingFile,
        ),
        (
            "isoxml-dotnet/TimeLogs/DuplicatedTimeLog",
            WarningKind::DuplicateReference,
        ),
        (
            "isoxml-dotnet/ResultMessages/BrokenBinFile",
            WarningKind::MissingFile,
        ),
        (
            "isoxml-dotnet/ExternalFiles/MissingExternals",
            WarningKind::MissingFile,
        ),
        (
            "isoxml-dotnet/Structure/DuplicatedIDs",
            WarningKind::DuplicateId,
        ),
        (
            "isoxml-dotnet/IDList/WrongIds",
            WarningKind::DanglingReference,
        ),
        ("isoxml-dotnet/Grid/Type1_Invalid", WarningKind::Grid),
        ("isoxml-dotnet/Grid/Type2_Invalid", WarningKind::Grid),
        (
            "isoxml-js/data/grid-without-binary.zip",
            WarningKind::MissingFile,
        ),
        (
            "isoxml-js/data/duplicate-xmlid.zip",
            WarningKind::DuplicateId,
        ),
        (
            "isoxml-js/data/task_with_warnings.zip",
            WarningKind::UnknownAttribute,
        ),
    ];
    for (input, kind) in cases {
        let td = TaskData::open(corpus(input)).unwrap();
        assert!(
            td.warnings.iter().any(|w| w.kind == *kind),
            "{input}: no {kind:?} warning in {:#?}",
            td.warnings
        );
    }
}

/// A time log whose binary is missing has no record count (null, not 0) and says why, as the oracles do;
/// `TimeLog::problem` names the file.
#[test]
fn missing_binaries_report_no_record_count() {
    let td = TaskData::open(corpus("isoxml-dotnet/TimeLogs/MissingTimeLogs")).unwrap();
    let s = Summary::of(&td);
    let missing: Vec<&furrow_isoxml::TimeLogSummary> = s
        .time_logs
        .iter()
        .filter(|t| t.status == furrow_isoxml::TimeLogStatus::MissingBinary)
        .collect();
    // TLG00003..TLG00006 have a header but no .bin in this set
    let names: Vec<&str> = missing.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["TLG00003", "TLG00004", "TLG00005", "TLG00006"]);
    for t in &missing {
        assert_eq!(t.records, None);
        assert_eq!(
            t.problem.as_deref(),
            Some(format!("{}.BIN is missing", t.name).as_str())
        );
        let log = td.time_logs.iter().find(|l| l.name == t.name).unwrap();
        assert_eq!(log.problem(), t.problem);
    }
    let json = serde_json::to_value(&s).unwrap();
    let tlg3 = json["timeLogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "TLG00003")
        .unwrap();
    assert_eq!(tlg3["records"], serde_json::Value::Null);
    assert_eq!(tlg3["status"], "missingBinary");
    // the readable logs keep their counts
    assert!(
        s.time_logs
            .iter()
            .filter(|t| t.status == furrow_isoxml::TimeLogStatus::Ok)
            .all(|t| t.records.is_some_and(|n| n > 0))
    );
    assert!(s.to_string().contains("TLG00003 (TSK"));
    assert!(s.to_string().contains("not read: TLG00003.BIN is missing"));
}

#[test]
fn cut_off_header_keeps_every_dlv_read() {
    let td = TaskData::open(corpus("isoxml-dotnet/TimeLogs/BrokenTimeLogs")).unwrap();
    let log = td.time_logs.iter().find(|l| l.name == "TLG00003").unwrap();
    assert_eq!(log.header.as_ref().unwrap().dlvs.len(), 26);
    let valid = TaskData::open(corpus("isoxml-dotnet/TimeLogs/ValidTimeLogs")).unwrap();
    let vlog = valid
        .time_logs
        .iter()
        .find(|l| l.name == "TLG00003")
        .unwrap();
    let a: Vec<_> = log.records().unwrap().map(Result::unwrap).collect();
    let b: Vec<_> = vlog.records().unwrap().map(Result::unwrap).collect();
    assert_eq!(a, b);
    assert!(!a.is_empty());
}

#[test]
fn grids_type_1_and_2() {
    let t1 = TaskData::open(corpus("isoxml-dotnet/Grid/Type1")).unwrap();
    let g = &t1.tasks[0].grids[0];
    assert_eq!(g.grid_type, 1);
    assert!(g.zone_code(0, 0).is_some());
    let t2 = TaskData::open(corpus("isoxml-py/v3/grid_type_2")).unwrap();
    let g = &t2.tasks[0].grids[0];
    assert_eq!((g.columns, g.rows), (236, 178));
    assert!(g.cell_values(g.rows - 1, g.columns - 1).is_some());
    assert!(g.cell_values(g.rows, 0).is_none());
    let bad = TaskData::open(corpus("isoxml-dotnet/Grid/Type2_Invalid")).unwrap();
    assert!(bad.tasks[0].grids[0].cells.is_none());
    assert!(matches!(bad.grid_errors[0], Error::Grid { .. }));
}

#[test]
fn coding_data_partfield_boundaries_have_exterior_rings() {
    let td = TaskData::open(corpus("isoxml-dotnet/CodingData/Partfields")).unwrap();
    assert_eq!(td.partfields.len(), 13);
    for p in &td.partfields {
        let b = p.boundaries().next().unwrap();
        assert!(b.exteriors().next().unwrap().points.len() >= 3, "{}", p.id);
    }
}
