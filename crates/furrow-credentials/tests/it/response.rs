use std::collections::BTreeMap;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use furrow_credentials::{
    CredentialStatus, Provider, StoredCredentialView, credential_response, mask_secret, validate,
};

use crate::{full_body, sample_value};

/// What the store would hold for a fully populated credential: the validated maps plus every generated
/// field (`accessToken`, `sessionId`, `organizationId`, ...).
fn stored(provider: Provider) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let input = validate(provider, &Value::Object(full_body(provider))).unwrap();
    let mut public: BTreeMap<String, String> = input
        .public_fields()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let mut secrets: BTreeMap<String, String> = input
        .secret_fields()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    for f in provider.fields().iter().filter(|f| !f.in_create) {
        let map = if f.secret { &mut secrets } else { &mut public };
        map.insert(f.name.to_owned(), sample_value(provider, f));
    }
    (public, secrets)
}

const CREATED: OffsetDateTime = datetime!(2023-04-21 12:16:27.997586 UTC);

fn response(provider: Provider, mask: bool, scopes: Option<&[String]>) -> Value {
    let (public, secrets) = stored(provider);
    credential_response(
        provider,
        &StoredCredentialView {
            id: "3f2b7c1e-0000-4000-8000-000000000001",
            status: CredentialStatus::Ok,
            created_time: CREATED,
            public: &public,
            secrets: &secrets,
            scopes,
            mask_secrets: mask,
        },
    )
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn keys_follow_the_reference_order() {
    for p in Provider::ALL {
        let body = response(p, true, None);
        let mut expected = vec!["id", "status", "createdTime"];
        expected.extend(p.fields().iter().filter(|f| f.in_response).map(|f| f.name));
        if p.has_token_metadata() {
            expected.push("tokenMetadata");
        }
        assert_eq!(keys(&body), expected, "{p:?}");
    }
    assert_eq!(
        keys(&response(Provider::JohnDeere, true, None)),
        [
            "id",
            "status",
            "createdTime",
            "clientKey",
            "clientSecret",
            "refreshToken",
            "clientEnvironment",
            "accessToken",
            "tokenMetadata"
        ]
    );
    assert_eq!(
        keys(&response(Provider::Sentera, true, None)),
        [
            "id",
            "status",
            "createdTime",
            "username",
            "organizationName",
            "authToken",
            "organizationId"
        ]
    );
}

#[test]
fn envelope_values() {
    let body = response(Provider::Trimble, true, None);
    assert_eq!(body["id"], "3f2b7c1e-0000-4000-8000-000000000001");
    assert_eq!(body["status"], "OK");
    assert_eq!(body["createdTime"], "2023-04-21T12:16:27.997586Z");
}

#[test]
fn created_time_has_six_fraction_digits_and_z() {
    let public = BTreeMap::new();
    let secrets = BTreeMap::new();
    for t in [
        datetime!(2024-01-02 03:04:05 UTC),
        datetime!(2024-01-02 03:04:05.1 +05:30),
        datetime!(1999-12-31 23:59:59.999999999 -08:00),
    ] {
        let body = credential_response(
            Provider::Valley,
            &StoredCredentialView {
                id: "x",
                status: CredentialStatus::Processing,
                created_time: t,
                public: &public,
                secrets: &secrets,
                scopes: None,
                mask_secrets: true,
            },
        );
        let s = body["createdTime"].as_str().unwrap();
        assert_eq!(s.len(), 27, "{s}");
        assert!(s.ends_with('Z'), "{s}");
        let (_, fraction) = s.trim_end_matches('Z').split_once('.').unwrap();
        assert!(
            fraction.len() == 6 && fraction.bytes().all(|b| b.is_ascii_digit()),
            "{s}"
        );
        let back =
            OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap();
        assert_eq!(back.unix_timestamp(), t.unix_timestamp(), "{s}");
    }
}

#[test]
fn secrets_are_masked() {
    let mut masked_fields = 0;
    for p in Provider::ALL {
        let (public, secrets) = stored(p);
        let body = response(p, true, None);
        let text = serde_json::to_string(&body).unwrap();
        for (name, value) in &secrets {
            if let Some(shown) = body.get(name) {
                assert_eq!(shown.as_str().unwrap(), mask_secret(value), "{p:?}.{name}");
                assert!(shown.as_str().unwrap().starts_with("********"));
                assert_eq!(shown.as_str().unwrap().len(), 12);
                masked_fields += 1;
            }
            // No 5-character window of any secret shows up anywhere.
            let chars: Vec<char> = value.chars().collect();
            for window in chars.windows(5) {
                let needle: String = window.iter().collect();
                if public.values().any(|v| v.contains(&needle)) {
                    continue; // shared with a clear value such as the slug prefix
                }
                assert!(
                    !text.contains(&needle),
                    "{p:?}.{name}: `{needle}` leaked in {text}"
                );
            }
        }
        for (name, value) in &public {
            assert_eq!(body[name].as_str(), Some(value.as_str()), "{p:?}.{name}");
        }
    }
    assert!(masked_fields > 40, "{masked_fields}");
}

#[test]
fn unmasked_mode_returns_secrets_in_full() {
    for p in Provider::ALL {
        let (_, secrets) = stored(p);
        let body = response(p, false, None);
        for f in p.fields().iter().filter(|f| f.secret) {
            if f.in_response {
                assert_eq!(
                    body[f.name].as_str(),
                    Some(secrets[f.name].as_str()),
                    "{p:?}.{}",
                    f.name
                );
            } else {
                assert!(body.get(f.name).is_none(), "{p:?}.{}", f.name);
            }
        }
    }
}

#[test]
fn never_returned_passwords_are_omitted_even_unmasked() {
    for p in [Provider::Sentera, Provider::Valley, Provider::Panorama] {
        for mask in [true, false] {
            let body = response(p, mask, None);
            assert!(body.get("password").is_none(), "{p:?}");
            let password = &stored(p).1["password"];
            let text = body.to_string();
            assert!(!text.contains(&password[..6]), "{p:?}: {text}");
            assert!(
                !text.contains(&password[password.len() - 4..]),
                "{p:?}: {text}"
            );
        }
    }
    // Leaf returns the AgVance password; furrow masks it.
    let password = &stored(Provider::AgVance).1["password"];
    assert_eq!(
        response(Provider::AgVance, true, None)["password"].as_str(),
        Some(mask_secret(password).as_str())
    );
    assert_eq!(
        response(Provider::AgVance, false, None)["password"].as_str(),
        Some(password.as_str())
    );
    // JD legacy OAuth 1 fields are stored but never shown.
    let jd = response(Provider::JohnDeere, false, None);
    assert!(jd.get("tokenId").is_none() && jd.get("tokenSecretKey").is_none());
}

#[test]
fn token_metadata_lists_scopes() {
    let scopes = vec!["ag1".to_owned(), "eq1".to_owned()];
    for p in Provider::ALL {
        let with = response(p, true, Some(&scopes));
        let without = response(p, true, None);
        if p.has_token_metadata() {
            assert_eq!(
                with["tokenMetadata"],
                json!({"scopes": ["ag1", "eq1"]}),
                "{p:?}"
            );
            assert_eq!(without["tokenMetadata"], json!({"scopes": []}), "{p:?}");
        } else {
            assert!(with.get("tokenMetadata").is_none(), "{p:?}");
        }
    }
}

#[test]
fn absent_values_are_omitted_not_null() {
    let public = BTreeMap::new();
    let secrets = BTreeMap::new();
    for p in Provider::ALL {
        let body = credential_response(
            p,
            &StoredCredentialView {
                id: "x",
                status: CredentialStatus::Invalid,
                created_time: CREATED,
                public: &public,
                secrets: &secrets,
                scopes: None,
                mask_secrets: true,
            },
        );
        let mut expected = vec!["id", "status", "createdTime"];
        if p.has_token_metadata() {
            expected.push("tokenMetadata");
        }
        assert_eq!(keys(&body), expected, "{p:?}");
        assert_eq!(body["status"], "INVALID");
        assert!(!body.to_string().contains("null"));
    }
}

#[test]
fn secrets_misfiled_as_public_are_still_masked() {
    let mut public = BTreeMap::new();
    public.insert(
        "clientSecret".to_owned(),
        "should-have-been-secret".to_owned(),
    );
    let secrets = BTreeMap::new();
    let body = credential_response(
        Provider::Raven,
        &StoredCredentialView {
            id: "x",
            status: CredentialStatus::Ok,
            created_time: CREATED,
            public: &public,
            secrets: &secrets,
            scopes: None,
            mask_secrets: true,
        },
    );
    assert_eq!(body["clientSecret"], "********cret");
}
