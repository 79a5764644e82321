//! Allocation and field operations: after a file is converted, its points are allocated to the user's active
//! field boundaries (`areaAndYield` step); then the user's files are grouped into operations (`operations_group`
//! job, one at a time per user) and each changed operation is built (`operation_build` job): its summary of the
//! points inside its field, its coverage and its filtered view's limits. Its points are written on request from
//! its files (`furrow_pipeline::write_operation`).
//!
//! Grouping is a pure function of the user's processed files ([`OperationGrouper`]), so re-running it changes
//! nothing; existing operations keep their ids when their files move on (the one sharing most files inherits
//! the id). Outputs record the membership version they were built from and are rebuilt when it moved on.

use furrow_allocate::{Field, FileFacts, OperationGrouper};
use furrow_model::Event;
use furrow_pipeline::{FileDescription, ImageOwner, OperationInput, Settings};
use furrow_store::queue::{OperationPayload, UserPayload};
use furrow_store::{
    Blobs, FileAllocation, FileStatus, LocalCopy, OperationField, OperationMembership,
    OperationOutputs, StoredFile, StoredOperation,
};
use serde_json::Value;

use crate::files::settings;
use crate::worker::{JobOutcome, WorkerContext};
use crate::{Error, Result};

fn bad_payload(job: &furrow_store::Job, e: serde_json::Error) -> Error {
    Error::Payload {
        job: job.id.clone(),
        message: e.to_string(),
    }
}

/// The user's active boundaries as fields.
async fn user_fields(
    store: &furrow_store::Store,
    owner_id: &str,
    user_id: &str,
) -> Result<Vec<Field>> {
    Ok(store
        .active_boundaries_in_bbox(owner_id, user_id, [-180.0, -90.0, 180.0, 90.0])
        .await?
        .into_iter()
        .map(|b| Field {
            id: b.field_id,
            boundary: b.geometry,
        })
        .collect())
}

/// The allocation step of one converted file: records its facts for grouping. Returns the failure message when
/// the step cannot be done.
pub(crate) async fn allocation_step(
    ctx: &WorkerContext,
    blobs: &Blobs,
    owner_id: &str,
    file: &StoredFile,
) -> Result<std::result::Result<(), String>> {
    let store = &ctx.store;
    let Some(key) = file.standard_key.clone() else {
        return Ok(Err("the file has no standard points".into()));
    };
    let settings = settings(store, owner_id, &file.user_id).await?;
    let fields = user_fields(store, owner_id, &file.user_id).await?;
    let copy = match blobs.local_copy(&key).await {
        Ok(c) => c,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let allocated = tokio::task::spawn_blocking(move || {
        let r = furrow_pipeline::allocate_file(fields, copy.path()).map_err(|e| e.to_string());
        drop(copy);
        r
    })
    .await
    .unwrap_or_else(|e| Err(format!("the allocation stopped: {e}")));
    let allocated = match allocated {
        Ok(a) => a,
        Err(m) => return Ok(Err(m)),
    };
    let outside = allocated.outside;
    let facts = furrow_pipeline::file_facts(
        &FileDescription {
            file_id: &file.id,
            provider: &file.provider,
            operation_type: file.operation_type.as_deref().unwrap_or_default(),
            summary: file.summary.as_ref(),
            start: file.start_time.unwrap_or(file.created_at),
            end: file.end_time.or(file.start_time).unwrap_or(file.created_at),
        },
        allocated,
    );
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
                outside_count: i64::try_from(outside).unwrap_or(i64::MAX),
            },
        )
        .await?;
    Ok(Ok(()))
}

