//! Grower onboarding over HTTP: app keys, Leaf-user API keys and Magic Links (every route, both owners), the
//! hosted pages' answers to unknown, withdrawn, expired and used-up links, and the OAuth round trip through a
//! provider simulator's consent form, driven by a cookie-keeping client without a browser (the browser tests
//! are `furrow-server`'s `onboarding_browser`).

use std::collections::BTreeMap;

use furrow_credentials::Provider;
use furrow_provider_sim::Simulator;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, UM, named_fields, problem};
use crate::operations::{drain, multipart, sample, worker};

crate::on_both_backends!(
    app_keys_round_trip_for_every_provider,
    app_keys_name_every_bad_field,
    app_keys_of_other_owners_are_invisible,
    api_keys_are_shown_once_masked_after_and_revoked_softly,
    api_keys_name_every_bad_field_and_stay_with_their_owner,
    magic_links_are_created_listed_read_and_deleted_per_type,
    magic_links_name_every_bad_field,
    magic_links_of_other_owners_are_invisible,
    hosted_pages_explain_unknown_withdrawn_expired_and_used_up_links,
    api_keys_open_only_their_users_widget_session,
    a_widget_uploads_a_zip_for_its_user_only,
    onboarding_routes_are_in_the_openapi_document,
);

/// Like `on_both_backends!`, with CLAAS's simulator started first and the onboarding pages pointed at it.
macro_rules! with_claas_simulator {
    ($($name:ident),* $(,)?) => {
        mod claas_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let sim = furrow_provider_sim::Simulator::start(furrow_credentials::Provider::Claas)
                        .await
                        .unwrap();
                    let h = super::harness_with(furrow_store::Backend::Sqlite, &[&sim]).await;
                    super::$name(&h, sim).await;
                    h.stop().await;
                }
            )*
        }
        #[cfg(furrow_pg)]
        mod claas_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let sim = furrow_provider_sim::Simulator::start(furrow_credentials::Provider::Claas)
                        .await
                        .unwrap();
                    let h = super::harness_with(furrow_store::Backend::Postgres, &[&sim]).await;
                    super::$name(&h, sim).await;
                    h.stop().await;
                }
            )*
        }
    };
}

with_claas_simulator!(
    a_provider_link_connects_claas_through_the_consent_form,
    a_flow_started_before_the_link_expired_completes,
    callbacks_that_cannot_be_trusted_store_nothing,
    provider_refusals_store_nothing_and_keep_the_use,
    a_link_can_only_reach_its_own_owner_and_user,
    forms_without_the_csrf_token_are_refused,
    a_file_upload_link_takes_a_zip_for_its_user,
    a_link_disconnects_only_when_its_settings_allow,
    a_widget_connects_claas_through_a_one_time_start_link,
);

const W: &str = "/services/widgets/api/magic-link";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_oauth_provider_connects_through_its_simulator_on_sqlite() {
    every_oauth_provider_connects_through_its_simulator(furrow_store::Backend::Sqlite).await;
}

