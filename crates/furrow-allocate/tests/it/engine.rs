use std::sync::Arc;

use arrow_array::{ArrayRef, BinaryArray, Float64Array, RecordBatch, StructArray};
use arrow_schema::{DataType, Field as ArrowField, Fields};
use furrow_allocate::synthetic::{self, Layout, Rng};
use furrow_allocate::{AllocateOptions, Field, FieldIndex, OUTSIDE, allocate, allocate_xy};
use geo::Contains;
use geo_types::{MultiPolygon, Point, polygon};

/// The oracle: lowest-index field whose (oriented) boundary contains the point, by geo's predicate.
fn oracle(fields: &[MultiPolygon<f64>], x: f64, y: f64) -> u32 {
    use geo::BoundingRect;
    let p = Point::new(x, y);
    fields
        .iter()
        .position(|f| {
            f.bounding_rect().is_some_and(|r| {
                r.min().x <= x && x <= r.max().x && r.min().y <= y && y <= r.max().y
            }) && f.0.iter().any(|poly| poly.contains(&p))
        })
        .map_or(OUTSIDE, |i| i as u32)
}

#[test]
fn synthetic_fields_match_the_oracle_point_for_point() {
    let layout = Layout::new(64);
    let fields = synthetic::fields(&layout, 7);
    let oriented: Vec<MultiPolygon<f64>> = fields
        .iter()
        .map(|f| furrow_allocate::orient(&f.boundary))
        .collect();
    let index = FieldIndex::build(fields).unwrap();
    assert_eq!(index.len(), 64);
    let (xs, ys) = synthetic::track(&layout, 20_000, 7);
    // Plus random points over the extent, not time-ordered (defeats the cache).
    let e = layout.extent();
    let mut rng = Rng::new(99);
    let (mut rx, mut ry): (Vec<f64>, Vec<f64>) = (xs.clone(), ys.clone());
    for _ in 0..10_000 {
        rx.push(e[0] - 0.001 + rng.f64() * (e[2] - e[0] + 0.002));
        ry.push(e[1] - 0.001 + rng.f64() * (e[3] - e[1] + 0.002));
    }
    for parallel in [false, true] {
        let a = allocate_xy(&index, &rx, &ry, AllocateOptions { parallel }).unwrap();
        let mut inside = 0;
        let mut in_holes_checked = 0;
        for i in 0..rx.len() {
            let want = oracle(&oriented, rx[i], ry[i]);
            assert_eq!(a.field[i], want, "point {i} ({}, {})", rx[i], ry[i]);
            inside += usize::from(want != OUTSIDE);
            // Points in the bbox of a holed field but outside it: the hole case.
            if want == OUTSIDE && index.locate(rx[i], ry[i]).is_none() {
                in_holes_checked += 1;
            }
        }
        assert!(
            inside > 5_000 && inside < rx.len() - 5_000,
            "a real mix: {inside} inside"
        );
        assert!(in_holes_checked > 0);
        assert_eq!(a.counts.iter().sum::<u64>() + a.outside, rx.len() as u64);
        assert_eq!(a.ties, 0);
    }
}

#[test]
fn holes_wound_like_their_shell_are_still_holes() {
    // geo 0.33.1's interval-tree containment gets this wrong without orientation; the engine must not.
    let outer = vec![
        (0.0, 0.0),
        (10.0, 0.0),
        (10.0, 10.0),
        (0.0, 10.0),
        (0.0, 0.0),
    ];
    let hole_ccw = vec![(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0), (4.0, 4.0)];
    let poly = geo_types::Polygon::new(outer.into(), vec![hole_ccw.into()]);
    for fix in [true, false] {
        let index = FieldIndex::build_with(
            [Field {
                id: "f".into(),
                boundary: MultiPolygon(vec![poly.clone()]),
            }],
            furrow_allocate::BuildOptions {
                automatic_fix_boundary: fix,
            },
        )
        .unwrap();
        let a = allocate_xy(
            &index,
            &[5.0, 2.0, 11.0],
            &[5.0, 2.0, 5.0],
            AllocateOptions::default(),
        )
        .unwrap();
        assert_eq!(a.field, [OUTSIDE, 0, OUTSIDE], "fix {fix}");
    }
}

