use super::*;

#[test]
fn mapping_factors_contain_the_dictionary_resolution() {
    // factor = resolution × (dictionary unit → METRIC output unit); check each unit pair once
    let to_metric = |from: &str, to: &str| -> Option<f64> {
        Some(match (from, to) {
            ("mm³/m²", "L/ha") => 1e-6 * 1e4,
            ("mg/m²", "kg/ha") => 1e-6 * 1e4,
            ("/m²", "seeds/ha") => 1e4,
            ("mm", "cm") => 0.1,
            ("mm", "m") => 1e-3,
            ("ml/m²", "m3/ha") => 1e-6 * 1e4,
            ("mg/m²", "t/ha") => 1e-9 * 1e4,
            ("mg/s", "kg/s") => 1e-6,
            ("ppm", "%") | ("ppm", "percentage") => 1e-4,
            ("mm/s", "m/s") => 1e-3,
            ("ml", "L") => 1e-3,
            ("mm³/s", "L/s") => 1e-6,
            ("N", "kgf") => 1.0 / 9.806_65,
            (_, "") => 1.0,
            _ => return None,
        })
    };
    assert!(DDI_MAPPINGS.len() >= 40);
    for m in DDI_MAPPINGS {
        let e = furrow_isoxml::ddi_entry(m.ddi)
            .unwrap_or_else(|| panic!("{:04X} in dictionary", m.ddi));
        let conv = to_metric(e.unit, m.unit)
            .unwrap_or_else(|| panic!("{:04X}: {} → {}", m.ddi, e.unit, m.unit));
        let want = e.resolution * conv;
        assert!(
            (m.factor - want).abs() <= want.abs() * 1e-12,
            "{:04X} {}: factor {} want {}",
            m.ddi,
            e.name,
            m.factor,
            want
        );
    }
    // each DDI once
    let mut ddis: Vec<u16> = DDI_MAPPINGS.iter().map(|m| m.ddi).collect();
    ddis.sort_unstable();
    ddis.dedup();
    assert_eq!(ddis.len(), DDI_MAPPINGS.len());
}

#[test]
fn device_class_comes_from_the_name() {
    assert_eq!(device_class("A00E84000DF0E439"), Some(7));
    assert_eq!(device_class("A00C840018800000"), Some(6));
    assert_eq!(device_class("A00880000B2054DE"), Some(4));
    assert_eq!(device_class("2002FF001CE804B6"), Some(1));
    assert_eq!(device_class("xyz"), None);
    assert_eq!(class_operation(7), Some(OperationType::Harvested));
    assert_eq!(class_operation(1), None);
}

#[test]
fn default_cleanup_rules_are_leafs() {
    let leaf = serde_json::json!({
        "harvestMoisture": [{"operator": "GT", "value": 0.0}, {"operator": "LT", "value": 100.0}],
        "tillageDepthActual": [{"operator": "GTE", "value": 0.0}],
        "recordingStatus": [{"operator": "EQ", "value": "On"}],
        "appliedRate": [{"operator": "GT", "value": 0.0}],
        "wetVolume": [{"operator": "GT", "value": 0.0}],
        "wetVolumePerArea": [{"operator": "GT", "value": 0.0}],
        "wetMass": [{"operator": "GT", "value": 0.0}],
        "seedRate": [{"operator": "GT", "value": 0.0}],
        "wetMassPerArea": [{"operator": "GT", "value": 0.0}],
        "crop": [{"operator": "NE", "value": "unknown"}],
        "products": [{"operator": "GTE", "value": 0.0}]
    });
    assert_eq!(
        CleanupRules::from_json(&leaf).unwrap(),
        CleanupRules::default()
    );
    assert_eq!(serde_json::to_value(CleanupRules::default()).unwrap(), leaf);
    let bad = serde_json::json!({"wetMass": [{"operator": "GT", "value": "x"}]});
    assert!(
        CleanupRules::from_json(&bad)
            .unwrap()
            .compile(&crate::Units::default())
            .is_err()
    );
    let unknown = serde_json::json!({"nonsense": [{"operator": "GT", "value": 1}]});
    assert!(
        CleanupRules::from_json(&unknown)
            .unwrap()
            .compile(&crate::Units::default())
            .is_err()
    );
    let r = Rule {
        operator: Operator::Lt,
        value: serde_json::json!(100.0),
    };
    assert!(r.passes_number(99.9) && !r.passes_number(100.0));
}

#[test]
fn imperial_factors_match_leafs_units() {
    let u = Units {
        system: UnitSystem::Imperial,
        applied_rate: RateKind::Volume,
    };
    assert_eq!(u.unit(Property::Speed), Some("ft/s"));
    assert_eq!(u.unit(Property::AppliedRate), Some("gal/ac"));
    assert_eq!(u.unit(Property::WetVolume), Some("bu"));
    // 1 L/ha = 0.10691 gal/ac; 1 t/ha = 892.18 lb/ac; 1 m3 = 28.378 bu
    assert!((u.factor(Property::AppliedRate) - 0.106_907).abs() < 1e-5);
    assert!((u.factor(Property::WetMassPerArea) - 892.179).abs() < 1e-2);
    assert!((u.factor(Property::WetVolume) - 28.377_6).abs() < 1e-3);
    assert!((u.factor(Property::SeedRate) - 0.404_686).abs() < 1e-6);
    let schema = standard_schema(OperationType::Applied, &u);
    assert_eq!(
        schema.field_with_name("appliedRate").unwrap().metadata()["unit"],
        "gal/ac"
    );
    assert!(schema.field_with_name("products").is_ok());
    assert!(schema.field_with_name("wetMass").is_err());
    let doc = units_document(OperationType::Harvested, &Units::default());
    assert_eq!(doc["wetMassPerArea"], "t/ha");
    assert_eq!(doc["heading"], "arcdeg");
}

#[test]
fn coverage_of_a_straight_pass_is_about_width_times_length() {
    let mut c = Coverage::new();
    // 100 points 1 m apart heading north, 12 m wide, at 45°N
    let m_per_deg = 6_371_008.8 * std::f64::consts::PI / 180.0;
    for i in 0..100 {
        c.add(7.0, 45.0 + f64::from(i) / m_per_deg, 12.0, 0.0, 1.0);
    }
    let area = c.area_m2();
    assert!((900.0..1700.0).contains(&area), "area {area}");
    let mp = c.to_multipolygon();
    assert_eq!(mp.0.len(), 1);
}
