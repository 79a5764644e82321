//! The contract faults issue 28 found: a JSON body on an upload, unknown `provider` filters, the messages of
//! bad bodies; and the rules the OpenAPI document keeps on every operation.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, UM, named_fields, problem};

crate::on_both_backends!(
    every_documented_operation_is_routed,
    uploads_refuse_other_media_types_as_problems,
    unknown_provider_filters_are_400,
    bad_bodies_name_what_they_are,
);

const OPS: &str = "/services/operations/api";
const FIELDS: &str = "/services/fields/api";

async fn uploads_refuse_other_media_types_as_problems(h: &Harness) {
    let user = h.user("grower").await;
    // A JSON body where multipart is expected: 415 naming the media type, as the JSON routes answer.
    let r = h
        .json(
            Method::POST,
            &format!("{OPS}/batch?leafUserId={user}"),
            Some(json!({"file": "AFE.zip"})),
        )
        .await;
    let p = problem(r, 415, Some("unsupportedMediaType")).await;
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("multipart/form-data"),
        "{p}"
    );
    // No body at all: the same.
    let r = h
        .req(Method::POST, &format!("{OPS}/batch"), &h.token_a)
        .send()
        .await
        .unwrap();
    problem(r, 415, Some("unsupportedMediaType")).await;
    // Multipart without a boundary: 400 naming the body.
    let r = h
        .req(Method::POST, &format!("{OPS}/batch"), &h.token_a)
        .header("content-type", "multipart/form-data")
        .body("x")
        .send()
        .await
        .unwrap();
    let p = problem(r, 400, Some("validation")).await;
    assert_eq!(named_fields(&p), ["body"], "{p}");
    // Still 401 first without a token.
    let r = h
        .client
        .post(h.url(&format!("{OPS}/batch")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(r, 401, None).await;
}

async fn unknown_provider_filters_are_400(h: &Harness) {
    for list in [
        format!("{OPS}/files"),
        format!("{OPS}/operations"),
        format!("{FIELDS}/fields"),
        format!("{FIELDS}/farms"),
        format!("{FIELDS}/growers"),
    ] {
        let r = h
            .json(
                Method::GET,
                &format!("{list}?provider=NoSuchProvider"),
                None,
            )
            .await;
        let p = problem(r, 400, Some("validation")).await;
        assert_eq!(named_fields(&p), ["provider"], "{list}: {p}");
        assert!(
            p["message"].as_str().unwrap().contains("JohnDeere"),
            "{list}: {p}"
        );
        // Leaf's names, the upload names and an empty filter still answer.
        for ok in ["JohnDeere", "CLAAS", "Leaf", "Other", ""] {
            let r = h
                .json(Method::GET, &format!("{list}?provider={ok}"), None)
                .await;
            assert_eq!(r.status(), 200, "{list}?provider={ok}");
        }
    }
}

async fn bad_bodies_name_what_they_are(h: &Harness) {
    let user = h.user("grower").await;
    let cases = [
        (
            "/services/alerts/api/alerts/webhooks".to_owned(),
            json!({"name": 5, "url": "https://example.com/hook", "secret": "s", "events": []}),
            "invalid webhook body: ",
        ),
        (
            format!("{FIELDS}/users/{user}/farms"),
            json!({"name": 5}),
            "invalid farm body: ",
        ),
        (
            format!("{FIELDS}/users/{user}/growers"),
            json!({"name": 5}),
            "invalid grower body: ",
        ),
        (
            format!("{UM}/users"),
            json!({"name": 5}),
            "invalid user body: ",
        ),
        (
            format!("{UM}/users/{user}/claas-credentials"),
            json!({"clientKey": 5}),
            "invalid credential body: ",
        ),
    ];
    for (path, body, prefix) in cases {
        let r = h.json(Method::POST, &path, Some(body)).await;
        let p = problem(r, 400, Some("validation")).await;
        let message = p["message"].as_str().unwrap();
        assert!(message.starts_with(prefix), "{path}: {message}");
        assert!(!named_fields(&p).is_empty(), "{path}: {p}");
    }
}

fn document() -> Value {
    serde_json::to_value(furrow_api::openapi()).unwrap()
}

/// Every operation of the document as `(method, path, operation)`.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if [
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[test]
fn every_error_is_problem_json_and_every_refusal_is_declared() {
    let doc = document();
    let ops = operations(&doc);
    assert!(ops.len() > 100, "{} operations", ops.len());
    let mut ids = std::collections::BTreeSet::new();
    for (method, path, op) in &ops {
        let at = format!("{method} {path}");
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{at}: no operationId"));
        assert!(ids.insert(id.to_owned()), "{at}: operationId {id} twice");
        let responses = op["responses"].as_object().unwrap();
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                let media: Vec<&String> = response["content"].as_object().unwrap().keys().collect();
                assert_eq!(media, ["application/problem+json"], "{at} {status}");
            }
        }
        let secured = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| !r.as_object().unwrap().is_empty()));
        if secured {
            assert!(responses.contains_key("401"), "{at}: no 401");
        }
        if op.get("requestBody").is_some() {
            for status in ["400", "413", "415"] {
                assert!(responses.contains_key(status), "{at}: no {status}");
            }
        }
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["in"] == "query" {
                assert!(responses.contains_key("400"), "{at}: no 400 for its query");
            }
            match p["name"].as_str() {
                // an integer within the bounds, or empty (the default)
                Some("page") if p["in"] == "query" => {
                    assert_eq!(p["schema"]["anyOf"][0]["minimum"], 0, "{at}");
                    assert_eq!(p["schema"]["anyOf"][0]["maximum"], u32::MAX, "{at}");
                    assert_eq!(p["schema"]["anyOf"][1]["maxLength"], 0, "{at}");
                }
                Some("size") if p["in"] == "query" => {
                    assert_eq!(p["schema"]["anyOf"][0]["minimum"], 1, "{at}");
                    assert_eq!(p["schema"]["anyOf"][1]["maxLength"], 0, "{at}");
                }
                _ => {}
            }
        }
    }
}

