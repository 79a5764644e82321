//! Small shapefiles written by the tests: CRS cases, code pages, geometry kinds, faults.

use std::path::Path;

use furrow_shapefile::{
    Error, GeometryKind, OperationType, ReadOptions, Role, ShapefileSet, TimeKind, Vendor,
    WarningKind,
};

use crate::writer::{Shape, TestSet, field};
use crate::{Read, read_all};

/// Reprojected points from GeoPandas/pyproj (`scripts/expected.py crs`).
const EXPECTED: &[(&str, f64, f64, f64, f64)] = &[
    (
        "nad83_utm15n",
        446000.0,
        4612000.0,
        -93.64857150413742,
        41.65792214247908,
    ),
    (
        "nad83_utm15n",
        447250.5,
        4613500.25,
        -93.63368564196958,
        41.671518122994165,
    ),
    (
        "unknown_datum_utm15n",
        446000.0,
        4612000.0,
        -93.64857302262122,
        41.659840702278906,
    ),
    (
        "unknown_datum_utm15n",
        447250.5,
        4613500.25,
        -93.63368713093729,
        41.67343687887874,
    ),
    (
        "wgs84_utm15n_ogc",
        446000.0,
        4612000.0,
        -93.64857150413164,
        41.65792214143363,
    ),
    (
        "wgs84_utm15n_ogc",
        447250.5,
        4613500.25,
        -93.63368564196391,
        41.67151812194859,
    ),
    (
        "iowa_south_ftus",
        1650000.0,
        560000.0,
        -93.46499513347115,
        41.53703306219482,
    ),
    (
        "iowa_south_ftus",
        1652345.5,
        561234.75,
        -93.4564255103706,
        41.54041886993926,
    ),
    (
        "arizona_central_ft",
        700000.0,
        900000.0,
        -111.916666666667,
        33.47402703717028,
    ),
    (
        "arizona_central_ft",
        712345.5,
        901234.75,
        -111.87617802223883,
        33.47741398132001,
    ),
    ("etrs89_utm32n", 500000.0, 5500000.0, 9.0, 49.65254292355683),
    (
        "etrs89_utm32n",
        512345.5,
        5512345.75,
        9.171422265335245,
        49.76346007624374,
    ),
    (
        "web_mercator",
        -10408000.0,
        5112000.0,
        -93.4966547711598,
        41.67218410564493,
    ),
    (
        "web_mercator",
        -10409250.5,
        5113500.25,
        -93.5078882037877,
        41.68225009389868,
    ),
];

fn prj(name: &str) -> &'static str {
    match name {
        "nad83_utm15n" => {
            r#"PROJCS["NAD_1983_UTM_Zone_15N",GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-93.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#
        }
        "unknown_datum_utm15n" => {
            r#"PROJCS["UTM_Zone_15_Northern_Hemisphere",GEOGCS["GCS_unknown",DATUM["D_unknown",SPHEROID["Clarke_1866",6378206.4,294.9786982]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-93.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#
        }
        "wgs84_utm15n_ogc" => {
            r#"PROJCS["WGS 84 / UTM zone 15N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",-93],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","32615"]]"#
        }
        "iowa_south_ftus" => {
            r#"PROJCS["NAD_1983_StatePlane_Iowa_South_FIPS_1402_Feet",GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",1640416.666666667],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-93.5],PARAMETER["Standard_Parallel_1",40.61666666666667],PARAMETER["Standard_Parallel_2",41.78333333333333],PARAMETER["Latitude_Of_Origin",40.0],UNIT["Foot_US",0.3048006096012192]]"#
        }
        "arizona_central_ft" => {
            r#"PROJCS["NAD_1983_StatePlane_Arizona_Central_FIPS_0202_Feet_Intl",GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",700000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-111.9166666666667],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",31.0],UNIT["Foot",0.3048]]"#
        }
        "etrs89_utm32n" => {
            r#"PROJCS["ETRS_1989_UTM_Zone_32N",GEOGCS["GCS_ETRS_1989",DATUM["D_ETRS_1989",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#
        }
        "web_mercator" => {
            r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]"#
        }
        _ => unreachable!(),
    }
}

fn yield_fields() -> Vec<crate::writer::Field> {
    vec![
        field("Yld_Vol_Dr", b'N', 12, 4),
        field("Distance_f", b'N', 10, 3),
    ]
}

fn open(shp: &Path) -> furrow_shapefile::Reader {
    ShapefileSet::from_shp(shp).unwrap().open().unwrap()
}

