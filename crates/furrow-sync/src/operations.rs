//! Allocation and field operations: after a file is converted, its points are allocated to the user's active
//! field boundaries (`allocation` step); then the user's files are grouped into operations (`operations_group`
//! job, one at a time per user) and each changed operation's outputs are built (`operation_build` job): the
//! standard and filtered points inside its field as GeoParquet and GeoJSON, the swath polygons, the summary
//! and units.
//!
//! Grouping is a pure function of the user's processed files ([`OperationGrouper`]), so re-running it changes
//! nothing; existing operations keep their ids when their files move on (the one sharing most files inherits
//! the id). Outputs record the membership version they were built from and are rebuilt when it moved on.

use std::path::{Path, PathBuf};

use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, RecordBatch};
use arrow_schema::{Field as ArrowField, Schema, SchemaRef};
use furrow_allocate::{
    CoverageOptions, Field, FieldIndex, FieldTouch, FileFacts, GroupingConfig, OperationGrouper,
    Swath,
};
use furrow_machine_data::{Counts, Machine, OperationType, Property, SummaryBuilder, Units};
use furrow_store::{
    FileAllocation, FileStatus, OperationField, OperationMembership, OperationOutputs, StoredFile,
    StoredOperation,
};

use serde_json::Value;

use crate::blobs::BlobStore;
use crate::worker::{JobOutcome, WorkerContext};
use crate::{Error, Result};
use furrow_model::Event;
use furrow_store::queue::{OperationPayload, UserPayload};

/// Blob names of an operation's outputs (and of a file's outside-field points).
pub const OUTSIDE_GEOJSON_BLOB: &str = "outside.geojson";
/// Standard points inside the operation's field.
pub const OP_STANDARD_PARQUET: &str = "standard.parquet";
/// The same as GeoJSON.
pub const OP_STANDARD_GEOJSON: &str = "standard.geojson";
/// Filtered points (speed and harvest outliers).
pub const OP_FILTERED_PARQUET: &str = "filtered.parquet";
/// The same as GeoJSON.
pub const OP_FILTERED_GEOJSON: &str = "filtered.geojson";
/// Swath polygons of the standard points.
pub const OP_POLYGON_PARQUET: &str = "polygon.parquet";
/// The same as GeoJSON.
pub const POLYGON_GEOJSON: &str = "polygon.geojson";

/// Points slower than this are not in the filtered view (m/s).
const MIN_SPEED_MS: f64 = 0.5;

/// The configuration keys the pipeline reads, resolved for one user.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    grouping: GroupingConfig,
    creation: bool,
    outside: bool,
    remove_outliers: bool,
    outliers_limit: f64,
}

pub(crate) async fn settings(
    store: &furrow_store::Store,
    owner_id: &str,
    user_id: &str,
) -> Result<Settings> {
    let owner = store.get_config(owner_id, None).await?;
    let user = store.get_config(owner_id, Some(user_id)).await?;
    let cfg = furrow_model::effective_config(&owner, Some(&user));
    let num = |k: &str, d: f64| cfg.get(k).and_then(Value::as_f64).unwrap_or(d);
    let flag = |k: &str, d: bool| cfg.get(k).and_then(Value::as_bool).unwrap_or(d);
    Ok(Settings {
        grouping: GroupingConfig {
            operations_merge_range: num("operationsMergeRange", 5.0),
            operations_merge_range_harvested: num("operationsMergeRangeHarvested", 21.0),
            split_operations_by_field: flag("splitOperationsByField", true),
            split_operations_by_provider: flag("splitOperationsByProvider", true),
            split_operations_by_till_type: flag("splitOperationsByTillType", false),
            fields_attach_intersection: num("fieldsAttachIntersection", 0.01),
        },
        creation: flag("fieldOperationCreation", true),
        outside: flag("enableOutsideFieldGeojson", false),
        remove_outliers: flag("operationsRemoveOutliers", true),
        outliers_limit: num("operationsOutliersLimit", 3.0),
    })
}

