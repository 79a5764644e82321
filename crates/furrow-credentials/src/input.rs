//! Typed create schemas and the validation of `POST /users/{id}/{slug}-credentials` bodies.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ValidationErrors;
use crate::provider::{Environment, FieldKind, Provider};

/// Longest accepted field value, in bytes. Keys and tokens are far shorter; this only stops abuse.
pub const MAX_FIELD_LEN: usize = 16 * 1024;

/// Defines one create-schema struct per provider and the [`CredentialInput`] enum over them.
macro_rules! credential_inputs {
    ($(
        $(#[$smeta:meta])*
        $variant:ident => $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty, )*
        }
    )*) => {
        $(
            $(#[$smeta])*
            #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
            #[serde(rename_all = "camelCase", deny_unknown_fields)]
            pub struct $name {
                $( $(#[$fmeta])* pub $field: $ty, )*
            }

            impl fmt::Debug for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    debug_redacted(Provider::$variant, stringify!($name), self, f)
                }
            }

            impl From<$name> for CredentialInput {
                fn from(input: $name) -> Self {
                    CredentialInput::$variant(input)
                }
            }
        )*

        /// A validated create body of any provider.
        ///
        /// `Debug` prints secret values as `<redacted>`.
        #[derive(Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum CredentialInput {
            $(
                #[doc = concat!("See [`", stringify!($name), "`].")]
                $variant($name),
            )*
        }

        impl CredentialInput {
            /// The provider this body is for.
            pub fn provider(&self) -> Provider {
                match self {
                    $( CredentialInput::$variant(_) => Provider::$variant, )*
                }
            }

            fn to_json(&self) -> Value {
                let value = match self {
                    $( CredentialInput::$variant(input) => serde_json::to_value(input), )*
                };
                // Plain structs of strings and unit enums always serialise.
                value.unwrap_or(Value::Null)
            }
        }

        fn build(provider: Provider, body: Value) -> Result<CredentialInput, serde_json::Error> {
            Ok(match provider {
                $( Provider::$variant => CredentialInput::$variant(serde_json::from_value(body)?), )*
            })
        }
    };
}

