use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{
    ErrorKind, HttpClient, HttpConfig, MemorySink, OAuthConfig, OAuthRefresh, TokenManager,
    TokenPlacement, exchange_code,
};
use furrow_provider_sim::Simulator;

fn oauth(sim: &Simulator) -> OAuthConfig {
    let c = sim.credential();
    OAuthConfig::new(
        c["clientKey"].clone(),
        Some(c["clientSecret"].clone()),
        format!("{}/oauth/token", sim.base_url()),
    )
}

#[tokio::test]
async fn refresh_rotates_and_persists_and_revocation_is_unauthenticated() {
    let sim = Simulator::start(ProviderKind::Claas).await.unwrap();
    let sink = MemorySink::new();
    let cred = sim.credential();
    let http = HttpClient::new(
        ProviderKind::Claas,
        HttpConfig::for_tests(),
        sink.clone(),
        [],
    )
    .unwrap();
    let tm = TokenManager::new(
        http,
        OAuthRefresh::new(oauth(&sim)),
        sink.clone(),
        cred.clone(),
        TokenPlacement::Bearer,
    );
    let first = tm.access_token().await.unwrap();
    assert_eq!(tm.access_token().await.unwrap(), first, "cached");
    let rotated = sink.latest("refreshToken").unwrap();
    assert_ne!(rotated, cred["refreshToken"]);
    assert!(sim.is_refresh_token_valid(&rotated));
    assert!(sim.revoke(&cred));
    let err = tm.refresh().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert!(err.to_string().contains("invalid_grant"), "{err}");
}

#[tokio::test]
async fn a_wrong_client_secret_is_unauthenticated() {
    let sim = Simulator::start(ProviderKind::Claas).await.unwrap();
    let sink = MemorySink::new();
    let mut o = oauth(&sim);
    o.client_secret = Some("wrong-secret".into());
    let http = HttpClient::new(
        ProviderKind::Claas,
        HttpConfig::for_tests(),
        sink.clone(),
        [],
    )
    .unwrap();
    let tm = TokenManager::new(
        http,
        OAuthRefresh::new(o),
        sink,
        sim.credential(),
        TokenPlacement::Bearer,
    );
    assert_eq!(
        tm.access_token().await.unwrap_err().kind(),
        ErrorKind::Unauthenticated
    );
}

#[tokio::test]
async fn code_exchange_returns_the_growers_refresh_token() {
    let sim = Simulator::start(ProviderKind::Claas).await.unwrap();
    let sink = MemorySink::new();
    let http = HttpClient::new(
        ProviderKind::Claas,
        HttpConfig::for_tests(),
        sink.clone(),
        [],
    )
    .unwrap();
    let code = sim.authorization_code(None);
    let issued = exchange_code(&http, &oauth(&sim), &code, None)
        .await
        .unwrap();
    assert!(sim.is_refresh_token_valid(&issued.updates["refreshToken"]));
    let again = exchange_code(&http, &oauth(&sim), &code, None)
        .await
        .unwrap_err();
    assert_eq!(
        again.kind(),
        ErrorKind::Unauthenticated,
        "codes are single use"
    );
    let events = sink.events();
    assert!(
        events
            .iter()
            .all(|e| !e.body.contains(&issued.access_token)),
        "token redacted from the event body"
    );
}
