//! Swath polygons: the rectangle each point covers, from its width, distance and heading: the swath model
//! of `furrow_allocate::swath_lonlat`, the one every area furrow reports is computed with.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch};
use arrow_schema::{Schema, SchemaRef};
use geo_types::{Coord, LineString, Polygon};
use geoarrow_array::GeoArrowArray;
use geoarrow_array::builder::PolygonBuilder;
use geoarrow_array::capacity::PolygonCapacity;

use crate::error::{Error, Result};
use crate::parquet_io::{GEOMETRY_COLUMN, polygon_type};

/// The schema of [`swath_polygons`]' output for points with `schema`: the same columns plus a GeoArrow
/// polygon `geometry` column.
pub fn swath_schema(schema: &Schema) -> SchemaRef {
    let mut fields: Vec<_> = schema
        .fields()
        .iter()
        .filter(|f| f.name() != GEOMETRY_COLUMN)
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(polygon_type().to_field(GEOMETRY_COLUMN, true));
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn metres_factor(schema: &Schema, name: &str) -> f64 {
    match schema
        .field_with_name(name)
        .ok()
        .and_then(|f| f.metadata().get("unit"))
        .map(String::as_str)
    {
        Some("ft") => 0.3048,
        _ => 1.0,
    }
}

/// One counter-clockwise swath rectangle: from the point back along `heading` (degrees clockwise from
/// north) by `distance` metres, `width` metres across, centred on the travel line
/// (`furrow_allocate::swath_lonlat`: the local WGS 84 frame of the point).
pub fn swath_rectangle(x: f64, y: f64, width: f64, distance: f64, heading: f64) -> Polygon<f64> {
    let q = furrow_allocate::swath_lonlat(x, y, width, distance, heading);
    let mut ring: Vec<Coord<f64>> = q.iter().map(|&(x, y)| Coord { x, y }).collect();
    ring.push(ring[0]);
    Polygon::new(LineString::new(ring), vec![])
}

/// Adds each point's swath rectangle as a polygon `geometry` column (see [`swath_rectangle`]).
///
/// Reads `x`, `y`, `equipmentWidth`, `distance` and `heading` (metres, or feet when the column's `unit`
/// metadata says `ft`). A row without a positive width and distance or without a heading gets a null
/// geometry.
pub fn swath_polygons(batch: &RecordBatch) -> Result<RecordBatch> {
    let schema = batch.schema();
    let col = |name: &str| -> Result<&Float64Array> {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
            .ok_or_else(|| Error::Column {
                column: name.into(),
                message: "a Float64 column is needed for swath polygons".into(),
            })
    };
    let (xs, ys) = (col("x")?, col("y")?);
    let (ws, ds, hs) = (col("equipmentWidth")?, col("distance")?, col("heading")?);
    let wf = metres_factor(&schema, "equipmentWidth");
    let df = metres_factor(&schema, "distance");
    let n = batch.num_rows();
    let mut builder =
        PolygonBuilder::with_capacity(polygon_type(), PolygonCapacity::new(n * 5, n, n));
    for i in 0..n {
        let value = |a: &Float64Array| (!a.is_null(i)).then(|| a.value(i));
        let poly = match (value(xs), value(ys), value(ws), value(ds), value(hs)) {
            (Some(x), Some(y), Some(w), Some(d), Some(h))
                if w > 0.0 && d > 0.0 && w.is_finite() && d.is_finite() && h.is_finite() =>
            {
                Some(swath_rectangle(x, y, w * wf, d * df, h))
            }
            _ => None,
        };
        builder.push_polygon(poly.as_ref())?;
    }
    let polygons = builder.finish();
    let out = swath_schema(&schema);
    let mut columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(f, _)| f.name() != GEOMETRY_COLUMN)
        .map(|(_, c)| c.clone())
        .collect();
    columns.push(polygons.into_array_ref());
    Ok(RecordBatch::try_new(out, columns)?)
}
