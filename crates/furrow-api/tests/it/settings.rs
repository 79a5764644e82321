//! The pipeline's settings seen through the API: a multi-task export, imperial units, and the optional outputs.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, problem};
use crate::operations::{drain, get_json, multipart, post_batch, sample, worker};

const OPS: &str = "/services/operations/api";
const C: &str = "/services/config/api/configs";

crate::on_both_backends!(
    a_multi_task_export_gives_every_task_as_a_file,
    imperial_users_get_imperial_units_and_values,
    optional_outputs_answer_only_when_switched_on,
);

pub(crate) async fn configure(h: &Harness, user: &str, cfg: Value) {
    let r = h
        .json(Method::PATCH, &format!("{C}/{user}"), Some(cfg))
        .await;
    assert_eq!(r.status(), 200);
}

/// Uploads a sample for `user`, runs the worker dry, and returns the batch.
pub(crate) async fn upload(h: &Harness, user: &str, rel: &str) -> Value {
    let zip = sample(rel);
    let name = rel.rsplit('/').next().unwrap();
    let r = post_batch(
        h,
        &format!("?leafUserId={user}&provider=Other"),
        multipart(&[], Some((name, &zip))),
    )
    .await;
    assert_eq!(r.status(), 201);
    let batch: Value = r.json().await.unwrap();
    drain(&worker(h)).await;
    get_json(h, &format!("{OPS}/batch/{}", batch["id"].as_str().unwrap())).await
}

/// Records written per task and operation type by a direct conversion (what `furrow convert` writes).
fn direct_counts(rel: &str) -> std::collections::BTreeMap<String, u64> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../samples")
        .join(rel);
    let td = furrow_isoxml::TaskData::open(&path).unwrap();
    let opts = furrow_machine_data::ConvertOptions::default();
    let dir = tempfile::tempdir().unwrap();
    furrow_machine_data::plan(&td, &opts)
        .iter()
        .map(|p| {
            let w = furrow_machine_data::write_plans(
                &td,
                &[p],
                &opts,
                &dir.path().join("x.parquet"),
                &Default::default(),
                &mut |_| {},
            )
            .unwrap();
            (
                format!("{}/{}", p.task_id, p.operation_type),
                w.outcomes[0].counts.written,
            )
        })
        .collect()
}

