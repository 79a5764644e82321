//! The rules every operation keeps, written once over the whole document, as the server keeps them in one place
//! (`extract.rs`, `error.rs`, `pagination.rs`): each error is `application/problem+json`; a token-protected
//! operation can answer 401; a body can be refused as malformed (400), too large (413) or of another media type
//! (415); query parameters can be refused (400); `page` and `size` have the bounds `Page::new` checks. And the
//! credential paths, one per provider with the provider's own create body (`furrow_credentials`' field table).

use furrow_credentials::{FieldKind, MAX_FIELD_LEN, Provider};
use serde_json::{Map, Value, json};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The credential routes as the handlers declare them; the document lists them once per provider instead.
pub(super) const CREDENTIALS: &str =
    "/services/usermanagement/api/users/{leafUserId}/{provider}-credentials";

use super::schemas::{self, NOT_BLANK};

/// Applies every rule to the document.
pub(super) fn apply(doc: &mut Value) {
    expand_credentials(doc);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for item in paths.values() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if let Some(id) = op["operationId"]
                .as_str()
                .filter(|_| METHODS.contains(&method.as_str()))
            {
                *seen.entry(id.to_owned()).or_default() += 1;
            }
        }
    }
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if METHODS.contains(&method.as_str()) {
                // One handler serving two methods (`method(post, patch)`): one id per method.
                if let Some(id) = op["operationId"].as_str().filter(|id| seen[*id] > 1) {
                    op["operationId"] = json!(format!("{id}{}", upper_first(method)));
                }
                operation(op);
            }
        }
    }
}

fn operation(op: &mut Value) {
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
        });
    let id = op["operationId"].as_str().unwrap_or_default().to_owned();
    if let Some(schema) = schemas::request_body(&id) {
        for media in op["requestBody"]["content"]
            .as_object_mut()
            .into_iter()
            .flat_map(|c| c.values_mut())
        {
            media["schema"] = schema.clone();
        }
        op["requestBody"]["required"] = json!(true);
    }
    let body = op.get("requestBody").is_some();
    let (mut query, mut path) = (false, false);
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params {
            query |= p["in"] == "query";
            path |= p["in"] == "path";
            paging(p);
            let name = p["name"].as_str().unwrap_or_default().to_owned();
            if let Some((schema, required)) = schemas::parameter(&id, &name) {
                p["schema"] = schema;
                if required {
                    p["required"] = json!(true);
                }
            }
        }
    }
    let responses = op
        .as_object_mut()
        .map(|o| o.entry("responses").or_insert_with(|| json!({})));
    let Some(responses) = responses.and_then(Value::as_object_mut) else {
        return;
    };
    if secured {
        ensure(
            responses,
            "401",
            "no token, or an expired, ended or forged one",
        );
    }
    if body {
        ensure(
            responses,
            "400",
            "the body is malformed or a field is wrong (fieldErrors)",
        );
        ensure(
            responses,
            "413",
            "the body is larger than the server accepts",
        );
        ensure(
            responses,
            "415",
            "the body is not of the declared media type (unsupportedMediaType)",
        );
    }
    if query {
        ensure(responses, "400", "a query parameter is wrong (fieldErrors)");
    }
    if path {
        ensure(responses, "404", "nothing of this owner at this path");
    }
    for (status, response) in responses.iter_mut() {
        if status.starts_with('4') || status.starts_with('5') {
            response["content"] = json!({
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            });
        }
    }
}

fn ensure(responses: &mut Map<String, Value>, status: &str, description: &str) {
    responses
        .entry(status)
        .or_insert_with(|| json!({ "description": description }));
}

/// `page` and `size` as `Page::new` takes them: integers, `page` 0 to 2³²-1, `size` at least 1 (above 100 read
/// as 100); empty (`size=`) is the default, as when the parameter is left out.
fn paging(p: &mut Value) {
    if p["in"] != "query" {
        return;
    }
    let or_empty = |integer: Value| json!({"anyOf": [integer, {"type": "string", "maxLength": 0}]});
    match p["name"].as_str() {
        Some("page") => {
            p["schema"] = or_empty(
                json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": u32::MAX}),
            );
            p["description"] = json!("0-based page number; empty or left out: 0");
        }
        Some("size") => {
            p["schema"] = or_empty(
                json!({"type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX}),
            );
            p["description"] =
                json!("page size; empty or left out: 20; values over 100 are read as 100");
        }
        _ => {}
    }
}

/// The component name of a provider's create body (`ClaasCredentialsInput`).
fn input_schema_name(p: Provider) -> String {
    format!("{}CredentialsInput", pascal(p.slug()))
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

fn pascal(slug: &str) -> String {
    slug.split('-').map(upper_first).collect()
}

/// A provider's create body: exactly the fields `furrow_credentials::validate` accepts.
fn input_schema(p: Provider) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for spec in p.fields().iter().filter(|s| s.in_create) {
        let schema = match spec.kind {
            FieldKind::String => json!({
                "type": "string", "minLength": 1, "maxLength": MAX_FIELD_LEN, "pattern": NOT_BLANK,
            }),
            FieldKind::Environment => json!({
                "type": "string", "enum": ["STAGE", "PRODUCTION"], "default": "STAGE",
            }),
            _ => json!({"type": "string"}),
        };
        properties.insert(spec.name.to_owned(), schema);
        if spec.required {
            required.push(spec.name);
        }
    }
    json!({
        "type": "object",
        "description": format!("{} credentials (`{}-credentials`): the fields of the create body", p.display_name(), p.slug()),
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// The template credential paths (`{provider}-credentials`, which axum serves as one segment) become one path
/// per provider, each with its typed create body and operation ids a generated client can name.
fn expand_credentials(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let mut templates = Vec::new();
    let keys: Vec<String> = paths
        .keys()
        .filter(|k| k.starts_with(CREDENTIALS))
        .cloned()
        .collect();
    for k in keys {
        if let Some(item) = paths.remove(&k) {
            templates.push((k[CREDENTIALS.len()..].to_owned(), item));
        }
    }
    for p in Provider::ALL {
        let name = pascal(p.slug());
        for (rest, item) in &templates {
            let mut item = item.clone();
            if let Some(ops) = item.as_object_mut() {
                for (method, op) in ops.iter_mut() {
                    if !METHODS.contains(&method.as_str()) {
                        continue;
                    }
                    // `credentialsCreate` -> `claasCredentialsCreate`
                    let id = op["operationId"].as_str().unwrap_or(method).to_owned();
                    op["operationId"] =
                        json!(format!("{}{}", lower_first(&name), upper_first(&id)));
                    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                        params.retain(|param| param["name"] != "provider");
                    }
                    if op.get("requestBody").is_some() {
                        op["requestBody"] = json!({
                            "required": true,
                            "content": {"application/json": {"schema": {
                                "$ref": format!("#/components/schemas/{}", input_schema_name(p)),
                            }}},
                        });
                    }
                }
            }
            let path = format!(
                "{}{}-credentials{rest}",
                &CREDENTIALS[..CREDENTIALS.len() - "{provider}-credentials".len()],
                p.slug()
            );
            paths.insert(path, item);
        }
    }
    let schemas = doc
        .as_object_mut()
        .map(|d| d.entry("components").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
        .map(|c| c.entry("schemas").or_insert_with(|| json!({})));
    if let Some(Value::Object(schemas)) = schemas {
        for p in Provider::ALL {
            schemas.insert(input_schema_name(p), input_schema(p));
        }
    }
}
