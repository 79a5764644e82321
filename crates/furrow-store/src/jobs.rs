use sqlx::Row;

use crate::db::new_id;
use crate::owners::is_unique_violation;
use crate::{Backend, Error, Result, Store};

/// A durable unit of work, claimed by one worker at a time under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// UUID.
    pub id: String,
    /// The API owner the work is for.
    pub owner_id: String,
    /// What to do (`webhook_delivery`, `credential_validation`, …).
    pub kind: String,
    /// JSON parameters.
    pub payload: String,
    /// Attempts so far, including the current one.
    pub attempts: i64,
    /// Attempts allowed before the job is failed for good.
    pub max_attempts: i64,
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// What to do.
    pub kind: String,
    /// JSON parameters.
    pub payload: String,
    /// Enqueueing the same key again returns the existing job (idempotent producers).
    pub dedupe_key: Option<String>,
    /// Not before this instant (µs since the epoch).
    pub run_at: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
}

/// Job counts by state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobCounts {
    /// Waiting to run (including retries not yet due).
    pub queued: i64,
    /// Claimed under a lease.
    pub running: i64,
    /// Finished.
    pub done: i64,
    /// Failed for good.
    pub failed: i64,
}

const JOB_COLUMNS: &str = "id, owner_id, kind, payload, attempts, max_attempts";

/// The last error of a job whose worker stopped during each of its attempts.
pub const ABANDONED: &str =
    "the worker stopped while running it at every attempt (killed, crashed or out of memory)";

