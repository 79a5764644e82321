//! Machine files. `files_sync` lists a credential's provider files and records each new *original* once;
//! `file_process` downloads an original once into the blob store, finds its datasets with `furrow-pipeline`,
//! records one file per dataset unit (every task and operation type of an ISOXML set, every shapefile set, every
//! proprietary dataset kept as unsupported) and converts each once to standard GeoParquet, then allocates its
//! points to the user's fields. A unit that cannot be converted becomes a failed file with its reason; a
//! failing file never blocks the others. Every step is idempotent: re-running an original changes nothing
//! that is done.

use std::sync::Arc;
use std::time::Duration;

use furrow_credentials::CredentialStatus;
use furrow_model::{Event, MachineFileDescriptor};
use furrow_pipeline::{Converted, Detection, ImageOwner, Limits, Opened, Settings, Unit};
use furrow_provider::{Provider, ProviderContext, ProviderExt};
use furrow_store::blobs::{file_key, original_key};
use furrow_store::queue::{ProcessPayload, SyncPayload};
use furrow_store::{
    Blobs, FileStatus, FileUpdate, NewFile, NewOriginal, OriginalStatus, StoredFile, StoredOriginal,
};
use serde_json::Value;

use crate::sinks::{EventWriter, StoreEventSink, StoreSecretSink};
use crate::worker::{JobOutcome, WorkerContext};
use crate::{Error, Result};

/// Name of a file's standard GeoParquet blob.
pub const STANDARD_PARQUET_BLOB: &str = "standard.parquet";

const NO_BLOBS: &str = "no blob store configured: machine files cannot be stored";

fn bad_payload(job: &furrow_store::Job, e: serde_json::Error) -> Error {
    Error::Payload {
        job: job.id.clone(),
        message: e.to_string(),
    }
}

fn backoff(attempts: i64) -> Duration {
    Duration::from_secs(5u64.saturating_mul(1 << attempts.clamp(0, 10)))
        .min(Duration::from_secs(3600))
}

