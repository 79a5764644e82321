use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, UM, named_fields, problem};

const F: &str = "/services/fields/api";

crate::on_both_backends!(
    field_crud_and_resource_shape,
    geometry_errors_name_the_problem,
    repairable_geometry_is_fixed_unless_disabled,
    boundary_replacement_keeps_history,
    intersects_uses_either_ratio,
    intersect_returns_the_shared_multipolygon,
    farms_and_growers_with_integer_ids,
    field_list_filters_and_pagination_headers,
    other_owners_get_404_on_every_id,
    deleting_a_user_removes_its_fields,
    openapi_lists_the_fields_service,
    provider_fields_show_their_origin_and_are_read_only,
);

/// A square MultiPolygon, counter-clockwise, with its lower-left corner at (x, y).
fn sq(x: f64, y: f64, side: f64) -> Value {
    json!({"type": "MultiPolygon", "coordinates": [[[[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]]]})
}

async fn ok(r: reqwest::Response, status: u16) -> Value {
    let s = r.status().as_u16();
    let url = r.url().clone();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(s, status, "{url}: {body}");
    body
}

async fn create(h: &Harness, user: &str, body: Value) -> Value {
    ok(
        h.json(
            Method::POST,
            &format!("{F}/users/{user}/fields"),
            Some(body),
        )
        .await,
        201,
    )
    .await
}

fn is_timestamp(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    s.len() == 27 && s.ends_with('Z') && s.as_bytes()[10] == b'T' && s.as_bytes()[19] == b'.'
}

async fn field_crud_and_resource_shape(h: &Harness) {
    let user = h.user("grower").await;
    let f = create(
        h,
        &user,
        json!({"id": "idTest", "name": "Back 40", "geometry": sq(-93.1, 41.6, 0.01)}),
    )
    .await;
    assert_eq!(f["id"], "idTest");
    assert_eq!(f["leafUserId"], user.as_str());
    assert_eq!(f["name"], "Back 40");
    assert_eq!(f["type"], "ORIGINAL");
    assert_eq!(f["status"], "PROCESSED");
    assert_eq!(f["area"]["unit"], "ha");
    let ha = f["area"]["value"].as_f64().unwrap();
    assert!(
        (ha - 92.5).abs() < 1.0,
        "0.01° square at 41.6°N is ~92.5 ha, got {ha}"
    );
    assert_eq!(f["geometry"]["type"], "MultiPolygon");
    assert_eq!(f["boundaries"].as_array().unwrap().len(), 1);
    assert_eq!(
        (f["sources"].clone(), f["files"].clone()),
        (json!([]), json!([]))
    );
    assert!(
        is_timestamp(&f["createdTime"]) && is_timestamp(&f["updatedTime"]),
        "{f}"
    );
    assert!(
        f.get("providerName").is_none(),
        "manual fields have no provider: {f}"
    );

    let got = ok(
        h.json(
            Method::GET,
            &format!("{F}/users/{user}/fields/idTest"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(got, f);

    // Without an id, a UUID.
    let g = create(h, &user, json!({"geometry": sq(-93.0, 41.6, 0.01)})).await;
    assert_eq!(g["id"].as_str().unwrap().len(), 36);
    assert!(g.get("name").is_none());

    // The same id again is a conflict.
    let r = h
        .json(
            Method::POST,
            &format!("{F}/users/{user}/fields"),
            Some(json!({"id": "idTest", "geometry": sq(0.0, 0.0, 0.01)})),
        )
        .await;
    problem(r, 409, Some("alreadyExists")).await;
    // Ids that cannot be one path segment are refused.
    for bad in ["a/b", "", "intersects"] {
        let r = h
            .json(
                Method::POST,
                &format!("{F}/users/{user}/fields"),
                Some(json!({"id": bad, "geometry": sq(0.0, 0.0, 0.01)})),
            )
            .await;
        assert_eq!(
            named_fields(&problem(r, 400, Some("validation")).await),
            ["id"],
            "{bad:?}"
        );
    }

    let list = h.json(Method::GET, &format!("{F}/fields"), None).await;
    assert_eq!(list.headers()["x-total-count"], "2");
    let list = ok(list, 200).await;
    assert_eq!(list[0]["id"], "idTest");
    assert_eq!(list[1]["id"], g["id"]);

    // PATCH: rename and new geometry (a new active boundary).
    let p = ok(
        h.json(
            Method::PATCH,
            &format!("{F}/users/{user}/fields/idTest"),
            Some(json!({"name": "Back 41", "geometry": sq(-93.1, 41.6, 0.02)})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(p["name"], "Back 41");
    assert_eq!(p["boundaries"].as_array().unwrap().len(), 2);
    assert!(p["area"]["value"].as_f64().unwrap() > 3.9 * ha);
    // PATCH with nothing but a null name clears it.
    let p = ok(
        h.json(
            Method::PATCH,
            &format!("{F}/users/{user}/fields/idTest"),
            Some(json!({"name": null})),
        )
        .await,
        200,
    )
    .await;
    assert!(p.get("name").is_none(), "{p}");
    let r = h
        .json(
            Method::PATCH,
            &format!("{F}/users/{user}/fields/idTest"),
            Some(json!({"name": 5, "colour": "red"})),
        )
        .await;
    let mut named = named_fields(&problem(r, 400, Some("validation")).await);
    named.sort();
    assert_eq!(named, ["colour", "name"]);

    let r = h
        .json(
            Method::DELETE,
            &format!("{F}/users/{user}/fields/idTest"),
            None,
        )
        .await;
    assert_eq!(r.status(), 204);
    let r = h
        .json(
            Method::GET,
            &format!("{F}/users/{user}/fields/idTest"),
            None,
        )
        .await;
    problem(r, 404, Some("notFound")).await;
    let r = h
        .json(
            Method::DELETE,
            &format!("{F}/users/{user}/fields/idTest"),
            None,
        )
        .await;
    problem(r, 404, Some("notFound")).await;
    // Unknown user.
    let r = h
        .json(
            Method::POST,
            &format!("{F}/users/00000000-0000-0000-0000-000000000000/fields"),
            Some(json!({"geometry": sq(0.0, 0.0, 0.01)})),
        )
        .await;
    problem(r, 404, Some("notFound")).await;
}

async fn geometry_errors_name_the_problem(h: &Harness) {
    let user = h.user("grower").await;
    let cases = [
        (
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}),
            "NOT_ALLOWED_GEOMETRY_TYPE",
            "Polygon",
        ),
        (
            json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]]}),
            "RING_SELF_INTERSECTION",
            "polygon 0 ring 0",
        ),
        (
            json!({"type": "MultiPolygon", "coordinates": [
                [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]],
                [[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]]]}),
            "SELF_INTERSECTION",
            "polygons 0 and 1",
        ),
        (
            json!({"type": "MultiPolygon", "coordinates": [[
                [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]],
                [[5, 5], [5, 6], [6, 6], [6, 5], [5, 5]]]]}),
            "HOLE_OUTSIDE_SHELL",
            "hole 0",
        ),
        (
            json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [0, 0]]]]}),
            "TOO_FEW_POINTS",
            "polygon 0 ring 0",
        ),
        (
            json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 95], [0, 0]]]]}),
            "INVALID_COORDINATE",
            "vertex 2",
        ),
        (
            json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, "x"], [1, 1], [0, 0]]]]}),
            "INVALID_COORDINATE",
            "vertex 1",
        ),
        (
            json!("POLYGON((0 0, 1 0, 1 1, 0 0))"),
            "NOT_ALLOWED_GEOMETRY_TYPE",
            "MultiPolygon",
        ),
    ];
    for (geometry, validity, place) in cases {
        let r = h
            .json(
                Method::POST,
                &format!("{F}/users/{user}/fields"),
                Some(json!({"geometry": geometry})),
            )
            .await;
        let p = problem(r, 400, Some("invalidGeometry")).await;
        for key in ["title", "message"] {
            let text = p[key].as_str().unwrap();
            assert!(text.starts_with("Invalid geometry: "), "{p}");
            assert!(text.contains(validity), "{validity} in {p}");
            assert!(text.contains(place), "{place} in {p}");
        }
    }
    // Not geometry problems: validation naming the field.
    let r = h
        .json(
            Method::POST,
            &format!("{F}/users/{user}/fields"),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["geometry"]
    );
    let r = h
        .json(
            Method::POST,
            &format!("{F}/users/{user}/fields"),
            Some(json!({"farmId": "one", "geometry": sq(0.0, 0.0, 0.01)})),
        )
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["farmId"]
    );
    let r = h
        .json(
            Method::POST,
            &format!("{F}/users/{user}/fields"),
            Some(json!([1, 2])),
        )
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["body"]
    );
    let r = h
        .req(
            Method::POST,
            &format!("{F}/users/{user}/fields"),
            &h.token_a,
        )
        .header("content-type", "application/json")
        .body("{\"geometry\": ")
        .send()
        .await
        .unwrap();
    problem(r, 400, Some("validation")).await;
    // Nothing was stored.
    let r = h.json(Method::GET, &format!("{F}/fields"), None).await;
    assert_eq!(r.headers()["x-total-count"], "0");
}

