use sqlx::Row;

use crate::{JobCounts, Result, Store};

/// Cluster-wide numbers for `/metrics` (no ids, no owner data).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Jobs by state.
    pub jobs: JobCounts,
    /// Queued jobs whose time has come, by kind.
    pub due_jobs_by_kind: Vec<(String, i64)>,
    /// Age of the oldest due job, µs (0 when none): the sync lag.
    pub oldest_due_job_age_micros: i64,
    /// Credentials by provider slug and status.
    pub credentials: Vec<(String, String, i64)>,
    /// Provider exchanges recorded in the last 24 h, by provider slug and status class (`2xx`, `4xx`, `5xx`,
    /// `none` when no answer came).
    pub provider_calls: Vec<(String, String, i64)>,
    /// Failed webhook delivery attempts recorded.
    pub webhook_failures: i64,
}

impl Store {
    /// Reads the numbers behind `/metrics`.
    pub async fn metrics_snapshot(&self, now_micros: i64) -> Result<MetricsSnapshot> {
        let jobs = self.job_counts().await?;
        let rows = sqlx::query(
            "SELECT kind, COUNT(*) AS n, MIN(run_at) AS oldest FROM jobs WHERE state = 'queued' AND run_at <= $1 GROUP BY kind ORDER BY kind",
        )
        .bind(now_micros)
        .fetch_all(&self.pool)
        .await?;
        let mut due = Vec::new();
        let mut oldest = i64::MAX;
        for r in &rows {
            due.push((r.try_get("kind")?, r.try_get("n")?));
            oldest = oldest.min(r.try_get::<i64, _>("oldest")?);
        }
        let lag = if oldest == i64::MAX {
            0
        } else {
            (now_micros - oldest).max(0)
        };
        let credentials = sqlx::query(
            "SELECT provider, status, COUNT(*) AS n FROM credentials GROUP BY provider, status ORDER BY provider, status",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("provider")?, r.try_get("status")?, r.try_get("n")?)))
        .collect::<Result<Vec<_>>>()?;
        let since = now_micros - 24 * 3600 * 1_000_000;
        let provider_calls = sqlx::query(
            "SELECT c.provider AS provider, CASE WHEN e.status_code >= 500 THEN '5xx' WHEN e.status_code >= 400 THEN '4xx' \
             WHEN e.status_code >= 200 THEN '2xx' ELSE 'none' END AS class, COUNT(*) AS n \
             FROM credential_events e JOIN credentials c ON c.id = e.credential_id \
             WHERE e.created_at >= $1 GROUP BY c.provider, class ORDER BY c.provider, class",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("provider")?, r.try_get("class")?, r.try_get("n")?)))
        .collect::<Result<Vec<_>>>()?;
        let webhook_failures: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_failed_calls")
            .fetch_one(&self.pool)
            .await?;
        Ok(MetricsSnapshot {
            jobs,
            due_jobs_by_kind: due,
            oldest_due_job_age_micros: lag,
            credentials,
            provider_calls,
            webhook_failures,
        })
    }
}
