//! Each dataset's files ([`Unit`]s), converted once to standard GeoParquet with their summary and units.

use std::path::{Path, PathBuf};

use furrow_isoxml::TaskData;
use furrow_machine_data::{
    ConvertOptions, Counts, FilePlan, OperationType, OutputFormat, UnitSystem, WriteOptions,
    write_plans,
};
use furrow_shapefile::ShapefileSet;
use serde_json::{Value, json};

use crate::detect::{Dataset, Family, Format, Location};
use crate::error::{Error, Result};
use crate::settings::Settings;

/// What a [`Unit`] is made from.
#[derive(Debug, Clone)]
enum UnitKind {
    /// One task and operation type of an ISOXML set.
    IsoXml { set: usize, plan: Box<FilePlan> },
    /// A shapefile set.
    Shapefile(Box<ShapefileSet>),
    /// A dataset furrow keeps but cannot convert.
    Unsupported(Family),
    /// Something that cannot be converted, and why.
    Broken(String),
}

/// One file to make from a dataset: one task and operation type of an ISOXML set, one shapefile set, or a
/// dataset that cannot be converted (kept, with its reason).
#[derive(Debug, Clone)]
pub struct Unit {
    /// Stable key within the original (the dataset's key, then the task and operation type).
    pub key: String,
    /// A human name: the task's designator, the set's name.
    pub name: String,
    /// The format of its dataset.
    pub format: Format,
    /// The operation type, when known before converting.
    pub operation_type: Option<OperationType>,
    kind: UnitKind,
}

impl Unit {
    /// Why this unit cannot be converted, when it cannot (an unsupported format, a missing time log); such a
    /// unit is never retried.
    pub fn refusal(&self) -> Option<String> {
        match &self.kind {
            UnitKind::Unsupported(f) => Some(format!(
                "unsupported file format: {} cannot be converted (no public specification); the original is kept",
                f.name()
            )),
            UnitKind::Broken(m) => Some(m.clone()),
            UnitKind::IsoXml { .. } | UnitKind::Shapefile(_) => None,
        }
    }
}

/// A dataset opened for conversion.
#[derive(Debug)]
pub struct Opened {
    dataset: Dataset,
    sets: Vec<TaskData>,
    shapefiles: Vec<std::result::Result<ShapefileSet, String>>,
}

/// What one unit converted to.
#[derive(Debug, Clone)]
pub struct Converted {
    /// The standard points (GeoParquet 1.1), in the folder given to [`Opened::convert`].
    pub parquet: PathBuf,
    /// The summary (a GeoJSON Feature in Leaf's shape).
    pub summary: Value,
    /// Property → unit.
    pub units: Value,
    /// The point counts.
    pub counts: Counts,
    /// The operation type.
    pub operation_type: OperationType,
    /// Warnings (time-log readers, conversion).
    pub warnings: Vec<String>,
}

/// Opens a dataset (reads an ISOXML set's XML and time-log headers; no time-log records yet).
pub fn open(dataset: &Dataset) -> Result<Opened> {
    let (sets, shapefiles) = match &dataset.location {
        Location::IsoXml(path) => (TaskData::open_all(path)?, Vec::new()),
        Location::Shapefile(dir) => (
            Vec::new(),
            match ShapefileSet::discover(dir) {
                Ok(found) => found.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e.to_string())],
            },
        ),
        Location::None => (Vec::new(), Vec::new()),
    };
    Ok(Opened {
        dataset: dataset.clone(),
        sets,
        shapefiles,
    })
}

fn task_label(td: &TaskData, task_id: &str) -> String {
    match td
        .task(task_id)
        .and_then(|t| t.designator.as_deref())
        .map(str::trim)
    {
        Some(d) if !d.is_empty() => format!("{d} ({task_id})"),
        _ => task_id.to_owned(),
    }
}

