use furrow_pipeline::{Family, Format, Limits, detect, open};

use crate::{sample, write_zip};

#[test]
fn a_multi_task_export_gives_one_unit_per_task_and_operation_type() {
    let scratch = tempfile::tempdir().unwrap();
    let found = detect(
        &sample("isoxml/isoxml-dotnet/ValidTimeLogs.zip"),
        scratch.path(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(found.datasets.len(), 1);
    assert_eq!(found.datasets[0].format, Format::IsoXml);
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    let units = open(&found.datasets[0]).unwrap().units();
    // What the converter plans for the same set, one file per task and operation type.
    let td =
        furrow_isoxml::TaskData::open(sample("isoxml/isoxml-dotnet/ValidTimeLogs.zip")).unwrap();
    let plans = furrow_machine_data::plan(&td, &Default::default());
    assert_eq!(plans.len(), 19, "the export has 19 tasks with time logs");
    let convertible: Vec<_> = units.iter().filter(|u| u.refusal().is_none()).collect();
    assert_eq!(convertible.len(), plans.len());
    // Keys are unique and stable from one run to the next.
    let keys: std::collections::BTreeSet<_> = units.iter().map(|u| u.key.clone()).collect();
    assert_eq!(keys.len(), units.len());
    let again = detect(
        &sample("isoxml/isoxml-dotnet/ValidTimeLogs.zip"),
        tempfile::tempdir().unwrap().path(),
        &Limits::default(),
    )
    .unwrap();
    let again: std::collections::BTreeSet<_> = open(&again.datasets[0])
        .unwrap()
        .units()
        .into_iter()
        .map(|u| u.key)
        .collect();
    assert_eq!(keys, again);
}

#[test]
fn zips_inside_zips_are_opened_two_levels_deep_and_no_deeper() {
    let dir = tempfile::tempdir().unwrap();
    let afe = std::fs::read(sample("isoxml/isoxml-dotnet/AFE.zip")).unwrap();
    let level2 = dir.path().join("level2.zip");
    write_zip(&level2, &[("inner/AFE.zip", &afe)]);
    let level2_bytes = std::fs::read(&level2).unwrap();
    let level3 = dir.path().join("level3.zip");
    write_zip(&level3, &[("deeper.zip", &level2_bytes)]);
    let level3_bytes = std::fs::read(&level3).unwrap();
    let outer = dir.path().join("outer.zip");
    write_zip(
        &outer,
        &[
            ("a/AFE.zip", afe.as_slice()),
            ("b/level2.zip", level2_bytes.as_slice()),
            ("c/level3.zip", level3_bytes.as_slice()),
        ],
    );
    let scratch = tempfile::tempdir().unwrap();
    let found = detect(&outer, scratch.path(), &Limits::default()).unwrap();
    let keys: Vec<&str> = found.datasets.iter().map(|d| d.key.as_str()).collect();
    // Depth 1 (a/AFE.zip) and depth 2 (b/level2.zip!inner/AFE.zip) are read; depth 3 is refused by name.
    assert_eq!(
        keys,
        ["a/AFE.zip!TASKDATA", "b/level2.zip!inner/AFE.zip!TASKDATA"]
    );
    assert_eq!(found.problems.len(), 1, "{:?}", found.problems);
    assert_eq!(
        found.problems[0].key,
        "c/level3.zip!deeper.zip!inner/AFE.zip"
    );
    assert!(
        found.problems[0]
            .message
            .contains("nested more than 2 levels")
    );
}

#[test]
fn a_zip_bomb_inside_a_zip_is_refused_without_filling_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    // 64 MiB of zeros deflates to about 64 KiB.
    let zeros = vec![0u8; 64 << 20];
    let bomb = dir.path().join("bomb.zip");
    write_zip(&bomb, &[("TASKDATA/TASKDATA.XML", &zeros)]);
    let bomb_bytes = std::fs::read(&bomb).unwrap();
    let outer = dir.path().join("outer.zip");
    write_zip(&outer, &[("bomb.zip", &bomb_bytes)]);
    let scratch = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_nested_bytes: 1 << 20,
        ..Limits::default()
    };
    // The nested zip itself is small: it is extracted; its 64 MiB entry is never unpacked (the ISOXML reader
    // streams it and refuses an XML over its own limit).
    let found = detect(&outer, scratch.path(), &limits).unwrap();
    let written: u64 = walk_size(scratch.path());
    assert!(written < 2 << 20, "scratch holds {written} bytes");
    assert_eq!(found.datasets.len(), 1);
    // A nested zip whose own size passes the cap is refused by name.
    let big = dir.path().join("big.zip");
    write_zip(&big, &[("inner.zip", &zeros)]);
    let found = detect(&big, scratch.path(), &limits).unwrap();
    assert_eq!(found.datasets.len(), 0);
    assert_eq!(found.problems.len(), 1);
    assert!(
        found.problems[0].message.contains("more than the limit"),
        "{}",
        found.problems[0].message
    );
    assert!(walk_size(scratch.path()) < 4 << 20);
}