credential_inputs! {
    /// John Deere create body (`john-deere-credentials`).
    JohnDeere => JohnDeereCredentialsInput {
        /// OAuth client key of the integrator's John Deere app.
        client_key: String,
        /// OAuth client secret (secret).
        client_secret: String,
        /// The grower's refresh token (secret).
        refresh_token: String,
        /// `STAGE` (default) or `PRODUCTION`.
        #[serde(default)]
        client_environment: Environment,
    }

    /// CLAAS create body (`claas-credentials`).
    Claas => ClaasCredentialsInput {
        /// OAuth client key.
        client_key: String,
        /// OAuth client secret (secret).
        client_secret: String,
        /// The grower's refresh token (secret).
        refresh_token: String,
        /// `STAGE` (default) or `PRODUCTION`.
        #[serde(default)]
        client_environment: Environment,
    }

    /// Climate FieldView create body (`climate-field-view-credentials`).
    ClimateFieldView => ClimateFieldViewCredentialsInput {
        /// OAuth client id.
        client_id: String,
        /// OAuth client secret (secret).
        client_secret: String,
        /// Climate API key, sent on every data call (secret).
        api_key: String,
        /// The grower's refresh token (secret).
        refresh_token: String,
    }

    /// CNHi AFS Connect create body (`cnhi-credentials`).
    Cnhi => CnhiCredentialsInput {
        /// OAuth client id.
        client_id: String,
        /// OAuth client secret (secret).
        client_secret: String,
        /// Azure API Management subscription key (secret).
        subscription_key: String,
        /// The grower's refresh token (secret).
        refresh_token: String,
        /// `STAGE` (default) or `PRODUCTION`.
        #[serde(default)]
        client_environment: Environment,
    }

    /// CNHi FieldOps create body (`cnhi-field-ops-credentials`).
    ///
    /// Leaf says FieldOps "requires clientEnvironment"; furrow defaults it to `STAGE` like every other
    /// provider with environments, so the same body shape works everywhere.
    CnhiFieldOps => CnhiFieldOpsCredentialsInput {
        /// OAuth client id.
        client_id: String,
        /// OAuth client secret (secret).
        client_secret: String,
        /// FieldOps-specific subscription key (secret).
        subscription_key: String,
        /// The grower's refresh token (secret).
        refresh_token: String,
        /// `STAGE` (default) or `PRODUCTION`.
        #[serde(default)]
        client_environment: Environment,
    }

    /// Trimble create body (`trimble-credentials`).
    Trimble => TrimbleCredentialsInput {
        /// OAuth client id.
        client_id: String,
        /// OAuth client secret (secret).
        client_secret: String,
        /// The grower's refresh token (secret).
        refresh_token: String,
    }

    /// Ag Leader create body (`ag-leader-credentials`).
    AgLeader => AgLeaderCredentialsInput {
        /// AgFiniti consumer public key (the OAuth client id).
        public_key: String,
        /// AgFiniti consumer private key (the OAuth client secret; secret).
        private_key: String,
        /// The grower's refresh token (secret).
        refresh_token: String,
        /// A current access token, optional (older docs and Postman send it; secret).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_token: Option<String>,
    }

    /// Raven AgSync create body (`raven-credentials`).
    Raven => RavenCredentialsInput {
        /// OAuth client id.
        client_id: String,
        /// OAuth client secret (secret).
        client_secret: String,
        /// The grower's refresh token (secret).
        refresh_token: String,
    }

    /// Raven Slingshot create body (`raven-slingshot-credentials`).
    RavenSlingshot => RavenSlingshotCredentialsInput {
        /// ISV API key (secret).
        api_key: String,
        /// The grower's access key (secret).
        access_key: String,
        /// ISV shared secret, the HMAC key (secret).
        shared_secret: String,
    }

    /// Stara create body (`stara-credentials`).
    Stara => StaraCredentialsInput {
        /// API key from the partner login (secret).
        api_key: String,
        /// Access token (secret).
        access_token: String,
        /// The grower's client token (secret).
        access_token_client: String,
        /// Refresh token (secret).
        refresh_token: String,
    }

    /// Sentera create body (`sentera-credentials`).
    Sentera => SenteraCredentialsInput {
        /// Sentera login email.
        username: String,
        /// Sentera password (secret, never returned).
        password: String,
        /// Name of the Sentera organization to sync.
        organization_name: String,
    }

    /// AgVance create body (`agvance-credentials`).
    AgVance => AgVanceCredentialsInput {
        /// AgVance API key (secret).
        api_key: String,
        /// AgVance username.
        username: String,
        /// AgVance password (secret).
        password: String,
        /// AgVance database id.
        database_id: String,
        /// `STAGE` (default) or `PRODUCTION`.
        #[serde(default)]
        client_environment: Environment,
    }

    /// Precision Planting Panorama create body (`panorama-credentials`).
    Panorama => PanoramaCredentialsInput {
        /// Cognito app client id.
        client_id: String,
        /// Partner username.
        username: String,
        /// Partner password (secret, never returned).
        password: String,
        /// The grower's organization code.
        organization_code: String,
        /// Cognito refresh token (secret).
        refresh_token: String,
        /// `STAGE` (default) or `PRODUCTION`.
        #[serde(default)]
        client_environment: Environment,
    }

    /// Lindsay FieldNET create body (`lindsay-credentials`).
    Lindsay => LindsayCredentialsInput {
        /// OAuth client id.
        client_id: String,
        /// OAuth client secret (secret).
        client_secret: String,
        /// The grower's refresh token (secret).
        refresh_token: String,
        /// `STAGE` (default) or `PRODUCTION`.
        #[serde(default)]
        client_environment: Environment,
    }

    /// Valley create body (`valley-credentials`).
    Valley => ValleyCredentialsInput {
        /// Valley application id.
        apid: String,
        /// AES key used to encrypt the password at login (secret).
        key: String,
        /// AES initialization vector (secret).
        initialization_vector: String,
        /// Valley username.
        username: String,
        /// Valley password (secret, never returned).
        password: String,
    }
}

impl CredentialInput {
    /// Every field value as `(spec, value)`, in field-table order.
    fn values(&self) -> Vec<(&'static crate::FieldSpec, String)> {
        let json = self.to_json();
        self.provider()
            .fields()
            .iter()
            .filter_map(|spec| match json.get(spec.name) {
                Some(Value::String(s)) => Some((spec, s.clone())),
                _ => None,
            })
            .collect()
    }

