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
