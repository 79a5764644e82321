use furrow_provider::MemorySink;

use super::*;
use crate::convert;

#[test]
fn config_uses_the_token_host_and_the_platform_host() {
    let sink = MemorySink::new();
    let ctx = furrow_provider::ProviderContext::new(Default::default(), sink.clone(), sink);
    let c = ClimateConfig::from_context(&ctx);
    assert_eq!(c.api_base, "https://platform.climate.com");
    assert_eq!(c.token_url, "https://api.climate.com/api/oauth/token");
    assert!(c.chunk_size <= 5 * 1024 * 1024 && c.chunk_size >= 1024 * 1024);
}

#[test]
fn activities_from_1970_are_dropped() {
    let a: convert::Activity =
        serde_json::from_str(r#"{"id":"a","startTime":"1970-01-01T00:00:00Z"}"#).unwrap();
    assert!(!convert::plausible(&a));
    let b: convert::Activity =
        serde_json::from_str(r#"{"id":"b","startTime":"2024-05-01T00:00:00Z","length":9}"#)
            .unwrap();
    assert!(convert::plausible(&b));
    let f = convert::file(b, "asPlanted", "default");
    assert_eq!(
        (f.size, f.download_ref.as_deref()),
        (Some(9), Some("asPlanted"))
    );
}

#[test]
fn a_credential_without_api_key_is_refused() {
    let sink = MemorySink::new();
    let cred = [
        ("clientId", "c"),
        ("clientSecret", "s3cr3t"),
        ("refreshToken", "r3fr3sh"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    let ctx = furrow_provider::ProviderContext::new(cred, sink.clone(), sink);
    let e = ClimateFieldViewProvider::new(ctx).unwrap_err();
    assert!(e.to_string().contains("apiKey"), "{e}");
}
