use super::*;

#[test]
fn wkb_points_decode_in_both_byte_orders() {
    let mut le = vec![1u8];
    le.extend_from_slice(&1u32.to_le_bytes());
    le.extend_from_slice(&(-93.5f64).to_le_bytes());
    le.extend_from_slice(&41.25f64.to_le_bytes());
    assert_eq!(wkb_point(&le), Some((-93.5, 41.25)));
    let mut be = vec![0u8];
    be.extend_from_slice(&1u32.to_be_bytes());
    be.extend_from_slice(&(-93.5f64).to_be_bytes());
    be.extend_from_slice(&41.25f64.to_be_bytes());
    assert_eq!(wkb_point(&be), Some((-93.5, 41.25)));
    assert_eq!(wkb_point(&le[..10]), None);
    let mut line = le.clone();
    line[1] = 2;
    assert_eq!(wkb_point(&line), None);
}

#[test]
fn timestamps_format_as_iso_8601() {
    let mut b = Vec::new();
    geojson::format_millis(&mut b, 1_617_980_044_969, true);
    assert_eq!(
        String::from_utf8(b).unwrap(),
        "\"2021-04-09T14:54:04.969Z\""
    );
    let mut b = Vec::new();
    geojson::format_millis(&mut b, -1, false);
    assert_eq!(String::from_utf8(b).unwrap(), "\"1969-12-31T23:59:59.999\"");
}

#[test]
fn crs84_constant_parses_with_its_id() {
    let v = crs84();
    assert_eq!(v["id"]["authority"], "OGC");
    assert_eq!(v["type"], "GeographicCRS");
}
