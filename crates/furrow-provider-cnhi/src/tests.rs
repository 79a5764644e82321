use std::collections::BTreeMap;

use furrow_provider::{MemorySink, Provider, ProviderContext};

use super::*;

fn ctx(base: Option<&str>) -> ProviderContext {
    let c: BTreeMap<String, String> = [
        ("clientId", "c"),
        ("clientSecret", "secret-1"),
        ("subscriptionKey", "sub-key-1"),
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
    let real = CnhiConfig::from_context(&ctx(None));
    assert!(real.api_base.starts_with("https://"), "{}", real.api_base);
    let sim = CnhiConfig::from_context(&ctx(Some("http://127.0.0.1:9")));
    assert!(sim.api_base.starts_with("http://127.0.0.1:9"));
    assert!(sim.token_url.starts_with("http://127.0.0.1:9"));
}

#[test]
fn capabilities_are_declared() {
    let p = CnhiProvider::new(ctx(None)).unwrap();
    let c = p.capabilities();
    assert_eq!(
        (c.organizations, c.fields, c.machine_files),
        (true, true, true)
    );
    assert_eq!(p.name(), "cnhi");
}

#[test]
fn field_ops_uses_its_own_hosts() {
    let fo = CnhiConfig::for_kind(furrow_credentials::Provider::CnhiFieldOps, &ctx(None));
    assert_eq!(fo.api_base, "https://stg.api-data.cnh.com");
    assert_eq!(fo.token_url, "https://stg.identity.cnhind.com/oauth/token");
    assert_eq!(
        CnhiProvider::field_ops(ctx(None)).unwrap().kind(),
        furrow_credentials::Provider::CnhiFieldOps
    );
}
