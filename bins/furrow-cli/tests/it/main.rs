//! The `furrow` binary.

use std::process::Command;

fn furrow(args: &[&str]) -> std::process::Output {
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
