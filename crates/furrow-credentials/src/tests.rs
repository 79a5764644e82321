use std::collections::HashSet;

use time::macros::datetime;

use crate::{
    AuthKind, CredentialStatus, Environment, Error, FieldKind, Provider, format_timestamp,
    mask_secret, parse_timestamp,
};

#[test]
fn catalogue_has_the_fifteen_providers_with_the_reference_slugs() {
    let slugs: Vec<_> = Provider::ALL.iter().map(|p| p.slug()).collect();
    assert_eq!(
        slugs,
        [
            "john-deere",
            "claas",
            "climate-field-view",
            "cnhi",
            "cnhi-field-ops",
            "trimble",
            "ag-leader",
            "raven",
            "raven-slingshot",
            "stara",
            "sentera",
            "agvance",
            "panorama",
            "lindsay",
            "valley",
        ]
    );
}

#[test]
fn slugs_are_unique_and_round_trip() {
    let unique: HashSet<_> = Provider::ALL.iter().map(|p| p.slug()).collect();
    assert_eq!(unique.len(), Provider::ALL.len());
    for p in Provider::ALL {
        assert_eq!(Provider::from_slug(p.slug()), Some(p));
        assert_eq!(p.slug().parse::<Provider>().unwrap(), p);
    }
    assert_eq!(Provider::from_slug("agrimatics"), None);
    assert_eq!(Provider::from_slug("John-Deere"), None);
    assert_eq!(Provider::from_slug(""), None);
}

#[test]
fn leaf_names_and_user_keys_are_unique() {
    let names: HashSet<_> = Provider::ALL.iter().map(|p| p.leaf_name()).collect();
    let keys: HashSet<_> = Provider::ALL.iter().map(|p| p.user_key()).collect();
    let display: HashSet<_> = Provider::ALL.iter().map(|p| p.display_name()).collect();
    assert_eq!(names.len(), 15);
    assert_eq!(keys.len(), 15);
    assert_eq!(display.len(), 15);
    for p in Provider::ALL {
        assert_eq!(Provider::from_leaf_name(p.leaf_name()), Some(p));
        assert_eq!(p.leaf_name().parse::<Provider>().unwrap(), p);
        assert_eq!(p.to_string(), p.leaf_name());
    }
    assert_eq!(Provider::Claas.leaf_name(), "CLAAS");
    assert_eq!(Provider::CnhiFieldOps.leaf_name(), "CNHIFieldOps");
    assert!(matches!("Nope".parse::<Provider>(), Err(Error::UnknownProvider(s)) if s == "Nope"));
}

/// The user key is the camelCased slug plus `Credentials`: an independent check of both tables.
#[test]
fn user_keys_follow_the_slugs() {
    for p in Provider::ALL {
        let mut expected = String::new();
        for (i, part) in p.slug().split('-').enumerate() {
            if i == 0 {
                expected.push_str(part);
            } else {
                expected.push_str(&part[..1].to_uppercase());
                expected.push_str(&part[1..]);
            }
        }
        expected.push_str("Credentials");
        assert_eq!(p.user_key(), expected, "{p:?}");
    }
}

#[test]
fn provider_serialises_as_its_leaf_name() {
    for p in Provider::ALL {
        let json = serde_json::to_value(p).unwrap();
        assert_eq!(json, p.leaf_name());
        assert_eq!(serde_json::from_value::<Provider>(json).unwrap(), p);
    }
    assert!(serde_json::from_value::<Provider>("john-deere".into()).is_err());
}

#[test]
fn environments_follow_the_reference_tables() {
    let with: Vec<_> = Provider::ALL
        .into_iter()
        .filter(|p| p.has_environments())
        .collect();
    assert_eq!(
        with,
        [
            Provider::JohnDeere,
            Provider::Claas,
            Provider::Cnhi,
            Provider::CnhiFieldOps,
            Provider::AgVance,
            Provider::Panorama,
            Provider::Lindsay,
        ]
    );
    for p in Provider::ALL {
        let env: Vec<_> = p
            .fields()
            .iter()
            .filter(|f| f.name == "clientEnvironment")
            .collect();
        assert_eq!(env.len(), usize::from(p.has_environments()), "{p:?}");
        for f in env {
            assert_eq!(f.kind, FieldKind::Environment);
            assert!(f.in_create && !f.required && !f.secret && f.in_response);
            assert_eq!(f.default_value(), Some("STAGE"));
        }
    }
}

