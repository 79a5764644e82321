use super::*;

#[test]
fn bare_xml_bytes() {
    let td = TaskData::from_bytes(
        &br#"<?xml version="1.0"?><ISO11783_TaskData VersionMajor="3" VersionMinor="3" ManagementSoftwareManufacturer="M">
        <TSK A="TSK1" G="4"><TLG A="TLG00001"/><GRD A="1" B="2" C="0.1" D="0.1" E="2" F="2" G="GRD00001" I="1"/></TSK>
        <XFR A="CTR00001" B="1"/></ISO11783_TaskData>"#[..],
    )
    .unwrap();
    assert_eq!(td.version(), "3.3");
    assert_eq!(td.time_logs.len(), 1);
    assert!(
        td.time_logs[0].records().is_err(),
        "header and binary are missing"
    );
    assert_eq!(td.grid_errors.len(), 1);
    let kinds: Vec<_> = td.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == WarningKind::MissingFile)
            .count(),
        4,
        "{kinds:?}"
    );
}

#[test]
fn no_root_is_an_error() {
    assert!(matches!(
        TaskData::from_bytes(&b"not xml"[..]),
        Err(Error::Xml { .. })
    ));
    assert!(matches!(
        TaskData::from_bytes(&b"<Other/>"[..]),
        Err(Error::Xml { .. })
    ));
    assert!(matches!(
        TaskData::from_bytes(Vec::new()),
        Err(Error::Xml { .. })
    ));
}

#[test]
fn cut_off_taskdata_keeps_what_was_read() {
    let td = TaskData::from_bytes(&br#"<ISO11783_TaskData VersionMajor="4"><CTR A="CTR1" B="x"/><TSK A="TSK1" G="1"><TZN A="1"#[..]).unwrap();
    assert_eq!(td.customers.len(), 1);
    assert_eq!(td.tasks.len(), 1);
    assert!(
        td.warnings
            .iter()
            .any(|w| w.kind == WarningKind::MalformedXml)
    );
}

mod legacy_layout {
    use super::*;
    use crate::time::LoggedDateTime;
    use crate::timelog::{DlvValue, Record, RecordLayout, RecordPosition};

    const HEADER: &str =
        r#"<TIM A="" D="4"><PTN A="" B="" D=""/><DLV A="0084" B="" C="DET-1"/></TIM>"#;

    fn records() -> Vec<Record> {
        (0..3u32)
            .map(|i| Record {
                offset: 0,
                time: Some(LoggedDateTime {
                    days: 15_074,
                    millis: 53_644_969 + i * 1000,
                }),
                position: RecordPosition {
                    north: Some(455_277_534 + i as i32),
                    east: Some(95_777_866),
                    up: Some(0),
                    status: Some(2),
                    pdop: Some(0),
                    hdop: Some(0),
                    satellites: Some(0),
                    gps_utc_time: Some(55_683_799 + i * 1000),
                    gps_utc_date: Some(15_074),
                },
                values: (0..i)
                    .map(|_| DlvValue {
                        index: 0,
                        value: 42,
                    })
                    .collect(),
            })
            .collect()
    }

    /// A folder data set of version `major` whose binary is written in `layout`.
    fn data_set(major: u8, layout: &RecordLayout) -> (tempfile::TempDir, TaskData) {
        let dir = tempfile::tempdir().unwrap();
        let root = format!(
            r#"<ISO11783_TaskData VersionMajor="{major}" VersionMinor="0" ManagementSoftwareManufacturer="M" ManagementSoftwareVersion="1" DataTransferOrigin="2"><TSK A="TSK1" G="4"><TLG A="TLG00001"/></TSK></ISO11783_TaskData>"#
        );
        std::fs::write(dir.path().join("TASKDATA.XML"), root).unwrap();
        std::fs::write(dir.path().join("TLG00001.XML"), HEADER).unwrap();
        let mut bin = Vec::new();
        for r in records() {
            layout.encode(&r, &mut bin);
        }
        std::fs::write(dir.path().join("TLG00001.BIN"), bin).unwrap();
        let td = TaskData::open(dir.path()).unwrap();
        (dir, td)
    }

    fn decoded(td: &TaskData) -> Vec<Record> {
        td.time_logs[0]
            .records()
            .unwrap()
            .filter_map(Result::ok)
            .collect()
    }

    #[test]
    fn pre_v3_binary_with_every_position_field_is_detected() {
        let (header, _) = TimeLogHeader::parse(HEADER.as_bytes(), "h").unwrap();
        assert_eq!(header.layout().fixed_len(), 15);
        let full = RecordLayout::full_position(&header);
        assert_eq!(full.fixed_len(), 30);

        let (_dir, td) = data_set(2, &full);
        assert!(td.time_logs[0].legacy_full_position);
        assert!(
            td.warnings
                .iter()
                .any(|w| w.kind == WarningKind::TimeLog && w.message.contains("pre-v3")),
            "{:?}",
            td.warnings
        );
        let recs = decoded(&td);
        assert_eq!(recs.len(), 3);
        for (got, want) in recs.iter().zip(records()) {
            assert_eq!(got.time, want.time);
            assert_eq!(got.position, want.position);
            assert_eq!(got.values, want.values);
        }
        assert_eq!(
            recs[2].gps_utc(),
            Some(LoggedDateTime {
                days: 15_074,
                millis: 55_685_799
            })
        );
    }

    #[test]
    fn v3_keeps_the_header_layout() {
        let (header, _) = TimeLogHeader::parse(HEADER.as_bytes(), "h").unwrap();
        let (_dir, td) = data_set(3, &RecordLayout::full_position(&header));
        assert!(!td.time_logs[0].legacy_full_position);
        let recs = decoded(&td);
        assert!(
            recs.iter().all(|r| r.position.gps_utc_date.is_none()),
            "v3 reads only the declared fields"
        );
        let faithful = recs.len() == 3 && recs.iter().all(|r| r.position.status == Some(2));
        assert!(
            !faithful,
            "the full-layout bytes do not fit the declared layout: {recs:?}"
        );
    }

    #[test]
    fn pre_v3_binary_that_follows_its_header_is_not_overridden() {
        let (header, _) = TimeLogHeader::parse(HEADER.as_bytes(), "h").unwrap();
        let (_dir, td) = data_set(2, &header.layout());
        assert!(!td.time_logs[0].legacy_full_position);
        let recs = decoded(&td);
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[1].position.north, Some(455_277_535));
        assert_eq!(recs[1].position.status, Some(2));
        assert_eq!(recs[1].position.gps_utc_date, None);
    }
}

