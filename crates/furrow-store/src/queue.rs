//! The job queue's vocabulary: every job kind furrow runs, its payload, and the typed calls that ask for work.
//! The API and the worker both go through these, so a kind and its payload are written in one place; the
//! worker (`furrow-sync`) only runs them.

use furrow_credentials::CredentialStatus;
use furrow_model::{Event, MachineFileDescriptor, is_event_key, registration_body};
use serde::{Deserialize, Serialize};

use crate::{Error, NewJob, Result, Store};

/// Validates a stored credential against its provider.
pub const VALIDATE_JOB: &str = "credential_validate";
/// Syncs a credential's organizations, farms, fields and boundaries.
pub const FIELDS_SYNC_JOB: &str = "fields_sync";
/// Lists a credential's machine files.
pub const FILES_SYNC_JOB: &str = "files_sync";
/// Downloads an original machine file once and turns every dataset in it into files.
pub const FILE_PROCESS_JOB: &str = "file_process";
/// Groups a user's files into field operations.
pub const GROUP_JOB: &str = "operations_group";
/// Builds one operation's outputs.
pub const BUILD_JOB: &str = "operation_build";
/// Re-allocates a user's files after its boundaries changed.
pub const REALLOCATE_JOB: &str = "reallocate";
/// Delivers one webhook event.
pub const DELIVERY_JOB: &str = "webhook_delivery";
/// Deletes blobs whose rows are gone (a deleted user's).
pub const BLOBS_DELETE_JOB: &str = "blobs_delete";

/// Every job kind, for workers that run them all.
pub const JOB_KINDS: &[&str] = &[
    DELIVERY_JOB,
    VALIDATE_JOB,
    FILES_SYNC_JOB,
    FILE_PROCESS_JOB,
    FIELDS_SYNC_JOB,
    GROUP_JOB,
    BUILD_JOB,
    REALLOCATE_JOB,
    BLOBS_DELETE_JOB,
];

/// Payload of a credential's validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialPayload {
    /// The credential.
    pub credential_id: String,
}

/// Payload of a fields or files sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPayload {
    /// The credential.
    pub credential_id: String,
    /// Asked for through the API: runs even with `fieldsAutoSync=false` (fields) or `operationsAutoSync=false`
    /// (machine files).
    #[serde(default)]
    pub manual: bool,
}

/// Payload of the processing of one original machine file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessPayload {
    /// The original (a provider file or an upload).
    pub original_id: String,
    /// How the provider describes it (the download reference).
    pub descriptor: MachineFileDescriptor,
}

/// Payload of the per-user jobs (grouping, re-allocation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPayload {
    /// The Leaf user.
    pub leaf_user_id: String,
}

/// Payload of an operation build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationPayload {
    /// The operation.
    pub operation_id: String,
}

/// Payload of a webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// The webhook to deliver to.
    pub webhook_id: String,
    /// Same on every attempt (`X-Furrow-Delivery`).
    pub delivery_id: String,
    /// The event key (or `registration`).
    pub event: String,
    /// The exact bytes to sign and send.
    pub body: String,
}

/// Payload of a blob deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobsDeletePayload {
    /// Every blob under these prefixes.
    pub prefixes: Vec<String>,
    /// And these.
    pub keys: Vec<String>,
}

fn payload(p: &impl Serialize) -> String {
    serde_json::to_string(p).unwrap_or_default()
}

impl Store {
    async fn enqueue_now(
        &self,
        owner_id: &str,
        kind: &str,
        payload: String,
        dedupe_key: String,
        max_attempts: i64,
    ) -> Result<String> {
        self.enqueue_job(
            owner_id,
            &NewJob {
                kind: kind.into(),
                payload,
                dedupe_key: Some(dedupe_key),
                run_at: furrow_model::now_micros(),
                max_attempts,
            },
        )
        .await
    }

    /// Asks for the validation of a stored credential (one queued job per credential).
    pub async fn enqueue_validation(&self, owner_id: &str, credential_id: &str) -> Result<String> {
        let p = payload(&CredentialPayload {
            credential_id: credential_id.to_owned(),
        });
        self.enqueue_now(
            owner_id,
            VALIDATE_JOB,
            p,
            format!("validate:{credential_id}"),
            8,
        )
        .await
    }

    /// Asks for the sync of a credential's fields (one queued job per credential); `manual` when asked for
    /// through the API (runs even with `fieldsAutoSync=false`).
    pub async fn enqueue_fields_sync(
        &self,
        owner_id: &str,
        credential_id: &str,
        manual: bool,
    ) -> Result<String> {
        let p = payload(&SyncPayload {
            credential_id: credential_id.to_owned(),
            manual,
        });
        self.enqueue_now(
            owner_id,
            FIELDS_SYNC_JOB,
            p,
            format!("fields_sync:{credential_id}"),
            8,
        )
        .await
    }

    /// Asks for the listing of a credential's machine files (one queued job per credential); `manual` when
    /// asked for through the API (runs even with `operationsAutoSync=false`).
    pub async fn enqueue_files_sync(
        &self,
        owner_id: &str,
        credential_id: &str,
        manual: bool,
    ) -> Result<String> {
        let p = payload(&SyncPayload {
            credential_id: credential_id.to_owned(),
            manual,
        });
        self.enqueue_now(
            owner_id,
            FILES_SYNC_JOB,
            p,
            format!("files_sync:{credential_id}"),
            8,
        )
        .await
    }