#[test]
fn token_metadata_for_oauth_providers_only() {
    let with: Vec<_> = Provider::ALL
        .into_iter()
        .filter(|p| p.has_token_metadata())
        .collect();
    assert_eq!(
        with,
        [
            Provider::JohnDeere,
            Provider::Claas,
            Provider::ClimateFieldView,
            Provider::CnhiFieldOps,
            Provider::Trimble,
            Provider::Raven,
            Provider::Lindsay,
        ]
    );
    for p in with {
        assert!(
            matches!(
                p.auth_kind(),
                AuthKind::OAuth2RefreshToken | AuthKind::OAuth2WithApiKey
            ),
            "{p:?}"
        );
    }
}

#[test]
fn auth_kinds() {
    assert_eq!(
        Provider::ClimateFieldView.auth_kind(),
        AuthKind::OAuth2WithApiKey
    );
    assert_eq!(Provider::RavenSlingshot.auth_kind(), AuthKind::HmacSigned);
    assert_eq!(Provider::Stara.auth_kind(), AuthKind::ApiKeyTokens);
    for p in [
        Provider::Sentera,
        Provider::AgVance,
        Provider::Panorama,
        Provider::Valley,
    ] {
        assert_eq!(p.auth_kind(), AuthKind::SessionLogin);
    }
    assert_eq!(
        Provider::JohnDeere.auth_kind(),
        AuthKind::OAuth2RefreshToken
    );
}

#[test]
fn field_tables_are_consistent() {
    for p in Provider::ALL {
        let names: HashSet<_> = p.fields().iter().map(|f| f.name).collect();
        assert_eq!(names.len(), p.fields().len(), "duplicate field in {p:?}");
        assert!(
            p.fields().iter().any(|f| f.required),
            "{p:?} has no required field"
        );
        for f in p.fields() {
            assert!(
                !f.required || f.in_create,
                "{p:?}.{} required but not accepted",
                f.name
            );
            assert_eq!(p.field(f.name), Some(f));
            if f.default_value().is_some() {
                assert_eq!(f.name, "clientEnvironment");
            }
            // Anything that looks like a secret is one.
            let lower = f.name.to_lowercase();
            if [
                "secret",
                "password",
                "token",
                "privatekey",
                "apikey",
                "accesskey",
            ]
            .iter()
            .any(|w| lower.contains(w))
            {
                assert!(f.secret, "{p:?}.{} should be secret", f.name);
            }
        }
    }
    assert!(Provider::JohnDeere.field("nope").is_none());
}

#[test]
fn generated_fields_are_not_accepted_except_ag_leader_and_stara_tokens() {
    let gen_names = |p: Provider| -> Vec<&str> {
        p.fields()
            .iter()
            .filter(|f| !f.in_create)
            .map(|f| f.name)
            .collect()
    };
    assert_eq!(
        gen_names(Provider::JohnDeere),
        ["accessToken", "tokenId", "tokenSecretKey"]
    );
    assert_eq!(
        gen_names(Provider::Sentera),
        ["authToken", "organizationId"]
    );
    assert_eq!(gen_names(Provider::AgVance), ["sessionId"]);
    assert!(gen_names(Provider::AgLeader).is_empty());
    assert!(gen_names(Provider::Stara).is_empty());
    let ag = Provider::AgLeader.field("accessToken").unwrap();
    assert!(ag.in_create && !ag.required && ag.secret);
    let stara = Provider::Stara.field("accessTokenClient").unwrap();
    assert!(stara.in_create && stara.required && stara.secret);
}

