use furrow_machine_data::{ConvertOptions, OutputFormat, UnitSystem, WriteOptions, write_plans};
use furrow_pipeline::{Limits, Settings, UnitChoice, View, detect, open, write_geojson};

use crate::sample;

#[test]
fn every_task_converts_once_with_the_counts_of_a_direct_conversion() {
    let path = sample("isoxml/isoxml-dotnet/ValidTimeLogs.zip");
    let scratch = tempfile::tempdir().unwrap();
    let found = detect(&path, scratch.path(), &Limits::default()).unwrap();
    let opened = open(&found.datasets[0]).unwrap();
    let td = furrow_isoxml::TaskData::open(&path).unwrap();
    let plans = furrow_machine_data::plan(&td, &ConvertOptions::default());
    let mut converted = 0;
    for unit in opened.units().iter().filter(|u| u.refusal().is_none()) {
        let out = tempfile::tempdir().unwrap();
        let c = opened
            .convert(unit, &Settings::default(), out.path())
            .unwrap();
        // The same plan written directly by furrow-machine-data (what `furrow convert` does).
        let plan = plans
            .iter()
            .find(|p| {
                unit.key
                    .ends_with(&format!("/{}/{}", p.task_id, p.operation_type))
            })
            .unwrap();
        let direct = write_plans(
            &td,
            &[plan],
            &ConvertOptions::default(),
            &out.path().join("direct.parquet"),
            &WriteOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(c.counts, direct.outcomes[0].counts, "{}", unit.key);
        assert_eq!(c.operation_type, plan.operation_type);
        let rows = furrow_geoparquet::read_geoparquet(&c.parquet)
            .unwrap()
            .num_rows();
        assert_eq!(rows as u64, c.counts.written);
        converted += 1;
    }
    assert_eq!(converted, 19);
}

#[test]
fn geojson_on_request_is_byte_for_byte_the_converters_geojson() {
    let path = sample("isoxml/isoxml-dotnet/AFE.zip");
    let scratch = tempfile::tempdir().unwrap();
    let found = detect(&path, scratch.path(), &Limits::default()).unwrap();
    let opened = open(&found.datasets[0]).unwrap();
    let td = furrow_isoxml::TaskData::open(&path).unwrap();
    let plans = furrow_machine_data::plan(&td, &ConvertOptions::default());
    let mut compared = 0;
    for unit in opened.units().iter().filter(|u| u.refusal().is_none()) {
        let out = tempfile::tempdir().unwrap();
        let c = opened
            .convert(unit, &Settings::default(), out.path())
            .unwrap();
        let mut on_request = Vec::new();
        let n = write_geojson(&c.parquet, View::Points, &mut on_request).unwrap();
        assert_eq!(n, c.counts.written);
        let plan = plans
            .iter()
            .find(|p| {
                unit.key
                    .ends_with(&format!("/{}/{}", p.task_id, p.operation_type))
            })
            .unwrap();
        let eager = out.path().join("eager.geojson");
        write_plans(
            &td,
            &[plan],
            &ConvertOptions::default(),
            &eager,
            &WriteOptions {
                format: OutputFormat::GeoJson,
                ..WriteOptions::default()
            },
            &mut |_| {},
        )
        .unwrap();
        let eager = std::fs::read(&eager).unwrap();
        assert!(n > 0);
        assert!(on_request == eager, "{}: GeoJSON differs", unit.key);
        compared += 1;
    }
    // AFE.zip's three time logs belong to one task with one operation type.
    assert_eq!(plans.len(), 1);
    assert_eq!(compared, plans.len());
}

#[test]
fn imperial_users_get_imperial_units_and_converted_values() {
    let path = sample("isoxml/isoxml-dotnet/AFE.zip");
    let scratch = tempfile::tempdir().unwrap();
    let found = detect(&path, scratch.path(), &Limits::default()).unwrap();
    let opened = open(&found.datasets[0]).unwrap();
    let unit = opened
        .units()
        .into_iter()
        .find(|u| u.refusal().is_none())
        .unwrap();
    let metric_dir = tempfile::tempdir().unwrap();
    let imperial_dir = tempfile::tempdir().unwrap();
    let metric = opened
        .convert(&unit, &Settings::default(), metric_dir.path())
        .unwrap();
    let imperial_settings = Settings {
        unit_measurement: UnitChoice::System(UnitSystem::Imperial),
        ..Settings::default()
    };
    let imperial = opened
        .convert(&unit, &imperial_settings, imperial_dir.path())
        .unwrap();
    assert_eq!(metric.units["distance"], "m");
    assert_eq!(imperial.units["distance"], "ft");
    assert_eq!(imperial.units["speed"], "ft/s");
    let m = furrow_geoparquet::read_geoparquet(&metric.parquet).unwrap();
    let i = furrow_geoparquet::read_geoparquet(&imperial.parquet).unwrap();
    let col = |f: &furrow_geoparquet::GeoParquetFile, name: &str| -> Vec<Option<f64>> {
        use arrow_array::Array;
        f.batches
            .iter()
            .flat_map(|b| {
                let c = b
                    .column_by_name(name)
                    .unwrap()
                    .as_any()
                    .downcast_ref::<arrow_array::Float64Array>()
                    .unwrap()
                    .clone();
                (0..c.len())
                    .map(move |r| c.is_valid(r).then(|| c.value(r)))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (dm, di) = (col(&m, "distance"), col(&i, "distance"));
    assert_eq!(dm.len(), di.len());
    // Checked by hand: one foot is 0.3048 m exactly, so a distance in feet is the metres divided by 0.3048.
    let (k, metres) = dm
        .iter()
        .enumerate()
        .find_map(|(k, v)| v.filter(|v| *v > 0.5).map(|v| (k, v)))
        .unwrap();
    let feet = di[k].unwrap();
    assert!(
        (feet - metres / 0.3048).abs() < 1e-9 * feet.max(1.0),
        "{metres} m vs {feet} ft"
    );
    // The Parquet field metadata carries the unit too.
    let field = i.schema.field_with_name("distance").unwrap();
    assert_eq!(field.metadata().get("unit").map(String::as_str), Some("ft"));
    // Area totals in acres in the summary.
    assert_eq!(imperial.summary["properties"]["totalArea"]["unit"], "ac");
}

#[test]
fn cleanup_can_be_turned_off_and_rules_replaced() {
    let path = sample("isoxml/isoxml-dotnet/AFE.zip");
    let scratch = tempfile::tempdir().unwrap();
    let found = detect(&path, scratch.path(), &Limits::default()).unwrap();
    let opened = open(&found.datasets[0]).unwrap();
    let unit = opened
        .units()
        .into_iter()
        .find(|u| u.refusal().is_none())
        .unwrap();
    let run = |s: &Settings| {
        let d = tempfile::tempdir().unwrap();
        opened.convert(&unit, s, d.path()).unwrap().counts
    };
    let cleaned = run(&Settings::default());
    let raw = run(&Settings {
        cleanup: false,
        ..Settings::default()
    });
    assert!(raw.written > cleaned.written, "{raw:?} vs {cleaned:?}");
    assert_eq!(raw.written, raw.raw - raw.invalid_position);
    // A rule no point passes empties the standard view.
    let mut cfg = furrow_model::config_defaults();
    cfg.insert(
        "cleanupRules".into(),
        serde_json::json!({"recordingStatus": [{"operator": "EQ", "value": "Nowhere"}]}),
    );
    let strict = run(&Settings::from_config(&cfg));
    assert_eq!(strict.written, 0);
}
