//! Builds a field index from GeoJSON and allocates a GeoParquet file of points to it.
//!
//! `cargo run -p furrow-examples --example allocate_points -- FIELDS.geojson POINTS.parquet`
//! Without arguments it first writes a small synthetic pair (24 fields, 200,000 points) to a temporary folder.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use arrow_array::{Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use furrow_allocate::synthetic::{self, Layout};
use furrow_allocate::{FieldIndex, allocate, fields_from_geojson};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tmp = std::env::temp_dir().join("furrow-allocate-example");
    let (fields_path, points_path) = match args.as_slice() {
        [f, p] => (f.into(), p.into()),
        _ => write_sample(&tmp)?,
    };

    let fields = fields_from_geojson(&std::fs::read_to_string(&fields_path)?)?;
    let index = FieldIndex::build(fields.into_iter().map(|f| f.field))?;
    let file = furrow_geoparquet::read_geoparquet(&points_path)?;
    let mut counts = vec![0u64; index.len()];
    let mut outside = 0;
    for batch in &file.batches {
        let a = allocate(&index, batch)?;
        counts.iter_mut().zip(&a.counts).for_each(|(c, n)| *c += n);
        outside += a.outside;
    }
    for (i, n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
        println!("{:<14} {n:>8} points", index.id(i as u32).unwrap_or("?"));
    }
    println!("{outside} points outside every field");
    Ok(())
}

fn write_sample(dir: &std::path::Path) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let layout = Layout::new(24);
    let features: Vec<serde_json::Value> = synthetic::fields(&layout, 3)
        .iter()
        .map(|f| {
            let rings: Vec<Vec<Vec<[f64; 2]>>> = f.boundary.0.iter().map(|p| {
                std::iter::once(p.exterior()).chain(p.interiors()).map(|r| r.0.iter().map(|c| [c.x, c.y]).collect()).collect()
            }).collect();
            serde_json::json!({"type": "Feature", "id": f.id, "geometry": {"type": "MultiPolygon", "coordinates": rings}})
        })
        .collect();
    let fields = dir.join("fields.geojson");
    std::fs::write(
        &fields,
        serde_json::to_vec(
            &serde_json::json!({"type": "FeatureCollection", "features": features}),
        )?,
    )?;
    let (xs, ys) = synthetic::track(&layout, 200_000, 3);
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Float64Array::from(xs)),
            Arc::new(Float64Array::from(ys)),
        ],
    )?;
    let points = dir.join("points.parquet");
    furrow_geoparquet::write_geoparquet(
        &points,
        schema,
        [batch],
        &furrow_geoparquet::GeoParquetOptions::default(),
    )?;
    Ok((fields, points))
}
