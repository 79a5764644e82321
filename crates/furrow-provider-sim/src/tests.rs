use furrow_credentials::Provider as ProviderKind;

use super::*;

#[test]
fn seed_serves_corpus_zips_with_hashes() {
    let seed = Seed::standard();
    let files = seed.files();
    assert!(files.len() >= 3, "{}", files.len());
    for f in &files {
        assert_eq!(&f.bytes[..2], b"PK", "{} is not a zip", f.name);
        assert_eq!(f.sha256.len(), 64);
    }
    assert!(seed.fields.iter().all(|f| f.boundary.is_valid()));
    assert_eq!(
        seed.organizations.iter().filter(|o| !o.connected).count(),
        1
    );
    let before = seed.files_of(SINGLE_ORG, None).len();
    let ids = seed.add_generated_files(SINGLE_ORG, 5);
    assert_eq!(ids.len(), 5);
    assert_eq!(seed.files_of(SINGLE_ORG, None).len(), before + 5);
}

#[test]
fn slingshot_signature_matches_the_documented_layout() {
    // HMAC-SHA1 over "GET\r\nhost\r\n/path\r\n1234567890\r\napikey\r\naccesskey\r\n", key = base64-decoded secret.
    let a = slingshot_signature(
        "GET",
        "Host.Company.com",
        "/Absolute/Path",
        "1234567890",
        "k",
        "a",
        "c2VjcmV0",
    )
    .unwrap();
    let b = slingshot_signature(
        "GET",
        "host.company.com",
        "/absolute/path",
        "1234567890",
        "k",
        "a",
        "c2VjcmV0",
    )
    .unwrap();
    assert_eq!(a, b, "host and path are lower-cased");
    assert_ne!(
        a,
        slingshot_signature(
            "GET",
            "host.company.com",
            "/absolute/path",
            "1234567891",
            "k",
            "a",
            "c2VjcmV0"
        )
        .unwrap()
    );
    assert_eq!(a.len(), 28, "base64 of 20 bytes");
}

#[tokio::test]
async fn every_simulator_starts_with_a_valid_seeded_credential() {
    let set = start_all().await.unwrap();
    assert_eq!(set.simulators.len(), ProviderKind::ALL.len());
    for sim in &set.simulators {
        let cred = sim.credential();
        for f in sim.kind().fields().iter().filter(|f| f.required) {
            assert!(cred.contains_key(f.name), "{}: {}", sim.kind(), f.name);
        }
        assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    }
}

#[tokio::test]
async fn faults_apply_before_the_handler() {
    let sim = Simulator::start(ProviderKind::Claas).await.unwrap();
    let client = reqwest::Client::new();
    sim.faults().fail_next(1, 502);
    let r = client
        .get(format!("{}/organizations", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 502);
    let r = client
        .get(format!("{}/organizations", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "no token");
    sim.faults().throttle_next(1, 3);
    let r = client
        .get(format!("{}/organizations", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
    assert_eq!(sim.requests(), 3);
}

#[tokio::test]
async fn john_deere_exports_redirect_to_a_presigned_url_that_refuses_authorization() {
    let sim = Simulator::start(ProviderKind::JohnDeere).await.unwrap();
    let at = sim.access_token();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| {
        client
            .get(format!("{}/platform{path}", sim.base_url()))
            .header("Accept", "application/vnd.deere.axiom.v3+json")
            .bearer_auth(&at)
    };
    sim.faults().async_polls(1);
    assert_eq!(get("/fieldOps/fo-1001").send().await.unwrap().status(), 202);
    let r = get("/fieldOps/fo-1001").send().await.unwrap();
    assert_eq!(r.status(), 307);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let refused = client.get(&location).bearer_auth(&at).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Only one auth mechanism allowed")
    );
    let ok = client.get(&location).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.bytes().await.unwrap().to_vec(),
        john_deere_shapefile("fo-1001")
    );
    assert_eq!(get("/fieldOps/fo-1003").send().await.unwrap().status(), 406);
    assert_eq!(get("/fieldOps/nope").send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn john_deere_file_lists_answer_changes_after_a_signature() {
    let sim = Simulator::start(ProviderKind::JohnDeere).await.unwrap();
    let at = sim.access_token();
    let client = reqwest::Client::new();
    let list = |sig: &str| {
        client
            .get(format!(
                "{}/platform/organizations/4201/files",
                sim.base_url()
            ))
            .header("Accept", "application/vnd.deere.axiom.v3+json")
            .header("x-deere-signature", sig)
            .bearer_auth(&at)
            .send()
    };
    let first = list("").await.unwrap();
    assert_eq!(first.status(), 200);
    let sig = first.headers()["x-deere-signature"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = first.json().await.unwrap();
    assert_eq!(
        body["total"].as_u64().unwrap() as usize,
        sim.seed().files_of("4201", None).len()
    );
    assert_eq!(list(&sig).await.unwrap().status(), 304);
    let added = sim.seed().add_generated_files("4201", 2);
    let changed = list(&sig).await.unwrap();
    assert_eq!(changed.status(), 200);
    let body: serde_json::Value = changed.json().await.unwrap();
    let ids: Vec<&str> = body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, added);
    assert_eq!(list("garbage").await.unwrap().status(), 400);
}