async fn a_multi_task_export_gives_every_task_as_a_file(h: &Harness) {
    let user = h.user("grower").await;
    configure(
        h,
        &user,
        json!({"cropOptional": {"standardGeoJson": {"planted": {"crop": "optional"}}}}),
    )
    .await;
    let rel = "isoxml/isoxml-dotnet/ValidTimeLogs.zip";
    let batch = upload(h, &user, rel).await;
    let want = direct_counts(rel);
    assert_eq!(want.len(), 19, "a real CCI export of 19 tasks");
    let files = batch["leafFiles"].as_array().unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for id in files {
        let f = get_json(h, &format!("{OPS}/files/{}", id.as_str().unwrap())).await;
        let stored =
            h.db.store
                .get_file(&h.owner_a, id.as_str().unwrap())
                .await
                .unwrap();
        // The dataset key ends with the task and operation type.
        let key = stored.dataset_key.clone().unwrap();
        let mut parts = key.rsplit('/');
        let (op, task) = (parts.next().unwrap(), parts.next().unwrap_or_default());
        let task_op = format!("{task}/{op}");
        if let Some(n) = want.get(&task_op) {
            let counts = stored.counts.clone().unwrap_or(Value::Null);
            let written = counts["written"].as_u64().unwrap();
            assert_eq!(written, *n, "{task_op}: {f}");
            if written > 0 {
                assert_eq!(f["status"], "processed", "{f}");
            } else {
                assert_eq!(f["message"], "no points passed the filter", "{f}");
            }
            seen.insert(task_op, written);
        } else {
            // Not a converted task: a refused one, with its reason.
            assert_eq!(f["status"], "failed", "{f}");
            assert!(f["message"].is_string(), "{f}");
        }
    }
    assert_eq!(seen, want, "every task of the export is a file");
    assert_eq!(batch["status"], "PROCESSED", "{batch}");
    // The grower has no fields yet: files attach to none, and no operation is made (operations are per field).
    let ops: Value = get_json(h, &format!("{OPS}/operations?leafUserId={user}&size=100")).await;
    assert_eq!(ops, json!([]));

    // A field over every point of the export: creating it re-allocates the files, and each processed file
    // (of a standard type) joins exactly one operation of its type on that field.
    let mut processed: std::collections::BTreeMap<String, String> = Default::default();
    let (mut west, mut south, mut east, mut north) = (180.0f64, 90.0f64, -180.0f64, -90.0f64);
    for id in files {
        let id = id.as_str().unwrap();
        let f = get_json(h, &format!("{OPS}/files/{id}")).await;
        if f["status"] != "processed" {
            continue;
        }
        let fc: Value = h
            .req(
                Method::GET,
                &format!("{OPS}/files/{id}/download/standardGeojson"),
                &h.token_a,
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for feature in fc["features"].as_array().unwrap() {
            let c = &feature["geometry"]["coordinates"];
            let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
            (west, south, east, north) = (west.min(x), south.min(y), east.max(x), north.max(y));
        }
        // Files of type `other` make no operation (outOfStandardOperations is off).
        let summary = get_json(h, &format!("{OPS}/files/{id}/summary")).await;
        let kind = summary["properties"]["operationType"].as_str().unwrap();
        if kind != "other" {
            processed.insert(id.to_owned(), kind.to_owned());
        }
    }
    assert!(!processed.is_empty() && west < east && south < north);
    let m = 0.001;
    let ring = json!([
        [west - m, south - m],
        [east + m, south - m],
        [east + m, north + m],
        [west - m, north + m],
        [west - m, south - m]
    ]);
    let r = h
        .json(
            Method::POST,
            &format!("/services/fields/api/users/{user}/fields"),
            Some(
                json!({"id": "all", "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]}}),
            ),
        )
        .await;
    assert_eq!(r.status(), 201);
    drain(&worker(h)).await;
    let ops: Value = get_json(h, &format!("{OPS}/operations?leafUserId={user}&size=100")).await;
    let ops = ops.as_array().unwrap();
    assert!(!ops.is_empty());
    let mut in_operations = std::collections::BTreeMap::new();
    for op in ops {
        assert_eq!(op["fields"][0]["id"], "all", "{op}");
        for file in op["files"].as_array().unwrap() {
            let file = file.as_str().unwrap().to_owned();
            assert_eq!(
                Some(&op["type"]),
                processed.get(&file).map(|t| json!(t)).as_ref(),
                "{op}"
            );
            assert!(
                in_operations
                    .insert(file.clone(), op["id"].clone())
                    .is_none(),
                "{file} is in two operations"
            );
        }
    }
    assert_eq!(
        in_operations.keys().collect::<Vec<_>>(),
        processed.keys().collect::<Vec<_>>(),
        "every processed file is in an operation"
    );

    // What the user's data holds in the blob store: the files' standard GeoParquet only (GeoJSON views are
    // streamed from it on request, never stored). On this export the GeoParquet is 2.4 times the zip (37,914
    // points at 135 bytes: derived doubles compress little, and a point's coordinates are kept four times:
    // geometry, x/y and the bbox covering); issue 22 asks for 2 times, which this bound does not claim yet: it
    // keeps the figure from growing.
    let blobs = crate::harness::blobs();
    let prefix = furrow_store::blobs::user_prefix(&h.owner_a, &user);
    let mut by_name = std::collections::BTreeMap::<String, u64>::new();
    for key in blobs.list(&prefix).await.unwrap() {
        let size = blobs.size(&key).await.unwrap().unwrap_or(0);
        let name = key.rsplit('/').next().unwrap_or_default().to_owned();
        *by_name.entry(name).or_default() += size;
    }
    let stored: u64 = by_name.values().sum();
    let original = sample(rel).len() as u64;
    eprintln!("ValidTimeLogs: {stored} bytes stored for a {original}-byte original: {by_name:?}");
    assert_eq!(
        by_name.keys().collect::<Vec<_>>(),
        ["standard.parquet"],
        "{by_name:?}"
    );
    assert!(
        stored * 2 <= original * 5,
        "{stored} bytes stored for a {original}-byte original: {by_name:?}"
    );
}

/// The first feature's value of `property` in a file's standard GeoJSON.
async fn first_value(h: &Harness, file: &str, property: &str) -> f64 {
    let r = h
        .req(
            Method::GET,
            &format!("{OPS}/files/{file}/download/standardGeojson"),
            &h.token_a,
        )
        .send()
        .await
        .unwrap();
    let fc: Value = r.json().await.unwrap();
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|f| f["properties"][property].as_f64().filter(|v| *v > 0.0))
        .unwrap()
}

async fn imperial_users_get_imperial_units_and_values(h: &Harness) {
    let crop = json!({"standardGeoJson": {"planted": {"crop": "optional"}}});
    let metric = h.user("metric").await;
    configure(
        h,
        &metric,
        json!({"cropOptional": crop, "unitMeasurement": "METRIC"}),
    )
    .await;
    let imperial = h.user("imperial").await;
    configure(
        h,
        &imperial,
        json!({"cropOptional": crop, "unitMeasurement": "IMPERIAL"}),
    )
    .await;
    let m = upload(h, &metric, "isoxml/isoxml-dotnet/AFE.zip").await;
    let i = upload(h, &imperial, "isoxml/isoxml-dotnet/AFE.zip").await;
    let (mf, imf) = (
        m["leafFiles"][0].as_str().unwrap().to_owned(),
        i["leafFiles"][0].as_str().unwrap().to_owned(),
    );
    let units = get_json(h, &format!("{OPS}/files/{imf}/units")).await;
    assert_eq!(units["equipmentWidth"], "ft");
    assert_eq!(units["seedRate"], "seeds/ac");
    assert_eq!(units["speed"], "ft/s");
    let metric_units = get_json(h, &format!("{OPS}/files/{mf}/units")).await;
    assert_eq!(metric_units["equipmentWidth"], "m");
    let summary = get_json(h, &format!("{OPS}/files/{imf}/summary")).await;
    assert_eq!(summary["properties"]["totalArea"]["unit"], "ac");
    assert_eq!(summary["properties"]["seedRate"]["unit"], "seeds/ac");
    // Checked by hand: the planter's 21 row units each log a working width of 381 mm (DDI 0x0043); together
    // 8.001 m, which is 8.001 / 0.3048 = 26.25 ft exactly.
    let width_m = first_value(h, &mf, "equipmentWidth").await;
    let width_ft = first_value(h, &imf, "equipmentWidth").await;
    assert!((width_m - 8.001).abs() < 1e-9, "{width_m}");
    assert!((width_ft - 26.25).abs() < 1e-9, "{width_ft}");
    // And seeds per hectare become seeds per acre (1 ac = 0.404686 ha).
    let rate_m = summary_avg(h, &mf, "seedRate").await;
    let rate_i = summary_avg(h, &imf, "seedRate").await;
    assert!(
        (rate_i - rate_m * 0.404_685_642_24).abs() < 1e-6 * rate_m,
        "{rate_m} vs {rate_i}"
    );
}

async fn summary_avg(h: &Harness, file: &str, property: &str) -> f64 {
    get_json(h, &format!("{OPS}/files/{file}/summary")).await["properties"][property]["avg"]
        .as_f64()
        .unwrap()
}

async fn optional_outputs_answer_only_when_switched_on(h: &Harness) {
    let user = h.user("grower").await;
    // A field around the planting log, so that it makes an operation.
    let r = h
        .json(
            Method::POST,
            &format!("/services/fields/api/users/{user}/fields"),
            Some(json!({"name": "Hof Esch", "geometry": {"type": "MultiPolygon", "coordinates":
                [[[[8.0290, 52.3588], [8.0356, 52.3588], [8.0356, 52.3602], [8.0290, 52.3602], [8.0290, 52.3588]]]]}})),
        )
        .await;
    assert_eq!(r.status(), 201);
    configure(
        h,
        &user,
        json!({"cropOptional": {"standardGeoJson": {"planted": {"crop": "optional"}}},
               "operationsFilteredGeojson": false}),
    )
    .await;
    let batch = upload(h, &user, "isoxml/isoxml-dotnet/AFE.zip").await;
    let file = batch["leafFiles"][0].as_str().unwrap().to_owned();
    let ops = get_json(h, &format!("{OPS}/operations?leafUserId={user}")).await;
    let op = ops[0]["id"].as_str().unwrap().to_owned();
    let off = |path: String, key: &'static str| async move {
        let r = h.json(Method::GET, &path, None).await;
        let p = problem(r, 404, None).await;
        assert!(p["message"].as_str().unwrap().contains(key), "{path}: {p}");
    };
    off(
        format!("{OPS}/files/{file}/polygonGeoparquet"),
        "enablePolygonOutput",
    )
    .await;
    off(
        format!("{OPS}/files/{file}/download/polygonGeoparquet"),
        "enablePolygonOutput",
    )
    .await;
    off(
        format!("{OPS}/files/{file}/outsideFieldGeojson"),
        "enableOutsideFieldGeojson",
    )
    .await;
    off(
        format!("{OPS}/files/{file}/standardGeoparquet"),
        "enableGeoparquetOutput",
    )
    .await;
    off(
        format!("{OPS}/operations/{op}/filteredGeojson"),
        "operationsFilteredGeojson",
    )
    .await;
    off(
        format!("{OPS}/operations/{op}/standardGeoparquet"),
        "enableGeoparquetOutput",
    )
    .await;
    // The standard GeoJSON needs no switch.
    assert!(
        get_json(h, &format!("{OPS}/operations/{op}/standardGeojson")).await["standardGeojson"]
            .is_string()
    );
    configure(
        h,
        &user,
        json!({"enablePolygonOutput": true, "enableGeoparquetOutput": true, "operationsFilteredGeojson": true}),
    )
    .await;
    assert!(get_json(h, &format!("{OPS}/files/{file}/polygonGeoparquet")).await["downloadPolygonGeoparquet"].is_string());
    assert!(get_json(h, &format!("{OPS}/files/{file}/standardGeoparquet")).await["downloadStandardGeoparquet"].is_string());
    assert!(
        get_json(h, &format!("{OPS}/operations/{op}/filteredGeojson")).await["filteredGeojson"]
            .is_string()
    );
}
