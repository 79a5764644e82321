//! The job runner: claims due jobs under a lease, runs them, records the outcome. Any number of workers (in one
//! process or many, on one PostgreSQL) share the queue; a dead worker's job is taken over when its lease expires.

use std::sync::Arc;
use std::time::Duration;

use crate::registry::Registry;
use furrow_store::queue::{
    BLOBS_DELETE_JOB, BUILD_JOB, BlobsDeletePayload, DELIVERY_JOB, Delivery, FIELDS_SYNC_JOB,
    FILE_PROCESS_JOB, FILES_SYNC_JOB, GROUP_JOB, JOB_KINDS, REALLOCATE_JOB, VALIDATE_JOB,
};

use crate::webhook::{self, Outcome};
use crate::{Error, Result, fields, files, operations, validate};

/// Tunables of a worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// This worker's name (in job rows).
    pub id: String,
    /// How long a claimed job stays ours without renewal.
    pub lease: Duration,
    /// Sleep when the queue is empty.
    pub idle_poll: Duration,
    /// Waits between webhook attempts after a failure (Leaf: 1, 30, 60 and 240 minutes).
    pub webhook_retry_delays: Vec<Duration>,
    /// Timeout of one webhook attempt.
    pub webhook_timeout: Duration,
    /// The blob store (machine files); `None`: file jobs fail saying so.
    pub blobs: Option<furrow_store::Blobs>,
    /// How often each valid credential is synced in the background (Leaf: every 24 h); `None`: never.
    pub sync_interval: Option<Duration>,
    /// How often the worker looks for credentials due for their background sync.
    pub schedule_poll: Duration,
    /// How often this worker removes blobs whose rows are gone (it lists the whole blob store, so one worker
    /// loop per process does it: `furrow-server` sets it on its first); `None`: never.
    pub orphan_sweep: Option<Duration>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            id: format!("worker-{}", uuid::Uuid::new_v4().simple()),
            lease: Duration::from_secs(120),
            idle_poll: Duration::from_millis(500),
            webhook_retry_delays: [1, 30, 60, 240]
                .iter()
                .map(|m| Duration::from_secs(m * 60))
                .collect(),
            webhook_timeout: Duration::from_secs(10),
            blobs: None,
            sync_interval: Some(Duration::from_secs(24 * 3600)),
            schedule_poll: Duration::from_secs(60),
            orphan_sweep: None,
        }
    }
}

/// How often a worker sweeps leftovers of interrupted work, and how old they must be.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// How old a blob without a row must be before it is removed: older than any work in progress that writes
/// blobs before committing their row.
const ORPHAN_AGE: Duration = Duration::from_secs(24 * 3600);

/// What a job handler decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Finished.
    Done,
    /// Try again later.
    Retry {
        /// How long to wait.
        after: Duration,
        /// Why this attempt failed.
        error: String,
    },
    /// Failed for good.
    Fail(String),
    /// Finished, but found more of the same work while it ran: run again now, without counting an attempt.
    Again,
}

/// Everything handlers share.
#[derive(Debug, Clone)]
pub struct WorkerContext {
    /// The database.
    pub store: furrow_store::Store,
    /// Provider adapters.
    pub registry: Arc<Registry>,
    /// HTTP client for webhook deliveries.
    pub http: reqwest::Client,
    /// Tunables.
    pub config: WorkerConfig,
}

/// A worker over a store.
#[derive(Debug, Clone)]
pub struct Worker {
    ctx: WorkerContext,
}

