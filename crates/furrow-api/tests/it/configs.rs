use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, named_fields, problem};

const C: &str = "/services/config/api/configs";

crate::on_both_backends!(
    configs_inherit_from_owner_to_user,
    every_key_works_or_is_refused
);

async fn configs_inherit_from_owner_to_user(h: &Harness) {
    let owner: Value = h.json(Method::GET, C, None).await.json().await.unwrap();
    assert_eq!(owner["operationsMergeRange"], 5);
    assert_eq!(owner["apiOwnerUsername"], "a@example.com");
    assert_eq!(owner["leafUserId"], "");
    assert_eq!(
        owner["cleanupRules"]["harvestMoisture"][1]["operator"],
        "LT"
    );

    let user = h.user("grower").await;
    let r = h
        .json(
            Method::PATCH,
            &format!("{C}/{user}"),
            Some(json!({"operationsMergeRange": 2})),
        )
        .await;
    assert_eq!(r.status(), 200);
    // The user set operationsMergeRange; it no longer follows the owner. fieldsAutoSync it inherits.
    let r = h
        .json(
            Method::PATCH,
            C,
            Some(json!({"operationsMergeRange": 9, "fieldsAutoSync": false})),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["operationsMergeRange"], 9);
    let mine: Value = h
        .json(Method::GET, &format!("{C}/{user}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            mine["operationsMergeRange"].clone(),
            mine["fieldsAutoSync"].clone()
        ),
        (json!(2), json!(false))
    );
    assert_eq!(mine["leafUserId"], user.as_str());
    // DELETE restores inheritance.
    assert_eq!(
        h.json(Method::DELETE, &format!("{C}/{user}"), None)
            .await
            .status(),
        204
    );
    let mine: Value = h
        .json(Method::GET, &format!("{C}/{user}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["operationsMergeRange"], 9);

    problem(
        h.json(Method::PATCH, C, Some(json!({"colour": "red"})))
            .await,
        400,
        Some("unknownConfiguration"),
    )
    .await;
    let r = h
        .json(
            Method::PATCH,
            C,
            Some(json!({"fieldsAutoSync": "yes", "unitMeasurement": "SI"})),
        )
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["fieldsAutoSync", "unitMeasurement"]
    );
    let r = h
        .json(
            Method::POST,
            &format!("{C}/{user}"),
            Some(json!({"cleanupRules": {"seedRate": [{"operator": "EQ", "value": 1}]}})),
        )
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["cleanupRules"]
    );
    // Owner B sees its own defaults and none of A's users.
    let b = h.token_b.clone();
    let theirs: Value = h
        .json_as(&b, Method::GET, C, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["operationsMergeRange"], 5);
    problem(
        h.json_as(&b, Method::GET, &format!("{C}/{user}"), None)
            .await,
        404,
        Some("notFound"),
    )
    .await;
    problem(
        h.json(
            Method::GET,
            &format!("{C}/00000000-0000-0000-0000-000000000000"),
            None,
        )
        .await,
        404,
        Some("notFound"),
    )
    .await;
}

/// A valid value other than the default, for every key.
fn other_value(key: &str, default: &Value) -> Value {
    match (key, default) {
        (_, Value::Bool(b)) => json!(!b),
        ("organizationDataSync", _) => json!("SELECTED_ONLY"),
        ("unitMeasurement", _) => json!("IMPERIAL"),
        ("cleanupRules", _) => json!({"wetMass": [{"operator": "GT", "value": 1.0}]}),
        ("cropOptional", _) => json!({"standardGeoJson": {"planted": {"crop": "optional"}}}),
        ("seedRateOptional", _) => {
            json!({"standardGeoJson": {"planted": {"seedRate": "optional"}}})
        }
        ("operationsImageAttributeCreation", _) => json!({"harvested": {"wetMass": true}}),
        (_, Value::Number(n)) => json!(n.as_f64().unwrap() / 2.0 + 0.5),
        (k, v) => panic!("no other value for {k} = {v}"),
    }
}