#[test]
fn projected_prj_files_reproject_like_geopandas() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<&str> = EXPECTED.iter().map(|e| e.0).collect();
    cases.dedup();
    assert_eq!(cases.len(), 7);
    for case in cases {
        let mut set = TestSet::new(1, yield_fields());
        set.prj = Some(prj(case).to_string());
        let points: Vec<_> = EXPECTED.iter().filter(|e| e.0 == case).collect();
        for p in &points {
            set.record(&["100.0", "5.0"], Shape::Point(p.1, p.2));
        }
        let shp = set.write(dir.path(), case);
        let Read { reader, batches } = read_all(&shp);
        assert!(!reader.crs().is_wgs84, "{case}");
        let b = &batches[0];
        for (i, p) in points.iter().enumerate() {
            assert!(
                (b.lon[i] - p.3).abs() < 1e-8,
                "{case} lon {} vs {}",
                b.lon[i],
                p.3
            );
            assert!(
                (b.lat[i] - p.4).abs() < 1e-8,
                "{case} lat {} vs {}",
                b.lat[i],
                p.4
            );
        }
        let datum_warning = reader
            .warnings()
            .iter()
            .any(|w| w.kind == WarningKind::DatumShift);
        assert_eq!(
            datum_warning,
            case == "unknown_datum_utm15n",
            "{case}: {:?}",
            reader.warnings()
        );
    }
}

#[test]
fn state_plane_us_feet_use_the_survey_foot() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(1, yield_fields());
    set.prj = Some(prj("iowa_south_ftus").into());
    set.record(&["1", "1"], Shape::Point(1_650_000.0, 560_000.0));
    let reader = open(&set.write(dir.path(), "iowa"));
    assert!(
        reader.crs().proj.contains("+to_meter=0.3048006096012192"),
        "{}",
        reader.crs().proj
    );
    assert!(
        reader.crs().proj.contains("+proj=lcc"),
        "{}",
        reader.crs().proj
    );
    // False easting converted from US feet to metres.
    let x_0: f64 = reader
        .crs()
        .proj
        .split("+x_0=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((x_0 - 500_000.0).abs() < 1e-6, "{}", reader.crs().proj);
}

#[test]
fn no_prj_with_projected_coordinates_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(1, yield_fields());
    set.record(&["1", "1"], Shape::Point(446_000.0, 4_612_000.0));
    let shp = set.write(dir.path(), "utm without prj");
    let err = ShapefileSet::from_shp(&shp).unwrap().open().unwrap_err();
    assert!(matches!(err, Error::UnknownCrs { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("utm without prj.shp") && message.contains("no .prj"),
        "{message}"
    );
}

#[test]
fn no_prj_with_lon_lat_coordinates_assumes_wgs84_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(1, yield_fields());
    set.record(&["1", "1"], Shape::Point(-93.5, 41.7));
    let Read { reader, batches } = read_all(&set.write(dir.path(), "lonlat"));
    assert!(reader.crs().assumed && reader.crs().is_wgs84);
    assert!(
        reader
            .warnings()
            .iter()
            .any(|w| w.kind == WarningKind::AssumedWgs84)
    );
    assert_eq!((batches[0].lon[0], batches[0].lat[0]), (-93.5, 41.7));
}

#[test]
fn an_empty_prj_counts_as_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(1, yield_fields());
    set.prj = Some(" \r\n".into());
    set.record(&["1", "1"], Shape::Point(446_000.0, 4_612_000.0));
    let err = ShapefileSet::from_shp(&set.write(dir.path(), "empty prj"))
        .unwrap()
        .open()
        .unwrap_err();
    assert!(matches!(err, Error::UnknownCrs { .. }), "{err:?}");
}

#[test]
fn geographic_nad27_is_shifted_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(1, yield_fields());
    set.prj = Some(r#"GEOGCS["GCS_North_American_1927",DATUM["D_North_American_1927",SPHEROID["Clarke_1866",6378206.4,294.9786982]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#.into());
    set.record(&["1", "1"], Shape::Point(-93.5, 41.7));
    let Read { reader, batches } = read_all(&set.write(dir.path(), "nad27"));
    assert!(
        reader
            .warnings()
            .iter()
            .any(|w| w.kind == WarningKind::DatumShift)
    );
    let (lon, lat) = (batches[0].lon[0], batches[0].lat[0]);
    // pyproj (without the NADCON grids, as pip installs it): (-93.50021254397357, 41.699996995661415);
    // the 3-parameter shift lands within a few metres of it, and 18 m from the unshifted point.
    assert!((lon + 93.500_212_543_973_57).abs() < 5e-5, "{lon}");
    assert!((lat - 41.699_996_995_661_415).abs() < 5e-5, "{lat}");
    assert!((lon + 93.5).abs() > 1e-4, "{lon}");
}

