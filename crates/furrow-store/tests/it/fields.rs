use furrow_model::{Page, UserInput};
use furrow_store::testing::TestDb;
use furrow_store::{
    BoundaryGeometry, BoundaryStatus, Change, Error, FarmFilter, FieldFilter, FieldPatch, NewField,
    ProviderFieldInput, ProviderGroupInput,
};
use serde_json::{Value, json};

on_both_backends!(
    geometry_checks_name_the_problem,
    fields_crud_filters_and_boundary_history,
    growers_and_farms_have_integer_ids,
    fields_are_scoped_to_their_owner_and_user,
    provider_upsert_creates_updates_and_keeps_history,
    deleting_a_user_removes_fields_farms_and_growers,
);

fn square(x: f64, y: f64, side: f64) -> Value {
    json!({"type": "MultiPolygon", "coordinates": [[[[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]]]})
}

fn checked(v: &Value) -> BoundaryGeometry {
    BoundaryGeometry::from_geojson(v)
}

async fn user(db: &TestDb, owner: &str, name: &str) -> String {
    db.store
        .create_user(
            owner,
            &UserInput {
                name: Some(name.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id
}

async fn geometry_checks_name_the_problem(_db: &TestDb) {
    // About 1.1 km x 1.1 km near the equator: ~123 ha.
    let ok = checked(&square(10.0, 0.0, 0.01));
    assert!(ok.is_valid() && !ok.fixed, "{ok:?}");
    assert!((ok.area_ha - 123.1).abs() < 0.5, "{}", ok.area_ha);

    let poly =
        checked(&json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}));
    assert_eq!(
        poly.report.validity.to_string(),
        "NOT_ALLOWED_GEOMETRY_TYPE"
    );
    assert!(
        poly.report.message.contains("Polygon"),
        "{}",
        poly.report.message
    );

    let bowtie = checked(
        &json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]]}),
    );
    assert_eq!(bowtie.report.validity.to_string(), "RING_SELF_INTERSECTION");
    assert!(
        bowtie.report.message.contains("polygon 0 ring 0"),
        "{}",
        bowtie.report.message
    );

    let bad_coord = checked(
        &json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [200, 0], [1, 1], [0, 0]]]]}),
    );
    assert_eq!(bad_coord.report.validity.to_string(), "INVALID_COORDINATE");
    assert!(
        bad_coord.report.message.contains("vertex 1"),
        "{}",
        bad_coord.report.message
    );

    let not_number = checked(
        &json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], ["a", 0], [1, 1], [0, 0]]]]}),
    );
    assert_eq!(not_number.report.validity.to_string(), "INVALID_COORDINATE");

    // Open ring, repeated point and clockwise orientation are repaired.
    let open = checked(
        &json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [0, 1], [1, 1], [1, 1], [1, 0]]]]}),
    );
    assert!(open.is_valid() && open.fixed, "{open:?}");
    assert_eq!(
        open.repaired
            .as_ref()
            .map(|r| r.validity.to_string())
            .as_deref(),
        Some("RING_NOT_CLOSED")
    );
    assert!(ok.repaired.is_none());
    let ring = &open.geometry.0[0].exterior().0;
    assert_eq!(ring.len(), 5);
    assert_eq!(ring.first(), ring.last());

    let too_few =
        checked(&json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [0, 0]]]]}));
    assert_eq!(too_few.report.validity.to_string(), "TOO_FEW_POINTS");

    let flat = checked(
        &json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [2, 0], [0, 0]]]]}),
    );
    assert!(!flat.is_valid(), "{flat:?}");
}

