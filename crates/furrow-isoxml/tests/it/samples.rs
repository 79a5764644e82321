//! The repository's samples (`samples/isoxml`, see its MANIFEST.md): every input with exact counts, and the
//! tests of specific files. They run on a bare clone.

use furrow_isoxml::{Error, Summary, TaskData, WarningKind};

use crate::{check_inputs, sample, samples_dir};

/// (input relative to `samples/isoxml`, [(time logs, records)] per data set); an empty list = no data set.
/// The counts are the corpus's for the same files (MANIFEST.md: `ValidTimeLogs.zip` and `TotalsTests.zip`
/// are the corpus folders zipped, the others are copies).
const EXPECTED: &[(&str, &[(usize, u64)])] = &[
    ("isoxml-dotnet/AFE.zip", &[(3, 10899)]),
    ("isoxml-dotnet/BrokenTimeLogs.zip", &[(21, 61314)]),
    ("isoxml-dotnet/LoadFromStream/InvalidArchive.zip", &[]),
    ("isoxml-dotnet/LoadFromStream/MultiFields.zip", &[(0, 0)]),
    (
        "isoxml-dotnet/LoadFromStream/MultiSubFolder.zip",
        &[(1, 373)],
    ),
    (
        "isoxml-dotnet/LoadFromStream/MultiSubFolderAndMac.zip",
        &[(1, 373)],
    ),
    (
        "isoxml-dotnet/LoadFromStream/MultipleExternals.zip",
        &[(0, 0)],
    ),
    (
        "isoxml-dotnet/LoadFromStream/MultipleExternalsSubFolder.zip",
        &[(0, 0)],
    ),
    (
        "isoxml-dotnet/LoadFromStream/MultiplyTaskdataXML.zip",
        &[(0, 0), (0, 0)],
    ),
    ("isoxml-dotnet/LoadFromStream/SingleDPD.zip", &[(1, 373)]),
    ("isoxml-dotnet/LoadFromStream/ValidLinkList.zip", &[(0, 0)]),
    ("isoxml-dotnet/LoadFromStream/ZippedTask.zip", &[(0, 0)]),
    (
        "isoxml-dotnet/LoadFromStream/ZippedTaskWithSubFolder.zip",
        &[(0, 0)],
    ),
    ("isoxml-dotnet/TotalsTests.zip", &[(3, 4677)]),
    ("isoxml-dotnet/ValidTimeLogs.zip", &[(21, 61314)]),
    ("isoxml-js/2021-04-09T15_33_26_taskdata.zip", &[(1, 207)]),
    ("isoxml-js/task_full.zip", &[(0, 0)]),
    ("isoxml-js/task_with_grid.zip", &[(0, 0)]),
    ("isoxml-py/cnh_export", &[(0, 0)]),
];

#[test]
fn every_sample_input_reads_with_exact_counts() {
    let (inputs, sets, logs, records) = check_inputs(&samples_dir(), EXPECTED);
    assert_eq!(
        (inputs, sets, logs, records),
        (19, 19, 52, 139_530),
        "(inputs, data sets, time logs, records)"
    );
}

/// KRONE's totals tests: the second log's header has no DLV, so its records carry no values.
pub(crate) fn check_totals_tests(td: &TaskData) {
    let counts: Vec<usize> = td
        .time_logs
        .iter()
        .map(|l| l.header.as_ref().unwrap().dlvs.len())
        .collect();
    assert_eq!(counts[1], 0);
    let per_log: Vec<Option<u64>> = Summary::of(td)
        .time_logs
        .iter()
        .map(|t| t.records)
        .collect();
    assert_eq!(per_log, [Some(314), Some(27), Some(4336)]);
    let zero = td.time_logs[1].records().unwrap().map(Result::unwrap);
    assert!(zero.into_iter().all(|r| r.values.is_empty()));
}

#[test]
fn totals_tests_has_a_header_without_dlvs_and_constant_status_free_layout() {
    check_totals_tests(&TaskData::open(sample("isoxml-dotnet/TotalsTests.zip")).unwrap());
}