fn walk_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                walk_size(&e.path())
            } else {
                m.len()
            }
        })
        .sum()
}

#[test]
fn display_formats_are_recognised_kept_and_refused_with_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let gs2 = dir.path().join("gs2.zip");
    write_zip(
        &gs2,
        &[
            ("RCD/46516827.fdd", b"\x00\x01binary".as_slice()),
            ("RCD/46516827.fdl", b"<xml/>".as_slice()),
            ("JD-Data/log/field/2017_10_27.jdl", b"gen4".as_slice()),
            ("notes.txt", b"hello".as_slice()),
        ],
    );
    let scratch = tempfile::tempdir().unwrap();
    let found = detect(&gs2, scratch.path(), &Limits::default()).unwrap();
    let formats: Vec<Format> = found.datasets.iter().map(|d| d.format).collect();
    assert_eq!(
        formats,
        [
            Format::Unsupported(Family::JohnDeereGs2),
            Format::Unsupported(Family::JohnDeereGen4)
        ]
    );
    let units = open(&found.datasets[0]).unwrap().units();
    assert_eq!(units.len(), 1);
    let why = units[0].refusal().unwrap();
    assert!(
        why.contains("unsupported file format") && why.contains("GreenStar 2"),
        "{why}"
    );
    assert_eq!(units[0].format.file_format(), "JD_GS2");
}

#[test]
fn an_original_with_nothing_recognisable_says_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let z = dir.path().join("photos.zip");
    write_zip(
        &z,
        &[("a.jpg", b"jpeg".as_slice()), ("b.pdf", b"pdf".as_slice())],
    );
    let found = detect(&z, tempfile::tempdir().unwrap().path(), &Limits::default()).unwrap();
    assert!(found.datasets.is_empty());
    let m = found.nothing_found();
    assert!(
        m.contains("2 entries") && m.contains("a.jpg") && m.contains("b.pdf"),
        "{m}"
    );
    // Not an archive at all.
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"\x00\x01\x02 not a zip").unwrap();
    let found = detect(&junk, dir.path(), &Limits::default()).unwrap();
    assert!(found.datasets.is_empty());
    assert!(
        found.nothing_found().contains("not a zip archive"),
        "{}",
        found.nothing_found()
    );
    // A broken archive is a problem with a message, not an error.
    let found = detect(
        &sample("isoxml/isoxml-dotnet/LoadFromStream/InvalidArchive.zip"),
        dir.path(),
        &Limits::default(),
    )
    .unwrap();
    assert!(found.datasets.is_empty());
}

#[test]
fn task_data_without_time_logs_is_one_refused_unit_saying_so() {
    let scratch = tempfile::tempdir().unwrap();
    let found = detect(
        &sample("isoxml/isoxml-js/task_with_grid.zip"),
        scratch.path(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(found.datasets.len(), 1);
    let units = open(&found.datasets[0]).unwrap().units();
    assert_eq!(units.len(), 1);
    let why = units[0].refusal().unwrap();
    assert!(why.contains("no machine data to convert"), "{why}");
}