mod binary_points {
    use super::*;

    /// One record of a `PNT J` file storing type, north, east and up.
    fn record(point_type: u8, north: f64, east: f64, up: i32) -> Vec<u8> {
        let mut out = vec![point_type];
        out.extend_from_slice(&((north * 1e16).round() as i64).to_le_bytes());
        out.extend_from_slice(&((east * 1e16).round() as i64).to_le_bytes());
        out.extend_from_slice(&up.to_le_bytes());
        out
    }

    #[test]
    fn pnt_j_files_are_read_into_binary_points() {
        let dir = tempfile::tempdir().unwrap();
        let mut bin = Vec::new();
        bin.extend(record(1, 52.123_456_789_012, 7.5, 120_500));
        bin.extend(record(2, 52.2, 7.654_321_098_765, -3));
        bin.extend(record(2, -33.9, -70.25, 0));
        assert_eq!(bin.len(), 3 * 21);
        // The second point file keeps A and C constant: records are east (i64) + horizontal accuracy (u16).
        let mut bin2 = Vec::new();
        bin2.extend_from_slice(&(80_000_000_000_000_000i64).to_le_bytes());
        bin2.extend_from_slice(&1250u16.to_le_bytes());
        bin2.extend_from_slice(&[0xAA, 0xBB]); // a cut-off record
        let xml = format!(
            r#"<ISO11783_TaskData VersionMajor="4" VersionMinor="3" ManagementSoftwareManufacturer="M" ManagementSoftwareVersion="1" DataTransferOrigin="1">
            <PFD A="PFD1" C="Field" D="1000">
              <PLN A="1"><LSG A="1"><PNT A="" C="" D="" E="" J="PNT00001" K="{}"/></LSG></PLN>
              <PNT A="6" C="48.5" D="" H="" J="PNT00002"/>
              <PNT A="2" J="PNT00003"/>
            </PFD></ISO11783_TaskData>"#,
            bin.len()
        );
        std::fs::write(dir.path().join("TASKDATA.XML"), xml).unwrap();
        std::fs::write(dir.path().join("PNT00001.BIN"), &bin).unwrap();
        std::fs::write(dir.path().join("pnt00002.bin"), &bin2).unwrap();
        let td = TaskData::open(dir.path()).unwrap();

        let pnt = &td.partfields[0].polygons[0].line_strings[0].points[0];
        assert_eq!(
            pnt.binary_layout,
            Some(PointFileLayout {
                point_type: true,
                north: true,
                east: true,
                up: true,
                ..Default::default()
            })
        );
        let got: Vec<(u8, f64, f64, Option<i32>)> = pnt
            .binary_points
            .iter()
            .map(|p| (p.point_type, p.north, p.east, p.up))
            .collect();
        assert_eq!(got.len(), 3);
        assert_eq!((got[0].0, got[0].3), (1, Some(120_500)));
        assert!((got[0].1 - 52.123_456_789_012).abs() < 1e-12);
        assert!((got[0].2 - 7.5).abs() < 1e-12);
        assert!((got[1].2 - 7.654_321_098_765).abs() < 1e-12);
        assert_eq!((got[1].0, got[1].3), (2, Some(-3)));
        assert!((got[2].1 + 33.9).abs() < 1e-12 && (got[2].2 + 70.25).abs() < 1e-12);

        let second = &td.partfields[0].points[0];
        assert_eq!(second.binary_points.len(), 1);
        let p = &second.binary_points[0];
        assert_eq!((p.point_type, p.north), (6, 48.5));
        assert!((p.east - 8.0).abs() < 1e-12);
        assert_eq!(p.horizontal_accuracy, Some(1.25));
        assert_eq!(p.up, None);

        let third = &td.partfields[0].points[1];
        assert!(third.binary_points.is_empty());

        let msgs: Vec<(WarningKind, &str)> = td
            .warnings
            .iter()
            .map(|w| (w.kind, w.message.as_str()))
            .collect();
        assert!(
            msgs.iter().any(|(k, m)| *k == WarningKind::TruncatedRecord
                && m.contains("the last 2 bytes ignored")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|(k, m)| *k == WarningKind::MissingFile && m.contains("PNT00003.BIN")),
            "{msgs:?}"
        );
        assert!(
            !msgs
                .iter()
                .any(|(_, m)| m.contains("C/D coordinates") || m.contains("K says")),
            "{msgs:?}"
        );
    }
}