#[test]
fn passwords_never_returned_except_agvance() {
    for p in Provider::ALL {
        if let Some(f) = p.field("password") {
            assert!(f.secret);
            assert_eq!(f.in_response, p == Provider::AgVance, "{p:?}");
        }
    }
}

#[test]
fn mask_keeps_only_the_last_four_characters() {
    assert_eq!(mask_secret(""), "********");
    assert_eq!(mask_secret("abc"), "********");
    assert_eq!(mask_secret("1234567"), "********");
    assert_eq!(mask_secret("12345678"), "********5678");
    assert_eq!(mask_secret("super-secret-a1b2"), "********a1b2");
    assert_eq!(mask_secret("ééééééééàbcd"), "********àbcd");
}

#[test]
fn timestamps_have_microseconds_and_z() {
    assert_eq!(
        format_timestamp(datetime!(2023-04-21 12:16:27.997586123 UTC)),
        "2023-04-21T12:16:27.997586Z"
    );
    assert_eq!(
        format_timestamp(datetime!(2020-10-14 16:45:54 UTC)),
        "2020-10-14T16:45:54.000000Z"
    );
    assert_eq!(
        format_timestamp(datetime!(2023-04-21 14:16:27.5 +02:00)),
        "2023-04-21T12:16:27.500000Z"
    );
}

#[test]
fn timestamps_parse_any_rfc3339() {
    let t = parse_timestamp("2023-04-21T14:16:27.997586+02:00").unwrap();
    assert_eq!(format_timestamp(t), "2023-04-21T12:16:27.997586Z");
    let t = parse_timestamp("2020-10-14T16:45:54Z").unwrap();
    assert_eq!(format_timestamp(t), "2020-10-14T16:45:54.000000Z");
    assert!(matches!(
        parse_timestamp("yesterday"),
        Err(Error::InvalidTimestamp { value, .. }) if value == "yesterday"
    ));
}

#[test]
fn status_wire_forms_round_trip() {
    let forms: Vec<_> = CredentialStatus::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(forms, ["PROCESSING", "OK", "LIMITED_PERMISSION", "INVALID"]);
    for s in CredentialStatus::ALL {
        assert_eq!(s.as_str().parse::<CredentialStatus>().unwrap(), s);
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        assert_eq!(
            serde_json::from_value::<CredentialStatus>(s.as_str().into()).unwrap(),
            s
        );
        assert_eq!(s.to_string(), s.as_str());
    }
    assert!(matches!("ok".parse::<CredentialStatus>(), Err(Error::UnknownStatus(s)) if s == "ok"));
}

#[test]
fn status_transitions() {
    use CredentialStatus::*;
    let allowed = |from: CredentialStatus| -> Vec<CredentialStatus> {
        CredentialStatus::ALL
            .into_iter()
            .filter(|to| from.can_transition_to(*to))
            .collect()
    };
    assert_eq!(
        allowed(Processing),
        [Processing, Ok, LimitedPermission, Invalid]
    );
    assert_eq!(allowed(Ok), [Ok, LimitedPermission, Invalid]);
    assert_eq!(allowed(LimitedPermission), [Ok, LimitedPermission, Invalid]);
    assert_eq!(allowed(Invalid), [Invalid]);
    assert_eq!(
        LimitedPermission.alert_event(),
        Some("credentialsLimitedPermission")
    );
    assert_eq!(Invalid.alert_event(), Some("credentialsUnauthenticated"));
    assert_eq!(Ok.alert_event(), None);
}

#[test]
fn environment_parses_exactly() {
    assert_eq!("STAGE".parse::<Environment>().unwrap(), Environment::Stage);
    assert_eq!(
        "PRODUCTION".parse::<Environment>().unwrap(),
        Environment::Production
    );
    assert!("stage".parse::<Environment>().is_err());
    assert_eq!(Environment::default(), Environment::Stage);
    assert_eq!(
        serde_json::to_value(Environment::Production).unwrap(),
        "PRODUCTION"
    );
}
