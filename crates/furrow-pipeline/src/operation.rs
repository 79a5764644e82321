//! Allocation of a file's points to field boundaries, and field operations built from their files.
//!
//! An operation stores only what is small (summary, units, coverage, the filtered view's limits): its points
//! are its files' standard points inside its field, written on request ([`write_operation`]) as GeoParquet or
//! GeoJSON, so an operation never stores a second copy of its files.

use std::io::Write;
use std::path::PathBuf;

use arrow_array::{Array, BooleanArray, RecordBatch};
use arrow_schema::SchemaRef;
use furrow_allocate::{CoverageOptions, Field, FieldIndex, FieldTouch, FileFacts, Swath};
use furrow_geoparquet::{GeoJsonWriter, GeoParquetOptions, GeoParquetWriter};
use furrow_machine_data::{Counts, Machine, OperationType, Property, SummaryBuilder, Units};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::points::{f64_col, read_points, swaths};

/// Points slower than this are not in the filtered view (m/s).
const MIN_SPEED_MS: f64 = 0.5;

/// What allocating a file's points found.
#[derive(Debug, Clone, Default)]
pub struct Allocated {
    /// Per field touched: the area covered inside it.
    pub touches: Vec<FieldTouch>,
    /// Points outside every field.
    pub outside: u64,
}

/// Allocates a file's standard points to `fields`: per field, the area its swaths cover inside it, and how
/// many points fall outside every field.
pub fn allocate_file(fields: Vec<Field>, parquet: &std::path::Path) -> Result<Allocated> {
    let index = FieldIndex::build(fields)?;
    let mut per_field: Vec<Vec<Swath>> = vec![Vec::new(); index.len()];
    let mut outside = 0u64;
    for batch in read_points(parquet)? {
        let batch = batch?;
        let a = furrow_allocate::allocate(&index, &batch)?;
        for (f, swaths_of) in per_field.iter_mut().enumerate() {
            if a.counts.get(f).copied().unwrap_or(0) > 0 {
                swaths(&batch, |row| a.field[row] as usize == f, swaths_of);
            }
        }
        outside += a.outside;
    }
    let mut touches = Vec::new();
    for (f, s) in per_field.into_iter().enumerate() {
        if s.is_empty() {
            continue;
        }
        let Some(c) =
            furrow_allocate::field_coverage(&index, f as u32, s, CoverageOptions::default())
        else {
            continue;
        };
        touches.push(FieldTouch {
            field_id: index.id(f as u32).unwrap_or_default().to_owned(),
            intersection_m2: c.covered_m2,
            field_area_m2: c.field_area_m2,
        });
    }
    Ok(Allocated { touches, outside })
}

/// m² from a summary `{value, unit}` area.
fn area_m2(v: Option<&Value>) -> f64 {
    let Some(v) = v else { return 0.0 };
    let value = v.get("value").and_then(Value::as_f64).unwrap_or(0.0);
    match v.get("unit").and_then(Value::as_str) {
        Some("ha") => value * 10_000.0,
        Some("ac") => value * 4_046.856_422_4,
        _ => value,
    }
}

fn first_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// What the operation grouping knows of a converted, allocated file.
#[derive(Debug, Clone)]
pub struct FileDescription<'a> {
    /// The file id.
    pub file_id: &'a str,
    /// Leaf provider name.
    pub provider: &'a str,
    /// Operation type.
    pub operation_type: &'a str,
    /// The file's summary.
    pub summary: Option<&'a Value>,
    /// First and last point (µs).
    pub start: i64,
    /// Last point (µs).
    pub end: i64,
}

/// The grouping's facts of a file.
pub fn file_facts(file: &FileDescription<'_>, allocated: Allocated) -> FileFacts {
    let props = file.summary.and_then(|s| s.get("properties"));
    FileFacts {
        file_id: file.file_id.to_owned(),
        provider: file.provider.to_owned(),
        operation_type: file.operation_type.to_owned(),
        crop: first_text(props.and_then(|p| p.get("crop"))),
        till_type: first_text(props.and_then(|p| p.get("tillType"))),
        start: file.start,
        end: file.end,
        covered_m2: area_m2(props.and_then(|p| p.get("coveredArea"))),
        fields: allocated.touches,
    }
}

