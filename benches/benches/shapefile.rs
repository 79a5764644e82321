//! furrow-shapefile: reading shapefile exports to columns (records/s), and converting them to standard
//! GeoParquet (`shapefile/to_geoparquet/*`: read, derive, clean, summarise, encode, write; what
//! `scripts/shapefile-peer.py` measures GeoPandas `read_file` + `to_parquet` doing on the same files), from the
//! in-repository John Deere samples: the Operations Center harvest export (PointZ, 40,960 records, 12 columns: 8 numeric,
//! 3 text, a time) and the Gen4 swath-polygon harvest (2,243 records).
//!
//! Criterion measures wall time, which a busy machine inflates; each benchmark also prints records per
//! CPU second of this thread (`/proc/thread-self/schedstat`) over 50 reads.

#![allow(clippy::print_stdout)] // the CPU-time figure is part of the report

use std::fs::File;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use furrow_shapefile::ShapefileSet;

fn unzip(zip: &Path, dest: &Path) {
    let mut archive = zip::ZipArchive::new(File::open(zip).unwrap()).unwrap();
    archive.extract(dest).unwrap();
}

fn sample(dir: &Path, zip: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../samples/shapefile/john-deere/Shapefiles")
        .join(zip);
    let dest = dir.join(zip.trim_end_matches(".zip"));
    unzip(&src, &dest);
    dest
}

fn read(set: &ShapefileSet) -> u64 {
    let mut reader = set.open().unwrap();
    let mut rows = 0;
    while let Some(batch) = reader.next_batch().unwrap() {
        rows += batch.len() as u64;
    }
    rows
}

/// Nanoseconds this thread has run on a CPU (Linux), if known.
fn cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("shapefile");
    for (name, zip) in [
        ("jd_harvest_points", "Export From MyJohnDeere - Harvest.zip"),
        (
            "gen4_harvest_polygons",
            "Gen4 - 4600 Harvest Data - Polygon - OneHertz.zip",
        ),
    ] {
        let sets = ShapefileSet::discover(&sample(dir.path(), zip)).unwrap();
        assert_eq!(sets.len(), 1);
        let set = sets.into_iter().next().unwrap();
        let records = read(&set);
        if let Some(start) = cpu_ns() {
            let wall = std::time::Instant::now();
            for _ in 0..50 {
                read(&set);
            }
            let cpu = cpu_ns().unwrap_or(start).saturating_sub(start) as f64 / 1e9;
            let rows = (records * 50) as f64;
            println!(
                "shapefile/{name}: {:.2} M records per CPU second ({:.2} M/s wall)",
                rows / cpu / 1e6,
                rows / wall.elapsed().as_secs_f64() / 1e6
            );
        }
        g.throughput(Throughput::Elements(records));
        g.bench_function(name, |b| b.iter(|| assert_eq!(read(&set), records)));
        // To standard GeoParquet, one thread: read + derive + clean + summary + encode + write.
        let out = dir.path().join(format!("{name}.parquet"));
        let opts = furrow_machine_data::ConvertOptions::default();
        let convert = || {
            let mut reader = set.open().unwrap();
            let (outcome, _) =
                furrow_machine_data::write_shapefile(&mut reader, &opts, &out, &Default::default())
                    .unwrap();
            outcome.counts.raw
        };
        if let Some(start) = cpu_ns() {
            let wall = std::time::Instant::now();
            for _ in 0..20 {
                convert();
            }
            let cpu = cpu_ns().unwrap_or(start).saturating_sub(start) as f64 / 1e9;
            let rows = (records * 20) as f64;
            println!(
                "shapefile/to_geoparquet/{name}: {:.2} M records per CPU second ({:.2} M/s wall)",
                rows / cpu / 1e6,
                rows / wall.elapsed().as_secs_f64() / 1e6
            );
        }
        g.bench_function(format!("to_geoparquet/{name}"), |b| {
            b.iter(|| assert_eq!(convert(), records))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
