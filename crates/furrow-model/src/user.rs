use serde::{Deserialize, Serialize};

/// An API owner: the integrator's account. Every row furrow keeps belongs to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiOwner {
    /// Internal id (UUID).
    pub id: String,
    /// Login name (an e-mail in Leaf's convention).
    pub username: String,
    /// Whether credential responses show secrets in full (Leaf's behaviour) instead of masked.
    pub show_secrets: bool,
}

/// A Leaf user (a grower, as the integrator sees it), without its credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeafUser {
    /// UUID.
    pub id: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Postal address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The integrator's own id for this user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

/// The writable fields of a Leaf user (POST, PUT, PATCH bodies).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInput {
    /// Display name.
    pub name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// The integrator's own id for this user.
    pub external_id: Option<String>,
}

impl UserInput {
    /// Applies the fields present in `patch` over `self` (PATCH semantics).
    pub fn merged(mut self, patch: UserInput) -> UserInput {
        if patch.name.is_some() {
            self.name = patch.name;
        }
        if patch.email.is_some() {
            self.email = patch.email;
        }
        if patch.phone.is_some() {
            self.phone = patch.phone;
        }
        if patch.address.is_some() {
            self.address = patch.address;
        }
        if patch.external_id.is_some() {
            self.external_id = patch.external_id;
        }
        self
    }
}

impl From<LeafUser> for UserInput {
    fn from(u: LeafUser) -> Self {
        UserInput {
            name: u.name,
            email: u.email,
            phone: u.phone,
            address: u.address,
            external_id: u.external_id,
        }
    }
}

/// Filters of `GET /users` (exact matches).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Match on e-mail.
    pub email: Option<String>,
    /// Match on name.
    pub name: Option<String>,
    /// Match on external id.
    pub external_id: Option<String>,
}

/// One recorded HTTP exchange with a provider, as `GET …-credentials/events` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialEvent {
    /// UUID.
    pub id: String,
    /// When it happened, `yyyy-MM-ddTHH:mm:ss.SSSSSSZ`.
    pub created_date: String,
    /// HTTP status the provider answered (0 when no answer arrived).
    pub status_code: i64,
    /// Redacted request/response headers, `Name: value` lines.
    pub headers: String,
    /// Redacted, truncated body.
    pub body: String,
    /// HTTP method of the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// URL of the call, secrets redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// An event to record; the store stamps id and time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewCredentialEvent {
    /// HTTP status (0 when no answer arrived).
    pub status_code: i64,
    /// Redacted headers.
    pub headers: String,
    /// Redacted, truncated body.
    pub body: String,
    /// HTTP method.
    pub method: Option<String>,
    /// Redacted URL.
    pub url: Option<String>,
}