impl Store {
    /// Enqueues a job; while a job with the same dedupe key is queued or running, returns that job's id instead.
    pub async fn enqueue_job(&self, owner_id: &str, job: &NewJob) -> Result<String> {
        // The existing job may finish (releasing its key) between our insert and our lookup: try again then.
        for _ in 0..5 {
            let id = new_id();
            let now = furrow_model::now_micros();
            let res = sqlx::query(
                "INSERT INTO jobs (id, owner_id, kind, payload, dedupe_key, state, attempts, max_attempts, run_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7, $8, $8)",
            )
            .bind(&id)
            .bind(owner_id)
            .bind(&job.kind)
            .bind(&job.payload)
            .bind(job.dedupe_key.as_deref())
            .bind(job.max_attempts.max(1))
            .bind(job.run_at)
            .bind(now)
            .execute(&self.pool)
            .await;
            match res {
                Ok(_) => return Ok(id),
                Err(e) if is_unique_violation(&e) => {
                    let existing: Option<String> =
                        sqlx::query_scalar("SELECT id FROM jobs WHERE dedupe_key = $1")
                            .bind(job.dedupe_key.as_deref())
                            .fetch_optional(&self.pool)
                            .await?;
                    if let Some(existing) = existing {
                        return Ok(existing);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::AlreadyExists("job"))
    }

    /// Claims the next due job of one of `kinds` for `worker` until `now + lease`: a queued job whose time has
    /// come, or a running one whose lease expired (its worker died) with attempts left. An expired lease counts
    /// as an attempt (the claim adds one), so work that kills its worker at every try (a crash, memory
    /// exhausted) stops being retried once its attempts are used up: [`Store::fail_abandoned_jobs`] fails it. PostgreSQL uses `FOR UPDATE SKIP LOCKED`, so
    /// concurrent workers never claim the same job; SQLite serialises writers.
    pub async fn claim_job(
        &self,
        worker: &str,
        kinds: &[&str],
        now: i64,
        lease_micros: i64,
    ) -> Result<Option<Job>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let kind_params: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 4)).collect();
        let lock = if self.backend() == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', lease_until = $1, worker = $2, attempts = attempts + 1, updated_at = $3 \
             WHERE id = (SELECT id FROM jobs WHERE ((state = 'queued' AND run_at <= $3) OR (state = 'running' AND lease_until < $3 AND attempts < max_attempts)) \
             AND kind IN ({}) ORDER BY run_at, created_at LIMIT 1{lock}) RETURNING {JOB_COLUMNS}",
            kind_params.join(", ")
        );
        let mut q = sqlx::query(&sql)
            .bind(now + lease_micros)
            .bind(worker)
            .bind(now);
        for k in kinds {
            q = q.bind(*k);
        }
        let row = q.fetch_optional(&self.pool).await?;
        row.map(|r| job_from_row(&r)).transpose()
    }

    /// Extends the lease of a job this worker holds; false when it lost the job (lease expired and re-claimed).
    pub async fn renew_job_lease(&self, id: &str, worker: &str, lease_until: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND worker = $3 AND state = 'running'",
        )
        .bind(lease_until)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Marks a job this worker holds as done; false when it no longer held it.
    pub async fn complete_job(&self, id: &str, worker: &str) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE jobs SET state = 'done', dedupe_key = NULL, lease_until = NULL, updated_at = $1 WHERE id = $2 AND worker = $3 AND state = 'running'",
        )
        .bind(furrow_model::now_micros())
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Puts a job this worker holds back in the queue to run again at `run_at`, without counting the attempt
    /// (for work that found more to do while it ran); false when it no longer held it.
    pub async fn requeue_job(&self, id: &str, worker: &str, run_at: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE jobs SET state = 'queued', run_at = $1, lease_until = NULL, attempts = attempts - 1, updated_at = $2 \
             WHERE id = $3 AND worker = $4 AND state = 'running'",
        )
        .bind(run_at)
        .bind(furrow_model::now_micros())
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Records a failed attempt: the job runs again at `retry_at`, or fails for good when `retry_at` is None or
    /// its attempts are used up.
    pub async fn fail_job(
        &self,
        id: &str,
        worker: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<bool> {
        let row = sqlx::query("SELECT attempts, max_attempts FROM jobs WHERE id = $1 AND worker = $2 AND state = 'running'")
            .bind(id)
            .bind(worker)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(false) };
        let (attempts, max): (i64, i64) = (row.try_get("attempts")?, row.try_get("max_attempts")?);
        let (state, run_at) = match retry_at {
            Some(at) if attempts < max => ("queued", at),
            _ => ("failed", furrow_model::now_micros()),
        };
        // A failed job releases its dedupe key, so the work can be asked for again.
        let release = if state == "failed" {
            ", dedupe_key = NULL"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE jobs SET state = $1, run_at = $2, lease_until = NULL, last_error = $3, updated_at = $4{release} \
             WHERE id = $5 AND worker = $6 AND state = 'running'"
        );
        let n = sqlx::query(&sql)
            .bind(state)
            .bind(run_at)
            .bind(error.chars().take(2000).collect::<String>())
            .bind(furrow_model::now_micros())
            .bind(id)
            .bind(worker)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Jobs by state (for metrics and tests).
    pub async fn job_counts(&self) -> Result<JobCounts> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        let mut c = JobCounts::default();
        for r in rows {
            let state: String = r.try_get("state")?;
            let n: i64 = r.try_get("n")?;
            match state.as_str() {
                "queued" => c.queued = n,
                "running" => c.running = n,
                "done" => c.done = n,
                "failed" => c.failed = n,
                other => {
                    return Err(Error::Corrupt {
                        table: "jobs",
                        message: format!("unknown state {other}"),
                    });
                }
            }
        }
        Ok(c)
    }

    /// Fails for good the running jobs of `kinds` whose lease expired after their last attempt (their worker
    /// stopped: killed, crashed, out of memory, at every try), with a last error saying so and the error of the
    /// attempt before, if any; returns them (each to exactly one caller, however many workers ask at once), so
    /// the caller can record the failure where users see it (a failed file, …).
    pub async fn fail_abandoned_jobs(&self, kinds: &[&str], now: i64) -> Result<Vec<Job>> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let kind_params: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "UPDATE jobs SET state = 'failed', dedupe_key = NULL, lease_until = NULL, updated_at = $1, \
             last_error = CASE WHEN last_error IS NULL THEN $2 ELSE $2 || '; before that: ' || last_error END \
             WHERE state = 'running' AND lease_until < $1 AND attempts >= max_attempts AND kind IN ({}) \
             RETURNING {JOB_COLUMNS}",
            kind_params.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(now).bind(ABANDONED);
        for k in kinds {
            q = q.bind(*k);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(job_from_row).collect()
    }

    /// The state and last error of a job.
    pub async fn job_state(&self, id: &str) -> Result<(String, Option<String>, i64)> {
        let row = sqlx::query("SELECT state, last_error, attempts FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound("job"))?;
        Ok((
            row.try_get("state")?,
            row.try_get("last_error")?,
            row.try_get("attempts")?,
        ))
    }

    /// Until when a job's current lease holds (µs), when it is running.
    pub async fn job_lease(&self, id: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT lease_until FROM jobs WHERE id = $1 AND state = 'running'")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
        )
    }
}

fn job_from_row(row: &sqlx::any::AnyRow) -> Result<Job> {
    Ok(Job {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        kind: row.try_get("kind")?,
        payload: row.try_get("payload")?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
    })
}
