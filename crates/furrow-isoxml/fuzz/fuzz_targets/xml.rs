//! XML decoders: the element tree, a time-log header, and a whole TASKDATA.XML (model + summary).
#![no_main]

use furrow_isoxml::{Summary, TaskData, TimeLogHeader, parse_xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_xml(data);
    let _ = TimeLogHeader::parse(data, "h");
    if let Ok(td) = TaskData::from_bytes(data.to_vec()) {
        let _ = Summary::of(&td);
    }
});
