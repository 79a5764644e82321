//! Property tests: random and mutated bytes never make the decoders panic or allocate without bound.

use furrow_isoxml::{
    DecodeOptions, LoggedDateTime, Record, RecordPosition, RecordReader, TaskData, TimeLogHeader,
    parse_xml,
};
use proptest::prelude::*;

const HEADER: &str = r#"<TIM A="" D="4"><PTN A="" B="" C="" D="" E="" F="" G="" H="" I=""/>
<DLV A="0090" B="" C="DET-1"/><DLV A="0091" B="" C="DET-1"/><DLV A="DFFE" B="" C="DET-1" D="129026" E="16" F="31"/></TIM>"#;

const TASKDATA: &str = r#"<?xml version="1.0"?><ISO11783_TaskData VersionMajor="4" VersionMinor="2" ManagementSoftwareManufacturer="x">
<CTR A="CTR1" B="c"/><PFD A="PFD1" C="f" D="5" E="CTR1"><PLN A="1"><LSG A="1"><PNT A="2" C="1.0" D="2.0"/></LSG></PLN></PFD>
<DVC A="DVC1" D="00"><DET A="DET1" B="1" C="1" E="0" F="0"><DOR A="2"/></DET><DPD A="2" B="0001" C="0" D="8"/></DVC>
<TSK A="TSK1" G="1" E="PFD1"><TZN A="1"><PDV A="0001" B="5"/></TZN><TIM A="2020-01-01T00:00:00" D="4"/><TLG A="TLG00001"/>
<GRD A="1" B="2" C="0.1" D="0.1" E="2" F="2" G="GRD00001" I="2" J="1"/></TSK></ISO11783_TaskData>"#;

fn valid_log(n: usize) -> Vec<u8> {
    let (h, _) = TimeLogHeader::parse(HEADER.as_bytes(), "h").unwrap();
    let layout = h.layout();
    let mut out = Vec::new();
    for i in 0..n {
        let r = Record {
            offset: 0,
            time: Some(LoggedDateTime {
                days: 15_000,
                millis: 1000 * i as u32,
            }),
            position: RecordPosition {
                north: Some(500_000_000),
                east: Some(100_000_000),
                status: Some(4),
                ..Default::default()
            },
            values: (0..(i % 4) as u8)
                .map(|k| furrow_isoxml::DlvValue {
                    index: k % 3,
                    value: i as i32,
                })
                .collect(),
        };
        layout.encode(&r, &mut out);
    }
    out
}

fn decode_all(header: &TimeLogHeader, bytes: &[u8]) -> (u64, u64) {
    let mut reader = RecordReader::with_options(header, bytes, "x", DecodeOptions::default());
    let mut n = 0u64;
    while let Some(v) = reader.next_record().unwrap() {
        assert!(v.value_count() <= 255);
        n += 1;
    }
    assert!(reader.warnings().len() <= 1000);
    (n, reader.skipped_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_as_time_log(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let (h, _) = TimeLogHeader::parse(HEADER.as_bytes(), "h").unwrap();
        let (n, skipped) = decode_all(&h, &bytes);
        // Every byte is a record, skipped, or the dropped tail.
        prop_assert!(n * 31 + skipped <= bytes.len() as u64);
    }

    #[test]
    fn mutated_time_log(flips in proptest::collection::vec((0usize..4000, any::<u8>()), 0..20), cut in 0usize..4000) {
        let (h, _) = TimeLogHeader::parse(HEADER.as_bytes(), "h").unwrap();
        let mut bytes = valid_log(100);
        let len = bytes.len();
        for (at, b) in flips {
            if let Some(x) = bytes.get_mut(at % len) {
                *x = b;
            }
        }
        bytes.truncate(cut.max(1).min(bytes.len()));
        decode_all(&h, &bytes);
    }

    #[test]
    fn random_bytes_as_xml(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_xml(&bytes);
        let _ = TimeLogHeader::parse(&bytes, "x");
        let _ = TaskData::from_bytes(bytes);
    }

    #[test]
    fn mutated_taskdata_and_header(at in 0usize..2000, len in 0usize..40, fill in any::<u8>(), which in any::<bool>()) {
        let src = if which { TASKDATA } else { HEADER };
        let mut bytes = src.as_bytes().to_vec();
        let at = at % bytes.len();
        let end = (at + len).min(bytes.len());
        for b in &mut bytes[at..end] {
            *b = fill;
        }
        if let Ok(td) = TaskData::from_bytes(bytes.clone()) {
            let _ = furrow_isoxml::Summary::of(&td);
        }
        let _ = TimeLogHeader::parse(&bytes, "x");
        // Cut-off documents keep what was read.
        let cut = &src.as_bytes()[..at];
        let _ = TaskData::from_bytes(cut.to_vec());
    }
}

#[test]
fn valid_log_round_trips() {
    let (h, _) = TimeLogHeader::parse(HEADER.as_bytes(), "h").unwrap();
    assert_eq!(decode_all(&h, &valid_log(100)), (100, 0));
}