#[test]
fn unsupported_projection_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(1, yield_fields());
    set.prj = Some(r#"PROJCS["X",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Robinson"],UNIT["Meter",1.0]]"#.into());
    set.record(&["1", "1"], Shape::Point(1000.0, 1000.0));
    let err = ShapefileSet::from_shp(&set.write(dir.path(), "robinson"))
        .unwrap()
        .open()
        .unwrap_err();
    assert!(matches!(err, Error::UnsupportedCrs { .. }), "{err:?}");
    assert!(err.to_string().contains("Robinson"), "{err}");
}

fn variety_set(bytes: &[u8], cpg: Option<&str>, ldid: u8) -> TestSet {
    let mut set = TestSet::new(
        1,
        vec![
            field("VARIETY", b'C', 20, 0),
            field("Moisture__", b'N', 8, 2),
        ],
    );
    set.cpg = cpg.map(str::to_string);
    set.ldid = ldid;
    set.raw_record(
        false,
        vec![bytes.to_vec(), b"15.5".to_vec()],
        Shape::Point(-93.0, 41.0),
    );
    set
}

#[test]
fn code_pages_cpg_utf8_and_latin1_without_cpg() {
    let dir = tempfile::tempdir().unwrap();
    let utf8 = variety_set("Café Grün".as_bytes(), Some("UTF-8"), 0);
    let latin1 = variety_set(b"Caf\xe9 Gr\xfcn", None, 0x57);
    let latin1_cpg = variety_set(b"Caf\xe9 Gr\xfcn", Some("ISO 88591"), 0);
    let unknown_ldid = variety_set(b"Caf\xe9 Gr\xfcn", None, 0);
    for (name, set, code_page) in [
        ("utf8", utf8, "UTF-8"),
        ("latin1", latin1, "windows-1252"),
        ("latin1cpg", latin1_cpg, "windows-1252"),
        ("noldid", unknown_ldid, "windows-1252"),
    ] {
        let Read { reader, batches } = read_all(&set.write(dir.path(), name));
        assert_eq!(reader.code_page(), code_page, "{name}");
        let variety = batches[0].text("variety").unwrap();
        assert_eq!(variety.get(0), Some("Café Grün"), "{name}");
    }
}

#[test]
fn latin1_field_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = variety_set(b"x", None, 0x57);
    set.fields[1].name = "H\u{f6}he";
    let dbf = set.dbf_bytes();
    // The writer wrote the name as UTF-8 (`Höhe` is 5 bytes); make it Latin-1 (4 bytes).
    let at = 32 + 32; // the second field descriptor
    let mut patched = dbf.clone();
    patched[at..at + 5].copy_from_slice(b"H\xf6he\0");
    set.write(dir.path(), "names");
    std::fs::write(dir.path().join("names.dbf"), patched).unwrap();
    let Read { reader, .. } = read_all(&dir.path().join("names.shp"));
    assert_eq!(reader.fields()[1].name, "H\u{f6}he");
}

#[test]
fn bad_utf8_bytes_never_fail() {
    let dir = tempfile::tempdir().unwrap();
    let set = variety_set(b"Caf\xe9 \xff\xfe", Some("UTF-8"), 0);
    let Read { batches, .. } = read_all(&set.write(dir.path(), "bad"));
    assert_eq!(
        batches[0].text("variety").unwrap().get(0),
        Some("Caf\u{fffd} \u{fffd}\u{fffd}")
    );
}

