//! One `furrow-server` process serves an SQLite database: its credential locks live in that process, so a second
//! server on the same file is refused (a provider that detects a reused refresh token would revoke the grant).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::Server;

async fn health(server: &Server) -> u16 {
    reqwest::get(format!("{}/health", server.base))
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_second_server_on_the_same_sqlite_file_is_refused_and_a_killed_one_frees_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut first = Server::start(&data, None);
    assert_eq!(health(&first).await, 200);

    let mut second = Command::new(env!("CARGO_BIN_EXE_furrow-server"))
        .arg("--data-dir")
        .arg(&data)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("FURROW_DATABASE_URL")
        .env_remove("FURROW_SECRET_KEY")
        .env_remove("FURROW_OWNER_USERNAME")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = second.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    // The refused server ends on its own: its stderr closes when it exits. One that kept running would hold it
    // open, and the wait below would end in the kill.
    let Ok(text) = rx.recv_timeout(Duration::from_secs(120)) else {
        let _ = second.kill();
        panic!("a second server on the same SQLite file kept running");
    };
    let status = second.wait().unwrap();
    assert!(!status.success(), "{status:?}: {text}");
    assert!(
        text.contains("another process serves the SQLite database"),
        "{text}"
    );
    // The first server is unaffected.
    assert_eq!(health(&first).await, 200);

    // kill -9 ends the claim with the process: the next server starts on the same file.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let next = Server::start(&data, None);
    assert_eq!(health(&next).await, 200);
    let token = next.token().await;
    assert!(!token.is_empty());
}

/// Two worker processes (separate operating-system processes, four worker loops each) and an API process on one
/// PostgreSQL database, one CLAAS credential with 20 machine files, a simulator whose refresh tokens are single-use
/// and whose reuse revokes the grant (oidc-provider, Auth0 and Okta with rotation on), access tokens that live two
/// seconds and are all revoked once mid-run: every file is processed, the grant lives, and no refresh token is
/// ever presented twice — the per-credential lock is the database's, not a process's.
#[cfg(furrow_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_processes_on_postgres_present_each_refresh_token_once() {
    use std::io::{BufRead, BufReader};
    use std::time::Instant;

    use serde_json::{Value, json};

    let db = furrow_store::testing::TestDb::new(furrow_store::Backend::Postgres).await;
    let url = db.database_url.clone().unwrap();
    let key = db.key.to_base64();
    let sim = furrow_provider_sim::Simulator::start(furrow_credentials::Provider::Claas)
        .await
        .unwrap();
    sim.faults()
        .rotation(Some(furrow_provider_sim::Rotation::SingleUse));
    sim.faults().token_lifetime(2);
    sim.seed().retain_files(|_| false);
    sim.seed().add_generated_files("4201", 20);
    let tmp = tempfile::tempdir().unwrap();
    let spawn = |role: &str, dir: &str, log: Stdio| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_furrow-server"));
        cmd.args([
            "--role",
            role,
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &url,
        ])
        .args(["--workers", "4"])
        .arg("--data-dir")
        .arg(tmp.path().join(dir))
        .arg("--blobs")
        .arg(tmp.path().join("blobs"))
        .arg("--provider-url")
        .arg(format!("claas={}", sim.base_url()))
        .env("FURROW_SECRET_KEY", &key)
        .env("FURROW_OWNER_USERNAME", "owner@example.com")
        .env("FURROW_OWNER_PASSWORD", "owner-password")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log);
        cmd.spawn().unwrap()
    };
    let mut api = spawn("api", "api", Stdio::piped());
    let stderr = api.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(i) = line.find("listening on http://") {
                let _ = tx.send(
                    line[i + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_owned(),
                );
            }
        }
    });
    let base = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    let server = Server { child: api, base };
    let token = server.token().await;
    let client = reqwest::Client::new();
    let um = super::UM;
    // Worker processes log to files (a pipe nobody reads would block them once full), shown when the test fails.
    let log = |name: &str| {
        let path = tmp.path().join(format!("{name}.log"));
        (std::fs::File::create(&path).unwrap(), path)
    };
    let (l1, p1) = log("w1");
    let (l2, p2) = log("w2");
    let mut workers = [
        spawn("worker", "w1", Stdio::from(l1)),
        spawn("worker", "w2", Stdio::from(l2)),
    ];
    let logs = || {
        [&p1, &p2]
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n---\n")
    };

    let r = client
        .post(format!("{}{um}/users", server.base))
        .bearer_auth(&token)
        .json(&json!({"name": "grower"}))
        .send()
        .await
        .unwrap();
    let user = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = client
        .patch(format!(
            "{}/services/config/api/configs/{user}",
            server.base
        ))
        .bearer_auth(&token)
        .json(&json!({"customDataSync": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Map<String, Value> = sim
        .new_credential()
        .into_iter()
        .filter(|(k, _)| {
            furrow_credentials::Provider::Claas
                .field(k)
                .is_some_and(|f| f.in_create)
        })
        .map(|(k, v)| (k, json!(v)))
        .collect();
    let r = client
        .post(format!(
            "{}{um}/users/{user}/claas-credentials",
            server.base
        ))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let count = async |sql: &str| -> i64 {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    };
    let broken = || {
        (sim.revoked_grants() > 0).then(|| {
            format!(
                "grant revoked ({} refresh tokens presented twice)\nworkers' logs:\n{}",
                sim.refresh_tokens_presented_twice(),
                logs()
            )
        })
    };
    // Every access token stops working while the downloads run: both processes meet 401s together.
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut expired = false;
    loop {
        if let Some(why) = broken() {
            panic!("{why}");
        }
        let downloading = count("SELECT COUNT(*) FROM files").await;
        if !expired && downloading >= 4 {
            sim.expire_access_tokens();
            expired = true;
        }
        // Each machine file downloaded with the credential's token and processed once (the generated files hold
        // no time log: they end as failed files saying so, which is not what this test is about).
        let processed =
            count("SELECT COUNT(*) FROM jobs WHERE kind = 'file_process' AND state = 'done'").await;
        let open = count("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')").await;
        if processed == 20 && open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{processed} of 20 files processed, {open} jobs open\nworkers' logs:\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for w in &mut workers {
        let _ = w.kill();
        let _ = w.wait();
    }
    assert!(expired, "the access tokens were revoked mid-run");
    assert_eq!(sim.revoked_grants(), 0, "{}", logs());
    assert_eq!(
        sim.refresh_tokens_presented_twice(),
        0,
        "a refresh token was presented twice\n{}",
        logs()
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM credentials WHERE status = 'OK'").await,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM jobs WHERE state <> 'done'").await,
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM originals WHERE blob_key IS NOT NULL").await,
        20
    );
    assert!(sim.refresh_count() >= 2, "tokens were refreshed");
    db.cleanup().await;
}