#[cfg(furrow_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_oauth_provider_connects_through_its_simulator_on_postgres() {
    every_oauth_provider_connects_through_its_simulator(furrow_store::Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

/// App-key item path of `segment`: with `/{env}` for providers whose environment is in the path.
fn app_key_path(segment: &str, name: &str, env: Option<&str>) -> String {
    match env {
        Some(e) => format!("{UM}/app-keys/{segment}/{name}/{e}"),
        None => format!("{UM}/app-keys/{segment}/{name}"),
    }
}

/// (segment, environment in the path, a valid body with distinctive values, its secret values).
fn app_key_cases() -> Vec<(&'static str, bool, Value, Vec<String>)> {
    let v = |seg: &str, f: &str| format!("{seg}-{f}-value-0123456789");
    let body = |seg: &str, public: &[&str], secret: &[&str]| {
        let mut m = serde_json::Map::new();
        for f in public.iter().chain(secret) {
            m.insert((*f).to_owned(), json!(v(seg, f)));
        }
        (
            Value::Object(m),
            secret.iter().map(|f| v(seg, f)).collect::<Vec<_>>(),
        )
    };
    let cases: [(&str, bool, &[&str], &[&str]); 12] = [
        ("AgLeader", false, &["publicKey"], &["privateKey"]),
        (
            "ClimateFieldView",
            false,
            &["clientId"],
            &["clientSecret", "apiKey"],
        ),
        (
            "CNHI",
            true,
            &["clientId"],
            &["clientSecret", "subscriptionKey"],
        ),
        ("JohnDeere", true, &["clientKey"], &["clientSecret"]),
        (
            "Trimble",
            false,
            &["applicationName", "clientId"],
            &["clientSecret"],
        ),
        ("RavenSlingshot", false, &[], &["apiKey", "sharedSecret"]),
        ("Stara", false, &["user"], &["pwd"]),
        (
            "CNHIFieldOps",
            true,
            &["clientId"],
            &["clientSecret", "subscriptionKey"],
        ),
        ("Lindsay", true, &["clientId"], &["clientSecret"]),
        ("CLAAS", true, &["clientKey"], &["clientSecret"]),
        ("Raven", false, &["clientId"], &["clientSecret"]),
        ("Panorama", true, &["clientId", "username"], &["password"]),
    ];
    cases
        .into_iter()
        .map(|(seg, env, public, secret)| {
            let (b, s) = body(seg, public, secret);
            (seg, env, b, s)
        })
        .collect()
}

/// Every stored byte of the onboarding tables (the SQLite files, or the PostgreSQL rows as text).
async fn raw_rows(h: &Harness) -> Vec<u8> {
    match h.db.store.backend() {
        furrow_store::Backend::Sqlite => {
            // The WAL is part of the file's content until a checkpoint.
            let mut bytes = Vec::new();
            for e in std::fs::read_dir(&h.db.data_dir).unwrap() {
                let path = e.unwrap().path();
                if path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("furrow.db")
                {
                    bytes.extend(std::fs::read(path).unwrap());
                }
            }
            bytes
        }
        furrow_store::Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::AnyConnection::connect(h.db.database_url.as_deref().unwrap())
                .await
                .unwrap();
            let mut text = String::new();
            for table in [
                "app_keys",
                "api_keys",
                "magic_links",
                "oauth_sessions",
                "credentials",
                "credential_events",
            ] {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT CAST(t.* AS TEXT) FROM {table} t"))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                text.push_str(&rows.join("\n"));
            }
            text.into_bytes()
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Rows of `table` (an update that changes nothing counts them).
async fn count(h: &Harness, table: &str) -> u64 {
    h.db.execute(&format!("UPDATE {table} SET created_at = created_at"))
        .await
}

async fn body_json(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

/// Creates a Magic Link of owner A for `user`: (id, link URL).
async fn link(h: &Harness, user: &str, kind: &str, body: Value) -> (String, String) {
    link_as(h, &h.token_a.clone(), user, kind, body).await
}

async fn link_as(
    h: &Harness,
    token: &str,
    user: &str,
    kind: &str,
    body: Value,
) -> (String, String) {
    let r = h
        .json_as(
            token,
            Method::POST,
            &format!("{W}/users/{user}/{kind}"),
            Some(body),
        )
        .await;
    assert_eq!(r.status(), 201, "create {kind} link");
    let v = body_json(r).await;
    (
        v["id"].as_str().unwrap().to_owned(),
        v["link"].as_str().unwrap().to_owned(),
    )
}

/// A provider simulator whose integrator app is stored as owner `token`'s app key for `segment`
/// (`/PRODUCTION` or `/STAGE` when the path has it), with furrow's callback registered.
async fn app_key_for(h: &Harness, token: &str, sim: &Simulator, segment: &str, env: Option<&str>) {
    let app = sim.app();
    let body = match sim.kind() {
        Provider::JohnDeere | Provider::Claas => {
            json!({"clientKey": app.client_id, "clientSecret": app.client_secret})
        }
        Provider::ClimateFieldView => {
            json!({"clientId": app.client_id, "clientSecret": app.client_secret, "apiKey": app.api_key})
        }
        other => panic!("no app key body for {other:?}"),
    };
    let r = h
        .json_as(
            token,
            Method::POST,
            &app_key_path(segment, "furrow-test", env),
            Some(body),
        )
        .await;
    assert_eq!(r.status(), 201, "app key {segment}");
    sim.register_redirect_uri(&h.url("/widget"));
}

/// A harness whose onboarding pages reach these simulators.
async fn harness_with(backend: furrow_store::Backend, sims: &[&Simulator]) -> Harness {
    let urls: BTreeMap<Provider, String> = sims
        .iter()
        .map(|s| (s.kind(), s.base_url().to_owned()))
        .collect();
    Harness::start_with_providers(backend, urls).await
}

/// A browser without a screen: keeps furrow's cookies, follows nothing by itself.
struct Browser {
    client: reqwest::Client,
    /// furrow's origin: only its answers set cookies, only its requests carry them.
    origin: String,
    cookies: BTreeMap<String, String>,
}

/// One answer: status, `Location`, body.
struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Answer {
    /// The outcome id of a hosted page (`<h1 id="…">`).
    fn outcome(&self) -> Option<String> {
        let i = self.body.find("<h1 id=\"")? + "<h1 id=\"".len();
        let end = self.body[i..].find('"')?;
        Some(self.body[i..i + end].to_owned())
    }
}

impl Browser {
    fn new(h: &Harness) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            origin: h.url("/"),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sends `req` (with furrow's cookies when `ours`), keeps the cookies furrow sets.
    async fn send(&mut self, req: reqwest::RequestBuilder, ours: bool) -> Answer {
        let req = if ours && !self.cookies.is_empty() {
            req.header("cookie", self.cookie_header())
        } else {
            req
        };
        let r = req.send().await.unwrap();
        if ours {
            for v in r.headers().get_all("set-cookie") {
                let v = v.to_str().unwrap();
                let pair = v.split(';').next().unwrap();
                let (k, val) = pair.split_once('=').unwrap();
                assert!(v.contains("HttpOnly"), "{v}");
                assert!(v.contains("SameSite=Lax"), "{v}");
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        Answer {
            status: r.status().as_u16(),
            location: r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned()),
            body: r.text().await.unwrap(),
        }
    }

    async fn get(&mut self, url: &str) -> Answer {
        let ours = url.starts_with(&self.origin);
        self.send(self.client.get(url), ours).await
    }

    /// Opens the link page (which sets the CSRF cookie) and presses Connect for `segment`: the provider URL.
    async fn start(&mut self, link_url: &str, segment: &str) -> String {
        let page = self.get(link_url).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body.contains(&format!("id=\"connect-{segment}\"")),
            "{segment} offered"
        );
        let r = self.connect(link_url, segment, true).await;
        assert_eq!(r.status, 303, "{}", r.body);
        r.location.unwrap()
    }

    /// `POST {link}/connect/{segment}`, with the page's CSRF token when `csrf`.
    async fn connect(&mut self, link_url: &str, segment: &str, csrf: bool) -> Answer {
        let token = if csrf {
            self.cookies.get("furrow_csrf").cloned().unwrap_or_default()
        } else {
            String::new()
        };
        let req = self
            .client
            .post(format!("{link_url}/connect/{segment}"))
            .form(&[("csrf", token)]);
        self.send(req, true).await
    }

    /// Signs in at the simulator's form and allows (or denies): the URL the provider sends the browser back to.
    async fn consent(&mut self, authorize_url: &str, sim: &Simulator, allow: bool) -> String {
        let form = self.get(authorize_url).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("id=\"username\""), "a sign-in form");
        let url = url::Url::parse(authorize_url).unwrap();
        let mut fields: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let (user, password) = sim.grower_login();
        fields.push(("username".into(), user));
        fields.push(("password".into(), password));
        fields.push((
            "decision".into(),
            if allow { "allow" } else { "deny" }.into(),
        ));
        let post = format!("{}{}", sim.base_url(), url.path());
        let r = self.send(self.client.post(post).form(&fields), false).await;
        assert_eq!(r.status, 302, "{}", r.body);
        r.location.unwrap()
    }
}

/// A page a grower can read: whole HTML with a heading and an explanation, never an error dump.
fn plain_page(body: &str) {
    assert!(body.starts_with("<!doctype html>"), "{body}");
    assert!(
        body.contains("<h1 id=\"") && body.contains("</h1><p>"),
        "{body}"
    );
    for dump in ["panicked", "sqlx", "Error {", "backtrace", "problem+json"] {
        assert!(!body.contains(dump), "{dump} in {body}");
    }
}

fn query_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Replaces (or adds) one query parameter.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != name)
        .collect();
    u.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    u.to_string()
}

async fn credential(h: &Harness, token: &str, user: &str, slug: &str) -> reqwest::Response {
    h.json_as(
        token,
        Method::GET,
        &format!("{UM}/users/{user}/{slug}-credentials"),
        None,
    )
    .await
}

async fn link_resource(h: &Harness, kind: &str, id: &str) -> Value {
    let r = h.json(Method::GET, &format!("{W}/{kind}/{id}"), None).await;
    assert_eq!(r.status(), 200);
    body_json(r).await
}

// ---------------------------------------------------------------------------------------------------------
// App keys

async fn app_keys_round_trip_for_every_provider(h: &Harness) {
    let mut secrets = Vec::new();
    for (seg, env_in_path, body, secret_values) in app_key_cases() {
        let env = env_in_path.then_some("STAGE");
        let path = app_key_path(seg, "LeafWidget", env);
        let r = h.json(Method::POST, &path, Some(body.clone())).await;
        assert_eq!(r.status(), 201, "{seg}");
        let created = body_json(r).await;
        assert_eq!(created["provider"], seg);
        assert_eq!(created["appName"], "LeafWidget");
        assert_eq!(
            created["clientEnvironment"],
            if env_in_path { "STAGE" } else { "PRODUCTION" }
        );
        assert_eq!(created["redirectUri"], h.url("/widget"));
        let ct = created["createdTime"].as_str().unwrap();
        assert!(ct.len() == 27 && ct.ends_with('Z'), "{ct}");
        let text = created.to_string();
        for s in &secret_values {
            assert!(!text.contains(s.as_str()), "{seg} answers a secret");
        }
        secrets.extend(secret_values.clone());

        let got = body_json(h.json(Method::GET, &path, None).await).await;
        assert_eq!(got, created, "{seg}");
        let list = body_json(
            h.json(Method::GET, &format!("{UM}/app-keys/{seg}"), None)
                .await,
        )
        .await;
        assert_eq!(list, json!([created]), "{seg}");

        problem(
            h.json(Method::POST, &path, Some(body.clone())).await,
            409,
            Some("appKeyAlreadyExists"),
        )
        .await;
        let mut replaced = body.clone();
        if let Some(o) = replaced.as_object_mut() {
            o.insert("scopes".into(), json!(["FIELDS:READ"]));
        }
        let r = h.json(Method::PUT, &path, Some(replaced)).await;
        assert_eq!(r.status(), 200, "{seg}");
        let put = body_json(r).await;
        assert_eq!(put["createdTime"], created["createdTime"], "PUT keeps it");
        assert_eq!(put["scopes"], json!(["FIELDS:READ"]));

        assert_eq!(h.json(Method::DELETE, &path, None).await.status(), 204);
        problem(
            h.json(Method::GET, &path, None).await,
            404,
            Some("appKeyNotFound"),
        )
        .await;
        problem(
            h.json(Method::DELETE, &path, None).await,
            404,
            Some("appKeyNotFound"),
        )
        .await;
        problem(
            h.json(Method::PUT, &path, Some(body.clone())).await,
            404,
            Some("appKeyNotFound"),
        )
        .await;
        // Stored again for the scan below.
        assert_eq!(h.json(Method::POST, &path, Some(body)).await.status(), 201);
    }
    // One provider, two environments, two names: four keys, listed oldest first.
    let jd = json!({"clientKey": "jd-app", "clientSecret": "jd-secret-0123456789"});
    for (name, env) in [("Other", "PRODUCTION"), ("Other", "STAGE")] {
        assert_eq!(
            h.json(
                Method::POST,
                &app_key_path("JohnDeere", name, Some(env)),
                Some(jd.clone())
            )
            .await
            .status(),
            201
        );
    }
    let list = body_json(
        h.json(Method::GET, &format!("{UM}/app-keys/JohnDeere"), None)
            .await,
    )
    .await;
    let names: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["appName"].as_str().unwrap().to_owned(),
                k["clientEnvironment"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("LeafWidget".to_owned(), "STAGE".to_owned()),
            ("Other".into(), "PRODUCTION".into()),
            ("Other".into(), "STAGE".into())
        ]
    );
    assert_eq!(
        body_json(
            h.json(Method::GET, &format!("{UM}/app-keys/Stara"), None)
                .await
        )
        .await
        .as_array()
        .unwrap()
        .len(),
        1
    );
    // Sealed at rest: the scan sees the public values, never a secret.
    let raw = raw_rows(h).await;
    assert!(contains(&raw, "JohnDeere-clientKey-value-0123456789"));
    assert_eq!(secrets.len(), 16, "every secret field of every provider");
    for s in &secrets {
        assert!(!contains(&raw, s), "{s} stored in clear");
    }
}

async fn app_keys_name_every_bad_field(h: &Harness) {
    // Every missing field named at once.
    let body = problem(
        h.json(
            Method::POST,
            &app_key_path("ClimateFieldView", "app", None),
            Some(json!({})),
        )
        .await,
        400,
        Some("validation"),
    )
    .await;
    let mut named = named_fields(&body);
    named.sort();
    assert_eq!(named, ["apiKey", "clientId", "clientSecret"]);
    // Wrong types, empty strings and bad scopes.
    let body = problem(
        h.json(
            Method::POST,
            &app_key_path("JohnDeere", "app", Some("PRODUCTION")),
            Some(json!({"clientKey": 7, "clientSecret": " ", "scopes": ["ok", ""]})),
        )
        .await,
        400,
        Some("validation"),
    )
    .await;
    let mut named = named_fields(&body);
    named.sort();
    assert_eq!(named, ["clientKey", "clientSecret", "scopes[1]"]);
    let body = problem(
        h.json(
            Method::POST,
            &app_key_path("JohnDeere", "app", Some("PRODUCTION")),
            Some(json!({"clientKey": "k", "clientSecret": "s", "scopes": "FIELDS:READ"})),
        )
        .await,
        400,
        Some("validation"),
    )
    .await;
    assert_eq!(named_fields(&body), ["scopes"]);
    // The environment, the name, the body's shape.
    let body = problem(
        h.json(
            Method::POST,
            &app_key_path("JohnDeere", "app", Some("SANDBOX")),
            Some(json!({"clientKey": "k", "clientSecret": "s"})),
        )
        .await,
        400,
        Some("validation"),
    )
    .await;
    assert_eq!(named_fields(&body), ["clientEnvironment"]);
    let long = "a".repeat(65);
    for bad in ["bad%20name", "bad*name", long.as_str()] {
        let body = problem(
            h.json(
                Method::POST,
                &app_key_path("Trimble", bad, None),
                Some(json!({"applicationName": "a", "clientId": "c", "clientSecret": "s"})),
            )
            .await,
            400,
            Some("validation"),
        )
        .await;
        assert_eq!(named_fields(&body), ["appName"], "{bad}");
    }
    let body = problem(
        h.json(
            Method::POST,
            &app_key_path("Trimble", "app", None),
            Some(json!(["clientId"])),
        )
        .await,
        400,
        Some("validation"),
    )
    .await;
    assert_eq!(named_fields(&body), ["body"]);
    // Not JSON at all.
    let r = h
        .req(
            Method::POST,
            &app_key_path("Trimble", "app", None),
            &h.token_a,
        )
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    problem(r, 400, None).await;
    // Unknown providers (segments are exact) and paths of the wrong shape.
    for p in ["Sentera", "johndeere", "Nope"] {
        problem(
            h.json(Method::GET, &format!("{UM}/app-keys/{p}"), None)
                .await,
            404,
            Some("unknownProvider"),
        )
        .await;
    }
    problem(
        h.json(Method::GET, &app_key_path("JohnDeere", "app", None), None)
            .await,
        404,
        None,
    )
    .await;
    problem(
        h.json(
            Method::GET,
            &app_key_path("Trimble", "app", Some("PRODUCTION")),
            None,
        )
        .await,
        404,
        None,
    )
    .await;
    // Without a token.
    let r = h
        .client
        .get(h.url(&format!("{UM}/app-keys/JohnDeere")))
        .send()
        .await
        .unwrap();
    problem(r, 401, None).await;
}

async fn app_keys_of_other_owners_are_invisible(h: &Harness) {
    let path = app_key_path("CLAAS", "shared-name", Some("PRODUCTION"));
    let a = json!({"clientKey": "a-key", "clientSecret": "a-secret-0123456789"});
    assert_eq!(
        h.json(Method::POST, &path, Some(a.clone())).await.status(),
        201
    );
    let b = h.token_b.clone();
    let list = body_json(
        h.json_as(&b, Method::GET, &format!("{UM}/app-keys/CLAAS"), None)
            .await,
    )
    .await;
    assert_eq!(list, json!([]));
    for method in [Method::GET, Method::DELETE] {
        problem(
            h.json_as(&b, method, &path, None).await,
            404,
            Some("appKeyNotFound"),
        )
        .await;
    }
    problem(
        h.json_as(&b, Method::PUT, &path, Some(a.clone())).await,
        404,
        Some("appKeyNotFound"),
    )
    .await;
    // B's key of the same name is B's own; A's stays as it was.
    assert_eq!(
        h.json_as(
            &b,
            Method::POST,
            &path,
            Some(json!({"clientKey": "b-key", "clientSecret": "b-secret-0123456789"}))
        )
        .await
        .status(),
        201
    );
    let a_list = body_json(
        h.json(Method::GET, &format!("{UM}/app-keys/CLAAS"), None)
            .await,
    )
    .await;
    assert_eq!(a_list.as_array().unwrap().len(), 1);
    assert_eq!(h.json(Method::GET, &path, None).await.status(), 200);
    assert_eq!(
        h.json_as(&b, Method::DELETE, &path, None).await.status(),
        204
    );
    assert_eq!(h.json(Method::GET, &path, None).await.status(), 200);
}

// ---------------------------------------------------------------------------------------------------------
// API keys

async fn api_keys_are_shown_once_masked_after_and_revoked_softly(h: &Harness) {
    let user = h.user("grower").await;
    let r = h
        .json(
            Method::POST,
            &format!("{UM}/api-keys"),
            Some(json!({"leafUserId": user, "description": "grower portal", "expiresIn": 3600})),
        )
        .await;
    assert_eq!(r.status(), 201);
    let created = body_json(r).await;
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("lk_") && key.len() == 46, "{key}");
    assert_eq!(created["leafUserId"], user);
    assert_eq!(created["description"], "grower portal");
    assert_eq!(created["valid"], true);
    let expires = time::OffsetDateTime::parse(
        created["expiresAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let in_secs = (expires - time::OffsetDateTime::now_utc()).whole_seconds();
    assert!((3500..=3600).contains(&in_secs), "{in_secs}");
    let id = created["id"].as_str().unwrap().to_owned();
    // A second key without expiresIn: one year.
    let r = h
        .json(
            Method::POST,
            &format!("{UM}/api-keys"),
            Some(json!({"leafUserId": user})),
        )
        .await;
    assert_eq!(r.status(), 201);
    let second = body_json(r).await;
    let expires = time::OffsetDateTime::parse(
        second["expiresAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let days = (expires - time::OffsetDateTime::now_utc()).whole_days();
    assert!((364..=365).contains(&days), "{days}");
    assert!(second.get("description").is_none());

    let list = body_json(
        h.json(
            Method::GET,
            &format!("{UM}/api-keys?leafUserId={user}"),
            None,
        )
        .await,
    )
    .await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], second["id"], "newest first");
    assert_eq!(list[1]["key"], format!("lk_…{}", &key[key.len() - 4..]));
    assert!(!Value::Array(list.clone()).to_string().contains(&key));

    assert_eq!(
        h.json(Method::DELETE, &format!("{UM}/api-keys/{id}"), None)
            .await
            .status(),
        204
    );
    let list = body_json(
        h.json(
            Method::GET,
            &format!("{UM}/api-keys?leafUserId={user}"),
            None,
        )
        .await,
    )
    .await;
    let revoked = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(revoked["valid"], false);
    let revoked_at = revoked["revokedAt"].clone();
    assert!(revoked_at.is_string());
    // Revoking again changes nothing.
    assert_eq!(
        h.json(Method::DELETE, &format!("{UM}/api-keys/{id}"), None)
            .await
            .status(),
        204
    );
    let again = body_json(
        h.json(
            Method::GET,
            &format!("{UM}/api-keys?leafUserId={user}"),
            None,
        )
        .await,
    )
    .await;
    assert!(
        again
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == id.as_str() && k["revokedAt"] == revoked_at)
    );
    problem(
        h.json(
            Method::DELETE,
            &format!("{UM}/api-keys/00000000-0000-0000-0000-000000000000"),
            None,
        )
        .await,
        404,
        None,
    )
    .await;
    // Hashed at rest: neither key is in the database.
    let raw = raw_rows(h).await;
    assert!(contains(&raw, "grower portal"), "the scan sees the rows");
    assert!(!contains(&raw, &key));
    assert!(!contains(&raw, second["key"].as_str().unwrap()));
    // Deleting the user deletes its keys.
    assert_eq!(
        h.json(Method::DELETE, &format!("{UM}/users/{user}"), None)
            .await
            .status(),
        204
    );
    assert_eq!(count(h, "api_keys").await, 0);
}

async fn api_keys_name_every_bad_field_and_stay_with_their_owner(h: &Harness) {
    let user = h.user("grower").await;
    let post = |body: Value| async move {
        h.json(Method::POST, &format!("{UM}/api-keys"), Some(body))
            .await
    };
    for (body, field, key) in [
        (json!({}), "leafUserId", "validation"),
        (json!({"leafUserId": 5}), "leafUserId", "validation"),
        (
            json!({"leafUserId": user, "expiresIn": 899}),
            "expiresIn",
            "invalidExpiresIn",
        ),
        (
            json!({"leafUserId": user, "expiresIn": 31_536_001}),
            "expiresIn",
            "invalidExpiresIn",
        ),
        (
            json!({"leafUserId": user, "expiresIn": "soon"}),
            "expiresIn",
            "invalidExpiresIn",
        ),
        (
            json!({"leafUserId": user, "description": "d".repeat(256)}),
            "description",
            "validation",
        ),
        (
            json!({"leafUserId": user, "description": 3}),
            "description",
            "validation",
        ),
    ] {
        let p = problem(post(body.clone()).await, 400, Some(key)).await;
        assert_eq!(named_fields(&p), [field], "{body}");
    }
    problem(
        h.json(Method::GET, &format!("{UM}/api-keys"), None).await,
        400,
        Some("validation"),
    )
    .await;
    problem(
        post(json!({"leafUserId": "00000000-0000-0000-0000-000000000000"})).await,
        404,
        None,
    )
    .await;
    // Owner B cannot mint, list or revoke keys of A's user.
    let r = post(json!({"leafUserId": user})).await;
    assert_eq!(r.status(), 201);
    let id = body_json(r).await["id"].as_str().unwrap().to_owned();
    let b = h.token_b.clone();
    problem(
        h.json_as(
            &b,
            Method::POST,
            &format!("{UM}/api-keys"),
            Some(json!({"leafUserId": user})),
        )
        .await,
        404,
        None,
    )
    .await;
    problem(
        h.json_as(
            &b,
            Method::GET,
            &format!("{UM}/api-keys?leafUserId={user}"),
            None,
        )
        .await,
        404,
        None,
    )
    .await;
    problem(
        h.json_as(&b, Method::DELETE, &format!("{UM}/api-keys/{id}"), None)
            .await,
        404,
        None,
    )
    .await;
    let list = body_json(
        h.json(
            Method::GET,
            &format!("{UM}/api-keys?leafUserId={user}"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(list[0]["valid"], true, "B's attempt revoked nothing");
    assert_eq!(count(h, "api_keys").await, 1);
}

// ---------------------------------------------------------------------------------------------------------
// Magic Link management

async fn magic_links_are_created_listed_read_and_deleted_per_type(h: &Harness) {
    let user = h.user("grower").await;
    let claas = json!({"clientKey": "c", "clientSecret": "s"});
    assert_eq!(
        h.json(
            Method::POST,
            &app_key_path("CLAAS", "app", Some("PRODUCTION")),
            Some(claas)
        )
        .await
        .status(),
        201
    );
    let mut ids = BTreeMap::new();
    for (kind, widget, body) in [
        (
            "provider",
            "PROVIDER",
            json!({"allowedProviders": ["CLAAS"], "expiresIn": 604_800, "maxUsage": 5,
                   "settings": {"companyName": "Acme Ag", "backgroundColor": "#2ecc71",
                                "companyLogo": "https://acme.example/logo.svg",
                                "showLeafUserName": "true", "disconnectedEnabled": true}}),
        ),
        (
            "authentication",
            "AUTHENTICATION",
            json!({"provider": "CLAAS"}),
        ),
        ("file-upload", "FILEUPLOAD", json!({})),
    ] {
        let r = h
            .json(
                Method::POST,
                &format!("{W}/users/{user}/{kind}"),
                Some(body),
            )
            .await;
        assert_eq!(r.status(), 201, "{kind}");
        let created = body_json(r).await;
        let id = created["id"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 43, "32 random bytes, base64url");
        assert_eq!(created["leafUserId"], user);
        assert_eq!(created["link"], h.url(&format!("/magic-link/{id}")));
        let got = link_resource(h, kind, &id).await;
        assert_eq!(got["id"], id);
        assert_eq!(got["widget"], widget);
        assert_eq!(got["status"], "ACTIVE");
        assert_eq!(got["usageCount"], 0);
        assert_eq!(got["lastAccessedAt"], Value::Null);
        assert_eq!(got["expiresAt"], created["expiresAt"]);
        match kind {
            "provider" => {
                assert_eq!(got["maxUsage"], 5);
                assert_eq!(got["allowedProviders"], json!(["CLAAS"]));
                assert_eq!(
                    got["settings"],
                    json!({"companyName": "Acme Ag", "backgroundColor": "#2ecc71",
                           "companyLogo": "https://acme.example/logo.svg",
                           "showLeafUserName": true, "disconnectEnabled": true})
                );
                let expires = time::OffsetDateTime::parse(
                    got["expiresAt"].as_str().unwrap(),
                    &time::format_description::well_known::Rfc3339,
                )
                .unwrap();
                let days = (expires - time::OffsetDateTime::now_utc()).whole_hours();
                assert!((167..=168).contains(&days), "a week: {days} h");
            }
            "authentication" => {
                assert_eq!(got["provider"], "CLAAS");
                assert_eq!(got["maxUsage"], 3);
                assert!(got.get("allowedProviders").is_none());
            }
            _ => {
                assert_eq!(
                    got["settings"],
                    json!({"backgroundColor": "#F5F5F5", "showLeafUserName": false,
                           "disconnectEnabled": false})
                );
                let expires = time::OffsetDateTime::parse(
                    got["expiresAt"].as_str().unwrap(),
                    &time::format_description::well_known::Rfc3339,
                )
                .unwrap();
                let mins = (expires - time::OffsetDateTime::now_utc()).whole_minutes();
                assert!((14..=15).contains(&mins), "default 900 s: {mins} min");
            }
        }
        // Each type lists only its own links.
        let r = h.json(Method::GET, &format!("{W}/{kind}"), None).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-total-count"], "1");
        let list = body_json(r).await;
        assert_eq!(list, json!([got]), "{kind}");
        ids.insert(kind, id);
    }
    // A link is not found under another type's path.
    problem(
        h.json(
            Method::GET,
            &format!("{W}/authentication/{}", ids["provider"]),
            None,
        )
        .await,
        404,
        Some("magicLinkNotFound"),
    )
    .await;
    problem(
        h.json(Method::GET, &format!("{W}/nonsense"), None).await,
        404,
        None,
    )
    .await;
    // The external-id route creates the user once and reuses it; the legacy singular path is an alias.
    let mut users = Vec::new();
    for _ in 0..2 {
        let r = h
            .json(
                Method::POST,
                &format!("{W}/provider"),
                Some(json!({"externalId": "crm-4411", "name": "Ana Souza", "email": "ana@example.com",
                            "allowedProviders": ["Other"]})),
            )
            .await;
        assert_eq!(r.status(), 201);
        users.push(
            body_json(r).await["leafUserId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(users[0], users[1]);
    let u = body_json(
        h.json(Method::GET, &format!("{UM}/users/{}", users[0]), None)
            .await,
    )
    .await;
    assert_eq!(u["externalId"], "crm-4411");
    assert_eq!(u["name"], "Ana Souza");
    let r = h
        .json(
            Method::POST,
            &format!("{W}/user/{user}/file-upload"),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status(), 201);
    // Listing: filter by user, paging headers.
    let r = h
        .json(
            Method::GET,
            &format!("{W}/provider?leafUserId={user}"),
            None,
        )
        .await;
    assert_eq!(r.headers()["x-total-count"], "1");
    let r = h
        .json(Method::GET, &format!("{W}/provider?size=1"), None)
        .await;
    assert_eq!(r.headers()["x-total-count"], "3");
    assert!(r.headers().contains_key("link"));
    assert_eq!(body_json(r).await.as_array().unwrap().len(), 1);
    // Deleting stops the link at once.
    let id = &ids["provider"];
    assert_eq!(
        h.json(Method::DELETE, &format!("{W}/provider/{id}"), None)
            .await
            .status(),
        204
    );
    problem(
        h.json(Method::GET, &format!("{W}/provider/{id}"), None)
            .await,
        404,
        Some("magicLinkNotFound"),
    )
    .await;
    problem(
        h.json(Method::DELETE, &format!("{W}/provider/{id}"), None)
            .await,
        404,
        Some("magicLinkNotFound"),
    )
    .await;
    let page = h
        .client
        .get(h.url(&format!("/magic-link/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    // Link tokens are stored hashed (and sealed), never in clear.
    let raw = raw_rows(h).await;
    assert!(contains(&raw, "Acme Ag"), "the scan sees the rows");
    for id in ids.values() {
        assert!(!contains(&raw, id), "link token stored in clear");
    }
    // Deleting the user deletes its links.
    assert_eq!(
        h.json(Method::DELETE, &format!("{UM}/users/{user}"), None)
            .await
            .status(),
        204
    );
    let r = h.json(Method::GET, &format!("{W}/file-upload"), None).await;
    assert_eq!(r.headers()["x-total-count"], "0");
}

async fn magic_links_name_every_bad_field(h: &Harness) {
    let user = h.user("grower").await;
    let post = |kind: &'static str, body: Value| {
        let path = format!("{W}/users/{user}/{kind}");
        async move { h.json(Method::POST, &path, Some(body)).await }
    };
    for (kind, body, fields, key) in [
        (
            "provider",
            json!({"expiresIn": 899}),
            vec!["expiresIn"],
            "invalidExpiresIn",
        ),
        (
            "file-upload",
            json!({"expiresIn": 31_536_001}),
            vec!["expiresIn"],
            "invalidExpiresIn",
        ),
        (
            "provider",
            json!({"allowedProviders": ["CLAAS", "Tractors"]}),
            vec!["allowedProviders[1]"],
            "unknownProvider",
        ),
        (
            "provider",
            json!({"allowedProviders": ["RavenSlingshot"]}),
            vec!["allowedProviders[0]"],
            "unknownProvider",
        ),
        (
            "provider",
            json!({"allowedProviders": []}),
            vec!["allowedProviders"],
            "validation",
        ),
        ("authentication", json!({}), vec!["provider"], "validation"),
        (
            "authentication",
            json!({"provider": "Nope"}),
            vec!["provider"],
            "unknownProvider",
        ),
        (
            "provider",
            json!({"maxUsage": 0, "appName": 4, "settings": {"backgroundColor": "green",
                   "companyLogo": "http://insecure.example/logo.png", "showLeafUserName": "maybe",
                   "companyName": 7, "fontSize": 3}}),
            vec![
                "appName",
                "maxUsage",
                "settings.backgroundColor",
                "settings.companyLogo",
                "settings.companyName",
                "settings.fontSize",
                "settings.showLeafUserName",
            ],
            "validation",
        ),
        (
            "file-upload",
            json!({"settings": "blue"}),
            vec!["settings"],
            "validation",
        ),
    ] {
        let p = problem(post(kind, body.clone()).await, 400, Some(key)).await;
        let mut named = named_fields(&p);
        named.sort();
        assert_eq!(named, fields, "{body}");
    }
    // A provider without an app key cannot be offered.
    problem(
        post("authentication", json!({"provider": "JohnDeere"})).await,
        409,
        Some("appKeyNotConfigured"),
    )
    .await;
    problem(
        post(
            "provider",
            json!({"allowedProviders": ["ClimateFieldView"]}),
        )
        .await,
        409,
        Some("appKeyNotConfigured"),
    )
    .await;
    // "Other"/"All" need none: they offer whatever has an app key when the page loads.
    assert_eq!(
        post("provider", json!({"allowedProviders": ["All"]}))
            .await
            .status(),
        201
    );
    problem(
        h.json(
            Method::POST,
            &format!("{W}/users/00000000-0000-0000-0000-000000000000/provider"),
            Some(json!({})),
        )
        .await,
        404,
        None,
    )
    .await;
    problem(
        h.json(Method::POST, &format!("{W}/file-upload"), Some(json!({})))
            .await,
        400,
        Some("validation"),
    )
    .await;
    assert_eq!(count(h, "magic_links").await, 1, "only the valid one");
}

async fn magic_links_of_other_owners_are_invisible(h: &Harness) {
    let user = h.user("grower").await;
    let (id, _) = link(h, &user, "file-upload", json!({})).await;
    let b = h.token_b.clone();
    problem(
        h.json_as(&b, Method::GET, &format!("{W}/file-upload/{id}"), None)
            .await,
        404,
        Some("magicLinkNotFound"),
    )
    .await;
    problem(
        h.json_as(&b, Method::DELETE, &format!("{W}/file-upload/{id}"), None)
            .await,
        404,
        Some("magicLinkNotFound"),
    )
    .await;
    let r = h
        .json_as(&b, Method::GET, &format!("{W}/file-upload"), None)
        .await;
    assert_eq!(r.headers()["x-total-count"], "0");
    // B cannot make a link for A's user, even naming it.
    problem(
        h.json_as(
            &b,
            Method::POST,
            &format!("{W}/users/{user}/file-upload"),
            Some(json!({})),
        )
        .await,
        404,
        None,
    )
    .await;
    // B's external id that is also A's user's: B gets a user of its own.
    let a_user = body_json(
        h.json(
            Method::POST,
            &format!("{W}/file-upload"),
            Some(json!({"externalId": "same-crm-id"})),
        )
        .await,
    )
    .await["leafUserId"]
        .clone();
    let b_user = body_json(
        h.json_as(
            &b,
            Method::POST,
            &format!("{W}/file-upload"),
            Some(json!({"externalId": "same-crm-id"})),
        )
        .await,
    )
    .await["leafUserId"]
        .clone();
    assert_ne!(a_user, b_user);
    problem(
        h.json_as(
            &b,
            Method::GET,
            &format!("{UM}/users/{}", a_user.as_str().unwrap()),
            None,
        )
        .await,
        404,
        None,
    )
    .await;
    // A's link is untouched.
    assert_eq!(
        link_resource(h, "file-upload", &id).await["status"],
        "ACTIVE"
    );
}

// ---------------------------------------------------------------------------------------------------------
// Hosted pages

async fn hosted_pages_explain_unknown_withdrawn_expired_and_used_up_links(h: &Harness) {
    let user = h.user("grower").await;
    let page = |path: String| async move {
        let r = h.client.get(h.url(&path)).send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.text().await.unwrap())
    };
    let outcome = |body: &str| {
        Answer {
            status: 0,
            location: None,
            body: body.to_owned(),
        }
        .outcome()
    };
    // A valid page: HTML with the hosted pages' headers, and the access recorded.
    let (id, _) = link(
        h,
        &user,
        "file-upload",
        json!({"settings": {"companyName": "Acme <Ag>", "backgroundColor": "#123"}}),
    )
    .await;
    let (status, headers, body) = page(format!("/magic-link/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(body.contains("Acme &lt;Ag&gt;"), "escaped branding");
    assert!(!body.contains("Acme <Ag>"));
    assert!(body.contains("background:#123"));
    assert!(body.contains("<label for=\"file\">"), "labelled input");
    assert!(link_resource(h, "file-upload", &id).await["lastAccessedAt"].is_string());

    // Unknown and withdrawn links: 404 pages.
    let (status, _, body) = page("/magic-link/not-a-real-link-token".into()).await;
    plain_page(&body);
    assert_eq!(
        (status, outcome(&body).as_deref()),
        (404, Some("error-not-found"))
    );
    let (gone, _) = link(h, &user, "file-upload", json!({})).await;
    assert_eq!(
        h.json(Method::DELETE, &format!("{W}/file-upload/{gone}"), None)
            .await
            .status(),
        204
    );
    let (status, headers, body) = page(format!("/magic-link/{gone}")).await;
    plain_page(&body);
    assert_eq!(
        (status, outcome(&body).as_deref()),
        (404, Some("error-not-found"))
    );
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    // Expired: 410, the link listed as EXPIRED, its access not recorded.
    let (old, _) = link(h, &user, "file-upload", json!({})).await;
    h.db.execute("UPDATE magic_links SET expires_at = 1 WHERE last_accessed_at IS NULL AND deleted_at IS NULL")
        .await;
    let (status, _, body) = page(format!("/magic-link/{old}")).await;
    plain_page(&body);
    assert_eq!(
        (status, outcome(&body).as_deref()),
        (410, Some("error-expired"))
    );
    assert!(body.contains("expired"));
    let r = link_resource(h, "file-upload", &old).await;
    assert_eq!(r["status"], "EXPIRED");
    assert_eq!(r["lastAccessedAt"], Value::Null);

    // Used up: 410 with its own page; EXHAUSTED.
    let (used, _) = link(h, &user, "file-upload", json!({"maxUsage": 1})).await;
    h.db.execute("UPDATE magic_links SET usage_count = max_usage WHERE max_usage = 1")
        .await;
    let (status, _, body) = page(format!("/magic-link/{used}")).await;
    plain_page(&body);
    assert_eq!(
        (status, outcome(&body).as_deref()),
        (410, Some("error-used"))
    );
    assert_eq!(
        link_resource(h, "file-upload", &used).await["status"],
        "EXHAUSTED"
    );

    // The POST routes answer the same pages.
    let r = h
        .client
        .post(h.url(&format!("/magic-link/{old}/connect/CLAAS")))
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    let r = h
        .client
        .post(h.url("/magic-link/unknown-token/connect/CLAAS"))
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // A callback nobody started.
    let (status, _, body) = page("/widget?code=c&state=forged".into()).await;
    plain_page(&body);
    assert_eq!(
        (status, outcome(&body).as_deref()),
        (400, Some("error-invalid-state"))
    );
    let (status, _, body) = page("/widget".into()).await;
    assert_eq!(
        (status, outcome(&body).as_deref()),
        (400, Some("error-invalid-state"))
    );
}

// ---------------------------------------------------------------------------------------------------------
// The OAuth round trip

/// A harness with CLAAS's simulator and owner A's CLAAS app key, a grower, and a provider link for CLAAS.
struct ClaasSetup {
    sim: Simulator,
    user: String,
    link_id: String,
    link_url: String,
}

async fn claas_setup(h: &Harness, sim: Simulator) -> ClaasSetup {
    app_key_for(h, &h.token_a.clone(), &sim, "CLAAS", Some("PRODUCTION")).await;
    let user = h.user("grower").await;
    let (link_id, link_url) = link(
        h,
        &user,
        "provider",
        json!({"allowedProviders": ["CLAAS"], "settings": {"companyName": "Acme Ag"}}),
    )
    .await;
    ClaasSetup {
        sim,
        user,
        link_id,
        link_url,
    }
}

/// Asserts that `user` of owner A has no CLAAS credential, no events and the link no use.
async fn nothing_stored(h: &Harness, s: &ClaasSetup) {
    assert_eq!(
        credential(h, &h.token_a.clone(), &s.user, "claas")
            .await
            .status(),
        404
    );
    assert_eq!(count(h, "credentials").await, 0);
    assert_eq!(
        link_resource(h, "provider", &s.link_id).await["usageCount"],
        0
    );
}

async fn a_provider_link_connects_claas_through_the_consent_form(h: &Harness, sim: Simulator) {
    let s = claas_setup(h, sim).await;
    let mut browser = Browser::new(h);
    let authorize = browser.start(&s.link_url, "CLAAS").await;
    // To the simulator's authorize endpoint, with furrow's callback from configuration and a fresh state.
    assert!(authorize.starts_with(&format!("{}/oauth/authorize?", s.sim.base_url())));
    assert_eq!(query_param(&authorize, "client_id"), s.sim.app().client_id);
    assert_eq!(query_param(&authorize, "redirect_uri"), h.url("/widget"));
    assert_eq!(query_param(&authorize, "response_type"), "code");
    let state = query_param(&authorize, "state");
    assert!(state.len() >= 22, "{state}");
    assert!(browser.cookies.contains_key("furrow_oauth"));
    // The secret never travels in a URL.
    assert!(!authorize.contains(&s.sim.app().client_secret));

    let callback = browser.consent(&authorize, &s.sim, true).await;
    assert!(callback.starts_with(&h.url("/widget?")), "{callback}");
    assert_eq!(query_param(&callback, "state"), state);
    let page = browser.get(&callback).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.outcome().as_deref(), Some("result-ok"));
    assert!(page.body.contains("Acme Ag"));

    // Stored as POST /users/{id}/claas-credentials stores it: app key fields, the grower's tokens, PROCESSING
    // with its validation queued, the exchange logged.
    let r = credential(h, &h.token_a.clone(), &s.user, "claas").await;
    assert_eq!(r.status(), 200);
    let c = body_json(r).await;
    assert_eq!(c["status"], "PROCESSING");
    assert_eq!(c["clientKey"], s.sim.app().client_id);
    assert_eq!(c["clientEnvironment"], "PRODUCTION");
    assert!(c["refreshToken"].as_str().unwrap().starts_with("********"));
    let stored =
        h.db.store
            .get_credential(&h.owner_a, &s.user, Provider::Claas)
            .await
            .unwrap();
    assert!(!stored.secrets["refreshToken"].is_empty());
    assert!(
        s.sim
            .is_refresh_token_valid(&stored.secrets["refreshToken"])
    );
    assert!(
        stored.access_token.is_some(),
        "the issued access token is kept"
    );
    assert!(stored.access_expires_at.is_some());
    assert!(
        h.db.jobs()
            .await
            .iter()
            .any(|(kind, state, _, _)| kind == "credential_validate" && state == "queued")
    );
    let events = body_json(
        h.json(
            Method::GET,
            &format!("{UM}/users/{}/claas-credentials/events", s.user),
            None,
        )
        .await,
    )
    .await;
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1, "the code exchange: {events:?}");
    assert_eq!(events[0]["method"], "POST");
    assert!(events[0]["url"].as_str().unwrap().ends_with("/oauth/token"));
    let link = link_resource(h, "provider", &s.link_id).await;
    assert_eq!(link["usageCount"], 1);
    assert!(link["lastAccessedAt"].is_string());
    // The landing page now shows the provider connected.
    let again = browser.get(&s.link_url).await;
    assert!(again.body.contains("id=\"connected-CLAAS\""));
    assert!(again.body.contains("Reconnect CLAAS"));

    // No secret of the exchange (codes, tokens, the app's secret) in the events, the pages or the database
    // in clear; the state and the link token are kept as hashes only.
    let mut secrets = s.sim.issued_secrets();
    secrets.push(state.clone());
    let raw = raw_rows(h).await;
    assert!(!contains(&raw, &s.link_id), "link token stored in clear");
    let events_text = Value::Array(events.clone()).to_string();
    assert!(contains(&raw, &s.sim.app().client_id), "the scan sees rows");
    for secret in secrets.iter().filter(|x| x.len() >= 8) {
        assert!(
            !events_text.contains(secret.as_str()),
            "event leaks {secret}"
        );
        assert!(!page.body.contains(secret.as_str()), "page leaks {secret}");
        assert!(!contains(&raw, secret), "{secret} stored in clear");
    }

    // Reconnecting through the same link replaces the credential (one per provider).
    let authorize = browser.start(&s.link_url, "CLAAS").await;
    let callback = browser.consent(&authorize, &s.sim, true).await;
    assert_eq!(
        browser.get(&callback).await.outcome().as_deref(),
        Some("result-ok")
    );
    let replaced = body_json(credential(h, &h.token_a.clone(), &s.user, "claas").await).await;
    assert_ne!(replaced["id"], c["id"]);
    assert_eq!(count(h, "credentials").await, 1);
    assert_eq!(
        link_resource(h, "provider", &s.link_id).await["usageCount"],
        2
    );
}

async fn a_flow_started_before_the_link_expired_completes(h: &Harness, sim: Simulator) {
    let s = claas_setup(h, sim).await;
    let mut browser = Browser::new(h);
    let authorize = browser.start(&s.link_url, "CLAAS").await;
    h.db.execute("UPDATE magic_links SET expires_at = 1").await;
    // The page now says the link expired, and no new connection starts ...
    let page = browser.get(&s.link_url).await;
    assert_eq!(
        (page.status, page.outcome().as_deref()),
        (410, Some("error-expired"))
    );
    assert_eq!(
        browser.connect(&s.link_url, "CLAAS", true).await.status,
        410
    );
    // ... but the grower who started in time finishes.
    let callback = browser.consent(&authorize, &s.sim, true).await;
    let done = browser.get(&callback).await;
    assert_eq!(
        done.outcome().as_deref(),
        Some("result-ok"),
        "{}",
        done.body
    );
    assert_eq!(
        credential(h, &h.token_a.clone(), &s.user, "claas")
            .await
            .status(),
        200
    );
}

async fn callbacks_that_cannot_be_trusted_store_nothing(h: &Harness, sim: Simulator) {
    let s = claas_setup(h, sim).await;
    let mut browser = Browser::new(h);
    let authorize = browser.start(&s.link_url, "CLAAS").await;
    let callback = browser.consent(&authorize, &s.sim, true).await;

    // A tampered state, in the right browser.
    let state = query_param(&callback, "state");
    let mut chars: Vec<char> = state.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    let tampered = with_param(&callback, "state", &chars.into_iter().collect::<String>());
    let r = browser.get(&tampered).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (400, Some("error-invalid-state"))
    );
    assert!(r.body.contains("Nothing was saved"));
    assert!(!r.body.contains(&s.link_id), "no link token on a refusal");
    nothing_stored(h, &s).await;
    // The right state in another browser (no cookie, or another flow's cookie).
    let mut other = Browser::new(h);
    let r = other.get(&callback).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (400, Some("error-invalid-state"))
    );
    assert!(
        !r.body.contains(&s.link_id),
        "a stolen callback does not reveal the link"
    );
    let _ = other.start(&s.link_url, "CLAAS").await;
    let r = other.get(&callback).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (400, Some("error-invalid-state"))
    );
    nothing_stored(h, &s).await;
    // Neither burnt the session: its own browser completes it, once.
    let r = browser.get(&callback).await;
    assert_eq!(r.outcome().as_deref(), Some("result-ok"), "{}", r.body);
    let first = body_json(credential(h, &h.token_a.clone(), &s.user, "claas").await).await;
    // Replayed: refused, the credential unchanged, no second use.
    let r = browser.get(&callback).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (400, Some("error-invalid-state"))
    );
    let after = body_json(credential(h, &h.token_a.clone(), &s.user, "claas").await).await;
    assert_eq!(after["id"], first["id"]);
    assert_eq!(
        link_resource(h, "provider", &s.link_id).await["usageCount"],
        1
    );

    // An expired session (the grower took longer than the session's lifetime).
    h.db.execute("DELETE FROM credentials").await;
    h.db.execute("UPDATE magic_links SET usage_count = 0").await;
    let authorize = browser.start(&s.link_url, "CLAAS").await;
    let callback = browser.consent(&authorize, &s.sim, true).await;
    h.db.execute("UPDATE oauth_sessions SET expires_at = 1 WHERE consumed_at IS NULL")
        .await;
    let r = browser.get(&callback).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (400, Some("error-invalid-state"))
    );
    nothing_stored(h, &s).await;
}

async fn provider_refusals_store_nothing_and_keep_the_use(h: &Harness, sim: Simulator) {
    let s = claas_setup(h, sim).await;
    let mut browser = Browser::new(h);
    // Denied consent.
    let authorize = browser.start(&s.link_url, "CLAAS").await;
    let callback = browser.consent(&authorize, &s.sim, false).await;
    assert_eq!(query_param(&callback, "error"), "access_denied");
    let r = browser.get(&callback).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (400, Some("error-denied"))
    );
    assert!(r.body.contains("You did not allow access to CLAAS"));
    assert!(
        r.body
            .contains(&format!("href=\"/magic-link/{}\" id=\"back\"", s.link_id)),
        "the way back to the link"
    );
    nothing_stored(h, &s).await;
    // A code the provider refuses (forged, or already used elsewhere).
    let authorize = browser.start(&s.link_url, "CLAAS").await;
    let callback = browser.consent(&authorize, &s.sim, true).await;
    let forged = with_param(&callback, "code", "code-forged-by-someone");
    let r = browser.get(&forged).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (400, Some("error-exchange"))
    );
    nothing_stored(h, &s).await;
    // The app key deleted while the grower was at the provider.
    let authorize = browser.start(&s.link_url, "CLAAS").await;
    let callback = browser.consent(&authorize, &s.sim, true).await;
    assert_eq!(
        h.json(
            Method::DELETE,
            &app_key_path("CLAAS", "furrow-test", Some("PRODUCTION")),
            None
        )
        .await
        .status(),
        204
    );
    let r = browser.get(&callback).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (409, Some("error-not-configured"))
    );
    nothing_stored(h, &s).await;
    // The link used up by another tab meanwhile, then withdrawn.
    app_key_for(h, &h.token_a.clone(), &s.sim, "CLAAS", Some("PRODUCTION")).await;
    let authorize = browser.start(&s.link_url, "CLAAS").await;
    let callback = browser.consent(&authorize, &s.sim, true).await;
    h.db.execute("UPDATE magic_links SET usage_count = max_usage")
        .await;
    let r = browser.get(&callback).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (410, Some("error-used"))
    );
    assert_eq!(count(h, "credentials").await, 0);
    h.db.execute("UPDATE magic_links SET usage_count = 0").await;
    let authorize = browser.start(&s.link_url, "CLAAS").await;
    let callback = browser.consent(&authorize, &s.sim, true).await;
    assert_eq!(
        h.json(Method::DELETE, &format!("{W}/provider/{}", s.link_id), None)
            .await
            .status(),
        204
    );
    let r = browser.get(&callback).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (404, Some("error-not-found"))
    );
    assert_eq!(count(h, "credentials").await, 0);
}

