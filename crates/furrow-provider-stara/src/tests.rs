use std::collections::BTreeMap;

use furrow_provider::{MemorySink, Provider, ProviderContext};

use super::*;

fn ctx(base: Option<&str>) -> ProviderContext {
    let c: BTreeMap<String, String> = [
        ("apiKey", "key-1"),
        ("accessToken", "access-1"),
        ("accessTokenClient", "client-1"),
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
    let real = StaraConfig::from_context(&ctx(None));
    assert!(real.api_base.starts_with("https://"), "{}", real.api_base);
    let sim = StaraConfig::from_context(&ctx(Some("http://127.0.0.1:9")));
    assert!(sim.api_base.starts_with("http://127.0.0.1:9"));
    assert!(sim.token_url.starts_with("http://127.0.0.1:9"));
}

#[test]
fn capabilities_are_declared() {
    let p = StaraProvider::new(ctx(None)).unwrap();
    let c = p.capabilities();
    assert_eq!(
        (c.organizations, c.fields, c.machine_files),
        (false, true, true)
    );
    assert_eq!(p.name(), "stara");
}
