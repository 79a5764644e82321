//! Configuration keys (Leaf's `/configs`): defaults, validation, and inheritance from API owner to user.

use serde_json::{Map, Value, json};

/// What values a key takes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    /// A number in `[min, max]`.
    Number(f64, f64),
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// A JSON object (validated structurally by its own rule when one exists).
    Object,
}

struct Key {
    name: &'static str,
    kind: Kind,
    default: fn() -> Value,
}

macro_rules! keys {
    ($($name:literal => $kind:expr, $default:expr;)*) => {
        const KEYS: &[Key] = &[$(Key { name: $name, kind: $kind, default: || $default }),*];
    };
}

const ORG_SYNC: &[&str] = &["ALL", "SELECTED_ONLY"];
const UNITS: &[&str] = &["METRIC", "IMPERIAL", "DEFAULT"];

keys! {
    "fieldsAutoSync" => Kind::Bool, json!(true);
    "operationsAutoSync" => Kind::Bool, json!(true);
    "customDataSync" => Kind::Bool, json!(true);
    "organizationDataSync" => Kind::Enum(ORG_SYNC), json!("ALL");
    "syncPartnerData" => Kind::Bool, json!(false);
    "implementsAutoSync" => Kind::Bool, json!(false);
    "machinesAutoSync" => Kind::Bool, json!(false);
    "operatorsAutoSync" => Kind::Bool, json!(false);
    "productsAutoSync" => Kind::Bool, json!(false);
    "zonesAutoSync" => Kind::Bool, json!(false);
    "automaticFixBoundary" => Kind::Bool, json!(true);
    "fieldsAttachIntersection" => Kind::Number(0.0, 100.0), json!(0.01);
    "fieldsAutoMerge" => Kind::Bool, json!(false);
    "fieldsMergeIntersection" => Kind::Number(0.0, 100.0), json!(0.01);
    "cleanupStandardGeojson" => Kind::Bool, json!(true);
    "cleanupRules" => Kind::Object, default_cleanup_rules();
    "originalOperationData" => Kind::Bool, json!(true);
    "unitMeasurement" => Kind::Enum(UNITS), json!("DEFAULT");
    "enableOutsideFieldGeojson" => Kind::Bool, json!(false);
    "enableGeoparquetOutput" => Kind::Bool, json!(false);
    "enablePolygonOutput" => Kind::Bool, json!(false);
    "cropOptional" => Kind::Object, json!({"standardGeoJson": {"planted": {"crop": "required"}}});
    "seedRateOptional" => Kind::Object, json!({"standardGeoJson": {"planted": {"seedRate": "required"}}});
    "outOfStandardOperations" => Kind::Bool, json!(false);
    "summarizeByProductEntry" => Kind::Bool, json!(true);
    "fieldOperationCreation" => Kind::Bool, json!(true);
    "operationsFilteredGeojson" => Kind::Bool, json!(true);
    "operationsRemoveOutliers" => Kind::Bool, json!(true);
    "operationsOutliersLimit" => Kind::Number(0.0, 100.0), json!(3);
    "operationsMergeRange" => Kind::Number(0.0, 3650.0), json!(5);
    "operationsMergeRangeHarvested" => Kind::Number(0.0, 3650.0), json!(21);
    "operationsProcessingRange" => Kind::Number(0.0, 600.0), json!(12);
    "splitOperationsByField" => Kind::Bool, json!(true);
    "splitOperationsByProvider" => Kind::Bool, json!(true);
    "splitOperationsByTillType" => Kind::Bool, json!(false);
    "enableOperationsSession" => Kind::Bool, json!(false);
    "operationsImageCreation" => Kind::Bool, json!(false);
    "operationsImageAsGeoTiff" => Kind::Bool, json!(false);
    "operationsImageAttributeCreation" => Kind::Object, default_image_attributes();
    "irrigationProcessingRange" => Kind::Number(0.0, 600.0), json!(12);
}

/// Keys furrow does not implement, with why. They are accepted at their default value (a client that sends a
/// whole configuration back still works) and refused otherwise (`unsupportedConfiguration`): a setting is never
/// accepted and then ignored.
pub const UNSUPPORTED_KEYS: &[(&str, &str)] = &[
    (
        "syncPartnerData",
        "partner data (John Deere partnerships, Ag Leader shares) is not synced",
    ),
    ("implementsAutoSync", "implements are not synced"),
    ("machinesAutoSync", "machines are not synced"),
    ("operatorsAutoSync", "operators are not synced"),
    ("productsAutoSync", "products are not synced"),
    ("zonesAutoSync", "zones are not synced"),
    ("fieldsAutoMerge", "fields are not merged automatically"),
    (
        "fieldsMergeIntersection",
        "fields are not merged automatically (fieldsAutoMerge)",
    ),
    (
        "summarizeByProductEntry",
        "summaries list products by name; a summary per product entry is not implemented",
    ),
    (
        "enableOperationsSession",
        "operation sessions are not implemented",
    ),
    (
        "irrigationProcessingRange",
        "irrigation activity is not processed into operations",
    ),
];