#[test]
fn polygonz_swaths_give_the_centroid_and_keep_rings() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(15, yield_fields());
    // A 4 × 2 swath (clockwise, as the specification writes exteriors) with a 1 × 1 hole
    // (counter-clockwise), then an L-shaped swath.
    let outer = vec![
        (0.0, 0.0, 1.0),
        (0.0, 2.0, 1.0),
        (4.0, 2.0, f64::NAN),
        (4.0, 0.0, 1.0),
    ];
    let hole_ccw = vec![
        (3.0, 0.5, 0.0),
        (3.0, 1.5, 0.0),
        (2.0, 1.5, 0.0),
        (2.0, 0.5, 0.0),
    ];
    let l_shape = vec![
        (10.0, 10.0, 0.0),
        (10.0, 13.0, 0.0),
        (11.0, 13.0, 0.0),
        (11.0, 11.0, 0.0),
        (13.0, 11.0, 0.0),
        (13.0, 10.0, 0.0),
    ];
    set.record(&["1", "1"], Shape::PolygonZ(vec![outer, hole_ccw]));
    set.record(&["2", "1"], Shape::PolygonZ(vec![l_shape]));
    set.record(&["3", "1"], Shape::Null);
    let Read { reader, batches } = read_all(&set.write(dir.path(), "swaths"));
    assert_eq!(reader.geometry(), Some(GeometryKind::Polygon));
    let b = &batches[0];
    // Area 8 − 1 = 7; moments: 8·(2, 1) − 1·(2.5, 1) → (13.5/7, 7/7).
    assert!(
        (b.lon[0] - 13.5 / 7.0).abs() < 1e-12 && (b.lat[0] - 1.0).abs() < 1e-12,
        "{} {}",
        b.lon[0],
        b.lat[0]
    );
    // L: 3 × 1 bar (10.5, 11.5) and 2 × 1 bar (12, 10.5): ((3·10.5 + 2·12)/5, (3·11.5 + 2·10.5)/5).
    assert!(
        (b.lon[1] - 11.1).abs() < 1e-9 && (b.lat[1] - 11.1).abs() < 1e-9,
        "{} {}",
        b.lon[1],
        b.lat[1]
    );
    assert!(b.lon[2].is_nan() && b.lat[2].is_nan());
    let p = b.polygons.as_ref().unwrap();
    assert_eq!(p.len(), 3);
    assert_eq!(
        p.geom_offsets,
        vec![0, 1, 2, 2],
        "one polygon with a hole, one polygon, null"
    );
    assert_eq!(p.polygon_offsets, vec![0, 2, 3]);
    let rings: Vec<_> = p.rings(0).collect();
    assert_eq!(rings.len(), 2);
    assert_eq!(rings[0].0, &[0.0, 0.0, 4.0, 4.0, 0.0]);
    assert_eq!(rings[1].1, &[0.5, 1.5, 1.5, 0.5, 0.5]);
    assert_eq!(p.rings(2).count(), 0);
    assert_eq!(reader.stats().null_geometry, 1);
    assert!(
        reader
            .warnings()
            .iter()
            .any(|w| w.kind == WarningKind::NullGeometry)
    );
}

#[test]
fn pointz_with_nan_z_and_m() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(11, yield_fields());
    set.record(&["1", "1"], Shape::PointZ(-93.1, 41.6, f64::NAN, f64::NAN));
    set.record(&["2", "1"], Shape::PointZ(-93.2, 41.7, 300.0, f64::NAN));
    let Read { reader, batches } = read_all(&set.write(dir.path(), "z"));
    assert_eq!(reader.geometry(), Some(GeometryKind::Point));
    assert_eq!(batches[0].lon, vec![-93.1, -93.2]);
    assert_eq!(batches[0].lat, vec![41.6, 41.7]);
}

#[test]
fn multipoint_one_point_and_several() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(8, yield_fields());
    set.record(&["1", "1"], Shape::MultiPoint(vec![(-93.0, 41.0)]));
    set.record(
        &["1", "1"],
        Shape::MultiPoint(vec![(-93.0, 41.0), (-92.0, 42.0)]),
    );
    let Read { reader, batches } = read_all(&set.write(dir.path(), "mp"));
    assert_eq!(reader.geometry(), Some(GeometryKind::MultiPoint));
    assert_eq!(batches[0].lon, vec![-93.0, -92.5]);
    assert_eq!(reader.stats().multipoint_mean, 1);
}

#[test]
fn deleted_records_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(1, yield_fields());
    set.record(&["10", "1"], Shape::Point(-93.0, 41.0));
    set.raw_record(
        true,
        vec![b"20".to_vec(), b"1".to_vec()],
        Shape::Point(-93.1, 41.1),
    );
    set.record(&["30", "1"], Shape::Point(-93.2, 41.2));
    let Read { reader, batches } = read_all(&set.write(dir.path(), "deleted"));
    assert_eq!(reader.record_count(), 3);
    assert_eq!(reader.stats().rows, 2);
    assert_eq!(reader.stats().deleted, 1);
    let b = &batches[0];
    assert_eq!(b.record_index, vec![0, 2]);
    assert_eq!(
        b.lon,
        vec![-93.0, -93.2],
        "the deleted record's shape is skipped with it"
    );
    let bu_ac = 0.087_077_638_761_350_88;
    let y = b.numbers("dryVolumePerArea").unwrap();
    assert!((y[0] - 10.0 * bu_ac).abs() < 1e-12 && (y[1] - 30.0 * bu_ac).abs() < 1e-12);
    assert!(
        reader
            .warnings()
            .iter()
            .any(|w| w.kind == WarningKind::DeletedRecords)
    );
}

#[test]
fn blank_and_overflow_cells_are_nan() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(1, yield_fields());
    set.record(&["", "1"], Shape::Point(-93.0, 41.0));
    set.record(&["**********", "1"], Shape::Point(-93.0, 41.0));
    set.record(&["abc", "1"], Shape::Point(-93.0, 41.0));
    set.record(&["1,5", "1"], Shape::Point(-93.0, 41.0));
    let Read { reader, batches } = read_all(&set.write(dir.path(), "blank"));
    let y = batches[0].numbers("dryVolumePerArea").unwrap();
    assert!(y[0].is_nan() && y[1].is_nan() && y[2].is_nan());
    assert!((y[3] - 1.5 * 0.087_077_638_761_350_88).abs() < 1e-12);
    assert_eq!(reader.stats().invalid_values, 1, "only `abc` is invalid");
}