async fn fields_crud_filters_and_boundary_history(db: &TestDb) {
    let s = &db.store;
    let o = s.create_owner("o@example.com", "pw").await.unwrap();
    let u = user(db, &o.id, "u").await;
    let farm = s.create_farm(&o.id, &u, Some("North"), None).await.unwrap();

    let a = s
        .create_field(
            &o.id,
            &u,
            &NewField {
                id: Some("idTest".into()),
                name: Some("Back 40".into()),
                farm_id: Some(farm.id),
            },
            &checked(&square(0.0, 0.0, 0.01)),
        )
        .await
        .unwrap();
    assert_eq!(a.id, "idTest");
    assert_eq!(
        (a.field_type.as_str(), a.status.as_str()),
        ("ORIGINAL", "PROCESSED")
    );
    assert_eq!(a.boundary_ids.len(), 1);
    let active = a.active_boundary.clone().unwrap();
    assert_eq!(active.status, BoundaryStatus::Active);
    assert_eq!(active.validity, "VALID");
    assert!(active.area_ha > 100.0);

    assert!(matches!(
        s.create_field(
            &o.id,
            &u,
            &NewField {
                id: Some("idTest".into()),
                ..Default::default()
            },
            &checked(&square(1.0, 1.0, 0.01))
        )
        .await,
        Err(Error::AlreadyExists("field"))
    ));
    assert!(matches!(
        s.create_field(
            &o.id,
            &u,
            &NewField {
                farm_id: Some(9999),
                ..Default::default()
            },
            &checked(&square(1.0, 1.0, 0.01))
        )
        .await,
        Err(Error::NotFound("farm"))
    ));
    let b = s
        .create_field(
            &o.id,
            &u,
            &NewField::default(),
            &checked(&square(1.0, 1.0, 0.01)),
        )
        .await
        .unwrap();
    assert_eq!(b.id.len(), 36);

    let (all, total) = s
        .list_fields(&o.id, &FieldFilter::default(), Page::new(0, 20).unwrap())
        .await
        .unwrap();
    assert_eq!((total, all.len()), (2, 2));
    assert_eq!(all[0].id, "idTest");
    let by_farm = FieldFilter {
        farm_id: Some(farm.id),
        ..Default::default()
    };
    let (f, total) = s
        .list_fields(&o.id, &by_farm, Page::new(0, 20).unwrap())
        .await
        .unwrap();
    assert_eq!((total, f[0].id.as_str()), (1, "idTest"));
    let manual = FieldFilter {
        provider: Some("Leaf".into()),
        ..Default::default()
    };
    assert_eq!(
        s.list_fields(&o.id, &manual, Page::new(0, 1).unwrap())
            .await
            .unwrap()
            .1,
        2
    );
    let jd = FieldFilter {
        provider: Some("JohnDeere".into()),
        ..Default::default()
    };
    assert_eq!(
        s.list_fields(&o.id, &jd, Page::new(0, 1).unwrap())
            .await
            .unwrap()
            .1,
        0
    );
    let (page1, _) = s
        .list_fields(&o.id, &FieldFilter::default(), Page::new(1, 1).unwrap())
        .await
        .unwrap();
    assert_eq!(page1[0].id, b.id);

    // Replacing the boundary keeps the old one as INACTIVE.
    let new = s
        .replace_boundary(&o.id, &u, "idTest", &checked(&square(0.0, 0.0, 0.02)))
        .await
        .unwrap();
    assert_eq!(new.status, BoundaryStatus::Active);
    let history = s.list_boundaries(&o.id, &u, "idTest").await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].id, active.id);
    assert_eq!(history[0].status, BoundaryStatus::Inactive);
    assert_eq!(
        history[0].geometry, active.geometry,
        "history is not rewritten"
    );
    assert_eq!(
        s.active_boundary(&o.id, &u, "idTest").await.unwrap().id,
        new.id
    );
    assert!((new.area_ha / active.area_ha - 4.0).abs() < 0.01);

    // PATCH: name cleared, farm kept, geometry replaced.
    let patched = s
        .update_field(
            &o.id,
            &u,
            "idTest",
            &FieldPatch {
                name: Some(None),
                farm_id: None,
            },
            Some(&checked(&square(0.0, 0.0, 0.03))),
        )
        .await
        .unwrap();
    assert_eq!(
        (patched.name.clone(), patched.farm_id),
        (None, Some(farm.id))
    );
    assert_eq!(patched.boundary_ids.len(), 3);
    assert_eq!(
        s.get_farm(&o.id, &u, farm.id).await.unwrap().field_ids,
        ["idTest"]
    );

    let bbox_hits = s
        .active_boundaries_in_bbox(&o.id, &u, [0.025, 0.025, 0.5, 0.5])
        .await
        .unwrap();
    assert_eq!(
        bbox_hits
            .iter()
            .map(|b| b.field_id.as_str())
            .collect::<Vec<_>>(),
        ["idTest"]
    );

    s.delete_field(&o.id, &u, "idTest").await.unwrap();
    assert!(matches!(
        s.get_field(&o.id, &u, "idTest").await,
        Err(Error::NotFound("field"))
    ));
    assert!(matches!(
        s.list_boundaries(&o.id, &u, "idTest").await,
        Err(Error::NotFound("field"))
    ));
    assert!(matches!(
        s.delete_field(&o.id, &u, "idTest").await,
        Err(Error::NotFound("field"))
    ));
}