/// An operation to build: its files' standard points and its field.
#[derive(Debug, Clone)]
pub struct OperationInput {
    /// The standard GeoParquet of each file (local copies).
    pub files: Vec<PathBuf>,
    /// The operation's field, when it has one: only points inside it belong to the operation.
    pub field: Option<Field>,
    /// Operation type.
    pub operation_type: OperationType,
    /// The source's name of the operation.
    pub original_operation_type: String,
    /// Crops of its files.
    pub crops: Vec<String>,
    /// Machines of its files.
    pub machinery: Vec<Machine>,
    /// `operationsRemoveOutliers`.
    pub remove_outliers: bool,
    /// `operationsOutliersLimit` (standard deviations).
    pub outliers_limit: f64,
}

impl OperationInput {
    /// The input of an operation of `operation_type` from its files (a local copy of each standard GeoParquet
    /// with the file's summary) and its field, with the user's settings.
    pub fn new(
        operation_type: &str,
        files: Vec<(PathBuf, Option<Value>)>,
        field: Option<Field>,
        settings: &crate::Settings,
    ) -> OperationInput {
        let props = |s: &Option<Value>| s.as_ref().and_then(|s| s.get("properties")).cloned();
        let summaries: Vec<Value> = files.iter().filter_map(|(_, s)| props(s)).collect();
        let mut crops: Vec<String> = Vec::new();
        let mut machinery: Vec<Machine> = Vec::new();
        for p in &summaries {
            for c in p
                .get("crop")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !crops.iter().any(|x| x == c) {
                    crops.push(c.to_owned());
                }
            }
            let list: Vec<Machine> = p
                .get("machinery")
                .cloned()
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            for m in list {
                if !machinery.contains(&m) {
                    machinery.push(m);
                }
            }
        }
        let original_operation_type = summaries
            .iter()
            .find_map(|p| p.get("originalOperationType")?.as_str().map(str::to_owned))
            .unwrap_or_default();
        OperationInput {
            files: files.into_iter().map(|(p, _)| p).collect(),
            field,
            operation_type: operation_type.parse().unwrap_or(OperationType::Other),
            original_operation_type,
            crops,
            machinery,
            remove_outliers: settings.remove_outliers,
            outliers_limit: settings.outliers_limit,
        }
    }
}

/// The limits of an operation's filtered view: speed, and for harvests the outlier band of one column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLimits {
    /// Slowest speed kept, m/s.
    pub min_speed_ms: f64,
    /// The harvest column tested for outliers, with its mean and the half-width of the kept band.
    pub outliers: Option<(String, f64, f64)>,
}

/// What an operation build gives.
#[derive(Debug, Clone)]
pub struct Built {
    /// Covered area inside the field / field area (Leaf's `fields[].coverage`).
    pub coverage: Option<f64>,
    /// Summary of the operation's standard points.
    pub summary: Value,
    /// Property → unit.
    pub units: Value,
    /// The filtered view's limits.
    pub filter: FilterLimits,
    /// Standard points.
    pub points: u64,
}

/// Streams the operation's standard points (its files' points inside its field), a batch at a time.
pub(crate) struct OperationPoints<'a> {
    input: &'a OperationInput,
    index: Option<FieldIndex>,
    schema: Option<SchemaRef>,
}

impl<'a> OperationPoints<'a> {
    pub(crate) fn new(input: &'a OperationInput) -> Result<Self> {
        let index = match &input.field {
            Some(f) => Some(FieldIndex::build([f.clone()])?),
            None => None,
        };
        Ok(Self {
            input,
            index,
            schema: None,
        })
    }

