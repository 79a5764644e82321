//! The provider catalogue (leaf-api.md 4.3) and the field table of each provider.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// An equipment or FMIS provider whose credentials a Leaf user can hold.
///
/// Every provider of leaf-api.md 4.3 except Agrimatics (removed from Leaf's docs, not implemented).
/// Serialised as its [`leaf_name`](Provider::leaf_name) (`"JohnDeere"`, `"CLAAS"`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Provider {
    /// John Deere Operations Center.
    JohnDeere,
    /// CLAAS connect.
    Claas,
    /// Climate FieldView (Bayer).
    ClimateFieldView,
    /// CNH Industrial AFS Connect (legacy).
    Cnhi,
    /// CNH Industrial FieldOps.
    CnhiFieldOps,
    /// Trimble Agriculture.
    Trimble,
    /// Ag Leader AgFiniti.
    AgLeader,
    /// Raven AgSync (OAuth: grower, farm, field data).
    Raven,
    /// Raven Slingshot (machine files only).
    RavenSlingshot,
    /// Stara Telemetria.
    Stara,
    /// Sentera FieldAgent.
    Sentera,
    /// AgVance (SSI).
    AgVance,
    /// Precision Planting Panorama.
    Panorama,
    /// Lindsay FieldNET (irrigation).
    Lindsay,
    /// Valley 365 / BaseStation (irrigation).
    Valley,
}

/// How furrow authenticates against a provider (from providers.md 14.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthKind {
    /// OAuth 2 authorization code, then `refresh_token` grants with the app's client id and secret
    /// (John Deere, CLAAS, Trimble, Raven, Lindsay; Ag Leader, whose `publicKey`/`privateKey` are the
    /// OAuth client id/secret).
    OAuth2RefreshToken,
    /// OAuth 2 refresh tokens plus a static app key sent on every data call: Climate FieldView (`apiKey`),
    /// CNHi and CNHi FieldOps (`subscriptionKey`, the `Ocp-Apim-Subscription-Key` header).
    OAuth2WithApiKey,
    /// No token: every request is signed with HMAC-SHA1 over the API key, access key and timestamp
    /// (Raven Slingshot).
    HmacSigned,
    /// An API key plus provider-issued access and refresh tokens supplied by the integrator (Stara's
    /// two-step form login).
    ApiKeyTokens,
    /// Username/password login that yields a session token (Sentera `authToken`, AgVance `sessionId`,
    /// Valley login with an AES-encrypted password, Panorama's Cognito `InitiateAuth`).
    SessionLogin,
}

/// The JSON type a credential field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldKind {
    /// A non-empty string.
    String,
    /// `"STAGE"` or `"PRODUCTION"` (see [`Environment`]).
    Environment,
}

/// One field of a provider's credential resource, as in the reference table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldSpec {
    /// The JSON name (camelCase), exactly as in the reference.
    pub name: &'static str,
    /// Accepted in the create (`POST`) body. Generated fields (`accessToken`, `sessionId`, `authToken`,
    /// `organizationId`, ...) are not, and are rejected as unknown.
    pub in_create: bool,
    /// Must be present in the create body. `clientEnvironment` is never required: it defaults to `STAGE`.
    pub required: bool,
    /// Encrypted at rest and masked in responses.
    pub secret: bool,
    /// Returned by `GET`/`POST` responses.
    pub in_response: bool,
    /// The accepted JSON value.
    pub kind: FieldKind,
}

impl FieldSpec {
    /// The value used when an optional field is omitted from the create body (`"STAGE"` for
    /// `clientEnvironment`).
    pub fn default_value(&self) -> Option<&'static str> {
        match (self.in_create, self.required, self.kind) {
            (true, false, FieldKind::Environment) => Some(Environment::Stage.as_str()),
            _ => None,
        }
    }
}

/// A provider environment: the provider's sandbox (`STAGE`, the default) or `PRODUCTION`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Environment {
    /// The provider sandbox / test accounts; the default when `clientEnvironment` is omitted.
    #[default]
    Stage,
    /// Production; needs provider approval.
    Production,
}

