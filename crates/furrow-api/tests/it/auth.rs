use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, UM, problem};

crate::on_both_backends!(
    login_issues_tokens_of_the_right_lifetime,
    bad_logins_are_401,
    protected_routes_need_a_valid_token,
    expired_and_forged_tokens_are_401,
    health_and_openapi_need_no_token,
    failed_logins_are_throttled_per_username,
    failed_logins_are_throttled_per_address,
    logout_ends_the_token_and_everywhere_ends_all,
    a_password_change_ends_every_older_token,
    password_checks_leave_the_runtime_free,
);

fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn login_issues_tokens_of_the_right_lifetime(h: &Harness) {
    for (remember, hours) in [
        (json!("true"), 24 * 30),
        (json!("false"), 24),
        (json!(true), 24 * 30),
        (Value::Null, 24),
    ] {
        let mut body = json!({"username": "a@example.com", "password": "password-a"});
        if !remember.is_null() {
            body["rememberMe"] = remember.clone();
        }
        let r = h
            .client
            .post(h.url("/api/authenticate"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let token = r.json::<Value>().await.unwrap()["id_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let header: Value = {
            use base64::Engine;
            let h64 = token.split('.').next().unwrap();
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(h64)
                    .unwrap(),
            )
            .unwrap()
        };
        assert_eq!(header["alg"], "HS512");
        let c = claims(&token);
        assert_eq!(c["sub"], "a@example.com");
        assert_eq!(c["auth"], "ROLE_USER");
        let ttl = c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap();
        assert_eq!(ttl, hours * 3600, "rememberMe {remember}");
    }
}

async fn bad_logins_are_401(h: &Harness) {
    for body in [
        json!({"username": "a@example.com", "password": "wrong"}),
        json!({"username": "nobody@example.com", "password": "password-a"}),
    ] {
        let r = h
            .client
            .post(h.url("/api/authenticate"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let p = problem(r, 401, None).await;
        assert_eq!(p["message"], "error.http.401");
    }
    let r = h
        .client
        .post(h.url("/api/authenticate"))
        .json(&json!({"username": "a@example.com"}))
        .send()
        .await
        .unwrap();
    let p = problem(r, 400, Some("validation")).await;
    assert!(p["message"].as_str().unwrap().contains("password"), "{p}");
    let r = h
        .client
        .post(h.url("/api/authenticate"))
        .json(&json!({"username": "a@example.com", "password": "password-a", "rememberMe": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        crate::harness::named_fields(&problem(r, 400, Some("validation")).await),
        ["rememberMe"]
    );
}

async fn protected_routes_need_a_valid_token(h: &Harness) {
    let user = h.user("ann").await;
    let paths = [
        (Method::GET, format!("{UM}/users")),
        (Method::POST, format!("{UM}/users")),
        (Method::PUT, format!("{UM}/users")),
        (Method::GET, format!("{UM}/users/{user}")),
        (Method::PATCH, format!("{UM}/users/{user}")),
        (Method::DELETE, format!("{UM}/users/{user}")),
        (Method::GET, format!("{UM}/users/{user}/claas-credentials")),
        (Method::POST, format!("{UM}/users/{user}/claas-credentials")),
        (
            Method::DELETE,
            format!("{UM}/users/{user}/claas-credentials"),
        ),
        (
            Method::GET,
            format!("{UM}/users/{user}/claas-credentials/events"),
        ),
    ];
    for (method, path) in &paths {
        let r = h
            .client
            .request(method.clone(), h.url(path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        problem(r, 401, None).await;
        let r = h
            .client
            .request(method.clone(), h.url(path))
            .header("Authorization", "Basic abc")
            .send()
            .await
            .unwrap();
        problem(r, 401, None).await;
        let r = h
            .req(method.clone(), path, "not.a.jwt")
            .send()
            .await
            .unwrap();
        problem(r, 401, None).await;
    }
    // The user survived every unauthenticated DELETE.
    assert_eq!(
        h.json(Method::GET, &format!("{UM}/users/{user}"), None)
            .await
            .status(),
        200
    );
}

async fn expired_and_forged_tokens_are_401(h: &Harness) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let ours = furrow_api::TokenIssuer::new(&h.db.key.derive_signing_key());
    let expired = ours.issue_with("a@example.com", now - 90_000, now - 5);
    let fresh = ours.issue_with("a@example.com", now, now + 60);
    let forged = furrow_api::TokenIssuer::new(
        b"some other key entirely, 64 bytes long ...........................",
    )
    .issue_with("a@example.com", now, now + 3600);
    let ghost = ours.issue_with("deleted@example.com", now, now + 3600);
    let path = format!("{UM}/users");
    assert_eq!(
        h.req(Method::GET, &path, &fresh)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    for t in [expired, forged, ghost] {
        problem(
            h.req(Method::GET, &path, &t).send().await.unwrap(),
            401,
            None,
        )
        .await;
    }
    // A token whose payload was edited (other subject) fails its signature.
    let mut parts: Vec<String> = fresh.split('.').map(str::to_owned).collect();
    use base64::Engine;
    let mut c = claims(&fresh);
    c["sub"] = json!("b@example.com");
    parts[1] =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap());
    problem(
        h.req(Method::GET, &path, &parts.join("."))
            .send()
            .await
            .unwrap(),
        401,
        None,
    )
    .await;
}

async fn health_and_openapi_need_no_token(h: &Harness) {
    let r = h.client.get(h.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "UP");
    let r = h.client.get(h.url("/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let expect = [
        ("/api/authenticate", vec!["post"]),
        ("/health", vec!["get"]),
        (
            "/services/usermanagement/api/users",
            vec!["get", "post", "put"],
        ),
        (
            "/services/usermanagement/api/users/{id}",
            vec!["get", "patch", "delete"],
        ),
        // One path per provider (each with its typed create body); CLAAS stands for them here.
        (
            "/services/usermanagement/api/users/{leafUserId}/claas-credentials",
            vec!["get", "post", "delete"],
        ),
        (
            "/services/usermanagement/api/users/{leafUserId}/claas-credentials/events",
            vec!["get"],
        ),
    ];
    for (path, methods) in expect {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing from openapi.json"));
        for m in methods {
            let op = &item[m];
            assert!(op.is_object(), "{m} {path}");
            let responses = op["responses"].as_object().unwrap();
            if path != "/health" {
                assert!(
                    responses.keys().any(|k| k.starts_with('4')),
                    "{m} {path} documents its errors"
                );
            }
        }
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

async fn authenticate(h: &Harness, username: &str, password: &str) -> reqwest::Response {
    h.client
        .post(h.url("/api/authenticate"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

/// Five wrong passwords are answered 401; after them the username is refused (429 with `Retry-After`) for a
/// while whatever the password, so guessing stops; other usernames are not affected.
async fn failed_logins_are_throttled_per_username(h: &Harness) {
    for _ in 0..6 {
        problem(authenticate(h, "A@example.com", "wrong").await, 401, None).await;
    }
    for password in ["wrong", "password-a"] {
        let r = authenticate(h, "a@example.com", password).await;
        let retry: i64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=5).contains(&retry), "{retry}");
        problem(r, 429, Some("tooManyRequests")).await;
    }
    assert_eq!(
        authenticate(h, "b@example.com", "password-b")
            .await
            .status(),
        200
    );
    // Once the block has passed (moved into the past here), the right password works and clears the count.
    h.db.execute("UPDATE login_throttle SET blocked_until = 0")
        .await;
    assert_eq!(
        authenticate(h, "a@example.com", "password-a")
            .await
            .status(),
        200
    );
    problem(authenticate(h, "a@example.com", "wrong").await, 401, None).await;
}

/// Twenty-one failures from one address (on different usernames) and it is refused; the server must run with
/// connect info, as `furrow-server` does.
async fn failed_logins_are_throttled_per_address(h: &Harness) {
    let state = furrow_api::AppState::new(
        h.db.store.clone(),
        &h.db.key,
        furrow_api::ApiConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            furrow_api::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let login = |user: String, password: &'static str| {
        let client = h.client.clone();
        async move {
            client
                .post(format!("http://{addr}/api/authenticate"))
                .json(&json!({"username": user, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    // Twenty are free; the twenty-first blocks the address.
    for i in 0..21 {
        assert_eq!(
            login(format!("guess-{i}@example.com"), "x").await.status(),
            401
        );
    }
    let r = login("b@example.com".into(), "password-b").await;
    assert_eq!(r.status(), 429, "the address is throttled");
    assert!(r.headers().contains_key("retry-after"));
    // Without connect info (the harness), only usernames count.
    assert_eq!(
        authenticate(h, "b@example.com", "password-b")
            .await
            .status(),
        200
    );
    server.abort();

    // Behind a trusted proxy, the client it names counts, not the proxy.
    let state = furrow_api::AppState::new(
        h.db.store.clone(),
        &h.db.key,
        furrow_api::ApiConfig::default(),
    )
    .with_trusted_proxies(["127.0.0.1".parse().unwrap()]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            furrow_api::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let login = |client: &'static str, user: String, password: &'static str| {
        let http = h.client.clone();
        async move {
            http.post(format!("http://{addr}/api/authenticate"))
                .header("x-forwarded-for", format!("{client}, 127.0.0.1"))
                .json(&json!({"username": user, "password": password}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for i in 0..21 {
        assert_eq!(
            login("203.0.113.7", format!("proxied-{i}@example.com"), "x").await,
            401
        );
    }
    assert_eq!(
        login("203.0.113.7", "b@example.com".into(), "password-b").await,
        429
    );
    assert_eq!(
        login("203.0.113.8", "b@example.com".into(), "password-b").await,
        200
    );
    server.abort();
}

async fn logout_ends_the_token_and_everywhere_ends_all(h: &Harness) {
    let path = format!("{UM}/users");
    let other = h.login("a@example.com", "password-a").await;
    let r = h
        .req(Method::POST, "/api/logout", &h.token_a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    problem(
        h.req(Method::GET, &path, &h.token_a).send().await.unwrap(),
        401,
        None,
    )
    .await;
    problem(
        h.req(Method::POST, "/api/logout", &h.token_a)
            .send()
            .await
            .unwrap(),
        401,
        None,
    )
    .await;
    assert_eq!(
        h.req(Method::GET, &path, &other)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        h.req(Method::GET, &path, &h.token_b)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let third = h.login("a@example.com", "password-a").await;
    let r = h
        .req(Method::POST, "/api/logout?everywhere=true", &third)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    for t in [&other, &third] {
        problem(
            h.req(Method::GET, &path, t).send().await.unwrap(),
            401,
            None,
        )
        .await;
    }
    assert_eq!(
        h.req(Method::GET, &path, &h.token_b)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let fresh = h.login("a@example.com", "password-a").await;
    assert_eq!(
        h.req(Method::GET, &path, &fresh)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// What `furrow owner password` does: the new password works and every token issued before it stops.
async fn a_password_change_ends_every_older_token(h: &Harness) {
    let path = format!("{UM}/users");
    let remembered = {
        let r = h
            .client
            .post(h.url("/api/authenticate"))
            .json(
                &json!({"username": "a@example.com", "password": "password-a", "rememberMe": true}),
            )
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()["id_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    h.db.store
        .set_owner_password("a@example.com", "password-a2")
        .await
        .unwrap();
    for t in [&h.token_a, &remembered] {
        problem(
            h.req(Method::GET, &path, t).send().await.unwrap(),
            401,
            None,
        )
        .await;
    }
    problem(
        authenticate(h, "a@example.com", "password-a").await,
        401,
        None,
    )
    .await;
    let fresh = h.login("a@example.com", "password-a2").await;
    assert_eq!(claims(&fresh)["gen"], 1);
    assert_eq!(
        h.req(Method::GET, &path, &fresh)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        h.req(Method::GET, &path, &h.token_b)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// Argon2 runs on the blocking pool: while a burst of logins is being checked (more at once than there are
/// runtime threads), `/health` keeps answering, so every health answer arrives before the first login answer.
/// Were the checks on the runtime's threads, each health request would wait for one.
async fn password_checks_leave_the_runtime_free(h: &Harness) {
    let logins: Vec<_> = (0..12)
        .map(|i| {
            let (client, url) = (h.client.clone(), h.url("/api/authenticate"));
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"username": format!("flood-{i}@example.com"), "password": "x"}))
                    .send()
                    .await
                    .unwrap();
                std::time::Instant::now()
            })
        })
        .collect();
    let mut health = Vec::new();
    for _ in 0..5 {
        let r = h.client.get(h.url("/health")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        health.push(std::time::Instant::now());
    }
    let mut first_login = None;
    for t in logins {
        let done = t.await.unwrap();
        first_login = Some(first_login.map_or(done, |f: std::time::Instant| f.min(done)));
    }
    // A health check answers while the twelve checks (each a full argon2 hash) are all still running: were they
    // on the runtime's threads, nothing would answer before the first of them ended. (The first answer only: a
    // loaded machine may delay the next ones by as long as a hash.)
    let first_health = health.into_iter().min().unwrap();
    assert!(
        first_health < first_login.unwrap(),
        "/health waited for the password checks"
    );
}
