//! Peak memory of streaming a 1 GB synthetic time log through `RecordReader`.
//!
//! The log is synthesised by a reader that repeats a block of encoded records, so neither side holds the
//! gigabyte. Peak resident memory (VmHWM) is read from /proc/self/status before and after; the run also
//! reports the decoding rate of this streamed pipeline.
//!
//! `cargo bench -p furrow-benches --bench isoxml-memory` (set FURROW_ISOXML_MEMORY_BYTES to change the size).
#![allow(clippy::print_stdout)]

use std::io::Read;
use std::time::Instant;

use furrow_isoxml::{
    DlvValue, LoggedDateTime, Record, RecordPosition, RecordReader, TimeLogHeader,
};

const HEADER: &str = r#"<TIM A="" D="4"><PTN A="" B="" C="" D="" E="" F="" G="" H="" I=""/>
<DLV A="0090" B="" C="DET-1"/><DLV A="0091" B="" C="DET-1"/><DLV A="0092" B="" C="DET-1"/><DLV A="018D" B="" C="DET-1"/></TIM>"#;

/// Repeats `block` until `remaining` bytes were produced (the last block is cut: a truncated record).
struct Synth {
    block: Vec<u8>,
    pos: usize,
    remaining: u64,
}

impl Read for Synth {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.remaining == 0 || self.block.is_empty() {
            return Ok(0);
        }
        let avail = &self.block[self.pos..];
        let n = avail
            .len()
            .min(buf.len())
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        buf[..n].copy_from_slice(&avail[..n]);
        self.pos = (self.pos + n) % self.block.len();
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let size: u64 = std::env::var("FURROW_ISOXML_MEMORY_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 30);
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let (header, _) = TimeLogHeader::parse(HEADER.as_bytes(), "h").expect("header");
    let layout = header.layout();
    let mut block = Vec::new();
    for i in 0..4096u32 {
        let r = Record {
            offset: 0,
            time: Some(LoggedDateTime {
                days: 15_000,
                millis: i * 200,
            }),
            position: RecordPosition {
                north: Some(455_277_534 + i as i32),
                east: Some(95_777_866),
                up: Some(173_902),
                status: Some(4),
                pdop: Some(11),
                hdop: Some(6),
                satellites: Some(24),
                gps_utc_time: Some(55_683_799),
                gps_utc_date: Some(15_000),
            },
            values: (0..(i % 5) as u8)
                .map(|k| DlvValue {
                    index: k % 4,
                    value: i as i32,
                })
                .collect(),
        };
        layout.encode(&r, &mut block);
    }
    let before = vm_hwm_kib().unwrap_or(0);
    let start = Instant::now();
    let mut reader = RecordReader::new(
        &header,
        Synth {
            block,
            pos: 0,
            remaining: size,
        },
        "synthetic.bin",
    );
    let (mut n, mut sum) = (0u64, 0i64);
    while let Some(v) = reader.next_record().expect("read") {
        n += 1;
        for x in v.values() {
            sum += i64::from(x.value);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let after = vm_hwm_kib().unwrap_or(0);
    println!(
        "isoxml-memory: streamed {size} bytes, {n} records (checksum {sum}) in {secs:.2} s = {:.2} GB/s",
        size as f64 / secs / 1e9
    );
    println!(
        "isoxml-memory: peak RSS (VmHWM) before {:.1} MiB, after {:.1} MiB; warnings {}",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        reader.warnings().len()
    );
    assert!(
        after < 64 * 1024,
        "peak RSS {after} KiB is above the 64 MiB target"
    );
}