#[test]
fn batches_are_bounded_and_cover_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(1, yield_fields());
    for i in 0..1000 {
        set.record(
            &[&format!("{i}"), "1"],
            Shape::Point(-93.0 + f64::from(i) * 1e-5, 41.0),
        );
    }
    let shp = set.write(dir.path(), "many");
    let mut reader = ShapefileSet::from_shp(&shp)
        .unwrap()
        .open_with(ReadOptions { batch_size: 300 })
        .unwrap();
    let mut sizes = Vec::new();
    let mut first = Vec::new();
    while let Some(b) = reader.next_batch().unwrap() {
        sizes.push(b.len());
        first.push(b.record_index[0]);
    }
    assert_eq!(sizes, vec![300, 300, 300, 100]);
    assert_eq!(first, vec![0, 300, 600, 900]);
    assert!(reader.next_batch().unwrap().is_none(), "stays at the end");
}

#[test]
fn truncated_shp_keeps_rows_with_null_geometry() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(1, yield_fields());
    for i in 0..10 {
        set.record(&["1", "1"], Shape::Point(-93.0, 41.0 + f64::from(i) * 1e-4));
    }
    let shp = set.write(dir.path(), "cut");
    let bytes = std::fs::read(&shp).unwrap();
    // Cut in the middle of the 6th record (100 + 5 × 28 + 10).
    std::fs::write(&shp, &bytes[..250]).unwrap();
    let Read { reader, batches } = read_all(&shp);
    let b = &batches[0];
    assert_eq!(b.len(), 10, "rows follow the .dbf");
    assert_eq!(b.lon.iter().filter(|v| v.is_finite()).count(), 5);
    let s = reader.stats();
    assert_eq!(s.bad_geometry + s.missing_geometry, 5, "{s:?}");
    assert!(
        reader
            .warnings()
            .iter()
            .any(|w| w.kind == WarningKind::CountMismatch)
    );
}

#[test]
fn huge_record_length_claim_does_not_allocate() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(1, yield_fields());
    set.record(&["1", "1"], Shape::Point(-93.0, 41.0));
    set.record(&["2", "1"], Shape::Point(-93.1, 41.1));
    let shp = set.write(dir.path(), "liar");
    let mut bytes = std::fs::read(&shp).unwrap();
    // Second record header: content length 0x7FFF_FFFF words (4 GiB).
    bytes[100 + 28 + 4..100 + 28 + 8].copy_from_slice(&0x7FFF_FFFFi32.to_be_bytes());
    // And the header's file length too.
    bytes[24..28].copy_from_slice(&0x7FFF_FFFFi32.to_be_bytes());
    std::fs::write(&shp, &bytes).unwrap();
    let Read { reader, batches } = read_all(&shp);
    assert_eq!(batches[0].lon[0], -93.0);
    assert!(batches[0].lon[1].is_nan());
    assert_eq!(reader.stats().bad_geometry, 1);
}

#[test]
fn dbf_header_that_overcounts_reads_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(1, yield_fields());
    set.record(&["1", "1"], Shape::Point(-93.0, 41.0));
    set.record(&["2", "1"], Shape::Point(-93.1, 41.1));
    set.dbf_count = Some(4_000_000_000);
    let Read { reader, batches } = read_all(&set.write(dir.path(), "overcount"));
    assert_eq!(reader.record_count(), 4_000_000_000);
    assert_eq!(batches.iter().map(|b| b.len()).sum::<usize>(), 2);
    assert!(
        reader
            .warnings()
            .iter()
            .any(|w| w.kind == WarningKind::CountMismatch && w.message.contains("4000000000"))
    );
}

#[test]
fn dbf_header_that_undercounts_reads_its_count_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(1, yield_fields());
    for _ in 0..3 {
        set.record(&["1", "1"], Shape::Point(-93.0, 41.0));
    }
    set.dbf_count = Some(2);
    let Read { reader, batches } = read_all(&set.write(dir.path(), "undercount"));
    assert_eq!(batches[0].len(), 2);
    assert!(
        reader
            .warnings()
            .iter()
            .any(|w| w.kind == WarningKind::CountMismatch),
        "{:?}",
        reader.warnings()
    );
}

