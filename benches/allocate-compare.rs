//! Writes the synthetic allocation data set for the peer comparison (`benches/allocate-compare.sh`), times
//! furrow on it in the same run, and saves furrow's assignment for the point-by-point check.
//!
//! Environment: `FURROW_COMPARE_DIR` (output folder, required to run), `FURROW_COMPARE_FIELDS` (1000),
//! `FURROW_COMPARE_POINTS` (5000000).

use std::io::Write;
use std::time::Instant;

use furrow_allocate::synthetic::{self, Layout};
use furrow_allocate::{AllocateOptions, FieldIndex, allocate_xy};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn write_f64(path: &std::path::Path, v: &[f64]) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for x in v {
        f.write_all(&x.to_le_bytes())?;
    }
    f.flush()
}

fn main() -> std::io::Result<()> {
    let Ok(dir) = std::env::var("FURROW_COMPARE_DIR") else {
        eprintln!(
            "allocate-compare: set FURROW_COMPARE_DIR (see benches/allocate-compare.sh); nothing to do"
        );
        return Ok(());
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir)?;
    let layout = Layout::new(env_usize("FURROW_COMPARE_FIELDS", 1_000));
    let n = env_usize("FURROW_COMPARE_POINTS", 5_000_000);
    let fields = synthetic::fields(&layout, 11);
    let (xs, ys) = synthetic::track(&layout, n, 11);

    let features: Vec<serde_json::Value> = fields
        .iter()
        .map(|f| {
            let polys: Vec<Vec<Vec<[f64; 2]>>> = f
                .boundary
                .0
                .iter()
                .map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|r| r.0.iter().map(|c| [c.x, c.y]).collect())
                        .collect()
                })
                .collect();
            serde_json::json!({"type": "Feature", "properties": {"id": f.id},
                "geometry": {"type": "MultiPolygon", "coordinates": polys}})
        })
        .collect();
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    std::fs::write(dir.join("fields.geojson"), serde_json::to_vec(&fc)?)?;
    write_f64(&dir.join("xs.f64"), &xs)?;
    write_f64(&dir.join("ys.f64"), &ys)?;

    let t = Instant::now();
    let index = FieldIndex::build(fields).expect("index");
    let build = t.elapsed().as_secs_f64();
    let mut report = serde_json::Map::new();
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        let mut best = f64::INFINITY;
        let mut result = None;
        for _ in 0..5 {
            let t = Instant::now();
            let a = pool.install(|| {
                allocate_xy(
                    &index,
                    &xs,
                    &ys,
                    AllocateOptions {
                        parallel: threads > 1,
                    },
                )
                .expect("allocate")
            });
            best = best.min(t.elapsed().as_secs_f64());
            result = Some(a);
        }
        let a = result.expect("ran");
        report.insert(format!("furrow_{threads}_thread_s"), best.into());
        if threads == 1 {
            let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("furrow.u32"))?);
            for v in &a.field {
                f.write_all(&v.to_le_bytes())?;
            }
            f.flush()?;
            report.insert("inside".into(), (n as u64 - a.outside).into());
            report.insert("ties".into(), a.ties.into());
        }
    }
    report.insert("index_build_s".into(), build.into());
    report.insert("points".into(), n.into());
    report.insert("fields".into(), layout.fields.into());
    std::fs::write(dir.join("furrow.json"), serde_json::to_vec_pretty(&report)?)?;
    eprintln!("{}", serde_json::Value::Object(report));
    Ok(())
}