/// The user's pipeline settings (their effective configuration).
pub(crate) async fn settings(
    store: &furrow_store::Store,
    owner_id: &str,
    user_id: &str,
) -> Result<Settings> {
    Ok(Settings::from_config(
        &store.effective_config(owner_id, user_id).await?,
    ))
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

/// Whether an organization's machine files are held back: `customDataSync` keeps a `PREVIEW` organization's
/// files listed but not downloaded until the user selects it; `organizationDataSync=SELECTED_ONLY` does the same
/// for every organization not `SELECTED`.
fn held_back(settings: &Settings, org_status: &str) -> bool {
    (settings.custom_data_sync && org_status == "PREVIEW")
        || (settings.selected_organizations_only && org_status != "SELECTED")
}

pub(crate) async fn run_sync(ctx: &WorkerContext, job: &furrow_store::Job) -> Result<JobOutcome> {
    let payload: SyncPayload =
        serde_json::from_str(&job.payload).map_err(|e| bad_payload(job, e))?;
    if ctx.config.blobs.is_none() {
        return Ok(JobOutcome::Fail(NO_BLOBS.into()));
    }
    let store = &ctx.store;
    let owner = job.owner_id.as_str();
    let cred = match store
        .get_credential_by_id(owner, &payload.credential_id)
        .await
    {
        Ok(c) => c,
        Err(furrow_store::Error::NotFound(_)) => return Ok(JobOutcome::Done),
        Err(e) => return Err(e.into()),
    };
    if cred.status == CredentialStatus::Invalid {
        return Ok(JobOutcome::Done);
    }
    let settings = settings(store, owner, &cred.user_id).await?;
    if !settings.operations_auto_sync && !payload.manual {
        return Ok(JobOutcome::Done);
    }
    let (provider, writer) = match adapter(ctx, owner, &cred).await {
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
                let row = store
                    .upsert_provider_organization(
                        owner,
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
                    .files_cursor(owner, &cred.user_id, &provider_name, &org.id)
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
                        let hold = held_back(&settings, &row.status);
                        all.extend(files.into_iter().map(|f| (f, hold)));
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
            if crate::validate::credential_refused(store, owner, &cred, &e).await? {
                return Ok(JobOutcome::Done);
            }
            return Ok(provider_outcome(&e, job.attempts));
        }
    };
    let mut new = 0usize;
    let mut held = 0usize;
    for (d, hold) in descriptors {
        let status = if hold {
            OriginalStatus::Listed
        } else {
            OriginalStatus::Pending
        };
        let (id, inserted) = store
            .insert_original_if_absent(
                owner,
                &NewOriginal {
                    user_id: cred.user_id.clone(),
                    provider: provider_name.clone(),
                    provider_file_id: d.id.clone(),
                    credential_id: Some(cred.id.clone()),
                    organization_id: Some(d.organization_id.clone()),
                    origin: "provider".into(),
                    file_name: d.name.clone(),
                    size_bytes: d.size.and_then(|s| i64::try_from(s).ok()),
                    descriptor: Some(d.clone()),
                },
                status,
            )
            .await?;
        new += usize::from(inserted);
        held += usize::from(hold);
        let current = store.get_original(owner, &id).await?;
        match current.status {
            // Held back before, allowed now (its organization was selected): process it.
            OriginalStatus::Listed if !hold => {
                store
                    .set_original_state(owner, &id, OriginalStatus::Pending, None, None)
                    .await?;
                store.enqueue_file_process(owner, &id, &d).await?;
            }
            // New, or recorded before a crash: its processing job (one per original by its dedupe key).
            OriginalStatus::Pending => {
                store.enqueue_file_process(owner, &id, &d).await?;
            }
            _ => {}
        }
    }
    // Cursors move only once every listed file is recorded, so a crash lists the same changes again.
    for (org, cursor) in cursors {
        store
            .set_files_cursor(
                owner,
                &cred.user_id,
                &provider_name,
                &org,
                cursor.as_deref(),
            )
            .await?;
    }
    store.mark_credential_synced(owner, &cred.id).await?;
    tracing::info!(credential = %cred.id, new, held, "machine files listed");
    Ok(JobOutcome::Done)
}

/// Renews a job's lease every third of its length until dropped (or until the job is lost).
pub(crate) struct LeaseKeeper(tokio::task::JoinHandle<()>);

impl LeaseKeeper {
    pub(crate) fn start(ctx: &WorkerContext, job: &furrow_store::Job) -> Self {
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

/// Step 1: the original in the blob store (downloaded once). `Err` is the job's outcome when it cannot be had
/// now.
async fn fetch_original(
    ctx: &WorkerContext,
    blobs: &Blobs,
    job: &furrow_store::Job,
    original: &StoredOriginal,
    descriptor: &MachineFileDescriptor,
) -> Result<std::result::Result<String, JobOutcome>> {
    let owner = job.owner_id.as_str();
    if let Some(key) = &original.blob_key {
        if blobs.size(key).await.ok().flatten().is_some() {
            return Ok(Ok(key.clone()));
        }
    }
    // An original that cannot be had is a failed file saying why, never silence.
    let fail = |m: String| async move {
        let key = original.blob_key.clone().unwrap_or_default();
        let file = record_file(ctx, owner, original, &key, "", &original.file_name, None).await?;
        let file = if file.status == FileStatus::Processing {
            fail_file(ctx, owner, &file, "originalFile", &m).await?
        } else {
            file
        };
        ctx.store
            .set_original_state(owner, &original.id, OriginalStatus::Failed, Some(&m), None)
            .await?;
        finish_original(ctx, owner, original, &[file], Some(m)).await?;
        Ok::<_, Error>(Err(JobOutcome::Done))
    };
    let Some(cred_id) = original.credential_id.clone() else {
        return fail("the original is missing from the blob store".into()).await;
    };
    let cred = match ctx.store.get_credential_by_id(owner, &cred_id).await {
        Ok(c) => c,
        Err(furrow_store::Error::NotFound(_)) => {
            return fail("the credential of this file was deleted before it was downloaded".into())
                .await;
        }
        Err(e) => return Err(e.into()),
    };
    let (provider, writer) = match adapter(ctx, owner, &cred).await {
        Ok(a) => a,
        Err(e) => return Ok(Err(JobOutcome::Fail(e.to_string()))),
    };
    let key = original_key(owner, &original.user_id, &original.id);
    let stored = match provider.download(descriptor).await {
        Ok(stream) => Ok(blobs.put_stream(&key, stream).await),
        Err(e) => Err(e),
    };
    drop(provider);
    writer.finish().await;
    let last = job.attempts >= job.max_attempts;
    match stored {
        Ok(Ok(size)) => {
            ctx.store
                .set_original_state(
                    owner,
                    &original.id,
                    OriginalStatus::Pending,
                    None,
                    Some((&key, i64::try_from(size).unwrap_or(i64::MAX))),
                )
                .await?;
            Ok(Ok(key))
        }
        // The provider refused or failed the download.
        Err(e) => {
            if crate::validate::credential_refused(&ctx.store, owner, &cred, &e).await?
                || !e.is_retryable()
                || last
            {
                return fail(format!("download: {e}")).await;
            }
            Ok(Err(provider_outcome(&e, job.attempts)))
        }
        // The stream broke or the blob store failed: try again.
        Ok(Err(e)) if !last => Ok(Err(JobOutcome::Retry {
            after: backoff(job.attempts),
            error: e.to_string(),
        })),
        Ok(Err(e)) => fail(format!("download: {e}")).await,
    }
}

/// What the blocking half found in an original.
struct Found {
    detection: Detection,
    opened: Vec<std::result::Result<Opened, String>>,
    units: Vec<(usize, Unit)>,
}

/// Why the blocking half found nothing to convert.
enum Unfound {
    /// The original cannot be looked at (the file fails with this message).
    Failed(String),
    /// The process's memory budget for reading data sets is held by other work: try the job again later.
    Busy(String),
}

fn find_units(original: &std::path::Path, scratch: &std::path::Path) -> Result<Found, Unfound> {
    let mut detection = furrow_pipeline::detect(original, scratch, &Limits::default())
        .map_err(|e| Unfound::Failed(e.to_string()))?;
    let mut unreadable = Vec::new();
    let mut opened = Vec::new();
    let mut units = Vec::new();
    for (i, ds) in detection.datasets.iter().enumerate() {
        match furrow_pipeline::open(ds) {
            Ok(o) => {
                units.extend(o.units().into_iter().map(|u| (i, u)));
                opened.push(Ok(o));
            }
            Err(e @ furrow_pipeline::Error::IsoXml(furrow_isoxml::Error::MemoryBusy { .. })) => {
                // Give back what this job holds, so the work that holds the rest can finish.
                drop(opened);
                return Err(Unfound::Busy(e.to_string()));
            }
            Err(e) => {
                // A dataset that cannot be read (XML over the memory budget, not XML at all) is a failed file
                // saying why, never a silent "nothing found".
                unreadable.push(furrow_pipeline::Problem {
                    key: ds.key.clone(),
                    message: e.to_string(),
                });
                opened.push(Err(e.to_string()));
            }
        }
    }
    detection.problems.extend(unreadable);
    Ok(Found {
        detection,
        opened,
        units,
    })
}

/// Messages reach API clients: name the original, never the scratch or blob paths.
fn clean_message(m: &str, paths: &[&std::path::Path], name: &str) -> String {
    let mut out = m.to_owned();
    for p in paths {
        out = out.replace(&p.display().to_string(), name);
    }
    out
}

pub(crate) async fn run_process(
    ctx: &WorkerContext,
    job: &furrow_store::Job,
) -> Result<JobOutcome> {
    let payload: ProcessPayload =
        serde_json::from_str(&job.payload).map_err(|e| bad_payload(job, e))?;
    let Some(blobs) = ctx.config.blobs.clone() else {
        return Ok(JobOutcome::Fail(NO_BLOBS.into()));
    };
    let store = &ctx.store;
    let owner = job.owner_id.as_str();
    let original = match store.get_original(owner, &payload.original_id).await {
        Ok(o) => o,
        Err(furrow_store::Error::NotFound(_)) => return Ok(JobOutcome::Done),
        Err(e) => return Err(e.into()),
    };
    match original.status {
        OriginalStatus::Listed | OriginalStatus::Failed => return Ok(JobOutcome::Done),
        OriginalStatus::Done => {
            // Processed before a crash that came before its grouping was asked for: ask now.
            if store.ungrouped_files(owner, &original.user_id).await? > 0 {
                store.enqueue_grouping(owner, &original.user_id).await?;
            }
            return Ok(JobOutcome::Done);
        }
        OriginalStatus::Pending => {}
    }
    // Downloads and conversions can outlast a lease: keep it while this job runs.
    let _lease = LeaseKeeper::start(ctx, job);
    let key = match fetch_original(ctx, &blobs, job, &original, &payload.descriptor).await? {
        Ok(k) => k,
        Err(outcome) => return Ok(outcome),
    };
    // Step 2: what the original holds.
    let copy = match blobs.local_copy(&key).await {
        Ok(c) => c,
        Err(e) => {
            return Ok(JobOutcome::Retry {
                after: backoff(job.attempts),
                error: e.to_string(),
            });
        }
    };
    let scratch = match blobs.scratch() {
        Ok(s) => s,
        Err(e) => {
            return Ok(JobOutcome::Retry {
                after: backoff(job.attempts),
                error: e.to_string(),
            });
        }
    };
    let (orig_path, scratch_path) = (copy.path().to_path_buf(), scratch.path().to_path_buf());
    let found = {
        let (o, s) = (orig_path.clone(), scratch_path.clone());
        tokio::task::spawn_blocking(move || find_units(&o, &s))
            .await
            .unwrap_or_else(|e| Err(Unfound::Failed(format!("the reader stopped: {e}"))))
    };
    let name = original.file_name.clone();
    let paths = [orig_path.as_path(), scratch_path.as_path()];
    let found = match found {
        Ok(f) => f,
        Err(Unfound::Busy(m)) if job.attempts < job.max_attempts => {
            tracing::info!(job = %job.id, "{m}");
            return Ok(JobOutcome::Retry {
                after: backoff(job.attempts),
                error: clean_message(&m, &paths, &name),
            });
        }
        Err(Unfound::Failed(m) | Unfound::Busy(m)) => {
            let m = clean_message(&m, &paths, &name);
            let file = record_file(ctx, owner, &original, &key, "", &name, None).await?;
            fail_file(ctx, owner, &file, "rawGeojson", &m).await?;
            return finish_done(ctx, owner, &original, vec![file]).await;
        }
    };
    let settings = settings(store, owner, &original.user_id).await?;
    let mut files: Vec<StoredFile> = Vec::new();
    // Nothing recognisable: one failed file says what the original holds.
    if found.units.is_empty() && found.detection.problems.is_empty() {
        // The pipeline calls the upload "the original"; the grower knows it by its file name.
        let m = clean_message(&found.detection.nothing_found(), &paths, &name)
            .replace("the original is empty", &format!("{name} is empty"));
        let file = record_file(ctx, owner, &original, &key, "", &name, None).await?;
        if file.status == FileStatus::Processing {
            fail_file(ctx, owner, &file, "rawGeojson", &m).await?;
        }
        files.push(file);
        return finish_done(ctx, owner, &original, files).await;
    }
    // Parts of the original that could not be looked at (a refused nested zip): a failed file each.
    for p in &found.detection.problems {
        let file = record_file(
            ctx,
            owner,
            &original,
            &key,
            &p.key,
            &if p.key.is_empty() {
                name.clone()
            } else {
                format!("{name} ({})", p.key)
            },
            None,
        )
        .await?;
        if file.status == FileStatus::Processing {
            fail_file(
                ctx,
                owner,
                &file,
                "rawGeojson",
                &clean_message(&p.message, &paths, &name),
            )
            .await?;
        }
        files.push(file);
    }
    let single = found.units.len() == 1;
    let opened = Arc::new(found.opened);
    for (ds_index, unit) in found.units {
        let file_name = if single {
            name.clone()
        } else {
            format!(
                "{name} [{}{}]",
                unit.name,
                match unit.operation_type {
                    Some(op) => format!(", {op}"),
                    None => String::new(),
                }
            )
        };
        let file = record_file(
            ctx,
            owner,
            &original,
            &key,
            &unit.key,
            &file_name,
            Some(unit.format.file_format()),
        )
        .await?;
        if file.status != FileStatus::Processing {
            files.push(file);
            continue;
        }
        if let Some(reason) = unit.refusal() {
            files.push(fail_file(ctx, owner, &file, "standardGeojson", &reason).await?);
            continue;
        }
        let out = match blobs.scratch() {
            Ok(s) => s,
            Err(e) => {
                return Ok(JobOutcome::Retry {
                    after: backoff(job.attempts),
                    error: e.to_string(),
                });
            }
        };
        let converted = {
            let (opened, settings, dir) =
                (opened.clone(), settings.clone(), out.path().to_path_buf());
            tokio::task::spawn_blocking(move || match opened.get(ds_index) {
                Some(Ok(o)) => o.convert(&unit, &settings, &dir).map_err(|e| e.to_string()),
                Some(Err(m)) => Err(m.clone()),
                None => Err("the dataset is gone".into()),
            })
            .await
            .unwrap_or_else(|e| Err(format!("the converter stopped: {e}")))
        };
        let file = match converted {
            Ok(c) => store_converted(ctx, &blobs, owner, &file, c, &settings).await?,
            Err(m) => {
                fail_file(
                    ctx,
                    owner,
                    &file,
                    "standardGeojson",
                    &clean_message(&m, &paths, &name),
                )
                .await?
            }
        };
        drop(out);
        files.push(file);
    }
    drop(scratch);
    drop(copy);
    finish_done(ctx, owner, &original, files).await
}

/// The file row of one unit of an original (created once; the same on every re-run).
async fn record_file(
    ctx: &WorkerContext,
    owner: &str,
    original: &StoredOriginal,
    key: &str,
    dataset_key: &str,
    file_name: &str,
    format: Option<&str>,
) -> Result<StoredFile> {
    let provider_file_id = if dataset_key.is_empty() {
        original.provider_file_id.clone()
    } else {
        format!("{}/{dataset_key}", original.provider_file_id)
    };
    let (id, _) = ctx
        .store
        .insert_file_if_absent(
            owner,
            &NewFile {
                user_id: original.user_id.clone(),
                provider: original.provider.clone(),
                provider_file_id,
                credential_id: original.credential_id.clone(),
                organization_id: original.organization_id.clone(),
                origin: original.origin.clone(),
                file_name: file_name.to_owned(),
                file_format: format.map(str::to_owned),
                size_bytes: original.size_bytes,
                batch_id: original.batch_id.clone(),
                original_id: Some(original.id.clone()),
                dataset_key: Some(dataset_key.to_owned()),
                original_key: (!key.is_empty()).then(|| key.to_owned()),
            },
        )
        .await?;
    Ok(ctx.store.get_file(owner, &id).await?)
}

fn event_names(file: &StoredFile) -> (&'static str, &'static str) {
    if file.origin == "uploaded" {
        (
            "uploadedFileProcessingFinished",
            "uploadedFileProcessingFailed",
        )
    } else {
        (
            "providerFileProcessingFinished",
            "providerFileProcessingFailed",
        )
    }
}

/// Marks a file failed at `step` with `message` (firing the failure event first: a crash before the write
/// repeats the event rather than losing it).
async fn fail_file(
    ctx: &WorkerContext,
    owner: &str,
    file: &StoredFile,
    step: &str,
    message: &str,
) -> Result<StoredFile> {
    ctx.store
        .fire(
            owner,
            &Event::File {
                event: event_names(file).1,
                file_id: file.id.clone(),
                leaf_user_id: file.user_id.clone(),
                message: Some(message.to_owned()),
            },
        )
        .await?;
    Ok(ctx
        .store
        .update_file(
            owner,
            &file.id,
            &FileUpdate {
                status: Some(FileStatus::Failed),
                steps: vec![(step.to_owned(), "FAILED".into())],
                message: Some(Some(message.to_owned())),
                ..Default::default()
            },
        )
        .await?)
}

fn summary_time(summary: &Value, key: &str) -> Option<i64> {
    let s = summary.get("properties")?.get(key)?.as_str()?;
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000).ok()
}

/// Stores a converted unit: its GeoParquet blob, then the row (processed, or failed with Leaf's reason when
/// no point passed the cleanup or a required property is missing), then its allocation.
async fn store_converted(
    ctx: &WorkerContext,
    blobs: &Blobs,
    owner: &str,
    file: &StoredFile,
    c: Converted,
    settings: &Settings,
) -> Result<StoredFile> {
    let store = &ctx.store;
    let missing = furrow_pipeline::missing_required(&c, settings);
    let failure = if c.counts.written == 0 {
        Some("no points passed the filter".to_owned())
    } else if !missing.is_empty() {
        Some(format!(
            "missing required properties: {} (see cropOptional and seedRateOptional)",
            missing.join(", ")
        ))
    } else {
        None
    };
    let counts = serde_json::to_value(c.counts).ok();
    let start = summary_time(&c.summary, "startTime");
    let end = summary_time(&c.summary, "endTime");
    if let Some(m) = failure {
        // The summary and counts stay, so the reason can be seen in numbers.
        let file = store
            .update_file(
                owner,
                &file.id,
                &FileUpdate {
                    operation_type: Some(c.operation_type.to_string()),
                    summary: Some(c.summary),
                    units: Some(c.units),
                    counts,
                    start_time: start,
                    end_time: end,
                    ..Default::default()
                },
            )
            .await?;
        return fail_file(ctx, owner, &file, "standardGeojson", &m).await;
    }
    let key = file_key(owner, &file.user_id, &file.id, STANDARD_PARQUET_BLOB);
    // Images first: storing the points may move them.
    let choice = settings.images_for(c.operation_type.as_str());
    let base = crate::images::file_base(owner, &file.user_id, &file.id);
    let images = if choice.is_empty() {
        None
    } else {
        Some(crate::images::render_file(c.parquet.clone(), &choice).await)
    };
    if let Err(e) = blobs.put_file(&key, &c.parquet).await {
        return Err(Error::Blob(e.to_string()));
    }
    let pngs = match images {
        None => {
            crate::images::forget(blobs, &base)
                .await
                .map_err(|e| Error::Blob(e.to_string()))?;
            crate::images::SKIPPED.to_owned()
        }
        Some(Ok(images)) => {
            let state = crate::images::step_state(&images);
            crate::images::store(blobs, &base, ImageOwner::File, images, &key, &choice)
                .await
                .map_err(|e| Error::Blob(e.to_string()))?;
            state
        }
        Some(Err(m)) => {
            tracing::warn!(file = %file.id, error = %m, "file images failed");
            format!("FAILED:{m}")
        }
    };
    let file = store
        .update_file(
            owner,
            &file.id,
            &FileUpdate {
                steps: vec![
                    ("standardGeojson".into(), "DONE".into()),
                    ("summary".into(), "DONE".into()),
                    ("units".into(), "DONE".into()),
                    ("propertiesPNGs".into(), pngs),
                    ("zippedPNGs".into(), "SKIPPED:not produced".into()),
                ],
                operation_type: Some(c.operation_type.to_string()),
                start_time: start,
                end_time: end,
                summary: Some(c.summary),
                units: Some(c.units),
                counts,
                standard_key: Some(key),
                ..Default::default()
            },
        )
        .await?;
    // Allocation to the user's fields (a failure here leaves the conversion usable).
    let state = match crate::operations::allocation_step(ctx, blobs, owner, &file).await? {
        Ok(()) => "DONE",
        Err(m) => {
            tracing::warn!(file = %file.id, error = %m, "allocation failed");
            "FAILED"
        }
    };
    ctx.store
        .fire(
            owner,
            &Event::File {
                event: event_names(&file).0,
                file_id: file.id.clone(),
                leaf_user_id: file.user_id.clone(),
                message: None,
            },
        )
        .await?;
    Ok(store
        .update_file(
            owner,
            &file.id,
            &FileUpdate {
                status: Some(FileStatus::Processed),
                steps: vec![("areaAndYield".into(), state.into())],
                message: Some(None),
                ..Default::default()
            },
        )
        .await?)
}

/// The original is done: its state, its batch's state and event, and the user's grouping.
/// A processing job whose worker stopped at every attempt: its files still processing, or one file named after
/// the original when none was recorded, fail saying so; the original and its batch too.
pub(crate) async fn abandon_process(ctx: &WorkerContext, job: &furrow_store::Job) -> Result<()> {
    let payload: ProcessPayload =
        serde_json::from_str(&job.payload).map_err(|e| bad_payload(job, e))?;
    let owner = job.owner_id.as_str();
    let original = match ctx.store.get_original(owner, &payload.original_id).await {
        Ok(o) => o,
        Err(furrow_store::Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if original.status != OriginalStatus::Pending {
        return Ok(());
    }
    let message = format!(
        "furrow could not process this file: {} ({} attempts)",
        furrow_store::ABANDONED,
        job.attempts
    );
    let mut files = ctx.store.original_files(owner, &original.id).await?;
    if files.is_empty() {
        let key = original.blob_key.clone().unwrap_or_default();
        files.push(record_file(ctx, owner, &original, &key, "", &original.file_name, None).await?);
    }
    let mut settled = Vec::with_capacity(files.len());
    for file in files {
        settled.push(if file.status == FileStatus::Processing {
            fail_file(ctx, owner, &file, "standardGeojson", &message).await?
        } else {
            file
        });
    }
    ctx.store
        .set_original_state(
            owner,
            &original.id,
            OriginalStatus::Failed,
            Some(&message),
            None,
        )
        .await?;
    finish_original(ctx, owner, &original, &settled, Some(message)).await
}

async fn finish_done(
    ctx: &WorkerContext,
    owner: &str,
    original: &StoredOriginal,
    files: Vec<StoredFile>,
) -> Result<JobOutcome> {
    ctx.store
        .set_original_state(owner, &original.id, OriginalStatus::Done, None, None)
        .await?;
    finish_original(ctx, owner, original, &files, None).await?;
    Ok(JobOutcome::Done)
}

async fn finish_original(
    ctx: &WorkerContext,
    owner: &str,
    original: &StoredOriginal,
    files: &[StoredFile],
    failure: Option<String>,
) -> Result<()> {
    if let Some(batch) = &original.batch_id {
        let (status, details) = ctx.store.batch_state(owner, batch).await?;
        let details = details.or(failure);
        ctx.store
            .set_batch_status(owner, batch, &status, details.as_deref())
            .await?;
        ctx.store
            .fire(
                owner,
                &Event::Batch {
                    batch_id: batch.clone(),
                    leaf_user_id: original.user_id.clone(),
                },
            )
            .await?;
    }
    if files.iter().any(|f| f.status == FileStatus::Processed) {
        ctx.store.enqueue_grouping(owner, &original.user_id).await?;
    }
    Ok(())
}
