//! Exact schemas of the request bodies and parameters the handlers read by hand (`serde_json::Value` bodies
//! checked field by field, query strings read as text): what each handler accepts, no more and no less, so a
//! generated client builds valid requests and schemathesis finds the document and the server in agreement.

use furrow_credentials::Provider;
use serde_json::{Value, json};

/// What `str::trim` leaves something of: one character outside Unicode `White_Space`.
pub(super) const NOT_BLANK: &str = "[^\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]";

fn keys(table: &[(&'static str, &'static str)]) -> Vec<&'static str> {
    table.iter().map(|(k, _)| *k).collect()
}

fn int64() -> Value {
    json!({"type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX})
}

/// A string of at most `max` characters, or null (clears the value).
fn text_or_null(max: usize) -> Value {
    json!({"type": ["string", "null"], "maxLength": max})
}

/// An enumerated query filter: one of `values`, or empty (no filter).
fn filter(values: &[&str]) -> Value {
    let mut all: Vec<&str> = values.to_vec();
    all.push("");
    json!({"type": "string", "enum": all})
}

/// An ISO 8601 instant (RFC 3339), or empty (no filter).
fn instant() -> Value {
    json!({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "maxLength": 0}]})
}

/// `sort=<property>[,asc|desc]` over `properties` (direction in any case), or empty.
fn sort(properties: &[&str]) -> Value {
    json!({
        "type": "string",
        "pattern": format!("^(({})(,([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc]))?)?$", properties.join("|")),
    })
}

/// An upload's `provider`: one of Leaf's upload names, or blank (`Other`).
fn upload_provider() -> Value {
    json!({"anyOf": [
        {"type": "string", "enum": crate::batch::PROVIDERS},
        {"type": "string", "pattern": format!("^{}*$", NOT_BLANK.replacen("[^", "[", 1))},
    ]})
}

/// A user body: the five text fields, `*Credentials` keys (accepted and ignored: credentials have their own
/// routes), `id` where the route takes it.
fn user_body(id: Option<bool>) -> Value {
    let mut properties = serde_json::Map::new();
    for key in ["name", "email", "phone", "address", "externalId"] {
        properties.insert(key.into(), text_or_null(1024));
    }
    if id.is_some() {
        properties.insert("id".into(), text_or_null(1024));
    }
    for p in Provider::ALL {
        properties.insert(
            p.user_key().into(),
            json!({"description": "ignored: credentials are stored through their own routes"}),
        );
    }
    let required: Vec<&str> = if id == Some(true) { vec!["id"] } else { vec![] };
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

/// The request body schema of an operation, by operation id.
pub(super) fn request_body(operation: &str) -> Option<Value> {
    Some(match operation {
        "authAuthenticate" => json!({
            "type": "object",
            "required": ["username", "password"],
            "additionalProperties": false,
            "properties": {
                "username": {"type": "string"},
                "password": {"type": "string"},
                "rememberMe": {
                    "description": "true for a 30-day token: a boolean, or \"true\" or \"false\" in any case",
                    "anyOf": [
                        {"type": ["boolean", "null"]},
                        {"type": "string", "pattern": "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"},
                    ],
                },
            },
        }),
        "batchUpload" => json!({
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary", "description": "the zip"},
                "leafUserId": {"type": "string", "pattern": NOT_BLANK,
                               "description": "or the query parameter"},
                "provider": upload_provider(),
            },
        }),
        "organizationsPatch" => json!({
            "type": "object",
            "required": ["status"],
            "additionalProperties": false,
            "properties": {"status": {"type": "string", "enum": ["SELECTED", "PREVIEW"]}},
        }),
        "fieldsIntersect" => json!({
            "type": "array", "minItems": 2, "items": {"type": "string"},
            "description": "the ids of the fields to intersect",
        }),
        "usersCreate" => user_body(None),
        "usersPatch" => user_body(Some(false)),
        "usersReplace" => {
            let mut b = user_body(Some(true));
            b["properties"]["id"] = json!({"type": "string", "maxLength": 1024});
            b
        }
        "alertsCreate" => {
            let text = json!({"type": "string", "maxLength": 2048, "pattern": NOT_BLANK});
            json!({
                "type": "object",
                "required": ["name", "url", "secret", "events"],
                "additionalProperties": false,
                "properties": {
                    "name": text,
                    "url": {"type": "string", "maxLength": 2048, "pattern": "^https?://"},
                    "secret": text,
                    "events": {
                        "type": "array", "minItems": 1, "uniqueItems": true,
                        "items": {"type": "string", "enum": furrow_model::EVENT_KEYS},
                    },
                },
            })
        }
        "fieldsCreateFarm" | "fieldsUpdateFarm" => json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {"name": text_or_null(1024), "growerId": {"anyOf": [int64(), {"type": "null"}]}},
        }),
        "fieldsCreateGrower" | "fieldsUpdateGrower" => json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {"name": text_or_null(1024)},
        }),
        "syncEnableGrowers" => json!({
            "type": "object",
            "required": ["growerIds"],
            "properties": {"growerIds": {"type": "array", "items": int64()}},
        }),
        "apiKeysCreate" => json!({
            "type": "object",
            "required": ["leafUserId"],
            "properties": {
                "leafUserId": {"type": "string", "pattern": NOT_BLANK},
                "description": {"type": ["string", "null"], "maxLength": 255},
                "expiresIn": {"anyOf": [
                    {"type": "integer", "minimum": crate::onboarding::api_keys::MIN_EXPIRES_IN,
                     "maximum": crate::onboarding::api_keys::MAX_EXPIRES_IN},
                    {"type": "string", "pattern": "^\\s*[+-]?[0-9]+\\s*$"},
                    {"type": "null"},
                ], "description": "seconds (a number, or a string of one)"},
            },
        }),
        _ => return None,
    })
}

