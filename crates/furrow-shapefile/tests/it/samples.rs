//! The in-repository samples (`samples/shapefile/`): run on every test run.

use std::path::Path;

use furrow_shapefile::{OperationType, Role, ShapefileSet, TimeKind, Vendor};

use crate::{Read, check_tree, read_all, unzip_tree};

fn samples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/shapefile/john-deere")
}

#[test]
fn every_sample_set_matches_geopandas() {
    let dir = tempfile::tempdir().unwrap();
    let zips = unzip_tree(&samples(), dir.path());
    assert_eq!(zips, 9, "six shapefile exports and three display-data zips");
    let checked = check_tree(dir.path());
    assert_eq!(
        checked.len(),
        6,
        "{:?}",
        checked.iter().map(|c| &c.0).collect::<Vec<_>>()
    );
    let rows: u64 = checked.iter().map(|c| c.1.rows).sum();
    assert_eq!(rows, 40_960 + 55_285 + 2_514 + 2_243 + 780 + 780);
}

#[test]
fn display_data_holds_no_shapefile() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(unzip_tree(&samples().join("Display data"), dir.path()), 3);
    assert!(ShapefileSet::discover(dir.path()).unwrap().is_empty());
}

#[test]
fn operations_center_harvest_profile() {
    let dir = tempfile::tempdir().unwrap();
    unzip_tree(&samples().join("Shapefiles"), dir.path());
    let shp = dir
        .path()
        .join("Export From MyJohnDeere - Harvest/doc/Merriweather Farms-JT-01-Soybeans.shp");
    let Read { reader, batches } = read_all(&shp);
    let p = reader.profile();
    assert_eq!(p.vendor, Vendor::JohnDeere);
    assert_eq!(p.operation_type, OperationType::Harvested);
    assert_eq!(p.crop.as_deref(), Some("soybeans"));
    assert_eq!(p.time, Some(TimeKind::Utc));
    let m = p.mapping("dryVolumePerArea").unwrap();
    assert_eq!(
        (m.source_unit, m.unit, m.unit_from),
        ("bu/ac", "m3/ha", "sidecar")
    );
    assert_eq!(p.mapping("elevation").unwrap().source_unit, "ft");
    assert_eq!(p.mapping("wetMassPerArea").unwrap().unit, "t/ha");
    let time = p.columns.iter().find(|c| c.field.name == "Time").unwrap();
    assert!(matches!(&time.role, Role::Skipped { reason } if reason.contains("IsoTime")));
    let b = &batches[0];
    // Record 0: VRYIELDVOL 0, Moisture 4.56, Elevation 786.45000308 ft, 2016-09-19T16:45:10.000Z.
    assert_eq!(b.numbers("harvestMoisture").unwrap()[0], 4.56);
    assert!((b.numbers("elevation").unwrap()[0] - 786.450_003_08 * 0.3048).abs() < 1e-9);
    assert_eq!(b.time.as_ref().unwrap()[0], Some(1_474_303_510_000));
    assert_eq!(b.text("crop").unwrap().get(0), Some("soybeans"));
    assert_eq!(b.text("variety").unwrap().get(0), Some("23A42"));
    // Record 20480: VRYIELDVOL 75.39285710 bu/ac.
    let y = b.numbers("dryVolumePerArea").unwrap();
    assert!((y[20_480] - 75.392_857_10 * 0.087_077_638_761_350_88).abs() < 1e-12);
}

#[test]
fn gen4_application_maps_rates_and_machines() {
    let dir = tempfile::tempdir().unwrap();
    unzip_tree(&samples().join("Shapefiles"), dir.path());
    let shp = dir
        .path()
        .join("Gen4 - 4600 Application Data - Point - OneHertz/--------Tank Mix Rate-Tank Mix.shp");
    let Read { reader, batches } = read_all(&shp);
    let p = reader.profile();
    assert_eq!(p.operation_type, OperationType::Applied);
    assert_eq!(p.product.as_deref(), Some("Tank Mix"));
    let m = p.mapping("appliedRate").unwrap();
    assert_eq!((m.source_unit, m.unit), ("gal/ac", "L/ha"));
    assert!((m.factor - 9.353_956_228_956_228).abs() < 1e-12);
    assert_eq!(
        p.mapping("appliedRateTarget").unwrap().source_unit,
        "gal/ac"
    );
    let b = &batches[0];
    assert_eq!(
        b.text("machinery").unwrap().get(0),
        Some("1N04045RJC0000106")
    );
    assert_eq!(b.text("product").unwrap().get(0), Some("Tank Mix"));
    // ControlRate is blank everywhere: an extra of NaN.
    assert!(b.numbers("ControlRate").unwrap().iter().all(|v| v.is_nan()));
}
