//! Webhook events: the accepted keys and their bodies in Leaf's documented key order (the store fires them as
//! delivery jobs).

use serde_json::json;

use crate::leaf_json;

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

/// The body of the registration confirmation Leaf sends when a webhook is created.
pub fn registration_body() -> String {
    leaf_json::to_string(&json!({"message": "confirmation of webhook upon registration"}))
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