async fn a_link_can_only_reach_its_own_owner_and_user(h: &Harness, sim: Simulator) {
    let s = claas_setup(h, sim).await;
    let b = h.token_b.clone();
    // Owner B with the same provider app, a grower and a link of its own.
    app_key_for(h, &b, &s.sim, "CLAAS", Some("PRODUCTION")).await;
    let r = h
        .json_as(
            &b,
            Method::POST,
            &format!("{UM}/users"),
            Some(json!({"name": "b-grower", "email": "b@x.io"})),
        )
        .await;
    let b_user = body_json(r).await["id"].as_str().unwrap().to_owned();
    let (b_link, b_url) = link_as(
        h,
        &b,
        &b_user,
        "provider",
        json!({"allowedProviders": ["CLAAS"], "settings": {"companyName": "Beta Seeds"}}),
    )
    .await;
    // B's token cannot read, delete or re-point A's link.
    problem(
        h.json_as(
            &b,
            Method::GET,
            &format!("{W}/provider/{}", s.link_id),
            None,
        )
        .await,
        404,
        Some("magicLinkNotFound"),
    )
    .await;
    // A's link shows A's branding, B's link B's.
    let mut browser = Browser::new(h);
    let a_page = browser.get(&s.link_url).await;
    assert!(a_page.body.contains("Acme Ag") && !a_page.body.contains("Beta Seeds"));
    // A grower in the middle of B's flow is handed A's callback (a forwarded or injected redirect): refused.
    let b_authorize = browser.start(&b_url, "CLAAS").await;
    let mut a_browser = Browser::new(h);
    let a_authorize = a_browser.start(&s.link_url, "CLAAS").await;
    let a_callback = a_browser.consent(&a_authorize, &s.sim, true).await;
    let r = browser.get(&a_callback).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (400, Some("error-invalid-state"))
    );
    assert_eq!(count(h, "credentials").await, 0);
    // B's flow lands on B's user only; A's on A's user only.
    let b_callback = browser.consent(&b_authorize, &s.sim, true).await;
    assert_eq!(
        browser.get(&b_callback).await.outcome().as_deref(),
        Some("result-ok")
    );
    assert_eq!(credential(h, &b, &b_user, "claas").await.status(), 200);
    assert_eq!(
        credential(h, &h.token_a.clone(), &s.user, "claas")
            .await
            .status(),
        404
    );
    assert_eq!(
        a_browser.get(&a_callback).await.outcome().as_deref(),
        Some("result-ok")
    );
    assert_eq!(
        credential(h, &h.token_a.clone(), &s.user, "claas")
            .await
            .status(),
        200
    );
    // Neither owner sees the other's credential or link use.
    assert_eq!(credential(h, &b, &s.user, "claas").await.status(), 404);
    assert_eq!(
        credential(h, &h.token_a.clone(), &b_user, "claas")
            .await
            .status(),
        404
    );
    assert_eq!(count(h, "credentials").await, 2);
    let b_res = body_json(
        h.json_as(&b, Method::GET, &format!("{W}/provider/{b_link}"), None)
            .await,
    )
    .await;
    assert_eq!(b_res["usageCount"], 1);
    assert_eq!(
        link_resource(h, "provider", &s.link_id).await["usageCount"],
        1
    );
}

