//! Reading standard points back from GeoParquet, a batch at a time, as the flat `x`/`y` layout the writers, the
//! allocator and the summaries take.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field as ArrowField, Schema};
use furrow_allocate::Swath;
use furrow_geoparquet::GeoParquetBatches;
use furrow_machine_data::{Property, Units};

use crate::error::{Error, Result};

/// Rows a batch read back holds.
pub(crate) const READ_BATCH_ROWS: usize = 64 * 1024;

/// Rewrites a batch read from a standard GeoParquet file (WKB or native geometry, `bbox` covering) as `x`/`y`
/// columns first, then the other columns in their order: the layout the conversion wrote, so GeoJSON written
/// from it is byte for byte what the conversion would have written.
pub(crate) fn to_xy(batch: &RecordBatch) -> Result<RecordBatch> {
    if batch.column_by_name("x").is_some() && batch.column_by_name("geometry").is_none() {
        return Ok(batch.clone());
    }
    let (xs, ys) = furrow_allocate::point_columns(batch)?;
    let schema = batch.schema();
    let mut fields = vec![
        ArrowField::new("x", DataType::Float64, false),
        ArrowField::new("y", DataType::Float64, false),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(xs)),
        Arc::new(Float64Array::from(ys)),
    ];
    for (i, f) in schema.fields().iter().enumerate() {
        if matches!(f.name().as_str(), "geometry" | "bbox" | "x" | "y") {
            continue;
        }
        fields.push(f.as_ref().clone());
        columns.push(batch.column(i).clone());
    }
    let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
    RecordBatch::try_new(Arc::new(schema), columns)
        .map_err(|e| Error::Data(format!("standard points: {e}")))
}

/// The standard points of a GeoParquet file as `x`/`y` batches, one at a time.
pub(crate) fn read_points(
    path: &Path,
) -> Result<impl Iterator<Item = Result<RecordBatch>> + use<>> {
    let batches = GeoParquetBatches::open(path, READ_BATCH_ROWS)?;
    Ok(batches.map(|b| b.map_err(Error::from).and_then(|b| to_xy(&b))))
}

pub(crate) fn f64_col<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a Float64Array> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
}

/// Swaths of a batch's rows where `keep` is true (rows without a swath are skipped); widths and distances
/// back in metres whatever the file's units. A swath is as wide as the sections that were on (the point's
/// area over its distance, else its equipment width: `Swath::of_point`), the width the file and operation
/// summaries use, so field coverage and their covered areas agree.
pub(crate) fn swaths(batch: &RecordBatch, keep: impl Fn(usize) -> bool, out: &mut Vec<Swath>) {
    let (Some(xs), Some(ys)) = (f64_col(batch, "x"), f64_col(batch, "y")) else {
        return;
    };
    let (h, w, d, a) = (
        f64_col(batch, "heading"),
        f64_col(batch, "equipmentWidth"),
        f64_col(batch, "distance"),
        f64_col(batch, "area"),
    );
    let units = Units::from_schema(&batch.schema());
    let metres = |p: Property, c: Option<&Float64Array>, row: usize| {
        c.filter(|c| c.is_valid(row))
            .map(|c| c.value(row) / units.factor(p).max(f64::MIN_POSITIVE))
    };
    for row in 0..batch.num_rows() {
        if !keep(row) {
            continue;
        }
        let Some(distance_m) = metres(Property::Distance, d, row) else {
            continue;
        };
        let swath = Swath::of_point(
            xs.value(row),
            ys.value(row),
            h.filter(|c| c.is_valid(row))
                .map_or(f64::NAN, |c| c.value(row)),
            metres(Property::EquipmentWidth, w, row).unwrap_or(f64::NAN),
            distance_m,
            metres(Property::Area, a, row),
        );
        out.extend(swath);
    }
}