async fn every_key_works_or_is_refused(h: &Harness) {
    let user = h.user("grower").await;
    let defaults = furrow_model::config_defaults();
    assert_eq!(defaults.len(), 40, "Leaf's 40 keys");
    let mut refused = std::collections::BTreeSet::new();
    let mut accepted = std::collections::BTreeSet::new();
    for (key, default) in &defaults {
        let value = other_value(key, default);
        assert_ne!(&value, default, "{key}");
        let r = h
            .json(
                Method::PATCH,
                &format!("{C}/{user}"),
                Some(json!({ key: value })),
            )
            .await;
        if r.status() == 200 {
            let v: Value = r.json().await.unwrap();
            assert_eq!(v[key], value, "{key} is stored as sent");
            accepted.insert(key.clone());
        } else {
            let p = problem(r, 400, Some("unsupportedConfiguration")).await;
            assert_eq!(named_fields(&p), [key.as_str()], "{p}");
            assert!(
                p["message"].as_str().unwrap().contains("not supported"),
                "{p}"
            );
            refused.insert(key.clone());
            // At its default value the key is accepted (a client may send the whole configuration back).
            let r = h
                .json(
                    Method::PATCH,
                    &format!("{C}/{user}"),
                    Some(json!({ key: default })),
                )
                .await;
            assert_eq!(r.status(), 200, "{key} at its default");
        }
    }
    let unsupported: std::collections::BTreeSet<String> = furrow_model::UNSUPPORTED_KEYS
        .iter()
        .map(|(k, _)| (*k).to_owned())
        .collect();
    assert_eq!(refused, unsupported);
    // Every other key changes what furrow does; docs/API.md names the test that shows each.
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/API.md"),
    )
    .unwrap();
    let tests = documented_tests(&docs);
    for key in &accepted {
        let named = tests
            .get(key.as_str())
            .unwrap_or_else(|| panic!("docs/API.md describes what `{key}` does"));
        assert!(!named.is_empty(), "docs/API.md names the test of `{key}`");
        for (krate, test) in named {
            assert!(
                test_exists(krate, test),
                "`{key}`: docs/API.md names `{krate}` `{test}`, which is not a test of that crate"
            );
        }
    }
    assert_eq!(accepted.len() + refused.len(), 40);
}

/// The settings table of docs/API.md: each key's tests as (crate, `module::function`); a row that says "same"
/// (or begins with it) takes the tests of the row above it.
fn documented_tests(docs: &str) -> std::collections::BTreeMap<&str, Vec<(String, String)>> {
    let mut out = std::collections::BTreeMap::new();
    let mut previous: Vec<(String, String)> = Vec::new();
    for line in docs.lines() {
        let cells: Vec<&str> = line.split(" | ").collect();
        let (Some(first), Some(last)) = (cells.first(), cells.last()) else {
            continue;
        };
        let Some(key) = first
            .strip_prefix("| `")
            .and_then(|k| k.strip_suffix('`'))
            .filter(|k| furrow_model::config_defaults().contains_key(*k))
        else {
            continue;
        };
        let last = last.trim_end_matches('|').trim();
        let mut named = if last.starts_with("same") {
            previous.clone()
        } else {
            Vec::new()
        };
        let ticks: Vec<&str> = last.split('`').skip(1).step_by(2).collect();
        for pair in ticks.windows(2) {
            if pair[0].starts_with("furrow-") && pair[1].contains("::") {
                named.push((pair[0].to_owned(), pair[1].to_owned()));
            }
        }
        previous = named.clone();
        out.insert(key, named);
    }
    out
}

/// `module::function` is a function of that name in `crates/<krate>` (its sources or its tests), in a file
/// named after the module.
fn test_exists(krate: &str, test: &str) -> bool {
    let Some((module, function)) = test.rsplit_once("::") else {
        return false;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate);
    [
        root.join("tests/it").join(format!("{module}.rs")),
        root.join("src").join(format!("{module}.rs")),
    ]
    .iter()
    .filter_map(|p| std::fs::read_to_string(p).ok())
    .any(|src| src.contains(&format!("fn {function}(")) || src.contains(&format!("fn {function}<")))
}