#[test]
fn valid_time_logs_name_a_second_device_element() {
    let valid = TaskData::open(sample("isoxml-dotnet/ValidTimeLogs.zip")).unwrap();
    let h = valid.time_logs[0].header.as_ref().unwrap();
    assert_eq!(
        h.dlvs[0].device_element_id.as_deref(),
        Some("DET-123456789")
    );
    assert!(valid.device_element("DET-123456789").is_some());
}

#[test]
fn afe_zip_has_a_255_dlv_header_and_all_nine_position_fields() {
    let td = TaskData::open(sample("isoxml-dotnet/AFE.zip")).unwrap();
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

/// The corrupted export: a time-log header cut off mid-document is a warning naming the file, and every
/// record of its binary still reads (the header lost only its closing tag), as in the valid export.
#[test]
fn a_cut_off_time_log_header_is_a_warning_and_its_records_read() {
    let td = TaskData::open(sample("isoxml-dotnet/BrokenTimeLogs.zip")).unwrap();
    let cut: Vec<_> = td
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::MalformedXml)
        .collect();
    assert_eq!(cut.len(), 1, "{:#?}", td.warnings);
    assert_eq!(cut[0].file.as_deref(), Some("TLG00003.xml"));
    let valid = TaskData::open(sample("isoxml-dotnet/ValidTimeLogs.zip")).unwrap();
    let records = |td: &TaskData| -> Vec<Option<u64>> {
        Summary::of(td)
            .time_logs
            .iter()
            .map(|l| l.records)
            .collect()
    };
    assert_eq!(records(&td), records(&valid));
}

#[test]
fn two_data_sets_in_one_zip() {
    let all = TaskData::open_all(sample(
        "isoxml-dotnet/LoadFromStream/MultiplyTaskdataXML.zip",
    ))
    .unwrap();
    assert_eq!(all.len(), 2);
    let first = TaskData::open(sample(
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
        TaskData::open(sample("isoxml-dotnet/LoadFromStream/InvalidArchive.zip")).unwrap_err();
    assert!(matches!(err, Error::NoTaskData { .. }), "{err}");
}

#[test]
fn mac_resource_forks_in_a_zip_are_skipped() {
    let all = TaskData::open_all(sample(
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
}

#[test]
fn topcon_zip_merges_its_external_files() {
    let topcon = TaskData::open(sample("isoxml-js/2021-04-09T15_33_26_taskdata.zip")).unwrap();
    assert_eq!(topcon.external_files.len(), 13);
    assert!(topcon.external_files.iter().all(|x| x.merged));
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

/// isoxml-js's prescription: one type-2 grid of 54 × 54 cells, one value per cell (the one PDV of zone 2).
#[test]
fn type_2_grid_of_a_prescription() {
    let td = TaskData::open(sample("isoxml-js/task_with_grid.zip")).unwrap();
    assert!(td.grid_errors.is_empty(), "{:?}", td.grid_errors);
    assert_eq!(td.tasks.len(), 1);
    let task = &td.tasks[0];
    assert_eq!(task.treatment_zones.len(), 3);
    assert_eq!(task.grids.len(), 1);
    let g = &task.grids[0];
    assert_eq!((g.grid_type, g.treatment_zone_code), (2, Some(2)));
    assert_eq!((g.columns, g.rows), (54, 54));
    assert_eq!(g.cell_values(0, 0).map(<[i32]>::len), Some(1));
    assert_eq!(
        g.cell_values(g.rows - 1, g.columns - 1).map(<[i32]>::len),
        Some(1)
    );
    assert!(g.cell_values(g.rows, 0).is_none());
    assert!(g.cell_values(0, g.columns).is_none());
    assert!(
        g.zone_code(0, 0).is_none(),
        "a type-2 grid has no zone codes"
    );
}

#[test]
fn partfield_boundaries_have_exterior_rings() {
    let td = TaskData::open(sample("isoxml-dotnet/ValidTimeLogs.zip")).unwrap();
    assert_eq!(td.partfields.len(), 21);
    for p in &td.partfields {
        let b = p.boundaries().next().unwrap();
        assert!(b.exteriors().next().unwrap().points.len() >= 3, "{}", p.id);
    }
}