#[test]
fn a_shp_without_dbf_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(1, yield_fields());
    set.record(&["1", "1"], Shape::Point(-93.0, 41.0));
    let shp = set.write(dir.path(), "lonely");
    std::fs::remove_file(dir.path().join("lonely.dbf")).unwrap();
    let sets = ShapefileSet::discover(dir.path()).unwrap();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].dbf, None);
    let err = sets[0].open().unwrap_err();
    assert!(
        matches!(&err, Error::MissingDbf { shp: s } if *s == shp),
        "{err:?}"
    );
}

#[test]
fn polylines_are_refused_with_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(3, yield_fields());
    set.record(&["1", "1"], Shape::Null);
    let err = ShapefileSet::from_shp(&set.write(dir.path(), "lines"))
        .unwrap()
        .open()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsupportedShapeType {
                shape_type: 3,
                name: "PolyLine",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn discover_finds_sets_with_awkward_names_and_ignores_other_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a (1)/b c");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::create_dir_all(dir.path().join("__MACOSX")).unwrap();
    let mut set = TestSet::new(1, yield_fields());
    set.record(&["1", "1"], Shape::Point(-93.0, 41.0));
    set.write(&nested, "--Field (2) yield");
    set.write(dir.path(), "UPPER");
    set.write(&dir.path().join("__MACOSX"), "ghost");
    for ext in ["shp", "shx", "dbf"] {
        std::fs::rename(
            dir.path().join(format!("UPPER.{ext}")),
            dir.path().join(format!("UPPER.{}", ext.to_uppercase())),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("UPPER.Prj"), r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#).unwrap();
    for junk in ["UPPER.sbn", "UPPER.sbx", "UPPER.shp.xml", "._UPPER.shp"] {
        std::fs::write(dir.path().join(junk), b"junk").unwrap();
    }
    let sets = ShapefileSet::discover(dir.path()).unwrap();
    let names: Vec<String> = sets.iter().map(ShapefileSet::name).collect();
    assert_eq!(names, vec!["UPPER", "--Field (2) yield"]);
    assert!(sets[0].prj.is_some() && sets[0].dbf.is_some() && sets[0].shx.is_some());
    assert!(sets[1].prj.is_none());
    for s in &sets {
        assert!(ShapefileSet::sniff(&s.shp));
        let Read { batches, .. } = read_all(&s.shp);
        assert_eq!(batches[0].len(), 1);
    }
    assert!(!ShapefileSet::sniff(&dir.path().join("UPPER.sbn")));
}

#[test]
fn john_deere_columns_without_sidecar_stay_extras() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(
        1,
        vec![
            field("AppliedRat", b'N', 18, 8),
            field("TargetRate", b'N', 18, 8),
            field("Product", b'C', 20, 0),
            field("SWATHWIDTH", b'N', 18, 8),
            field("Heading", b'N', 18, 8),
            field("IsoTime", b'C', 24, 0),
        ],
    );
    set.record(
        &[
            "12.5",
            "12.0",
            "Roundup",
            "60",
            "90.5",
            "2016-05-31T21:29:14.400Z",
        ],
        Shape::Point(-93.0, 41.0),
    );
    let Read { reader, batches } = read_all(&set.write(dir.path(), "jd"));
    let p = reader.profile();
    assert_eq!(p.vendor, Vendor::JohnDeere);
    assert!(p.mapping("appliedRate").is_none() && p.mapping("seedRate").is_none());
    assert!(
        p.mapping("equipmentWidth").is_none(),
        "SWATHWIDTH is in ft or m: only the sidecar says"
    );
    assert_eq!(p.mapping("heading").unwrap().factor, 1.0);
    let applied = p
        .columns
        .iter()
        .find(|c| c.field.name == "AppliedRat")
        .unwrap();
    assert_eq!(applied.role, Role::Extra);
    assert!(
        reader
            .warnings()
            .iter()
            .any(|w| w.kind == WarningKind::UnitUnknown && w.message.contains("AppliedRat"))
    );
    assert_eq!(
        p.operation_type,
        OperationType::Applied,
        "weak evidence: a product column"
    );
    let b = &batches[0];
    assert_eq!(b.numbers("AppliedRat").unwrap(), &[12.5]);
    let extra = b.columns.iter().find(|c| &*c.name == "AppliedRat").unwrap();
    assert!(!extra.standard);
    assert_eq!(p.time, Some(TimeKind::Utc));
    assert_eq!(b.time.as_ref().unwrap()[0], Some(1_464_730_154_400));
}

#[test]
fn ag_leader_cut_names_need_imperial_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let fields = || {
        vec![
            field("Yld_Vol_Dr", b'N', 12, 4),
            field("Elevation_", b'N', 12, 4),
            field("Date", b'D', 8, 0),
        ]
    };
    let mut metric = TestSet::new(
        1,
        [fields(), vec![field("Distance_m", b'N', 10, 3)]].concat(),
    );
    metric.record(&["50", "300", "20130930", "3.0"], Shape::Point(-93.0, 41.0));
    let Read { reader, batches } = read_all(&metric.write(dir.path(), "metric"));
    let p = reader.profile();
    assert_eq!(p.vendor, Vendor::AgLeaderSms);
    assert_eq!(p.operation_type, OperationType::Harvested);
    assert!(p.mapping("dryVolumePerArea").is_none() && p.mapping("elevation").is_none());
    assert_eq!(p.mapping("distance").unwrap().factor, 1.0);
    assert_eq!(batches[0].numbers("Yld_Vol_Dr").unwrap(), &[50.0]);
    assert_eq!(p.time, Some(TimeKind::Date));
    assert_eq!(
        batches[0].time.as_ref().unwrap()[0],
        Some(1_380_499_200_000),
        "2013-09-30 at midnight"
    );

    let mut imperial = TestSet::new(
        1,
        [fields(), vec![field("Speed_mph_", b'N', 10, 3)]].concat(),
    );
    imperial.record(&["50", "300", "20130930", "3.0"], Shape::Point(-93.0, 41.0));
    let Read { reader, batches } = read_all(&imperial.write(dir.path(), "imperial"));
    let p = reader.profile();
    assert_eq!(p.mapping("dryVolumePerArea").unwrap().source_unit, "bu/ac");
    assert!((batches[0].numbers("elevation").unwrap()[0] - 91.44).abs() < 1e-9);
    assert!((batches[0].numbers("speed").unwrap()[0] - 3.0 * 0.44704).abs() < 1e-12);
}

