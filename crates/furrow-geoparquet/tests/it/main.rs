//! Integration tests of furrow-geoparquet.

mod metadata;
mod roundtrip;

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, ListBuilder, MapBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// A points schema with the column types the standard schema uses.
pub(crate) fn schema() -> SchemaRef {
    let probe = sample(1, 0);
    probe.schema()
}

/// `n` points of a field pass, with every column type the standard schema uses (and nulls).
pub(crate) fn sample(n: usize, seed: usize) -> RecordBatch {
    let x: Vec<f64> = (0..n).map(|i| -93.5 + (i + seed) as f64 * 1e-5).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| 41.6 + ((i * 7 + seed) % 100) as f64 * 1e-5)
        .collect();
    let ts: Vec<Option<i64>> = (0..n)
        .map(|i| (i % 5 != 0).then_some(1_617_980_044_969 + i as i64 * 1000))
        .collect();
    let local: Vec<i64> = (0..n)
        .map(|i| 1_617_980_044_969 + i as i64 * 1000 + 7_200_000)
        .collect();
    let rate: Vec<Option<f64>> = (0..n)
        .map(|i| (i % 3 != 0).then_some(0.1 + i as f64 / 3.0))
        .collect();
    let status =
        StringArray::from_iter_values((0..n).map(|i| if i % 4 == 0 { "Off" } else { "On" }));
    let width = Float64Array::from(vec![12.0; n]);
    let distance = Float64Array::from((0..n).map(|i| 1.0 + (i % 3) as f64).collect::<Vec<_>>());
    let heading = Float64Array::from((0..n).map(|i| (i * 37 % 360) as f64).collect::<Vec<_>>());
    let mut machinery = ListBuilder::new(StringBuilder::new());
    let mut extra = MapBuilder::new(None, StringBuilder::new(), Float64Builder::new());
    for i in 0..n {
        machinery.values().append_value("Combine \"X\" ü");
        machinery.append(i % 7 != 0);
        if i % 2 == 0 {
            extra.keys().append_value("E123/DET-1");
            extra.values().append_value(i as f64 * 0.5);
        }
        extra.append(true).unwrap();
    }
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("x", Arc::new(Float64Array::from(x))),
        ("y", Arc::new(Float64Array::from(y))),
        (
            "timestamp",
            Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")),
        ),
        (
            "localTime",
            Arc::new(TimestampMillisecondArray::from(local)),
        ),
        (
            "operationType",
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                "harvested",
                n,
            ))),
        ),
        ("wetMass", Arc::new(Float64Array::from(rate))),
        ("recordingStatus", Arc::new(status)),
        (
            "sectionId",
            Arc::new(Int32Array::from(
                (0..n)
                    .map(|i| (i % 2 == 0).then_some(i as i32))
                    .collect::<Vec<_>>(),
            )),
        ),
        ("equipmentWidth", Arc::new(width)),
        ("distance", Arc::new(distance)),
        ("heading", Arc::new(heading)),
        ("machinery", Arc::new(machinery.finish())),
        ("extra", Arc::new(extra.finish())),
    ];
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, a)| {
            let nullable = !matches!(*name, "x" | "y" | "operationType");
            Field::new(*name, a.data_type().clone(), nullable)
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    RecordBatch::try_new(schema, columns.into_iter().map(|(_, a)| a).collect()).unwrap()
}

#[test]
fn sample_has_the_types_it_claims() {
    let s = schema();
    assert_eq!(
        s.field_with_name("timestamp").unwrap().data_type(),
        &DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
    );
    assert_eq!(sample(10, 0).num_rows(), 10);
}
