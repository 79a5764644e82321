use super::*;

fn header(xml: &str) -> TimeLogHeader {
    let (h, _) = TimeLogHeader::parse(xml.as_bytes(), "TLG00001.XML").unwrap();
    h
}

const FULL: &str = r#"<TIM A="" D="4"><PTN A="" B="" C="" D="" E="" F="" G="" H="" I=""/>
<DLV A="0090" B="" C="DET-1"/><DLV A="DFFE" B="" C="DET-1" D="129026" E="16" F="31"/><DLV A="018D" B="" C="DET-2"/></TIM>"#;

fn rec(days: u16, millis: u32, n: i32, e: i32, values: &[(u8, i32)]) -> Record {
    Record {
        offset: 0,
        time: Some(LoggedDateTime { days, millis }),
        position: RecordPosition {
            north: Some(n),
            east: Some(e),
            up: Some(173_902),
            status: Some(2),
            pdop: Some(11),
            hdop: Some(6),
            satellites: Some(24),
            gps_utc_time: Some(55_683_799),
            gps_utc_date: Some(15_074),
        },
        values: values
            .iter()
            .map(|&(index, value)| DlvValue { index, value })
            .collect(),
    }
}

fn encode(h: &TimeLogHeader, records: &[Record]) -> Vec<u8> {
    let layout = h.layout();
    let mut out = Vec::new();
    for r in records {
        layout.encode(r, &mut out);
    }
    out
}

fn decode(h: &TimeLogHeader, bytes: &[u8]) -> (Vec<Record>, Vec<Warning>, Vec<SkippedRange>) {
    let mut recs = Records::new(RecordReader::new(h, bytes, "TLG00001.BIN"));
    let out: Vec<Record> = recs.by_ref().map(Result::unwrap).collect();
    (
        out,
        recs.warnings().to_vec(),
        recs.skipped_ranges().to_vec(),
    )
}

#[test]
fn full_layout_is_31_plus_5n_bytes_and_round_trips() {
    let h = header(FULL);
    assert_eq!(h.layout().fixed_len(), 30);
    assert_eq!(h.dlvs[1].pgn, Some(129_026));
    assert_eq!(
        (h.dlvs[1].start_bit, h.dlvs[1].stop_bit),
        (Some(16), Some(31))
    );
    let input = vec![
        rec(15_074, 53_644_969, 455_277_534, 95_777_866, &[]),
        rec(
            15_074,
            53_645_129,
            455_277_538,
            95_777_880,
            &[(0, 67_159), (1, -5), (2, 595)],
        ),
    ];
    let bytes = encode(&h, &input);
    assert_eq!(bytes.len(), 31 + 31 + 15);
    let (out, warnings, skipped) = decode(&h, &bytes);
    assert!(warnings.is_empty() && skipped.is_empty());
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].offset, 31);
    assert_eq!(out[1].values, input[1].values);
    assert_eq!(out[0].position, input[0].position);
    assert_eq!(out[0].time, input[0].time);
}

#[test]
fn tri_state_status_fixed_in_header_is_not_in_records() {
    let h = header(
        r#"<TIM A=""><PTN A="" B="" C="" D="1" E="" F="" G="" H="" I=""/><DLV A="0001" B="" C="DET-1"/></TIM>"#,
    );
    let layout = h.layout();
    assert_eq!(layout.fixed_len(), 29, "no status byte");
    let bytes = encode(&h, &[rec(15_000, 1000, 1, 1, &[(0, 9)])]);
    let (out, w, _) = decode(&h, &bytes);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out[0].position.status, Some(1), "constant from the header");
    assert_eq!(out[0].value(0), Some(9));
}

#[test]
fn absent_fields_are_not_stored_and_no_ptn_is_legal() {
    let h = header(r#"<TIM A="" D="4"><DLV A="0001" B="" C="DET-1"/></TIM>"#);
    assert_eq!(h.layout().fixed_len(), 6);
    let bytes = encode(
        &h,
        &[rec(15_000, 5, 0, 0, &[(0, 1)]), rec(15_000, 6, 0, 0, &[])],
    );
    assert_eq!(bytes.len(), 6 + 1 + 5 + 6 + 1);
    let (out, w, _) = decode(&h, &bytes);
    assert!(w.is_empty());
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].position, RecordPosition::default());
    assert!(!out[0].has_plausible_position());
}