/// Why `key` is refused when set to something else than its default, if furrow does not implement it.
pub fn unsupported_key(key: &str) -> Option<&'static str> {
    UNSUPPORTED_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, why)| *why)
}

/// Leaf's default `cleanupRules`.
pub fn default_cleanup_rules() -> Value {
    json!({
        "harvestMoisture": [{"operator": "GT", "value": 0.0}, {"operator": "LT", "value": 100.0}],
        "tillageDepthActual": [{"operator": "GTE", "value": 0.0}],
        "recordingStatus": [{"operator": "EQ", "value": "On"}],
        "appliedRate": [{"operator": "GT", "value": 0.0}],
        "wetVolume": [{"operator": "GT", "value": 0.0}],
        "wetVolumePerArea": [{"operator": "GT", "value": 0.0}],
        "wetMass": [{"operator": "GT", "value": 0.0}],
        "seedRate": [{"operator": "GT", "value": 0.0}],
        "wetMassPerArea": [{"operator": "GT", "value": 0.0}],
        "crop": [{"operator": "NE", "value": "unknown"}],
        "products": [{"operator": "GTE", "value": 0.0}]
    })
}

/// Every key with its default value, in the reference's order.
pub fn config_defaults() -> Map<String, Value> {
    KEYS.iter()
        .map(|k| (k.name.to_owned(), (k.default)()))
        .collect()
}

/// A rejected configuration entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key at fault.
    pub key: String,
    /// Whether the key is unknown (Leaf's `unknownConfiguration`) rather than badly valued.
    pub unknown: bool,
    /// Whether the key is one furrow does not implement, set to something else than its default
    /// (`unsupportedConfiguration`).
    pub unsupported: bool,
    /// What is wrong.
    pub message: String,
}

const NUMERIC_RULES: &[&str] = &[
    "wetMass",
    "wetMassPerArea",
    "wetVolume",
    "wetVolumePerArea",
    "harvestMoisture",
    "appliedRate",
    "seedRate",
    "tillageDepthActual",
    "area",
    "products",
];
const STRING_RULES: &[&str] = &["recordingStatus", "crop"];

fn check_cleanup_rules(v: &Value) -> Result<(), String> {
    let Value::Object(rules) = v else {
        return Err("must be an object of property -> [{operator, value}]".into());
    };
    for (prop, list) in rules {
        let numeric = NUMERIC_RULES.contains(&prop.as_str());
        if !numeric && !STRING_RULES.contains(&prop.as_str()) {
            return Err(format!("`{prop}` cannot have cleanup rules"));
        }
        let Value::Array(list) = list else {
            return Err(format!("`{prop}` must be a list of rules"));
        };
        for r in list {
            let op = r
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let ok = if numeric {
                ["GT", "GTE", "LT", "LTE"].contains(&op)
                    && r.get("value").is_some_and(Value::is_number)
            } else {
                ["EQ", "NE"].contains(&op) && r.get("value").is_some_and(Value::is_string)
            };
            if !ok {
                return Err(format!(
                    "`{prop}`: rule {r} needs an operator among {} and a {} value",
                    if numeric {
                        "GT, GTE, LT, LTE"
                    } else {
                        "EQ, NE"
                    },
                    if numeric { "number" } else { "string" }
                ));
            }
        }
    }
    Ok(())
}

/// Leaf's default `operationsImageAttributeCreation`: every imageable property of every type, off.
fn default_image_attributes() -> Value {
    Value::Object(
        furrow_render::IMAGEABLE_PROPERTIES
            .iter()
            .map(|(t, props)| {
                let off: Map<String, Value> = props
                    .iter()
                    .map(|p| ((*p).to_owned(), json!(false)))
                    .collect();
                ((*t).to_owned(), Value::Object(off))
            })
            .collect(),
    )
}

fn check_image_attributes(v: &Value) -> Result<(), String> {
    let Value::Object(types) = v else {
        return Err("must be an object of operation type -> {property: true|false}".into());
    };
    for (operation_type, properties) in types {
        let Some((_, allowed)) = furrow_render::IMAGEABLE_PROPERTIES
            .iter()
            .find(|(t, _)| t == operation_type)
        else {
            return Err(format!(
                "`{operation_type}` is not an operation type with images (harvested, planted, applied, tillage)"
            ));
        };
        let Value::Object(properties) = properties else {
            return Err(format!(
                "`{operation_type}` must be an object of property -> true|false"
            ));
        };
        for (property, on) in properties {
            if !allowed.contains(&property.as_str()) {
                return Err(format!(
                    "`{operation_type}.{property}` cannot be imaged; the properties of {operation_type} are {}",
                    allowed.join(", ")
                ));
            }
            if !on.is_boolean() {
                return Err(format!(
                    "`{operation_type}.{property}` must be true or false"
                ));
            }
        }
    }
    Ok(())
}

