//! Machine files: `files_sync` lists a credential's provider files and records each new one once;
//! `file_process` downloads a file once into the blob store and converts it (ISOXML → standard GeoParquet and
//! GeoJSON, summary, units), recording each step. A failing file is marked `FAILED` with its message and never
//! blocks the others. Every step is idempotent: re-running a processed file changes nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use furrow_credentials::CredentialStatus;
use furrow_model::MachineFileDescriptor;
use furrow_provider::{Provider, ProviderContext, ProviderExt};
use furrow_store::{FileStatus, FileUpdate, NewFile, StoredFile};

use serde_json::Value;

use crate::blobs::{BlobError, BlobStore};
use crate::sinks::{EventWriter, StoreEventSink, StoreSecretSink};
use crate::worker::{JobOutcome, WorkerContext};
use crate::{Error, Result};
use furrow_model::Event;
use furrow_store::queue::{CredentialPayload, ProcessPayload};

/// Name of the original's blob.
pub const ORIGINAL_BLOB: &str = "original";
/// Name of the standard GeoParquet blob.
pub const STANDARD_PARQUET_BLOB: &str = "standard.parquet";
/// Name of the standard GeoJSON blob.
pub const STANDARD_GEOJSON_BLOB: &str = "standard.geojson";

const NO_BLOB_DIR: &str = "no blob directory configured: machine files cannot be stored";

fn bad_payload(job: &furrow_store::Job, e: serde_json::Error) -> Error {
    Error::Payload {
        job: job.id.clone(),
        message: e.to_string(),
    }
}

/// An uploaded file (`POST /batch`) whose original is already in the blob store.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The Leaf user.
    pub user_id: String,
    /// Declared provider (`Other`, `JohnDeere`, ...).
    pub provider: String,
    /// Uploaded file name.
    pub file_name: String,
    /// The batch it came in.
    pub batch_id: String,
    /// Path of the original in the blob store.
    pub original_path: String,
    /// Bytes.
    pub size: u64,
}

/// Records an uploaded file and enqueues its processing, like a provider file's; returns the file id.
pub async fn register_upload(
    store: &furrow_store::Store,
    owner_id: &str,
    upload: &Upload,
) -> Result<String> {
    let size = i64::try_from(upload.size).ok();
    let (file_id, _) = store
        .insert_file_if_absent(
            owner_id,
            &NewFile {
                user_id: upload.user_id.clone(),
                provider: upload.provider.clone(),
                provider_file_id: upload.batch_id.clone(),
                credential_id: None,
                organization_id: None,
                origin: "uploaded".into(),
                file_name: upload.file_name.clone(),
                file_format: Some("ISO11783".into()),
                size_bytes: size,
                batch_id: Some(upload.batch_id.clone()),
            },
        )
        .await?;
    store
        .update_file(
            owner_id,
            &file_id,
            &FileUpdate {
                steps: vec![("original".into(), "DONE".into())],
                original_path: Some(upload.original_path.clone()),
                size_bytes: size,
                ..Default::default()
            },
        )
        .await?;
    let descriptor = MachineFileDescriptor {
        id: upload.batch_id.clone(),
        name: upload.file_name.clone(),
        organization_id: String::new(),
        created_time: None,
        size: Some(upload.size),
        format: None,
        download_ref: None,
    };
    store
        .enqueue_file_process(owner_id, &file_id, &descriptor)
        .await?;
    Ok(file_id)
}

fn backoff(attempts: i64) -> Duration {
    Duration::from_secs(5u64.saturating_mul(1 << attempts.clamp(0, 10)))
        .min(Duration::from_secs(3600))
}

async fn adapter(
    ctx: &WorkerContext,
    owner_id: &str,
    cred: &furrow_store::StoredCredential,
) -> Result<(Arc<dyn Provider>, EventWriter)> {
    let mut values = cred.public.clone();
    values.extend(cred.secrets.clone());
    let (events, writer) =
        StoreEventSink::new(ctx.store.clone(), owner_id.to_owned(), cred.id.clone());
    let secrets = StoreSecretSink::new(ctx.store.clone(), owner_id.to_owned(), cred.id.clone());
    match ctx
        .registry
        .build(cred.provider, ProviderContext::new(values, events, secrets))
    {
        Ok(a) => Ok((a, writer)),
        Err(e) => {
            drop(writer);
            Err(e)
        }
    }
}