    /// Calls `each` with every non-empty batch of points inside the field.
    pub(crate) fn for_each(
        &mut self,
        mut each: impl FnMut(&RecordBatch) -> Result<()>,
    ) -> Result<()> {
        for path in &self.input.files {
            for batch in read_points(path)? {
                let batch = batch?;
                let batch = match &self.schema {
                    None => {
                        self.schema = Some(batch.schema());
                        batch
                    }
                    Some(s) => RecordBatch::try_new(s.clone(), batch.columns().to_vec()).map_err(
                        |_| {
                            Error::Data(
                                "the files of this operation have different columns (converted with \
                                 different settings: reprocess the operation)"
                                    .into(),
                            )
                        },
                    )?,
                };
                let batch = match &self.index {
                    Some(index) => {
                        let a = furrow_allocate::allocate(index, &batch)?;
                        let mask =
                            BooleanArray::from(a.field.iter().map(|&f| f == 0).collect::<Vec<_>>());
                        arrow_select::filter::filter_record_batch(&batch, &mask)
                            .map_err(|e| Error::Data(e.to_string()))?
                    }
                    None => batch,
                };
                if batch.num_rows() > 0 {
                    each(&batch)?;
                }
            }
        }
        Ok(())
    }
}

/// Which rows of a batch the filtered view keeps.
pub(crate) fn filter_mask(batch: &RecordBatch, limits: &FilterLimits) -> Vec<bool> {
    let units = Units::from_schema(&batch.schema());
    let speed_factor = units.factor(Property::Speed).max(f64::MIN_POSITIVE);
    let speed = f64_col(batch, "speed");
    let band = limits
        .outliers
        .as_ref()
        .and_then(|(name, mean, half)| f64_col(batch, name).map(|c| (c, *mean, *half)));
    (0..batch.num_rows())
        .map(|row| {
            let fast = speed
                .filter(|c| c.is_valid(row))
                .is_none_or(|c| c.value(row) / speed_factor >= limits.min_speed_ms);
            let inside = band.is_none_or(|(c, mean, half)| {
                !c.is_valid(row) || (c.value(row) - mean).abs() <= half
            });
            fast && inside
        })
        .collect()
}

/// Builds an operation: its summary (of the points inside its field), coverage of the field, and the
/// filtered view's limits; nothing large is written.
pub fn build_operation(input: &OperationInput) -> Result<Built> {
    let mut points = OperationPoints::new(input)?;
    let mut summary: Option<SummaryBuilder> = None;
    let mut field_swaths = Vec::new();
    let mut rows = 0u64;
    let mut slow = 0u64;
    // Harvest volume (else mass) statistics of the rows fast enough, for the outlier band.
    let mut stats: Option<(String, f64, f64, f64)> = None;
    let harvest = input.operation_type == OperationType::Harvested && input.remove_outliers;
    let speed_only = FilterLimits {
        min_speed_ms: MIN_SPEED_MS,
        outliers: None,
    };
    points.for_each(|batch| {
        let s = summary.get_or_insert_with(|| {
            let mut s = SummaryBuilder::new(
                input.operation_type,
                &input.original_operation_type,
                Units::from_schema(&batch.schema()),
            );
            s.set_context(
                input.crops.clone(),
                Vec::new(),
                Vec::new(),
                input.machinery.clone(),
            );
            s
        });
        s.add_batch(batch);
        if input.field.is_some() {
            swaths(batch, |_| true, &mut field_swaths);
        }
        rows += batch.num_rows() as u64;
        let keep = filter_mask(batch, &speed_only);
        slow += keep.iter().filter(|k| !**k).count() as u64;
        if harvest {
            let name = stats.as_ref().map(|s| s.0.clone()).or_else(|| {
                ["wetVolume", "wetMass"]
                    .into_iter()
                    .find(|n| f64_col(batch, n).is_some_and(|c| c.null_count() < c.len()))
                    .map(str::to_owned)
            });
            if let Some(name) = name {
                if let Some(c) = f64_col(batch, &name) {
                    let e = stats.get_or_insert_with(|| (name.clone(), 0.0, 0.0, 0.0));
                    for (row, &k) in keep.iter().enumerate() {
                        if k && c.is_valid(row) {
                            let v = c.value(row);
                            e.1 += 1.0;
                            e.2 += v;
                            e.3 += v * v;
                        }
                    }
                }
            }
        }
        Ok(())
    })?;
    let Some(mut summary) = summary else {
        return Err(Error::Data(if input.field.is_some() {
            "no points of the operation's files are inside its field".into()
        } else {
            "the operation has no points".into()
        }));
    };
    let outliers = stats.and_then(|(name, n, sum, sq)| {
        (n >= 2.0).then(|| {
            let mean = sum / n;
            let sd = (sq / n - mean * mean).max(0.0).sqrt();
            (name, mean, input.outliers_limit * sd)
        })
    });
    let filter = FilterLimits {
        min_speed_ms: MIN_SPEED_MS,
        outliers,
    };
    // A second pass counts what the band removes (the band needs the whole operation's statistics).
    let mut filtered = rows - slow;
    if filter.outliers.is_some() {
        let mut kept = 0u64;
        points.for_each(|batch| {
            kept += filter_mask(batch, &filter).iter().filter(|k| **k).count() as u64;
            Ok(())
        })?;
        filtered = kept;
    }
    let coverage = match (&points.index, input.field.is_some()) {
        (Some(index), true) => {
            furrow_allocate::field_coverage(index, 0, field_swaths, CoverageOptions::default())
                .map(|c| c.coverage)
        }
        _ => None,
    };
    summary.set_counts(Counts {
        standard: rows,
        slow,
        outliers: rows - slow - filtered,
        filtered,
        written: rows,
        ..Counts::default()
    });
    let units = points
        .schema
        .as_ref()
        .map(|s| Units::from_schema(s))
        .unwrap_or_default();
    Ok(Built {
        coverage,
        summary: summary.finish(),
        units: Value::Object(furrow_machine_data::units_document(
            input.operation_type,
            &units,
        )),
        filter,
        points: rows,
    })
}

