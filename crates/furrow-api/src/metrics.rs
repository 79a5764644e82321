//! `GET /metrics`: Prometheus text exposition of cluster-wide numbers (no ids, no owner data), served on its
//! own listener ([`router`]): the numbers span every API owner, so they are not on the API's address.

use std::fmt::Write;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::{ApiError, AppState};

fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The metrics listener's router: `GET /metrics` (and `GET /health`), nothing else. Bind it to an address only
/// the monitoring system reaches (`furrow-server --metrics-listen`).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(serve))
        .route("/health", get(crate::health))
        .with_state(state)
}

/// Job, credential, provider-call and webhook numbers for Prometheus.
pub(crate) async fn serve(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let m = state
        .store
        .metrics_snapshot(furrow_model::now_micros())
        .await?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP furrow_jobs Durable jobs by state.\n# TYPE furrow_jobs gauge"
    );
    for (s, n) in [
        ("queued", m.jobs.queued),
        ("running", m.jobs.running),
        ("done", m.jobs.done),
        ("failed", m.jobs.failed),
    ] {
        let _ = writeln!(out, "furrow_jobs{{state=\"{s}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP furrow_jobs_due Queued jobs whose time has come, by kind.\n# TYPE furrow_jobs_due gauge"
    );
    for (k, n) in &m.due_jobs_by_kind {
        let _ = writeln!(out, "furrow_jobs_due{{kind=\"{}\"}} {n}", esc(k));
    }
    let _ = writeln!(
        out,
        "# HELP furrow_sync_lag_seconds Age of the oldest due job.\n# TYPE furrow_sync_lag_seconds gauge\nfurrow_sync_lag_seconds {:.3}",
        m.oldest_due_job_age_micros as f64 / 1e6
    );
    let _ = writeln!(
        out,
        "# HELP furrow_credentials Credentials by provider and status.\n# TYPE furrow_credentials gauge"
    );
    for (p, s, n) in &m.credentials {
        let _ = writeln!(
            out,
            "furrow_credentials{{provider=\"{}\",status=\"{}\"}} {n}",
            esc(p),
            esc(s)
        );
    }
    let _ = writeln!(
        out,
        "# HELP furrow_provider_calls_24h Provider exchanges in the last 24 hours by provider and status class.\n# TYPE furrow_provider_calls_24h gauge"
    );
    for (p, c, n) in &m.provider_calls {
        let _ = writeln!(
            out,
            "furrow_provider_calls_24h{{provider=\"{}\",class=\"{}\"}} {n}",
            esc(p),
            esc(c)
        );
    }
    let _ = writeln!(
        out,
        "# HELP furrow_webhook_failed_calls Failed webhook delivery attempts recorded.\n# TYPE furrow_webhook_failed_calls gauge\nfurrow_webhook_failed_calls {}",
        m.webhook_failures
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}
