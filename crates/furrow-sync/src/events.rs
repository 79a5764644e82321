//! Webhook events: the accepted keys, payloads in Leaf's documented key order, and firing them as delivery jobs.

use serde_json::json;

use crate::leaf_json;
use crate::webhook::{DELIVERY_JOB, Delivery};
use crate::{Error, Result};

/// Every event key a webhook may subscribe to (the union of Leaf's two published lists).
pub const EVENT_KEYS: &[&str] = &[
    "credentialsLimitedPermission",
    "credentialsUnauthenticated",
    "fieldCreated",
    "fieldUpdated",
    "fieldBoundaryCreated",
    "fieldBoundaryUpdated",
    "mergedFieldCreated",
    "mergedFieldUpdated",
    "uploadedFileProcessingFinished",
    "uploadedFileProcessingFailed",
    "providerFileProcessingFinished",
    "providerFileProcessingFailed",
    "mergedFileProcessingFinished",
    "mergedFileProcessingFailed",
    "automergedFileProcessingFinished",
    "automergedFileProcessingFailed",
    "batchUploadProcessingFinished",
    "operationCreated",
    "operationUpdated",
    "operationProcessingFinished",
    "newSatelliteImage",
    "satelliteSubscriptionFailed",
    "newIrrigationActivity",
    "newFieldIrrigationActivity",
    "machineCreated",
    "machineUpdated",
    "machineDeleted",
    "implementCreated",
    "implementUpdated",
];

/// Whether `key` is an event a webhook may subscribe to.
pub fn is_event_key(key: &str) -> bool {
    EVENT_KEYS.contains(&key)
}

/// An event to tell the integrator about.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A credential entered `INVALID` (`credentialsUnauthenticated`) or `LIMITED_PERMISSION`.
    Credential {
        /// `credentialsUnauthenticated` or `credentialsLimitedPermission`.
        event: &'static str,
        /// The client identification (clientKey, clientId, publicKey, username…).
        credential: String,
        /// Leaf provider name.
        provider: String,
        /// The credential id.
        credential_id: String,
        /// What the provider said.
        message: String,
        /// The new status.
        status: String,
    },
    /// A file finished or failed processing.
    File {
        /// e.g. `providerFileProcessingFinished`, `uploadedFileProcessingFailed`.
        event: &'static str,
        /// The file id.
        file_id: String,
        /// The Leaf user.
        leaf_user_id: String,
        /// For failures: why (may be empty).
        message: Option<String>,
    },
    /// A field was created or updated.
    Field {
        /// `fieldCreated`, `fieldUpdated`, …
        event: &'static str,
        /// `SYNC` (from a provider) or `REST` (from the API).
        source: &'static str,
        /// The Leaf user.
        leaf_user_id: String,
        /// The field id.
        field_id: String,
    },
    /// A boundary was created or updated.
    Boundary {
        /// `fieldBoundaryCreated` or `fieldBoundaryUpdated`.
        event: &'static str,
        /// The boundary id.
        boundary_id: String,
        /// The Leaf user.
        leaf_user_id: String,
        /// The field id.
        field_id: String,
    },
    /// An operation was created, updated or finished processing.
    Operation {
        /// `operationCreated`, `operationUpdated` or `operationProcessingFinished`.
        event: &'static str,
        /// The operation id.
        operation_id: String,
        /// The Leaf user.
        leaf_user_id: String,
    },
    /// An uploaded batch finished processing (`batchUploadProcessingFinished`).
    Batch {
        /// The batch id.
        batch_id: String,
        /// The Leaf user.
        leaf_user_id: String,
    },
}