/// The schema of a query or path parameter, by operation id and name.
pub(super) fn parameter(operation: &str, name: &str) -> Option<(Value, bool)> {
    let providers = crate::extract::provider_names();
    let leaf_or_slug: Vec<&str> = Provider::ALL
        .iter()
        .flat_map(|p| [p.leaf_name(), p.slug()])
        .collect();
    let optional = |v: Value| Some((v, false));
    match (operation, name) {
        (
            "filesList" | "operationsList" | "fieldsListFields" | "fieldsListFarms"
            | "fieldsListGrowers",
            "provider",
        ) => optional(filter(&providers)),
        // The multipart fields of the same names win over these.
        ("batchUpload", "provider" | "leafUserId") => optional(json!({"type": "string"})),
        ("filesList", "status") => optional(json!({
            "type": "string",
            "pattern": "^(|[Pp][Rr][Oo][Cc][Ee][Ss][Ss][Ii][Nn][Gg]|[Pp][Rr][Oo][Cc][Ee][Ss][Ss][Ee][Dd]|[Ff][Aa][Ii][Ll][Ee][Dd])$",
            "description": "processing, processed or failed (any case)",
        })),
        ("filesList", "sort") => optional(sort(&keys(crate::files::SORT))),
        ("operationsList", "sort") => optional(sort(&keys(crate::operations::SORT))),
        ("operationsList", "operationType") => {
            optional(filter(&["planted", "applied", "harvested", "tillage"]))
        }
        ("fieldsListFields", "type") => optional(filter(&["ORIGINAL", "MERGED"])),
        (_, "startTime" | "endTime" | "createdTime" | "updatedTime") => optional(instant()),
        (id, "sort") if id.ends_with("CredentialsEvents") => optional(sort(&["createdDate"])),
        ("apiKeysList", "leafUserId") => {
            Some((json!({"type": "string", "pattern": NOT_BLANK}), true))
        }
        (
            "organizationsConnected"
            | "organizationsList"
            | "organizationsGet"
            | "organizationsPatch"
            | "organizationsSync",
            "provider",
        ) => Some((json!({"type": "string", "enum": leaf_or_slug}), true)),
        (id, "provider") if id.starts_with("appKeys") || id.starts_with("session") => Some((
            json!({"type": "string", "enum": crate::onboarding::app_key_providers()}),
            true,
        )),
        (id, "environment") if id.starts_with("appKeys") => Some((
            json!({"type": "string", "enum": ["STAGE", "PRODUCTION"]}),
            true,
        )),
        (id, "appName") if id.starts_with("appKeys") => Some((
            json!({"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}),
            true,
        )),
        (id, "kind") if id.starts_with("links") => Some((
            json!({"type": "string", "enum": ["provider", "authentication", "file-upload"]}),
            true,
        )),
        ("providerEventsEndpoint" | "providerEventsReceive", "provider") => {
            Some((json!({"type": "string", "enum": leaf_or_slug}), true))
        }
        _ => None,
    }
}
