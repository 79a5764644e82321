//! Writing standard files: GeoParquet or GeoJSON points, optional swath polygons, summary and units.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
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
    /// Also write each point's swath rectangle to `<stem>.polygons.parquet` (or `.polygons.geojson`).
    pub polygons: bool,
    /// Also write the filtered view (no point slower than the filter's minimum speed, no harvest
    /// outlier) to `<stem>.filtered.parquet` (or `.filtered.geojson`); its rows are
    /// [`Counts::filtered`](crate::Counts::filtered). Takes a second pass over the time logs.
    pub filtered: bool,
    /// GeoParquet options.
    pub geoparquet: GeoParquetOptions,
    /// Encode and write on the calling thread only. By default the points (and polygons) are encoded on
    /// a second thread while the next batch is converted, through a two-batch queue: the same CPU time,
    /// and the wall time of the slower half instead of both.
    pub single_thread: bool,
}

/// The files written for one or more plans.
#[derive(Debug, Clone)]
pub struct Written {
    /// The points file.
    pub points: PathBuf,
    /// The polygons file, when asked for.
    pub polygons: Option<PathBuf>,
    /// The filtered-view file, when asked for.
    pub filtered: Option<PathBuf>,
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

impl PointsSink {
    fn create(
        format: OutputFormat,
        path: &Path,
        schema: SchemaRef,
        wopts: &WriteOptions,
    ) -> Result<Self> {
        let file = File::create(path).map(BufWriter::new).map_err(io(path))?;
        Ok(match format {
            OutputFormat::GeoParquet => PointsSink::Parquet(Box::new(
                GeoParquetWriter::try_new(file, schema, &wopts.geoparquet)
                    .map_err(|e| out_err(path, e))?,
            )),
            OutputFormat::GeoJson => PointsSink::Json(
                GeoJsonWriter::try_new(file, schema).map_err(|e| out_err(path, e))?,
            ),
        })
    }

    fn write(&mut self, path: &Path, batch: &RecordBatch) -> Result<()> {
        match self {
            PointsSink::Parquet(w) => w.write(batch).map_err(|e| out_err(path, e)),
            PointsSink::Json(w) => w.write(batch).map_err(|e| out_err(path, e)),
        }
    }

    fn finish(self, path: &Path) -> Result<()> {
        match self {
            PointsSink::Parquet(w) => w.finish().map(|_| ()).map_err(|e| out_err(path, e)),
            PointsSink::Json(w) => w.finish().map(|_| ()).map_err(|e| out_err(path, e)),
        }
    }
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
    // A batch a row group: the GeoParquet writer then compresses each column chunk straight from the
    // batch's buffer, with no copy into one buffer first (the conversion reads and settles rows 2,048 at
    // a time whatever the batch size, so they stay in the CPU cache). Files are the same with any
    // batch size, since the Parquet writer cuts its row groups by its own limit.
    let batch_rows = opts.batch_rows.min(wopts.geoparquet.row_group_rows).max(1);
    let opts = &ConvertOptions {
        batch_rows,
        ..opts.clone()
    };
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
    let ext = wopts.format.extension();
    let mut sink = PointsSink::create(wopts.format, points, schema.clone(), wopts)?;
    let polygons_path = wopts.polygons.then(|| side(&format!("polygons.{ext}")));
    let mut poly_sink = match &polygons_path {
        Some(p) => Some(PointsSink::create(
            wopts.format,
            p,
            swath_schema(&schema),
            wopts,
        )?),
        None => None,
    };
    let mut outcomes = Vec::new();
    let mut views = Vec::new();
    let mut write = |batch: &RecordBatch| -> Result<()> {
        sink.write(points, batch)?;
        if let (Some(w), Some(p)) = (poly_sink.as_mut(), polygons_path.as_deref()) {
            let polys = swath_polygons(batch).map_err(|e| out_err(p, e))?;
            w.write(p, &polys)?;
        }
        Ok(())
    };
    let mut convert = |write: &mut dyn FnMut(RecordBatch) -> Result<()>| -> Result<()> {
        let mut done = 0u64;
        for plan in plans {
            let mut stream = StandardStream::new(td, plan, opts)?;
            while let Some(batch) = stream.next() {
                write(batch?)?;
                progress(done + stream.bytes_read());
            }
            done += plan.bytes;
            views.push(stream.filter_view());
            outcomes.push(stream.finish());
        }
        Ok(())
    };
    if wopts.single_thread {
        convert(&mut |batch| write(&batch))?;
    } else {
        std::thread::scope(|scope| -> Result<()> {
            // The GeoParquet writer encodes a row group at a time: a queue that holds one lets the
            // conversion run on while a row group is compressed (at most 16 batches).
            let queue = (wopts.geoparquet.row_group_rows / batch_rows + 1).clamp(2, 16);
            let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(queue);
            let encoder = scope.spawn(move || -> Result<()> {
                for batch in rx {
                    write(&batch)?;
                }
                Ok(())
            });
            // a send fails only when the encoder stopped on an error, which `join` then reports
            let converted = convert(&mut |batch| {
                tx.send(batch)
                    .map_err(|_| out_err(points, "the encoding thread stopped"))
            });
            drop(tx);
            let encoded = encoder
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            encoded.and(converted)
        })?;
    }
    sink.finish(points)?;
    if let (Some(w), Some(p)) = (poly_sink, polygons_path.as_deref()) {
        w.finish(p)?;
    }
    // The filtered view needs the whole file's harvest statistics: a second pass.
    let filtered_path = wopts.filtered.then(|| side(&format!("filtered.{ext}")));
    if let Some(path) = filtered_path.as_deref() {
        let mut sink = PointsSink::create(wopts.format, path, schema.clone(), wopts)?;
        for (plan, view) in plans.iter().zip(views) {
            let mut stream = StandardStream::new(td, plan, opts)?.only_filtered(view);
            for batch in stream.by_ref() {
                sink.write(path, &batch?)?;
            }
        }
        sink.finish(path)?;
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
        filtered: filtered_path,
        summary,
        units,
        outcomes,
    })
}
