//! Unit tests: cell parsing, times, units, the profile table, WKT, code pages.

use std::path::Path;

use crate::crs::Crs;
use crate::dbf::CodePage;
use crate::profile::{
    self, PROFILE_TABLE, PROPERTIES, SourceUnit, Target, UNITS, names_match, unit,
};
use crate::text::{Clock, Num, days_from_civil, parse_dbf_date, parse_number, parse_time};
use crate::{Error, WarningKind};

#[test]
fn numbers_fast_path_and_fallbacks() {
    assert_eq!(parse_number(b"   12.5"), Num::Value(12.5));
    assert_eq!(parse_number(b"-0.03444657"), Num::Value(-0.03444657));
    assert_eq!(parse_number(b"+7"), Num::Value(7.0));
    assert_eq!(parse_number(b".5"), Num::Value(0.5));
    assert_eq!(parse_number(b"5."), Num::Value(5.0));
    assert_eq!(parse_number(b"00012"), Num::Value(12.0));
    assert_eq!(parse_number(b"1e3"), Num::Value(1000.0));
    assert_eq!(parse_number(b"1,5"), Num::Value(1.5));
    assert_eq!(
        parse_number(b"123456789012345678901"),
        Num::Value(1.2345678901234568e20)
    );
    assert_eq!(parse_number(b"          "), Num::Missing);
    assert_eq!(parse_number(b"\0\0\0"), Num::Missing);
    assert_eq!(parse_number(b"**********"), Num::Missing);
    assert_eq!(parse_number(b"-"), Num::Missing);
    assert_eq!(parse_number(b"abc"), Num::Invalid);
    assert_eq!(parse_number(b"1.2.3"), Num::Invalid);
    assert_eq!(parse_number(b"inf"), Num::Invalid);
    assert_eq!(parse_number(b"NaN"), Num::Invalid);
}

#[test]
fn fast_path_rounds_like_the_standard_parser() {
    // A deterministic sweep of 18.8-style cells (what John Deere writes) and shorter ones.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let int = x % 1_000_000;
        let frac = (x >> 20) % 100_000_000;
        let decimals = (x >> 50) % 9;
        let text = if decimals == 0 {
            format!("{int}")
        } else {
            let frac = frac % 10u64.pow(decimals as u32);
            format!("{int}.{frac:0width$}", width = decimals as usize)
        };
        let neg = if x & 1 == 1 { format!("-{text}") } else { text };
        let expected: f64 = neg.parse().unwrap();
        assert_eq!(parse_number(neg.as_bytes()), Num::Value(expected), "{neg}");
    }
}

