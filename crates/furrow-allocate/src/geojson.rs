//! Fields from GeoJSON: a FeatureCollection of Polygon or MultiPolygon features with an `id` (the feature's
//! `id` member or an `id` property).

use serde_json::Value;

use crate::boundary::{ValidationReport, from_coordinates};
use crate::{Error, Field, Result};

/// A field read from GeoJSON, with what validation found in its raw coordinates (e.g. `RING_NOT_CLOSED`).
#[derive(Debug, Clone)]
pub struct GeoJsonField {
    /// The field.
    pub field: Field,
    /// Validation of the raw coordinates.
    pub report: ValidationReport,
}

fn coords(v: &Value, what: &str) -> Result<Vec<Vec<[f64; 2]>>> {
    let rings = v
        .as_array()
        .ok_or_else(|| Error::Points(format!("{what}: rings must be an array")))?;
    rings
        .iter()
        .enumerate()
        .map(|(ri, ring)| {
            ring.as_array()
                .ok_or_else(|| {
                    Error::Points(format!("{what} ring {ri}: must be an array of positions"))
                })?
                .iter()
                .enumerate()
                .map(|(vi, p)| {
                    let x = p.get(0).and_then(Value::as_f64);
                    let y = p.get(1).and_then(Value::as_f64);
                    match (x, y) {
                        (Some(x), Some(y)) => Ok([x, y]),
                        _ => Err(Error::Points(format!(
                            "{what} ring {ri} position {vi}: not [lon, lat]"
                        ))),
                    }
                })
                .collect()
        })
        .collect()
}

/// Parses a FeatureCollection (or a single Feature) of (Multi)Polygons; every feature needs an id.
pub fn fields_from_geojson(text: &str) -> Result<Vec<GeoJsonField>> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| Error::Points(format!("fields: not JSON: {e}")))?;
    let features: Vec<&Value> = match doc.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => doc
            .get("features")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::Points("fields: FeatureCollection without features".into()))?
            .iter()
            .collect(),
        Some("Feature") => vec![&doc],
        other => {
            return Err(Error::Points(format!(
                "fields: expected a FeatureCollection, found {other:?}"
            )));
        }
    };
    features
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let id = f
                .get("id")
                .or_else(|| f.get("properties").and_then(|p| p.get("id")))
                .and_then(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .ok_or_else(|| {
                    Error::Points(format!("feature {i}: no id (feature id or properties.id)"))
                })?;
            let what = format!("feature {i} ({id})");
            let geom = f
                .get("geometry")
                .ok_or_else(|| Error::Points(format!("{what}: no geometry")))?;
            let c = geom
                .get("coordinates")
                .ok_or_else(|| Error::Points(format!("{what}: no coordinates")))?;
            let polys: Vec<Vec<Vec<[f64; 2]>>> = match geom.get("type").and_then(Value::as_str) {
                Some("Polygon") => vec![coords(c, &what)?],
                Some("MultiPolygon") => c
                    .as_array()
                    .ok_or_else(|| Error::Points(format!("{what}: polygons must be an array")))?
                    .iter()
                    .map(|p| coords(p, &what))
                    .collect::<Result<_>>()?,
                other => {
                    return Err(Error::Points(format!(
                        "{what}: NOT_ALLOWED_GEOMETRY_TYPE {other:?}, expected (Multi)Polygon"
                    )));
                }
            };
            let (boundary, report) = from_coordinates(&polys);
            Ok(GeoJsonField {
                field: Field { id, boundary },
                report,
            })
        })
        .collect()
}

/// Reads a GeoJSON FeatureCollection of Points into a RecordBatch: `x`, `y` (Float64), then one column per
/// property: Float64 when every present value is a number, Utf8 otherwise (other values as JSON text).
pub fn points_from_geojson(text: &str) -> Result<arrow_array::RecordBatch> {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};

    let doc: Value =
        serde_json::from_str(text).map_err(|e| Error::Points(format!("points: not JSON: {e}")))?;
    let features = doc
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Points("points: expected a FeatureCollection".into()))?;
    let n = features.len();
    let (mut xs, mut ys) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut props: BTreeMap<String, Vec<Option<Value>>> = BTreeMap::new();
    for (i, f) in features.iter().enumerate() {
        let c = f.pointer("/geometry/coordinates").and_then(Value::as_array);
        let (x, y) = match (f.pointer("/geometry/type").and_then(Value::as_str), c) {
            (Some("Point"), Some(c)) => (
                c.first().and_then(Value::as_f64),
                c.get(1).and_then(Value::as_f64),
            ),
            _ => (None, None),
        };
        let (Some(x), Some(y)) = (x, y) else {
            return Err(Error::Points(format!(
                "points: feature {i} is not a Point with [lon, lat]"
            )));
        };
        xs.push(x);
        ys.push(y);
        if let Some(Value::Object(p)) = f.get("properties") {
            for (k, v) in p {
                let col = props.entry(k.clone()).or_insert_with(|| vec![None; i]);
                col.resize(i, None);
                col.push((!v.is_null()).then(|| v.clone()));
            }
        }
    }
    let mut columns: Vec<(String, ArrayRef)> = vec![
        ("x".into(), Arc::new(Float64Array::from(xs)) as ArrayRef),
        ("y".into(), Arc::new(Float64Array::from(ys)) as ArrayRef),
    ];
    for (name, mut vals) in props {
        if name == "x" || name == "y" {
            continue;
        }
        vals.resize(n, None);
        let numeric = vals.iter().flatten().all(Value::is_number);
        let array: ArrayRef = if numeric {
            Arc::new(Float64Array::from(
                vals.iter()
                    .map(|v| v.as_ref().and_then(Value::as_f64))
                    .collect::<Vec<_>>(),
            ))
        } else {
            Arc::new(StringArray::from(
                vals.iter()
                    .map(|v| {
                        v.as_ref().map(|v| {
                            v.as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| v.to_string())
                        })
                    })
                    .collect::<Vec<_>>(),
            ))
        };
        columns.push((name, array));
    }
    RecordBatch::try_from_iter(columns).map_err(|e| Error::Points(format!("points: {e}")))
}
