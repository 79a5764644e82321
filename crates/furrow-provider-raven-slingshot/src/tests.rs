use base64::Engine;

use super::*;
use crate::convert;

#[test]
fn signature_matches_the_simulator_and_lowercases_host_and_path() {
    let secret = base64::engine::general_purpose::STANDARD.encode(b"shared-secret");
    let ours = signature(
        b"shared-secret",
        "GET",
        "Host.Company.com",
        "/Absolute/Path",
        1234567890,
        "071X7Hc9",
        "ak",
    );
    let theirs = furrow_provider_sim::slingshot_signature(
        "GET",
        "host.company.com",
        "/absolute/path",
        "1234567890",
        "071X7Hc9",
        "ak",
        &secret,
    )
    .unwrap();
    assert_eq!(ours, theirs);
    assert_ne!(
        ours,
        signature(
            b"shared-secret",
            "POST",
            "host.company.com",
            "/absolute/path",
            1234567890,
            "071X7Hc9",
            "ak"
        )
    );
}

#[test]
fn timespans_parse() {
    assert_eq!(convert::timespan("00:00:30"), Some(30));
    assert_eq!(convert::timespan("01:02:03"), Some(3723));
    assert_eq!(convert::timespan("soon"), None);
}

#[test]
fn a_secret_that_is_not_base64_is_refused() {
    let sink = furrow_provider::MemorySink::new();
    let cred = [
        ("apiKey", "k"),
        ("accessKey", "a"),
        ("sharedSecret", "not base64 !!"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    let err = RavenSlingshotProvider::new(furrow_provider::ProviderContext::new(
        cred,
        sink.clone(),
        sink,
    ))
    .unwrap_err();
    assert_eq!(err.kind(), furrow_provider::ErrorKind::Unauthenticated);
}