impl Environment {
    /// `"STAGE"` or `"PRODUCTION"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Stage => "STAGE",
            Environment::Production => "PRODUCTION",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "STAGE" => Ok(Environment::Stage),
            "PRODUCTION" => Ok(Environment::Production),
            other => Err(Error::UnknownEnvironment(other.to_owned())),
        }
    }
}

// Field table helpers, so each provider's table below reads like the reference.
const fn req(name: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        in_create: true,
        required: true,
        secret: false,
        in_response: true,
        kind: FieldKind::String,
    }
}
const fn req_secret(name: &'static str) -> FieldSpec {
    FieldSpec {
        secret: true,
        ..req(name)
    }
}
/// Secret accepted on create but never returned (Sentera, Valley, Panorama `password`).
const fn req_secret_hidden(name: &'static str) -> FieldSpec {
    FieldSpec {
        in_response: false,
        ..req_secret(name)
    }
}
const fn opt_secret(name: &'static str) -> FieldSpec {
    FieldSpec {
        required: false,
        ..req_secret(name)
    }
}
const ENV: FieldSpec = FieldSpec {
    name: "clientEnvironment",
    in_create: true,
    required: false,
    secret: false,
    in_response: true,
    kind: FieldKind::Environment,
};
/// Generated by furrow after talking to the provider; returned, not accepted on create.
const fn generated(name: &'static str, secret: bool) -> FieldSpec {
    FieldSpec {
        name,
        in_create: false,
        required: false,
        secret,
        in_response: true,
        kind: FieldKind::String,
    }
}
const ACCESS_TOKEN: FieldSpec = generated("accessToken", true);

const JOHN_DEERE: &[FieldSpec] = &[
    req("clientKey"),
    req_secret("clientSecret"),
    req_secret("refreshToken"),
    ENV,
    ACCESS_TOKEN,
    // Legacy OAuth 1 resource form: stored, never accepted nor returned.
    FieldSpec {
        in_response: false,
        ..generated("tokenId", true)
    },
    FieldSpec {
        in_response: false,
        ..generated("tokenSecretKey", true)
    },
];
const CLAAS: &[FieldSpec] = &[
    req("clientKey"),
    req_secret("clientSecret"),
    req_secret("refreshToken"),
    ENV,
    ACCESS_TOKEN,
];
const CLIMATE_FIELD_VIEW: &[FieldSpec] = &[
    req("clientId"),
    req_secret("clientSecret"),
    req_secret("apiKey"),
    req_secret("refreshToken"),
    ACCESS_TOKEN,
];
const CNHI: &[FieldSpec] = &[
    req("clientId"),
    req_secret("clientSecret"),
    req_secret("subscriptionKey"),
    req_secret("refreshToken"),
    ENV,
];
// "Like John Deere" (leaf-api.md 14): also returns the generated accessToken.
const CNHI_FIELD_OPS: &[FieldSpec] = &[
    req("clientId"),
    req_secret("clientSecret"),
    req_secret("subscriptionKey"),
    req_secret("refreshToken"),
    ENV,
    ACCESS_TOKEN,
];
const TRIMBLE: &[FieldSpec] = &[
    req("clientId"),
    req_secret("clientSecret"),
    req_secret("refreshToken"),
    ACCESS_TOKEN,
];
const AG_LEADER: &[FieldSpec] = &[
    req("publicKey"),
    req_secret("privateKey"),
    req_secret("refreshToken"),
    opt_secret("accessToken"),
];
const RAVEN: &[FieldSpec] = &[
    req("clientId"),
    req_secret("clientSecret"),
    req_secret("refreshToken"),
    ACCESS_TOKEN,
];
const RAVEN_SLINGSHOT: &[FieldSpec] = &[
    req_secret("apiKey"),
    req_secret("accessKey"),
    req_secret("sharedSecret"),
];
const STARA: &[FieldSpec] = &[
    req_secret("apiKey"),
    req_secret("accessToken"),
    req_secret("accessTokenClient"),
    req_secret("refreshToken"),
];
const SENTERA: &[FieldSpec] = &[
    req("username"),
    req_secret_hidden("password"),
    req("organizationName"),
    generated("authToken", true),
    generated("organizationId", false),
];
const AG_VANCE: &[FieldSpec] = &[
    req_secret("apiKey"),
    req("username"),
    // Leaf returns the AgVance password (masked by furrow unless unmasking is configured).
    req_secret("password"),
    req("databaseId"),
    ENV,
    generated("sessionId", true),
];
const LINDSAY: &[FieldSpec] = &[
    req("clientId"),
    req_secret("clientSecret"),
    req_secret("refreshToken"),
    ENV,
    ACCESS_TOKEN,
];
const VALLEY: &[FieldSpec] = &[
    req("apid"),
    req_secret("key"),
    req_secret("initializationVector"),
    req("username"),
    req_secret_hidden("password"),
];
const PANORAMA: &[FieldSpec] = &[
    req("clientId"),
    req("username"),
    req_secret_hidden("password"),
    req("organizationCode"),
    req_secret("refreshToken"),
    ENV,
    ACCESS_TOKEN,
];

