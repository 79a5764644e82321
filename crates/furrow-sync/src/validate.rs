//! Credential validation: right after a credential is stored, ask the provider (refresh the token, log in) and
//! move the credential from `PROCESSING` to `OK`, `LIMITED_PERMISSION` or `INVALID`, firing Leaf's alerts.

use std::time::Duration;

use furrow_credentials::CredentialStatus;
use furrow_provider::ProviderContext;

use crate::sinks::{StoreEventSink, StoreSecretSink};
use crate::worker::{JobOutcome, WorkerContext};
use crate::{Error, Result};
use furrow_model::Event;
use furrow_store::queue::CredentialPayload;

/// The non-secret value that identifies the client (`credential` in the alert payload).
fn client_identification(c: &furrow_store::StoredCredential) -> String {
    [
        "clientKey",
        "clientId",
        "publicKey",
        "username",
        "apid",
        "organizationName",
    ]
    .iter()
    .find_map(|k| c.public.get(*k).cloned())
    .unwrap_or_default()
}

pub(crate) async fn run(ctx: &WorkerContext, job: &furrow_store::Job) -> Result<JobOutcome> {
    let payload: CredentialPayload =
        serde_json::from_str(&job.payload).map_err(|e| Error::Payload {
            job: job.id.clone(),
            message: e.to_string(),
        })?;
    let store = &ctx.store;
    let cred = match store
        .get_credential_by_id(&job.owner_id, &payload.credential_id)
        .await
    {
        Ok(c) => c,
        // Deleted in the meantime: nothing to validate.
        Err(furrow_store::Error::NotFound(_)) => return Ok(JobOutcome::Done),
        Err(e) => return Err(e.into()),
    };
    if cred.status == CredentialStatus::Invalid {
        return Ok(JobOutcome::Done);
    }
    let mut values = cred.public.clone();
    values.extend(cred.secrets.clone());
    let (events, writer) =
        StoreEventSink::new(store.clone(), job.owner_id.clone(), cred.id.clone());
    let secrets = StoreSecretSink::new(store.clone(), job.owner_id.clone(), cred.id.clone());
    let adapter = match ctx
        .registry
        .build(cred.provider, ProviderContext::new(values, events, secrets))
    {
        Ok(a) => a,
        Err(e) => {
            drop(writer);
            return Ok(JobOutcome::Fail(e.to_string()));
        }
    };
    let result = adapter.authenticate().await;
    drop(adapter);
    writer.finish().await;
    match result {
        Ok(new_secrets) => {
            if !new_secrets.is_empty() {
                let current = store.get_credential_by_id(&job.owner_id, &cred.id).await?;
                let mut merged = current.secrets.clone();
                merged.extend(new_secrets);
                store
                    .update_credential_secrets(&job.owner_id, &cred.id, &merged, &current.scopes)
                    .await?;
            }
            store
                .set_credential_status(&job.owner_id, &cred.id, CredentialStatus::Ok)
                .await?;
            store.enqueue_sync(&job.owner_id, &cred.id).await?;
            tracing::info!(credential = %cred.id, provider = cred.provider.leaf_name(), "credential valid");
            Ok(JobOutcome::Done)
        }
        Err(e) => match credential_refused(store, &job.owner_id, &cred, &e).await? {
            true => Ok(JobOutcome::Done),
            false if e.is_retryable() => {
                let backoff =
                    Duration::from_secs(5u64.saturating_mul(1 << job.attempts.clamp(0, 10)));
                Ok(JobOutcome::Retry {
                    after: backoff.min(Duration::from_secs(3600)),
                    error: e.to_string(),
                })
            }
            false => Ok(JobOutcome::Fail(e.to_string())),
        },
    }
}

/// When a provider error says the grant is revoked or a permission is missing, moves the credential to
/// `INVALID` or `LIMITED_PERMISSION` and fires `credentialsUnauthenticated` / `credentialsLimitedPermission`
/// (once per change of status); true when it did. Any sync (validation, fields, files) calls this.
pub(crate) async fn credential_refused(
    store: &furrow_store::Store,
    owner_id: &str,
    cred: &furrow_store::StoredCredential,
    e: &furrow_provider::Error,
) -> Result<bool> {
    let Some(status) = e.credential_status() else {
        return Ok(false);
    };
    tracing::info!(credential = %cred.id, status = status.as_str(), "credential refused by provider");
    if cred.status != status {
        if let Some(event) = status.alert_event() {
            let ev = Event::Credential {
                event,
                credential: client_identification(cred),
                provider: cred.provider.leaf_name().to_owned(),
                credential_id: cred.id.clone(),
                message: e.to_string(),
                status: status.as_str().to_owned(),
            };
            // Fire first: a crash before the status is written repeats the event rather than losing it.
            store.fire(owner_id, &ev).await?;
        }
    }
    store
        .set_credential_status(owner_id, &cred.id, status)
        .await?;
    Ok(true)
}