#[test]
fn times_in_the_forms_exports_write() {
    assert_eq!(
        parse_time(b"2016-09-19T16:45:10.000Z"),
        Some((1_474_303_510_000, Clock::Utc))
    );
    assert_eq!(
        parse_time(b"2016-09-19T16:45:10.5Z"),
        Some((1_474_303_510_500, Clock::Utc))
    );
    assert_eq!(
        parse_time(b"2016-09-19T18:45:10+02:00"),
        Some((1_474_303_510_000, Clock::Utc))
    );
    assert_eq!(
        parse_time(b"2016-09-19T11:45:10-0500"),
        Some((1_474_303_510_000, Clock::Utc))
    );
    assert_eq!(
        parse_time(b"2016-09-19 16:45:10"),
        Some((1_474_303_510_000, Clock::Local))
    );
    assert_eq!(
        parse_time(b"2016-09-19"),
        Some((1_474_243_200_000, Clock::Date))
    );
    assert_eq!(
        parse_time(b"9/19/2016 4:45:10 PM"),
        Some((1_474_303_510_000, Clock::Local))
    );
    assert_eq!(
        parse_time(b"9/19/2016 12:00:00 AM"),
        Some((1_474_243_200_000, Clock::Local))
    );
    assert_eq!(
        parse_time(b"9/19/2016 12:30:00 PM"),
        Some((1_474_243_200_000 + 45_000_000, Clock::Local))
    );
    assert_eq!(
        parse_time(b"9/19/2016 16:45"),
        Some((1_474_303_500_000, Clock::Local))
    );
    assert_eq!(
        parse_time(b"9/19/2016"),
        Some((1_474_243_200_000, Clock::Date))
    );
    assert_eq!(
        parse_time(b"20160919"),
        Some((1_474_243_200_000, Clock::Date))
    );
    assert_eq!(
        parse_time(b"3:03:30 PM"),
        Some((54_210_000, Clock::TimeOfDay))
    );
    assert_eq!(
        parse_time(b"15:03:30"),
        Some((54_210_000, Clock::TimeOfDay))
    );
    for bad in [
        &b"2016-13-01"[..],
        b"2016-02-30",
        b"2016-09-19T25:00:00Z",
        b"9/19/16 4:45 PM",
        b"13:00 PM",
        b"2016-09-19T16:45:10+99:00",
        b"yesterday",
        b"",
    ] {
        assert_eq!(parse_time(bad), None, "{}", String::from_utf8_lossy(bad));
    }
    assert_eq!(parse_dbf_date(b"20130930"), Some(1_380_499_200_000));
    assert_eq!(parse_dbf_date(b"        "), None);
    assert_eq!(parse_dbf_date(b"2013093"), None);
}

#[test]
fn civil_days() {
    assert_eq!(days_from_civil(1970, 1, 1), Some(0));
    assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
    assert_eq!(days_from_civil(1969, 12, 31), Some(-1));
    assert!(days_from_civil(2016, 2, 29).is_some());
    assert_eq!(days_from_civil(2017, 2, 29), None);
    assert_eq!(days_from_civil(1900, 2, 29), None);
}

#[test]
fn dbf_names_match_cut_and_spelled_variants() {
    assert!(names_match("AppliedRat", "AppliedRate"));
    assert!(names_match("AppliedRate", "AppliedRate"));
    assert!(names_match("appliedrate", "AppliedRate"));
    assert!(names_match("Yld Vol Dr", "Yld_Vol_Dr"));
    assert!(
        !names_match("Applied", "AppliedRate"),
        "only 10- or 11-character names are cut"
    );
    assert!(!names_match("TargetRat2", "TargetRate"));
    assert!(!names_match("", "Time"));
}

/// The METRIC units of docs/MACHINE-DATA.md, per property.
const METRIC: &[(&str, &[&str])] = &[
    ("distance", &["m"]),
    ("elevation", &["m"]),
    ("equipmentWidth", &["m"]),
    ("speed", &["m/s"]),
    ("heading", &["arcdeg"]),
    ("harvestMoisture", &["%"]),
    ("wetMassPerArea", &["t/ha"]),
    ("dryMassPerArea", &["t/ha"]),
    ("wetVolumePerArea", &["m3/ha"]),
    ("dryVolumePerArea", &["m3/ha"]),
    ("wetMass", &["t"]),
    ("dryMass", &["t"]),
    ("wetVolume", &["m3"]),
    ("dryVolume", &["m3"]),
    ("cropFlow", &["kg/s"]),
    ("seedRate", &["seeds/ha"]),
    ("seedRateTarget", &["seeds/ha"]),
    ("appliedRate", &["L/ha", "kg/ha"]),
    ("appliedRateTarget", &["L/ha", "kg/ha"]),
    ("samplingInterval", &["s"]),
];

#[test]
fn properties_use_the_metric_units_of_machine_data() {
    assert_eq!(PROPERTIES.len(), METRIC.len());
    for p in PROPERTIES {
        let (_, units) = METRIC.iter().find(|(n, _)| *n == p.name).unwrap();
        let ours: Vec<&str> = p.units.iter().map(|u| u.1).collect();
        assert_eq!(&ours, units, "{}", p.name);
    }
}