#[test]
fn header_with_zero_dlvs_rejects_any_entry() {
    let h = header(r#"<TIM A=""><PTN A="" B="" C="" D=""/></TIM>"#);
    assert_eq!(h.layout().dlv_count(), 0);
    let good = encode(&h, &[rec(15_000, 5, 1, 1, &[])]);
    assert_eq!(decode(&h, &good).0.len(), 1);
    let mut bad = encode(&h, &[rec(15_000, 5, 1, 1, &[(0, 3)])]);
    bad.extend_from_slice(&good);
    let (out, w, skipped) = decode(&h, &bad);
    assert_eq!(out.len(), 1);
    assert_eq!(
        skipped,
        [SkippedRange { start: 0, end: 25 }],
        "19 fixed + count + one entry"
    );
    assert_eq!(w[0].kind, WarningKind::Resync);
}

#[test]
fn truncated_last_record_is_dropped_with_a_warning() {
    let h = header(FULL);
    let mut bytes = encode(
        &h,
        &[
            rec(15_074, 1, 1, 1, &[(0, 1)]),
            rec(15_074, 2, 1, 1, &[(0, 2), (2, 3)]),
        ],
    );
    bytes.truncate(bytes.len() - 3);
    let (out, w, _) = decode(&h, &bytes);
    assert_eq!(out.len(), 1);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].kind, WarningKind::TruncatedRecord);
    assert_eq!(w[0].offset, Some(36));
}

#[test]
fn resync_skips_garbage_and_reports_the_range() {
    let h = header(FULL);
    let good: Vec<Record> = (0..10)
        .map(|i| {
            rec(
                15_074,
                1000 + i,
                455_000_000 + i as i32,
                95_000_000,
                &[(0, i as i32), (2, 7)],
            )
        })
        .collect();
    let mut bytes = encode(&h, &good[..5]);
    let cut = bytes.len() as u64;
    bytes.extend_from_slice(&[0xFF; 37]);
    bytes.extend_from_slice(&encode(&h, &good[5..]));
    let (out, w, skipped) = decode(&h, &bytes);
    assert_eq!(out.len(), 10);
    assert_eq!(
        skipped,
        [SkippedRange {
            start: cut,
            end: cut + 37
        }]
    );
    assert!(
        w.iter()
            .any(|w| w.kind == WarningKind::Resync && w.offset == Some(cut))
    );
    assert_eq!(out[5].value(0), Some(5));
}

#[test]
fn leading_junk_is_skipped() {
    let h = header(FULL);
    let mut bytes = vec![0x42; 100];
    bytes.extend_from_slice(&encode(
        &h,
        &[rec(15_074, 1, 1, 1, &[]), rec(15_074, 2, 1, 1, &[])],
    ));
    let (out, _, skipped) = decode(&h, &bytes);
    assert_eq!(out.len(), 2);
    assert_eq!(skipped[0].start, 0);
    assert_eq!(skipped[0].end, 100);
}