#[test]
fn adjacent_fields_share_edge_points_exactly_once_and_overlaps_go_to_the_lowest_index() {
    let left = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
    let right = polygon![(x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0)];
    let index = FieldIndex::build([
        Field {
            id: "left".into(),
            boundary: MultiPolygon(vec![left]),
        },
        Field {
            id: "right".into(),
            boundary: MultiPolygon(vec![right]),
        },
    ])
    .unwrap();
    let ys: Vec<f64> = (0..100).map(|i| 0.005 + i as f64 / 100.0).collect();
    let xs = vec![1.0; ys.len()];
    let a = allocate_xy(&index, &xs, &ys, AllocateOptions::default()).unwrap();
    assert!(
        a.field.iter().all(|&f| f != OUTSIDE),
        "each point on the shared edge is in one field"
    );
    assert_eq!(a.counts.iter().sum::<u64>(), 100);
    assert_eq!(a.ties, 0);

    // Overlapping fields: the second (index 1) is listed first in no way; the lowest index wins.
    let big = polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 0.0, y: 4.0)];
    let small = polygon![(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0)];
    for (order, expect_inner) in [(["small", "big"], 0u32), (["big", "small"], 0u32)] {
        let fields: Vec<Field> = order
            .iter()
            .map(|n| Field {
                id: n.to_string(),
                boundary: MultiPolygon(vec![if *n == "big" {
                    big.clone()
                } else {
                    small.clone()
                }]),
            })
            .collect();
        let index = FieldIndex::build(fields).unwrap();
        // Time-ordered: start in the big field (cache = big), walk into the small one.
        let xs = [3.5, 3.0, 1.5, 1.5, 3.5];
        let ys = [3.5, 3.0, 1.5, 1.6, 0.5];
        let a = allocate_xy(&index, &xs, &ys, AllocateOptions::default()).unwrap();
        let big_idx = order.iter().position(|n| *n == "big").unwrap() as u32;
        assert_eq!(a.field[0], big_idx);
        assert_eq!(
            a.field[2], expect_inner,
            "{order:?}: lowest index of the two"
        );
        assert_eq!(a.field[3], expect_inner);
        assert_eq!(a.ties, 2, "{order:?}");
    }
}

#[test]
fn record_batches_with_xy_native_or_wkb_points() {
    let sq = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
    let index = FieldIndex::build([Field {
        id: "sq".into(),
        boundary: MultiPolygon(vec![sq]),
    }])
    .unwrap();
    let xs = Float64Array::from(vec![Some(0.5), Some(1.5), None]);
    let ys = Float64Array::from(vec![0.5, 0.5, 0.5]);

    let flat = RecordBatch::try_from_iter([
        ("x", Arc::new(xs.clone()) as ArrayRef),
        ("y", Arc::new(ys.clone()) as ArrayRef),
    ])
    .unwrap();
    assert_eq!(
        allocate(&index, &flat).unwrap().field,
        [0, OUTSIDE, OUTSIDE]
    );

    let fields = Fields::from(vec![
        ArrowField::new("x", DataType::Float64, true),
        ArrowField::new("y", DataType::Float64, true),
    ]);
    let native = StructArray::new(
        fields,
        vec![Arc::new(xs) as ArrayRef, Arc::new(ys) as ArrayRef],
        None,
    );
    let batch = RecordBatch::try_from_iter([("geometry", Arc::new(native) as ArrayRef)]).unwrap();
    assert_eq!(
        allocate(&index, &batch).unwrap().field,
        [0, OUTSIDE, OUTSIDE]
    );

    let wkb = |x: f64, y: f64, little: bool| -> Vec<u8> {
        let mut v = vec![u8::from(little)];
        if little {
            v.extend(1u32.to_le_bytes());
            v.extend(x.to_le_bytes());
            v.extend(y.to_le_bytes());
        } else {
            v.extend(1u32.to_be_bytes());
            v.extend(x.to_be_bytes());
            v.extend(y.to_be_bytes());
        }
        v
    };
    let a = wkb(0.25, 0.75, true);
    let b = wkb(0.75, 0.25, false);
    let line = {
        let mut v = vec![1u8];
        v.extend(2u32.to_le_bytes());
        v
    };
    let arr = BinaryArray::from(vec![
        Some(a.as_slice()),
        Some(b.as_slice()),
        None,
        Some(&line[..]),
        Some(&[1u8, 1][..]),
    ]);
    let batch = RecordBatch::try_from_iter([("geometry", Arc::new(arr) as ArrayRef)]).unwrap();
    let alloc = allocate(&index, &batch).unwrap();
    assert_eq!(alloc.field, [0, 0, OUTSIDE, OUTSIDE, OUTSIDE]);
    assert_eq!(alloc.to_arrow().null_count(), 3);

    let none = RecordBatch::try_from_iter([(
        "speed",
        Arc::new(Float64Array::from(vec![1.0])) as ArrayRef,
    )])
    .unwrap();
    assert!(allocate(&index, &none).is_err());
}

#[test]
fn empty_and_degenerate_inputs_do_not_panic() {
    let index = FieldIndex::build(Vec::new()).unwrap();
    let a = allocate_xy(
        &index,
        &[0.0, f64::NAN],
        &[0.0, f64::INFINITY],
        AllocateOptions::default(),
    )
    .unwrap();
    assert_eq!(a.field, [OUTSIDE, OUTSIDE]);
    assert!(allocate_xy(&index, &[0.0], &[], AllocateOptions::default()).is_err());
}

use arrow_array::Array;