fn factor(source: &str, property: &str) -> f64 {
    let u = unit(source).unwrap();
    let p = PROPERTIES.iter().find(|p| p.name == property).unwrap();
    let (_, _, f) = p.units.iter().find(|(q, _, _)| *q == u.quantity).unwrap();
    u.to_base * f
}

#[test]
fn conversion_factors() {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs();
    // 1 bu/ac = 35.23907016688 L / 0.40468564224 ha.
    assert!(close(
        factor("bu/ac", "dryVolumePerArea"),
        0.087_077_638_761_350_88
    ));
    assert!(close(
        factor("bu1ac-1", "dryVolumePerArea"),
        0.087_077_638_761_350_88
    ));
    assert!(close(factor("ft", "elevation"), 0.3048));
    assert!(close(factor("mph", "speed"), 0.44704));
    assert!(close(factor("lb", "wetMass"), 0.000_453_592_37));
    assert!(close(
        factor("lb/ac", "wetMassPerArea"),
        0.001_120_851_156_194_456_2
    ));
    assert!(close(
        factor("lb/ac", "appliedRate"),
        1.120_851_156_194_456_2
    ));
    assert!(close(
        factor("seeds/ac", "seedRate"),
        2.471_053_814_671_653_6
    ));
    assert!(close(
        factor("gal/ac", "appliedRate"),
        9.353_956_228_956_228
    ));
    assert!(close(factor("lb/s", "cropFlow"), 0.453_592_37));
    assert!(close(factor("km/h", "speed"), 1.0 / 3.6));
    assert!(close(factor("t/ha", "dryMassPerArea"), 1.0));
    assert!(close(factor("prcnt", "harvestMoisture"), 1.0));
    assert!(unit("mg").is_none(), "milligram is not megagram");
    assert!(
        unit("thousandSeeds1ac-1").is_none(),
        "an unknown unit is not guessed"
    );
}

#[test]
fn the_profile_table_is_consistent() {
    for row in PROFILE_TABLE {
        if let Target::Number(candidates) = row.target {
            for c in candidates {
                assert!(
                    PROPERTIES.iter().any(|p| p.name == *c),
                    "{}: {c}",
                    row.column
                );
            }
        }
        if let SourceUnit::Fixed(u) | SourceUnit::ImperialExport(u) = row.unit {
            assert!(unit(u).is_some(), "{}: unit {u}", row.column);
        }
        let same = PROFILE_TABLE
            .iter()
            .filter(|r| r.vendor == row.vendor && names_match(r.column, row.column))
            .count();
        assert_eq!(same, 1, "{:?} {} is listed twice", row.vendor, row.column);
    }
    let mut codes: Vec<&str> = UNITS.iter().map(|u| u.code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), UNITS.len());
}

#[test]
fn operation_type_from_the_sidecar_wins_over_columns() {
    let fields = vec![crate::DbfField {
        name: "VRYIELDVOL".into(),
        kind: 'N',
        length: 18,
        decimals: 8,
        offset: 1,
    }];
    let meta = profile::DeereMetadata::parse(
        r#"{"Operation":"Seeding","CropToken":"CORN_WET","DataAttributes":[{"Name":"VRYIELDVOL","Unit":"bu1ac-1"}]}"#,
    )
    .unwrap();
    let p = profile::resolve(&fields, Some(&meta), "x");
    assert_eq!(p.operation_type, crate::OperationType::Planted);
    assert_eq!(p.crop.as_deref(), Some("corn"));
    assert!(
        p.warnings
            .iter()
            .any(|w| w.kind == WarningKind::OperationType)
    );
    assert!(profile::DeereMetadata::parse("{not json").is_err());
}

fn numeric(name: &str) -> crate::DbfField {
    crate::DbfField {
        name: name.into(),
        kind: 'N',
        length: 18,
        decimals: 8,
        offset: 1,
    }
}

