//! Grower onboarding in a real browser: Debian's chromium, headless, driven over WebDriver by chromedriver,
//! against the `furrow-server` binary and the provider simulators, everything on 127.0.0.1. Chromium and
//! chromedriver are required: without them these tests fail (`.ci/run` installs them). Every wait polls the
//! page or the API until a condition holds, under a generous deadline; nothing waits a fixed time. Each step
//! saves a screenshot under `CARGO_TARGET_TMPDIR/onboarding-screenshots`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use furrow_credentials::Provider;
use furrow_provider_sim::Simulator;
use furrow_store::Backend;
use furrow_store::testing::TestDb;
use serde_json::{Value, json};
use thirtyfour::prelude::*;

use crate::{Server, UM};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long any one condition may take: a two-core machine under load runs chromium, the server, its
/// workers and the simulators at once.
const DEADLINE: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(100);
const W: &str = "/services/widgets/api/magic-link";

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(furrow_store::Backend::Sqlite).await;
                }
            )*
        }
        #[cfg(furrow_pg)]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(furrow_store::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_both_backends!(
    a_grower_connects_claas_and_john_deere_stage_in_a_browser,
    refused_and_forged_answers_end_on_a_page_with_nothing_stored,
    a_file_upload_link_takes_a_zip_that_becomes_field_operations,
);

// ---------------------------------------------------------------------------------------------------------
// The browser

/// A port of 127.0.0.1 free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver on a free port of 127.0.0.1, in its own process group: dropping it ends chromedriver and the
/// chromium it started.
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    async fn start() -> Self {
        for path in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(path).exists(),
                "{path} is missing: the browser tests need Debian's chromium and chromium-driver \
                 (apt-get install -y chromium chromium-driver; .ci/run installs them)"
            );
        }
        let client = reqwest::Client::new();
        // A port taken between the probe and chromedriver's bind: try another.
        for _ in 0..5 {
            let port = free_port();
            let mut cmd = Command::new(CHROMEDRIVER);
            cmd.arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut child = {
                use std::os::unix::process::CommandExt;
                cmd.process_group(0).spawn().expect("start chromedriver")
            };
            let url = format!("http://127.0.0.1:{port}");
            let deadline = Instant::now() + DEADLINE;
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    eprintln!("chromedriver on port {port} exited: {status}");
                    break;
                }
                let ready = client
                    .get(format!("{url}/status"))
                    .send()
                    .await
                    .ok()
                    .filter(|r| r.status().is_success());
                if let Some(r) = ready {
                    let v: Value = r.json().await.unwrap_or_default();
                    if v["value"]["ready"] == true {
                        return Chromedriver { child, url };
                    }
                }
                assert!(Instant::now() < deadline, "chromedriver did not start");
                tokio::time::sleep(POLL).await;
            }
            let _ = child.wait();
        }
        panic!("chromedriver did not start on any port");
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The whole group: chromedriver and every chromium process it started.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless chromium with a fresh profile, and where its screenshots go.
struct Browser {
    driver: WebDriver,
    shots: PathBuf,
    test: &'static str,
    _profile: tempfile::TempDir,
    _chromedriver: Chromedriver,
}