    /// Asks for the sync of a credential's fields and machine files. Validation calls it when a credential
    /// turns valid, the scheduler every sync interval, and the API on demand.
    pub async fn enqueue_sync(&self, owner_id: &str, credential_id: &str) -> Result<()> {
        self.enqueue_fields_sync(owner_id, credential_id, false)
            .await?;
        self.enqueue_files_sync(owner_id, credential_id, false)
            .await?;
        Ok(())
    }

    /// Asks for an on-demand fields sync of every credential of a user that is not `INVALID`; returns the
    /// job ids.
    pub async fn request_fields_sync(&self, owner_id: &str, user_id: &str) -> Result<Vec<String>> {
        let mut jobs = Vec::new();
        for cred in self.list_user_credentials(owner_id, user_id).await? {
            if cred.status != CredentialStatus::Invalid {
                jobs.push(self.enqueue_fields_sync(owner_id, &cred.id, true).await?);
            }
        }
        Ok(jobs)
    }

    /// Asks for an on-demand machine-file listing of every credential of a user that is not `INVALID`.
    pub async fn request_files_sync(&self, owner_id: &str, user_id: &str) -> Result<Vec<String>> {
        let mut jobs = Vec::new();
        for cred in self.list_user_credentials(owner_id, user_id).await? {
            if cred.status != CredentialStatus::Invalid {
                jobs.push(self.enqueue_files_sync(owner_id, &cred.id, true).await?);
            }
        }
        Ok(jobs)
    }

    /// Asks for the processing of an original machine file (one queued job per original).
    pub async fn enqueue_file_process(
        &self,
        owner_id: &str,
        original_id: &str,
        descriptor: &MachineFileDescriptor,
    ) -> Result<String> {
        let p = payload(&ProcessPayload {
            original_id: original_id.to_owned(),
            descriptor: descriptor.clone(),
        });
        self.enqueue_now(
            owner_id,
            FILE_PROCESS_JOB,
            p,
            format!("process:{original_id}"),
            5,
        )
        .await
    }

    /// Asks for the grouping of a user's files into operations (one queued job per user).
    pub async fn enqueue_grouping(&self, owner_id: &str, user_id: &str) -> Result<String> {
        let p = payload(&UserPayload {
            leaf_user_id: user_id.to_owned(),
        });
        self.enqueue_now(
            owner_id,
            GROUP_JOB,
            p,
            format!("group:{owner_id}:{user_id}"),
            10,
        )
        .await
    }

    /// Asks for the re-allocation of a user's processed files (after a boundary was created or replaced),
    /// then their grouping; one queued job per user.
    pub async fn enqueue_reallocation(&self, owner_id: &str, user_id: &str) -> Result<String> {
        let p = payload(&UserPayload {
            leaf_user_id: user_id.to_owned(),
        });
        self.enqueue_now(
            owner_id,
            REALLOCATE_JOB,
            p,
            format!("reallocate:{owner_id}:{user_id}"),
            5,
        )
        .await
    }

    /// Asks for the build of an operation's outputs (one queued job per operation).
    pub async fn enqueue_build(&self, owner_id: &str, operation_id: &str) -> Result<String> {
        let p = payload(&OperationPayload {
            operation_id: operation_id.to_owned(),
        });
        self.enqueue_now(owner_id, BUILD_JOB, p, format!("opbuild:{operation_id}"), 5)
            .await
    }

    /// Fires an event: when one of the owner's webhooks subscribes to it, enqueues its signed delivery
    /// (retried on failure). Returns the delivery job id, or `None` when nobody listens.
    pub async fn fire(&self, owner_id: &str, event: &Event) -> Result<Option<String>> {
        if !is_event_key(event.key()) {
            return Err(Error::UnknownEvent(event.key().to_owned()));
        }
        let Some(hook) = self.webhook_for_event(owner_id, event.key()).await? else {
            return Ok(None);
        };
        let now = furrow_model::timestamp_from_micros(furrow_model::now_micros());
        let body = event.body(&furrow_model::format_timestamp(now));
        self.enqueue_delivery(owner_id, &hook.id, event.key(), body)
            .await
            .map(Some)
    }

    /// Enqueues the registration confirmation Leaf sends when a webhook is created.
    pub async fn confirm_registration(&self, owner_id: &str, webhook_id: &str) -> Result<String> {
        self.enqueue_delivery(owner_id, webhook_id, "registration", registration_body())
            .await
    }

    async fn enqueue_delivery(
        &self,
        owner_id: &str,
        webhook_id: &str,
        event: &str,
        body: String,
    ) -> Result<String> {
        let delivery = Delivery {
            webhook_id: webhook_id.to_owned(),
            delivery_id: uuid::Uuid::new_v4().to_string(),
            event: event.to_owned(),
            body,
        };
        let key = format!("delivery:{}", delivery.delivery_id);
        self.enqueue_now(owner_id, DELIVERY_JOB, payload(&delivery), key, 5)
            .await
    }
}
