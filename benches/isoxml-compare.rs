//! furrow side of `isoxml-js-compare.sh`: parses every zip in `FURROW_ISOXML_COMPARE_DIR` (model and
//! every time log, as isoxml-js's `parseISOXMLFile` + `parseBinaryFile` do) and prints one JSON line with
//! the median wall time of `FURROW_ISOXML_COMPARE_RUNS` passes (default 20).
#![allow(clippy::print_stdout)]

use std::time::Instant;

use furrow_isoxml::{Summary, TaskData};

fn main() {
    let Ok(dir) = std::env::var("FURROW_ISOXML_COMPARE_DIR") else {
        println!(
            "isoxml-compare: set FURROW_ISOXML_COMPARE_DIR (run benches/isoxml-js-compare.sh)"
        );
        return;
    };
    let runs: usize = std::env::var("FURROW_ISOXML_COMPARE_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let mut zips: Vec<_> = std::fs::read_dir(&dir)
        .expect("compare dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "zip"))
        .collect();
    zips.sort();
    let mut times = Vec::new();
    let (mut records, mut sets, mut failed) = (0u64, 0usize, 0usize);
    for run in 0..runs.max(1) {
        let start = Instant::now();
        let (mut r, mut s, mut f) = (0u64, 0usize, 0usize);
        for zip in &zips {
            let bytes = std::fs::read(zip).expect("zip");
            match TaskData::from_bytes_all(bytes) {
                Ok(all) => {
                    for td in &all {
                        s += 1;
                        r += Summary::of(td)
                            .time_logs
                            .iter()
                            .filter_map(|t| t.records)
                            .sum::<u64>();
                    }
                }
                Err(_) => f += 1,
            }
        }
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        if run == 0 {
            (records, sets, failed) = (r, s, f);
        }
    }
    if std::env::var_os("FURROW_ISOXML_COMPARE_DETAIL").is_some() {
        for zip in &zips {
            let t = Instant::now();
            let bytes = std::fs::read(zip).expect("zip");
            let all = TaskData::from_bytes_all(bytes).unwrap_or_default();
            let model = t.elapsed().as_secs_f64() * 1000.0;
            let r: u64 = all
                .iter()
                .map(|td| {
                    Summary::of(td)
                        .time_logs
                        .iter()
                        .filter_map(|t| t.records)
                        .sum::<u64>()
                })
                .sum();
            let total = t.elapsed().as_secs_f64() * 1000.0;
            println!("{model:8.2} {total:8.2} {r:7} {}", zip.display());
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{{\"tool\":\"furrow\",\"zips\":{},\"sets\":{sets},\"failed\":{failed},\"records\":{records},\"runs\":{},\"medianMs\":{median:.3},\"minMs\":{:.3}}}",
        zips.len(),
        times.len(),
        times[0]
    );
}
