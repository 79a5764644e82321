//! Time-log decoder: the first bytes pick a header shape, the rest is the binary.
#![no_main]

use furrow_isoxml::{RecordReader, TimeLogHeader};
use libfuzzer_sys::fuzz_target;

const HEADERS: &[&str] = &[
    r#"<TIM A="" D="4"><PTN A="" B="" C="" D="" E="" F="" G="" H="" I=""/><DLV A="0090" B="" C="DET-1"/><DLV A="DFFE" B="" C="DET-1" D="129026" E="16" F="31"/></TIM>"#,
    r#"<TIM A=""><PTN A="" B="" D=""/><DLV A="0043" B="" C="DET-1"/><DLV A="0054" B="7" C="DET-1"/></TIM>"#,
    r#"<TIM A=""><PTN A="" B="" C="" D="1" E="" F="" G="" H="" I=""/></TIM>"#,
    r#"<TIM A=""/>"#,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bin)) = data.split_first() else { return };
    let xml = HEADERS[usize::from(pick) % HEADERS.len()];
    let (header, _) = TimeLogHeader::parse(xml.as_bytes(), "h").expect("fixed header");
    let mut reader = RecordReader::new(&header, bin, "fuzz.bin");
    let mut n = 0usize;
    while let Ok(Some(view)) = reader.next_record() {
        n += view.values().count();
    }
    assert!(reader.warnings().len() <= 1000);
    let _ = n;
});
