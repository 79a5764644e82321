use std::collections::BTreeMap;

use furrow_provider::{MemorySink, Provider, ProviderContext};

use super::*;

fn ctx(env: Option<&str>) -> ProviderContext {
    let mut c = BTreeMap::new();
    c.insert("clientKey".to_owned(), "key".to_owned());
    c.insert("clientSecret".to_owned(), "secret-value".to_owned());
    c.insert("refreshToken".to_owned(), "refresh-value".to_owned());
    if let Some(e) = env {
        c.insert("clientEnvironment".to_owned(), e.to_owned());
    }
    let sink = MemorySink::new();
    ProviderContext::new(c, sink.clone(), sink)
}

#[test]
fn environment_selects_the_host() {
    assert_eq!(
        ClaasConfig::from_context(&ctx(Some("PRODUCTION"))).api_base,
        "https://api.claas.com"
    );
    assert_eq!(
        ClaasConfig::from_context(&ctx(None)).api_base,
        "https://api-stage.claas.com"
    );
    let sim = ClaasConfig::from_context(&ctx(None).with_base_url("http://127.0.0.1:9/"));
    assert_eq!(sim.token_url, "http://127.0.0.1:9/oauth/token");
}

#[test]
fn a_credential_without_refresh_token_is_unauthenticated() {
    let mut c = ctx(None);
    c.credential.remove("refreshToken");
    let err = ClaasProvider::new(c).unwrap_err();
    assert_eq!(err.kind(), furrow_provider::ErrorKind::Unauthenticated);
}

#[test]
fn capabilities_say_outbox_only() {
    let p = ClaasProvider::new(ctx(None)).unwrap();
    let caps = p.capabilities();
    assert!(caps.organizations && caps.machine_files && !caps.fields);
    assert_eq!(p.name(), "claas");
}

#[test]
fn authorization_url_for_a_grower() {
    let c = ctx(None);
    let o = client::oauth(&c, &ClaasConfig::from_context(&c)).unwrap();
    let a = furrow_provider::authorization_url(&o, true, &[]).unwrap();
    assert!(
        a.url
            .starts_with("https://api-stage.claas.com/oauth/authorize?")
    );
    assert!(a.url.contains("code_challenge=") && a.pkce_verifier.is_some());
}