async fn forms_without_the_csrf_token_are_refused(h: &Harness, sim: Simulator) {
    let s = claas_setup(h, sim).await;
    let mut browser = Browser::new(h);
    // No page visit: no cookie, no token.
    let r = browser.connect(&s.link_url, "CLAAS", false).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (403, Some("error-csrf"))
    );
    // A cookie from the page but a token that is not it (a cross-site form guessing).
    assert_eq!(browser.get(&s.link_url).await.status, 200);
    let req = browser
        .client
        .post(format!("{}/connect/CLAAS", s.link_url))
        .form(&[("csrf", "guessed-token")]);
    let r = browser.send(req, true).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (403, Some("error-csrf"))
    );
    assert_eq!(count(h, "oauth_sessions").await, 0, "no session opened");
    // A provider the link does not offer.
    let r = browser.connect(&s.link_url, "JohnDeere", true).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (403, Some("error-provider-not-allowed"))
    );
    let r = browser.connect(&s.link_url, "Tractors", true).await;
    assert_eq!(r.status, 403);
    assert_eq!(count(h, "oauth_sessions").await, 0);
    // With the token it starts.
    assert_eq!(
        browser.connect(&s.link_url, "CLAAS", true).await.status,
        303
    );
    assert_eq!(count(h, "oauth_sessions").await, 1);
}