impl Opened {
    /// The files this dataset gives, in a stable order.
    pub fn units(&self) -> Vec<Unit> {
        let ds = &self.dataset;
        let unit = |key: String, name: String, kind: UnitKind, op| Unit {
            key,
            name,
            format: ds.format,
            operation_type: op,
            kind,
        };
        match ds.format {
            Format::Unsupported(f) => {
                return vec![unit(
                    ds.key.clone(),
                    ds.name.clone(),
                    UnitKind::Unsupported(f),
                    None,
                )];
            }
            Format::Shapefile => {
                let mut out = Vec::new();
                for set in &self.shapefiles {
                    out.push(match set {
                        Ok(set) => {
                            let op = set.open().ok().map(|r| {
                                furrow_machine_data::TabularPlan::of(r.profile()).operation_type
                            });
                            unit(
                                ds.key.clone(),
                                ds.name.clone(),
                                UnitKind::Shapefile(Box::new(set.clone())),
                                op,
                            )
                        }
                        Err(m) => unit(
                            ds.key.clone(),
                            ds.name.clone(),
                            UnitKind::Broken(format!("the shapefile set cannot be read: {m}")),
                            None,
                        ),
                    });
                }
                if out.is_empty() {
                    out.push(unit(
                        ds.key.clone(),
                        ds.name.clone(),
                        UnitKind::Broken("the shapefile set has no .shp with a .dbf".into()),
                        None,
                    ));
                }
                return out;
            }
            Format::IsoXml => {}
        }
        let mut out = Vec::new();
        let metric = ConvertOptions::default();
        for (i, td) in self.sets.iter().enumerate() {
            let set_key = format!("{}#{i}", ds.key);
            let plans = furrow_machine_data::plan(td, &metric);
            for p in &plans {
                out.push(unit(
                    format!("{set_key}/{}/{}", p.task_id, p.operation_type),
                    task_label(td, &p.task_id),
                    UnitKind::IsoXml {
                        set: i,
                        plan: Box::new(p.clone()),
                    },
                    Some(p.operation_type),
                ));
            }
            // Time logs that cannot be read: one refused file per task, saying which logs and why.
            let mut broken: Vec<(String, Vec<String>)> = Vec::new();
            for log in &td.time_logs {
                let Some(problem) = log.problem() else {
                    continue;
                };
                match broken.iter_mut().find(|(t, _)| *t == log.task_id) {
                    Some((_, v)) => v.push(problem),
                    None => broken.push((log.task_id.clone(), vec![problem])),
                }
            }
            for (task, problems) in broken {
                out.push(unit(
                    format!("{set_key}/{task}/unreadable"),
                    task_label(td, &task),
                    UnitKind::Broken(format!(
                        "time logs of task {} cannot be read: {}",
                        task_label(td, &task),
                        problems.join("; ")
                    )),
                    None,
                ));
            }
            if plans.is_empty() && out.iter().all(|u| !u.key.starts_with(&set_key)) {
                let what = if td.tasks.is_empty() {
                    "no tasks".to_owned()
                } else {
                    format!("{} task(s) but no time logs", td.tasks.len())
                };
                out.push(unit(
                    format!("{set_key}/none"),
                    ds.name.clone(),
                    UnitKind::Broken(format!(
                        "no machine data to convert: the task data holds {what} (prescriptions, field \
                         boundaries or device descriptions only)"
                    )),
                    None,
                ));
            }
        }
        out
    }

    /// Converts one unit into `out_dir` (standard points as GeoParquet only, summary and units in the same
    /// pass). Units that cannot be converted answer [`Error::Data`] with their reason.
    pub fn convert(&self, unit: &Unit, settings: &Settings, out_dir: &Path) -> Result<Converted> {
        let (set, plan) = match &unit.kind {
            UnitKind::IsoXml { set, plan } => (*set, plan),
            UnitKind::Shapefile(shp) => return convert_shapefile(shp, settings, out_dir),
            _ => {
                return Err(Error::Data(
                    unit.refusal()
                        .unwrap_or_else(|| "cannot be converted".into()),
                ));
            }
        };
        let td = self
            .sets
            .get(set)
            .ok_or_else(|| Error::Data(format!("task data set {set} is gone")))?;
        // ISOXML's own units are SI: DEFAULT means METRIC.
        let system = settings.unit_measurement.resolve(UnitSystem::Metric);
        let mut plan = (**plan).clone();
        plan.units.system = system;
        let opts = ConvertOptions {
            units: system,
            cleanup: settings.cleanup.then(|| settings.cleanup_rules.clone()),
            ..ConvertOptions::default()
        };
        let parquet = out_dir.join("standard.parquet");
        let written = write_plans(
            td,
            &[&plan],
            &opts,
            &parquet,
            &WriteOptions {
                format: OutputFormat::GeoParquet,
                ..WriteOptions::default()
            },
            &mut |_| {},
        )?;
        let outcome = written
            .outcomes
            .into_iter()
            .next()
            .ok_or_else(|| Error::Data("the converter reported nothing".into()))?;
        let mut summary = outcome.summary;
        if settings.original_operation_data {
            if let Some(props) = summary.get_mut("properties").and_then(Value::as_object_mut) {
                props.insert(
                    "originalOperationData".into(),
                    original_operation_data(td, &plan),
                );
            }
        }
        Ok(Converted {
            parquet: written.points,
            summary,
            units: outcome.units,
            counts: outcome.counts,
            operation_type: plan.operation_type,
            warnings: outcome.warnings,
        })
    }
}

