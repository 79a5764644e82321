use std::collections::BTreeMap;

use furrow_provider::{MemorySink, ProviderContext};
use serde_json::json;

use super::*;
use crate::convert;

fn ctx() -> ProviderContext {
    let c: BTreeMap<String, String> = [
        ("clientKey", "k"),
        ("clientSecret", "secret-1"),
        ("refreshToken", "refresh-1"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    let sink = MemorySink::new();
    ProviderContext::new(c, sink.clone(), sink)
}

#[test]
fn stage_is_the_sandbox_and_production_the_api_host() {
    assert_eq!(
        JohnDeereConfig::from_context(&ctx()).api_base,
        "https://sandboxapi.deere.com/platform"
    );
    let mut p = ctx();
    p.credential
        .insert("clientEnvironment".into(), "PRODUCTION".into());
    let c = JohnDeereConfig::from_context(&p);
    assert_eq!(c.api_base, "https://api.deere.com/platform");
    assert_eq!(
        c.token_url,
        "https://signin.johndeere.com/oauth2/aus78tnlaysMraFhC1t7/v1/token"
    );
}

#[test]
fn an_org_with_only_a_connections_link_is_not_connected() {
    let o: convert::Organization = serde_json::from_value(json!({"id": "1", "name": "A",
        "links": [{"rel": "self", "uri": "x"}, {"rel": "connections", "uri": "https://connections.deere.com/c"}]}))
    .unwrap();
    let o = convert::organization(o);
    assert!(!o.connected);
    assert_eq!(
        o.connection_uri.as_deref(),
        Some("https://connections.deere.com/c")
    );
    let o: convert::Organization = serde_json::from_value(
        json!({"id": "2", "name": "B", "links": [{"rel": "manage_connections", "uri": "m"}]}),
    )
    .unwrap();
    assert!(convert::organization(o).connected);
}

#[test]
fn boundary_rings_become_lon_lat_with_the_exterior_first() {
    let b: convert::Boundary = serde_json::from_value(json!({"active": true, "multipolygons": [{"rings": [
        {"type": "interior", "points": [{"lat": 1.2, "lon": 2.2}, {"lat": 1.2, "lon": 2.3}, {"lat": 1.3, "lon": 2.3}]},
        {"type": "exterior", "points": [{"lat": 1.0, "lon": 2.0}, {"lat": 1.0, "lon": 3.0}, {"lat": 2.0, "lon": 3.0}]}
    ]}]}))
    .unwrap();
    let mp = convert::boundary(&b).unwrap();
    assert_eq!(mp.coordinates[0][0][0], [2.0, 1.0]);
    assert_eq!(mp.coordinates[0][1][0], [2.2, 1.2]);
    assert!(mp.is_valid(), "rings are closed");
}
