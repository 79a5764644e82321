use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use furrow_allocate::{
    AllocateOptions, Field, FieldIndex, FieldTouch, FileFacts, GroupingConfig, OperationGrouper,
    aggregate, allocate_xy,
};
use geo_types::{MultiPolygon, polygon};

const DAY: i64 = 86_400_000_000;

fn file(id: &str, ty: &str, start_day: i64, end_day: i64, fields: &[&str]) -> FileFacts {
    FileFacts {
        file_id: id.into(),
        provider: "JohnDeere".into(),
        operation_type: ty.into(),
        crop: Some("corn".into()),
        till_type: None,
        start: start_day * DAY,
        end: end_day * DAY,
        covered_m2: 10_000.0,
        fields: fields
            .iter()
            .map(|f| FieldTouch {
                field_id: f.to_string(),
                intersection_m2: 5_000.0,
                field_area_m2: 100_000.0,
            })
            .collect(),
    }
}

#[test]
fn files_chain_within_the_merge_window_per_field_type_and_crop() {
    let mut g = OperationGrouper::new(GroupingConfig::default());
    g.add(&file("a", "planted", 0, 1, &["f1"]));
    g.add(&file("b", "planted", 5, 6, &["f1"])); // 4 days after a ends: same operation
    g.add(&file("c", "planted", 12, 12, &["f1"])); // 6 days after b: new operation
    g.add(&file("d", "harvested", 0, 1, &["f1"]));
    g.add(&file("e", "harvested", 20, 21, &["f1"])); // 19 days: harvest window is 21
    g.add(&file("f", "planted", 0, 1, &["f2", "f1"])); // touches two fields
    let ops = g.operations();
    let files: Vec<Vec<&str>> = ops
        .iter()
        .map(|o| o.files.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(ops.len(), 4, "{files:?}");
    let find = |f: &str, field: &str| {
        ops.iter()
            .find(|o| o.files.contains(f) && o.field_id.as_deref() == Some(field))
            .unwrap()
    };
    assert_eq!(find("a", "f1").files.len(), 3, "a, b and f chain on f1");
    assert!(find("a", "f1").files.contains("b"));
    assert_eq!(find("c", "f1").files.len(), 1);
    assert_eq!(find("d", "f1").files.len(), 2);
    assert_eq!(find("f", "f2").files.len(), 1);
    assert_eq!(find("a", "f1").start_time, 0);
    assert_eq!(find("a", "f1").end_time, 6 * DAY);

    // Re-adding changes nothing; order of arrival does not matter.
    let before = g.operations();
    g.add(&file("b", "planted", 5, 6, &["f1"]));
    assert_eq!(g.operations(), before);
    let mut r = OperationGrouper::new(GroupingConfig::default());
    for f in ["f", "e", "c", "b", "a", "d"] {
        let ff = match f {
            "a" => file("a", "planted", 0, 1, &["f1"]),
            "b" => file("b", "planted", 5, 6, &["f1"]),
            "c" => file("c", "planted", 12, 12, &["f1"]),
            "d" => file("d", "harvested", 0, 1, &["f1"]),
            "e" => file("e", "harvested", 20, 21, &["f1"]),
            _ => file("f", "planted", 0, 1, &["f2", "f1"]),
        };
        r.add(&ff);
    }
    assert_eq!(r.operations(), before);
    assert!(before.iter().all(|o| o.id.len() == 36));
}

#[test]
fn attachment_threshold_and_splits() {
    let cfg = GroupingConfig {
        split_operations_by_provider: false,
        ..Default::default()
    };
    let mut g = OperationGrouper::new(cfg);
    let mut tiny = file("t", "applied", 0, 0, &["f1"]);
    tiny.covered_m2 = 1_000_000.0;
    tiny.fields[0].intersection_m2 = 5.0; // 0.005 % of the field, 0.0005 % of the file
    assert!(g.add(&tiny).is_empty());
    let mut other = file("o", "applied", 1, 1, &["f1"]);
    other.provider = "CLAAS".into();
    g.add(&file("j", "applied", 0, 0, &["f1"]));
    let ops = g.add(&other);
    assert_eq!(ops.len(), 1);
    assert_eq!(
        ops[0].providers.len(),
        2,
        "providers merged when not split by provider"
    );
    let mut split = OperationGrouper::new(GroupingConfig::default());
    split.add(&file("j", "applied", 0, 0, &["f1"]));
    split.add(&other);
    assert_eq!(split.operations().len(), 2);
}

/// Each grouping setting changes the grouping: the merge windows (`operationsMergeRange`,
/// `operationsMergeRangeHarvested`), `splitOperationsByTillType`, `splitOperationsByField` and
/// `fieldsAttachIntersection` (percent of the field or of the file's coverage).
#[test]
fn every_grouping_setting_changes_the_grouping() {
    let count = |cfg: GroupingConfig, files: &[FileFacts]| {
        let mut g = OperationGrouper::new(cfg);
        for f in files {
            g.add(f);
        }
        g.operations().len()
    };
    // Planting four days apart; harvest 19 days apart.
    let planted = [
        file("a", "planted", 0, 1, &["f1"]),
        file("b", "planted", 5, 6, &["f1"]),
    ];
    let harvested = [
        file("d", "harvested", 0, 1, &["f1"]),
        file("e", "harvested", 20, 21, &["f1"]),
    ];
    assert_eq!(count(GroupingConfig::default(), &planted), 1);
    let narrow = GroupingConfig {
        operations_merge_range: 3.0,
        ..Default::default()
    };
    assert_eq!(count(narrow.clone(), &planted), 2);
    assert_eq!(count(narrow, &harvested), 1, "harvest has its own window");
    assert_eq!(count(GroupingConfig::default(), &harvested), 1);
    let narrow_harvest = GroupingConfig {
        operations_merge_range_harvested: 10.0,
        ..Default::default()
    };
    assert_eq!(count(narrow_harvest.clone(), &harvested), 2);
    assert_eq!(count(narrow_harvest, &planted), 1);

    // Two tillage passes, chisel then disc, on one field the same day.
    let mut chisel = file("c1", "tillage", 0, 0, &["f1"]);
    chisel.till_type = Some("chisel".into());
    let mut disc = file("c2", "tillage", 0, 0, &["f1"]);
    disc.till_type = Some("disc".into());
    let tillage = [chisel, disc];
    assert_eq!(count(GroupingConfig::default(), &tillage), 1);
    let by_till = GroupingConfig {
        split_operations_by_till_type: true,
        ..Default::default()
    };
    assert_eq!(count(by_till, &tillage), 2);

    // One file over two fields.
    let two_fields = [file("t", "applied", 0, 0, &["f1", "f2"])];
    assert_eq!(count(GroupingConfig::default(), &two_fields), 2);
    let whole = GroupingConfig {
        split_operations_by_field: false,
        ..Default::default()
    };
    assert_eq!(count(whole, &two_fields), 1);

    // The file covers 5 % of the field and 50 % of its own coverage lies in it (the helper's figures).
    let touch = file("x", "applied", 0, 0, &["f1"]);
    let attaches = |percent: f64| {
        OperationGrouper::new(GroupingConfig {
            fields_attach_intersection: percent,
            ..Default::default()
        })
        .attaches(&touch, &touch.fields[0])
    };
    assert!(attaches(0.01));
    assert!(
        attaches(50.0),
        "half of the file's coverage is in the field"
    );
    assert!(!attaches(50.1));
    assert_eq!(
        count(
            GroupingConfig {
                fields_attach_intersection: 60.0,
                ..Default::default()
            },
            std::slice::from_ref(&touch)
        ),
        0,
        "below the threshold the file makes no operation on the field"
    );
}

#[test]
fn aggregates_are_area_weighted_and_grouped_by_crop() {
    let sq = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
    let sq2 = polygon![(x: 2.0, y: 0.0), (x: 3.0, y: 0.0), (x: 3.0, y: 1.0), (x: 2.0, y: 1.0)];
    let index = FieldIndex::build([
        Field {
            id: "a".into(),
            boundary: MultiPolygon(vec![sq]),
        },
        Field {
            id: "b".into(),
            boundary: MultiPolygon(vec![sq2]),
        },
    ])
    .unwrap();
    let xs = vec![0.5, 0.6, 0.7, 2.5, 9.0];
    let ys = vec![0.5; 5];
    let alloc = allocate_xy(&index, &xs, &ys, AllocateOptions::default()).unwrap();
    let batch = RecordBatch::try_from_iter([
        ("x", Arc::new(Float64Array::from(xs)) as ArrayRef),
        ("y", Arc::new(Float64Array::from(ys)) as ArrayRef),
        (
            "area",
            Arc::new(Float64Array::from(vec![1.0, 3.0, 0.0, 2.0, 5.0])) as ArrayRef,
        ),
        (
            "appliedRate",
            Arc::new(Float64Array::from(vec![
                Some(10.0),
                Some(20.0),
                None,
                Some(7.0),
                Some(1.0),
            ])) as ArrayRef,
        ),
        (
            "crop",
            Arc::new(StringArray::from(vec![
                "corn", "soy", "corn", "corn", "corn",
            ])) as ArrayRef,
        ),
    ])
    .unwrap();
    let aggs = aggregate(&index, &batch, &alloc).unwrap();
    assert_eq!(aggs.len(), 2);
    let a = &aggs[0];
    assert_eq!(a.field_id, "a");
    assert_eq!(a.all.points, 3);
    let rate = &a.all.properties["appliedRate"];
    assert_eq!(
        (rate.count, rate.min, rate.max, rate.sum),
        (2, 10.0, 20.0, 30.0)
    );
    assert!(
        (rate.average - 17.5).abs() < 1e-12,
        "area-weighted: (10×1 + 20×3) / 4"
    );
    assert_eq!(rate.total, Some(70.0));
    assert_eq!(a.all.properties["area"].sum, 4.0);
    assert_eq!(a.groups["crop=corn"].points, 2);
    assert_eq!(a.groups["crop=soy"].properties["appliedRate"].average, 20.0);
    assert!(
        !a.all.properties.contains_key("x"),
        "positions are not aggregated"
    );
    assert_eq!(aggs[1].all.properties["appliedRate"].average, 7.0);
    let json = serde_json::to_value(&aggs[0]).unwrap();
    assert_eq!(json["fieldId"], "a");
    assert_eq!(json["properties"]["appliedRate"]["average"], 17.5);
}
