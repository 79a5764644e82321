//! The whole shared corpus (`../shared/shapefile-corpus`), behind the `corpus` feature:
//! `cargo test -p furrow-shapefile --features corpus`. Fails when the folder is missing.

#![cfg(feature = "corpus")]

use std::path::PathBuf;

use crate::{check_tree, unzip_tree};

fn shared() -> PathBuf {
    match std::env::var_os("FURROW_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

#[test]
fn every_corpus_set_matches_geopandas() {
    let corpus = shared().join("shapefile-corpus");
    assert!(
        corpus.is_dir(),
        "{} is missing: set FURROW_SHARED_DIR",
        corpus.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let zips = unzip_tree(&corpus.join("john-deere/Shapefiles"), dir.path());
    assert_eq!(zips, 15);
    let mut checked = check_tree(dir.path());
    assert_eq!(checked.len(), 18);
    let ag = tempfile::tempdir().unwrap();
    let ag_dir = ag.path().join("ag-leader-sms");
    std::fs::create_dir(&ag_dir).unwrap();
    for entry in std::fs::read_dir(corpus.join("ag-leader-sms")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, ag_dir.join(p.file_name().unwrap())).unwrap();
    }
    checked.extend(check_tree(ag.path()));
    assert_eq!(checked.len(), 19);
}