impl Browser {
    async fn open(test: &'static str) -> Browser {
        let chromedriver = Chromedriver::start().await;
        let profile = tempfile::tempdir().unwrap();
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(CHROMIUM).unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-features=Translate,OptimizationHints,MediaRouter",
            "--password-store=basic",
            "--lang=en-US",
            "--window-size=900,900",
        ] {
            caps.add_arg(arg).unwrap();
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))
            .unwrap();
        let driver = WebDriver::new(chromedriver.url.clone(), caps)
            .await
            .expect("a chromium session through chromedriver");
        driver.set_page_load_timeout(DEADLINE).await.unwrap();
        let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("onboarding-screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            driver,
            shots,
            test,
            _profile: profile,
            _chromedriver: chromedriver,
        }
    }

    async fn goto(&self, url: &str) {
        self.driver.goto(url).await.unwrap();
    }

    /// The element once it is on the page.
    async fn wait_for(&self, css: &str) -> WebElement {
        match self
            .driver
            .query(By::Css(css))
            .wait(DEADLINE, POLL)
            .first()
            .await
        {
            Ok(e) => e,
            Err(e) => {
                let url = self.driver.current_url().await.map(|u| u.to_string());
                let source = self.driver.source().await.unwrap_or_default();
                self.shot(&format!("missing-{}", css.replace(['#', '.', ' '], "_")))
                    .await;
                panic!("{css} did not appear ({e}) on {url:?}:\n{source}");
            }
        }
    }

    async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap();
    }

    async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    async fn url(&self) -> String {
        self.driver.current_url().await.unwrap().to_string()
    }

    async fn shot(&self, step: &str) {
        let png = self.driver.screenshot_as_png().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        std::fs::write(self.shots.join(format!("{}-{step}.png", self.test)), png).unwrap();
    }

    /// Signs in at the simulator's consent page (its login from the page's hint, as a grower would read it)
    /// and allows or denies; `before` runs on the page first (a tampering attacker).
    async fn consent(&self, allow: bool, shot: Option<&str>, before: Option<&str>) {
        self.wait_for("#username").await;
        let hint = self.driver.find_all(By::Css(".hint code")).await.unwrap();
        assert_eq!(hint.len(), 2, "the simulator shows its grower's login");
        let user = hint[0].text().await.unwrap();
        let password = hint[1].text().await.unwrap();
        self.wait_for("#username")
            .await
            .send_keys(user.as_str())
            .await
            .unwrap();
        self.wait_for("#password")
            .await
            .send_keys(password.as_str())
            .await
            .unwrap();
        if let Some(step) = shot {
            self.shot(step).await;
        }
        if let Some(script) = before {
            self.driver.execute(script, Vec::new()).await.unwrap();
        }
        self.click(if allow { "#allow" } else { "#deny" }).await;
    }

    async fn quit(self) {
        let Browser {
            driver,
            _chromedriver,
            _profile,
            ..
        } = self;
        let _ = driver.quit().await;
    }
}

// ---------------------------------------------------------------------------------------------------------
// The server and its API

/// The server over a fresh database on `backend` (the test keeps the store open beside it, for a second owner
/// and for a clock's jump), the simulators it reaches, and owner A's token.
struct Stack {
    db: TestDb,
    server: Server,
    token: String,
    client: reqwest::Client,
}