fn convert_shapefile(set: &ShapefileSet, settings: &Settings, out_dir: &Path) -> Result<Converted> {
    let mut reader = set
        .open()
        .map_err(|e| Error::Data(format!("the shapefile set cannot be read: {e}")))?;
    let source = furrow_machine_data::TabularPlan::of(reader.profile()).source_system;
    let system = settings.unit_measurement.resolve(source);
    let opts = ConvertOptions {
        units: system,
        cleanup: settings.cleanup.then(|| settings.cleanup_rules.clone()),
        ..ConvertOptions::default()
    };
    let parquet = out_dir.join("standard.parquet");
    let (outcome, plan) = furrow_machine_data::write_shapefile(
        &mut reader,
        &opts,
        &parquet,
        &furrow_geoparquet::GeoParquetOptions::default(),
    )?;
    Ok(Converted {
        parquet,
        summary: outcome.summary,
        units: outcome.units,
        counts: outcome.counts,
        operation_type: plan.operation_type,
        warnings: outcome.warnings,
    })
}

/// Leaf's `originalOperationData`: the names the source gave the task's farm, field and grower.
fn original_operation_data(td: &TaskData, plan: &FilePlan) -> Value {
    let task = td.task(&plan.task_id);
    let partfield = task
        .and_then(|t| t.partfield_id.as_deref())
        .and_then(|id| td.partfield(id));
    let farm_id = task
        .and_then(|t| t.farm_id.as_deref())
        .or_else(|| partfield.and_then(|p| p.farm_id.as_deref()));
    let customer_id = task
        .and_then(|t| t.customer_id.as_deref())
        .or_else(|| partfield.and_then(|p| p.customer_id.as_deref()));
    let farm = farm_id.and_then(|id| td.farms.iter().find(|f| f.id == id));
    let grower = customer_id.and_then(|id| td.customers.iter().find(|c| c.id == id));
    json!({
        "originalOperationFarm": farm.map(|f| f.designator.clone()),
        "originalOperationField": partfield.map(|p| p.designator.clone()),
        "originalOperationGrower": grower.map(|c| match &c.first_name {
            Some(first) if !first.trim().is_empty() => format!("{} {}", first.trim(), c.last_name.trim()),
            _ => c.last_name.trim().to_owned(),
        }),
        "originalOperationType": plan.original_operation_type,
        "originalOperationTask": plan.task_name.clone().unwrap_or_else(|| plan.task_id.clone()),
    })
}

/// Properties a planted file must have (`cropOptional`, `seedRateOptional`); the names missing from a
/// converted file's summary, for its failure message.
pub fn missing_required(converted: &Converted, settings: &Settings) -> Vec<&'static str> {
    if converted.operation_type != OperationType::Planted {
        return Vec::new();
    }
    let props = converted.summary.get("properties");
    let has = |k: &str| {
        props
            .and_then(|p| p.get(k))
            .is_some_and(|v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
    };
    let mut missing = Vec::new();
    if settings.crop_required && !has("crop") {
        missing.push("crop");
    }
    if settings.seed_rate_required && !has("seedRate") {
        missing.push("seedRate");
    }
    missing
}
