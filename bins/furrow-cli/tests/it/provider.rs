use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use furrow_credentials::Provider;
use furrow_provider_sim::Simulator;
use serde_json::Value;

fn body(kind: Provider, values: &std::collections::BTreeMap<String, String>) -> Value {
    Value::Object(
        values
            .iter()
            .filter(|(k, _)| kind.field(k).is_some_and(|f| f.in_create))
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_check_reports_what_a_credential_sees_and_keeps_rotated_tokens() {
    let sim = Simulator::start(Provider::Claas).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("claas.json");
    let values = sim.new_credential();
    std::fs::write(
        &file,
        serde_json::to_vec(&body(Provider::Claas, &values)).unwrap(),
    )
    .unwrap();
    let base = sim.base_url().to_owned();
    let f = file.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_furrow"))
            .args([
                "provider",
                "check",
                "claas",
                "--credentials",
                f.to_str().unwrap(),
                "--base-url",
                &base,
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("credential: OK"), "{text}");
    let listed: usize = text
        .lines()
        .filter_map(|l| {
            l.split("; ")
                .nth(1)?
                .strip_suffix(" machine files")?
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert!(listed > 0, "{text}");
    assert_eq!(listed, sim.visible_files().len(), "{text}");
    let stored: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let refresh = stored["refreshToken"].as_str().unwrap();
    assert!(
        sim.is_refresh_token_valid(refresh),
        "the file holds the refresh token the provider accepts now"
    );
    for v in values.values().filter(|v| v.len() > 8) {
        if Provider::Claas
            .field(values.iter().find(|(_, x)| *x == v).unwrap().0)
            .is_some_and(|f| f.secret)
        {
            assert!(!text.contains(v.as_str()), "secrets are not printed");
        }
    }

    // A revoked grant is refused and says what status the credential would get.
    let revoked = sim.new_credential();
    assert!(sim.revoke(&revoked));
    std::fs::write(
        &file,
        serde_json::to_vec(&body(Provider::Claas, &revoked)).unwrap(),
    )
    .unwrap();
    let base = sim.base_url().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_furrow"))
            .args([
                "provider",
                "check",
                "claas",
                "--credentials",
                file.to_str().unwrap(),
                "--base-url",
                &base,
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("credential refused") && err.contains("INVALID"),
        "{err}"
    );
}

#[test]
fn sim_serves_every_provider_and_prints_credentials() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_furrow"))
        .args(["sim", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take(Provider::ALL.len())
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(lines.len(), Provider::ALL.len());
    for (line, kind) in lines.iter().zip(Provider::ALL) {
        let mut parts = line.split_whitespace();
        assert_eq!(parts.next(), Some(kind.slug()));
        assert!(parts.next().unwrap().starts_with("http://127.0.0.1:"));
        let json: Value = serde_json::from_str(&parts.collect::<Vec<_>>().join(" ")).unwrap();
        assert!(
            furrow_credentials::validate(kind, &json).is_ok(),
            "{kind:?}: the printed body is a valid create body"
        );
    }
}
