//! The real `furrow-server` binary: start-up, configuration, restarts, and Leaf's own documentation examples
//! (curl and Python `requests`) run unchanged but for host and token.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod bombs;
mod limits;
mod onboarding_browser;
mod provider_formats;
mod serving;
mod shapefile_batch;

const UM: &str = "/services/usermanagement/api";

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the binary on 127.0.0.1:0 and waits for the address it logs.
    fn start(data_dir: &Path, database_url: Option<&str>) -> Server {
        Self::start_with(data_dir, database_url, &[])
    }

    /// Same, with more flags.
    fn start_with(data_dir: &Path, database_url: Option<&str>, flags: &[&str]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_furrow-server"));
        cmd.args(flags)
            .env_remove("FURROW_WORKERS")
            .env_remove("FURROW_PROVIDER_URLS")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .env("FURROW_OWNER_USERNAME", "owner@example.com")
            .env("FURROW_OWNER_PASSWORD", "owner-password")
            .env_remove("FURROW_DATABASE_URL")
            .env_remove("FURROW_SECRET_KEY")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(url) = database_url {
            cmd.args(["--database-url", url]);
        }
        let mut child = cmd.spawn().expect("start furrow-server");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("listening on http://") {
                    let url = line[i + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_owned();
                    let _ = tx.send(url);
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server logged its address");
        Server { child, base }
    }

    async fn token(&self) -> String {
        let r = reqwest::Client::new()
            .post(format!("{}/api/authenticate", self.base))
            .json(&json!({"username": "owner@example.com", "password": "owner-password", "rememberMe": "true"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["id_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn create_user(&self, token: &str) -> String {
        let r = reqwest::Client::new()
            .post(format!("{}{UM}/users", self.base))
            .bearer_auth(token)
            .json(&json!({"name": "Seed Grower", "email": "seed@example.com"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `GET path` (after the base URL) as JSON.
    async fn get_json(&self, token: &str, path: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Stores CLAAS credentials (secret `secret`) on `user`: 201.
    async fn add_claas_credential(&self, token: &str, user: &str, secret: &str) {
        let r = reqwest::Client::new()
            .post(format!("{}{UM}/users/{user}/claas-credentials", self.base))
            .bearer_auth(token)
            .json(&json!({"clientKey": "k", "clientSecret": secret, "refreshToken": format!("{secret}-refresh")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
}

/// A documentation example with only host, token and user id replaced.
fn seed(name: &str, base: &str, token: &str, user: &str) -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/it/seed")
            .join(name),
    )
    .unwrap();
    text.replace("https://api.withleaf.io", base)
        .replace("YOUR_TOKEN", token)
        .replace("{leafUserId}", user)
}

fn run(program: &str, script: &str) -> String {
    let out = Command::new(program)
        .arg("-c")
        .arg(script)
        .output()
        .expect("run the example");
    assert!(
        out.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn seed_examples_against(server: &Server) {
    let token = server.token().await;
    let user = server.create_user(&token).await;
    let client = reqwest::Client::new();
    let cred_url = |slug: &str| format!("{}{UM}/users/{user}/{slug}-credentials", server.base);

    for (script, slug, public) in [
        ("claas.sh", "claas", "your-client-key"),
        ("agleader.sh", "ag-leader", "\"publicKey\":\"str\""),
    ] {
        let out = run("bash", &seed(script, &server.base, &token, &user));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{script}: {out}");
        let created: Value = serde_json::from_str(lines[0])
            .unwrap_or_else(|_| panic!("{script} POST: {}", lines[0]));
        assert_eq!(created["status"], "PROCESSING", "{script}");
        assert!(lines[0].contains(public), "{script}: {}", lines[0]);
        let got: Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(got["id"], created["id"], "{script} GET");
        // The events list: empty, or already holding the validation's exchange when the worker was quicker
        // than the script (it runs at once, beside the example).
        let events: Value = serde_json::from_str(lines[2])
            .unwrap_or_else(|_| panic!("{script} events: {}", lines[2]));
        assert!(
            events
                .as_array()
                .is_some_and(|list| list.iter().all(Value::is_object)),
            "{script} events: {}",
            lines[2]
        );
        assert_eq!(lines[3], "", "{script} DELETE answers 204 with no body");
        let r = client
            .get(cred_url(slug))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{script}: deleted");
    }
    let claas: Value = serde_json::from_str(
        run("bash", &seed("claas.sh", &server.base, &token, &user))
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claas["clientEnvironment"], "PRODUCTION");
    assert_eq!(claas["clientSecret"], "********cret");

    // claas.sh ends with its DELETE, so the Python example creates the credential afresh, then conflicts.
    let out = run(
        "python3",
        &seed("python_requests.py", &server.base, &token, &user),
    );
    assert!(
        out.contains("'status': 'PROCESSING'") && out.contains("'clientKey': 'your-client-key'"),
        "{out}"
    );
    let out = run(
        "python3",
        &seed("python_requests.py", &server.base, &token, &user),
    );
    assert!(
        out.contains("'errorKey': 'credentialsAlreadyExist'"),
        "{out}"
    );
}

#[tokio::test]
async fn leaf_documentation_examples_run_unchanged_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), None);
    seed_examples_against(&server).await;
}

#[cfg(furrow_pg)]
#[tokio::test]
async fn leaf_documentation_examples_run_unchanged_on_postgres() {
    let db = furrow_store::testing::TestDb::new(furrow_store::Backend::Postgres).await;
    let server = Server::start(&db.data_dir, db.database_url.as_deref());
    seed_examples_against(&server).await;
    drop(server);
    db.cleanup().await;
}

#[tokio::test]
async fn restart_keeps_users_and_the_generated_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let user = {
        let server = Server::start(&data, None);
        let token = server.token().await;
        let user = server.create_user(&token).await;
        server
            .add_claas_credential(&token, &user, "restart-secret")
            .await;
        user
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("secret.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let started = Instant::now();
    let server = Server::start(&data, None);
    assert!(started.elapsed() < Duration::from_secs(60));
    let token = server.token().await;
    let r = reqwest::Client::new()
        .get(format!(
            "{}{UM}/users/{user}/claas-credentials",
            server.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "the credential survived the restart and still decrypts"
    );
    assert_eq!(
        r.json::<Value>().await.unwrap()["clientSecret"],
        "********cret"
    );
}

/// A provider that accepts connections and never answers: each validation against it holds a worker loop
/// until the request times out (a minute). Returns its URL and a receiver told of each connection.
fn silent_provider() -> (String, std::sync::mpsc::Receiver<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().map_while(Result::ok) {
            held.push(conn);
            let _ = tx.send(());
        }
    });
    (url, rx)
}

#[tokio::test]
async fn an_upload_is_processed_while_a_provider_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let (claas, connected) = silent_provider();
    let server = Server::start_with(
        &dir.path().join("data"),
        None,
        &["--provider-url", &format!("claas={claas}")],
    );
    let token = server.token().await;
    let user = server.create_user(&token).await;
    server
        .add_claas_credential(&token, &user, "hang-secret")
        .await;
    let http = reqwest::Client::new();
    // the validation job is in flight, waiting on the silent provider
    connected
        .recv_timeout(Duration::from_secs(30))
        .expect("the worker called the provider");

    let zip =
        std::fs::read(furrow_provider_sim::samples_dir().join("isoxml/isoxml-dotnet/AFE.zip"))
            .expect("sample planting log");
    // The planting log names no crop, which Leaf requires unless the configuration says it is optional.
    let r = http
        .patch(format!(
            "{}/services/config/api/configs/{user}",
            server.base
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({"cropOptional": {"standardGeoJson": {"planted": {"crop": "optional"}}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let boundary = "furrow-server-test-5c2e";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"AFE.zip\"\r\n\
         Content-Type: application/zip\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&zip);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let sent = Instant::now();
    let r = http
        .post(format!(
            "{}/services/operations/api/batch?leafUserId={user}&provider=Other",
            server.base
        ))
        .bearer_auth(&token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // processed by another worker loop long before the provider call gives up (60 s)
    let status = loop {
        let files = server
            .get_json(
                &token,
                &format!("/services/operations/api/files?leafUserId={user}"),
            )
            .await;
        let status = files["operations"][0]["status"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if status != "processing" && status != "received" && !status.is_empty()
            || sent.elapsed() > Duration::from_secs(30)
        {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        status, "processed",
        "the upload did not wait for the provider"
    );
    let credential = server
        .get_json(&token, &format!("{UM}/users/{user}/claas-credentials"))
        .await;
    assert_eq!(
        credential["status"], "PROCESSING",
        "the provider call was still in flight"
    );
}

#[test]
fn help_documents_the_interface_and_defaults() {
    let out = Command::new(env!("CARGO_BIN_EXE_furrow-server"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--data-dir",
        "--listen",
        "--database-url",
        "FURROW_DATA_DIR",
        "FURROW_LISTEN",
        "FURROW_DATABASE_URL",
        "./furrow-data",
        "127.0.0.1:8080",
        "--workers",
        "FURROW_WORKERS",
    ] {
        assert!(text.contains(needle), "--help mentions {needle}");
    }
}

#[tokio::test]
async fn demo_mode_validates_the_demo_credentials_against_the_simulators() {
    let dir = tempfile::tempdir().unwrap();
    // Run from another folder, without the team's shared folder: the demo stands on what the binary holds.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_furrow-server"))
        .args(["--demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .current_dir(elsewhere.path())
        .env_remove("FURROW_SHARED_DIR")
        .env_remove("FURROW_DATABASE_URL")
        .env_remove("FURROW_OWNER_USERNAME")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let done = line.contains("/services/config/api/configs");
            lines.push(line);
            if done {
                let _ = tx.send(lines.clone());
            }
        }
    });
    let lines = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the demo printed its instructions");
    let token = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("export TOKEN="))
        .unwrap()
        .to_owned();
    let claas_url = lines
        .iter()
        .find_map(|l| {
            l.split_whitespace()
                .last()
                .filter(|u| u.ends_with("/claas-credentials"))
        })
        .unwrap()
        .to_owned();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        let v: Value = client
            .get(&claas_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let status = v["status"].as_str().unwrap_or_default().to_owned();
        if status != "PROCESSING" || Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        status, "OK",
        "the worker validated the CLAAS credential against its simulator"
    );
    let events: Vec<Value> = client
        .get(format!("{claas_url}/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!events.is_empty(), "the token exchange is logged");
    assert!(events.iter().all(|e| {
        !e["body"]
            .as_str()
            .unwrap_or_default()
            .contains("\"refresh_token\":\"r")
    }));
    // Within a minute or two the synced fields, the converted files and a field operation with its summary.
    let ops_url = lines
        .iter()
        .find_map(|l| {
            l.split_whitespace()
                .last()
                .filter(|u| u.contains("/operations?leafUserId="))
        })
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(180);
    let op = loop {
        let ops: Value = client
            .get(&ops_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ready = ops
            .as_array()
            .and_then(|a| a.iter().find(|o| o["status"] == "processed").cloned());
        if let Some(op) = ready {
            break op;
        }
        assert!(Instant::now() < deadline, "no processed operation: {ops}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let base = ops_url.split("/services/").next().unwrap();
    let summary: Value = client
        .get(format!(
            "{base}/services/operations/api/operations/{}/summary",
            op["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(summary["type"], "Feature");
    assert_eq!(summary["properties"]["operationType"], op["type"]);
    // The demo's operations have images, drawn before they were announced as processed.
    let images: Value = client
        .get(format!(
            "{base}/services/operations/api/operations/{}/imagesV2",
            op["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = &images[0];
    assert!(first["property"].is_string(), "{images}");
    let png = client
        .get(format!("{base}{}", first["url"].as_str().unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(png.status(), 200);
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));

    // Every file the simulators list arrives and ends processed, or refused for a reason a real account would
    // give: display data furrow cannot read (John Deere's displays, Climate FieldView's 20|20 files), a field
    // operation John Deere cannot export.
    let sims = furrow_provider_sim::start_all().await.unwrap();
    let mut originals: Vec<String> = Vec::new();
    for kind in [
        furrow_credentials::Provider::Claas,
        furrow_credentials::Provider::JohnDeere,
        furrow_credentials::Provider::ClimateFieldView,
    ] {
        let sim = sims.get(kind).unwrap();
        // Climate's activities have no file name: the adapter names them by layer kind and id.
        originals.extend(sim.visible_files().into_iter().map(|f| {
            if kind == furrow_credentials::Provider::ClimateFieldView {
                f.id
            } else {
                f.name
            }
        }));
        originals.extend(
            sim.listed_file_ids()
                .into_iter()
                .filter_map(|id| id.strip_prefix("fieldOperation:").map(str::to_owned)),
        );
    }
    let files_url = ops_url.replace("/operations?", "/files?") + "&size=1000";
    let deadline = Instant::now() + Duration::from_secs(180);
    let files = loop {
        let page: Value = client
            .get(&files_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let files = page["operations"].as_array().cloned().unwrap_or_default();
        let arrived = originals.iter().all(|o| {
            files.iter().any(|f| {
                f["fileName"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(o.as_str())
            })
        });
        let settled = files.iter().all(|f| f["status"] != "processing");
        if arrived && settled {
            break files;
        }
        assert!(
            Instant::now() < deadline,
            "files still arriving: {originals:?} vs {page}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let (mut john_deere, mut pp2020, mut no_export) = (Vec::new(), 0, 0);
    for f in &files {
        if f["status"] == "processed" {
            continue;
        }
        let message = f["message"].as_str().unwrap_or_default();
        assert_eq!(f["status"], "failed", "{f}");
        if message.starts_with("unsupported file format: John Deere") {
            john_deere.push(f["fileFormat"].as_str().unwrap_or_default().to_owned());
        } else if message.starts_with("unsupported file format: Precision Planting 20|20 data") {
            assert_eq!(f["fileFormat"], "PP2020", "{f}");
            assert_eq!(f["provider"], "ClimateFieldView", "{f}");
            pp2020 += 1;
        } else {
            assert!(message.contains("(HTTP 406)"), "a real reason: {f}");
            no_export += 1;
        }
    }
    john_deere.sort();
    assert_eq!(
        john_deere,
        ["JD_GEN4", "JD_GS2", "JD_GS3"],
        "GS2, GS3 and Gen4 display data are kept as unsupported"
    );
    assert_eq!(
        pp2020, 3,
        "Climate FieldView's planting, harvest and application 20|20 files are kept as unsupported"
    );
    assert_eq!(
        no_export, 1,
        "John Deere's tillage operation has no shapefile export"
    );
    // John Deere's field operations, fetched as shapefile exports, made an operation.
    let ops: Value = client
        .get(&ops_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        ops.as_array()
            .unwrap()
            .iter()
            .any(|o| o["type"] == "harvested"
                && o["providers"] == json!(["JohnDeere"])
                && o["status"] == "processed"),
        "{ops}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// Two worker processes and one API process on one PostgreSQL and one blob store (a folder, or a bucket on an
/// S3-compatible server): 200 credentials are validated and synced against the CLAAS simulator (one ISOXML
/// machine file each). One worker is killed (SIGKILL) while it holds jobs (seen in the database, not guessed with
/// a sleep) and restarted beside the other; every job it held is finished by another worker once its lease
/// expires, every credential ends OK, every file is stored once and processed once, and every job is done.
#[cfg(furrow_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_the_queue_and_survive_a_kill_on_postgres() {
    let tmp = tempfile::tempdir().unwrap();
    two_workers_and_a_kill(BlobTarget::Folder(tmp.path().join("blobs"))).await;
}

/// The same on PostgreSQL and S3 (moto's server at `FURROW_TEST_S3_ENDPOINT`), without a shared file system.
#[cfg(all(furrow_pg, furrow_s3))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_the_queue_and_survive_a_kill_on_postgres_and_s3() {
    let endpoint = env!("FURROW_TEST_S3_ENDPOINT").to_owned();
    let bucket = format!("furrow-nodes-{}", uuid::Uuid::new_v4().simple());
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "creating bucket {bucket}");
    two_workers_and_a_kill(BlobTarget::S3 {
        url: format!("s3://{bucket}/cluster"),
        endpoint,
    })
    .await;
}

#[cfg(furrow_pg)]
#[cfg_attr(not(furrow_s3), allow(dead_code))]
enum BlobTarget {
    Folder(std::path::PathBuf),
    S3 { url: String, endpoint: String },
}

#[cfg(furrow_pg)]
impl BlobTarget {
    fn url(&self) -> String {
        match self {
            BlobTarget::Folder(p) => p.display().to_string(),
            BlobTarget::S3 { url, .. } => url.clone(),
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        match self {
            BlobTarget::Folder(_) => Vec::new(),
            BlobTarget::S3 { endpoint, .. } => [
                ("AWS_ENDPOINT", endpoint.as_str()),
                ("AWS_ALLOW_HTTP", "true"),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
                ("AWS_REGION", "us-east-1"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .to_vec(),
        }
    }

    /// The store as the servers open it.
    fn open(&self, scratch: &Path) -> furrow_store::Blobs {
        let options = self
            .env()
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v));
        furrow_store::Blobs::open(&self.url(), options, scratch).unwrap()
    }
}

#[cfg(furrow_pg)]
async fn two_workers_and_a_kill(target: BlobTarget) {
    let db = furrow_store::testing::TestDb::new(furrow_store::Backend::Postgres).await;
    let url = db.database_url.clone().unwrap();
    let key = db.key.to_base64();
    let sim = furrow_provider_sim::Simulator::start(furrow_credentials::Provider::Claas)
        .await
        .unwrap();
    sim.seed().retain_files(|f| f.name == "AFE.zip");
    assert_eq!(sim.visible_files().len(), 1, "the corpus planting log");
    let tmp = tempfile::tempdir().unwrap();
    let blob_url = target.url();
    let blob_env = target.env();
    let spawn = |role: &str, dir: &Path| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_furrow-server"));
        cmd.args([
            "--role",
            role,
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &url,
            "--job-lease-secs",
            "2",
        ])
        .arg("--data-dir")
        .arg(dir)
        .arg("--blobs")
        .arg(&blob_url)
        .envs(blob_env.iter().map(|(k, v)| (k, v)))
        .arg("--provider-url")
        .arg(format!("claas={}", sim.base_url()))
        .env("FURROW_SECRET_KEY", &key)
        .env("FURROW_OWNER_USERNAME", "owner@example.com")
        .env("FURROW_OWNER_PASSWORD", "owner-password")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        cmd
    };
    // The API process (no worker), found through the address it logs.
    let mut api = spawn("api", &tmp.path().join("api"))
        .env("RUST_LOG", "info")
        .spawn()
        .unwrap();
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
    let mut creds = Vec::new();
    for i in 0..200 {
        let r = client
            .post(format!("{}{UM}/users", server.base))
            .bearer_auth(&token)
            .json(&json!({"name": format!("grower {i}")}))
            .send()
            .await
            .unwrap();
        let user = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // Leaf's default customDataSync holds a new organization's files in PREVIEW: this grower takes them all,
        // and the planting log names no crop.
        let r = client
            .patch(format!(
                "{}/services/config/api/configs/{user}",
                server.base
            ))
            .bearer_auth(&token)
            .json(&json!({"customDataSync": false,
                "cropOptional": {"standardGeoJson": {"planted": {"crop": "optional"}}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let values = sim.new_credential();
        let body: serde_json::Map<String, Value> = values
            .iter()
            .filter(|(k, _)| {
                furrow_credentials::Provider::Claas
                    .field(k)
                    .is_some_and(|f| f.in_create)
            })
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let r = client
            .post(format!(
                "{}{UM}/users/{user}/claas-credentials",
                server.base
            ))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        creds.push(user);
    }
    // Workers log to files (a pipe nobody reads would block them once full), shown when the test fails.
    let log = |name: &str| {
        let path = tmp.path().join(format!("{name}.log"));
        (std::fs::File::create(&path).unwrap(), path)
    };
    let worker = |name: &str, dir: &str| {
        let (file, path) = log(name);
        let child = spawn("worker", &tmp.path().join(dir))
            .stderr(file)
            .spawn()
            .unwrap();
        (child, path)
    };
    let count = async |sql: &str| -> i64 {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    };
    let rows = async |sql: &str| -> Vec<(String, String)> {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap()
    };
    // w2 alone until it holds a job, then SIGKILL: the jobs it held are orphaned mid-run (read after the
    // kill, when nothing of w2 can change them). Should every held job have finished in the instant before
    // the kill, a new w2 tries again.
    let mut orphaned: Vec<(String, String)> = Vec::new();
    let mut w2_log = std::path::PathBuf::new();
    for attempt in 0..20 {
        let (mut w2, log) = worker(&format!("w2-{attempt}"), "w2");
        w2_log = log;
        let deadline = Instant::now() + Duration::from_secs(60);
        while rows("SELECT id, worker FROM jobs WHERE state = 'running'")
            .await
            .is_empty()
        {
            assert!(Instant::now() < deadline, "w2 claimed no job");
            tokio::time::sleep(Duration::from_millis(5)).await; // poll interval, not a synchronisation
        }
        let _ = w2.kill();
        let _ = w2.wait();
        orphaned = rows("SELECT id, worker FROM jobs WHERE state = 'running'").await;
        if !orphaned.is_empty() {
            break;
        }
    }
    assert!(!orphaned.is_empty(), "w2 was never killed holding a job");
    let (w1, w1_log) = worker("w1", "w1");
    let (w2b, w2b_log) = worker("w2b", "w2");
    let logs = || {
        [&w1_log, &w2_log, &w2b_log]
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n---\n")
    };
    let mut workers = [w1, w2b];
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        // Done when every credential is OK, every file processed and no job is left (a killed worker's job is
        // re-run, idempotently, once its lease expires).
        let ok = count("SELECT COUNT(*) FROM credentials WHERE status = 'OK'").await;
        let processed = count("SELECT COUNT(*) FROM files WHERE status = 'PROCESSED'").await;
        let open = count("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')").await;
        if (ok == 200 && processed == 200 && open == 0) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for w in &mut workers {
        let _ = w.kill();
        let _ = w.wait();
    }
    // Each job the killed worker held was run again by another worker, once its lease expired, and ended done.
    for (id, killed) in &orphaned {
        let (state, worker): (String, String) = {
            use sqlx::Connection;
            let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
            sqlx::query_as("SELECT state, worker FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_one(&mut conn)
                .await
                .unwrap()
        };
        assert_eq!(state, "done", "job {id}, held by the killed worker");
        assert_ne!(&worker, killed, "job {id} was finished by another worker");
        let attempts = count(&format!("SELECT attempts FROM jobs WHERE id = '{id}'")).await;
        assert!(attempts >= 2, "job {id}: {attempts} attempts");
    }
    // Every validation job ran to completion exactly once: done, none failed, none left behind.
    let states: Vec<String> = {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query_scalar("SELECT state FROM jobs WHERE kind = 'credential_validate'")
            .fetch_all(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(states.len(), 200);
    assert!(states.iter().all(|s| s == "done"), "{states:?}");
    // Every file: stored once per grower, processed by exactly one job, its blobs written once.
    let jobs: Vec<(String, String, Option<String>)> = {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query_as(
            "SELECT kind, state, last_error FROM jobs WHERE kind <> 'credential_validate' \
             UNION ALL SELECT 'credential', status, NULL FROM credentials WHERE status <> 'OK' \
             UNION ALL SELECT 'file', status, message FROM files WHERE status <> 'PROCESSED'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM files").await,
        200,
        "jobs: {jobs:?}\nworkers' logs:\n{}",
        logs()
    );
    assert_eq!(
        count("SELECT COUNT(DISTINCT user_id) FROM files WHERE status = 'PROCESSED'").await,
        200,
        "jobs, credentials and files: {jobs:?}"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM jobs WHERE kind = 'file_process' AND state = 'done'").await,
        200,
        "one processing job per file"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM jobs WHERE state <> 'done'").await,
        0
    );
    // Every original stored once (read through the store, whatever it is), and no temporary object left.
    let blobs = target.open(&tmp.path().join("scratch"));
    let keys = blobs.list("").await.unwrap();
    let originals = keys.iter().filter(|k| k.ends_with("/original")).count();
    assert_eq!(originals, 200, "one original per file");
    let standards = keys
        .iter()
        .filter(|k| k.ends_with("/standard.parquet"))
        .count();
    assert_eq!(standards, 200, "one standard GeoParquet per file");
    assert!(
        keys.iter()
            .all(|k| !k.split('/').any(|s| s.starts_with('.'))),
        "no temporary leftovers: {keys:?}"
    );
    if let BlobTarget::Folder(root) = &target {
        // Every file and folder under the root (the tempdir's own name starts with a dot, so paths are relative).
        fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                out.push(p.strip_prefix(root).unwrap().display().to_string());
                if p.is_dir() {
                    walk(root, &p, out);
                }
            }
        }
        let mut all = Vec::new();
        walk(root, root, &mut all);
        assert!(all.len() > 800, "{} entries", all.len());
        assert!(
            all.iter()
                .all(|p| !p.split('/').any(|s| s.starts_with('.'))),
            "no temporary files: {all:?}"
        );
    }
    for user in &creds {
        let v = server
            .get_json(&token, &format!("{UM}/users/{user}/claas-credentials"))
            .await;
        assert_eq!(v["status"], "OK", "{user}");
    }
    drop(server);
    db.cleanup().await;
}