async fn repairable_geometry_is_fixed_unless_disabled(h: &Harness) {
    let user = h.user("grower").await;
    // Open ring, a repeated vertex, clockwise.
    let messy = json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [0, 0.01], [0.01, 0.01], [0.01, 0.01], [0.01, 0]]]]});
    let f = create(h, &user, json!({"geometry": messy})).await;
    let b = ok(
        h.json(
            Method::GET,
            &format!(
                "{F}/users/{user}/fields/{}/boundary",
                f["id"].as_str().unwrap()
            ),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(b["fixStatus"], "FIXED");
    assert_eq!(b["validity"], "VALID");
    let ring = b["geometry"]["coordinates"][0][0]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(ring.len(), 5, "closed, repeated point dropped: {ring:?}");
    assert_eq!(ring.first(), ring.last());
    // Counter-clockwise after repair: positive shoelace sum.
    let pts: Vec<(f64, f64)> = ring
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    let twice_area: f64 = pts
        .windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum();
    assert!(twice_area > 0.0);
    // A valid geometry carries no fixStatus.
    let clean = create(h, &user, json!({"geometry": sq(1.0, 1.0, 0.01)})).await;
    let b = ok(
        h.json(
            Method::GET,
            &format!(
                "{F}/users/{user}/fields/{}/boundary",
                clean["id"].as_str().unwrap()
            ),
            None,
        )
        .await,
        200,
    )
    .await;
    assert!(b.get("fixStatus").is_none(), "{b}");

    // automaticFixBoundary off for this user: the same geometry is refused, naming the problem.
    let r = h
        .json(
            Method::PATCH,
            &format!("/services/config/api/configs/{user}"),
            Some(json!({"automaticFixBoundary": false})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = h
        .json(
            Method::POST,
            &format!("{F}/users/{user}/fields"),
            Some(json!({"geometry": messy})),
        )
        .await;
    let p = problem(r, 400, Some("invalidGeometry")).await;
    assert!(
        p["title"].as_str().unwrap().contains("RING_NOT_CLOSED"),
        "{p}"
    );
    // Other users keep the owner's default (on).
    let other = h.user("other").await;
    create(h, &other, json!({"geometry": messy})).await;
}

async fn boundary_replacement_keeps_history(h: &Harness) {
    let user = h.user("grower").await;
    let f = create(
        h,
        &user,
        json!({"id": "f1", "geometry": sq(10.0, 10.0, 0.01)}),
    )
    .await;
    let first = f["boundaries"][0].as_str().unwrap().to_owned();
    let base = format!("{F}/users/{user}/fields/f1");

    let b = ok(
        h.json(
            Method::PUT,
            &format!("{base}/boundary"),
            Some(json!({"geometry": sq(10.0, 10.0, 0.02)})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(b["status"], "ACTIVE");
    let second = b["id"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert!(is_timestamp(&b["createdTime"]));

    let history = ok(
        h.json(Method::GET, &format!("{base}/boundaries"), None)
            .await,
        200,
    )
    .await;
    let ids: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [first.as_str(), second.as_str()]);
    assert_eq!(history[0]["status"], "INACTIVE");
    assert_eq!(
        history[0]["geometry"],
        sq(10.0, 10.0, 0.01),
        "old geometry unchanged"
    );
    let old = ok(
        h.json(Method::GET, &format!("{base}/boundaries/{first}"), None)
            .await,
        200,
    )
    .await;
    assert_eq!(old, history[0]);
    let active = ok(
        h.json(Method::GET, &format!("{base}/boundary"), None).await,
        200,
    )
    .await;
    assert_eq!(active["id"], second.as_str());
    let field = ok(h.json(Method::GET, &base, None).await, 200).await;
    assert_eq!(field["geometry"], sq(10.0, 10.0, 0.02));
    assert_eq!(field["boundaries"], json!([first, second]));

    // An invalid replacement changes nothing.
    let bowtie = json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]]});
    let r = h
        .json(
            Method::PUT,
            &format!("{base}/boundary"),
            Some(json!({"geometry": bowtie})),
        )
        .await;
    problem(r, 400, Some("invalidGeometry")).await;
    let r = h
        .json(Method::PUT, &format!("{base}/boundary"), Some(json!({})))
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["geometry"]
    );
    let history = ok(
        h.json(Method::GET, &format!("{base}/boundaries"), None)
            .await,
        200,
    )
    .await;
    assert_eq!(history.as_array().unwrap().len(), 2);

    for path in [
        format!("{base}/boundaries/00000000-0000-0000-0000-000000000000"),
        format!("{F}/users/{user}/fields/nope/boundary"),
        format!("{F}/users/{user}/fields/nope/boundaries"),
    ] {
        let r = h.json(Method::GET, &path, None).await;
        problem(r, 404, Some("notFound")).await;
    }
    let r = h
        .json(
            Method::PUT,
            &format!("{F}/users/{user}/fields/nope/boundary"),
            Some(json!({"geometry": sq(0.0, 0.0, 0.01)})),
        )
        .await;
    problem(r, 404, Some("notFound")).await;
}

async fn intersects_ids(h: &Harness, user: &str, body: Value) -> Vec<String> {
    let v = ok(
        h.json(
            Method::POST,
            &format!("{F}/users/{user}/fields/intersects"),
            Some(body),
        )
        .await,
        200,
    )
    .await;
    let mut ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

async fn intersects_uses_either_ratio(h: &Harness) {
    let user = h.user("grower").await;
    create(
        h,
        &user,
        json!({"id": "big", "geometry": sq(0.0, 0.0, 0.01)}),
    )
    .await;
    create(
        h,
        &user,
        json!({"id": "tiny", "geometry": sq(0.015, 0.015, 0.001)}),
    )
    .await;
    create(
        h,
        &user,
        json!({"id": "far", "geometry": sq(5.0, 5.0, 0.01)}),
    )
    .await;
    create(
        h,
        &user,
        json!({"id": "neighbour", "geometry": sq(0.01, 0.0, 0.005)}),
    )
    .await;

    // Q overlaps 1% of "big" (and Q is 1% covered by it), and covers all of "tiny" (1% of Q).
    let q = sq(0.009, 0.009, 0.01);
    assert_eq!(
        intersects_ids(h, &user, json!({"geometry": q})).await,
        ["big", "tiny"]
    );
    assert_eq!(
        intersects_ids(
            h,
            &user,
            json!({"geometry": q, "intersectionThreshold": 0.5})
        )
        .await,
        ["big", "tiny"]
    );
    // 50%: only "tiny", whose own area is fully covered (the field ratio).
    assert_eq!(
        intersects_ids(
            h,
            &user,
            json!({"geometry": q, "intersectionThreshold": 50})
        )
        .await,
        ["tiny"]
    );
    // A small query inside "big": 1% of the field, 100% of the query (the geometry ratio).
    let inside = sq(0.002, 0.002, 0.001);
    assert_eq!(
        intersects_ids(
            h,
            &user,
            json!({"geometry": inside, "intersectionThreshold": 99})
        )
        .await,
        ["big"]
    );
    // Touching only along an edge is no intersection: "neighbour" shares big's east edge.
    assert_eq!(
        intersects_ids(h, &user, json!({"geometry": sq(0.0, 0.0, 0.01)})).await,
        ["big"]
    );
    assert!(
        intersects_ids(h, &user, json!({"geometry": sq(20.0, 20.0, 0.01)}))
            .await
            .is_empty()
    );

    for bad in [json!(0), json!(0.001), json!(101), json!("10")] {
        let r = h
            .json(
                Method::POST,
                &format!("{F}/users/{user}/fields/intersects"),
                Some(json!({"geometry": q, "intersectionThreshold": bad})),
            )
            .await;
        assert_eq!(
            named_fields(&problem(r, 400, Some("validation")).await),
            ["intersectionThreshold"],
            "{bad}"
        );
    }
    let r = h
        .json(
            Method::POST,
            &format!("{F}/users/{user}/fields/intersects"),
            Some(json!({"geometry": {"type": "Point", "coordinates": [0, 0]}})),
        )
        .await;
    problem(r, 400, Some("invalidGeometry")).await;
}

async fn intersect_returns_the_shared_multipolygon(h: &Harness) {
    let user = h.user("grower").await;
    create(h, &user, json!({"id": "a", "geometry": sq(0.0, 0.0, 0.01)})).await;
    create(
        h,
        &user,
        json!({"id": "b", "geometry": sq(0.005, 0.005, 0.01)}),
    )
    .await;
    create(h, &user, json!({"id": "c", "geometry": sq(1.0, 1.0, 0.01)})).await;
    let path = format!("{F}/users/{user}/fields/intersect");

    let g = ok(
        h.json(Method::POST, &path, Some(json!(["a", "b"]))).await,
        200,
    )
    .await;
    assert_eq!(g["type"], "MultiPolygon");
    let polys = g["coordinates"].as_array().unwrap();
    assert_eq!(polys.len(), 1);
    let xs: Vec<f64> = polys[0][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_f64().unwrap())
        .collect();
    let ys: Vec<f64> = polys[0][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_f64().unwrap())
        .collect();
    let (min_x, max_x) = xs
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    let (min_y, max_y) = ys
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &y| (a.min(y), b.max(y)));
    for (got, want) in [(min_x, 0.005), (max_x, 0.01), (min_y, 0.005), (max_y, 0.01)] {
        assert!((got - want).abs() < 1e-9, "{g}");
    }
    let empty = ok(
        h.json(Method::POST, &path, Some(json!(["a", "c"]))).await,
        200,
    )
    .await;
    assert_eq!(empty, json!({"type": "MultiPolygon", "coordinates": []}));

    let r = h.json(Method::POST, &path, Some(json!(["a"]))).await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["body"]
    );
    let r = h
        .json(Method::POST, &path, Some(json!({"ids": ["a", "b"]})))
        .await;
    problem(r, 400, Some("validation")).await;
    let r = h
        .json(Method::POST, &path, Some(json!(["a", "missing"])))
        .await;
    problem(r, 404, Some("notFound")).await;
}

