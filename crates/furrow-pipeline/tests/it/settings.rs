//! Configuration keys the conversion and the operation build read.

use furrow_pipeline::{
    Encoding, Limits, OperationInput, OperationView, Settings, build_operation, detect,
    missing_required, open, write_operation,
};

use crate::sample;

#[path = "../../../../benches/md_synth.rs"]
#[allow(dead_code)]
mod md_synth;

fn first_unit(path: &std::path::Path) -> (furrow_pipeline::Opened, furrow_pipeline::Unit) {
    let scratch = tempfile::tempdir().unwrap();
    let found = detect(path, scratch.path(), &Limits::default()).unwrap();
    let opened = open(&found.datasets[0]).unwrap();
    let unit = opened
        .units()
        .into_iter()
        .find(|u| u.refusal().is_none())
        .unwrap();
    (opened, unit)
}

#[test]
fn original_operation_data_is_in_the_summary_when_on() {
    let (opened, unit) = first_unit(&sample("isoxml/isoxml-dotnet/AFE.zip"));
    let dir = tempfile::tempdir().unwrap();
    let on = opened
        .convert(&unit, &Settings::default(), dir.path())
        .unwrap();
    let data = &on.summary["properties"]["originalOperationData"];
    assert!(data.is_object(), "{}", on.summary["properties"]);
    assert_eq!(
        data["originalOperationType"],
        on.summary["properties"]["originalOperationType"]
    );
    assert!(data["originalOperationTask"].is_string());
    let off = opened
        .convert(
            &unit,
            &Settings {
                original_operation_data: false,
                ..Settings::default()
            },
            dir.path(),
        )
        .unwrap();
    assert!(
        off.summary["properties"]
            .get("originalOperationData")
            .is_none()
    );
}

#[test]
fn planted_files_need_a_crop_and_a_seed_rate_unless_optional() {
    // AFE.zip's planting log logs a seed rate but names no crop.
    let (opened, unit) = first_unit(&sample("isoxml/isoxml-dotnet/AFE.zip"));
    let dir = tempfile::tempdir().unwrap();
    let c = opened
        .convert(&unit, &Settings::default(), dir.path())
        .unwrap();
    assert_eq!(c.operation_type.to_string(), "planted");
    assert_eq!(missing_required(&c, &Settings::default()), ["crop"]);
    let mut cfg = furrow_model::config_defaults();
    cfg.insert(
        "cropOptional".into(),
        serde_json::json!({"standardGeoJson": {"planted": {"crop": "optional"}}}),
    );
    assert!(missing_required(&c, &Settings::from_config(&cfg)).is_empty());
    // A summary without a seed rate misses it too, unless seedRateOptional says optional.
    let mut no_rate = c.clone();
    no_rate.summary["properties"]
        .as_object_mut()
        .unwrap()
        .remove("seedRate");
    assert_eq!(
        missing_required(&no_rate, &Settings::from_config(&cfg)),
        ["seedRate"]
    );
    cfg.insert(
        "seedRateOptional".into(),
        serde_json::json!({"standardGeoJson": {"planted": {"seedRate": "optional"}}}),
    );
    assert!(missing_required(&no_rate, &Settings::from_config(&cfg)).is_empty());
}

#[test]
fn harvest_outliers_follow_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let td = dir.path().join("TASKDATA");
    md_synth::write_taskdata(&td, 200_000).unwrap();
    let (opened, unit) = first_unit(&td);
    let out = tempfile::tempdir().unwrap();
    let c = opened
        .convert(&unit, &Settings::default(), out.path())
        .unwrap();
    assert_eq!(c.operation_type.to_string(), "harvested");
    let build = |remove: bool, limit: f64| {
        let settings = Settings {
            remove_outliers: remove,
            outliers_limit: limit,
            ..Settings::default()
        };
        let input = OperationInput::new(
            "harvested",
            vec![(c.parquet.clone(), Some(c.summary.clone()))],
            None,
            &settings,
        );
        let built = build_operation(&input).unwrap();
        let mut sink = Vec::new();
        let n = write_operation(
            &input,
            &built.filter,
            OperationView::Filtered,
            Encoding::GeoJson,
            &mut sink,
        )
        .unwrap();
        let counts = &built.summary["properties"]["pointCounts"];
        assert_eq!(counts["filtered"].as_u64(), Some(n));
        (n, counts["outliers"].as_u64().unwrap(), built.points)
    };
    let (kept_off, outliers_off, points) = build(false, 3.0);
    assert_eq!(outliers_off, 0);
    assert_eq!(kept_off, points, "every synthetic point is fast enough");
    let (kept_wide, _, _) = build(true, 3.0);
    let (kept_narrow, outliers_narrow, _) = build(true, 0.1);
    assert!(kept_narrow < kept_wide, "{kept_narrow} vs {kept_wide}");
    assert_eq!(kept_narrow + outliers_narrow, points);
}