#[test]
fn time_of_day_and_date_columns_combine_to_local_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(
        1,
        vec![
            field("Moisture", b'N', 8, 2),
            field("Date", b'D', 8, 0),
            field("Time", b'C', 12, 0),
        ],
    );
    set.record(&["15", "20130930", "3:03:30 PM"], Shape::Point(-93.0, 41.0));
    set.record(&["15", "20130930", "junk"], Shape::Point(-93.0, 41.0));
    let Read { reader, batches } = read_all(&set.write(dir.path(), "tod"));
    assert_eq!(reader.profile().time, Some(TimeKind::Local));
    let t = batches[0].time.as_ref().unwrap();
    assert_eq!(
        t[0],
        Some(1_380_499_200_000 + (15 * 3600 + 3 * 60 + 30) * 1000)
    );
    assert_eq!(t[1], None);
    assert_eq!(reader.stats().invalid_values, 1);
}

#[test]
fn john_deere_sidecar_units_pick_the_property() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(
        1,
        vec![
            field("VRYIELDVOL", b'N', 18, 8),
            field("WetMass", b'N', 18, 8),
            field("SWATHWIDTH", b'N', 18, 8),
            field("AppliedRat", b'N', 18, 8),
            field("Elevation", b'N', 18, 8),
        ],
    );
    set.record(
        &["10.5", "2000", "9.144", "30000", "300"],
        Shape::Point(-93.0, 41.0),
    );
    set.write(dir.path(), "metric");
    std::fs::write(
        dir.path().join("metric-Deere-Metadata.json"),
        r#"{"Operation":"Harvest","DataAttributes":[
            {"Name":"VRYIELDVOL","Unit":"t1ha-1"},{"Name":"WetMass","Unit":"lb"},
            {"Name":"SWATHWIDTH","Unit":"m"},{"Name":"AppliedRate","Unit":"seeds1ha-1"},
            {"Name":"Elevation","Unit":"furlong"}]}"#,
    )
    .unwrap();
    let Read { reader, batches } = read_all(&dir.path().join("metric.shp"));
    let p = reader.profile();
    assert_eq!(p.operation_type, OperationType::Harvested);
    assert_eq!(
        p.mapping("dryMassPerArea").unwrap().source_unit,
        "t/ha",
        "a mass per area is not a volume yield"
    );
    assert!(p.mapping("dryVolumePerArea").is_none());
    assert!((p.mapping("wetMass").unwrap().factor - 0.000_453_592_37).abs() < 1e-18);
    assert_eq!(p.mapping("equipmentWidth").unwrap().factor, 1.0);
    assert_eq!(
        p.mapping("seedRate").unwrap().factor,
        1.0,
        "cut name AppliedRat matches the sidecar's AppliedRate"
    );
    assert!(p.mapping("elevation").is_none());
    assert!(
        reader
            .warnings()
            .iter()
            .any(|w| w.kind == WarningKind::UnitUnknown && w.message.contains("furlong"))
    );
    let b = &batches[0];
    assert_eq!(b.numbers("dryMassPerArea").unwrap(), &[10.5]);
    assert_eq!(b.numbers("Elevation").unwrap(), &[300.0]);
}

