//! Credential status (leaf-api.md 4.2; Leaf documents no enum, this is our choice).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The `status` of a stored credential.
///
/// Transitions (leaf-api.md 4.2):
///
/// | From | To | When | Alert on entry |
/// |---|---|---|---|
/// | (create) | `PROCESSING` | `POST` stored it; the first validation runs as a job | — |
/// | `PROCESSING`, `LIMITED_PERMISSION` | `OK` | a token refresh / probe call succeeded | — |
/// | `PROCESSING`, `OK` | `LIMITED_PERMISSION` | the token works but the provider refuses some resources (403, missing scope, organization not connected) | `credentialsLimitedPermission` |
/// | `PROCESSING`, `OK`, `LIMITED_PERMISSION` | `INVALID` | refresh or probe rejected (`invalid_grant`, 400/401 from the token endpoint, revoked key, wrong password) | `credentialsUnauthenticated` |
///
/// Transient failures (timeouts, 5xx, 429) never change the status. `INVALID` is final: the credential stays
/// there until it is deleted and created again. Nothing goes back to `PROCESSING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CredentialStatus {
    /// Stored; the first validation has not finished.
    Processing,
    /// The last token refresh or probe call succeeded.
    Ok,
    /// The token works but the provider refuses some resources.
    LimitedPermission,
    /// The provider rejected the credential; final until deleted and created again.
    Invalid,
}

impl CredentialStatus {
    /// Every status.
    pub const ALL: [CredentialStatus; 4] = [
        CredentialStatus::Processing,
        CredentialStatus::Ok,
        CredentialStatus::LimitedPermission,
        CredentialStatus::Invalid,
    ];

    /// The wire form: `"PROCESSING"`, `"OK"`, `"LIMITED_PERMISSION"` or `"INVALID"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Processing => "PROCESSING",
            CredentialStatus::Ok => "OK",
            CredentialStatus::LimitedPermission => "LIMITED_PERMISSION",
            CredentialStatus::Invalid => "INVALID",
        }
    }

    /// Whether the status may change from `self` to `next` (staying the same is always allowed).
    pub fn can_transition_to(self, next: CredentialStatus) -> bool {
        use CredentialStatus::*;
        self == next
            || match (self, next) {
                (Invalid, _) | (_, Processing) => false,
                (Processing | Ok | LimitedPermission, Ok | LimitedPermission | Invalid) => true,
            }
    }

    /// The alert event fired on entering this status, if any.
    pub fn alert_event(self) -> Option<&'static str> {
        match self {
            CredentialStatus::LimitedPermission => Some("credentialsLimitedPermission"),
            CredentialStatus::Invalid => Some("credentialsUnauthenticated"),
            CredentialStatus::Processing | CredentialStatus::Ok => None,
        }
    }
}

impl fmt::Display for CredentialStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CredentialStatus {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CredentialStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| Error::UnknownStatus(s.to_owned()))
    }
}