async fn farms_and_growers_with_integer_ids(h: &Harness) {
    let user = h.user("grower").await;
    let g = ok(
        h.json(
            Method::POST,
            &format!("{F}/users/{user}/growers"),
            Some(json!({"name": "Ann"})),
        )
        .await,
        201,
    )
    .await;
    let gid = g["id"].as_i64().expect("integer grower id");
    assert_eq!(g["leafUserId"], user.as_str());
    assert_eq!(g["farmIds"], json!([]));
    assert!(is_timestamp(&g["createdTime"]));

    let farm = ok(
        h.json(
            Method::POST,
            &format!("{F}/users/{user}/farms"),
            // 7.0 is the integer 7, as JSON Schema (and the OpenAPI document) counts integers
            Some(json!({"name": "North", "growerId": gid as f64})),
        )
        .await,
        201,
    )
    .await;
    let fid = farm["id"].as_i64().expect("integer farm id");
    assert_eq!(farm["growerId"], gid);
    assert_eq!(farm["fieldIds"], json!([]));
    let farm2 = ok(
        h.json(
            Method::POST,
            &format!("{F}/users/{user}/farms"),
            Some(json!({"name": "South"})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(farm2["id"].as_i64().unwrap(), fid + 1);
    assert!(farm2.get("growerId").is_none());

    let field = create(
        h,
        &user,
        json!({"name": "F", "farmId": fid, "geometry": sq(0.0, 0.0, 0.01)}),
    )
    .await;
    assert_eq!(field["farmId"], fid);
    let got = ok(
        h.json(Method::GET, &format!("{F}/users/{user}/farms/{fid}"), None)
            .await,
        200,
    )
    .await;
    assert_eq!(got["fieldIds"], json!([field["id"]]));
    let got = ok(
        h.json(
            Method::GET,
            &format!("{F}/users/{user}/growers/{gid}"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(got["farmIds"], json!([fid]));

    let put = ok(
        h.json(
            Method::PUT,
            &format!("{F}/users/{user}/farms/{}", farm2["id"]),
            Some(json!({"name": "South 2", "growerId": gid})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (put["name"].as_str(), put["growerId"].as_i64()),
        (Some("South 2"), Some(gid))
    );
    let put = ok(
        h.json(
            Method::PUT,
            &format!("{F}/users/{user}/growers/{gid}"),
            Some(json!({"name": "Ann B"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(put["name"], "Ann B");
    assert_eq!(put["farmIds"], json!([fid, fid + 1]));

    let list = h
        .json(
            Method::GET,
            &format!("{F}/farms?growerId={gid}&leafUserId={user}"),
            None,
        )
        .await;
    assert_eq!(list.headers()["x-total-count"], "2");
    let growers = h
        .json(Method::GET, &format!("{F}/growers?provider=Leaf"), None)
        .await;
    assert_eq!(growers.headers()["x-total-count"], "1");
    let none = h
        .json(
            Method::GET,
            &format!("{F}/growers?provider=JohnDeere"),
            None,
        )
        .await;
    assert_eq!(ok(none, 200).await, json!([]));
    let by_farm = h
        .json(Method::GET, &format!("{F}/fields?farmId={fid}"), None)
        .await;
    assert_eq!(ok(by_farm, 200).await[0]["id"], field["id"]);

    // Errors.
    let r = h
        .json(
            Method::POST,
            &format!("{F}/users/{user}/farms"),
            Some(json!({"name": "X", "growerId": gid + 1000})),
        )
        .await;
    problem(r, 404, Some("notFound")).await;
    let r = h
        .json(
            Method::POST,
            &format!("{F}/users/{user}/fields"),
            Some(json!({"farmId": fid + 1000, "geometry": sq(0.0, 0.0, 0.01)})),
        )
        .await;
    problem(r, 404, Some("notFound")).await;
    let r = h
        .json(
            Method::POST,
            &format!("{F}/users/{user}/farms"),
            Some(json!({"name": "X", "growerId": "one"})),
        )
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["growerId"]
    );
    let r = h
        .json(
            Method::POST,
            &format!("{F}/users/{user}/growers"),
            Some(json!({"name": ["x"]})),
        )
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["name"]
    );
    for path in [
        format!("{F}/users/{user}/farms/abc"),
        format!("{F}/users/{user}/growers/abc"),
        format!("{F}/users/{user}/farms/{}", fid + 1000),
    ] {
        let r = h.json(Method::GET, &path, None).await;
        problem(r, 404, Some("notFound")).await;
    }
    let r = h
        .json(Method::GET, &format!("{F}/farms?growerId=x"), None)
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["growerId"]
    );
}

async fn field_list_filters_and_pagination_headers(h: &Harness) {
    let user = h.user("grower").await;
    let other = h.user("other").await;
    for i in 0..25 {
        create(
            h,
            &user,
            json!({"id": format!("f{i:02}"), "geometry": sq(f64::from(i), 0.0, 0.01)}),
        )
        .await;
    }
    create(h, &other, json!({"geometry": sq(0.0, 50.0, 0.01)})).await;

    let r = h
        .json(
            Method::GET,
            &format!("{F}/fields?leafUserId={user}&page=1&size=10"),
            None,
        )
        .await;
    assert_eq!(r.headers()["x-total-count"], "25");
    let link = r.headers()["link"].to_str().unwrap().to_owned();
    for rel in ["next", "prev", "last", "first"] {
        assert!(link.contains(&format!("rel=\"{rel}\"")), "{link}");
    }
    assert!(
        link.contains(&format!(
            "</services/fields/api/fields?leafUserId={user}&page=2&size=10>; rel=\"next\""
        )),
        "{link}"
    );
    let page = ok(r, 200).await;
    let ids: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.first(), Some(&"f10"));
    assert_eq!(ids.len(), 10);

    let r = h
        .json(Method::GET, &format!("{F}/fields?page=2&size=10"), None)
        .await;
    assert_eq!(r.headers()["x-total-count"], "26");
    assert!(
        !r.headers()["link"]
            .to_str()
            .unwrap()
            .contains("rel=\"next\"")
    );
    assert_eq!(ok(r, 200).await.as_array().unwrap().len(), 6);

    for (q, total) in [
        ("type=ORIGINAL", "26"),
        ("provider=Leaf", "26"),
        ("provider=JohnDeere", "0"),
        ("type=MERGED", "0"),
    ] {
        let r = h.json(Method::GET, &format!("{F}/fields?{q}"), None).await;
        assert_eq!(r.headers()["x-total-count"], total, "{q}");
    }
    for (q, field) in [
        ("size=0", "size"),
        ("page=x", "page"),
        ("farmId=x", "farmId"),
        ("type=WHATEVER", "type"),
    ] {
        let r = h.json(Method::GET, &format!("{F}/fields?{q}"), None).await;
        assert_eq!(
            named_fields(&problem(r, 400, Some("validation")).await),
            [field],
            "{q}"
        );
    }
    let r = h
        .json(Method::GET, &format!("{F}/fields?size=1000"), None)
        .await;
    assert_eq!(
        ok(r, 200).await.as_array().unwrap().len(),
        26,
        "size is clamped to 100"
    );
}

async fn other_owners_get_404_on_every_id(h: &Harness) {
    let user = h.user("grower").await;
    let g = ok(
        h.json(
            Method::POST,
            &format!("{F}/users/{user}/growers"),
            Some(json!({"name": "G"})),
        )
        .await,
        201,
    )
    .await;
    let farm = ok(
        h.json(
            Method::POST,
            &format!("{F}/users/{user}/farms"),
            Some(json!({"name": "F", "growerId": g["id"]})),
        )
        .await,
        201,
    )
    .await;
    let f = create(
        h,
        &user,
        json!({"id": "mine", "farmId": farm["id"], "geometry": sq(0.0, 0.0, 0.01)}),
    )
    .await;
    let boundary = f["boundaries"][0].as_str().unwrap();
    let b_token = h.token_b.clone();
    let base = format!("{F}/users/{user}");
    let geometry = json!({"geometry": sq(0.0, 0.0, 0.01)});
    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("{base}/fields/mine"), None),
        (
            Method::PATCH,
            format!("{base}/fields/mine"),
            Some(json!({"name": "stolen"})),
        ),
        (Method::DELETE, format!("{base}/fields/mine"), None),
        (Method::GET, format!("{base}/fields/mine/boundaries"), None),
        (
            Method::GET,
            format!("{base}/fields/mine/boundaries/{boundary}"),
            None,
        ),
        (Method::GET, format!("{base}/fields/mine/boundary"), None),
        (
            Method::PUT,
            format!("{base}/fields/mine/boundary"),
            Some(geometry.clone()),
        ),
        (
            Method::POST,
            format!("{base}/fields"),
            Some(geometry.clone()),
        ),
        (
            Method::POST,
            format!("{base}/fields/intersects"),
            Some(geometry.clone()),
        ),
        (
            Method::POST,
            format!("{base}/fields/intersect"),
            Some(json!(["mine", "mine"])),
        ),
        (Method::GET, format!("{base}/farms/{}", farm["id"]), None),
        (
            Method::PUT,
            format!("{base}/farms/{}", farm["id"]),
            Some(json!({"name": "stolen"})),
        ),
        (
            Method::POST,
            format!("{base}/farms"),
            Some(json!({"name": "x"})),
        ),
        (Method::GET, format!("{base}/growers/{}", g["id"]), None),
        (
            Method::PUT,
            format!("{base}/growers/{}", g["id"]),
            Some(json!({"name": "stolen"})),
        ),
        (
            Method::POST,
            format!("{base}/growers"),
            Some(json!({"name": "x"})),
        ),
    ];
    for (method, path, body) in attempts {
        let r = h.json_as(&b_token, method.clone(), &path, body).await;
        problem(r, 404, Some("notFound")).await;
    }
    // B's own user cannot reference A's farm or grower either.
    let r = h
        .json_as(
            &b_token,
            Method::POST,
            &format!("{UM}/users"),
            Some(json!({"name": "b-user"})),
        )
        .await;
    let b_user = ok(r, 201).await["id"].as_str().unwrap().to_owned();
    let r = h
        .json_as(
            &b_token,
            Method::POST,
            &format!("{F}/users/{b_user}/fields"),
            Some(json!({"farmId": farm["id"], "geometry": sq(0.0, 0.0, 0.01)})),
        )
        .await;
    problem(r, 404, Some("notFound")).await;
    let r = h
        .json_as(
            &b_token,
            Method::POST,
            &format!("{F}/users/{b_user}/farms"),
            Some(json!({"name": "x", "growerId": g["id"]})),
        )
        .await;
    problem(r, 404, Some("notFound")).await;
    // B's lists are empty even when filtering by A's user.
    for path in [
        format!("{F}/fields"),
        format!("{F}/fields?leafUserId={user}"),
        format!("{F}/farms"),
        format!("{F}/growers"),
    ] {
        let r = h.json_as(&b_token, Method::GET, &path, None).await;
        assert_eq!(r.headers()["x-total-count"], "0", "{path}");
    }
    // A's data is untouched.
    let mine = ok(
        h.json(Method::GET, &format!("{base}/fields/mine"), None)
            .await,
        200,
    )
    .await;
    assert_eq!(mine, f);
}

async fn deleting_a_user_removes_its_fields(h: &Harness) {
    let user = h.user("gone").await;
    let kept = h.user("kept").await;
    for u in [&user, &kept] {
        let g = ok(
            h.json(
                Method::POST,
                &format!("{F}/users/{u}/growers"),
                Some(json!({"name": "G"})),
            )
            .await,
            201,
        )
        .await;
        let farm = ok(
            h.json(
                Method::POST,
                &format!("{F}/users/{u}/farms"),
                Some(json!({"name": "F", "growerId": g["id"]})),
            )
            .await,
            201,
        )
        .await;
        let f = create(h, u, json!({"id": format!("field-{u}"), "farmId": farm["id"], "geometry": sq(0.0, 0.0, 0.01)})).await;
        let r = h
            .json(
                Method::PUT,
                &format!(
                    "{F}/users/{u}/fields/{}/boundary",
                    f["id"].as_str().unwrap()
                ),
                Some(json!({"geometry": sq(0.0, 0.0, 0.02)})),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let r = h
        .json(Method::DELETE, &format!("{UM}/users/{user}"), None)
        .await;
    assert_eq!(r.status(), 204);
    for path in ["fields", "farms", "growers"] {
        let r = h
            .json(Method::GET, &format!("{F}/{path}?leafUserId={user}"), None)
            .await;
        assert_eq!(r.headers()["x-total-count"], "0", "{path}");
        let r = h.json(Method::GET, &format!("{F}/{path}"), None).await;
        assert_eq!(
            r.headers()["x-total-count"],
            "1",
            "{path} of the other user remain"
        );
    }
    let r = h
        .json(
            Method::GET,
            &format!("{F}/users/{user}/fields/field-{user}"),
            None,
        )
        .await;
    problem(r, 404, Some("notFound")).await;
    let kept_boundaries = ok(
        h.json(
            Method::GET,
            &format!("{F}/users/{kept}/fields/field-{kept}/boundaries"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(kept_boundaries.as_array().unwrap().len(), 2);
}

async fn openapi_lists_the_fields_service(h: &Harness) {
    let doc: Value = h
        .client
        .get(h.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/services/fields/api/fields", &["get"][..]),
        ("/services/fields/api/users/{leafUserId}/fields", &["post"]),
        (
            "/services/fields/api/users/{leafUserId}/fields/{id}",
            &["get", "patch", "delete"],
        ),
        (
            "/services/fields/api/users/{leafUserId}/fields/intersects",
            &["post"],
        ),
        (
            "/services/fields/api/users/{leafUserId}/fields/intersect",
            &["post"],
        ),
        (
            "/services/fields/api/users/{leafUserId}/fields/{fieldId}/boundaries",
            &["get"],
        ),
        (
            "/services/fields/api/users/{leafUserId}/fields/{fieldId}/boundaries/{boundaryId}",
            &["get"],
        ),
        (
            "/services/fields/api/users/{leafUserId}/fields/{fieldId}/boundary",
            &["get", "put"],
        ),
        ("/services/fields/api/farms", &["get"]),
        ("/services/fields/api/users/{leafUserId}/farms", &["post"]),
        (
            "/services/fields/api/users/{leafUserId}/farms/{id}",
            &["get", "put"],
        ),
        ("/services/fields/api/growers", &["get"]),
        ("/services/fields/api/users/{leafUserId}/growers", &["post"]),
        (
            "/services/fields/api/users/{leafUserId}/growers/{id}",
            &["get", "put"],
        ),
    ] {
        let item = paths.get(path).unwrap_or_else(|| panic!("{path} missing"));
        for m in methods {
            assert!(item[*m].is_object(), "{m} {path}");
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in ["Field", "Boundary", "Farm", "Grower"] {
        assert!(schemas.contains_key(s), "schema {s}");
    }
}

async fn provider_fields_show_their_origin_and_are_read_only(h: &Harness) {
    let user = h.user("grower").await;
    let store = &h.db.store;
    let (grower, _) = store
        .upsert_provider_grower(
            &h.owner_a,
            &user,
            &furrow_store::ProviderGroupInput {
                provider_name: "JohnDeere".into(),
                provider_id: Some(2),
                provider_ref: "client-7".into(),
                name: Some("Client 7".into()),
                grower_id: None,
            },
        )
        .await
        .unwrap();
    let (farm, _) = store
        .upsert_provider_farm(
            &h.owner_a,
            &user,
            &furrow_store::ProviderGroupInput {
                provider_name: "JohnDeere".into(),
                provider_id: Some(2),
                provider_ref: "farm-7".into(),
                name: Some("Farm 7".into()),
                grower_id: Some(grower.id),
            },
        )
        .await
        .unwrap();
    let up = store
        .upsert_provider_field(
            &h.owner_a,
            &user,
            &furrow_store::ProviderFieldInput {
                provider_name: "JohnDeere".into(),
                provider_id: Some(2),
                provider_field_id: "jd-7".into(),
                provider_field_name: Some("River".into()),
                provider_boundary_id: Some("jd-b-7".into()),
                organization_id: Some("428214".into()),
                farm_id: Some(farm.id),
                boundary: Some(furrow_store::BoundaryGeometry::from_geojson(&sq(
                    3.0, 3.0, 0.01,
                ))),
                preview: false,
            },
        )
        .await
        .unwrap();
    let path = format!("{F}/users/{user}/fields/{}", up.field_id);
    let f = ok(h.json(Method::GET, &path, None).await, 200).await;
    assert_eq!(f["providerName"], "JohnDeere");
    assert_eq!(f["providerId"], 2);
    assert_eq!(f["providerFieldId"], "jd-7");
    assert_eq!(f["providerFieldName"], "River");
    assert_eq!(f["providerBoundaryId"], "jd-b-7");
    assert_eq!(f["organizationId"], "428214");
    assert_eq!(f["farmId"], farm.id);
    let b = ok(
        h.json(Method::GET, &format!("{path}/boundary"), None).await,
        200,
    )
    .await;
    assert_eq!(
        (
            b["providerStatus"].as_str(),
            b["providerBoundaryId"].as_str()
        ),
        (Some("ACTIVE"), Some("jd-b-7"))
    );
    let farm_json = ok(
        h.json(
            Method::GET,
            &format!("{F}/users/{user}/farms/{}", farm.id),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (
            farm_json["providerFarmId"].as_str(),
            farm_json["providerName"].as_str()
        ),
        (Some("farm-7"), Some("JohnDeere"))
    );
    let grower_json = ok(
        h.json(
            Method::GET,
            &format!("{F}/users/{user}/growers/{}", grower.id),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(grower_json["providerGrowerId"], "client-7");

    let r = h
        .json(Method::PATCH, &path, Some(json!({"name": "mine now"})))
        .await;
    problem(r, 400, Some("providerField")).await;
    let r = h.json(Method::DELETE, &path, None).await;
    problem(r, 400, Some("providerField")).await;
    for (q, total) in [("provider=JohnDeere", "1"), ("provider=Leaf", "0")] {
        let r = h.json(Method::GET, &format!("{F}/fields?{q}"), None).await;
        assert_eq!(r.headers()["x-total-count"], total, "{q}");
    }
    let r = h
        .json(
            Method::GET,
            &format!("{F}/farms?provider=JohnDeere&growerId={}", grower.id),
            None,
        )
        .await;
    assert_eq!(r.headers()["x-total-count"], "1");
}