#[test]
fn credential_bodies_are_typed_per_provider() {
    let doc = document();
    for p in furrow_credentials::Provider::ALL {
        let path = format!("{UM}/users/{{leafUserId}}/{}-credentials", p.slug());
        let item = &doc["paths"][&path];
        for method in ["get", "post", "delete"] {
            assert!(item[method].is_object(), "{method} {path}");
        }
        assert!(
            doc["paths"][format!("{path}/events")]["get"].is_object(),
            "{path}/events"
        );
        let schema_ref =
            item["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{path}: no typed body"));
        let name = schema_ref.rsplit('/').next().unwrap();
        let schema = &doc["components"]["schemas"][name];
        assert_eq!(schema["additionalProperties"], false, "{name}");
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let expected: Vec<&str> = p
            .fields()
            .iter()
            .filter(|f| f.in_create && f.required)
            .map(|f| f.name)
            .collect();
        assert_eq!(required, expected, "{name}");
    }
    let claas = &doc["components"]["schemas"]["ClaasCredentialsInput"];
    assert_eq!(
        claas["properties"]["clientEnvironment"]["enum"],
        json!(["STAGE", "PRODUCTION"])
    );
    // The template the handlers declare is not served as such.
    assert!(
        doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .all(|k| !k.contains("{provider}-credentials")),
    );
}

/// Every operation of the document reaches a handler: sent without a token (path parameters filled with the
/// first value their schema allows), none answers the router's fallbacks (404 `no such resource`, 405).
async fn every_documented_operation_is_routed(h: &Harness) {
    let doc = document();
    assert!(
        doc["paths"]["/services/config/api/configs/{leafUserId}"]["post"].is_object(),
        "POST /configs/{{leafUserId}}"
    );
    let ops = operations(&doc);
    for (method, template, op) in &ops {
        let mut path = template.clone();
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["in"] != "path" {
                continue;
            }
            let name = p["name"].as_str().unwrap();
            let value = p["schema"]["enum"][0].as_str().unwrap_or("1").to_owned();
            path = path.replace(&format!("{{{name}}}"), &value);
        }
        assert!(!path.contains('{'), "{method} {template}: unfilled {path}");
        let r = h
            .client
            .request(method.to_uppercase().parse().unwrap(), h.url(&path))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_ne!(status, 405, "{method} {path}: {body}");
        assert!(
            !(status == 404 && body["message"] == "no such resource"),
            "{method} {path} is not routed: {body}"
        );
    }
}
