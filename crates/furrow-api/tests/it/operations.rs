//! `POST /batch` uploads processed by a real worker into field operations, and the `/operations` API: list,
//! resource, summary, units, files, output links and downloads; on-demand syncs; outside-field points.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, MAX_UPLOAD, named_fields, problem};

const OPS: &str = "/services/operations/api";
const FIELDS: &str = "/services/fields/api";

crate::on_both_backends!(
    batch_upload_to_operations_over_http,
    batch_upload_rejects_bad_input_naming_the_field,
);

/// A file of the repository's `samples/` folder.
pub(crate) fn sample(rel: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../samples")
            .join(rel),
    )
    .unwrap()
}

fn afe_zip() -> Vec<u8> {
    sample("isoxml/isoxml-dotnet/AFE.zip")
}

const BOUNDARY: &str = "furrow-test-boundary-7d1f";

/// A multipart body: text fields, then (when given) a `file` part.
pub(crate) fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/zip\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub(crate) async fn post_batch(h: &Harness, query: &str, body: Vec<u8>) -> reqwest::Response {
    h.req(Method::POST, &format!("{OPS}/batch{query}"), &h.token_a)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

pub(crate) fn worker(h: &Harness) -> furrow_sync::Worker {
    furrow_sync::Worker::new(
        h.db.store.clone(),
        furrow_sync::Registry::new(),
        furrow_sync::WorkerConfig {
            id: "api-test-worker".into(),
            webhook_retry_delays: vec![Duration::ZERO],
            blobs: Some(crate::harness::blobs()),
            ..furrow_sync::WorkerConfig::default()
        },
    )
}

pub(crate) async fn drain(w: &furrow_sync::Worker) {
    let mut n = 0;
    while w.run_once().await.unwrap() {
        n += 1;
        assert!(n < 200, "the queue drains");
    }
}

pub(crate) async fn get_json(h: &Harness, path: &str) -> Value {
    let r = h.json(Method::GET, path, None).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.json().await.unwrap()
}

async fn batch_upload_to_operations_over_http(h: &Harness) {
    let user = h.user("grower").await;
    // One field over the west part of the planting log; the rest of its points fall outside every field.
    let r = h
        .json(
            Method::POST,
            &format!("{FIELDS}/users/{user}/fields"),
            Some(json!({"id": "west", "name": "West", "geometry": {"type": "MultiPolygon", "coordinates":
                [[[[8.0290, 52.3588], [8.0305, 52.3588], [8.0305, 52.3602], [8.0290, 52.3602], [8.0290, 52.3588]]]]}})),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = h
        .json(
            Method::PATCH,
            &format!("/services/config/api/configs/{user}"),
            Some(
                json!({"enableOutsideFieldGeojson": true, "enablePolygonOutput": true,
                "enableGeoparquetOutput": true,
                // AFE.zip's planting log names no crop, which Leaf requires unless told otherwise.
                "cropOptional": {"standardGeoJson": {"planted": {"crop": "optional"}}}}),
            ),
        )
        .await;
    assert_eq!(r.status(), 200);

    let zip = afe_zip();
    let r = post_batch(
        h,
        &format!("?leafUserId={user}&provider=Other"),
        multipart(&[], Some(("AFE.zip", &zip))),
    )
    .await;
    assert_eq!(r.status(), 201);
    let batch: Value = r.json().await.unwrap();
    assert_eq!(batch["status"], "RECEIVED");
    assert_eq!(batch["size"], zip.len());
    assert_eq!(batch["fileName"], "AFE.zip");
    let batch_id = batch["id"].as_str().unwrap().to_owned();

    drain(&worker(h)).await;

    let b = get_json(h, &format!("{OPS}/batch/{batch_id}")).await;
    assert_eq!(b["status"], "PROCESSED", "{b}");
    let file_id = b["leafFiles"][0].as_str().unwrap().to_owned();
    let status = get_json(h, &format!("{OPS}/batch/{batch_id}/status")).await;
    assert_eq!(status["converted"]["leafFiles"], json!([file_id]));
    let listed = get_json(h, &format!("{OPS}/files?batchId={batch_id}")).await;
    assert_eq!(listed["operations"].as_array().unwrap().len(), 1);
    let file = get_json(h, &format!("{OPS}/files/{file_id}")).await;
    assert_eq!(file["origin"], "uploaded");
    assert_eq!(file["status"], "processed");
    assert_eq!(file["fields"], json!(["west"]));
    assert_eq!(file["batchId"], batch_id);

    // The file's swath polygons (enablePolygonOutput).
    let link = get_json(h, &format!("{OPS}/files/{file_id}/polygonGeoparquet")).await;
    let bytes = h
        .req(
            Method::GET,
            link["downloadPolygonGeoparquet"].as_str().unwrap(),
            &h.token_a,
        )
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
    let steps = get_json(h, &format!("{OPS}/files/{file_id}/status")).await;
    assert_eq!(steps["standardGeojson"]["status"], "processed", "{steps}");
    assert_eq!(steps["areaAndYield"]["status"], "processed", "{steps}");

    // Points outside the field, as a downloadable GeoJSON.
    let outside = get_json(h, &format!("{OPS}/files/{file_id}/outsideFieldGeojson")).await;
    let count = outside["featureCount"].as_u64().unwrap();
    assert!(count > 0, "{outside}");
    let r = h
        .req(
            Method::GET,
            outside["downloadOutsideFieldGeojson"].as_str().unwrap(),
            &h.token_a,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let fc: Value = r.json().await.unwrap();
    assert_eq!(fc["features"].as_array().unwrap().len() as u64, count);

    // The operation.
    let r = h
        .json(
            Method::GET,
            &format!("{OPS}/operations?leafUserId={user}"),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-total-count"], "1");
    let ops: Value = r.json().await.unwrap();
    let op = &ops[0];
    assert_eq!(op["type"], "planted");
    assert_eq!(op["files"], json!([file_id]));
    assert_eq!(op["fields"][0]["id"], "west");
    assert!(op["fields"][0]["coverage"].as_f64().unwrap() > 0.0);
    assert_eq!(op["providers"], json!(["Leaf"]));
    assert_eq!(op["leafUserId"], user);
    assert_eq!(op["apiOwnerUsername"], "a@example.com");
    let id = op["id"].as_str().unwrap().to_owned();
    assert_eq!(get_json(h, &format!("{OPS}/operations/{id}")).await, *op);
    for (query, n) in [
        ("operationType=planted", 1),
        ("operationType=harvested", 0),
        ("fieldId=west", 1),
        ("fieldId=elsewhere", 0),
        ("provider=Leaf", 1),
        ("provider=JohnDeere", 0),
        ("startTime=2030-01-01T00:00:00Z", 0),
        ("sort=startTime,desc", 1),
        ("sort=type", 1),
    ] {
        let list = get_json(h, &format!("{OPS}/operations?{query}")).await;
        assert_eq!(list.as_array().unwrap().len(), n, "{query}");
    }
    let summary = get_json(h, &format!("{OPS}/operations/{id}/summary")).await;
    assert_eq!(summary["type"], "Feature");
    assert_eq!(summary["properties"]["operationType"], "planted");
    let standard_points = summary["properties"]["pointCounts"]["standard"]
        .as_u64()
        .unwrap();
    assert_eq!(standard_points + count, 4174, "inside + outside = the file");
    let units = get_json(h, &format!("{OPS}/operations/{id}/units")).await;
    assert!(units["seedRate"].is_string(), "{units}");
    let files = get_json(h, &format!("{OPS}/operations/{id}/files")).await;
    assert_eq!(files[0]["id"], file_id);

    // Output links and downloads.
    let link = get_json(h, &format!("{OPS}/operations/{id}/standardGeojson")).await;
    assert_eq!(link["standardGeojson"], link["downloadStandardGeojson"]);
    let r = h
        .req(
            Method::GET,
            link["downloadStandardGeojson"].as_str().unwrap(),
            &h.token_a,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/geo+json");
    let fc: Value = r.json().await.unwrap();
    assert_eq!(
        fc["features"].as_array().unwrap().len() as u64,
        standard_points
    );
    for artifact in [
        "standardGeoparquet",
        "filteredGeoparquet",
        "polygonGeoparquet",
    ] {
        let link = get_json(h, &format!("{OPS}/operations/{id}/{artifact}")).await;
        let key = format!("download{}{}", artifact[..1].to_uppercase(), &artifact[1..]);
        let url = link[&key].as_str().unwrap_or_else(|| panic!("{link}"));
        let bytes = h
            .req(Method::GET, url, &h.token_a)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(&bytes[..4], b"PAR1", "{artifact} is Parquet");
        assert_eq!(&bytes[bytes.len() - 4..], b"PAR1");
    }
    let filtered = get_json(h, &format!("{OPS}/operations/{id}/filteredGeojson")).await;
    assert!(filtered["downloadFilteredGeojson"].is_string());
    // The swath polygons as GeoJSON: one Polygon feature per standard point.
    let link = get_json(h, &format!("{OPS}/operations/{id}/polygonGeojson")).await;
    let fc: Value = h
        .req(
            Method::GET,
            link["downloadPolygonGeojson"].as_str().unwrap(),
            &h.token_a,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let features = fc["features"].as_array().unwrap();
    assert_eq!(features.len() as u64, standard_points);
    assert_eq!(features[0]["geometry"]["type"], "Polygon");

    // Owner B sees none of it.
    for path in [
        format!("{OPS}/operations/{id}"),
        format!("{OPS}/operations/{id}/summary"),
        format!("{OPS}/operations/{id}/download/standardGeojson"),
        format!("{OPS}/batch/{batch_id}"),
    ] {
        let r = h
            .json_as(&h.token_b.clone(), Method::GET, &path, None)
            .await;
        problem(r, 404, None).await;
    }
    let r = h
        .json_as(
            &h.token_b.clone(),
            Method::GET,
            &format!("{OPS}/operations"),
            None,
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
    problem(
        h.json(
            Method::GET,
            &format!("{OPS}/operations/{id}/download/nonsense"),
            None,
        )
        .await,
        404,
        None,
    )
    .await;
    let bad = h
        .json(
            Method::GET,
            &format!("{OPS}/operations?operationType=mowing"),
            None,
        )
        .await;
    assert_eq!(
        named_fields(&problem(bad, 400, None).await),
        ["operationType"]
    );
    let bad = h
        .json(Method::GET, &format!("{OPS}/operations?sort=acreage"), None)
        .await;
    assert_eq!(named_fields(&problem(bad, 400, None).await), ["sort"]);

    // Deleting the grower removes its files, operations and their blobs (through a durable job).
    let blobs = crate::harness::blobs();
    let user_keys = blobs.list(&format!("{}/{user}/", h.owner_a)).await.unwrap();
    assert!(
        user_keys.iter().any(|k| k.ends_with("/standard.parquet")),
        "{user_keys:?}"
    );
    let upload_keys = blobs
        .list(&format!("{}/uploads/", h.owner_a))
        .await
        .unwrap();
    assert_eq!(upload_keys.len(), 1, "the upload's original");
    let r = h
        .json(
            Method::DELETE,
            &format!("/services/usermanagement/api/users/{user}"),
            None,
        )
        .await;
    assert_eq!(r.status(), 204);
    drain(&worker(h)).await;
    assert!(
        blobs
            .list(&format!("{}/{user}/", h.owner_a))
            .await
            .unwrap()
            .is_empty(),
        "blobs removed with the user"
    );
    assert!(
        blobs
            .list(&format!("{}/uploads/", h.owner_a))
            .await
            .unwrap()
            .is_empty()
    );
    problem(
        h.json(Method::GET, &format!("{OPS}/operations/{id}"), None)
            .await,
        404,
        None,
    )
    .await;
    let user = h.user("grower-2").await;

    // On-demand syncs answer 202 at once; unknown users 404.
    for path in [
        format!("{FIELDS}/users/{user}/fields/sync"),
        format!("{OPS}/users/{user}/files/sync"),
    ] {
        let r = h.json(Method::POST, &path, None).await;
        assert_eq!(r.status(), 202, "{path}");
        let unknown = path.replace(&user, "00000000-0000-0000-0000-000000000000");
        problem(h.json(Method::POST, &unknown, None).await, 404, None).await;
    }
}

async fn batch_upload_rejects_bad_input_naming_the_field(h: &Harness) {
    let user = h.user("grower").await;
    let zip = afe_zip();
    let r = post_batch(h, "", multipart(&[], Some(("AFE.zip", &zip)))).await;
    assert_eq!(named_fields(&problem(r, 400, None).await), ["leafUserId"]);
    let r = post_batch(
        h,
        &format!("?leafUserId={user}&provider=Nobody"),
        multipart(&[], None),
    )
    .await;
    assert_eq!(
        named_fields(&problem(r, 400, None).await),
        ["provider", "file"]
    );
    // Fields may come as multipart parts too.
    let r = post_batch(
        h,
        "",
        multipart(
            &[("leafUserId", "00000000-0000-0000-0000-000000000000")],
            Some(("AFE.zip", &zip)),
        ),
    )
    .await;
    problem(r, 404, None).await;
    let big = vec![7u8; MAX_UPLOAD as usize + 1];
    let r = post_batch(
        h,
        &format!("?leafUserId={user}"),
        multipart(&[], Some(("big.zip", &big))),
    )
    .await;
    problem(r, 413, Some("fileTooLarge")).await;
    let r = h
        .req(
            Method::POST,
            &format!("{OPS}/batch?leafUserId={user}"),
            &h.token_a,
        )
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_client_error(),
        "not multipart: {}",
        r.status()
    );
    // Nothing was recorded for the refused uploads.
    let list = get_json(h, &format!("{OPS}/batch")).await;
    assert_eq!(list, json!([]));
}
