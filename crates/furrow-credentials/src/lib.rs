//! Provider credentials for furrow, without IO.
//!
//! - The provider catalogue ([`Provider`]): path slug, display and Leaf names, [`AuthKind`], environments and
//!   the field table ([`FieldSpec`]) of every provider in the Leaf API reference (section 4.3).
//! - One typed create schema per provider ([`JohnDeereCredentialsInput`], ...) and [`validate`], which checks
//!   a `POST /users/{leafUserId}/{slug}-credentials` body and reports every problem at once
//!   ([`ValidationErrors`], the problem+json `fieldErrors`).
//! - [`CredentialStatus`] and its transitions.
//! - Response bodies ([`credential_response`]) with masked secrets ([`mask_secret`]) and the timestamp format
//!   of every furrow response ([`format_timestamp`]).
//!
//! No HTTP, SQL, crypto or async here: the store encrypts [`CredentialInput::secret_fields`], the API maps
//! errors to problem+json.
//!
//! ```
//! use furrow_credentials::{Provider, validate};
//! use serde_json::json;
//!
//! let provider = Provider::from_slug("claas").unwrap();
//! let input = validate(
//!     provider,
//!     &json!({"clientKey": "key", "clientSecret": "s3cr3t-value", "refreshToken": "r3fr3sh-value"}),
//! )
//! .unwrap();
//! assert_eq!(input.public_fields()["clientEnvironment"], "STAGE");
//! assert!(input.secret_fields().contains_key("clientSecret"));
//!
//! let errors = validate(provider, &json!({"clientKey": 7, "foo": "x"})).unwrap_err();
//! let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
//! assert_eq!(fields, ["clientKey", "clientSecret", "refreshToken", "foo"]);
//! ```

#![warn(missing_docs)]

mod error;
mod input;
mod provider;
mod response;
mod status;

#[cfg(test)]
mod tests;

pub use crate::error::{Error, FieldError, Result, ValidationErrors};
pub use crate::input::{
    AgLeaderCredentialsInput, AgVanceCredentialsInput, ClaasCredentialsInput,
    ClimateFieldViewCredentialsInput, CnhiCredentialsInput, CnhiFieldOpsCredentialsInput,
    CredentialInput, JohnDeereCredentialsInput, LindsayCredentialsInput, MAX_FIELD_LEN,
    PanoramaCredentialsInput, RavenCredentialsInput, RavenSlingshotCredentialsInput,
    SenteraCredentialsInput, StaraCredentialsInput, TrimbleCredentialsInput,
    ValleyCredentialsInput, validate,
};
pub use crate::provider::{AuthKind, Environment, FieldKind, FieldSpec, Provider};
pub use crate::response::{
    StoredCredentialView, credential_response, format_timestamp, mask_secret, parse_timestamp,
};
pub use crate::status::CredentialStatus;