    /// Non-secret values to store in clear, including `clientEnvironment` after defaulting.
    pub fn public_fields(&self) -> BTreeMap<&'static str, String> {
        self.values()
            .into_iter()
            .filter(|(spec, _)| !spec.secret)
            .map(|(s, v)| (s.name, v))
            .collect()
    }

    /// Secret values, to be encrypted by the store.
    pub fn secret_fields(&self) -> BTreeMap<&'static str, String> {
        self.values()
            .into_iter()
            .filter(|(spec, _)| spec.secret)
            .map(|(s, v)| (s.name, v))
            .collect()
    }

    /// The `clientEnvironment` of providers that have one.
    pub fn environment(&self) -> Option<Environment> {
        match self {
            CredentialInput::JohnDeere(i) => Some(i.client_environment),
            CredentialInput::Claas(i) => Some(i.client_environment),
            CredentialInput::Cnhi(i) => Some(i.client_environment),
            CredentialInput::CnhiFieldOps(i) => Some(i.client_environment),
            CredentialInput::AgVance(i) => Some(i.client_environment),
            CredentialInput::Panorama(i) => Some(i.client_environment),
            CredentialInput::Lindsay(i) => Some(i.client_environment),
            _ => None,
        }
    }
}

impl fmt::Debug for CredentialInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut t = f.debug_tuple("CredentialInput");
        t.field(&self.provider());
        match self.to_json() {
            Value::Object(map) => t.field(&Redacted(self.provider(), &map)),
            _ => t.field(&"?"),
        };
        t.finish()
    }
}

struct Redacted<'a>(Provider, &'a Map<String, Value>);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in self.1 {
            if self.0.field(k).is_some_and(|s| s.secret) {
                m.entry(k, &"<redacted>");
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

fn debug_redacted<T: Serialize>(
    provider: Provider,
    name: &str,
    input: &T,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    match serde_json::to_value(input) {
        Ok(Value::Object(map)) => f
            .debug_tuple(name)
            .field(&Redacted(provider, &map))
            .finish(),
        _ => f.write_str(name),
    }
}

/// A short description of a JSON value's type, for error messages (never the value: it may be a secret).
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(s) if s.trim().is_empty() => "an empty string",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Validates a create body for `provider` and returns its typed form.
///
/// Collects every problem, in field-table order, then unknown fields in body order:
/// - the body must be a JSON object (else one error on field `"body"`);
/// - each required field must be present;
/// - each present field must be a non-empty string (not only whitespace, at most [`MAX_FIELD_LEN`] bytes);
///   `clientEnvironment` must be `"STAGE"` or `"PRODUCTION"` and defaults to `"STAGE"` when omitted;
///   `null` is rejected like any other wrong type;
/// - any other field, including generated ones such as `accessToken` (except Ag Leader and Stara, whose
///   create bodies carry it), is an unknown field.
///
/// Messages never quote the submitted values, which may be secrets.
pub fn validate(provider: Provider, body: &Value) -> Result<CredentialInput, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let Value::Object(object) = body else {
        errors.push(
            "body",
            format!("expected a JSON object, found {}", type_name(body)),
        );
        return Err(errors);
    };

    let mut clean = Map::new();
    for spec in provider.fields().iter().filter(|s| s.in_create) {
        let Some(value) = object.get(spec.name) else {
            if spec.required {
                errors.push(spec.name, format!("missing required field `{}`", spec.name));
            }
            continue;
        };
        match (spec.kind, value) {
            (FieldKind::String, Value::String(s))
                if !s.trim().is_empty() && s.len() <= MAX_FIELD_LEN =>
            {
                clean.insert(spec.name.to_owned(), value.clone());
            }
            (FieldKind::String, Value::String(s)) if s.len() > MAX_FIELD_LEN => errors.push(
                spec.name,
                format!("`{}` must be at most {MAX_FIELD_LEN} bytes long", spec.name),
            ),
            (FieldKind::String, other) => errors.push(
                spec.name,
                format!(
                    "`{}` must be a non-empty string, found {}",
                    spec.name,
                    type_name(other)
                ),
            ),
            (FieldKind::Environment, Value::String(s)) if s.parse::<Environment>().is_ok() => {
                clean.insert(spec.name.to_owned(), value.clone());
            }
            (FieldKind::Environment, other) => {
                // Not a secret, so a short value is quoted to help the caller.
                let found = match other {
                    Value::String(s) if !s.trim().is_empty() && s.len() <= 32 => format!("\"{s}\""),
                    Value::String(s) if !s.trim().is_empty() => "another string".to_owned(),
                    other => type_name(other).to_owned(),
                };
                errors.push(
                    spec.name,
                    format!(
                        "`{}` must be \"STAGE\" or \"PRODUCTION\", found {found}",
                        spec.name
                    ),
                );
            }
        }
    }
    for key in object.keys() {
        if !provider.field(key).is_some_and(|s| s.in_create) {
            errors.push(key.as_str(), format!("unknown field `{key}`"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Every field was checked above, so this cannot fail; map it to an error rather than panic anyway.
    build(provider, Value::Object(clean)).map_err(|e| {
        let mut errors = ValidationErrors::default();
        errors.push("body", e.to_string());
        errors
    })
}
