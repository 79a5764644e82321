//! furrow's GeoParquet writer on the standard points of a synthetic harvest log, timed for the GeoPandas /
//! pyarrow comparison in `geopandas-compare.sh` (which writes the same points with both and reports ratios).
//!
//! Writes `$FURROW_COMPARE_OUT` (default `furrow-compare.parquet` in the temp folder) and prints
//! `furrow_write_seconds=… rows=… bytes=…` (best of 3 writes, points already in memory).
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use furrow_geoparquet::{GeoParquetOptions, GeoParquetWriter};
use furrow_isoxml::TaskData;
use furrow_machine_data::{ConvertOptions, StandardStream, plan};

#[path = "md_synth.rs"]
mod md_synth;

fn main() {
    let mb: u64 = std::env::var("FURROW_COMPARE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let out = std::env::var("FURROW_COMPARE_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join("furrow-compare.parquet"));
    let dir = tempfile::tempdir().unwrap();
    md_synth::write_taskdata(dir.path(), mb << 20).unwrap();
    let td = TaskData::open(dir.path()).unwrap();
    let opts = ConvertOptions::default();
    let p = plan(&td, &opts).remove(0);
    let batches: Vec<_> = StandardStream::new(&td, &p, &opts)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let schema = p.schema();
    let mut best = f64::INFINITY;
    let mut bytes = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let file = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
        let mut w =
            GeoParquetWriter::try_new(file, Arc::clone(&schema), &GeoParquetOptions::default())
                .unwrap();
        for b in &batches {
            w.write(b).unwrap();
        }
        bytes = w.finish().unwrap().bytes;
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "furrow_write_seconds={best:.4} rows={rows} bytes={bytes} path={}",
        out.display()
    );
}