#[test]
fn constant_dlv_value_overrides_the_binary() {
    let h =
        header(r#"<TIM A=""><DLV A="0001" B="42" C="DET-1"/><DLV A="0002" B="" C="DET-1"/></TIM>"#);
    let bytes = encode(
        &h,
        &[
            rec(15_000, 1, 0, 0, &[(0, 1), (1, 2)]),
            rec(15_000, 2, 0, 0, &[(1, 3)]),
        ],
    );
    let (out, _, _) = decode(&h, &bytes);
    assert_eq!(out[0].value(0), Some(42));
    let records = Records::new(RecordReader::new(&h, &bytes[..], "x"));
    let filled: Vec<_> = FilledRecords::new(&h, records)
        .map(Result::unwrap)
        .collect();
    assert_eq!(filled[1].values, vec![Some(42), Some(3)]);
}

#[test]
fn for_each_value_matches_values_with_and_without_constants() {
    for xml in [
        r#"<TIM A=""><DLV A="0001" B="42" C="DET-1"/><DLV A="0002" B="" C="DET-1"/></TIM>"#,
        r#"<TIM A=""><DLV A="0001" B="" C="DET-1"/><DLV A="0002" B="" C="DET-1"/></TIM>"#,
    ] {
        let h = header(xml);
        let records = [
            rec(15_000, 1, 0, 0, &[(0, 1), (1, -2)]),
            rec(15_000, 2, 0, 0, &[(1, i32::MIN)]),
            rec(15_000, 3, 0, 0, &[]),
        ];
        let bytes = encode(&h, &records);
        let mut reader = RecordReader::new(&h, &bytes[..], "x");
        let mut n = 0;
        while let Some(view) = reader.next_record().unwrap() {
            let mut seen = Vec::new();
            view.for_each_value(|index, value| seen.push(DlvValue { index, value }));
            assert_eq!(seen, view.values().collect::<Vec<_>>());
            n += 1;
        }
        assert_eq!(n, records.len());
    }
}

#[test]
fn filled_view_carries_values_forward_per_ddi_and_element() {
    let h = header(
        r#"<TIM A=""><DLV A="0001" B="" C="DET-1"/><DLV A="0001" B="" C="DET-2"/><DLV A="0001" B="" C="DET-1"/></TIM>"#,
    );
    let bytes = encode(
        &h,
        &[
            rec(15_000, 1, 0, 0, &[]),
            rec(15_000, 2, 0, 0, &[(0, 5)]),
            rec(15_000, 3, 0, 0, &[(1, 6)]),
            rec(15_000, 4, 0, 0, &[(2, 7)]),
        ],
    );
    let records = Records::new(RecordReader::new(&h, &bytes[..], "x"));
    let filled = FilledRecords::new(&h, records);
    assert_eq!(filled.columns().len(), 2, "index 0 and 2 share (DDI, DET)");
    let rows: Vec<Vec<Option<i32>>> = filled.map(|r| r.unwrap().values).collect();
    assert_eq!(
        rows,
        [
            vec![None, None],
            vec![Some(5), None],
            vec![Some(5), Some(6)],
            vec![Some(7), Some(6)]
        ]
    );
}

#[test]
fn date_jump_is_accepted_when_later_records_agree() {
    let h = header(FULL);
    let bytes = encode(
        &h,
        &[
            rec(15_000, 1, 1, 1, &[]),
            rec(15_010, 2, 1, 1, &[]),
            rec(15_010, 3, 1, 1, &[]),
        ],
    );
    let (out, w, skipped) = decode(&h, &bytes);
    assert_eq!(out.len(), 3);
    assert!(skipped.is_empty());
    assert_eq!(w.len(), 1);
}

#[test]
fn dlv_without_element_keeps_its_index() {
    let (h, w) = TimeLogHeader::parse(
        br#"<TIM A=""><DLV A="0001" B=""/><DLV A="0002" B="" C="DET-1"/></TIM>"#,
        "x",
    )
    .unwrap();
    assert_eq!(h.dlvs.len(), 2);
    assert_eq!(h.dlvs[1].index, 1);
    assert!(w.iter().any(|w| w.kind == WarningKind::MissingAttribute));
}

#[test]
fn header_must_be_tim() {
    assert!(matches!(
        TimeLogHeader::parse(b"<PTN/>", "x"),
        Err(Error::TimeLogHeader { .. })
    ));
    assert!(TimeLogHeader::parse(b"", "x").is_err());
}

#[test]
fn more_than_256_dlvs_are_capped() {
    let mut xml = String::from(r#"<TIM A="">"#);
    for _ in 0..300 {
        xml.push_str(r#"<DLV A="0001" B="" C="DET-1"/>"#);
    }
    xml.push_str("</TIM>");
    let (h, w) = TimeLogHeader::parse(xml.as_bytes(), "x").unwrap();
    assert_eq!(h.dlvs.len(), MAX_DLVS);
    assert!(!w.is_empty());
}

#[test]
fn reader_memory_is_a_fixed_buffer() {
    let h = header(FULL);
    let one = encode(&h, &[rec(15_074, 1, 1, 1, &[(0, 1)])]);
    let stream = std::io::repeat(0)
        .take(0)
        .chain(std::io::Cursor::new(one.repeat(20_000)));
    let mut reader = RecordReader::new(&h, stream, "x");
    let mut n = 0;
    while reader.next_record().unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 20_000);
    assert_eq!(reader.buf.len(), BUF_LEN, "never grows");
}

/// One rule for times: a time of day at or past 24 h (86,400,000 ms, or a terminal counting on past
/// midnight) rolls the date instead of dropping the record, with one warning a log.
#[test]
fn time_of_day_at_or_past_24_h_rolls_the_date() {
    let h = header(FULL);
    let input = [
        rec(15_074, 86_399_999, 455_000_000, 95_000_000, &[(0, 1)]),
        rec(15_074, 86_400_000, 455_000_001, 95_000_000, &[(0, 2)]),
        rec(15_074, 90_000_000, 455_000_002, 95_000_000, &[(0, 3)]),
        rec(15_075, 3_600_001, 455_000_003, 95_000_000, &[(0, 4)]),
    ];
    let bytes = encode(&h, &input);
    let mut r = RecordReader::new(&h, &bytes[..], "TLG00001.BIN");
    let mut times = Vec::new();
    while let Some(v) = r.next_record().unwrap() {
        times.push(v.time.unwrap());
    }
    assert_eq!(
        times,
        [
            LoggedDateTime {
                days: 15_074,
                millis: 86_399_999
            },
            LoggedDateTime {
                days: 15_075,
                millis: 0
            },
            LoggedDateTime {
                days: 15_075,
                millis: 3_600_000
            },
            LoggedDateTime {
                days: 15_075,
                millis: 3_600_001
            },
        ]
    );
    assert_eq!(times[1].to_string(), "2021-04-10T00:00:00.000");
    assert_eq!(r.rolled_count(), 2);
    let w = r.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].kind, WarningKind::TimeRollover);
    assert_eq!(w[0].offset, Some(36), "the first rolled record");
    assert!(r.skipped_ranges().is_empty());
}

