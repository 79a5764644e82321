//! Fuzz-ish property tests: corrupted and truncated files never panic.

use proptest::prelude::*;

use furrow_shapefile::ShapefileSet;

use crate::writer::{Shape, TestSet, field};

fn base() -> TestSet {
    let mut set = TestSet::new(
        5,
        vec![
            field("Yld_Vol_Dr", b'N', 12, 4),
            field("Time", b'C', 24, 0),
            field("VARIETY", b'C', 10, 0),
        ],
    );
    set.prj = Some(r#"PROJCS["NAD_1983_UTM_Zone_15N",GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-93.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#.into());
    for i in 0..6 {
        let x = 446_000.0 + f64::from(i) * 5.0;
        set.record(
            &[&format!("{}.5", 100 + i), "2016-09-19T16:45:10.000Z", "V1"],
            Shape::Polygon(vec![vec![
                (x, 4_612_000.0),
                (x, 4_612_003.0),
                (x + 5.0, 4_612_003.0),
                (x + 5.0, 4_612_000.0),
            ]]),
        );
    }
    set
}

/// Opens and reads everything; must return, never panic.
fn read_everything(dir: &std::path::Path) -> u64 {
    let mut rows = 0;
    for set in ShapefileSet::discover(dir).unwrap() {
        if let Ok(mut reader) = set.open() {
            while let Ok(Some(b)) = reader.next_batch() {
                rows += b.len() as u64;
            }
        }
    }
    rows
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn corrupted_bytes_never_panic(file in 0usize..3, edits in prop::collection::vec((0usize..4096, any::<u8>()), 1..24), cut in prop::option::of(0usize..4096)) {
        let dir = tempfile::tempdir().unwrap();
        let set = base();
        set.write(dir.path(), "fuzz");
        let ext = ["shp", "dbf", "prj"][file];
        let path = dir.path().join(format!("fuzz.{ext}"));
        let mut bytes = std::fs::read(&path).unwrap();
        for (at, value) in edits {
            let n = bytes.len();
            bytes[at % n] = value;
        }
        if let Some(cut) = cut {
            let n = bytes.len();
            bytes.truncate(cut % (n + 1));
        }
        std::fs::write(&path, &bytes).unwrap();
        let rows = read_everything(dir.path());
        prop_assert!(rows <= 6 || ext == "dbf");
    }
}

#[test]
fn the_unmodified_base_reads_whole() {
    let dir = tempfile::tempdir().unwrap();
    base().write(dir.path(), "base");
    assert_eq!(read_everything(dir.path()), 6);
}