impl Provider {
    /// Every provider, in catalogue order.
    pub const ALL: [Provider; 15] = [
        Provider::JohnDeere,
        Provider::Claas,
        Provider::ClimateFieldView,
        Provider::Cnhi,
        Provider::CnhiFieldOps,
        Provider::Trimble,
        Provider::AgLeader,
        Provider::Raven,
        Provider::RavenSlingshot,
        Provider::Stara,
        Provider::Sentera,
        Provider::AgVance,
        Provider::Panorama,
        Provider::Lindsay,
        Provider::Valley,
    ];

    /// The path slug: `POST /users/{leafUserId}/{slug}-credentials`.
    pub fn slug(self) -> &'static str {
        match self {
            Provider::JohnDeere => "john-deere",
            Provider::Claas => "claas",
            Provider::ClimateFieldView => "climate-field-view",
            Provider::Cnhi => "cnhi",
            Provider::CnhiFieldOps => "cnhi-field-ops",
            Provider::Trimble => "trimble",
            Provider::AgLeader => "ag-leader",
            Provider::Raven => "raven",
            Provider::RavenSlingshot => "raven-slingshot",
            Provider::Stara => "stara",
            Provider::Sentera => "sentera",
            Provider::AgVance => "agvance",
            Provider::Panorama => "panorama",
            Provider::Lindsay => "lindsay",
            Provider::Valley => "valley",
        }
    }

    /// The provider with this path slug (`"john-deere"`), if any.
    pub fn from_slug(slug: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.slug() == slug)
    }

    /// The name shown to people (`"John Deere"`).
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::JohnDeere => "John Deere",
            Provider::Claas => "CLAAS",
            Provider::ClimateFieldView => "Climate FieldView",
            Provider::Cnhi => "CNHi",
            Provider::CnhiFieldOps => "CNHi FieldOps",
            Provider::Trimble => "Trimble",
            Provider::AgLeader => "Ag Leader",
            Provider::Raven => "Raven",
            Provider::RavenSlingshot => "Raven Slingshot",
            Provider::Stara => "Stara",
            Provider::Sentera => "Sentera",
            Provider::AgVance => "AgVance",
            Provider::Panorama => "Panorama",
            Provider::Lindsay => "Lindsay",
            Provider::Valley => "Valley",
        }
    }

    /// The name used in filters, paths and JSON (`"JohnDeere"`, `"CNHI"`; `"CLAAS"` is our choice).
    pub fn leaf_name(self) -> &'static str {
        match self {
            Provider::JohnDeere => "JohnDeere",
            Provider::Claas => "CLAAS",
            Provider::ClimateFieldView => "ClimateFieldView",
            Provider::Cnhi => "CNHI",
            Provider::CnhiFieldOps => "CNHIFieldOps",
            Provider::Trimble => "Trimble",
            Provider::AgLeader => "AgLeader",
            Provider::Raven => "Raven",
            Provider::RavenSlingshot => "RavenSlingshot",
            Provider::Stara => "Stara",
            Provider::Sentera => "Sentera",
            Provider::AgVance => "AgVance",
            Provider::Panorama => "Panorama",
            Provider::Lindsay => "Lindsay",
            Provider::Valley => "Valley",
        }
    }

    /// The provider with this Leaf name (`"JohnDeere"`), if any. Exact match.
    pub fn from_leaf_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.leaf_name() == name)
    }

    /// The key of this provider's credentials on the Leaf user resource (`"johnDeereCredentials"`).
    pub fn user_key(self) -> &'static str {
        match self {
            Provider::JohnDeere => "johnDeereCredentials",
            Provider::Claas => "claasCredentials",
            Provider::ClimateFieldView => "climateFieldViewCredentials",
            Provider::Cnhi => "cnhiCredentials",
            Provider::CnhiFieldOps => "cnhiFieldOpsCredentials",
            Provider::Trimble => "trimbleCredentials",
            Provider::AgLeader => "agLeaderCredentials",
            Provider::Raven => "ravenCredentials",
            Provider::RavenSlingshot => "ravenSlingshotCredentials",
            Provider::Stara => "staraCredentials",
            Provider::Sentera => "senteraCredentials",
            Provider::AgVance => "agvanceCredentials",
            Provider::Panorama => "panoramaCredentials",
            Provider::Lindsay => "lindsayCredentials",
            Provider::Valley => "valleyCredentials",
        }
    }

    /// How furrow authenticates against this provider.
    pub fn auth_kind(self) -> AuthKind {
        match self {
            Provider::JohnDeere
            | Provider::Claas
            | Provider::Trimble
            | Provider::AgLeader
            | Provider::Raven
            | Provider::Lindsay => AuthKind::OAuth2RefreshToken,
            Provider::ClimateFieldView | Provider::Cnhi | Provider::CnhiFieldOps => {
                AuthKind::OAuth2WithApiKey
            }
            Provider::RavenSlingshot => AuthKind::HmacSigned,
            Provider::Stara => AuthKind::ApiKeyTokens,
            Provider::Sentera | Provider::AgVance | Provider::Panorama | Provider::Valley => {
                AuthKind::SessionLogin
            }
        }
    }

    /// Whether the credential has a `clientEnvironment` (`STAGE`/`PRODUCTION`).
    pub fn has_environments(self) -> bool {
        self.fields()
            .iter()
            .any(|f| f.kind == FieldKind::Environment)
    }

    /// Whether responses carry `tokenMetadata: {"scopes": [...]}`: the OAuth providers of the reference
    /// (John Deere, Climate FieldView, Trimble, Raven, Lindsay) plus CLAAS and CNHi FieldOps, whose response
    /// shape is "like John Deere" (leaf-api.md 14).
    pub fn has_token_metadata(self) -> bool {
        matches!(
            self,
            Provider::JohnDeere
                | Provider::Claas
                | Provider::ClimateFieldView
                | Provider::CnhiFieldOps
                | Provider::Trimble
                | Provider::Raven
                | Provider::Lindsay
        )
    }

    /// The credential fields, in the reference table's order (which is the response key order).
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            Provider::JohnDeere => JOHN_DEERE,
            Provider::Claas => CLAAS,
            Provider::ClimateFieldView => CLIMATE_FIELD_VIEW,
            Provider::Cnhi => CNHI,
            Provider::CnhiFieldOps => CNHI_FIELD_OPS,
            Provider::Trimble => TRIMBLE,
            Provider::AgLeader => AG_LEADER,
            Provider::Raven => RAVEN,
            Provider::RavenSlingshot => RAVEN_SLINGSHOT,
            Provider::Stara => STARA,
            Provider::Sentera => SENTERA,
            Provider::AgVance => AG_VANCE,
            Provider::Panorama => PANORAMA,
            Provider::Lindsay => LINDSAY,
            Provider::Valley => VALLEY,
        }
    }

    /// The field called `name`, if this provider has one.
    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|f| f.name == name)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.leaf_name())
    }
}

impl FromStr for Provider {
    type Err = Error;

    /// Accepts a Leaf name (`"JohnDeere"`) or a slug (`"john-deere"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::from_leaf_name(s)
            .or_else(|| Provider::from_slug(s))
            .ok_or_else(|| Error::UnknownProvider(s.to_owned()))
    }
}

impl Serialize for Provider {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.leaf_name())
    }
}

impl<'de> Deserialize<'de> for Provider {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Provider::from_leaf_name(&s)
            .ok_or_else(|| serde::de::Error::custom(format_args!("unknown provider `{s}`")))
    }
}