/// An operation output written on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationView {
    /// Its standard points.
    Standard,
    /// Its filtered points.
    Filtered,
    /// The swath polygons of its standard points.
    Polygons,
}

/// The encoding of an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// GeoParquet 1.1.
    GeoParquet,
    /// GeoJSON.
    GeoJson,
}

/// Writes one of an operation's outputs to `out`; returns the number of features. `limits` are the ones
/// [`build_operation`] found (used by the filtered view).
pub fn write_operation<W: Write + Send>(
    input: &OperationInput,
    limits: &FilterLimits,
    view: OperationView,
    encoding: Encoding,
    out: W,
) -> Result<u64> {
    enum Sink<W: Write + Send> {
        Parquet(Box<GeoParquetWriter<W>>),
        Json(GeoJsonWriter<W>),
    }
    let mut points = OperationPoints::new(input)?;
    let mut out = Some(out);
    let mut sink: Option<Sink<W>> = None;
    let mut n = 0u64;
    points.for_each(|batch| {
        let batch = match view {
            OperationView::Standard => batch.clone(),
            OperationView::Filtered => {
                let mask = BooleanArray::from(filter_mask(batch, limits));
                arrow_select::filter::filter_record_batch(batch, &mask)
                    .map_err(|e| Error::Data(e.to_string()))?
            }
            OperationView::Polygons => furrow_geoparquet::swath_polygons(batch)?,
        };
        if sink.is_none() {
            let o = out
                .take()
                .ok_or_else(|| Error::Data("output used twice".into()))?;
            sink = Some(match encoding {
                Encoding::GeoParquet => Sink::Parquet(Box::new(GeoParquetWriter::try_new(
                    o,
                    batch.schema(),
                    &GeoParquetOptions::default(),
                )?)),
                Encoding::GeoJson => Sink::Json(GeoJsonWriter::try_new(o, batch.schema())?),
            });
        }
        n += batch.num_rows() as u64;
        match sink.as_mut() {
            Some(Sink::Parquet(w)) => w.write(&batch)?,
            Some(Sink::Json(w)) => w.write(&batch)?,
            None => {}
        }
        Ok(())
    })?;
    match sink {
        Some(Sink::Parquet(w)) => {
            w.finish()?;
        }
        Some(Sink::Json(w)) => {
            w.finish()?;
        }
        None => {
            return Err(Error::Data(
                "no points of the operation's files are inside its field".into(),
            ));
        }
    }
    Ok(n)
}
