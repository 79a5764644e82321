//! Profiling helper: parses every zip in a folder (model + every time log summarised), as
//! `benches/isoxml-compare.rs` does, and prints the median pass time.
//!
//! `cargo run --release -p furrow-isoxml --example corpus_pass -- DIR [RUNS] [model]`
#![allow(clippy::print_stdout)]

use std::time::Instant;

use furrow_isoxml::{Summary, TaskData};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        println!("usage: corpus_pass DIR [RUNS] [model]");
        return;
    };
    let runs: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(10);
    let model_only = args.next().is_some_and(|a| a == "model");
    let mut zips: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    zips.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|e| e == "zip"));
    zips.sort();
    let data: Vec<Vec<u8>> = zips.iter().filter_map(|z| std::fs::read(z).ok()).collect();
    let mut times = Vec::new();
    let mut records = 0u64;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        records = 0;
        for bytes in &data {
            if let Ok(all) = TaskData::from_bytes_all(bytes.clone()) {
                if model_only {
                    continue;
                }
                for td in &all {
                    records += Summary::of(td)
                        .time_logs
                        .iter()
                        .filter_map(|t| t.records)
                        .sum::<u64>();
                }
            }
        }
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{} zips, {records} records, median {:.2} ms, min {:.2} ms",
        data.len(),
        times[times.len() / 2],
        times[0]
    );
}
