//! The whole shared shapefile corpus through the pipeline (feature `corpus`; `.ci/run` runs it with the team's
//! `shared/` folder). Fails, never skips, when the corpus is missing.

use crate::shapefile::{check_export, type_of};

fn corpus() -> std::path::PathBuf {
    let shared = std::env::var_os("FURROW_SHARED_DIR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        std::path::PathBuf::from,
    );
    let dir = shared.join("shapefile-corpus");
    assert!(
        dir.is_dir(),
        "{} missing: set FURROW_SHARED_DIR to the folder holding shapefile-corpus/",
        dir.display()
    );
    dir
}

#[test]
fn every_set_of_the_shapefile_corpus_converts() {
    let root = corpus();
    let mut zips: Vec<_> = std::fs::read_dir(root.join("john-deere/Shapefiles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    zips.sort();
    assert_eq!(zips.len(), 15, "the corpus's John Deere exports");
    let mut sets = 0;
    for z in &zips {
        let name = z.file_name().unwrap().to_string_lossy().into_owned();
        // A prescription maps no unit-bearing column: nothing says it is imperial, so DEFAULT is METRIC.
        let system = if name.contains("Prescription") {
            "m"
        } else {
            "ft"
        };
        sets += check_export(z, type_of(&name), system);
    }
    // The Operations Center application export holds four products, one set each.
    assert_eq!(sets, 18);
    // Ag Leader SMS: a folder, lon/lat, imperial units in the column names.
    assert_eq!(
        check_export(&root.join("ag-leader-sms"), "harvested", "ft"),
        1
    );
}

/// Ag Leader SMS names the harvested crop in its `Product` column: the summary lists it.
#[test]
fn an_ag_leader_harvest_names_its_crop_from_the_rows() {
    use furrow_pipeline::{Limits, Settings, detect, open};
    let root = corpus().join("ag-leader-sms");
    let scratch = tempfile::tempdir().unwrap();
    let found = detect(&root, scratch.path(), &Limits::default()).unwrap();
    assert_eq!(found.datasets.len(), 1);
    let opened = open(&found.datasets[0]).unwrap();
    let out = tempfile::tempdir().unwrap();
    let c = opened
        .convert(&opened.units()[0], &Settings::default(), out.path())
        .unwrap();
    assert_eq!(
        c.summary["properties"]["crop"],
        serde_json::json!(["SOYBEANS"]),
        "{}",
        c.summary["properties"]
    );
    assert_eq!(c.summary["properties"].get("product"), None);
}