/// Rewrites a batch read from a standard GeoParquet file (WKB or native geometry, `bbox` covering) as the flat
/// `x`/`y` layout the writers, the allocator and the summary take.
fn to_xy(batch: &RecordBatch) -> std::result::Result<RecordBatch, String> {
    if batch.column_by_name("x").is_some() && batch.column_by_name("geometry").is_none() {
        return Ok(batch.clone());
    }
    let (xs, ys) = furrow_allocate::point_columns(batch).map_err(|e| e.to_string())?;
    let schema = batch.schema();
    let mut fields = vec![
        ArrowField::new("x", arrow_schema::DataType::Float64, false),
        ArrowField::new("y", arrow_schema::DataType::Float64, false),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        std::sync::Arc::new(Float64Array::from(xs)),
        std::sync::Arc::new(Float64Array::from(ys)),
    ];
    for (i, f) in schema.fields().iter().enumerate() {
        if matches!(f.name().as_str(), "geometry" | "bbox" | "x" | "y") {
            continue;
        }
        fields.push(f.as_ref().clone());
        columns.push(batch.column(i).clone());
    }
    let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
    RecordBatch::try_new(std::sync::Arc::new(schema), columns).map_err(|e| e.to_string())
}

/// Reads a standard GeoParquet file as `x`/`y` batches.
fn read_points(path: &Path) -> std::result::Result<Vec<RecordBatch>, String> {
    let file = furrow_geoparquet::read_geoparquet(path).map_err(|e| e.to_string())?;
    file.batches.iter().map(to_xy).collect()
}

fn f64_col<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a Float64Array> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
}

/// Swaths of a batch's rows where `keep` is true (rows without width, distance or position are skipped).
fn swaths(batch: &RecordBatch, keep: impl Fn(usize) -> bool, out: &mut Vec<Swath>) {
    let (Some(xs), Some(ys)) = (f64_col(batch, "x"), f64_col(batch, "y")) else {
        return;
    };
    let (h, w, d) = (
        f64_col(batch, "heading"),
        f64_col(batch, "equipmentWidth"),
        f64_col(batch, "distance"),
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
        let (Some(width_m), Some(distance_m)) = (
            metres(Property::EquipmentWidth, w, row),
            metres(Property::Distance, d, row),
        ) else {
            continue;
        };
        out.push(Swath {
            lon: xs.value(row),
            lat: ys.value(row),
            heading_deg: h
                .filter(|c| c.is_valid(row))
                .map_or(f64::NAN, |c| c.value(row)),
            width_m,
            distance_m,
        });
    }
}

/// What the allocation step found.
struct Allocated {
    touches: Vec<FieldTouch>,
    outside: u64,
}

