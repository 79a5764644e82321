//! Writing standard files: GeoParquet or GeoJSON points, optional swath polygons, summary and units.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use furrow_geoparquet::{
    GeoJsonWriter, GeoParquetOptions, GeoParquetWriter, swath_polygons, swath_schema,
};
use furrow_isoxml::TaskData;

use crate::convert::{ConvertOptions, FileOutcome, FilePlan, StandardStream};
use crate::error::{Error, Result};

/// Output format of the points.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// GeoParquet 1.1 (`.parquet`).
    #[default]
    GeoParquet,
    /// RFC 7946 GeoJSON (`.geojson`).
    GeoJson,
}

impl OutputFormat {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::GeoParquet => "parquet",
            OutputFormat::GeoJson => "geojson",
        }
    }
}

/// What to write besides the points.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Points format.
    pub format: OutputFormat,
    /// Also write each point's swath rectangle to `<stem>.polygons.parquet` (GeoParquet only).
    pub polygons: bool,
    /// GeoParquet options.
    pub geoparquet: GeoParquetOptions,
}

/// The files written for one or more plans.
#[derive(Debug, Clone)]
pub struct Written {
    /// The points file.
    pub points: PathBuf,
    /// The polygons file, when asked for.
    pub polygons: Option<PathBuf>,
    /// `<stem>.summary.json`.
    pub summary: PathBuf,
    /// `<stem>.units.json`.
    pub units: PathBuf,
    /// One outcome per plan written into the file.
    pub outcomes: Vec<FileOutcome>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Output {
        path: path.to_path_buf(),
        message: source.to_string(),
    }
}

fn out_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

enum PointsSink {
    Parquet(Box<GeoParquetWriter<BufWriter<File>>>),
    Json(GeoJsonWriter<BufWriter<File>>),
}

/// Writes the points of `plans` (which must share one operation type and units) into `points`, with
/// the summary and units as JSON beside it; `progress` gets the time-log bytes read so far.
pub fn write_plans(
    td: &TaskData,
    plans: &[&FilePlan],
    opts: &ConvertOptions,
    points: &Path,
    wopts: &WriteOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<Written> {
    let first = plans
        .first()
        .ok_or_else(|| out_err(points, "nothing to write"))?;
    if plans
        .iter()
        .any(|p| p.operation_type != first.operation_type || p.units != first.units)
    {
        return Err(out_err(
            points,
            "the input holds several operation types: write to a folder instead",
        ));
    }
    let schema = first.schema();
    let stem = points.with_extension("");
    let side = |suffix: &str| PathBuf::from(format!("{}.{suffix}", stem.display()));
    let create = |p: &Path| File::create(p).map(BufWriter::new).map_err(io(p));
    let mut sink = match wopts.format {
        OutputFormat::GeoParquet => PointsSink::Parquet(Box::new(
            GeoParquetWriter::try_new(create(points)?, schema.clone(), &wopts.geoparquet)
                .map_err(|e| out_err(points, e))?,
        )),
        OutputFormat::GeoJson => PointsSink::Json(
            GeoJsonWriter::try_new(create(points)?, schema.clone())
                .map_err(|e| out_err(points, e))?,
        ),
    };
    let polygons_path = (wopts.polygons && wopts.format == OutputFormat::GeoParquet)
        .then(|| side("polygons.parquet"));
    let mut poly_sink = match &polygons_path {
        Some(p) => Some(
            GeoParquetWriter::try_new(create(p)?, swath_schema(&schema), &wopts.geoparquet)
                .map_err(|e| out_err(p, e))?,
        ),
        None => None,
    };
    let mut outcomes = Vec::new();
    let mut done = 0u64;
    for plan in plans {
        let mut stream = StandardStream::new(td, plan, opts)?;
        while let Some(batch) = stream.next() {
            let batch = batch?;
            match &mut sink {
                PointsSink::Parquet(w) => w.write(&batch).map_err(|e| out_err(points, e))?,
                PointsSink::Json(w) => w.write(&batch).map_err(|e| out_err(points, e))?,
            }
            if let (Some(w), Some(p)) = (poly_sink.as_mut(), polygons_path.as_deref()) {
                let polys = swath_polygons(&batch).map_err(|e| out_err(p, e))?;
                w.write(&polys).map_err(|e| out_err(p, e))?;
            }
            progress(done + stream.bytes_read());
        }
        done += plan.bytes;
        outcomes.push(stream.finish());
    }
    match sink {
        PointsSink::Parquet(w) => {
            w.finish().map_err(|e| out_err(points, e))?;
        }
        PointsSink::Json(w) => {
            w.finish().map_err(|e| out_err(points, e))?;
        }
    }
    if let (Some(w), Some(p)) = (poly_sink, polygons_path.as_deref()) {
        w.finish().map_err(|e| out_err(p, e))?;
    }
    let summary = side("summary.json");
    let units = side("units.json");
    let summary_doc = match outcomes.as_slice() {
        [one] => one.summary.clone(),
        many => serde_json::Value::Array(many.iter().map(|o| o.summary.clone()).collect()),
    };
    let write_json = |p: &Path, v: &serde_json::Value| -> Result<()> {
        let text = serde_json::to_string_pretty(v).map_err(|e| out_err(p, e))?;
        std::fs::write(p, text).map_err(io(p))
    };
    write_json(&summary, &summary_doc)?;
    write_json(
        &units,
        &outcomes
            .first()
            .map(|o| o.units.clone())
            .unwrap_or_default(),
    )?;
    Ok(Written {
        points: points.to_path_buf(),
        polygons: polygons_path,
        summary,
        units,
        outcomes,
    })
}
