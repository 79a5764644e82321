use super::*;

/// The committed table must equal the dictionary it was generated from (`tests/data/ddi/`, isoxml-py's
/// Apache-2.0 copy kept in the crate), entry by entry.
#[test]
fn table_matches_json() {
    let text = include_str!("../../tests/data/ddi/ddi_entities.json");
    let json: serde_json::Value = serde_json::from_str(text).unwrap();
    let map = json.as_object().unwrap();
    assert_eq!(map.len(), 726);
    assert_eq!(ddi_table().len(), map.len());
    for (key, entry) in map {
        let ddi: u16 = key.parse().unwrap();
        let row = ddi_table().iter().find(|e| e.ddi == ddi).unwrap();
        assert_eq!(row.name, entry["name"].as_str().unwrap(), "name of {ddi}");
        assert_eq!(row.unit, entry["unit"].as_str().unwrap(), "unit of {ddi}");
        assert_eq!(
            row.resolution,
            entry["bitResolution"].as_f64().unwrap(),
            "resolution of {ddi}"
        );
    }
    assert!(
        ddi_table().windows(2).all(|w| w[0].ddi < w[1].ddi),
        "sorted"
    );
}

#[test]
fn kinds_and_lookup() {
    assert_eq!(ddi_entry(0x018D).unwrap().name, "Actual Speed");
    assert_eq!(ddi_entry(0x018D).unwrap().unit, "mm/s");
    assert_eq!(ddi_kind(0x018D), DdiKind::Standard);
    assert_eq!(ddi_kind(0xDFFE), DdiKind::PgnBased);
    assert_eq!(ddi_kind(0xE000), DdiKind::Proprietary);
    assert_eq!(ddi_kind(0xEA60), DdiKind::Proprietary);
    assert_eq!(ddi_kind(0xFFFE), DdiKind::Proprietary);
    assert_eq!(ddi_kind(0xFFFF), DdiKind::Reserved);
    assert!(
        ddi_entry(0xE000).is_none(),
        "the 57344 row stands for the range and is not a DDI"
    );
    assert_eq!(ddi_kind(0xD000), DdiKind::Unknown);
    assert_eq!(
        scale_raw(0xEA60, 5),
        None,
        "proprietary values are never multiplied by 0"
    );
    assert_eq!(scale_raw(0x0001, 250), Some(2.5));
}

#[test]
fn presentation_wins_over_dictionary() {
    let p = ValuePresentation {
        offset: 0,
        scale: 0.0001,
        decimals: 2,
        unit: Some("ha".into()),
    };
    let v = present(0x0074, 123_456, Some(&p));
    assert_eq!(v.source, ValueSource::Presentation);
    assert_eq!(v.to_string(), "12.35 ha");
    let d = present(0x0001, 250, None);
    assert_eq!(d.source, ValueSource::Dictionary);
    assert_eq!(d.value, 2.5);
    assert_eq!(d.unit.as_deref(), Some("mm³/m²"));
    let r = present(0xE123, 7, None);
    assert_eq!(r.source, ValueSource::Raw);
    assert_eq!(r.to_string(), "7");
}