impl Stack {
    async fn start(backend: Backend, sims: &[&Simulator]) -> Stack {
        let db = TestDb::new(backend).await;
        let mut flags: Vec<String> = Vec::new();
        for sim in sims {
            flags.push("--provider-url".into());
            flags.push(format!("{}={}", sim.kind().slug(), sim.base_url()));
        }
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let server = Server::start_with(&db.data_dir, db.database_url.as_deref(), &flags);
        for sim in sims {
            sim.register_redirect_uri(&format!("{}/widget", server.base));
        }
        let token = server.token().await;
        Stack {
            db,
            server,
            token,
            client: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    async fn send(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(&self.token, reqwest::Method::GET, path, None)
            .await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (status, v) = self
            .send(&self.token, reqwest::Method::POST, path, Some(body))
            .await;
        assert!((200..300).contains(&status), "POST {path}: {status} {v}");
        v
    }

    async fn user(&self, token: &str, name: &str) -> String {
        let (status, v) = self
            .send(
                token,
                reqwest::Method::POST,
                &format!("{UM}/users"),
                Some(json!({"name": name, "email": format!("{name}@example.com")})),
            )
            .await;
        assert_eq!(status, 201);
        v["id"].as_str().unwrap().to_owned()
    }

    /// The simulator's integrator app as `token`'s app key.
    async fn app_key(&self, token: &str, sim: &Simulator, env: &str) {
        let app = sim.app();
        let (segment, body) = match sim.kind() {
            Provider::Claas => (
                "CLAAS",
                json!({"clientKey": app.client_id, "clientSecret": app.client_secret}),
            ),
            Provider::JohnDeere => (
                "JohnDeere",
                json!({"clientKey": app.client_id, "clientSecret": app.client_secret}),
            ),
            other => panic!("no app key for {other:?}"),
        };
        let (status, v) = self
            .send(
                token,
                reqwest::Method::POST,
                &format!("{UM}/app-keys/{segment}/browser-test/{env}"),
                Some(body),
            )
            .await;
        assert_eq!(status, 201, "{v}");
        assert_eq!(v["redirectUri"], self.url("/widget"));
    }

    async fn link(&self, token: &str, user: &str, kind: &str, body: Value) -> (String, String) {
        let (status, v) = self
            .send(
                token,
                reqwest::Method::POST,
                &format!("{W}/users/{user}/{kind}"),
                Some(body),
            )
            .await;
        assert_eq!(status, 201, "{v}");
        (
            v["id"].as_str().unwrap().to_owned(),
            v["link"].as_str().unwrap().to_owned(),
        )
    }

    /// Polls `path` until `ready` holds for its JSON.
    async fn until(&self, token: &str, path: &str, ready: impl Fn(u16, &Value) -> bool) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let (status, v) = self.send(token, reqwest::Method::GET, path, None).await;
            if ready(status, &v) {
                return v;
            }
            assert!(Instant::now() < deadline, "GET {path}: still {status} {v}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Owner B, created in the database beside the server, and its token.
    async fn owner_b(&self) -> String {
        self.db
            .store
            .create_owner("b@example.com", "password-b")
            .await
            .unwrap();
        let r = self
            .client
            .post(self.url("/api/authenticate"))
            .json(&json!({"username": "b@example.com", "password": "password-b"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["id_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn stop(self) {
        drop(self.server);
        self.db.cleanup().await;
    }
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A whole consent round trip without a browser (another device's, or an attacker's): the callback URL the
/// provider sends back for `link_url`, not opened.
async fn callback_elsewhere(link_url: &str, segment: &str, sim: &Simulator) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(link_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csrf = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("furrow_csrf="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    let r = client
        .post(format!("{link_url}/connect/{segment}"))
        .header("cookie", format!("furrow_csrf={csrf}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let authorize = r.headers()["location"].to_str().unwrap().to_owned();
    let (path, query) = authorize.split_once('?').unwrap();
    let mut form: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let (user, password) = sim.grower_login();
    form.extend([
        ("username".to_owned(), user),
        ("password".to_owned(), password),
        ("decision".to_owned(), "allow".to_owned()),
    ]);
    let r = client.post(path).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 302);
    r.headers()["location"].to_str().unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------------------------
// The flows

async fn a_grower_connects_claas_and_john_deere_stage_in_a_browser(backend: Backend) {
    let claas = Simulator::start(Provider::Claas).await.unwrap();
    let deere = Simulator::start(Provider::JohnDeere).await.unwrap();
    let stack = Stack::start(backend, &[&claas, &deere]).await;
    let token = stack.token.clone();
    stack.app_key(&token, &claas, "PRODUCTION").await;
    stack.app_key(&token, &deere, "STAGE").await;
    let user = stack.user(&token, "Ana Souza").await;
    let (link_id, link) = stack
        .link(
            &token,
            &user,
            "provider",
            json!({"allowedProviders": ["CLAAS", "JohnDeere"], "settings": {
                "companyName": "Acme Ag", "backgroundColor": "#2E5E3A", "showLeafUserName": true}}),
        )
        .await;
    let browser = Browser::open("connect").await;
    browser.goto(&link).await;
    browser.wait_for("#connect-CLAAS").await;
    browser.wait_for("#connect-JohnDeere").await;
    assert_eq!(browser.text("#user-name").await, "Ana Souza");
    assert!(browser.text("main").await.contains("Acme Ag"));
    browser.shot("1-landing").await;

    // CLAAS: to the simulator's consent page and back.
    browser.click("#connect-CLAAS").await;
    browser.consent(true, Some("2-claas-sign-in"), None).await;
    let done = browser.text("#result-ok").await;
    assert!(done.contains("CLAAS"), "{done}");
    assert!(browser.url().await.starts_with(&stack.url("/widget?")));
    browser.shot("3-claas-connected").await;
    let path = format!("{UM}/users/{user}/claas-credentials");
    let c = stack
        .until(&token, &path, |s, v| {
            s == 200 && v["status"] != "PROCESSING"
        })
        .await;
    assert_eq!(c["status"], "OK", "{c}");
    assert_eq!(c["clientKey"], claas.app().client_id);
    let (_, events) = stack.get(&format!("{path}/events")).await;
    let events = events.as_array().unwrap();
    assert!(
        events.len() >= 2,
        "the code exchange and the validation: {events:?}"
    );
    assert!(events.iter().any(|e| {
        e["url"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/oauth/token")
    }));
    let text = Value::Array(events.clone()).to_string();
    for secret in claas.issued_secrets().iter().filter(|s| s.len() >= 8) {
        assert!(!text.contains(secret.as_str()), "an event shows {secret}");
    }

    // Back on the link: CLAAS connected; John Deere with the STAGE app key.
    browser.click("#back").await;
    browser.wait_for("#connected-CLAAS").await;
    browser.click("#connect-JohnDeere").await;
    browser
        .consent(true, Some("4-john-deere-sign-in"), None)
        .await;
    assert!(browser.text("#result-ok").await.contains("John Deere"));
    let path = format!("{UM}/users/{user}/john-deere-credentials");
    let c = stack
        .until(&token, &path, |s, v| {
            s == 200 && v["status"] != "PROCESSING"
        })
        .await;
    assert_eq!(c["status"], "OK", "{c}");
    assert_eq!(c["clientEnvironment"], "STAGE");
    browser.click("#back").await;
    browser.wait_for("#connected-CLAAS").await;
    browser.wait_for("#connected-JohnDeere").await;
    browser.shot("5-both-connected").await;
    let (_, l) = stack.get(&format!("{W}/provider/{link_id}")).await;
    assert_eq!(l["usageCount"], 2);
    browser.quit().await;
    stack.stop().await;
}

async fn refused_and_forged_answers_end_on_a_page_with_nothing_stored(backend: Backend) {
    let claas = Simulator::start(Provider::Claas).await.unwrap();
    let stack = Stack::start(backend, &[&claas]).await;
    let token = stack.token.clone();
    stack.app_key(&token, &claas, "PRODUCTION").await;
    let user = stack.user(&token, "Grower One").await;
    let (link_id, link) = stack
        .link(
            &token,
            &user,
            "provider",
            json!({"allowedProviders": ["CLAAS"], "settings": {"companyName": "Acme Ag"}}),
        )
        .await;
    let cred = format!("{UM}/users/{user}/claas-credentials");
    let browser = Browser::open("refusals").await;

    // Denied consent.
    browser.goto(&link).await;
    browser.click("#connect-CLAAS").await;
    browser.consent(false, None, None).await;
    assert!(
        browser
            .text("#error-denied")
            .await
            .contains("did not allow")
    );
    browser.shot("1-denied").await;
    assert_eq!(stack.get(&cred).await.0, 404);
    // The way back to the link, which is still unused.
    browser.click("#back").await;
    browser.wait_for("#connect-CLAAS").await;

    // A state changed on its way through the provider.
    browser.goto(&link).await;
    browser.click("#connect-CLAAS").await;
    browser
        .consent(
            true,
            None,
            Some("document.querySelector('input[name=state]').value = 'forged-state-value';"),
        )
        .await;
    browser.wait_for("#error-invalid-state").await;
    assert_eq!(
        query_param(&browser.url().await, "state").as_deref(),
        Some("forged-state-value")
    );
    browser.shot("2-tampered-state").await;
    assert_eq!(stack.get(&cred).await.0, 404);

    // A callback opened twice.
    browser.goto(&link).await;
    browser.click("#connect-CLAAS").await;
    browser.consent(true, None, None).await;
    browser.wait_for("#result-ok").await;
    let callback = browser.url().await;
    assert!(query_param(&callback, "code").is_some());
    let first = stack
        .until(&token, &cred, |s, v| s == 200 && v["status"] == "OK")
        .await;
    browser.goto(&callback).await;
    browser.wait_for("#error-invalid-state").await;
    browser.shot("3-replayed-callback").await;
    let (_, again) = stack.get(&cred).await;
    assert_eq!(again["id"], first["id"], "the replay changed nothing");
    assert_eq!(
        stack.get(&format!("{W}/provider/{link_id}")).await.1["usageCount"],
        1
    );

    // Another owner's link: a grower in the middle of owner B's connection is handed the callback of a flow
    // that owner A's link started elsewhere.
    let b_token = stack.owner_b().await;
    stack.app_key(&b_token, &claas, "PRODUCTION").await;
    let b_user = stack.user(&b_token, "Grower of B").await;
    let (_, b_link) = stack
        .link(
            &b_token,
            &b_user,
            "provider",
            json!({"allowedProviders": ["CLAAS"], "settings": {"companyName": "Beta Seeds"}}),
        )
        .await;
    let a_user = stack.user(&token, "Grower Two").await;
    let (_, a_link) = stack
        .link(
            &token,
            &a_user,
            "provider",
            json!({"allowedProviders": ["CLAAS"]}),
        )
        .await;
    browser.goto(&b_link).await;
    assert!(browser.text("main").await.contains("Beta Seeds"));
    browser.click("#connect-CLAAS").await;
    browser.wait_for("#username").await;
    let a_callback = callback_elsewhere(&a_link, "CLAAS", &claas).await;
    browser.goto(&a_callback).await;
    browser.wait_for("#error-invalid-state").await;
    browser.shot("4-another-owners-callback").await;
    assert_eq!(
        stack
            .get(&format!("{UM}/users/{a_user}/claas-credentials"))
            .await
            .0,
        404
    );
    let (status, _) = stack
        .send(
            &b_token,
            reqwest::Method::GET,
            &format!("{UM}/users/{b_user}/claas-credentials"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    // Owner B's token reaches neither A's link nor A's grower.
    let (status, _) = stack
        .send(
            &b_token,
            reqwest::Method::GET,
            &format!("{W}/provider/{link_id}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = stack
        .send(
            &b_token,
            reqwest::Method::GET,
            &format!("{UM}/users/{user}/claas-credentials"),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // An expired link, and a withdrawn one.
    let (_, expiring) = stack
        .link(
            &token,
            &user,
            "provider",
            json!({"allowedProviders": ["CLAAS"], "settings": {"companyName": "Acme Ag"}}),
        )
        .await;
    stack
        .db
        .execute("UPDATE magic_links SET expires_at = 1 WHERE last_accessed_at IS NULL")
        .await;
    browser.goto(&expiring).await;
    assert!(browser.text("#error-expired").await.contains("expired"));
    browser.shot("5-expired-link").await;
    let (status, _) = stack
        .send(
            &token,
            reqwest::Method::DELETE,
            &format!("{W}/provider/{link_id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    browser.goto(&link).await;
    browser.wait_for("#error-not-found").await;
    browser.shot("6-withdrawn-link").await;
    browser.quit().await;
    stack.stop().await;
}

async fn a_file_upload_link_takes_a_zip_that_becomes_field_operations(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    let token = stack.token.clone();
    let user = stack.user(&token, "Uploading Grower").await;
    // One field over the west part of the planting log of AFE.zip; its planting log names no crop.
    stack
        .post(
            &format!("/services/fields/api/users/{user}/fields"),
            json!({"id": "west", "name": "West", "geometry": {"type": "MultiPolygon", "coordinates":
                [[[[8.0290, 52.3588], [8.0305, 52.3588], [8.0305, 52.3602], [8.0290, 52.3602], [8.0290, 52.3588]]]]}}),
        )
        .await;
    let (status, _) = stack
        .send(
            &token,
            reqwest::Method::PATCH,
            &format!("/services/config/api/configs/{user}"),
            Some(json!({"cropOptional": {"standardGeoJson": {"planted": {"crop": "optional"}}}})),
        )
        .await;
    assert_eq!(status, 200);
    let (link_id, link) = stack
        .link(
            &token,
            &user,
            "file-upload",
            json!({"settings": {"companyName": "Acme Ag"}}),
        )
        .await;
    let zip = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../samples/isoxml/isoxml-dotnet/AFE.zip")
        .canonicalize()
        .unwrap();
    let browser = Browser::open("upload").await;
    browser.goto(&link).await;
    browser.wait_for("#recent-none").await;
    browser.shot("1-upload-page").await;
    browser
        .wait_for("#file")
        .await
        .send_keys(zip.display().to_string())
        .await
        .unwrap();
    browser.click("#upload").await;
    let status = browser.wait_for("#upload-status.ok").await;
    assert!(status.text().await.unwrap().contains("AFE.zip"));
    let batch = status.attr("data-batch-id").await.unwrap().unwrap();
    assert_eq!(batch.len(), 36, "{batch}");
    let progress = browser
        .driver
        .execute(
            "return document.getElementById('progress').value;",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(progress.json(), &json!(100), "the progress bar is full");
    browser.shot("2-uploaded").await;
    let (_, l) = stack.get(&format!("{W}/file-upload/{link_id}")).await;
    assert_eq!(l["usageCount"], 1);

    // Processed like any POST /batch: a planting operation on the grower's field.
    let b = stack
        .until(
            &token,
            &format!("/services/operations/api/batch/{batch}"),
            |s, v| s == 200 && v["status"] != "RECEIVED",
        )
        .await;
    assert_eq!(b["status"], "PROCESSED", "{b}");
    assert_eq!(b["leafUserId"], user);
    let ops = stack
        .until(
            &token,
            &format!("/services/operations/api/operations?leafUserId={user}"),
            |s, v| {
                s == 200
                    && v.as_array()
                        .is_some_and(|a| a.iter().any(|o| o["status"] == "processed"))
            },
        )
        .await;
    let op = &ops[0];
    assert_eq!(op["type"], "planted", "{ops}");
    assert_eq!(op["fields"][0]["id"], "west");
    let (_, summary) = stack
        .get(&format!(
            "/services/operations/api/operations/{}/summary",
            op["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(summary["properties"]["operationType"], "planted");
    // The page lists the upload with its status.
    browser.driver.refresh().await.unwrap();
    let row = browser.text("#recent tbody tr").await;
    assert!(
        row.contains("AFE.zip") && row.contains("PROCESSED"),
        "{row}"
    );
    browser.shot("3-recent-files").await;
    browser.quit().await;
    stack.stop().await;
}

/// `--demo` prints a Magic Link that connects a grower's Climate FieldView account in a browser, against the
/// demo's own simulators.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_prints_a_magic_link_that_works_in_a_browser() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_furrow-server"))
        .args(["--demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env_remove("FURROW_DATABASE_URL")
        .env_remove("FURROW_OWNER_USERNAME")
        .env_remove("FURROW_PUBLIC_URL")
        .env_remove("FURROW_PROVIDER_URLS")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server {
        child,
        base: String::new(),
    };
    let stdout = server.child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let done = line.contains("export TOKEN=");
            lines.push(line);
            if done {
                let _ = tx.send(lines.clone());
            }
        }
    });
    let lines = rx
        .recv_timeout(DEADLINE)
        .expect("the demo printed its instructions");
    let last_word = |marker: &str| {
        lines
            .iter()
            .find(|l| l.contains(marker))
            .and_then(|l| l.split_whitespace().last())
            .unwrap_or_else(|| panic!("no {marker} in {lines:?}"))
            .to_owned()
    };
    let link = last_word("provider Magic Link:");
    let upload = last_word("file-upload Magic Link:");
    let token = last_word("export TOKEN=")
        .trim_start_matches("TOKEN=")
        .to_owned();
    assert!(link.contains("/magic-link/") && upload.contains("/magic-link/"));
    server.base = link.split("/magic-link/").next().unwrap().to_owned();

    let browser = Browser::open("demo").await;
    browser.goto(&upload).await;
    browser.wait_for("#upload-form").await;
    browser.goto(&link).await;
    for p in ["CLAAS", "JohnDeere", "ClimateFieldView"] {
        browser.wait_for(&format!("#connect-{p}")).await;
    }
    assert_eq!(browser.text("#user-name").await, "Link Grower");
    browser.shot("1-demo-link").await;
    browser.click("#connect-ClimateFieldView").await;
    browser
        .consent(true, Some("2-demo-climate-sign-in"), None)
        .await;
    assert!(
        browser
            .text("#result-ok")
            .await
            .contains("Climate FieldView")
    );
    browser.shot("3-demo-connected").await;
    browser.quit().await;

    let client = reqwest::Client::new();
    let id = link.rsplit('/').next().unwrap();
    let l: Value = client
        .get(format!("{}{W}/provider/{id}", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(l["usageCount"], 1);
    let path = format!(
        "{}{UM}/users/{}/climate-field-view-credentials",
        server.base,
        l["leafUserId"].as_str().unwrap()
    );
    let deadline = Instant::now() + DEADLINE;
    loop {
        let r = client.get(&path).bearer_auth(&token).send().await.unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap_or_default();
        if status == 200 && v["status"] == "OK" {
            break;
        }
        assert!(Instant::now() < deadline, "credential still {status} {v}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