async fn a_file_upload_link_takes_a_zip_for_its_user(h: &Harness, sim: Simulator) {
    let user = h.user("grower").await;
    let r = h
        .json(
            Method::POST,
            &format!("/services/fields/api/users/{user}/fields"),
            Some(json!({"id": "west", "name": "West", "geometry": {"type": "MultiPolygon", "coordinates":
                [[[[8.0290, 52.3588], [8.0305, 52.3588], [8.0305, 52.3602], [8.0290, 52.3602], [8.0290, 52.3588]]]]}})),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = h
        .json(
            Method::PATCH,
            &format!("/services/config/api/configs/{user}"),
            Some(json!({"cropOptional": {"standardGeoJson": {"planted": {"crop": "optional"}}}})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let (id, url) = link(h, &user, "file-upload", json!({"maxUsage": 1})).await;
    let mut browser = Browser::new(h);
    let page = browser.get(&url).await;
    assert!(page.body.contains("id=\"upload-form\"") && page.body.contains("<progress"));
    assert!(page.body.contains("id=\"recent-none\""));
    let csrf = browser.cookies["furrow_csrf"].clone();
    let zip = sample("isoxml/isoxml-dotnet/AFE.zip");
    let upload = |fields: Vec<(&'static str, String)>, with_cookie: bool| {
        let zip = zip.clone();
        let cookie = browser.cookie_header();
        let url = url.clone();
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let mut req = h
                .client
                .post(format!("{url}/upload"))
                .header("accept", "application/json")
                .header(
                    "content-type",
                    "multipart/form-data; boundary=furrow-test-boundary-7d1f",
                )
                .body(multipart(&fields, Some(("AFE.zip", &zip))));
            if with_cookie {
                req = req.header("cookie", cookie);
            }
            req.send().await.unwrap()
        }
    };
    // Without the CSRF token (or its cookie): refused, no batch, the use kept.
    problem(upload(vec![], true).await, 403, Some("forbidden")).await;
    problem(
        upload(vec![("csrf", csrf.clone())], false).await,
        403,
        Some("forbidden"),
    )
    .await;
    // The user cannot be redirected through the form's fields.
    let other = h.user("someone-else").await;
    let r = upload(
        vec![("csrf", csrf.clone()), ("leafUserId", other.clone())],
        true,
    )
    .await;
    assert_eq!(r.status(), 201);
    let b = body_json(r).await;
    assert_eq!(b["fileName"], "AFE.zip");
    let batch_id = b["batchId"].as_str().unwrap().to_owned();
    let batch = body_json(
        h.json(
            Method::GET,
            &format!("/services/operations/api/batch/{batch_id}"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(batch["leafUserId"], user, "the link's user, not the form's");
    assert_eq!(link_resource(h, "file-upload", &id).await["usageCount"], 1);
    // maxUsage 1: the next upload is refused and leaves nothing.
    problem(upload(vec![("csrf", csrf.clone())], true).await, 410, None).await;
    assert_eq!(count(h, "batches").await, 1);
    // The upload is processed like POST /batch: a planting operation on the user's field.
    drain(&worker(h)).await;
    let ops = body_json(
        h.json(
            Method::GET,
            &format!("/services/operations/api/operations?leafUserId={user}"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(ops[0]["type"], "planted", "{ops}");
    assert_eq!(ops[0]["fields"][0]["id"], "west");
    // A provider link takes no files.
    let s = claas_setup(h, sim).await;
    let r = h
        .client
        .post(format!("{}/upload", s.link_url))
        .header(
            "content-type",
            "multipart/form-data; boundary=furrow-test-boundary-7d1f",
        )
        .body(multipart(&[("csrf", &csrf)], Some(("AFE.zip", &zip))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(count(h, "batches").await, 1);
}

async fn a_link_disconnects_only_when_its_settings_allow(h: &Harness, sim: Simulator) {
    let s = claas_setup(h, sim).await;
    let mut browser = Browser::new(h);
    let authorize = browser.start(&s.link_url, "CLAAS").await;
    let callback = browser.consent(&authorize, &s.sim, true).await;
    assert_eq!(
        browser.get(&callback).await.outcome().as_deref(),
        Some("result-ok")
    );
    // Not enabled on this link: no button, and the route refuses.
    let page = browser.get(&s.link_url).await;
    assert!(!page.body.contains("id=\"disconnect-CLAAS\""));
    let csrf = browser.cookies["furrow_csrf"].clone();
    let req = browser
        .client
        .post(format!("{}/disconnect/CLAAS", s.link_url))
        .form(&[("csrf", csrf.clone())]);
    let r = browser.send(req, true).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (403, Some("error-disconnect-not-allowed"))
    );
    assert_eq!(count(h, "credentials").await, 1);
    // A link that enables it.
    let (_, url) = link(
        h,
        &s.user,
        "authentication",
        json!({"provider": "CLAAS", "settings": {"disconnectEnabled": true}}),
    )
    .await;
    let page = browser.get(&url).await;
    assert!(page.body.contains("id=\"disconnect-CLAAS\""));
    let req = browser
        .client
        .post(format!("{url}/disconnect/CLAAS"))
        .form(&[("csrf", "wrong".to_owned())]);
    assert_eq!(browser.send(req, true).await.status, 403);
    assert_eq!(count(h, "credentials").await, 1);
    let req = browser
        .client
        .post(format!("{url}/disconnect/CLAAS"))
        .form(&[("csrf", csrf)]);
    let r = browser.send(req, true).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location.as_deref(),
        Some(url.trim_start_matches(&h.url("")))
    );
    assert_eq!(count(h, "credentials").await, 0);
}

/// Every provider offered by link (John Deere, CLAAS, Climate FieldView, CNHi and FieldOps, Trimble, Ag Leader,
/// Raven, Lindsay) connects through its simulator's consent form with that provider's rules: client
/// authentication at the token endpoint, PKCE (Lindsay), CNH's connection and audience, Trimble's scope.
async fn every_oauth_provider_connects_through_its_simulator(backend: furrow_store::Backend) {
    let cases: [(Provider, &str, Option<&str>, &str); 9] = [
        (
            Provider::JohnDeere,
            "JohnDeere",
            Some("STAGE"),
            "john-deere",
        ),
        (Provider::Claas, "CLAAS", Some("PRODUCTION"), "claas"),
        (
            Provider::ClimateFieldView,
            "ClimateFieldView",
            None,
            "climate-field-view",
        ),
        (Provider::Cnhi, "CNHI", Some("PRODUCTION"), "cnhi"),
        (
            Provider::CnhiFieldOps,
            "CNHIFieldOps",
            Some("STAGE"),
            "cnhi-field-ops",
        ),
        (Provider::Trimble, "Trimble", None, "trimble"),
        (Provider::AgLeader, "AgLeader", None, "ag-leader"),
        (Provider::Raven, "Raven", None, "raven"),
        (Provider::Lindsay, "Lindsay", Some("PRODUCTION"), "lindsay"),
    ];
    let mut sims = Vec::new();
    for (kind, ..) in cases {
        sims.push(Simulator::start(kind).await.unwrap());
    }
    let h = harness_with(backend, &sims.iter().collect::<Vec<_>>()).await;
    let user = h.user("grower").await;
    for ((kind, segment, env, _), sim) in cases.iter().zip(&sims) {
        let app = sim.app();
        let body = match kind {
            Provider::AgLeader => {
                json!({"publicKey": app.client_id, "privateKey": app.client_secret})
            }
            Provider::ClimateFieldView => {
                json!({"clientId": app.client_id, "clientSecret": app.client_secret, "apiKey": app.api_key})
            }
            Provider::Cnhi | Provider::CnhiFieldOps => {
                json!({"clientId": app.client_id, "clientSecret": app.client_secret, "subscriptionKey": app.api_key})
            }
            Provider::JohnDeere | Provider::Claas => {
                json!({"clientKey": app.client_id, "clientSecret": app.client_secret})
            }
            Provider::Trimble => {
                json!({"applicationName": "furrow-test-app", "clientId": app.client_id, "clientSecret": app.client_secret})
            }
            _ => json!({"clientId": app.client_id, "clientSecret": app.client_secret}),
        };
        let r = h
            .json(
                Method::POST,
                &app_key_path(segment, "app", *env),
                Some(body),
            )
            .await;
        assert_eq!(r.status(), 201, "{segment}");
        sim.register_redirect_uri(&h.url("/widget"));
    }
    let (id, url) = link(
        &h,
        &user,
        "provider",
        json!({"allowedProviders": ["Other"], "maxUsage": 9}),
    )
    .await;
    let mut browser = Browser::new(&h);
    for ((kind, segment, env, slug), sim) in cases.iter().zip(&sims) {
        let authorize = browser.start(&url, segment).await;
        assert!(
            authorize.starts_with(sim.base_url()),
            "{segment}: {authorize}"
        );
        let pkce = !query_param(&authorize, "code_challenge").is_empty();
        assert_eq!(pkce, *kind == Provider::Lindsay, "{segment} PKCE");
        let callback = browser.consent(&authorize, sim, true).await;
        let r = browser.get(&callback).await;
        assert_eq!(
            r.outcome().as_deref(),
            Some("result-ok"),
            "{segment}: {}",
            r.body
        );
        let c = body_json(credential(&h, &h.token_a.clone(), &user, slug).await).await;
        assert_eq!(c["status"], "PROCESSING", "{segment}: {c}");
        if let Some(env) = env
            && kind.fields().iter().any(|f| f.name == "clientEnvironment")
        {
            assert_eq!(c["clientEnvironment"], *env, "{segment}");
        }
        let stored =
            h.db.store
                .get_credential(&h.owner_a, &user, *kind)
                .await
                .unwrap();
        assert!(
            sim.is_refresh_token_valid(&stored.secrets["refreshToken"]),
            "{segment}: the grower's refresh token"
        );
    }
    assert_eq!(link_resource(&h, "provider", &id).await["usageCount"], 9);
    h.stop().await;
}

// ---------------------------------------------------------------------------------------------------------
// The widget session API (Leaf-user API keys)

const SESSION: &str = "/services/widgets/api/session";

/// A Leaf-user API key of owner `token` for `user`.
async fn api_key(h: &Harness, token: &str, user: &str) -> String {
    let r = h
        .json_as(
            token,
            Method::POST,
            &format!("{UM}/api-keys"),
            Some(json!({"leafUserId": user})),
        )
        .await;
    assert_eq!(r.status(), 201);
    body_json(r).await["key"].as_str().unwrap().to_owned()
}

/// A widget's call: the key and the user it names, no bearer token.
fn widget(
    h: &Harness,
    method: Method,
    path: &str,
    key: &str,
    user: &str,
) -> reqwest::RequestBuilder {
    h.client
        .request(method, h.url(path))
        .header("x-api-key", key)
        .header("x-leaf-user-id", user)
}

async fn api_keys_open_only_their_users_widget_session(h: &Harness) {
    let user = h.user("grower1").await;
    let other_user = h.user("grower2").await;
    let r = h
        .json_as(
            &h.token_b.clone(),
            Method::POST,
            &format!("{UM}/users"),
            Some(json!({"name": "b-grower", "email": "b@x.io"})),
        )
        .await;
    let b_user = body_json(r).await["id"].as_str().unwrap().to_owned();
    let key = api_key(h, &h.token_a.clone(), &user).await;
    let b_key = api_key(h, &h.token_b.clone(), &b_user).await;

    let r = widget(h, Method::GET, SESSION, &key, &user)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = body_json(r).await;
    assert_eq!(v["leafUserId"], user);
    assert_eq!(v["leafUserName"], "grower1");
    assert_eq!(v["widget"], "LINK");
    // The key acts for its own user only: not another user of its owner, not another owner's user.
    for (k, u) in [
        (&key, &other_user),
        (&key, &b_user),
        (&b_key, &user),
        (&"lk_not-a-key".to_owned(), &user),
    ] {
        let r = widget(h, Method::GET, SESSION, k, u).send().await.unwrap();
        problem(r, 401, None).await;
    }
    let r = h
        .client
        .get(h.url(SESSION))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    problem(r, 401, None).await;
    // Keys open nothing else: every Leaf route wants the owner's token.
    for path in [
        format!("{UM}/users"),
        format!("{UM}/users/{user}"),
        format!("{UM}/users/{user}/claas-credentials"),
        format!("{W}/provider"),
    ] {
        let r = widget(h, Method::GET, &path, &key, &user)
            .send()
            .await
            .unwrap();
        problem(r, 401, None).await;
        let r = h
            .client
            .get(h.url(&path))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        problem(r, 401, None).await;
    }
    // The providers with an app key, each with its state.
    assert_eq!(
        h.json(
            Method::POST,
            &app_key_path("CLAAS", "app", Some("PRODUCTION")),
            Some(json!({"clientKey": "c", "clientSecret": "s"}))
        )
        .await
        .status(),
        201
    );
    let r = widget(h, Method::GET, &format!("{SESSION}/providers"), &key, &user)
        .send()
        .await
        .unwrap();
    assert_eq!(
        body_json(r).await,
        json!([{"provider": "CLAAS", "displayName": "CLAAS", "kind": "OAUTH", "connected": false}])
    );
    let r = widget(
        h,
        Method::POST,
        &format!("{SESSION}/providers/JohnDeere/authorize"),
        &key,
        &user,
    )
    .send()
    .await
    .unwrap();
    problem(r, 409, Some("appKeyNotConfigured")).await;
    for p in ["Tractors", "RavenSlingshot"] {
        let r = widget(
            h,
            Method::POST,
            &format!("{SESSION}/providers/{p}/authorize"),
            &key,
            &user,
        )
        .send()
        .await
        .unwrap();
        problem(r, 404, Some("unknownProvider")).await;
    }
    // Revoked or expired keys open nothing.
    let list = body_json(
        h.json(
            Method::GET,
            &format!("{UM}/api-keys?leafUserId={user}"),
            None,
        )
        .await,
    )
    .await;
    let id = list[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        h.json(Method::DELETE, &format!("{UM}/api-keys/{id}"), None)
            .await
            .status(),
        204
    );
    let r = widget(h, Method::GET, SESSION, &key, &user)
        .send()
        .await
        .unwrap();
    problem(r, 401, None).await;
    let fresh = api_key(h, &h.token_a.clone(), &user).await;
    let r = widget(h, Method::GET, SESSION, &fresh, &user)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    h.db.execute("UPDATE api_keys SET expires_at = 1").await;
    let r = widget(h, Method::GET, SESSION, &fresh, &user)
        .send()
        .await
        .unwrap();
    problem(r, 401, None).await;
}

async fn a_widget_uploads_a_zip_for_its_user_only(h: &Harness) {
    let user = h.user("grower").await;
    let other = h.user("someone-else").await;
    let key = api_key(h, &h.token_a.clone(), &user).await;
    let zip = sample("isoxml/isoxml-js/2021-04-09T15_33_26_taskdata.zip");
    let body = || {
        multipart(
            &[("leafUserId", other.as_str())],
            Some(("topcon.zip", &zip)),
        )
    };
    let content_type = "multipart/form-data; boundary=furrow-test-boundary-7d1f";
    // Without a key (or with another user's name): refused, nothing stored.
    let r = h
        .client
        .post(h.url(&format!("{SESSION}/files")))
        .header("content-type", content_type)
        .body(body())
        .send()
        .await
        .unwrap();
    problem(r, 401, None).await;
    let r = widget(h, Method::POST, &format!("{SESSION}/files"), &key, &other)
        .header("content-type", content_type)
        .body(body())
        .send()
        .await
        .unwrap();
    problem(r, 401, None).await;
    assert_eq!(count(h, "batches").await, 0);
    let r = widget(h, Method::POST, &format!("{SESSION}/files"), &key, &user)
        .header("content-type", content_type)
        .body(body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let b = body_json(r).await;
    assert_eq!(b["fileName"], "topcon.zip");
    let batch = body_json(
        h.json(
            Method::GET,
            &format!(
                "/services/operations/api/batch/{}",
                b["batchId"].as_str().unwrap()
            ),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(batch["leafUserId"], user, "the key's user, not the form's");
    // A body that is not multipart names the field.
    let r = widget(h, Method::POST, &format!("{SESSION}/files"), &key, &user)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16() / 100, 4);
    assert_eq!(count(h, "batches").await, 1);
}

async fn a_widget_connects_claas_through_a_one_time_start_link(h: &Harness, sim: Simulator) {
    let s = claas_setup(h, sim).await;
    let key = api_key(h, &h.token_a.clone(), &s.user).await;
    let authorize = |key: String| {
        let user = s.user.clone();
        async move {
            let r = widget(
                h,
                Method::POST,
                &format!("{SESSION}/providers/CLAAS/authorize"),
                &key,
                &user,
            )
            .json(&json!({}))
            .send()
            .await
            .unwrap();
            assert_eq!(r.status(), 200);
            body_json(r).await["url"].as_str().unwrap().to_owned()
        }
    };
    let start = authorize(key.clone()).await;
    assert!(start.starts_with(&h.url("/widget/start/")), "{start}");
    let token = start.rsplit('/').next().unwrap().to_owned();
    assert!(
        !contains(&raw_rows(h).await, &token),
        "start token stored in clear"
    );
    // The start link sets this browser's cookie and sends it on; the rest is the link's flow.
    let mut browser = Browser::new(h);
    let r = browser.get(&start).await;
    assert_eq!(r.status, 303);
    let to = r.location.unwrap();
    assert!(to.starts_with(&format!("{}/oauth/authorize?", s.sim.base_url())));
    assert!(browser.cookies.contains_key("furrow_oauth"));
    let callback = browser.consent(&to, &s.sim, true).await;
    let r = browser.get(&callback).await;
    assert_eq!(r.outcome().as_deref(), Some("result-ok"), "{}", r.body);
    assert!(!r.body.contains("/magic-link/"), "no link to go back to");
    let c = body_json(credential(h, &h.token_a.clone(), &s.user, "claas").await).await;
    assert_eq!(c["status"], "PROCESSING");
    assert_eq!(
        link_resource(h, "provider", &s.link_id).await["usageCount"],
        0,
        "no link was used"
    );
    let r = widget(
        h,
        Method::GET,
        &format!("{SESSION}/providers"),
        &key,
        &s.user,
    )
    .send()
    .await
    .unwrap();
    let providers = body_json(r).await;
    assert_eq!(providers[0]["connected"], true);
    assert_eq!(providers[0]["status"], "PROCESSING");
    // A start link works once, and not after two minutes.
    let r = browser.get(&start).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (410, Some("error-start-used"))
    );
    let late = authorize(key.clone()).await;
    h.db.execute("UPDATE oauth_sessions SET start_expires_at = 1 WHERE start_hash IS NOT NULL")
        .await;
    let r = browser.get(&late).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (410, Some("error-start-used"))
    );
    // A key revoked while the grower is at the provider stores nothing.
    let start = authorize(key.clone()).await;
    let to = browser.get(&start).await.location.unwrap();
    let callback = browser.consent(&to, &s.sim, true).await;
    let list = body_json(
        h.json(
            Method::GET,
            &format!("{UM}/api-keys?leafUserId={}", s.user),
            None,
        )
        .await,
    )
    .await;
    let id = list[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        h.json(Method::DELETE, &format!("{UM}/api-keys/{id}"), None)
            .await
            .status(),
        204
    );
    let r = browser.get(&callback).await;
    assert_eq!(
        (r.status, r.outcome().as_deref()),
        (403, Some("error-key-revoked"))
    );
    let after = body_json(credential(h, &h.token_a.clone(), &s.user, "claas").await).await;
    assert_eq!(after["id"], c["id"], "unchanged");
    // Disconnecting through the session API.
    let key = api_key(h, &h.token_a.clone(), &s.user).await;
    let r = widget(
        h,
        Method::DELETE,
        &format!("{SESSION}/providers/CLAAS"),
        &key,
        &s.user,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(count(h, "credentials").await, 0);
}

async fn onboarding_routes_are_in_the_openapi_document(h: &Harness) {
    let doc: Value = body_json(h.client.get(h.url("/openapi.json")).send().await.unwrap()).await;
    let paths = doc["paths"].as_object().unwrap();
    let expect: [(&str, &[&str]); 11] = [
        ("/services/usermanagement/api/app-keys/{provider}", &["get"]),
        (
            "/services/usermanagement/api/app-keys/{provider}/{appName}",
            &["get", "post", "put", "delete"],
        ),
        (
            "/services/usermanagement/api/app-keys/{provider}/{appName}/{environment}",
            &["get", "post", "put", "delete"],
        ),
        ("/services/usermanagement/api/api-keys", &["get", "post"]),
        ("/services/usermanagement/api/api-keys/{id}", &["delete"]),
        ("/services/widgets/api/magic-link/{kind}", &["get", "post"]),
        (
            "/services/widgets/api/magic-link/{kind}/{id}",
            &["get", "delete"],
        ),
        (
            "/services/widgets/api/magic-link/users/{leafUserId}/{kind}",
            &["post"],
        ),
        ("/services/widgets/api/session", &["get"]),
        (
            "/services/widgets/api/session/providers/{provider}/authorize",
            &["post"],
        ),
        ("/services/widgets/api/session/files", &["post"]),
    ];
    for (path, methods) in expect {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing from openapi.json"));
        for m in methods {
            let responses = item[*m]["responses"]
                .as_object()
                .unwrap_or_else(|| panic!("{m} {path}"));
            assert!(
                responses.keys().any(|k| k.starts_with('4')),
                "{m} {path} documents its errors"
            );
        }
    }
    assert!(doc["components"]["securitySchemes"]["apiKey"].is_object());
}
