//! Criterion benchmarks of the machine-data path: ISOXML → standard points (records/s), GeoParquet write
//! (rows/s; MB/s printed), GeoJSON write (rows/s).

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use furrow_geoparquet::{GeoJsonWriter, GeoParquetOptions, GeoParquetWriter, GeometryEncoding};
use furrow_isoxml::TaskData;
use furrow_machine_data::{ConvertOptions, StandardStream, plan};

#[path = "md_synth.rs"]
mod md_synth;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let records = md_synth::write_taskdata(dir.path(), 8 << 20).unwrap();
    let td = TaskData::open(dir.path()).unwrap();
    let opts = ConvertOptions::default();
    let plans = plan(&td, &opts);
    let p = &plans[0];

    let mut g = c.benchmark_group("machine-data");
    g.sample_size(10);
    g.throughput(Throughput::Elements(records));
    g.bench_function("isoxml_to_standard", |b| {
        b.iter(|| {
            let mut s = StandardStream::new(&td, p, &opts).unwrap();
            let rows: usize = s.by_ref().map(|b| b.unwrap().num_rows()).sum();
            assert_eq!(s.finish().counts.raw, records);
            rows
        })
    });

    let batches: Vec<_> = StandardStream::new(&td, p, &opts)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    let schema = p.schema();
    let write_parquet = |encoding| {
        let o = GeoParquetOptions {
            encoding,
            ..Default::default()
        };
        let mut w =
            GeoParquetWriter::try_new(Vec::with_capacity(64 << 20), Arc::clone(&schema), &o)
                .unwrap();
        for b in &batches {
            w.write(b).unwrap();
        }
        w.finish().unwrap()
    };
    let size = write_parquet(GeometryEncoding::Wkb).bytes;
    eprintln!(
        "geoparquet: {rows} rows -> {size} bytes ({:.1} bytes/row)",
        size as f64 / rows as f64
    );
    g.throughput(Throughput::Elements(rows));
    g.bench_function("geoparquet_write_wkb", |b| {
        b.iter(|| write_parquet(GeometryEncoding::Wkb))
    });
    g.bench_function("geoparquet_write_native", |b| {
        b.iter(|| write_parquet(GeometryEncoding::Native))
    });
    g.bench_function("geojson_write", |b| {
        b.iter(|| {
            let mut w = GeoJsonWriter::try_new(std::io::sink(), Arc::clone(&schema)).unwrap();
            for b in &batches {
                w.write(b).unwrap();
            }
            w.features()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
