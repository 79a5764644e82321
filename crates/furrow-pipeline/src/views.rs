//! GeoJSON views, written on request from the stored GeoParquet a batch at a time (GeoParquet is the only
//! converted form furrow stores): the points themselves, their swath polygons, and the points outside every
//! field.

use std::io::Write;
use std::path::Path;

use arrow_array::{BooleanArray, RecordBatch};
use arrow_schema::SchemaRef;
use furrow_allocate::FieldIndex;
use furrow_geoparquet::{GeoJsonWriter, GeoParquetOptions, GeoParquetWriter};

use crate::error::{Error, Result};
use crate::operation::Encoding;
use crate::points::read_points;

/// Which GeoJSON to write from a standard-points GeoParquet file.
#[derive(Debug, Clone, Copy)]
pub enum View<'a> {
    /// Every point (a file's or an operation's standard points, an operation's filtered points).
    Points,
    /// Each point's swath rectangle as a Polygon feature (points without width, distance or heading have a
    /// null geometry).
    Polygons,
    /// The points outside every field of the index.
    Outside(&'a FieldIndex),
}

fn outside(batch: &RecordBatch, index: &FieldIndex) -> Result<RecordBatch> {
    let a = furrow_allocate::allocate(index, batch)?;
    let mask = BooleanArray::from(
        a.field
            .iter()
            .map(|&f| f == furrow_allocate::OUTSIDE)
            .collect::<Vec<_>>(),
    );
    arrow_select::filter::filter_record_batch(batch, &mask)
        .map_err(|e| Error::Data(format!("outside points: {e}")))
}

enum Sink<W: Write + Send> {
    Parquet(Box<GeoParquetWriter<W>>),
    Json(GeoJsonWriter<W>),
}

impl<W: Write + Send> Sink<W> {
    fn new(encoding: Encoding, out: W, schema: SchemaRef) -> Result<Self> {
        Ok(match encoding {
            Encoding::GeoParquet => Sink::Parquet(Box::new(GeoParquetWriter::try_new(
                out,
                schema,
                &GeoParquetOptions::default(),
            )?)),
            Encoding::GeoJson => Sink::Json(GeoJsonWriter::try_new(out, schema)?),
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match self {
            Sink::Parquet(w) => w.write(batch)?,
            Sink::Json(w) => w.write(batch)?,
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::Parquet(w) => {
                w.finish()?;
            }
            Sink::Json(w) => {
                w.finish()?;
            }
        }
        Ok(())
    }
}

/// Writes `view` of the points in `parquet` to `out` as one GeoJSON FeatureCollection; returns the number of
/// features. Memory stays at one batch whatever the file's size.
pub fn write_geojson(parquet: &Path, view: View<'_>, out: impl Write + Send) -> Result<u64> {
    write_view(parquet, view, Encoding::GeoJson, out)
}

/// Writes `view` of the points in `parquet` to `out` in `encoding`; returns the number of features.
pub fn write_view(
    parquet: &Path,
    view: View<'_>,
    encoding: Encoding,
    out: impl Write + Send,
) -> Result<u64> {
    let empty_schema = || -> Result<SchemaRef> {
        let schema = furrow_geoparquet::GeoParquetBatches::open(parquet, 1)?.schema();
        let schema = crate::points::to_xy(&RecordBatch::new_empty(schema))?.schema();
        Ok(match view {
            View::Polygons => {
                furrow_geoparquet::swath_polygons(&RecordBatch::new_empty(schema))?.schema()
            }
            _ => schema,
        })
    };
    let mut out = Some(out);
    let mut sink = None;
    let mut n = 0u64;
    for batch in read_points(parquet)? {
        let batch = batch?;
        let batch = match view {
            View::Points => batch,
            View::Polygons => furrow_geoparquet::swath_polygons(&batch)?,
            View::Outside(index) => outside(&batch, index)?,
        };
        if sink.is_none() {
            let o = out
                .take()
                .ok_or_else(|| Error::Data("output used twice".into()))?;
            sink = Some(Sink::new(encoding, o, batch.schema())?);
        }
        n += batch.num_rows() as u64;
        if let Some(s) = sink.as_mut() {
            s.write(&batch)?;
        }
    }
    match (sink, out) {
        (Some(s), _) => s.finish()?,
        (None, Some(o)) => Sink::new(encoding, o, empty_schema()?)?.finish()?,
        (None, None) => {}
    }
    Ok(n)
}
