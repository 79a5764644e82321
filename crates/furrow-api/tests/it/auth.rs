use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, UM, problem};

crate::on_both_backends!(
    login_issues_tokens_of_the_right_lifetime,
    bad_logins_are_401,
    protected_routes_need_a_valid_token,
    expired_and_forged_tokens_are_401,
    health_and_openapi_need_no_token,
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
        (
            "/services/usermanagement/api/users/{leafUserId}/{provider}-credentials",
            vec!["get", "post", "delete"],
        ),
        (
            "/services/usermanagement/api/users/{leafUserId}/{provider}-credentials/events",
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
