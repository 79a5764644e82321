//! Runs every file set of the shared ISOXML corpus (`../shared/isoxml-corpus`, see its MANIFEST.md).

use std::path::{Path, PathBuf};

use furrow_isoxml::{Error, Summary, TaskData, WarningKind};

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

/// Every input of the corpus: zips, folders holding a TASKDATA.XML, and lone XML files.
pub(crate) fn inputs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(&corpus_dir(), &mut out);
    out.sort();
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let has_taskdata = entries.iter().any(|p| {
        p.is_file()
            && p.file_name()
                .unwrap()
                .to_string_lossy()
                .eq_ignore_ascii_case("TASKDATA.XML")
    });
    if has_taskdata {
        out.push(dir.to_path_buf());
    }
    for p in entries {
        let name = p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_ascii_uppercase();
        if p.is_dir() {
            collect(&p, out);
        } else if name.ends_with(".ZIP")
            || (!has_taskdata && name.ends_with(".XML") && !name.starts_with("._"))
        {
            out.push(p);
        }
    }
}

fn rel(p: &Path) -> String {
    p.strip_prefix(corpus_dir()).unwrap().display().to_string()
}

// Record counts agree with MANIFEST.md: CCI 21 logs "about 61,300" records, KRONE 314 + 27 + 4,336,
// Topcon AFE 3 × 3,633, Kverneland 373, Topcon/Deutz 207.
include!("expected.rs");

#[test]
fn every_corpus_input_reads_with_exact_counts() {
    let inputs = inputs();
    assert_eq!(inputs.len(), 65, "corpus inputs");
    assert_eq!(inputs.len(), EXPECTED.len());
    let (mut sets, mut logs, mut records) = (0usize, 0usize, 0u64);
    for (input, (name, expected)) in inputs.iter().zip(EXPECTED) {
        assert_eq!(&rel(input), name);
        let got: Vec<(usize, u64)> = match TaskData::open_all(input) {
            Ok(all) => all
                .iter()
                .map(|td| {
                    let s = Summary::of(td);
                    (
                        s.time_logs.len(),
                        s.time_logs.iter().filter_map(|t| t.records).sum(),
                    )
                })
                .collect(),
            Err(Error::NoTaskData { .. }) => Vec::new(),
            Err(e) => panic!("{name}: {e}"),
        };
        assert_eq!(&got, expected, "{name}");
        sets += got.len();
        logs += got.iter().map(|g| g.0).sum::<usize>();
        records += got.iter().map(|g| g.1).sum::<u64>();
    }
    assert_eq!((sets, logs, records), (65, 105, 253_601));
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
    // The valid set's first log names a second device element.
    let h = valid.time_logs[0].header.as_ref().unwrap();
    assert_eq!(
        h.dlvs[0].device_element_id.as_deref(),
        Some("DET-123456789")
    );
    assert!(valid.device_element("DET-123456789").is_some());
}

#[test]
fn totals_tests_has_a_header_without_dlvs_and_constant_status_free_layout() {
    let td = TaskData::open(corpus("isoxml-dotnet/TimeLogs/TotalsTests/TASKDATA.zip")).unwrap();
    let counts: Vec<usize> = td
        .time_logs
        .iter()
        .map(|l| l.header.as_ref().unwrap().dlvs.len())
        .collect();
    assert_eq!(counts[1], 0);
    let per_log: Vec<Option<u64>> = Summary::of(&td)
        .time_logs
        .iter()
        .map(|t| t.records)
        .collect();
    assert_eq!(per_log, [Some(314), Some(27), Some(4336)]);
    let zero = td.time_logs[1].records().unwrap().map(Result::unwrap);
    assert!(zero.into_iter().all(|r| r.values.is_empty()));
}

#[test]
fn afe_zip_has_a_255_dlv_header_and_all_nine_position_fields() {
    let td = TaskData::open(corpus("isoxml-dotnet/ExternalFiles/AFE.zip")).unwrap();
    assert_eq!(td.external_files.len(), 9);
    assert!(td.external_files.iter().all(|x| x.merged));
    let max = td
        .time_logs
        .iter()
        .map(|l| l.header.as_ref().unwrap().dlvs.len())
        .max();
    assert_eq!(max, Some(255));
    assert_eq!(td.tasks.iter().map(|t| t.grids.len()).sum::<usize>(), 4);
    assert!(td.grid_errors.is_empty(), "{:?}", td.grid_errors);
    let first = td.time_logs[0].records().unwrap().next().unwrap().unwrap();
    let p = first.position;
    assert!(p.north.is_some() && p.east.is_some() && p.up.is_some() && p.status.is_some());
    assert!(p.pdop.is_some() && p.hdop.is_some() && p.satellites.is_some());
    assert!(first.gps_utc().is_some());
}

#[test]
fn two_data_sets_in_one_zip() {
    let all = TaskData::open_all(corpus(
        "isoxml-dotnet/LoadFromStream/MultiplyTaskdataXML.zip",
    ))
    .unwrap();
    assert_eq!(all.len(), 2);
    let first = TaskData::open(corpus(
        "isoxml-dotnet/LoadFromStream/MultiplyTaskdataXML.zip",
    ))
    .unwrap();
    assert!(
        first
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::Ambiguous)
    );
    let json = furrow_isoxml::summaries_to_json(&all.iter().map(Summary::of).collect::<Vec<_>>());
    assert_eq!(json.as_array().map(Vec::len), Some(2));
}

#[test]
fn invalid_archive_is_an_error() {
    let err =
        TaskData::open(corpus("isoxml-dotnet/LoadFromStream/InvalidArchive.zip")).unwrap_err();
    assert!(matches!(err, Error::NoTaskData { .. }), "{err}");
}

#[test]
fn mac_resource_forks_are_skipped() {
    let all = TaskData::open_all(corpus(
        "isoxml-dotnet/LoadFromStream/MultiSubFolderAndMac.zip",
    ))
    .unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].source.contains("AnotherSubFolder Again"));
    assert_eq!(
        all[0].devices.len(),
        18,
        "Kverneland v3.3 set has 18 devices"
    );
    assert_eq!(all[0].version(), "3.3");
    let dir = TaskData::open_all(corpus("isoxml-dotnet/Structure/MacOSExtensionFiles")).unwrap();
    assert_eq!(dir.len(), 1);
}

#[test]
fn external_files_are_merged() {
    let td = TaskData::open(corpus("isoxml-dotnet/ExternalFiles/MultipleExternals")).unwrap();
    assert_eq!(td.external_files.len(), 2);
    assert!(td.external_files.iter().all(|x| x.merged));
    assert!(!td.customers.is_empty() && !td.farms.is_empty());
    let topcon = TaskData::open(corpus("isoxml-js/data/2021-04-09T15_33_26_taskdata.zip")).unwrap();
    assert_eq!(topcon.external_files.len(), 13);
    assert_eq!(topcon.partfields.len(), 15);
    assert_eq!(
        topcon.extra,
        vec![("P231_cur_task".to_owned(), "TSK-1".to_owned())]
    );
    assert_eq!(
        topcon.task_controller_version, None,
        "empty optional attribute = absent"
    );
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
fn partfield_boundaries_have_exterior_rings() {
    let td = TaskData::open(corpus("isoxml-dotnet/CodingData/Partfields")).unwrap();
    assert_eq!(td.partfields.len(), 13);
    for p in &td.partfields {
        let b = p.boundaries().next().unwrap();
        assert!(b.exteriors().next().unwrap().points.len() >= 3, "{}", p.id);
    }
}