async fn growers_and_farms_have_integer_ids(db: &TestDb) {
    let s = &db.store;
    let o = s.create_owner("o@example.com", "pw").await.unwrap();
    let u = user(db, &o.id, "u").await;
    let g1 = s.create_grower(&o.id, &u, Some("Ann")).await.unwrap();
    let g2 = s.create_grower(&o.id, &u, Some("Bob")).await.unwrap();
    assert_eq!(g2.id, g1.id + 1);
    let f1 = s
        .create_farm(&o.id, &u, Some("North"), Some(g1.id))
        .await
        .unwrap();
    let f2 = s
        .create_farm(&o.id, &u, Some("South"), Some(g1.id))
        .await
        .unwrap();
    assert_eq!(f2.id, f1.id + 1);
    assert_eq!(
        s.get_grower(&o.id, &u, g1.id).await.unwrap().farm_ids,
        [f1.id, f2.id]
    );
    assert!(matches!(
        s.create_farm(&o.id, &u, None, Some(g2.id + 100)).await,
        Err(Error::NotFound("grower"))
    ));

    let moved = s
        .update_farm(&o.id, &u, f2.id, Some("South 2"), Some(g2.id))
        .await
        .unwrap();
    assert_eq!(
        (moved.name.as_deref(), moved.grower_id),
        (Some("South 2"), Some(g2.id))
    );
    let renamed = s
        .update_grower(&o.id, &u, g2.id, Some("Bobby"))
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_deref(), renamed.farm_ids.as_slice()),
        (Some("Bobby"), &[f2.id][..])
    );

    let by_grower = FarmFilter {
        grower_id: Some(g1.id),
        ..Default::default()
    };
    let (farms, total) = s
        .list_farms(&o.id, &by_grower, Page::new(0, 20).unwrap())
        .await
        .unwrap();
    assert_eq!((total, farms[0].id), (1, f1.id));
    let (growers, total) = s
        .list_growers(&o.id, &FarmFilter::default(), Page::new(0, 1).unwrap())
        .await
        .unwrap();
    assert_eq!((total, growers.len(), growers[0].id), (2, 1, g1.id));

    // Concurrent creations never share an id.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        let (o, u) = (o.id.clone(), u.clone());
        tasks.push(tokio::spawn(async move {
            s.create_grower(&o, &u, Some(&format!("g{i}")))
                .await
                .unwrap()
                .id
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 8);
}

async fn fields_are_scoped_to_their_owner_and_user(db: &TestDb) {
    let s = &db.store;
    let a = s.create_owner("a@example.com", "pw").await.unwrap();
    let b = s.create_owner("b@example.com", "pw").await.unwrap();
    let ua = user(db, &a.id, "ua").await;
    let ua2 = user(db, &a.id, "ua2").await;
    let ub = user(db, &b.id, "ub").await;
    let g = s.create_grower(&a.id, &ua, None).await.unwrap();
    let farm = s.create_farm(&a.id, &ua, None, Some(g.id)).await.unwrap();
    let f = s
        .create_field(
            &a.id,
            &ua,
            &NewField {
                id: Some("same".into()),
                ..Default::default()
            },
            &checked(&square(0.0, 0.0, 0.01)),
        )
        .await
        .unwrap();
    // Another owner may use the same client id.
    s.create_field(
        &b.id,
        &ub,
        &NewField {
            id: Some("same".into()),
            ..Default::default()
        },
        &checked(&square(0.0, 0.0, 0.01)),
    )
    .await
    .unwrap();

    for (owner, user) in [(&b.id, &ua), (&b.id, &ub), (&a.id, &ua2)] {
        if owner == &b.id && user == &ub {
            // B's own "same" field, not A's.
            let other = s.get_field(owner, user, "same").await.unwrap();
            assert_ne!(
                other.active_boundary.unwrap().id,
                f.active_boundary.clone().unwrap().id
            );
            continue;
        }
        assert!(matches!(
            s.get_field(owner, user, &f.id).await,
            Err(Error::NotFound("field"))
        ));
        assert!(matches!(
            s.get_farm(owner, user, farm.id).await,
            Err(Error::NotFound("farm"))
        ));
        assert!(matches!(
            s.get_grower(owner, user, g.id).await,
            Err(Error::NotFound("grower"))
        ));
        assert!(matches!(
            s.list_boundaries(owner, user, &f.id).await,
            Err(Error::NotFound("field"))
        ));
        assert!(matches!(
            s.replace_boundary(owner, user, &f.id, &checked(&square(5.0, 5.0, 0.01)))
                .await,
            Err(Error::NotFound("field"))
        ));
        assert!(matches!(
            s.delete_field(owner, user, &f.id).await,
            Err(Error::NotFound("field"))
        ));
        assert!(matches!(
            s.update_grower(owner, user, g.id, Some("x")).await,
            Err(Error::NotFound("grower"))
        ));
    }
    // B cannot attach A's farm or grower.
    assert!(matches!(
        s.create_field(
            &b.id,
            &ub,
            &NewField {
                farm_id: Some(farm.id),
                ..Default::default()
            },
            &checked(&square(0.0, 0.0, 0.01))
        )
        .await,
        Err(Error::NotFound("farm"))
    ));
    assert!(matches!(
        s.create_farm(&b.id, &ub, None, Some(g.id)).await,
        Err(Error::NotFound("grower"))
    ));
    let (b_fields, total) = s
        .list_fields(&b.id, &FieldFilter::default(), Page::new(0, 20).unwrap())
        .await
        .unwrap();
    assert_eq!((total, b_fields[0].user_id.as_str()), (1, ub.as_str()));
    assert_eq!(
        s.list_farms(&b.id, &FarmFilter::default(), Page::new(0, 20).unwrap())
            .await
            .unwrap()
            .1,
        0
    );
    assert_eq!(
        s.list_growers(&b.id, &FarmFilter::default(), Page::new(0, 20).unwrap())
            .await
            .unwrap()
            .1,
        0
    );
    // A's field is intact.
    assert_eq!(
        s.get_field(&a.id, &ua, &f.id)
            .await
            .unwrap()
            .boundary_ids
            .len(),
        1
    );
}

async fn provider_upsert_creates_updates_and_keeps_history(db: &TestDb) {
    let s = &db.store;
    let o = s.create_owner("o@example.com", "pw").await.unwrap();
    let u = user(db, &o.id, "u").await;
    let grower = ProviderGroupInput {
        provider_name: "JohnDeere".into(),
        provider_id: Some(2),
        provider_ref: "client-1".into(),
        name: Some("Client".into()),
        grower_id: None,
    };
    let (g, change) = s.upsert_provider_grower(&o.id, &u, &grower).await.unwrap();
    assert_eq!(change, Change::Created);
    assert_eq!(
        s.upsert_provider_grower(&o.id, &u, &grower).await.unwrap(),
        (g.clone(), Change::Unchanged)
    );
    let farm_in = ProviderGroupInput {
        provider_ref: "farm-1".into(),
        name: Some("Farm".into()),
        grower_id: Some(g.id),
        ..grower.clone()
    };
    let (farm, change) = s.upsert_provider_farm(&o.id, &u, &farm_in).await.unwrap();
    assert_eq!(
        (change, farm.provider_farm_name.as_deref()),
        (Change::Created, Some("Farm"))
    );
    let renamed = ProviderGroupInput {
        name: Some("Farm 2".into()),
        ..farm_in.clone()
    };
    let (farm2, change) = s.upsert_provider_farm(&o.id, &u, &renamed).await.unwrap();
    assert_eq!(
        (change, farm2.id, farm2.name.as_deref()),
        (Change::Updated, farm.id, Some("Farm 2"))
    );

    let mut input = ProviderFieldInput {
        provider_name: "JohnDeere".into(),
        provider_id: Some(2),
        provider_field_id: "jd-field-1".into(),
        provider_field_name: Some("River".into()),
        provider_boundary_id: Some("jd-b-1".into()),
        organization_id: Some("428214".into()),
        farm_id: Some(farm.id),
        boundary: Some(checked(&square(0.0, 0.0, 0.01))),
        preview: false,
    };
    let first = s.upsert_provider_field(&o.id, &u, &input).await.unwrap();
    assert_eq!(
        (first.field, first.boundary),
        (Change::Created, Change::Created)
    );
    let again = s.upsert_provider_field(&o.id, &u, &input).await.unwrap();
    let unchanged = furrow_store::ProviderFieldUpsert {
        field: Change::Unchanged,
        boundary: Change::Unchanged,
        ..first.clone()
    };
    assert_eq!(again, unchanged);

    // New boundary from the provider (clockwise and open: repaired, FIXED).
    input.boundary = Some(checked(
        &json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [0, 0.02], [0.02, 0.02], [0.02, 0]]]]}),
    ));
    input.provider_boundary_id = Some("jd-b-2".into());
    let second = s.upsert_provider_field(&o.id, &u, &input).await.unwrap();
    assert_eq!(second.field_id, first.field_id);
    assert_eq!(
        (second.field, second.boundary),
        (Change::Updated, Change::Created)
    );
    assert_ne!(second.boundary_id, first.boundary_id);
    let field = s.get_field(&o.id, &u, &first.field_id).await.unwrap();
    assert_eq!(field.provider_name.as_deref(), Some("JohnDeere"));
    assert_eq!(field.provider_boundary_id.as_deref(), Some("jd-b-2"));
    assert_eq!(field.name.as_deref(), Some("River"));
    let active = field.active_boundary.unwrap();
    assert_eq!(active.fix_status.as_deref(), Some("FIXED"));
    assert_eq!(active.provider_status.as_deref(), Some("ACTIVE"));
    let history = s.list_boundaries(&o.id, &u, &first.field_id).await.unwrap();
    assert_eq!(
        history.iter().map(|b| b.status).collect::<Vec<_>>(),
        [BoundaryStatus::OutdatedOnProvider, BoundaryStatus::Active],
        "the provider's older boundary is outdated there"
    );
    // The provider stops listing the field: its boundary is DELETED_ON_PROVIDER, the field stays.
    let gone = s
        .mark_missing_provider_fields(&o.id, &u, "JohnDeere", "428214", &[])
        .await
        .unwrap();
    assert_eq!(gone, std::slice::from_ref(&first.field_id));
    let field = s.get_field(&o.id, &u, &first.field_id).await.unwrap();
    assert!(field.active_boundary.is_none());
    let history = s.list_boundaries(&o.id, &u, &first.field_id).await.unwrap();
    assert_eq!(history[1].status, BoundaryStatus::DeletedOnProvider);
    // Listed again: its boundary is active again.
    let back = s.upsert_provider_field(&o.id, &u, &input).await.unwrap();
    assert_eq!(back.boundary, Change::Created);
    let jd = FieldFilter {
        provider: Some("JohnDeere".into()),
        ..Default::default()
    };
    assert_eq!(
        s.list_fields(&o.id, &jd, Page::new(0, 20).unwrap())
            .await
            .unwrap()
            .1,
        1
    );
}