#[test]
fn generic_columns_and_dbase_binary_types() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = TestSet::new(
        1,
        vec![
            field("SPEED_MPH", b'N', 8, 2),
            field("Elev_m", b'F', 10, 2),
            field("Count", b'I', 4, 0),
            field("Ratio", b'O', 8, 0),
            field("Flag", b'L', 1, 0),
            field("Note", b'C', 10, 0),
            field("Memo", b'M', 10, 0),
            field("Timestamp", b'C', 25, 0),
        ],
    );
    set.raw_record(
        false,
        vec![
            b"10".to_vec(),
            b"250.5".to_vec(),
            (-7i32).to_le_bytes().to_vec(),
            0.25f64.to_le_bytes().to_vec(),
            b"T".to_vec(),
            b"north".to_vec(),
            b"0000000001".to_vec(),
            b"2024-05-01T10:00:00+02:00".to_vec(),
        ],
        Shape::Point(-93.0, 41.0),
    );
    let Read { reader, batches } = read_all(&set.write(dir.path(), "generic"));
    let p = reader.profile();
    assert_eq!(p.vendor, Vendor::Generic);
    assert_eq!(p.operation_type, OperationType::Other);
    assert!(
        reader
            .warnings()
            .iter()
            .any(|w| w.kind == WarningKind::OperationType)
    );
    let b = &batches[0];
    assert!((b.numbers("speed").unwrap()[0] - 4.4704).abs() < 1e-12);
    assert_eq!(b.numbers("elevation").unwrap(), &[250.5]);
    assert_eq!(b.numbers("Count").unwrap(), &[-7.0]);
    assert_eq!(b.numbers("Ratio").unwrap(), &[0.25]);
    assert_eq!(b.numbers("Flag").unwrap(), &[1.0]);
    assert_eq!(b.text("Note").unwrap().get(0), Some("north"));
    assert!(
        b.column("Memo").is_none(),
        "memo cells point into a .dbt this crate does not read"
    );
    let memo = p.columns.iter().find(|c| c.field.name == "Memo").unwrap();
    assert!(matches!(memo.role, Role::Skipped { .. }));
    assert_eq!(p.time, Some(TimeKind::Utc));
    assert_eq!(b.time.as_ref().unwrap()[0], Some(1_714_550_400_000));
    let extra = b.columns.iter().find(|c| &*c.name == "Note").unwrap();
    assert!(!extra.standard);
}

#[test]
fn osgb36_and_ed50_get_their_helmert_shifts() {
    // pyproj: British National Grid (530000, 180000) → (-0.12835394047946935, 51.50399082763378), with
    // EPSG:1314 as here; ED50 / UTM 31N (500000, 5400000) → (2.9987425133500634, 48.75114586765145) with a
    // French transformation, where EPSG:1133 (western Europe) lands within a metre.
    let dir = tempfile::tempdir().unwrap();
    for (name, prj, x, y, lon, lat, tolerance) in [
        (
            "bng",
            r#"PROJCS["British_National_Grid",GEOGCS["GCS_OSGB_1936",DATUM["D_OSGB_1936",SPHEROID["Airy_1830",6377563.396,299.3249646]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",400000.0],PARAMETER["False_Northing",-100000.0],PARAMETER["Central_Meridian",-2.0],PARAMETER["Scale_Factor",0.9996012717],PARAMETER["Latitude_Of_Origin",49.0],UNIT["Meter",1.0]]"#,
            530000.0,
            180000.0,
            -0.12835394047946935,
            51.50399082763378,
            1e-8,
        ),
        (
            "ed50",
            r#"PROJCS["ED_1950_UTM_Zone_31N",GEOGCS["GCS_European_1950",DATUM["D_European_1950",SPHEROID["International_1924",6378388.0,297.0]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",3.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#,
            500000.0,
            5400000.0,
            2.9987425133500634,
            48.75114586765145,
            2e-5,
        ),
    ] {
        let mut set = TestSet::new(1, yield_fields());
        set.prj = Some(prj.into());
        set.record(&["1", "1"], Shape::Point(x, y));
        let Read { reader, batches } = read_all(&set.write(dir.path(), name));
        assert!(
            (batches[0].lon[0] - lon).abs() < tolerance,
            "{name} {}",
            batches[0].lon[0]
        );
        assert!(
            (batches[0].lat[0] - lat).abs() < tolerance,
            "{name} {}",
            batches[0].lat[0]
        );
        assert!(
            reader
                .warnings()
                .iter()
                .any(|w| w.kind == WarningKind::DatumShift),
            "{name}"
        );
    }
}
