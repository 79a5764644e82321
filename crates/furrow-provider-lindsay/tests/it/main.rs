//! The Lindsay FieldNET adapter against its simulator.

use std::sync::Arc;

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{Provider, conformance};
use furrow_provider_lindsay::LindsayProvider;
use furrow_provider_sim::Simulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let sim = Simulator::start(ProviderKind::Lindsay).await.unwrap();
    let report = conformance::run(&sim, |ctx| {
        Ok(Arc::new(LindsayProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert!(report.passed.len() >= 5, "{report:#?}");
    // Irrigation is the data call: token expiry, scope, throttling and failures are exercised through it.
    for case in [
        "irrigation",
        "unsupported_without_network",
        "expired_token_mid_sync",
        "missing_scope",
        "rate_limited_retry_after",
        "server_error_bursts",
    ] {
        assert!(
            report.passed.contains(&case),
            "{case} did not pass: {report:#?}"
        );
    }
    let allowed_skips = [
        "expired_token_mid_sync",
        "missing_scope",
        "rate_limited_retry_after",
        "server_error_bursts",
        "slow_responses",
        "rate_limit_respected",
        "organization_connection",
        "fields_with_boundaries",
        "pagination_many_pages",
        "since_filter",
        "downloads_sha256",
        "truncated_download",
    ];
    for (case, why) in &report.skipped {
        assert!(
            allowed_skips.contains(case),
            "unexpected skip {case}: {why}"
        );
    }
}

#[tokio::test]
async fn code_exchange_with_pkce_yields_a_refresh_token() {
    use furrow_provider::{
        HttpClient, HttpConfig, MemorySink, ProviderContext, authorization_url, exchange_code,
    };
    use furrow_provider_lindsay::LindsayConfig;
    let sim = Simulator::start(ProviderKind::Lindsay).await.unwrap();
    let sink = MemorySink::new();
    let ctx = ProviderContext::new(sim.credential(), sink.clone(), sink.clone())
        .with_base_url(sim.base_url());
    let config = LindsayConfig::from_context(&ctx);
    let mut oauth = furrow_provider::OAuthConfig::new(
        ctx.credential["clientId"].clone(),
        Some(ctx.credential["clientSecret"].clone()),
        config.token_url.clone(),
    );
    oauth.auth_url = config.auth_url.clone();
    let req = authorization_url(&oauth, true, &[]).unwrap();
    let verifier = req.pkce_verifier.clone().unwrap();
    let challenge = req
        .url
        .split("code_challenge=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let code = sim.authorization_code(Some(&challenge));
    let http = HttpClient::new(
        ProviderKind::Lindsay,
        HttpConfig::for_tests(),
        sink.clone(),
        [],
    )
    .unwrap();
    let wrong = exchange_code(
        &http,
        &oauth,
        &code,
        Some("wrong-verifier-wrong-verifier-wrong-verifier"),
    )
    .await;
    assert_eq!(
        wrong.unwrap_err().kind(),
        furrow_provider::ErrorKind::Unauthenticated
    );
    let code = sim.authorization_code(Some(&challenge));
    let issued = exchange_code(&http, &oauth, &code, Some(&verifier))
        .await
        .unwrap();
    let rt = issued.updates.get("refreshToken").expect("a refresh token");
    assert!(sim.is_refresh_token_valid(rt));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_credentials_refresh_and_list_concurrently() {
    let sim = Simulator::start(ProviderKind::Lindsay).await.unwrap();
    let report = conformance::run_many(&sim, 1000, |ctx| {
        Ok(Arc::new(LindsayProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert_eq!(report.credentials, 1000);
    assert!(report.events >= 1000, "{report:?}");
}
