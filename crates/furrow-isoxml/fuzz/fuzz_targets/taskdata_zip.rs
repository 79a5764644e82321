//! Zip input: archive listing, case-insensitive lookup, external files, time logs and grids.
#![no_main]

use furrow_isoxml::{Summary, TaskData};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sets) = TaskData::from_zip_all(std::io::Cursor::new(data.to_vec())) {
        for td in &sets {
            let _ = Summary::of(td);
        }
    }
});