/// Checks keys and values of a configuration update; every problem is reported.
pub fn validate_config(update: &Map<String, Value>) -> Result<(), Vec<ConfigError>> {
    let mut errors = Vec::new();
    for (name, value) in update {
        let Some(key) = KEYS.iter().find(|k| k.name == name) else {
            errors.push(ConfigError {
                key: name.clone(),
                unknown: true,
                unsupported: false,
                message: format!("unknown configuration `{name}`"),
            });
            continue;
        };
        if let Some(why) = unsupported_key(name) {
            if *value != (key.default)() {
                errors.push(ConfigError {
                    key: name.clone(),
                    unknown: false,
                    unsupported: true,
                    message: format!(
                        "`{name}` is not supported by furrow: {why}; only its default {} is accepted",
                        (key.default)()
                    ),
                });
                continue;
            }
        }
        let problem = match (key.kind, value) {
            (_, Value::Null) => Some("cannot be null".to_owned()),
            (Kind::Bool, Value::Bool(_)) => None,
            (Kind::Bool, _) => Some("must be true or false".to_owned()),
            (Kind::Number(lo, hi), Value::Number(n)) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                (!(lo..=hi).contains(&x)).then(|| format!("must be between {lo} and {hi}"))
            }
            (Kind::Number(..), _) => Some("must be a number".to_owned()),
            (Kind::Enum(allowed), Value::String(s)) if allowed.contains(&s.as_str()) => None,
            (Kind::Enum(allowed), _) => Some(format!("must be one of {}", allowed.join(", "))),
            (Kind::Object, v) if name == "cleanupRules" => check_cleanup_rules(v).err(),
            (Kind::Object, v) if name == "operationsImageAttributeCreation" => {
                check_image_attributes(v).err()
            }
            (Kind::Object, Value::Object(_)) => None,
            (Kind::Object, _) => Some("must be an object".to_owned()),
        };
        if let Some(message) = problem {
            errors.push(ConfigError {
                key: name.clone(),
                unknown: false,
                unsupported: false,
                message,
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The effective configuration: defaults, overridden by the owner's keys, overridden by the user's keys.
pub fn effective_config(
    owner: &Map<String, Value>,
    user: Option<&Map<String, Value>>,
) -> Map<String, Value> {
    let mut out = config_defaults();
    for layer in [Some(owner), user].into_iter().flatten() {
        for (k, v) in layer {
            if out.contains_key(k) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_inheritance_and_validation() {
        let d = config_defaults();
        assert_eq!(d.len(), KEYS.len());
        assert_eq!(d["operationsMergeRange"], 5);
        assert_eq!(d["cleanupRules"]["crop"][0]["operator"], "NE");
        let mut owner = Map::new();
        owner.insert("operationsMergeRange".into(), json!(7));
        owner.insert("fieldsAutoSync".into(), json!(false));
        let mut user = Map::new();
        user.insert("operationsMergeRange".into(), json!(2));
        let eff = effective_config(&owner, Some(&user));
        assert_eq!(
            (
                eff["operationsMergeRange"].clone(),
                eff["fieldsAutoSync"].clone()
            ),
            (json!(2), json!(false))
        );
        assert_eq!(effective_config(&owner, None)["operationsMergeRange"], 7);

        let bad: Map<String, Value> = serde_json::from_value(json!({
            "nope": 1, "fieldsAutoSync": "yes", "fieldsAttachIntersection": 150, "unitMeasurement": "SI",
            "cleanupRules": {"seedRate": [{"operator": "EQ", "value": 1}]}, "operationsMergeRange": null
        })).unwrap();
        let errors = validate_config(&bad).unwrap_err();
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(errors.len(), 6, "{keys:?}");
        assert!(errors.iter().any(|e| e.key == "nope" && e.unknown));
        assert!(
            errors
                .iter()
                .filter(|e| e.key != "nope")
                .all(|e| !e.unknown)
        );
        let good: Map<String, Value> = serde_json::from_value(json!({
            "cleanupRules": {"seedRate": [{"operator": "GT", "value": 5}], "crop": [{"operator": "NE", "value": "x"}]},
            "unitMeasurement": "IMPERIAL", "organizationDataSync": "SELECTED_ONLY"
        })).unwrap();
        assert!(validate_config(&good).is_ok());
    }
}