/// Re-allocates every processed file of a user (after its boundaries changed), then asks for its grouping.
async fn reallocate_user(ctx: &WorkerContext, owner_id: &str, user_id: &str) -> Result<()> {
    let Some(blobs) = ctx.config.blobs.clone() else {
        return Ok(());
    };
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

/// Matches freshly grouped operations to the stored ones: each new group keeps the id of the stored operation
/// (same type, field and crop) sharing most files with it, so ids stay stable as files arrive.
fn assign_ids(groups: &[furrow_allocate::Operation], existing: &[StoredOperation]) -> Vec<String> {
    let mut taken = std::collections::HashSet::new();
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
    chosen
}

/// Whether a file takes part in operations: `other` types only with `outOfStandardOperations`, and provider files
/// only within `operationsProcessingRange` (uploads always: someone sent them to be processed).
fn in_operations(origin: &str, facts: &FileFacts, settings: &Settings, now: i64) -> bool {
    if facts.operation_type == "other" && !settings.out_of_standard_operations {
        return false;
    }
    origin == "uploaded" || settings.in_processing_range(facts.end, now)
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
    if settings.field_operation_creation {
        let mut grouper = OperationGrouper::new(settings.grouping.clone());
        for f in &files {
            let Some(facts) = f
                .facts
                .clone()
                .and_then(|v| serde_json::from_value::<FileFacts>(v).ok())
            else {
                continue;
            };
            if in_operations(&f.origin, &facts, &settings, started) {
                grouper.add(&facts);
            }
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
                // Its files now belong to other operations (or to none).
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

/// An operation's input with local copies of its files' points (kept alive as long as the input is used).
pub(crate) async fn operation_input(
    store: &furrow_store::Store,
    blobs: &Blobs,
    owner: &str,
    op: &StoredOperation,
) -> Result<(OperationInput, Vec<LocalCopy>)> {
    let m = &op.membership;
    let settings = settings(store, owner, &m.user_id).await?;
    let (keys, field) = store.operation_parts(owner, op).await?;
    let mut parts = Vec::new();
    let mut copies = Vec::new();
    for (key, summary) in keys {
        let copy = blobs
            .local_copy(&key)
            .await
            .map_err(|e| Error::Blob(e.to_string()))?;
        parts.push((copy.path().to_path_buf(), summary));
        copies.push(copy);
    }
    Ok((
        OperationInput::new(&m.operation_type, parts, field, &settings),
        copies,
    ))
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
    let Some(blobs) = ctx.config.blobs.clone() else {
        return Ok(JobOutcome::Fail("no blob store configured".into()));
    };
    let (input, copies) = match operation_input(store, &blobs, owner, &op).await {
        Ok(i) => i,
        Err(Error::Blob(m)) => {
            return Ok(JobOutcome::Retry {
                after: std::time::Duration::from_secs(5),
                error: m,
            });
        }
        Err(e) => return Err(e),
    };
    let m = &op.membership;
    let settings = crate::files::settings(store, owner, &m.user_id).await?;
    let choice = settings.images_for(&m.operation_type);
    let filtered = settings.filtered_output;
    let render = choice.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let r = furrow_pipeline::build_operation(&input).map_err(|e| e.to_string());
        // Images from the filtered points (the standard ones when filtering is off), leaf-images.md §6.
        let images = match &r {
            Ok(b) if !render.is_empty() => Some(
                furrow_pipeline::render_operation_images(
                    &input,
                    filtered.then_some(&b.filter),
                    &render.properties,
                    render.geotiff,
                )
                .map_err(|e| e.to_string()),
            ),
            _ => None,
        };
        drop(copies);
        (r, images)
    })
    .await
    .unwrap_or_else(|e| (Err(format!("the build stopped: {e}")), None));
    let (built, images) = rendered;
    let outputs = match built {
        Ok(b) => OperationOutputs {
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
            filter: serde_json::to_value(&b.filter).ok(),
            points: i64::try_from(b.points).ok(),
            message: None,
        },
        Err(message) => OperationOutputs {
            fields: op.fields.clone(),
            message: Some(message),
            ..OperationOutputs::default()
        },
    };
    if !store
        .set_operation_outputs(owner, &m.id, op.version, &outputs)
        .await?
    {
        // The membership moved on while this ran: build again.
        return Ok(JobOutcome::Again);
    }
    if outputs.message.is_none() {
        let base = crate::images::operation_base(owner, &m.user_id, &m.id);
        let stored = match images {
            None => crate::images::forget(&blobs, &base).await,
            Some(Ok(images)) => crate::images::store(
                &blobs,
                &base,
                ImageOwner::Operation,
                images,
                &furrow_pipeline::operation_stamp(op.version),
                &choice,
            )
            .await
            .map(drop),
            Some(Err(e)) => {
                tracing::warn!(operation = %m.id, error = %e, "operation images failed");
                Ok(())
            }
        };
        if let Err(e) = stored {
            // The routes render on first request what is missing.
            tracing::warn!(operation = %m.id, error = %e, "operation images not stored");
        }
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

#[cfg(test)]
mod tests {
    use furrow_allocate::{FieldTouch, FileFacts};
    use furrow_pipeline::Settings;
    use serde_json::json;

    use super::in_operations;

    const DAY: i64 = 86_400_000_000;

    fn facts(operation_type: &str, end: i64) -> FileFacts {
        FileFacts {
            file_id: "f".into(),
            provider: "CLAAS".into(),
            operation_type: operation_type.into(),
            crop: None,
            till_type: None,
            start: end - DAY,
            end,
            covered_m2: 1.0,
            fields: vec![FieldTouch {
                field_id: "field".into(),
                intersection_m2: 1.0,
                field_area_m2: 1.0,
            }],
        }
    }

    fn settings(cfg: serde_json::Value) -> Settings {
        Settings::from_config(cfg.as_object().unwrap())
    }

    /// `operationsProcessingRange` (months, default 12) keeps old provider files out of operations; uploads
    /// always take part (someone sent them to be processed).
    #[test]
    fn the_processing_range_limits_provider_files_only() {
        let now = 1_000 * DAY;
        let old = facts("planted", now - 200 * DAY);
        let recent = facts("planted", now - 20 * DAY);
        let default = Settings::default();
        assert!(in_operations("provider", &old, &default, now));
        let three_months = settings(json!({"operationsProcessingRange": 3}));
        assert!(!in_operations("provider", &old, &three_months, now));
        assert!(in_operations("provider", &recent, &three_months, now));
        assert!(in_operations("uploaded", &old, &three_months, now));
        let seven_months = settings(json!({"operationsProcessingRange": 7}));
        assert!(in_operations("provider", &old, &seven_months, now));
    }

    /// `outOfStandardOperations`: files of type `other` make operations only when it is on.
    #[test]
    fn other_types_make_operations_only_when_asked() {
        let now = 10 * DAY;
        let other = facts("other", now);
        assert!(!in_operations(
            "uploaded",
            &other,
            &Settings::default(),
            now
        ));
        let on = settings(json!({"outOfStandardOperations": true}));
        assert!(in_operations("uploaded", &other, &on, now));
        assert!(in_operations("provider", &other, &on, now));
        assert!(in_operations(
            "uploaded",
            &facts("harvested", now),
            &Settings::default(),
            now
        ));
    }
}