impl Event {
    /// The event key.
    pub fn key(&self) -> &'static str {
        match self {
            Event::Credential { event, .. }
            | Event::File { event, .. }
            | Event::Field { event, .. }
            | Event::Boundary { event, .. }
            | Event::Operation { event, .. } => event,
            Event::Batch { .. } => "batchUploadProcessingFinished",
        }
    }

    /// The body, serialised exactly as it is signed and sent, fields in Leaf's documented order.
    pub fn body(&self, timestamp: &str) -> String {
        let ts = json!(timestamp);
        let ty = json!(self.key());
        match self {
            Event::Credential {
                credential,
                provider,
                credential_id,
                message,
                status,
                ..
            } => leaf_json::object(&[
                ("credential", json!(credential)),
                ("provider", json!(provider)),
                ("credentialId", json!(credential_id)),
                ("message", json!(message)),
                ("status", json!(status)),
                ("type", ty),
                ("timestamp", ts),
            ]),
            Event::File {
                file_id,
                leaf_user_id,
                message,
                ..
            } => {
                let mut pairs = vec![
                    ("fileId", json!(file_id)),
                    ("leafUserId", json!(leaf_user_id)),
                ];
                if let Some(m) = message {
                    pairs.push(("message", json!(m)));
                }
                pairs.push(("timestamp", ts));
                pairs.push(("type", ty));
                leaf_json::object(&pairs)
            }
            Event::Field {
                source,
                leaf_user_id,
                field_id,
                ..
            } => leaf_json::object(&[
                ("source", json!(source)),
                ("leafUserId", json!(leaf_user_id)),
                ("fieldId", json!(field_id)),
                ("timestamp", ts),
                ("type", ty),
            ]),
            Event::Boundary {
                boundary_id,
                leaf_user_id,
                field_id,
                ..
            } => leaf_json::object(&[
                ("boundaryId", json!(boundary_id)),
                ("leafUserId", json!(leaf_user_id)),
                ("fieldId", json!(field_id)),
                ("type", ty),
                ("timestamp", ts),
            ]),
            Event::Operation {
                operation_id,
                leaf_user_id,
                ..
            } => leaf_json::object(&[
                ("operationId", json!(operation_id)),
                ("leafUserId", json!(leaf_user_id)),
                ("timestamp", ts),
                ("type", ty),
            ]),
            Event::Batch {
                batch_id,
                leaf_user_id,
            } => leaf_json::object(&[
                ("batchId", json!(batch_id)),
                ("leafUserId", json!(leaf_user_id)),
                ("timestamp", ts),
                ("type", ty),
            ]),
        }
    }
}

/// Fires an event: when one of the owner's webhooks subscribes to it, enqueues its signed delivery (retried on
/// failure). Returns the delivery job id, or None when nobody listens.
pub async fn fire(
    store: &furrow_store::Store,
    owner_id: &str,
    event: &Event,
) -> Result<Option<String>> {
    if !is_event_key(event.key()) {
        return Err(Error::UnknownEvent(event.key().to_owned()));
    }
    let Some(hook) = store.webhook_for_event(owner_id, event.key()).await? else {
        return Ok(None);
    };
    let now = furrow_model::timestamp_from_micros(furrow_model::now_micros());
    let body = event.body(&furrow_model::format_timestamp(now));
    enqueue_delivery(store, owner_id, &hook.id, event.key(), body)
        .await
        .map(Some)
}

/// Enqueues the registration confirmation Leaf sends when a webhook is created.
pub async fn confirm_registration(
    store: &furrow_store::Store,
    owner_id: &str,
    webhook_id: &str,
) -> Result<String> {
    let body =
        leaf_json::to_string(&json!({"message": "confirmation of webhook upon registration"}));
    enqueue_delivery(store, owner_id, webhook_id, "registration", body).await
}

async fn enqueue_delivery(
    store: &furrow_store::Store,
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
    let payload = serde_json::to_string(&delivery).unwrap_or_default();
    let job = furrow_store::NewJob {
        kind: DELIVERY_JOB.into(),
        payload,
        dedupe_key: Some(format!("delivery:{}", delivery.delivery_id)),
        run_at: furrow_model::now_micros(),
        max_attempts: 5,
    };
    Ok(store.enqueue_job(owner_id, &job).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn bodies_follow_the_documented_order() {
        let e = Event::File {
            event: "providerFileProcessingFinished",
            file_id: "f".into(),
            leaf_user_id: "u".into(),
            message: None,
        };
        assert_eq!(
            e.body("2023-04-21T12:16:27.997586Z"),
            r#"{"fileId": "f", "leafUserId": "u", "timestamp": "2023-04-21T12:16:27.997586Z", "type": "providerFileProcessingFinished"}"#
        );
        let c = Event::Credential {
            event: "credentialsUnauthenticated",
            credential: "client-key".into(),
            provider: "CLAAS".into(),
            credential_id: "c1".into(),
            message: "invalid_grant".into(),
            status: "INVALID".into(),
        };
        let body: Value = serde_json::from_str(&c.body("t")).unwrap();
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "credential",
                "provider",
                "credentialId",
                "message",
                "status",
                "type",
                "timestamp"
            ]
        );
        assert!(is_event_key("fieldCreated") && !is_event_key("fieldDeleted"));
    }
}