#[test]
fn vendors_are_recognised_by_their_own_spelling_only() {
    use profile::signature_match;
    assert!(signature_match("Track_deg_", "Track_deg_"));
    assert!(signature_match("TRACK_DEG_", "Track_deg_"));
    assert!(!signature_match("Track_deg", "Track_deg_"));
    assert!(!signature_match("Track deg", "Track_deg_"));
    assert!(!signature_match("Distance_ft", "Distance_f"));

    // A generic export whose heading column looks like Ag Leader's is generic; its columns still map through the
    // generic rows.
    let generic = profile::resolve(
        &[
            numeric("Track_deg"),
            numeric("Speed_mph"),
            numeric("Distance"),
        ],
        None,
        "generic",
    );
    assert_eq!(generic.vendor, crate::Vendor::Generic);
    let heading = generic
        .mapping("heading")
        .expect("Track_deg maps to heading");
    assert_eq!(heading.source_unit, "deg");

    // Ag Leader's own spelling is Ag Leader.
    let sms = profile::resolve(&[numeric("Track_deg_"), numeric("Yld_Vol_Dr")], None, "sms");
    assert_eq!(sms.vendor, crate::Vendor::AgLeaderSms);
}

const ESRI_WGS84: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;

#[test]
fn wkt_geographic_and_bad_input() {
    let path = Path::new("x.prj");
    let mut warnings = Vec::new();
    let crs = Crs::from_wkt(path, ESRI_WGS84, &mut warnings).unwrap();
    assert!(crs.is_wgs84 && !crs.assumed);
    assert_eq!(crs.name, "GCS_WGS_1984");
    let nad83 = ESRI_WGS84
        .replace("D_WGS_1984", "D_North_American_1983")
        .replace("6378137.0,298.257223563", "6378137.0,298.257222101");
    assert!(
        Crs::from_wkt(path, &nad83, &mut warnings).unwrap().is_wgs84,
        "NAD83 passes through like PROJ's null transformation"
    );
    assert!(warnings.is_empty());
    for bad in [
        "",
        "GEOGCS[",
        "LOCAL_CS[\"x\"]",
        "PROJCS[\"x\",GEOGCS[\"y\"]]",
        "GEOGCS[\"x\",DATUM[\"d\",SPHEROID[\"s\",1,0]]]",
    ] {
        let err = Crs::from_wkt(path, bad, &mut warnings).unwrap_err();
        assert!(
            matches!(err, Error::UnsupportedCrs { .. }),
            "{bad}: {err:?}"
        );
    }
    let deep = "GEOGCS[".repeat(10_000);
    assert!(Crs::from_wkt(path, &deep, &mut warnings).is_err());
}

#[test]
fn cpg_names() {
    let mut w = Vec::new();
    for (text, name) in [
        ("UTF-8", "UTF-8"),
        ("utf8\r\n", "UTF-8"),
        ("65001", "UTF-8"),
        ("1252", "windows-1252"),
        ("ANSI 1252", "windows-1252"),
        ("ISO 88591", "windows-1252"),
        ("ISO-8859-1", "windows-1252"),
        ("CP1251", "windows-1251"),
        ("ISO 88592", "ISO-8859-2"),
        ("GBK", "GBK"),
    ] {
        assert_eq!(
            CodePage::resolve(Some(text), 0, "x", &mut w).name(),
            name,
            "{text}"
        );
    }
    assert!(w.is_empty());
    assert_eq!(
        CodePage::resolve(Some("KLINGON"), 0, "x", &mut w).name(),
        "windows-1252"
    );
    assert_eq!(w.len(), 1);
    assert_eq!(
        CodePage::resolve(None, 0xC9, "x", &mut w).name(),
        "windows-1251"
    );
    assert_eq!(
        CodePage::resolve(None, 0x58, "x", &mut w).name(),
        "windows-1252"
    );
}
