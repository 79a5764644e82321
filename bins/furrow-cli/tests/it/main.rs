//! The `furrow` binary.

mod allocate;
mod architecture;
mod convert;
mod provider;
mod render;

use std::process::Command;

pub(crate) fn furrow(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_furrow"))
        .args(args)
        .env_remove("FURROW_DATABASE_URL")
        .env_remove("FURROW_SECRET_KEY")
        .output()
        .unwrap()
}

#[tokio::test]
async fn owner_create_stores_a_usable_owner() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let out = furrow(&[
        "owner",
        "create",
        "--username",
        "cli@example.com",
        "--password",
        "cli-password",
        "--data-dir",
        d,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created API owner cli@example.com"));

    let again = furrow(&[
        "owner",
        "create",
        "--username",
        "cli@example.com",
        "--password",
        "cli-password",
        "--data-dir",
        d,
    ]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let short = furrow(&[
        "owner",
        "create",
        "--username",
        "x@example.com",
        "--password",
        "short",
        "--data-dir",
        d,
    ]);
    assert_eq!(short.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8"));

    let out = furrow(&[
        "owner",
        "show-secrets",
        "--username",
        "cli@example.com",
        "--enabled",
        "true",
        "--data-dir",
        d,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let key = furrow_store::SecretKey::load_or_create(&data).unwrap();
    let store = furrow_store::Store::open(furrow_store::StoreOptions {
        data_dir: data.clone(),
        database_url: None,
        key,
    })
    .await
    .unwrap();
    let owner = store
        .verify_owner("cli@example.com", "cli-password")
        .await
        .unwrap()
        .expect("owner exists");
    assert!(owner.show_secrets);
    assert!(
        store
            .verify_owner("x@example.com", "short")
            .await
            .unwrap()
            .is_none()
    );
}

/// A file or folder of the repository's `samples/isoxml/`.
pub(crate) fn sample(rel: &str) -> String {
    let p = furrow_provider_sim::samples_dir().join("isoxml").join(rel);
    assert!(p.exists(), "sample {} is there", p.display());
    p.to_string_lossy().into_owned()
}

/// A file or folder of the shared ISOXML corpus (feature `corpus`).
#[cfg(feature = "corpus")]
pub(crate) fn corpus(rel: &str) -> String {
    let p = furrow_provider_sim::corpus_dir().join(rel);
    assert!(
        p.exists(),
        "corpus file {} is there (set FURROW_SHARED_DIR to the folder holding isoxml-corpus/)",
        p.display()
    );
    p.to_string_lossy().into_owned()
}

#[test]
fn inspect_prints_the_documented_json_shape() {
    let out = furrow(&[
        "inspect",
        &sample("isoxml-js/2021-04-09T15_33_26_taskdata.zip"),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "4.2");
    for key in [
        "TSK", "PFD", "PLN", "TLG", "GRD", "DVC", "DET", "DPD", "TZN",
    ] {
        assert!(v["counts"][key].is_u64(), "counts.{key}");
    }
    assert_eq!(v["counts"]["PFD"], 15);
    let logs = v["timeLogs"].as_array().unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["records"], 207);
    let bbox = logs[0]["bbox"].as_array().unwrap();
    assert_eq!(bbox.len(), 4);
    assert!(bbox[0].as_f64().unwrap() < bbox[2].as_f64().unwrap());
    let dlv = &logs[0]["dlvs"][0];
    for key in ["index", "ddi", "deviceElement", "count", "sum"] {
        assert!(!dlv[key].is_null(), "dlvs[0].{key}");
    }
    assert!(v["warnings"].is_array());

    let text = furrow(&[
        "inspect",
        &sample("isoxml-js/2021-04-09T15_33_26_taskdata.zip"),
    ]);
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains("207"));
}

#[test]
fn inspect_prints_an_array_for_several_sets_and_fails_clearly_on_bad_input() {
    let out = furrow(&[
        "inspect",
        &sample("isoxml-dotnet/LoadFromStream/MultiplyTaskdataXML.zip"),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(2));

    let bad = furrow(&[
        "inspect",
        &sample("isoxml-dotnet/LoadFromStream/InvalidArchive.zip"),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("InvalidArchive.zip"), "names the input: {err}");
    let missing = furrow(&["inspect", "/nonexistent/TASKDATA"]);
    assert_eq!(missing.status.code(), Some(1));
}

#[tokio::test]
async fn key_rotate_reseals_every_secret_under_a_new_key() {
    use furrow_store::{SecretKey, Store, StoreOptions};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let open = |key: SecretKey| {
        Store::open(StoreOptions {
            data_dir: data.clone(),
            database_url: None,
            key,
        })
    };
    let old = SecretKey::load_or_create(&data).unwrap();
    let store = open(old.clone()).await.unwrap();
    let owner = store.create_owner("k@example.com", "pw").await.unwrap();
    let user = store
        .create_user(&owner.id, &furrow_model::UserInput::default())
        .await
        .unwrap();
    let input = furrow_credentials::validate(
        furrow_credentials::Provider::Claas,
        &serde_json::json!({"clientKey": "k", "clientSecret": "the-secret", "refreshToken": "rt-1"}),
    )
    .unwrap();
    let cred = store
        .create_credential(&owner.id, &user.id, &input)
        .await
        .unwrap();
    store.close().await;

    let out = furrow(&["key", "rotate", "--data-dir", data.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 secrets re-sealed"));
    assert!(
        !data.join("secret.key.previous").exists(),
        "the old key is forgotten"
    );
    let new = SecretKey::load_or_create(&data).unwrap();
    assert_ne!(new.to_base64(), old.to_base64());
    let reopened = open(new).await.unwrap();
    let got = reopened
        .get_credential_by_id(&owner.id, &cred.id)
        .await
        .unwrap();
    assert_eq!(got.secrets["clientSecret"], "the-secret");
    let stale = open(old).await.unwrap();
    assert!(
        stale
            .get_credential_by_id(&owner.id, &cred.id)
            .await
            .is_err()
    );
}