fn provider_outcome(e: &furrow_provider::Error, attempts: i64) -> JobOutcome {
    if e.is_retryable() {
        JobOutcome::Retry {
            after: backoff(attempts),
            error: e.to_string(),
        }
    } else {
        JobOutcome::Fail(e.to_string())
    }
}

pub(crate) async fn run_sync(ctx: &WorkerContext, job: &furrow_store::Job) -> Result<JobOutcome> {
    let payload: CredentialPayload =
        serde_json::from_str(&job.payload).map_err(|e| bad_payload(job, e))?;
    if ctx.config.blob_dir.is_none() {
        return Ok(JobOutcome::Fail(NO_BLOB_DIR.into()));
    }
    let store = &ctx.store;
    let cred = match store
        .get_credential_by_id(&job.owner_id, &payload.credential_id)
        .await
    {
        Ok(c) => c,
        Err(furrow_store::Error::NotFound(_)) => return Ok(JobOutcome::Done),
        Err(e) => return Err(e.into()),
    };
    if cred.status == CredentialStatus::Invalid {
        return Ok(JobOutcome::Done);
    }
    let (provider, writer) = match adapter(ctx, &job.owner_id, &cred).await {
        Ok(a) => a,
        Err(e) => return Ok(JobOutcome::Fail(e.to_string())),
    };
    let provider_name = cred.provider.leaf_name().to_owned();
    let orgs = provider.organizations().await;
    let listed = match orgs {
        Ok(orgs) => {
            let mut all = Vec::new();
            let mut cursors = Vec::new();
            let mut failure = None;
            for org in orgs {
                store
                    .upsert_provider_organization(
                        &job.owner_id,
                        &cred.user_id,
                        &provider_name,
                        &org.id,
                        &org.name,
                        org.connected,
                        org.connection_uri.as_deref(),
                    )
                    .await?;
                if !org.connected {
                    continue;
                }
                // Where the provider tracks changes (John Deere), list only what changed since the cursor kept
                // from the last sync; a cursor the provider no longer accepts means a full listing.
                let kept = store
                    .files_cursor(&job.owner_id, &cred.user_id, &provider_name, &org.id)
                    .await?;
                let mut changes = provider
                    .machine_file_changes(&org.id, None, kept.as_deref())
                    .await;
                let stale = |e: &furrow_provider::Error| {
                    !e.is_retryable() && e.credential_status().is_none()
                };
                if kept.is_some() && changes.as_ref().is_err_and(stale) {
                    changes = provider.machine_file_changes(&org.id, None, None).await;
                }
                match changes {
                    Ok((files, next)) => {
                        all.extend(files);
                        cursors.push((org.id, next));
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            match failure {
                Some(e) => Err(e),
                None => Ok((all, cursors)),
            }
        }
        Err(e) => Err(e),
    };
    drop(provider);
    writer.finish().await;
    let (descriptors, cursors) = match listed {
        Ok(d) => d,
        Err(e) => {
            if crate::validate::credential_refused(store, &job.owner_id, &cred, &e).await? {
                return Ok(JobOutcome::Done);
            }
            return Ok(provider_outcome(&e, job.attempts));
        }
    };
    let leaf_name = provider_name.clone();
    let mut new = 0usize;
    for d in descriptors {
        let file = NewFile {
            user_id: cred.user_id.clone(),
            provider: leaf_name.clone(),
            provider_file_id: d.id.clone(),
            credential_id: Some(cred.id.clone()),
            organization_id: Some(d.organization_id.clone()),
            origin: "provider".into(),
            file_name: d.name.clone(),
            file_format: Some("ISO11783".into()),
            size_bytes: d.size.and_then(|s| i64::try_from(s).ok()),
            batch_id: None,
        };
        let (file_id, inserted) = store.insert_file_if_absent(&job.owner_id, &file).await?;
        new += usize::from(inserted);
        // A file still PROCESSING (new, or recorded before a crash) gets its processing job; the dedupe key
        // keeps it to one job per file.
        let current = store.get_file(&job.owner_id, &file_id).await?;
        if current.status == FileStatus::Processing {
            store
                .enqueue_file_process(&job.owner_id, &file_id, &d)
                .await?;
        }
    }
    // Cursors move only once every listed file is recorded, so a crash lists the same changes again.
    for (org, cursor) in cursors {
        store
            .set_files_cursor(
                &job.owner_id,
                &cred.user_id,
                &provider_name,
                &org,
                cursor.as_deref(),
            )
            .await?;
    }
    store
        .mark_credential_synced(&job.owner_id, &cred.id)
        .await?;
    tracing::info!(credential = %cred.id, new, "machine files listed");
    Ok(JobOutcome::Done)
}

/// What the conversion produced.
struct Converted {
    operation_type: String,
    summary: Value,
    units: Value,
    parquet: PathBuf,
    geojson: PathBuf,
}

fn convert(original: &Path, scratch: &Path) -> std::result::Result<Converted, String> {
    use furrow_machine_data::OperationType;
    use furrow_machine_data::{ConvertOptions, OutputFormat, WriteOptions, plan, write_plans};
    let opts = ConvertOptions::default();
    // Messages reach API clients: name the file, never the blob store's paths.
    let (orig, dir) = (
        original.display().to_string(),
        scratch.display().to_string(),
    );
    let clean = move |e: &dyn std::fmt::Display| {
        e.to_string()
            .replace(&orig, "the original file")
            .replace(&dir, "output")
    };
    let sets = furrow_isoxml::TaskData::open_all(original).map_err(|e| clean(&e))?;
    let plans: Vec<_> = sets
        .iter()
        .enumerate()
        .flat_map(|(i, td)| plan(td, &opts).into_iter().map(move |p| (i, p)))
        .collect();
    if plans.is_empty() {
        return Err("no time logs to convert".into());
    }
    // Leaf converts planting, application, harvest and tillage; anything else fails saying so.
    let (set, first) = plans
        .into_iter()
        .find(|(_, p)| p.operation_type != OperationType::Other)
        .ok_or_else(|| "unsupported operation type: other".to_owned())?;
    let parquet = scratch.join(STANDARD_PARQUET_BLOB);
    let geojson = scratch.join(STANDARD_GEOJSON_BLOB);
    let written = write_plans(
        &sets[set],
        &[&first],
        &opts,
        &parquet,
        &WriteOptions {
            format: OutputFormat::GeoParquet,
            ..WriteOptions::default()
        },
        &mut |_| {},
    )
    .map_err(|e| clean(&e))?;
    write_plans(
        &sets[set],
        &[&first],
        &opts,
        &geojson,
        &WriteOptions {
            format: OutputFormat::GeoJson,
            ..WriteOptions::default()
        },
        &mut |_| {},
    )
    .map_err(|e| clean(&e))?;
    let outcome = written
        .outcomes
        .into_iter()
        .next()
        .ok_or_else(|| "the converter reported nothing".to_owned())?;
    if outcome.counts.written == 0 {
        return Err("no points passed the filter".into());
    }
    Ok(Converted {
        operation_type: first.operation_type.to_string(),
        summary: outcome.summary,
        units: outcome.units,
        parquet: written.points,
        geojson,
    })
}

fn summary_time(summary: &Value, key: &str) -> Option<i64> {
    let s = summary.get("properties")?.get(key)?.as_str()?;
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000).ok()
}

async fn finish(
    ctx: &WorkerContext,
    owner_id: &str,
    file: &StoredFile,
    failure: Option<(&str, String)>,
) -> Result<JobOutcome> {
    let uploaded = file.origin == "uploaded";
    let (event, message) = match (&failure, uploaded) {
        (Some((_, m)), false) => ("providerFileProcessingFailed", Some(m.clone())),
        (None, false) => ("providerFileProcessingFinished", None),
        (Some((_, m)), true) => ("uploadedFileProcessingFailed", Some(m.clone())),
        (None, true) => ("uploadedFileProcessingFinished", None),
    };
    // Fire first: a crash before the status is written re-runs the job (at-least-once delivery).
    ctx.store
        .fire(
            owner_id,
            &Event::File {
                event,
                file_id: file.id.clone(),
                leaf_user_id: file.user_id.clone(),
                message: message.clone(),
            },
        )
        .await?;
    let failed = failure.is_some();
    let update = match failure {
        Some((step, m)) => FileUpdate {
            status: Some(FileStatus::Failed),
            steps: vec![(step.to_owned(), "FAILED".into())],
            message: Some(Some(m)),
            ..Default::default()
        },
        None => FileUpdate {
            status: Some(FileStatus::Processed),
            message: Some(None),
            ..Default::default()
        },
    };
    ctx.store.update_file(owner_id, &file.id, &update).await?;
    if let Some(batch) = &file.batch_id {
        let (status, details) = if failed {
            ("FAILED", message)
        } else {
            ("PROCESSED", None)
        };
        ctx.store
            .set_batch_status(owner_id, batch, status, details.as_deref())
            .await?;
        ctx.store
            .fire(
                owner_id,
                &Event::Batch {
                    batch_id: batch.clone(),
                    leaf_user_id: file.user_id.clone(),
                },
            )
            .await?;
    }
    Ok(JobOutcome::Done)
}

/// Renews a job's lease every third of its length until dropped (or until the job is lost).
struct LeaseKeeper(tokio::task::JoinHandle<()>);

impl LeaseKeeper {
    fn start(ctx: &WorkerContext, job: &furrow_store::Job) -> Self {
        let store = ctx.store.clone();
        let id = job.id.clone();
        let worker = ctx.config.id.clone();
        let lease = ctx.config.lease;
        Self(tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                let until = furrow_model::now_micros() + lease.as_micros() as i64;
                match store.renew_job_lease(&id, &worker, until).await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => tracing::warn!(job = %id, error = %e, "could not renew the lease"),
                }
            }
        }))
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn blob_err(e: BlobError) -> String {
    e.to_string()
}

