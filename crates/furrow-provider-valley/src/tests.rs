use std::collections::BTreeMap;

use furrow_provider::{MemorySink, Provider, ProviderContext};

use super::*;

fn ctx(base: Option<&str>) -> ProviderContext {
    let c: BTreeMap<String, String> = [
        ("apid", "a"),
        ("key", "AAAAAAAAAAAAAAAAAAAAAA=="),
        ("initializationVector", "AAAAAAAAAAAAAAAAAAAAAA=="),
        ("username", "u"),
        ("password", "pass-1"),
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
    let real = ValleyConfig::from_context(&ctx(None));
    assert!(real.api_base.starts_with("https://"), "{}", real.api_base);
    let sim = ValleyConfig::from_context(&ctx(Some("http://127.0.0.1:9")));
    assert!(sim.api_base.starts_with("http://127.0.0.1:9"));
    assert!(sim.token_url.starts_with("http://127.0.0.1:9"));
}

#[test]
fn capabilities_are_declared() {
    let p = ValleyProvider::new(ctx(None)).unwrap();
    let c = p.capabilities();
    assert_eq!(
        (c.organizations, c.fields, c.machine_files),
        (false, false, false)
    );
    assert_eq!(p.name(), "valley");
}

#[test]
fn password_encryption_round_trips() {
    use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.encode([7u8; 16]);
    let iv = b64.encode([9u8; 16]);
    let enc = client::encrypt_password(&key, &iv, "hunter22").unwrap();
    assert_ne!(enc, "hunter22");
    let mut data = b64.decode(enc).unwrap();
    let dec = cbc::Decryptor::<aes::Aes128>::new_from_slices(&[7u8; 16], &[9u8; 16]).unwrap();
    assert_eq!(
        dec.decrypt_padded_mut::<Pkcs7>(&mut data).unwrap(),
        b"hunter22"
    );
    assert!(client::encrypt_password("not base64!", &iv, "x").is_err());
}