/// Records without a fix (both coordinates 0x7FFFFFFF, status 0) are well formed: decoded with their
/// values, not skipped as corruption.
#[test]
fn no_fix_records_are_records() {
    let h = header(FULL);
    let na = POSITION_NOT_AVAILABLE;
    let mut no_fix = rec(15_074, 2_000, na, na, &[(0, 7), (2, 1)]);
    no_fix.position.status = Some(0);
    let input = [
        rec(15_074, 1_000, 455_000_000, 95_000_000, &[(0, 1)]),
        no_fix.clone(),
        no_fix,
        rec(15_074, 3_000, 455_000_100, 95_000_000, &[(0, 2)]),
    ];
    let (out, w, skipped) = decode(&h, &encode(&h, &input));
    assert!(w.is_empty() && skipped.is_empty(), "{w:?} {skipped:?}");
    assert_eq!(out.len(), 4);
    assert!(out[1].has_no_fix() && !out[1].has_plausible_position());
    assert_eq!(out[1].value(0), Some(7));
    assert!(!out[0].has_no_fix() && out[0].has_plausible_position());
    // one coordinate "not available" and the other a real value is not a no-fix record: corruption
    let mut half = rec(15_074, 2_500, na, 95_000_000, &[]);
    half.position.status = Some(4);
    let (out, w, _) = decode(&h, &encode(&h, &[input[0].clone(), half, input[3].clone()]));
    assert_eq!(out.len(), 2);
    assert!(w.iter().any(|w| w.kind == WarningKind::Resync));
    // status 0 with 0/0 coordinates says "no fix"; status 4 with 0/0 is an invalid position
    let mut zero = rec(15_074, 1, 0, 0, &[]);
    zero.position.status = Some(0);
    assert!(zero.has_no_fix());
    zero.position.status = Some(4);
    assert!(!zero.has_no_fix() && !zero.has_plausible_position());
}

/// A resync scan that finds no record before the end skips to the end: the tail is reported as skipped,
/// never as a record cut off.
#[test]
fn resync_reaching_the_end_reports_no_cut_off_record() {
    let h = header(FULL);
    let mut bytes = encode(
        &h,
        &[
            rec(15_074, 1, 455_000_000, 95_000_000, &[(0, 1)]),
            rec(15_074, 2, 455_000_000, 95_000_000, &[(0, 2)]),
        ],
    );
    let good = bytes.len() as u64;
    bytes.extend_from_slice(&[0xEE; 45]);
    let (out, w, skipped) = decode(&h, &bytes);
    assert_eq!(out.len(), 2);
    assert!(
        w.iter().all(|w| w.kind != WarningKind::TruncatedRecord),
        "{w:?}"
    );
    assert_eq!(
        skipped,
        [SkippedRange {
            start: good,
            end: good + 45
        }]
    );
    assert!(
        w.iter()
            .any(|w| w.kind == WarningKind::Resync && w.message.contains("no plausible record")),
        "{w:?}"
    );
    // a record really cut off by the end is still reported as such
    let mut cut = encode(&h, &[rec(15_074, 1, 455_000_000, 95_000_000, &[(0, 1)])]);
    cut.extend_from_slice(&encode(&h, &[rec(15_074, 2, 455_000_000, 95_000_000, &[])])[..20]);
    let (out, w, _) = decode(&h, &cut);
    assert_eq!(out.len(), 1);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].kind, WarningKind::TruncatedRecord);
}
