//! `furrow allocate`: points to fields, with a per-field table and the throughput.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use furrow_allocate::{AllocateOptions, CoverageOptions, FieldIndex, OUTSIDE};

use crate::output;

/// Arguments of `furrow allocate`.
#[derive(Debug, clap::Args)]
pub(crate) struct AllocateArgs {
    /// Field boundaries: a GeoJSON FeatureCollection of (Multi)Polygons with an `id`.
    #[arg(long)]
    fields: PathBuf,
    /// Points: GeoParquet (WKB or native points) or a GeoJSON FeatureCollection of Points.
    #[arg(long)]
    points: PathBuf,
    /// Write the points with a `fieldId` column as GeoParquet.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Write per-field counts, coverage and aggregates as JSON.
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Coverage raster resolution in metres.
    #[arg(long, default_value_t = 1.0)]
    resolution: f64,
}

fn read_points(path: &std::path::Path) -> anyhow::Result<RecordBatch> {
    let name = path.display().to_string();
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".geojson") || lower.ends_with(".json") {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
        return furrow_allocate::points_from_geojson(&text).with_context(|| name.clone());
    }
    let file =
        furrow_geoparquet::read_geoparquet(path).with_context(|| format!("reading {name}"))?;
    let batches: Vec<RecordBatch> = file.batches;
    if batches.is_empty() {
        return Ok(RecordBatch::new_empty(file.schema));
    }
    Ok(arrow_select::concat::concat_batches(
        &batches[0].schema(),
        &batches,
    )?)
}

/// The input columns (minus geometry and bbox) with `x`, `y` first and `fieldId` last, for GeoParquet output.
fn with_field_ids(
    batch: &RecordBatch,
    xs: Vec<f64>,
    ys: Vec<f64>,
    ids: Vec<Option<&str>>,
) -> anyhow::Result<RecordBatch> {
    let mut fields = vec![
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Float64, true),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(xs)),
        Arc::new(Float64Array::from(ys)),
    ];
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        if ["x", "y", "geometry", "bbox", "fieldId"].contains(&f.name().as_str()) {
            continue;
        }
        fields.push(f.as_ref().clone());
        columns.push(c.clone());
    }
    fields.push(Field::new("fieldId", DataType::Utf8, true));
    columns.push(Arc::new(StringArray::from(ids)));
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

pub(crate) fn run(args: AllocateArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.fields)
        .with_context(|| format!("reading {}", args.fields.display()))?;
    let parsed = furrow_allocate::fields_from_geojson(&text)
        .with_context(|| args.fields.display().to_string())?;
    for f in parsed
        .iter()
        .filter(|f| f.report.validity != furrow_allocate::Validity::Valid)
    {
        eprintln!(
            "field {}: {} ({}); repaired where possible",
            f.field.id, f.report.validity, f.report.message
        );
    }
    let t = Instant::now();
    let index = FieldIndex::build(parsed.into_iter().map(|f| f.field))?;
    let build = t.elapsed();
    let batch = read_points(&args.points)?;
    let (xs, ys) = furrow_allocate::point_columns(&batch)?;

    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        bail!("--threads must be at least 1");
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let t = Instant::now();
    let allocation = pool.install(|| {
        furrow_allocate::allocate_xy(
            &index,
            &xs,
            &ys,
            AllocateOptions {
                parallel: threads > 1,
            },
        )
    })?;
    let elapsed = t.elapsed();
    let coverage = pool.install(|| {
        furrow_allocate::batch_coverage(
            &index,
            &batch,
            &allocation,
            CoverageOptions {
                resolution_m: args.resolution,
                ..Default::default()
            },
        )
    })?;
    let aggregates = furrow_allocate::aggregate(&index, &batch, &allocation)?;

    let mut lines = vec![format!(
        "{:<24} {:>10} {:>12} {:>12} {:>9}  main averages",
        "field", "points", "covered ha", "overlap ha", "coverage"
    )];
    for agg in &aggregates {
        let idx = (0..index.len() as u32).find(|&i| index.id(i) == Some(agg.field_id.as_str()));
        let cov = idx.and_then(|i| {
            coverage
                .as_ref()
                .and_then(|c| c.iter().find(|(f, _)| *f == i))
                .map(|(_, c)| *c)
        });
        let averages: Vec<String> = agg
            .all
            .properties
            .iter()
            .filter(|(k, _)| {
                !["area", "distance", "heading", "elevation", "timestamp"].contains(&k.as_str())
            })
            .take(4)
            .map(|(k, s)| format!("{k}={:.2}", s.average))
            .collect();
        lines.push(format!(
            "{:<24} {:>10} {:>12} {:>12} {:>9}  {}",
            agg.field_id,
            agg.all.points,
            cov.map_or("-".into(), |c| format!("{:.3}", c.covered_m2 / 10_000.0)),
            cov.map_or("-".into(), |c| format!("{:.3}", c.overlap_m2 / 10_000.0)),
            cov.map_or("-".into(), |c| format!("{:.1} %", c.coverage * 100.0)),
            averages.join(" ")
        ));
    }
    let n = xs.len();
    let rate = n as f64 / elapsed.as_secs_f64().max(1e-9);
    lines.push(format!(
        "{} points, {} in {} fields, {} outside, {} in overlapping fields; index {:.1} ms, allocation {:.1} ms ({:.1} M points/s on {threads} thread{})",
        n,
        n as u64 - allocation.outside,
        aggregates.len(),
        allocation.outside,
        allocation.ties,
        build.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e3,
        rate / 1e6,
        if threads == 1 { "" } else { "s" }
    ));
    output::write(&lines.join("\n"))?;

    if let Some(path) = &args.summary {
        let cov: Vec<serde_json::Value> = coverage
            .iter()
            .flatten()
            .map(|(f, c)| serde_json::json!({"fieldId": index.id(*f), "coverage": c}))
            .collect();
        let doc = serde_json::json!({
            "points": n,
            "outside": allocation.outside,
            "ties": allocation.ties,
            "fields": aggregates,
            "coverage": cov,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&doc)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.output {
        let ids: Vec<Option<&str>> = allocation
            .field
            .iter()
            .map(|&f| if f == OUTSIDE { None } else { index.id(f) })
            .collect();
        let out = with_field_ids(&batch, xs, ys, ids)?;
        let schema = out.schema();
        furrow_geoparquet::write_geoparquet(
            path,
            schema,
            [out],
            &furrow_geoparquet::GeoParquetOptions::default(),
        )
        .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
