//! Integration tests of furrow-credentials: validation and responses for every provider.

mod docs;
mod response;
mod validate;

use serde_json::{Map, Value};

use furrow_credentials::{FieldKind, FieldSpec, Provider};

/// A distinctive value for `field` of `provider`, unique across fields. Secrets are 24 opaque
/// alphanumerics (deterministic), so any 5-character window of one showing up in a response is a leak
/// rather than a coincidence with a key name.
fn sample_value(provider: Provider, field: &FieldSpec) -> String {
    if field.kind == FieldKind::Environment {
        return "PRODUCTION".to_owned();
    }
    if !field.secret {
        return format!("{}-{}-value", provider.slug(), field.name);
    }
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // FNV-1a seed, then xorshift.
    let mut state = 0xcbf2_9ce4_8422_2325_u64;
    for b in provider
        .slug()
        .bytes()
        .chain([b'/'])
        .chain(field.name.bytes())
    {
        state = (state ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (0..24)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(ALPHABET[(state % ALPHABET.len() as u64) as usize])
        })
        .collect()
}

/// A create body with every accepted field.
fn full_body(provider: Provider) -> Map<String, Value> {
    provider
        .fields()
        .iter()
        .filter(|f| f.in_create)
        .map(|f| (f.name.to_owned(), Value::String(sample_value(provider, f))))
        .collect()
}

/// A create body with the required fields only.
fn minimal_body(provider: Provider) -> Map<String, Value> {
    provider
        .fields()
        .iter()
        .filter(|f| f.required)
        .map(|f| (f.name.to_owned(), Value::String(sample_value(provider, f))))
        .collect()
}