impl Worker {
    /// A worker; `registry` builds provider adapters for credential work.
    pub fn new(store: furrow_store::Store, registry: Registry, config: WorkerConfig) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            ctx: WorkerContext {
                store,
                registry: Arc::new(registry),
                http,
                config,
            },
        }
    }

    /// The shared context (store, registry, configuration).
    pub fn context(&self) -> &WorkerContext {
        &self.ctx
    }

    /// Claims and runs one due job; `Ok(false)` when none was due.
    pub async fn run_once(&self) -> Result<bool> {
        let cfg = &self.ctx.config;
        let now = furrow_model::now_micros();
        let Some(job) = self
            .ctx
            .store
            .claim_job(&cfg.id, JOB_KINDS, now, cfg.lease.as_micros() as i64)
            .await?
        else {
            return Ok(false);
        };
        let outcome = match self.dispatch(&job).await {
            Ok(o) => o,
            // A store hiccup: try again shortly (the step is idempotent).
            Err(Error::Store(e)) => JobOutcome::Retry {
                after: Duration::from_secs(5),
                error: e.to_string(),
            },
            Err(e) => JobOutcome::Fail(e.to_string()),
        };
        // A validation that ends here for good (an error outside the provider's answer, or a store error at
        // its last attempt) must not leave the credential PROCESSING.
        if job.kind == VALIDATE_JOB {
            let ended = match &outcome {
                JobOutcome::Fail(error) => Some(error.as_str()),
                JobOutcome::Retry { error, .. } if job.attempts >= job.max_attempts => {
                    Some(error.as_str())
                }
                _ => None,
            };
            if let Some(error) = ended {
                validate::give_up(&self.ctx, &job, error).await?;
            }
        }
        match outcome {
            JobOutcome::Done => {
                self.ctx.store.complete_job(&job.id, &cfg.id).await?;
            }
            JobOutcome::Retry { after, error } => {
                tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempts, %error, "job will retry");
                let at = furrow_model::now_micros() + after.as_micros() as i64;
                self.ctx
                    .store
                    .fail_job(&job.id, &cfg.id, &error, Some(at))
                    .await?;
            }
            JobOutcome::Fail(error) => {
                tracing::warn!(job = %job.id, kind = %job.kind, %error, "job failed");
                self.ctx
                    .store
                    .fail_job(&job.id, &cfg.id, &error, None)
                    .await?;
            }
            JobOutcome::Again => {
                self.ctx
                    .store
                    .requeue_job(&job.id, &cfg.id, furrow_model::now_micros())
                    .await?;
            }
        }
        Ok(true)
    }

    async fn dispatch(&self, job: &furrow_store::Job) -> Result<JobOutcome> {
        match job.kind.as_str() {
            DELIVERY_JOB => self.deliver(job).await,
            BLOBS_DELETE_JOB => self.delete_blobs(job).await,
            VALIDATE_JOB => validate::run(&self.ctx, job).await,
            FILES_SYNC_JOB => files::run_sync(&self.ctx, job).await,
            FILE_PROCESS_JOB => files::run_process(&self.ctx, job).await,
            FIELDS_SYNC_JOB => fields::run_sync(&self.ctx, job).await,
            GROUP_JOB => operations::run_group(&self.ctx, job).await,
            BUILD_JOB => operations::run_build(&self.ctx, job).await,
            REALLOCATE_JOB => operations::run_reallocate(&self.ctx, job).await,
            other => Ok(JobOutcome::Fail(format!("unknown job kind {other}"))),
        }
    }

    async fn delete_blobs(&self, job: &furrow_store::Job) -> Result<JobOutcome> {
        let p: BlobsDeletePayload =
            serde_json::from_str(&job.payload).map_err(|e| Error::Payload {
                job: job.id.clone(),
                message: e.to_string(),
            })?;
        let Some(blobs) = &self.ctx.config.blobs else {
            return Ok(JobOutcome::Done);
        };
        let mut failed = None;
        for prefix in &p.prefixes {
            if let Err(e) = blobs.delete_prefix(prefix).await {
                failed = Some(e.to_string());
            }
        }
        for key in &p.keys {
            if let Err(e) = blobs.delete(key).await {
                failed = Some(e.to_string());
            }
        }
        Ok(match failed {
            None => JobOutcome::Done,
            Some(error) => JobOutcome::Retry {
                after: Duration::from_secs(30),
                error,
            },
        })
    }

    async fn deliver(&self, job: &furrow_store::Job) -> Result<JobOutcome> {
        let delivery: Delivery =
            serde_json::from_str(&job.payload).map_err(|e| Error::Payload {
                job: job.id.clone(),
                message: e.to_string(),
            })?;
        let cfg = &self.ctx.config;
        let outcome = webhook::attempt(
            &self.ctx.store,
            &self.ctx.http,
            &job.owner_id,
            &delivery,
            job.attempts,
            cfg.webhook_timeout,
        )
        .await?;
        Ok(match outcome {
            Outcome::Delivered | Outcome::Gone => JobOutcome::Done,
            Outcome::Failed {
                status,
                connection_error,
                ..
            } => {
                let error = match (status, connection_error) {
                    (Some(s), _) => format!("HTTP {s}"),
                    (None, Some(e)) => e,
                    (None, None) => "no answer".into(),
                };
                match cfg
                    .webhook_retry_delays
                    .get((job.attempts - 1).max(0) as usize)
                {
                    Some(after) => JobOutcome::Retry {
                        after: *after,
                        error,
                    },
                    None => JobOutcome::Fail(error),
                }
            }
        })
    }

    /// Removes what work cut short left behind (see [`furrow_store::Blobs::sweep`]): scratch leftovers and
    /// staging files older than an hour, or than two leases when that is longer. Run at start and hourly.
    pub async fn sweep(&self) -> furrow_store::Sweep {
        let Some(blobs) = self.ctx.config.blobs.clone() else {
            return furrow_store::Sweep::default();
        };
        let older_than = SWEEP_EVERY.max(self.ctx.config.lease * 2);
        let swept = tokio::task::spawn_blocking(move || blobs.sweep(older_than))
            .await
            .unwrap_or_default();
        if swept != furrow_store::Sweep::default() {
            tracing::info!(
                scratch = swept.scratch,
                staging = swept.staging,
                "leftovers of interrupted work removed"
            );
        }
        swept
    }

    /// Removes blobs whose original, file or operation row is gone and that are older than a day (see
    /// [`furrow_store::Blobs::sweep_orphans`]): what a crash between a deletion's rows and its blobs, or
    /// between an upload's bytes and its registration, left. Run at start and every `orphan_sweep`.
    pub async fn sweep_orphans(&self) -> Result<furrow_store::OrphanSweep> {
        let Some(blobs) = self.ctx.config.blobs.clone() else {
            return Ok(furrow_store::OrphanSweep::default());
        };
        let older_than = ORPHAN_AGE.max(self.ctx.config.lease * 2);
        let swept = blobs.sweep_orphans(&self.ctx.store, older_than).await?;
        if swept.removed > 0 || swept.unknown > 0 {
            tracing::info!(
                checked = swept.checked,
                removed = swept.removed,
                unknown = swept.unknown,
                "orphaned blobs removed"
            );
        }
        Ok(swept)
    }

    /// Fails for good the jobs whose worker stopped during every attempt (see
    /// [`furrow_store::Store::fail_abandoned_jobs`]) and records each failure where users look: the file of a
    /// processing job that kept killing its worker becomes a failed file saying so. Returns how many.
    pub async fn fail_abandoned(&self) -> Result<usize> {
        let jobs = self
            .ctx
            .store
            .fail_abandoned_jobs(JOB_KINDS, furrow_model::now_micros())
            .await?;
        for job in &jobs {
            tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, "job abandoned: {}", furrow_store::ABANDONED);
            if job.kind == FILE_PROCESS_JOB {
                files::abandon_process(&self.ctx, job).await?;
            }
            if job.kind == VALIDATE_JOB {
                validate::give_up(&self.ctx, job, furrow_store::ABANDONED).await?;
            }
        }
        Ok(jobs.len())
    }

    /// Enqueues the background sync (fields and files) of every credential that is due; returns how many.
    /// Any number of workers may call this: each due credential is taken by one of them.
    pub async fn schedule_syncs(&self) -> Result<usize> {
        let Some(every) = self.ctx.config.sync_interval else {
            return Ok(0);
        };
        let now = furrow_model::now_micros();
        let next = now + every.as_micros() as i64;
        let due = self.ctx.store.take_due_credentials(now, next, 500).await?;
        for (owner, credential) in &due {
            self.ctx.store.enqueue_sync(owner, credential).await?;
        }
        Ok(due.len())
    }

    /// Runs jobs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        tracing::info!(worker = %self.ctx.config.id, "worker started");
        let mut next_schedule = tokio::time::Instant::now();
        let mut next_sweep = tokio::time::Instant::now();
        let mut next_orphan_sweep = tokio::time::Instant::now();
        loop {
            if *shutdown.borrow() {
                break;
            }
            if tokio::time::Instant::now() >= next_sweep {
                next_sweep = tokio::time::Instant::now() + SWEEP_EVERY;
                self.sweep().await;
            }
            if let Some(every) = self.ctx.config.orphan_sweep
                && tokio::time::Instant::now() >= next_orphan_sweep
            {
                next_orphan_sweep = tokio::time::Instant::now() + every;
                if let Err(e) = self.sweep_orphans().await {
                    tracing::warn!(error = %e, "could not sweep orphaned blobs");
                }
            }
            if tokio::time::Instant::now() >= next_schedule {
                next_schedule = tokio::time::Instant::now() + self.ctx.config.schedule_poll;
                match self.schedule_syncs().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(credentials = n, "background syncs scheduled"),
                    Err(e) => tracing::warn!(error = %e, "could not schedule background syncs"),
                }
                if let Err(e) = self.fail_abandoned().await {
                    tracing::warn!(error = %e, "could not fail abandoned jobs");
                }
            }
            match self.run_once().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "worker could not claim a job"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.ctx.config.idle_poll) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!(worker = %self.ctx.config.id, "worker stopped");
    }
}
