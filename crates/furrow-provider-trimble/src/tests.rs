use std::collections::BTreeMap;

use furrow_provider::{MemorySink, Provider, ProviderContext};

use super::*;

fn ctx(base: Option<&str>) -> ProviderContext {
    let c: BTreeMap<String, String> = [
        ("clientId", "c"),
        ("clientSecret", "secret-1"),
        ("refreshToken", "refresh-1"),
    ]
    .into_iter()
    .map(|(a, b): (&str, &str)| (a.to_owned(), b.to_owned()))
    .collect();
    let sink = MemorySink::new();
    let ctx = ProviderContext::new(c, sink.clone(), sink);
    match base {
        Some(b) => ctx.with_base_url(b),
        None => ctx,
    }
}

#[test]
fn base_url_replaces_every_host() {
    let real = TrimbleConfig::from_context(&ctx(None));
    assert!(real.api_base.starts_with("https://"), "{}", real.api_base);
    let sim = TrimbleConfig::from_context(&ctx(Some("http://127.0.0.1:9")));
    assert!(sim.api_base.starts_with("http://127.0.0.1:9"));
    assert!(sim.token_url.starts_with("http://127.0.0.1:9"));
}

#[test]
fn capabilities_are_declared() {
    let p = TrimbleProvider::new(ctx(None)).unwrap();
    let c = p.capabilities();
    assert_eq!(
        (c.organizations, c.fields, c.machine_files),
        (true, true, false)
    );
    assert_eq!(p.name(), "trimble");
}

#[test]
fn the_organization_authorization_link_names_the_app_and_the_return_page() {
    let mut config = TrimbleConfig::from_context(&ctx(None));
    assert_eq!(
        config.organization_authorization_url("app 1"),
        "https://www.trimbleag.com/ThirdPartyAccess/ThirdPartyAuthorizationRedirect?clientid=app+1"
    );
    config.redirection_url = Some("https://integrator.example/done?x=1&y=2".into());
    assert_eq!(
        config.organization_authorization_url("c"),
        "https://www.trimbleag.com/ThirdPartyAccess/ThirdPartyAuthorizationRedirect?clientid=c\
         &redirectionUrl=https%3A%2F%2Fintegrator.example%2Fdone%3Fx%3D1%26y%3D2"
    );
}
