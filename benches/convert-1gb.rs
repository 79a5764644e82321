//! End to end: `furrow convert` of a 1 GB time log (synthesised, streamed to a temporary folder) into
//! GeoParquet, through the same library call the CLI makes. Prints records/s and the peak resident memory.
//!
//! `cargo bench -p furrow-benches --bench convert-1gb` (size in MB: `FURROW_BENCH_MB`, default 1024). It
//! converts twice: on one thread (records per CPU second), then with the encoding on a second thread (the
//! default of `furrow convert`: wall time). Both print the CPU time, which stays comparable on a busy
//! machine. `FURROW_BENCH_KEEP=path` keeps a copy of the written file; `FURROW_BENCH_TASKDATA=folder` writes
//! the synthetic TASKDATA there and leaves it (to time the `furrow convert` binary on the same input).
#![allow(clippy::print_stdout)]

use std::time::Instant;

use furrow_isoxml::TaskData;
use furrow_machine_data::{ConvertOptions, WriteOptions, plan, write_plans};

#[path = "md_synth.rs"]
mod md_synth;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// User + system CPU seconds of this process so far (`/proc/self/stat`, 100 ticks a second): on a machine
/// shared with other builds, wall time overstates what the conversion costs.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // fields after the parenthesised command name; utime and stime are the 12th and 13th
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = |i: usize| f.get(i)?.parse::<f64>().ok();
            Some((ticks(11)? + ticks(12)?) / 100.0)
        })
        .unwrap_or(0.0)
}

fn main() {
    // criterion-style flags (`--bench`) are ignored
    let mb: u64 = std::env::var("FURROW_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let dir = tempfile::tempdir().unwrap();
    let taskdata = std::env::var_os("FURROW_BENCH_TASKDATA")
        .map_or_else(|| dir.path().join("TASKDATA"), std::path::PathBuf::from);
    let t = Instant::now();
    let records = md_synth::write_taskdata(&taskdata, mb << 20).unwrap();
    println!(
        "synthesised {mb} MB, {records} records in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let rss_before = peak_rss_mb();

    let td = TaskData::open(&taskdata).unwrap();
    let opts = ConvertOptions::default();
    let plans = plan(&td, &opts);
    // one thread (the figure per CPU second), then the default: encoding on a second thread
    for single_thread in [true, false] {
        let t = Instant::now();
        let cpu0 = cpu_seconds();
        let out = dir.path().join("out.parquet");
        let written = write_plans(
            &td,
            &[&plans[0]],
            &opts,
            &out,
            &WriteOptions {
                single_thread,
                ..WriteOptions::default()
            },
            &mut |_| {},
        )
        .unwrap();
        let secs = t.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu0;
        let c = written.outcomes[0].counts;
        let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        println!(
            "convert ({}): {records} records in {secs:.2} s = {:.2} M records/s ({:.0} MB/s of time log); \
             CPU {cpu:.2} s = {:.2} M records per CPU second; {} points written, {:.1} MB GeoParquet; \
             peak RSS {:.0} MB (before conversion {:.0} MB)",
            if single_thread {
                "one thread"
            } else {
                "encoding on a second thread"
            },
            records as f64 / secs / 1e6,
            mb as f64 / secs,
            records as f64 / cpu.max(1e-9) / 1e6,
            c.written,
            size as f64 / 1e6,
            peak_rss_mb(),
            rss_before
        );
        assert_eq!(c.raw, records);
        // FURROW_BENCH_KEEP=path keeps the written file (to inspect its columns)
        if let Some(keep) = std::env::var_os("FURROW_BENCH_KEEP") {
            std::fs::copy(&out, keep).unwrap();
        }
    }
}