/// Allocates a file's points to fields: per field, the covered area inside it; the outside points written
/// as GeoJSON to `outside_out` when given.
fn allocate_file(
    fields: Vec<Field>,
    parquet: &Path,
    outside_out: Option<&Path>,
) -> std::result::Result<Allocated, String> {
    let batches = read_points(parquet)?;
    let index = FieldIndex::build(fields).map_err(|e| e.to_string())?;
    let mut per_field: Vec<Vec<Swath>> = vec![Vec::new(); index.len()];
    let mut outside = 0u64;
    let mut outside_writer = None;
    for batch in &batches {
        let a = furrow_allocate::allocate(&index, batch).map_err(|e| e.to_string())?;
        for (f, swaths_of) in per_field.iter_mut().enumerate() {
            if a.counts.get(f).copied().unwrap_or(0) > 0 {
                swaths(batch, |row| a.field[row] as usize == f, swaths_of);
            }
        }
        outside += a.outside;
        if let (Some(path), true) = (outside_out, a.outside > 0) {
            let mask = BooleanArray::from(
                a.field
                    .iter()
                    .map(|&f| f == furrow_allocate::OUTSIDE)
                    .collect::<Vec<_>>(),
            );
            let rows = arrow_select::filter::filter_record_batch(batch, &mask)
                .map_err(|e| e.to_string())?;
            if outside_writer.is_none() {
                let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
                outside_writer = Some(
                    furrow_geoparquet::GeoJsonWriter::try_new(
                        std::io::BufWriter::new(file),
                        batch.schema(),
                    )
                    .map_err(|e| e.to_string())?,
                );
            }
            if let Some(w) = outside_writer.as_mut() {
                w.write(&rows).map_err(|e| e.to_string())?;
            }
        }
    }
    if let Some(w) = outside_writer {
        w.finish().map_err(|e| e.to_string())?;
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

/// The allocation step of one converted file: records its facts for grouping and asks for its user's
/// grouping. Returns the failure message when the step cannot be done.
pub(crate) async fn allocation_step(
    ctx: &WorkerContext,
    blobs: &BlobStore,
    owner_id: &str,
    file: &StoredFile,
) -> Result<std::result::Result<(), String>> {
    let store = &ctx.store;
    let Some(parquet) = file.standard_path.clone() else {
        return Ok(Err("the file has no standard points".into()));
    };
    let settings = settings(store, owner_id, &file.user_id).await?;
    let boundaries = store
        .active_boundaries_in_bbox(owner_id, &file.user_id, [-180.0, -90.0, 180.0, 90.0])
        .await?;
    let fields: Vec<Field> = boundaries
        .into_iter()
        .map(|b| Field {
            id: b.field_id,
            boundary: b.geometry,
        })
        .collect();
    let scratch = match blobs.scratch(owner_id, &file.id).await {
        Ok(s) => s,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let outside_tmp = settings.outside.then(|| scratch.join(OUTSIDE_GEOJSON_BLOB));
    let out = outside_tmp.clone();
    let allocated = tokio::task::spawn_blocking(move || {
        allocate_file(fields, Path::new(&parquet), out.as_deref())
    })
    .await
    .unwrap_or_else(|e| Err(format!("the allocation stopped: {e}")));
    let allocated = match allocated {
        Ok(a) => a,
        Err(m) => {
            let _ = tokio::fs::remove_dir_all(&scratch).await;
            return Ok(Err(m));
        }
    };
    let outside_path = match outside_tmp {
        Some(tmp) if tokio::fs::try_exists(&tmp).await.unwrap_or(false) => blobs
            .publish(&tmp, owner_id, &file.id, OUTSIDE_GEOJSON_BLOB)
            .await
            .ok()
            .map(|p| p.display().to_string()),
        _ => None,
    };
    let _ = tokio::fs::remove_dir_all(&scratch).await;
    let summary = file.summary.as_ref().and_then(|s| s.get("properties"));
    let facts = FileFacts {
        file_id: file.id.clone(),
        provider: file.provider.clone(),
        operation_type: file.operation_type.clone().unwrap_or_default(),
        crop: first_text(summary.and_then(|p| p.get("crop"))),
        till_type: first_text(summary.and_then(|p| p.get("tillType"))),
        start: file.start_time.unwrap_or(file.created_at),
        end: file.end_time.or(file.start_time).unwrap_or(file.created_at),
        covered_m2: area_m2(summary.and_then(|p| p.get("coveredArea"))),
        fields: allocated.touches,
    };
    let grouper = OperationGrouper::new(settings.grouping.clone());
    let field_ids: Vec<String> = facts
        .fields
        .iter()
        .filter(|t| grouper.attaches(&facts, t))
        .map(|t| t.field_id.clone())
        .collect();
    store
        .set_file_allocation(
            owner_id,
            &file.id,
            &FileAllocation {
                facts: serde_json::to_value(&facts).unwrap_or(Value::Null),
                field_ids,
                outside_path,
                outside_count: i64::try_from(allocated.outside).unwrap_or(i64::MAX),
            },
        )
        .await?;
    Ok(Ok(()))
}

/// Re-allocates every processed file of a user (after its boundaries changed), then asks for its grouping.
async fn reallocate_user(ctx: &WorkerContext, owner_id: &str, user_id: &str) -> Result<()> {
    let Some(dir) = ctx.config.blob_dir.clone() else {
        return Ok(());
    };
    let blobs = BlobStore::new(dir);
    let filter = furrow_store::FileFilter {
        leaf_user_id: Some(user_id.to_owned()),
        status: Some(FileStatus::Processed),
        ..Default::default()
    };
    let mut page = 0;
    loop {
        let (files, total) = ctx
            .store
            .list_files(owner_id, &filter, furrow_model::Page { page, size: 100 })
            .await?;
        for f in &files {
            if let Err(m) = allocation_step(ctx, &blobs, owner_id, f).await? {
                tracing::warn!(file = %f.id, error = %m, "could not re-allocate the file");
            }
        }
        page += 1;
        if files.is_empty() || i64::from(page) * 100 >= total {
            break;
        }
    }
    ctx.store.enqueue_grouping(owner_id, user_id).await?;
    Ok(())
}

/// The `reallocate` job.
pub(crate) async fn run_reallocate(
    ctx: &WorkerContext,
    job: &furrow_store::Job,
) -> Result<JobOutcome> {
    let payload: UserPayload =
        serde_json::from_str(&job.payload).map_err(|e| bad_payload(job, e))?;
    reallocate_user(ctx, &job.owner_id, &payload.leaf_user_id).await?;
    Ok(JobOutcome::Done)
}

fn bad_payload(job: &furrow_store::Job, e: serde_json::Error) -> Error {
    Error::Payload {
        job: job.id.clone(),
        message: e.to_string(),
    }
}

/// Matches freshly grouped operations to the stored ones: each new group keeps the id of the stored operation
/// (same type, field and crop) sharing most files with it, so ids stay stable as files arrive.
fn assign_ids(groups: &[furrow_allocate::Operation], existing: &[StoredOperation]) -> Vec<String> {
    let mut taken = std::collections::HashSet::new();
    let mut ids = Vec::with_capacity(groups.len());
    // Largest groups choose first, so a merge keeps the id of the bigger side.
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(groups[i].files.len()));
    let mut chosen = vec![String::new(); groups.len()];
    for i in order {
        let g = &groups[i];
        let best = existing
            .iter()
            .filter(|op| {
                let m = &op.membership;
                !taken.contains(&m.id)
                    && m.operation_type == g.operation_type
                    && m.field_id == g.field_id
                    && m.crop == g.crop
            })
            .map(|op| {
                let shared = op
                    .membership
                    .files
                    .iter()
                    .filter(|f| g.files.contains(*f))
                    .count();
                (shared, std::cmp::Reverse(op.created_at), &op.membership.id)
            })
            .filter(|(shared, _, _)| *shared > 0)
            .max();
        let id = match best {
            Some((_, _, id)) => id.clone(),
            None if !taken.contains(&g.id) => g.id.clone(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        taken.insert(id.clone());
        chosen[i] = id;
    }
    ids.extend(chosen);
    ids
}

/// The `operations_group` job.
pub(crate) async fn run_group(ctx: &WorkerContext, job: &furrow_store::Job) -> Result<JobOutcome> {
    let payload: UserPayload =
        serde_json::from_str(&job.payload).map_err(|e| bad_payload(job, e))?;
    let store = &ctx.store;
    let owner = job.owner_id.as_str();
    let user = payload.leaf_user_id.as_str();
    let started = furrow_model::now_micros();
    let settings = settings(store, owner, user).await?;
    let files = store.grouping_files(owner, user).await?;
    let ids: Vec<String> = files.iter().map(|f| f.id.clone()).collect();
    if settings.creation {
        let mut grouper = OperationGrouper::new(settings.grouping.clone());
        for f in &files {
            let Some(facts) = f
                .facts
                .clone()
                .and_then(|v| serde_json::from_value::<FileFacts>(v).ok())
            else {
                continue;
            };
            grouper.add(&facts);
        }
        let groups = grouper.operations();
        let existing = store.user_operations(owner, user).await?;
        let new_ids = assign_ids(&groups, &existing);
        let mut kept = std::collections::HashSet::new();
        for (g, id) in groups.iter().zip(new_ids) {
            let m = OperationMembership {
                id: id.clone(),
                user_id: user.to_owned(),
                operation_type: g.operation_type.clone(),
                field_id: g.field_id.clone(),
                crop: g.crop.clone(),
                till_type: g.till_type.clone(),
                start_time: g.start_time,
                end_time: g.end_time,
                files: g.files.iter().cloned().collect(),
                providers: g.providers.iter().cloned().collect(),
            };
            let before = existing.iter().find(|o| o.membership.id == id);
            let event = match before {
                None => Some("operationCreated"),
                Some(o) if o.membership != m => Some("operationUpdated"),
                Some(_) => None,
            };
            kept.insert(id.clone());
            // Fire first: a crash before the write re-runs the grouping (at-least-once delivery).
            if let Some(event) = event {
                store
                    .fire(
                        owner,
                        &Event::Operation {
                            event,
                            operation_id: id.clone(),
                            leaf_user_id: user.to_owned(),
                        },
                    )
                    .await?;
            }
            let (_, version) = store.upsert_operation(owner, &m).await?;
            let built = before.is_some_and(|o| o.built_version == version);
            if !built {
                store.enqueue_build(owner, &id).await?;
            }
        }
        for op in existing {
            if !kept.contains(&op.membership.id) {
                // Its files now belong to other operations.
                store.delete_operation(owner, &op.membership.id).await?;
            }
        }
    }
    store.mark_grouped(owner, &ids, started).await?;
    if store.ungrouped_files(owner, user).await? > 0 {
        // Files finished while this ran: group again (this job holds the user's dedupe key).
        return Ok(JobOutcome::Again);
    }
    Ok(JobOutcome::Done)
}

/// What an operation's build needs of its files.
struct BuildInput {
    parquet: Vec<PathBuf>,
    field: Option<Field>,
    op: OperationType,
    original: String,
    crops: Vec<String>,
    machinery: Vec<Machine>,
    remove_outliers: bool,
    outliers_limit: f64,
}

struct Built {
    coverage: Option<f64>,
    summary: Value,
    units: Value,
    standard: PathBuf,
    geojson: PathBuf,
    filtered: PathBuf,
    filtered_geojson: PathBuf,
    polygons: Option<PathBuf>,
}

fn write_outputs(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    parquet: &Path,
    geojson: &Path,
) -> std::result::Result<(), String> {
    let e = |e: furrow_geoparquet::Error| e.to_string();
    let file = std::fs::File::create(parquet).map_err(|e| e.to_string())?;
    let mut w = furrow_geoparquet::GeoParquetWriter::try_new(
        file,
        schema.clone(),
        &furrow_geoparquet::GeoParquetOptions::default(),
    )
    .map_err(e)?;
    for b in batches {
        w.write(b).map_err(e)?;
    }
    w.finish().map_err(e)?;
    let file = std::fs::File::create(geojson).map_err(|e| e.to_string())?;
    let mut g =
        furrow_geoparquet::GeoJsonWriter::try_new(std::io::BufWriter::new(file), schema.clone())
            .map_err(e)?;
    for b in batches {
        g.write(b).map_err(e)?;
    }
    g.finish().map_err(e)?;
    Ok(())
}

/// Mean and standard deviation of the harvest volume (or mass) of the rows that pass `keep`.
fn harvest_stats(batches: &[RecordBatch], keep: &[Vec<bool>]) -> Option<(String, f64, f64)> {
    let name = ["wetVolume", "wetMass"].into_iter().find(|n| {
        batches
            .iter()
            .any(|b| f64_col(b, n).is_some_and(|c| c.null_count() < c.len()))
    })?;
    let (mut n, mut sum, mut sq) = (0f64, 0f64, 0f64);
    for (b, k) in batches.iter().zip(keep) {
        let Some(c) = f64_col(b, name) else { continue };
        for (row, &kept) in k.iter().enumerate() {
            if kept && c.is_valid(row) {
                let v = c.value(row);
                n += 1.0;
                sum += v;
                sq += v * v;
            }
        }
    }
    if n < 2.0 {
        return None;
    }
    let mean = sum / n;
    let var = (sq / n - mean * mean).max(0.0);
    Some((name.to_owned(), mean, var.sqrt()))
}

/// Writes each point's swath rectangle (width × distance along the heading) as GeoParquet polygons, and as a
/// GeoJSON FeatureCollection beside it (`polygon.geojson`); `None` (nothing written) when the points lack width,
/// distance or heading.
fn write_polygons(
    batches: &[RecordBatch],
    path: &Path,
) -> std::result::Result<Option<PathBuf>, String> {
    let e = |e: furrow_geoparquet::Error| e.to_string();
    let mut writers = None;
    for b in batches {
        let Ok(p) = furrow_geoparquet::swath_polygons(b) else {
            return Ok(None);
        };
        if writers.is_none() {
            let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
            let parquet = furrow_geoparquet::GeoParquetWriter::try_new(
                file,
                p.schema(),
                &furrow_geoparquet::GeoParquetOptions::default(),
            )
            .map_err(e)?;
            let json = std::fs::File::create(path.with_file_name(POLYGON_GEOJSON))
                .map_err(|e| e.to_string())?;
            let geojson = furrow_geoparquet::GeoJsonWriter::try_new(
                std::io::BufWriter::new(json),
                p.schema(),
            )
            .map_err(e)?;
            writers = Some((parquet, geojson));
        }
        if let Some((parquet, geojson)) = writers.as_mut() {
            parquet.write(&p).map_err(e)?;
            geojson.write(&p).map_err(e)?;
        }
    }
    match writers {
        Some((parquet, geojson)) => {
            parquet.finish().map_err(e)?;
            geojson.finish().map_err(e)?;
            Ok(Some(path.to_path_buf()))
        }
        None => Ok(None),
    }
}

/// The swath polygons of a converted file (`enablePolygonOutput`), written beside its standard GeoParquet as
/// `polygon.parquet`; returns whether they were written.
pub(crate) async fn file_polygons(
    blobs: &BlobStore,
    owner_id: &str,
    file: &StoredFile,
) -> std::result::Result<bool, String> {
    let Some(standard) = file.standard_path.clone() else {
        return Ok(false);
    };
    let scratch = blobs
        .scratch(owner_id, &file.id)
        .await
        .map_err(|e| e.to_string())?;
    let out = scratch.join(OP_POLYGON_PARQUET);
    let target = out.clone();
    let written = tokio::task::spawn_blocking(move || {
        let batches = read_points(Path::new(&standard))?;
        write_polygons(&batches, &target)
    })
    .await
    .unwrap_or_else(|e| Err(format!("the polygon writer stopped: {e}")));
    let result = match written {
        Ok(Some(p)) => {
            let json = p.with_file_name(POLYGON_GEOJSON);
            match blobs
                .publish(&json, owner_id, &file.id, POLYGON_GEOJSON)
                .await
            {
                Ok(_) => blobs
                    .publish(&p, owner_id, &file.id, OP_POLYGON_PARQUET)
                    .await
                    .map(|_| true)
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
        Ok(None) => Ok(false),
        Err(e) => Err(e),
    };
    let _ = tokio::fs::remove_dir_all(&scratch).await;
    result
}

/// Whether a user's configuration asks for polygon outputs of files (`enablePolygonOutput`).
pub(crate) async fn polygon_output(
    store: &furrow_store::Store,
    owner_id: &str,
    user_id: &str,
) -> Result<bool> {
    let owner = store.get_config(owner_id, None).await?;
    let user = store.get_config(owner_id, Some(user_id)).await?;
    Ok(furrow_model::effective_config(&owner, Some(&user))
        .get("enablePolygonOutput")
        .and_then(Value::as_bool)
        .unwrap_or(false))
}

fn build_operation(input: BuildInput, scratch: &Path) -> std::result::Result<Built, String> {
    let index = match &input.field {
        Some(f) => Some(FieldIndex::build([f.clone()]).map_err(|e| e.to_string())?),
        None => None,
    };
    // The standard points of the operation: every file's points inside the field.
    let mut kept: Vec<RecordBatch> = Vec::new();
    let mut schema: Option<SchemaRef> = None;
    let mut field_swaths = Vec::new();
    for path in &input.parquet {
        for batch in read_points(path)? {
            let batch = match &schema {
                None => {
                    schema = Some(batch.schema());
                    batch
                }
                Some(s) => RecordBatch::try_new(s.clone(), batch.columns().to_vec())
                    .map_err(|_| "the files of this operation have different columns".to_owned())?,
            };
            let batch = match &index {
                Some(index) => {
                    let a = furrow_allocate::allocate(index, &batch).map_err(|e| e.to_string())?;
                    let mask =
                        BooleanArray::from(a.field.iter().map(|&f| f == 0).collect::<Vec<_>>());
                    arrow_select::filter::filter_record_batch(&batch, &mask)
                        .map_err(|e| e.to_string())?
                }
                None => batch,
            };
            if batch.num_rows() > 0 {
                swaths(&batch, |_| true, &mut field_swaths);
                kept.push(batch);
            }
        }
    }
    let schema = schema.ok_or_else(|| "the operation has no points".to_owned())?;
    if kept.is_empty() {
        return Err("no points of the operation's files are inside its field".into());
    }
    let units = Units::from_schema(&schema);
    let coverage = index.as_ref().and_then(|index| {
        furrow_allocate::field_coverage(index, 0, field_swaths, CoverageOptions::default())
            .map(|c| c.coverage)
    });
    let standard = scratch.join(OP_STANDARD_PARQUET);
    let geojson = scratch.join(OP_STANDARD_GEOJSON);
    write_outputs(&schema, &kept, &standard, &geojson)?;
    // Summary of the standard points.
    let mut summary = SummaryBuilder::new(input.op, &input.original, units);
    summary.set_context(input.crops.clone(), Vec::new(), Vec::new(), input.machinery);
    let rows: u64 = kept.iter().map(|b| b.num_rows() as u64).sum();
    for b in &kept {
        summary.add_batch(b);
    }
    // Filtered view: not too slow, and for harvest no volume outliers.
    let speed_factor = units.factor(Property::Speed).max(f64::MIN_POSITIVE);
    let mut keep: Vec<Vec<bool>> = kept
        .iter()
        .map(|b| {
            let speed = f64_col(b, "speed");
            (0..b.num_rows())
                .map(|row| {
                    speed
                        .filter(|c| c.is_valid(row))
                        .is_none_or(|c| c.value(row) / speed_factor >= MIN_SPEED_MS)
                })
                .collect()
        })
        .collect();
    let slow: u64 = keep.iter().flatten().filter(|k| !**k).count() as u64;
    let mut outliers = 0u64;
    if input.op == OperationType::Harvested && input.remove_outliers {
        if let Some((name, mean, sd)) = harvest_stats(&kept, &keep) {
            for (b, k) in kept.iter().zip(keep.iter_mut()) {
                let Some(c) = f64_col(b, &name) else { continue };
                for (row, kept_row) in k.iter_mut().enumerate() {
                    if *kept_row
                        && c.is_valid(row)
                        && (c.value(row) - mean).abs() > input.outliers_limit * sd
                    {
                        *kept_row = false;
                        outliers += 1;
                    }
                }
            }
        }
    }
    let filtered_batches = kept
        .iter()
        .zip(&keep)
        .map(|(b, k)| {
            arrow_select::filter::filter_record_batch(b, &BooleanArray::from(k.clone()))
                .map_err(|e| e.to_string())
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let filtered = scratch.join(OP_FILTERED_PARQUET);
    let filtered_geojson = scratch.join(OP_FILTERED_GEOJSON);
    write_outputs(&schema, &filtered_batches, &filtered, &filtered_geojson)?;
    summary.set_counts(Counts {
        standard: rows,
        slow,
        outliers,
        filtered: rows - slow - outliers,
        written: rows,
        ..Counts::default()
    });
    // Swath polygons, when the points carry width, distance and heading.
    let polygons = write_polygons(&kept, &scratch.join(OP_POLYGON_PARQUET))?;
    let units_doc = Value::Object(furrow_machine_data::units_document(input.op, &units));
    Ok(Built {
        coverage,
        summary: summary.finish(),
        units: units_doc,
        standard,
        geojson,
        filtered,
        filtered_geojson,
        polygons,
    })
}

fn summary_list(files: &[StoredFile], key: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in files {
        if let Some(Value::Array(a)) = f
            .summary
            .as_ref()
            .and_then(|s| s.get("properties"))
            .and_then(|p| p.get(key))
        {
            for v in a.iter().filter_map(Value::as_str) {
                if !out.iter().any(|o| o == v) {
                    out.push(v.to_owned());
                }
            }
        }
    }
    out
}

fn machinery(files: &[StoredFile]) -> Vec<Machine> {
    let mut out: Vec<Machine> = Vec::new();
    for f in files {
        let list = f
            .summary
            .as_ref()
            .and_then(|s| s.get("properties"))
            .and_then(|p| p.get("machinery"))
            .cloned()
            .and_then(|v| serde_json::from_value::<Vec<Machine>>(v).ok())
            .unwrap_or_default();
        for m in list {
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// The `operation_build` job.
pub(crate) async fn run_build(ctx: &WorkerContext, job: &furrow_store::Job) -> Result<JobOutcome> {
    let payload: OperationPayload =
        serde_json::from_str(&job.payload).map_err(|e| bad_payload(job, e))?;
    let store = &ctx.store;
    let owner = job.owner_id.as_str();
    let op = match store.get_operation(owner, &payload.operation_id).await {
        Ok(op) => op,
        Err(furrow_store::Error::NotFound(_)) => return Ok(JobOutcome::Done),
        Err(e) => return Err(e.into()),
    };
    if op.built_version == op.version {
        return Ok(JobOutcome::Done);
    }
    let Some(dir) = ctx.config.blob_dir.clone() else {
        return Ok(JobOutcome::Fail("no blob directory configured".into()));
    };
    let blobs = BlobStore::new(dir);
    let m = &op.membership;
    let settings = settings(store, owner, &m.user_id).await?;
    let mut files = Vec::new();
    for id in &m.files {
        match store.get_file(owner, id).await {
            Ok(f) if f.status == FileStatus::Processed => files.push(f),
            Ok(_) | Err(furrow_store::Error::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let field = match &m.field_id {
        Some(fid) => match store.active_boundary(owner, &m.user_id, fid).await {
            Ok(b) => Some(Field {
                id: fid.clone(),
                boundary: b.geometry,
            }),
            Err(furrow_store::Error::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let op_type: OperationType = m.operation_type.parse().unwrap_or(OperationType::Other);
    let original = files
        .iter()
        .find_map(|f| {
            f.summary
                .as_ref()?
                .get("properties")?
                .get("originalOperationType")?
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let input = BuildInput {
        parquet: files
            .iter()
            .filter_map(|f| f.standard_path.as_ref().map(PathBuf::from))
            .collect(),
        field,
        op: op_type,
        original,
        crops: summary_list(&files, "crop"),
        machinery: machinery(&files),
        remove_outliers: settings.remove_outliers,
        outliers_limit: settings.outliers_limit,
    };
    let blob_key = format!("operation-{}", m.id);
    let scratch = match blobs.scratch(owner, &blob_key).await {
        Ok(s) => s,
        Err(e) => {
            return Ok(JobOutcome::Retry {
                after: std::time::Duration::from_secs(5),
                error: e.to_string(),
            });
        }
    };
    let work = scratch.clone();
    let built = tokio::task::spawn_blocking(move || build_operation(input, &work))
        .await
        .unwrap_or_else(|e| Err(format!("the build stopped: {e}")));
    let outputs = match built {
        Ok(b) => {
            let publish = async |from: &Path, name: &str| {
                blobs
                    .publish(from, owner, &blob_key, name)
                    .await
                    .map(|p| p.display().to_string())
            };
            let standard = publish(&b.standard, OP_STANDARD_PARQUET).await;
            let geojson = publish(&b.geojson, OP_STANDARD_GEOJSON).await;
            let filtered = publish(&b.filtered, OP_FILTERED_PARQUET).await;
            let filtered_geojson = publish(&b.filtered_geojson, OP_FILTERED_GEOJSON).await;
            if let Some(p) = &b.polygons {
                // The GeoJSON first: the Parquet file's presence is what says both exist.
                if publish(&p.with_file_name(POLYGON_GEOJSON), POLYGON_GEOJSON)
                    .await
                    .is_ok()
                {
                    let _ = publish(p, OP_POLYGON_PARQUET).await;
                }
            }
            match (standard, geojson, filtered, filtered_geojson) {
                (Ok(s), Ok(g), Ok(f), Ok(fg)) => OperationOutputs {
                    fields: m
                        .field_id
                        .iter()
                        .map(|id| OperationField {
                            id: id.clone(),
                            coverage: b.coverage,
                        })
                        .collect(),
                    summary: Some(b.summary),
                    units: Some(b.units),
                    standard_path: Some(s),
                    geojson_path: Some(g),
                    filtered_path: Some(f),
                    filtered_geojson_path: Some(fg),
                    message: None,
                },
                _ => {
                    let _ = tokio::fs::remove_dir_all(&scratch).await;
                    return Ok(JobOutcome::Retry {
                        after: std::time::Duration::from_secs(5),
                        error: "could not store the operation's outputs".into(),
                    });
                }
            }
        }
        Err(message) => OperationOutputs {
            fields: op.fields.clone(),
            message: Some(message),
            ..OperationOutputs::default()
        },
    };
    let _ = tokio::fs::remove_dir_all(&scratch).await;
    if !store
        .set_operation_outputs(owner, &m.id, op.version, &outputs)
        .await?
    {
        // The membership moved on while this ran: build again.
        return Ok(JobOutcome::Again);
    }
    if outputs.message.is_none() {
        store
            .fire(
                owner,
                &Event::Operation {
                    event: "operationProcessingFinished",
                    operation_id: m.id.clone(),
                    leaf_user_id: m.user_id.clone(),
                },
            )
            .await?;
    }
    Ok(JobOutcome::Done)
}
