//! Credential validation: right after a credential is stored, ask the provider (refresh the token, log in) and
//! move the credential from `PROCESSING` to `OK`, `LIMITED_PERMISSION` or `INVALID`, firing Leaf's alerts.
//! Every validation ends: refusals settle at once, other failures are retried with backoff and settle as
//! `INVALID` (with an event and the alert) when the attempts run out.

use std::time::Duration;

use furrow_credentials::CredentialStatus;
use furrow_model::NewCredentialEvent;
use furrow_provider::{ErrorKind, ProviderContext};

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

/// The wait before validation attempt `attempts + 1`: 30 s, tripled each time, at most 2 h (about five hours
/// over the eight attempts of a validation job before it settles).
fn backoff(attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 10) - 1).unwrap_or(0);
    Duration::from_secs(30u64.saturating_mul(3u64.pow(exp))).min(Duration::from_secs(2 * 3600))
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
            // No adapter can use this credential here: say so rather than leave it PROCESSING.
            let message = format!("furrow cannot use this credential: {e}");
            settle(
                store,
                &job.owner_id,
                &cred,
                CredentialStatus::Invalid,
                &message,
            )
            .await?;
            return Ok(JobOutcome::Done);
        }
    };
    let result = adapter.authenticate().await;
    drop(adapter);
    writer.finish().await;
    match result {
        // Rotated values were sealed into the row before the new token was used.
        Ok(_) => {
            if cred.status != CredentialStatus::Ok {
                store
                    .set_credential_status(&job.owner_id, &cred.id, CredentialStatus::Ok)
                    .await?;
            }
            store.enqueue_sync(&job.owner_id, &cred.id).await?;
            tracing::info!(credential = %cred.id, provider = cred.provider.leaf_name(), "credential valid");
            Ok(JobOutcome::Done)
        }
        // Deleted while it ran: nothing left to say.
        Err(e) if e.kind() == ErrorKind::Stopped => Ok(JobOutcome::Done),
        Err(e) => {
            if credential_refused(store, &job.owner_id, &cred, &e).await? {
                return Ok(JobOutcome::Done);
            }
            if job.attempts < job.max_attempts {
                return Ok(JobOutcome::Retry {
                    after: backoff(job.attempts),
                    error: e.to_string(),
                });
            }
            // Out of attempts: an outage that outlasted them, or a request the provider keeps refusing
            // (`invalid_request`, an answer furrow does not understand). Either way the credential cannot be
            // confirmed: settle it rather than leave it PROCESSING.
            let message = format!(
                "the provider could not confirm the credential after {} attempts: {e}",
                job.attempts
            );
            settle(
                store,
                &job.owner_id,
                &cred,
                CredentialStatus::Invalid,
                &message,
            )
            .await?;
            Ok(JobOutcome::Done)
        }
    }
}

/// A validation job that ends without an answer about the credential (its worker died at every attempt, an
/// error outside the provider's answer, the store failing at the last attempt): a credential still
/// `PROCESSING` settles `INVALID` with an event and the alert, saying why, so it is never left waiting.
pub(crate) async fn give_up(
    ctx: &WorkerContext,
    job: &furrow_store::Job,
    error: &str,
) -> Result<()> {
    let Ok(payload) = serde_json::from_str::<CredentialPayload>(&job.payload) else {
        return Ok(());
    };
    let cred = match ctx
        .store
        .get_credential_by_id(&job.owner_id, &payload.credential_id)
        .await
    {
        Ok(c) => c,
        Err(furrow_store::Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if cred.status != CredentialStatus::Processing {
        return Ok(());
    }
    let message = format!(
        "furrow could not finish validating the credential after {} attempts: {error}",
        job.attempts
    );
    settle(
        &ctx.store,
        &job.owner_id,
        &cred,
        CredentialStatus::Invalid,
        &message,
    )
    .await
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
    settle(store, owner_id, cred, status, &e.to_string()).await?;
    Ok(true)
}

/// Moves a credential to `status` (when its state machine allows), with a credential event saying why and,
/// on a change, the status's alert. A credential deleted meanwhile is left alone.
async fn settle(
    store: &furrow_store::Store,
    owner_id: &str,
    cred: &furrow_store::StoredCredential,
    status: CredentialStatus,
    message: &str,
) -> Result<()> {
    // The status as it is now: another job may have moved it since this one read the credential.
    let current = match store.get_credential_by_id(owner_id, &cred.id).await {
        Ok(c) => c.status,
        Err(furrow_store::Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if current == status || !current.can_transition_to(status) {
        return Ok(());
    }
    if let Some(event) = status.alert_event() {
        let ev = Event::Credential {
            event,
            credential: client_identification(cred),
            provider: cred.provider.leaf_name().to_owned(),
            credential_id: cred.id.clone(),
            message: message.to_owned(),
            status: status.as_str().to_owned(),
        };
        // Fire first: a crash before the status is written repeats the event rather than losing it.
        store.fire(owner_id, &ev).await?;
    }
    let event = NewCredentialEvent {
        status_code: 0,
        headers: String::new(),
        body: format!(
            "status {} -> {}: {message}",
            current.as_str(),
            status.as_str()
        ),
        method: None,
        url: None,
    };
    match store.add_credential_event(owner_id, &cred.id, &event).await {
        Ok(_) | Err(furrow_store::Error::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    match store
        .set_credential_status(owner_id, &cred.id, status)
        .await
    {
        Ok(()) | Err(furrow_store::Error::NotFound(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