async fn deleting_a_user_removes_fields_farms_and_growers(db: &TestDb) {
    let s = &db.store;
    let o = s.create_owner("o@example.com", "pw").await.unwrap();
    let u = user(db, &o.id, "gone").await;
    let keep = user(db, &o.id, "kept").await;
    for owner_user in [&u, &keep] {
        let g = s.create_grower(&o.id, owner_user, None).await.unwrap();
        let farm = s
            .create_farm(&o.id, owner_user, None, Some(g.id))
            .await
            .unwrap();
        let f = s
            .create_field(
                &o.id,
                owner_user,
                &NewField {
                    farm_id: Some(farm.id),
                    ..Default::default()
                },
                &checked(&square(0.0, 0.0, 0.01)),
            )
            .await
            .unwrap();
        s.replace_boundary(&o.id, owner_user, &f.id, &checked(&square(0.0, 0.0, 0.02)))
            .await
            .unwrap();
    }
    s.delete_user(&o.id, &u).await.unwrap();
    let all = Page::new(0, 100).unwrap();
    let (fields, _) = s
        .list_fields(&o.id, &FieldFilter::default(), all)
        .await
        .unwrap();
    assert_eq!(
        fields
            .iter()
            .map(|f| f.user_id.as_str())
            .collect::<Vec<_>>(),
        [keep.as_str()]
    );
    let (farms, _) = s
        .list_farms(&o.id, &FarmFilter::default(), all)
        .await
        .unwrap();
    assert_eq!(
        farms.iter().map(|f| f.user_id.as_str()).collect::<Vec<_>>(),
        [keep.as_str()]
    );
    let (growers, _) = s
        .list_growers(&o.id, &FarmFilter::default(), all)
        .await
        .unwrap();
    assert_eq!(
        growers
            .iter()
            .map(|g| g.user_id.as_str())
            .collect::<Vec<_>>(),
        [keep.as_str()]
    );
    let by_user = FieldFilter {
        user_id: Some(u.clone()),
        ..Default::default()
    };
    assert_eq!(s.list_fields(&o.id, &by_user, all).await.unwrap().1, 0);
    // The kept user's boundary history is intact; the other's rows are gone from the tables.
    assert_eq!(fields[0].boundary_ids.len(), 2);
    assert_eq!(raw_count(db, "boundaries").await, 2);
    assert_eq!(raw_count(db, "fields").await, 1);
}

async fn raw_count(db: &TestDb, table: &str) -> i64 {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let url = db
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", db.data_dir.join("furrow.db").display()));
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .unwrap()
}
