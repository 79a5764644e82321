use std::collections::HashMap;

use base64::Engine;
use furrow_credentials::Provider as ProviderKind;
use sha2::Digest;

use super::{CodeClientAuth, code_client_auth};
use crate::Simulator;

const REDIRECT: &str = "http://127.0.0.1:9/widget";

/// Every provider with a browser consent flow.
const OAUTH: [ProviderKind; 10] = [
    ProviderKind::JohnDeere,
    ProviderKind::Claas,
    ProviderKind::ClimateFieldView,
    ProviderKind::Cnhi,
    ProviderKind::CnhiFieldOps,
    ProviderKind::Trimble,
    ProviderKind::AgLeader,
    ProviderKind::Raven,
    ProviderKind::Lindsay,
    ProviderKind::Panorama,
];

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn pkce() -> (String, String) {
    let verifier = "v".repeat(50);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The query an integrator sends to `sim`'s authorization endpoint.
fn query(sim: &Simulator, challenge: &str) -> Vec<(String, String)> {
    let mut q = vec![
        ("response_type", "code".to_owned()),
        ("client_id", sim.app().client_id.clone()),
        ("redirect_uri", REDIRECT.to_owned()),
        ("state", "st-123".to_owned()),
        ("scope", "openid offline_access".to_owned()),
        ("code_challenge", challenge.to_owned()),
        ("code_challenge_method", "S256".to_owned()),
    ];
    if matches!(sim.kind(), ProviderKind::Cnhi | ProviderKind::CnhiFieldOps) {
        q.push(("connection", "STG-ADFS-CONN".to_owned()));
        q.push(("audience", "https://api-data.cnh.com/".to_owned()));
    }
    q.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn token_path(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::JohnDeere => "/oauth2/aus78tnlaysMraFhC1t7/v1/token",
        ProviderKind::ClimateFieldView => "/api/oauth/token",
        ProviderKind::AgLeader => "/api/token",
        ProviderKind::Raven => "/connect/token",
        ProviderKind::Panorama => "/oauth2/token",
        _ => "/oauth/token",
    }
}

/// Posts the consent form as a browser would; returns the redirect's query.
async fn consent(
    sim: &Simulator,
    q: &[(String, String)],
    login: (&str, &str),
    decision: &str,
) -> reqwest::Response {
    let mut form = q.to_vec();
    form.push(("username".into(), login.0.into()));
    form.push(("password".into(), login.1.into()));
    form.push(("decision".into(), decision.into()));
    client()
        .post(sim.authorize_url().unwrap())
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn redirect_query(r: &reqwest::Response) -> HashMap<String, String> {
    let loc = r.headers()["location"].to_str().unwrap();
    assert!(loc.starts_with(REDIRECT), "{loc}");
    url::Url::parse(loc)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn exchange(
    sim: &Simulator,
    code: &str,
    verifier: &str,
    auth: CodeClientAuth,
) -> reqwest::Response {
    let app = sim.app();
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.to_owned()),
        ("redirect_uri", REDIRECT.to_owned()),
        ("code_verifier", verifier.to_owned()),
    ];
    let mut req = client().post(format!("{}{}", sim.base_url(), token_path(sim.kind())));
    match auth {
        CodeClientAuth::Basic => req = req.basic_auth(&app.client_id, Some(&app.client_secret)),
        CodeClientAuth::Body => {
            form.push(("client_id", app.client_id.clone()));
            form.push(("client_secret", app.client_secret.clone()));
        }
        CodeClientAuth::Public => form.push(("client_id", app.client_id.clone())),
    }
    req.form(&form).send().await.unwrap()
}

#[tokio::test]
async fn every_oauth_provider_logs_in_consents_and_exchanges_its_code_once() {
    for kind in OAUTH {
        let sim = Simulator::start(kind).await.unwrap();
        sim.register_redirect_uri(REDIRECT);
        let (verifier, challenge) = pkce();
        let q = query(&sim, &challenge);
        let page = client()
            .get(sim.authorize_url().unwrap())
            .query(&q)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{kind:?}");
        let html = page.text().await.unwrap();
        for needle in [
            "<label for=\"username\">",
            "<label for=\"password\">",
            "id=\"allow\"",
            "id=\"deny\"",
        ] {
            assert!(html.contains(needle), "{kind:?}: {needle}");
        }
        let (user, pass) = sim.grower_login();
        let wrong = consent(&sim, &q, (&user, "not-the-password"), "allow").await;
        assert_eq!(
            wrong.status(),
            200,
            "{kind:?}: a wrong password shows the form again"
        );
        assert!(wrong.text().await.unwrap().contains("id=\"login-error\""));

        let r = consent(&sim, &q, (&user, &pass), "allow").await;
        assert_eq!(r.status(), 302, "{kind:?}");
        let back = redirect_query(&r);
        assert_eq!(back["state"], "st-123", "{kind:?}");
        let code = back["code"].clone();

        let auth = code_client_auth(kind);
        // The other client authentication is refused for the code grant (and burns nothing).
        let other = match auth {
            CodeClientAuth::Basic => Some(CodeClientAuth::Body),
            CodeClientAuth::Body => Some(CodeClientAuth::Basic),
            CodeClientAuth::Public => None,
        };
        if let Some(other) = other {
            let refused = exchange(&sim, &code, &verifier, other).await;
            assert_eq!(refused.status(), 401, "{kind:?}: {other:?} refused");
        }
        let ok = exchange(&sim, &code, &verifier, auth).await;
        assert_eq!(ok.status(), 200, "{kind:?}");
        let tokens: serde_json::Value = ok.json().await.unwrap();
        let rt = tokens["refresh_token"].as_str().unwrap();
        assert!(sim.is_refresh_token_valid(rt), "{kind:?}");
        let again = exchange(&sim, &code, &verifier, auth).await;
        assert!(
            again.status().is_client_error(),
            "{kind:?}: codes are single use"
        );
    }
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_the_state() {
    let sim = Simulator::start(ProviderKind::Claas).await.unwrap();
    sim.register_redirect_uri(REDIRECT);
    let q = query(&sim, &pkce().1);
    let r = consent(&sim, &q, ("", ""), "deny").await;
    assert_eq!(r.status(), 302);
    let back = redirect_query(&r);
    assert_eq!(back["error"], "access_denied");
    assert_eq!(back["state"], "st-123");
    assert!(!back.contains_key("code"));
}

#[tokio::test]
async fn bad_clients_redirect_uris_and_missing_pkce_are_answered_on_the_page() {
    let sim = Simulator::start(ProviderKind::Lindsay).await.unwrap();
    sim.register_redirect_uri(REDIRECT);
    let good = query(&sim, &pkce().1);
    let with = |k: &str, v: Option<&str>| -> Vec<(String, String)> {
        let mut q: Vec<_> = good.iter().filter(|(n, _)| n != k).cloned().collect();
        if let Some(v) = v {
            q.push((k.to_owned(), v.to_owned()));
        }
        q
    };
    for (q, why) in [
        (with("client_id", Some("someone-else")), "Unknown client"),
        (
            with("redirect_uri", Some("http://127.0.0.1:9/widget/")),
            "redirect URI",
        ),
        (with("code_challenge", None), "PKCE"),
        (with("code_challenge_method", Some("plain")), "S256"),
    ] {
        let r = client()
            .get(sim.authorize_url().unwrap())
            .query(&q)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{why}");
        assert!(
            r.headers().get("location").is_none(),
            "{why}: never redirected"
        );
        assert!(r.text().await.unwrap().contains(why), "{why}");
    }
}

#[tokio::test]
async fn a_code_is_bound_to_its_redirect_uri_and_verifier() {
    let sim = Simulator::start(ProviderKind::Lindsay).await.unwrap();
    sim.register_redirect_uri(REDIRECT);
    let (verifier, challenge) = pkce();
    let q = query(&sim, &challenge);
    let (user, pass) = sim.grower_login();
    let code = redirect_query(&consent(&sim, &q, (&user, &pass), "allow").await)["code"].clone();
    let wrong_verifier =
        exchange(&sim, &code, "w".repeat(50).as_str(), CodeClientAuth::Basic).await;
    assert_eq!(wrong_verifier.status(), 400);
    // The failed attempt burnt the code.
    let right = exchange(&sim, &code, &verifier, CodeClientAuth::Basic).await;
    assert_eq!(right.status(), 400);

    let code = redirect_query(&consent(&sim, &q, (&user, &pass), "allow").await)["code"].clone();
    let app = sim.app();
    let other_redirect = client()
        .post(format!("{}/oauth/token", sim.base_url()))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(other_redirect.status(), 400);
}
