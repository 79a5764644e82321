use serde_json::{Value, json};

use furrow_credentials::{
    CredentialInput, Environment, FieldKind, JohnDeereCredentialsInput, MAX_FIELD_LEN, Provider,
    ValidationErrors, validate,
};

use crate::{full_body, minimal_body};

fn error_fields(errors: &ValidationErrors) -> Vec<&str> {
    errors.errors().iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn full_bodies_validate_and_split_into_public_and_secret() {
    let mut ran = 0;
    for p in Provider::ALL {
        let body = full_body(p);
        let input =
            validate(p, &Value::Object(body.clone())).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        assert_eq!(input.provider(), p);
        let public = input.public_fields();
        let secret = input.secret_fields();
        let accepted: Vec<_> = p.fields().iter().filter(|f| f.in_create).collect();
        assert_eq!(public.len() + secret.len(), accepted.len(), "{p:?}");
        for f in accepted {
            let map = if f.secret { &secret } else { &public };
            let other = if f.secret { &public } else { &secret };
            assert_eq!(
                Some(&map[f.name]),
                body[f.name].as_str().map(str::to_owned).as_ref(),
                "{p:?}.{}",
                f.name
            );
            assert!(!other.contains_key(f.name), "{p:?}.{} in both maps", f.name);
        }
        ran += 1;
    }
    assert_eq!(ran, 15);
}

#[test]
fn minimal_bodies_default_the_environment_to_stage() {
    for p in Provider::ALL {
        let input =
            validate(p, &Value::Object(minimal_body(p))).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        let public = input.public_fields();
        if p.has_environments() {
            assert_eq!(
                public.get("clientEnvironment").map(String::as_str),
                Some("STAGE"),
                "{p:?}"
            );
            assert_eq!(input.environment(), Some(Environment::Stage));
        } else {
            assert!(!public.contains_key("clientEnvironment"), "{p:?}");
            assert_eq!(input.environment(), None);
        }
        let full = validate(p, &Value::Object(full_body(p))).unwrap();
        if p.has_environments() {
            assert_eq!(full.public_fields()["clientEnvironment"], "PRODUCTION");
            assert_eq!(full.environment(), Some(Environment::Production));
        }
    }
}

#[test]
fn each_missing_required_field_is_named() {
    let mut checked = 0;
    for p in Provider::ALL {
        for f in p.fields().iter().filter(|f| f.required) {
            let mut body = full_body(p);
            body.remove(f.name);
            let errors = validate(p, &Value::Object(body)).unwrap_err();
            assert_eq!(error_fields(&errors), [f.name], "{p:?}");
            assert!(errors.errors()[0].message.contains("missing"), "{}", errors);
            checked += 1;
        }
    }
    // Every required cell of the 15 tables.
    assert_eq!(checked, 54);
}

#[test]
fn optional_fields_may_be_omitted() {
    let mut checked = 0;
    for p in Provider::ALL {
        for f in p.fields().iter().filter(|f| f.in_create && !f.required) {
            let mut body = full_body(p);
            body.remove(f.name);
            assert!(
                validate(p, &Value::Object(body)).is_ok(),
                "{p:?}.{}",
                f.name
            );
            checked += 1;
        }
    }
    // 7 clientEnvironment + Ag Leader accessToken.
    assert_eq!(checked, 8);
}

#[test]
fn each_wrong_type_is_named() {
    let bad = [
        json!(42),
        json!(null),
        json!(""),
        json!("   "),
        json!([]),
        json!(["x"]),
        json!({}),
        json!(true),
    ];
    let mut checked = 0;
    for p in Provider::ALL {
        for f in p.fields().iter().filter(|f| f.in_create) {
            for value in &bad {
                let mut body = full_body(p);
                body.insert(f.name.to_owned(), value.clone());
                let errors = validate(p, &Value::Object(body)).unwrap_err();
                assert_eq!(
                    error_fields(&errors),
                    [f.name],
                    "{p:?}.{} = {value}",
                    f.name
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, (54 + 8) * bad.len());
}

#[test]
fn messages_never_quote_submitted_secrets() {
    let p = Provider::JohnDeere;
    let mut body = full_body(p);
    body.insert("clientSecret".into(), json!(["very-secret-value"]));
    body.insert("refreshTokenTypo".into(), json!("another-secret-value"));
    let errors = validate(p, &Value::Object(body)).unwrap_err();
    let text = format!("{errors} {}", serde_json::to_string(&errors).unwrap());
    assert!(!text.contains("very-secret"), "{text}");
    assert!(!text.contains("another-secret"), "{text}");
}

#[test]
fn unknown_fields_are_named() {
    for p in Provider::ALL {
        let mut body = full_body(p);
        body.insert("foo".into(), json!("bar"));
        let errors = validate(p, &Value::Object(body)).unwrap_err();
        assert_eq!(error_fields(&errors), ["foo"], "{p:?}");
        assert_eq!(errors.errors()[0].message, "unknown field `foo`");
    }
}

#[test]
fn generated_fields_are_unknown_on_create() {
    let mut checked = 0;
    for p in Provider::ALL {
        for f in p.fields().iter().filter(|f| !f.in_create) {
            let mut body = full_body(p);
            body.insert(f.name.to_owned(), json!("generated-value"));
            let errors = validate(p, &Value::Object(body)).unwrap_err();
            assert_eq!(error_fields(&errors), [f.name], "{p:?}");
            assert!(errors.errors()[0].message.starts_with("unknown field"));
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked}");
    // The two documented exceptions carry accessToken in the create body.
    for p in [Provider::AgLeader, Provider::Stara] {
        let input = validate(p, &Value::Object(full_body(p))).unwrap();
        assert!(input.secret_fields().contains_key("accessToken"), "{p:?}");
    }
}

#[test]
fn client_environment_is_unknown_where_the_provider_has_none() {
    for p in Provider::ALL.into_iter().filter(|p| !p.has_environments()) {
        let mut body = full_body(p);
        body.insert("clientEnvironment".into(), json!("STAGE"));
        let errors = validate(p, &Value::Object(body)).unwrap_err();
        assert_eq!(error_fields(&errors), ["clientEnvironment"], "{p:?}");
        assert!(errors.errors()[0].message.starts_with("unknown field"));
    }
}

#[test]
fn invalid_environment_values_are_rejected() {
    for p in Provider::ALL.into_iter().filter(|p| p.has_environments()) {
        for value in [
            json!("stage"),
            json!("TEST"),
            json!("Production "),
            json!(1),
            json!(null),
            json!(""),
        ] {
            let mut body = full_body(p);
            body.insert("clientEnvironment".into(), value.clone());
            let errors = validate(p, &Value::Object(body)).unwrap_err();
            assert_eq!(
                error_fields(&errors),
                ["clientEnvironment"],
                "{p:?} {value}"
            );
            assert!(
                errors.errors()[0]
                    .message
                    .contains("\"STAGE\" or \"PRODUCTION\"")
            );
        }
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    for p in Provider::ALL {
        let first_required = p.fields().iter().find(|f| f.required).unwrap().name;
        let mut body = full_body(p);
        body.remove(first_required);
        body.insert("foo".into(), json!(1));
        let errors = validate(p, &Value::Object(body)).unwrap_err();
        assert_eq!(error_fields(&errors), [first_required, "foo"], "{p:?}");

        // An empty object names every required field, in table order.
        let errors = validate(p, &json!({})).unwrap_err();
        let required: Vec<_> = p
            .fields()
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect();
        assert_eq!(error_fields(&errors), required, "{p:?}");
    }
}

#[test]
fn mixed_problems_on_one_provider() {
    let errors = validate(
        Provider::Panorama,
        &json!({"clientId": 5, "username": "u", "clientEnvironment": "DEV", "accessToken": "x", "zzz": null}),
    )
    .unwrap_err();
    assert_eq!(
        error_fields(&errors),
        [
            "clientId",
            "password",
            "organizationCode",
            "refreshToken",
            "clientEnvironment",
            "accessToken",
            "zzz"
        ]
    );
    assert_eq!(errors.len(), 7);
    assert!(errors.has_field("zzz"));
    let display = errors.to_string();
    assert!(
        display.starts_with("invalid credential body: clientId: "),
        "{display}"
    );
    assert!(
        display.contains("; password: missing required field `password`"),
        "{display}"
    );
}

#[test]
fn non_object_bodies_are_rejected() {
    for body in [json!([]), json!("x"), json!(null), json!(3)] {
        let errors = validate(Provider::Trimble, &body).unwrap_err();
        assert_eq!(error_fields(&errors), ["body"], "{body}");
        assert!(
            errors.errors()[0]
                .message
                .starts_with("expected a JSON object")
        );
    }
}

#[test]
fn oversized_values_are_rejected() {
    let mut body = full_body(Provider::Trimble);
    body.insert("refreshToken".into(), json!("x".repeat(MAX_FIELD_LEN + 1)));
    let errors = validate(Provider::Trimble, &Value::Object(body.clone())).unwrap_err();
    assert_eq!(error_fields(&errors), ["refreshToken"]);
    body.insert("refreshToken".into(), json!("x".repeat(MAX_FIELD_LEN)));
    assert!(validate(Provider::Trimble, &Value::Object(body)).is_ok());
}

#[test]
fn typed_schema_is_returned() {
    let input = validate(
        Provider::JohnDeere,
        &json!({"clientKey": "k", "clientSecret": "s", "refreshToken": "r", "clientEnvironment": "PRODUCTION"}),
    )
    .unwrap();
    assert_eq!(
        input,
        CredentialInput::JohnDeere(JohnDeereCredentialsInput {
            client_key: "k".into(),
            client_secret: "s".into(),
            refresh_token: "r".into(),
            client_environment: Environment::Production,
        })
    );
    let CredentialInput::AgLeader(ag) = validate(
        Provider::AgLeader,
        &json!({"publicKey": "p", "privateKey": "k", "refreshToken": "r"}),
    )
    .unwrap() else {
        panic!("not Ag Leader");
    };
    assert_eq!(ag.access_token, None);
}

#[test]
fn validation_errors_serialise_as_field_errors() {
    let errors = validate(
        Provider::Claas,
        &json!({"clientKey": "k", "clientSecret": "s", "refreshToken": 1}),
    )
    .unwrap_err();
    assert_eq!(
        serde_json::to_value(&errors).unwrap(),
        json!([{"field": "refreshToken", "message": "`refreshToken` must be a non-empty string, found a number"}])
    );
}

#[test]
fn debug_redacts_secrets() {
    for p in Provider::ALL {
        let input = validate(p, &Value::Object(full_body(p))).unwrap();
        let debug = format!("{input:?}");
        for value in input.secret_fields().values() {
            assert!(!debug.contains(value.as_str()), "{p:?}: {debug}");
        }
        for value in input.public_fields().values() {
            assert!(debug.contains(value.as_str()), "{p:?}: {debug}");
        }
        assert!(debug.contains("<redacted>"));
    }
    let typed = JohnDeereCredentialsInput {
        client_key: "kkkk".into(),
        client_secret: "top-secret".into(),
        refresh_token: "refresh-secret".into(),
        client_environment: Environment::Stage,
    };
    let debug = format!("{typed:?}");
    assert!(debug.contains("kkkk"), "{debug}");
    assert!(
        !debug.contains("top-secret") && !debug.contains("refresh-secret"),
        "{debug}"
    );
}

#[test]
fn field_kind_of_environment_matches_typed_field() {
    // clientEnvironment is the only non-String kind, and only on providers with environments.
    for p in Provider::ALL {
        for f in p.fields() {
            assert_eq!(
                f.kind == FieldKind::Environment,
                f.name == "clientEnvironment",
                "{p:?}"
            );
        }
    }
}
