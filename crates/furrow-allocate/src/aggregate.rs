//! Per-field aggregates of every numeric property: counts, area-weighted averages, min, max and totals, overall and
//! by crop, variety and product where those columns exist.

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type, UInt32Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use serde::Serialize;

use crate::{Allocation, Error, FieldIndex, Result};

/// Columns never aggregated (positions and identifiers).
const SKIP: &[&str] = &[
    "x",
    "y",
    "longitude",
    "latitude",
    "lon",
    "lat",
    "geometry",
    "timestamp",
    "sectionId",
];
/// String columns that split the aggregates.
const GROUP_BY: &[&str] = &["crop", "variety", "product", "products"];

/// Statistics of one property.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Points with a value.
    pub count: u64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Plain sum of the values (meaningful for extensive properties: area, distance, masses).
    pub sum: f64,
    /// Average weighted by each point's `area` when the batch has one, else the plain mean.
    pub average: f64,
    /// Σ value × area (the total applied or harvested for per-area rates), when the batch has `area`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
}

/// Aggregates of a set of points.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Aggregate {
    /// Points in the set.
    pub points: u64,
    /// Per numeric property.
    pub properties: BTreeMap<String, Stats>,
}

/// Aggregates of one field, overall and by group (`crop=corn`, `variety=P1197`, …).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldAggregate {
    /// The field id.
    pub field_id: String,
    /// All the field's points.
    #[serde(flatten)]
    pub all: Aggregate,
    /// Per value of crop, variety and product columns.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, Aggregate>,
}

#[derive(Debug, Clone)]
struct Acc {
    count: u64,
    min: f64,
    max: f64,
    sum: f64,
    wsum: f64,
    w: f64,
}

impl Acc {
    fn new() -> Self {
        Self {
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
            wsum: 0.0,
            w: 0.0,
        }
    }
    fn add(&mut self, v: f64, w: f64) {
        self.count += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += v;
        self.wsum += v * w;
        self.w += w;
    }
    fn stats(&self, weighted: bool) -> Stats {
        Stats {
            count: self.count,
            min: self.min,
            max: self.max,
            sum: self.sum,
            average: if weighted && self.w > 0.0 {
                self.wsum / self.w
            } else {
                self.sum / self.count.max(1) as f64
            },
            total: weighted.then_some(self.wsum),
        }
    }
}

fn numeric(batch: &RecordBatch, i: usize) -> Option<Vec<Option<f64>>> {
    let col = batch.column(i);
    let vals: Vec<Option<f64>> = match col.data_type() {
        DataType::Float64 => col.as_primitive::<Float64Type>().iter().collect(),
        DataType::Float32 => col
            .as_primitive::<Float32Type>()
            .iter()
            .map(|v| v.map(f64::from))
            .collect(),
        DataType::Int64 => col
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| v as f64))
            .collect(),
        DataType::Int32 => col
            .as_primitive::<Int32Type>()
            .iter()
            .map(|v| v.map(f64::from))
            .collect(),
        DataType::UInt32 => col
            .as_primitive::<UInt32Type>()
            .iter()
            .map(|v| v.map(f64::from))
            .collect(),
        _ => return None,
    };
    Some(
        vals.into_iter()
            .map(|v| v.filter(|v| v.is_finite()))
            .collect(),
    )
}

fn strings(batch: &RecordBatch, name: &str) -> Option<Vec<Option<String>>> {
    let col = batch.column_by_name(name)?;
    match col.data_type() {
        DataType::Utf8 => Some(
            col.as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_owned))
                .collect(),
        ),
        DataType::LargeUtf8 => Some(
            col.as_string::<i64>()
                .iter()
                .map(|v| v.map(str::to_owned))
                .collect(),
        ),
        DataType::Utf8View => Some(
            col.as_string_view()
                .iter()
                .map(|v| v.map(str::to_owned))
                .collect(),
        ),
        _ => None,
    }
}

/// Aggregates every numeric column of `batch` per field of `allocation` (points outside every field are left
/// out). `area` (m² per point), when present, weights the averages and gives totals.
pub fn aggregate(
    index: &FieldIndex,
    batch: &RecordBatch,
    allocation: &Allocation,
) -> Result<Vec<FieldAggregate>> {
    if batch.num_rows() != allocation.field.len() {
        return Err(Error::Points(format!(
            "{} rows but an allocation of {} points",
            batch.num_rows(),
            allocation.field.len()
        )));
    }
    let schema = batch.schema();
    let cols: Vec<(String, Vec<Option<f64>>)> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| !SKIP.contains(&f.name().as_str()))
        .filter_map(|(i, f)| numeric(batch, i).map(|v| (f.name().clone(), v)))
        .collect();
    let area = cols
        .iter()
        .find(|(n, _)| n == "area")
        .map(|(_, v)| v.clone());
    let weighted = area.is_some();
    let groupers: Vec<(&str, Vec<Option<String>>)> = GROUP_BY
        .iter()
        .filter_map(|g| strings(batch, g).map(|v| (*g, v)))
        .collect();

    let n_fields = index.len();
    let mut all: Vec<Vec<Acc>> = vec![vec![Acc::new(); cols.len()]; n_fields];
    let mut points = vec![0u64; n_fields];
    let mut groups: Vec<BTreeMap<String, (u64, Vec<Acc>)>> = vec![BTreeMap::new(); n_fields];
    for (row, &f) in allocation.field.iter().enumerate() {
        let Some(accs) = all.get_mut(f as usize) else {
            continue;
        };
        points[f as usize] += 1;
        let w = area
            .as_ref()
            .and_then(|a| a[row])
            .filter(|w| *w > 0.0)
            .unwrap_or(if weighted { 0.0 } else { 1.0 });
        for (acc, (_, vals)) in accs.iter_mut().zip(&cols) {
            if let Some(v) = vals[row] {
                acc.add(v, w);
            }
        }
        for (name, vals) in &groupers {
            let Some(value) = &vals[row] else { continue };
            let entry = groups[f as usize]
                .entry(format!("{name}={value}"))
                .or_insert_with(|| (0, vec![Acc::new(); cols.len()]));
            entry.0 += 1;
            for (acc, (_, vals)) in entry.1.iter_mut().zip(&cols) {
                if let Some(v) = vals[row] {
                    acc.add(v, w);
                }
            }
        }
    }
    let to_agg = |n: u64, accs: &[Acc]| Aggregate {
        points: n,
        properties: cols
            .iter()
            .zip(accs)
            .filter(|(_, a)| a.count > 0)
            .map(|((name, _), a)| (name.clone(), a.stats(weighted)))
            .collect(),
    };
    Ok((0..n_fields)
        .filter(|&f| points[f] > 0)
        .map(|f| FieldAggregate {
            field_id: index.ids[f].clone(),
            all: to_agg(points[f], &all[f]),
            groups: groups[f]
                .iter()
                .map(|(k, (n, accs))| (k.clone(), to_agg(*n, accs)))
                .collect(),
        })
        .collect())
}