pub(crate) async fn run_process(
    ctx: &WorkerContext,
    job: &furrow_store::Job,
) -> Result<JobOutcome> {
    let payload: ProcessPayload =
        serde_json::from_str(&job.payload).map_err(|e| bad_payload(job, e))?;
    let Some(dir) = ctx.config.blob_dir.clone() else {
        return Ok(JobOutcome::Fail(NO_BLOB_DIR.into()));
    };
    let blobs = BlobStore::new(dir);
    // Downloads and conversions can outlast a lease: keep it while this job runs.
    let _lease = LeaseKeeper::start(ctx, job);
    let store = &ctx.store;
    let owner = job.owner_id.as_str();
    let mut file = match store.get_file(owner, &payload.original_id).await {
        Ok(f) => f,
        Err(furrow_store::Error::NotFound(_)) => return Ok(JobOutcome::Done),
        Err(e) => return Err(e.into()),
    };
    if file.status != FileStatus::Processing {
        // Processed before a crash that came before its grouping was asked for: ask now.
        if file.status == FileStatus::Processed && file.facts.is_some() && file.grouped_at.is_none()
        {
            store.enqueue_grouping(owner, &file.user_id).await?;
        }
        return Ok(JobOutcome::Done);
    }
    // Step 1: the original, downloaded once.
    let original = match &file.original_path {
        Some(p) if tokio::fs::try_exists(p).await.unwrap_or(false) => PathBuf::from(p),
        _ => {
            let Some(cred_id) = file.credential_id.clone() else {
                return finish(
                    ctx,
                    owner,
                    &file,
                    Some(("original", "the file has no original".into())),
                )
                .await;
            };
            let cred = match store.get_credential_by_id(owner, &cred_id).await {
                Ok(c) => c,
                Err(furrow_store::Error::NotFound(_)) => {
                    let m = "the credential of this file was deleted".to_owned();
                    return finish(ctx, owner, &file, Some(("original", m))).await;
                }
                Err(e) => return Err(e.into()),
            };
            let (provider, writer) = match adapter(ctx, owner, &cred).await {
                Ok(a) => a,
                Err(e) => return Ok(JobOutcome::Fail(e.to_string())),
            };
            let stored = match provider.download(&payload.descriptor).await {
                Ok(stream) => {
                    blobs
                        .put_stream(owner, &file.id, ORIGINAL_BLOB, stream)
                        .await
                }
                Err(e) => Err(BlobError::Download(e)),
            };
            drop(provider);
            writer.finish().await;
            let (path, size) = match stored {
                Ok(s) => s,
                Err(BlobError::Download(e)) => {
                    let last = job.attempts >= job.max_attempts;
                    return match provider_outcome(&e, job.attempts) {
                        JobOutcome::Retry { .. } if !last => Ok(provider_outcome(&e, job.attempts)),
                        _ => finish(ctx, owner, &file, Some(("original", e.to_string()))).await,
                    };
                }
                Err(e) => {
                    return Ok(JobOutcome::Retry {
                        after: backoff(job.attempts),
                        error: blob_err(e),
                    });
                }
            };
            file = store
                .update_file(
                    owner,
                    &file.id,
                    &FileUpdate {
                        steps: vec![("original".into(), "DONE".into())],
                        original_path: Some(path.display().to_string()),
                        size_bytes: i64::try_from(size).ok(),
                        ..Default::default()
                    },
                )
                .await?;
            path
        }
    };
    // Step 2: standard GeoParquet and GeoJSON, summary and units.
    let scratch = match blobs.scratch(owner, &file.id).await {
        Ok(s) => s,
        Err(e) => {
            return Ok(JobOutcome::Retry {
                after: backoff(job.attempts),
                error: blob_err(e),
            });
        }
    };
    let work = scratch.clone();
    let converted = tokio::task::spawn_blocking(move || convert(&original, &work))
        .await
        .unwrap_or_else(|e| Err(format!("the converter stopped: {e}")));
    let result = match converted {
        Ok(c) => {
            let parquet = blobs
                .publish(&c.parquet, owner, &file.id, STANDARD_PARQUET_BLOB)
                .await;
            let geojson = blobs
                .publish(&c.geojson, owner, &file.id, STANDARD_GEOJSON_BLOB)
                .await;
            Ok((c, parquet, geojson))
        }
        Err(m) => Err(m),
    };
    let _ = tokio::fs::remove_dir_all(&scratch).await;
    match result {
        Ok((c, Ok(parquet), Ok(geojson))) => {
            let start = summary_time(&c.summary, "startTime");
            let end = summary_time(&c.summary, "endTime");
            file = store
                .update_file(
                    owner,
                    &file.id,
                    &FileUpdate {
                        steps: vec![
                            ("standard".into(), "DONE".into()),
                            ("geojson".into(), "DONE".into()),
                            ("summary".into(), "DONE".into()),
                            ("units".into(), "DONE".into()),
                        ],
                        operation_type: Some(c.operation_type),
                        start_time: start,
                        end_time: end,
                        summary: Some(c.summary),
                        units: Some(c.units),
                        standard_path: Some(parquet.display().to_string()),
                        geojson_path: Some(geojson.display().to_string()),
                        ..Default::default()
                    },
                )
                .await?;
            // Swath polygons when the user's configuration asks for them (enablePolygonOutput).
            if crate::operations::polygon_output(store, owner, &file.user_id).await? {
                let state = match crate::operations::file_polygons(&blobs, owner, &file).await {
                    Ok(true) => "DONE",
                    Ok(false) => "SKIPPED",
                    Err(m) => {
                        tracing::warn!(file = %file.id, error = %m, "polygon output failed");
                        "FAILED"
                    }
                };
                file = store
                    .update_file(
                        owner,
                        &file.id,
                        &FileUpdate {
                            steps: vec![("polygonGeoparquet".into(), state.into())],
                            ..Default::default()
                        },
                    )
                    .await?;
            }
            // Step 3: allocation to the user's fields (a failure here leaves the conversion usable).
            let allocation = crate::operations::allocation_step(ctx, &blobs, owner, &file).await?;
            let (state, message) = match allocation {
                Ok(()) => ("DONE", None),
                Err(m) => {
                    tracing::warn!(file = %file.id, error = %m, "allocation failed");
                    ("FAILED", Some(m))
                }
            };
            file = store
                .update_file(
                    owner,
                    &file.id,
                    &FileUpdate {
                        steps: vec![("allocation".into(), state.into())],
                        ..Default::default()
                    },
                )
                .await?;
            let outcome = finish(ctx, owner, &file, None).await?;
            if message.is_none() {
                store.enqueue_grouping(owner, &file.user_id).await?;
            }
            Ok(outcome)
        }
        Ok((_, Err(e), _)) | Ok((_, _, Err(e))) => Ok(JobOutcome::Retry {
            after: backoff(job.attempts),
            error: blob_err(e),
        }),
        Err(m) => finish(ctx, owner, &file, Some(("standard", m))).await,
    }
}
