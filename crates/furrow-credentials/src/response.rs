//! Credential response bodies, secret masking and the timestamp format of every API response.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use time::format_description::FormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::error::{Error, Result};
use crate::provider::Provider;
use crate::status::CredentialStatus;

/// A stored credential as the store hands it to the response builder.
#[derive(Debug, Clone, Copy)]
pub struct StoredCredentialView<'a> {
    /// Credential id (UUID string).
    pub id: &'a str,
    /// Current status.
    pub status: CredentialStatus,
    /// When it was created; emitted in UTC with microseconds.
    pub created_time: OffsetDateTime,
    /// Non-secret values (as from [`CredentialInput::public_fields`](crate::CredentialInput::public_fields),
    /// plus generated ones such as Sentera `organizationId`).
    pub public: &'a BTreeMap<String, String>,
    /// Decrypted secret values, possibly with generated ones (`accessToken`, `sessionId`, `authToken`).
    pub secrets: &'a BTreeMap<String, String>,
    /// OAuth scopes granted, for `tokenMetadata` (`None` when unknown: an empty list is emitted).
    pub scopes: Option<&'a [String]>,
    /// Mask secrets with [`mask_secret`] (the default; an API-owner setting may turn it off).
    pub mask_secrets: bool,
}

/// The JSON body of `GET`/`POST /users/{id}/{slug}-credentials`.
///
/// Keys in order: `id`, `status`, `createdTime`, the provider's response fields in the reference table's
/// order, then `tokenMetadata: {"scopes": [...]}` for [providers that have it](Provider::has_token_metadata).
/// Absent values are omitted (never `null`); fields that are never returned (Sentera, Valley and Panorama
/// `password`) are omitted even when unmasked. Secret fields are looked up in `secrets` first, then in
/// `public`, and masked either way.
pub fn credential_response(provider: Provider, view: &StoredCredentialView<'_>) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), Value::String(view.id.to_owned()));
    out.insert(
        "status".into(),
        Value::String(view.status.as_str().to_owned()),
    );
    out.insert(
        "createdTime".into(),
        Value::String(format_timestamp(view.created_time)),
    );
    for spec in provider.fields().iter().filter(|f| f.in_response) {
        let value = if spec.secret {
            view.secrets
                .get(spec.name)
                .or_else(|| view.public.get(spec.name))
        } else {
            view.public
                .get(spec.name)
                .or_else(|| view.secrets.get(spec.name))
        };
        let Some(value) = value else { continue };
        let value = if spec.secret && view.mask_secrets {
            mask_secret(value)
        } else {
            value.clone()
        };
        out.insert(spec.name.to_owned(), Value::String(value));
    }
    if provider.has_token_metadata() {
        out.insert(
            "tokenMetadata".into(),
            json!({ "scopes": view.scopes.unwrap_or_default() }),
        );
    }
    Value::Object(out)
}

/// Masks a secret as `"********"` followed by its last 4 characters (`"********a1b2"`); values shorter than
/// 8 characters are fully masked (`"********"`), so at most half of a short secret could ever show.
pub fn mask_secret(s: &str) -> String {
    const MASK: &str = "********";
    let count = s.chars().count();
    if count < 8 {
        return MASK.to_owned();
    }
    let tail: String = s.chars().skip(count - 4).collect();
    format!("{MASK}{tail}")
}

const TIMESTAMP: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Formats a timestamp as every furrow response does: UTC, microseconds, `Z`
/// (`2023-04-21T12:16:27.997586Z`).
pub fn format_timestamp(t: OffsetDateTime) -> String {
    // The format description only has infallible components, and years are within 4 digits for any
    // timestamp furrow produces; fall back to RFC 3339 rather than panic.
    let utc = t.to_offset(UtcOffset::UTC);
    utc.format(TIMESTAMP)
        .or_else(|_| utc.format(&Rfc3339))
        .unwrap_or_default()
}

/// Parses any RFC 3339 timestamp (the input rule of the API), keeping its offset.
pub fn parse_timestamp(s: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|source| Error::InvalidTimestamp {
        value: s.to_owned(),
        source,
    })
}
