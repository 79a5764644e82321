use furrow_model::UserInput;
use furrow_store::{FileStatus, FileUpdate, NewFile};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, problem};

const OPS: &str = "/services/operations/api";

crate::on_both_backends!(
    files_list_filters_pages_and_envelope,
    file_resource_status_summary_units_and_downloads,
    files_of_other_owners_are_invisible,
);

struct Seeded {
    processed: String,
    failed: String,
    user: String,
    parquet: Vec<u8>,
    /// Points in the standard GeoParquet.
    points: u64,
}

/// A real standard GeoParquet file: the first task of the AFE sample, converted (once per test process).
fn standard_parquet() -> &'static (Vec<u8>, u64) {
    static CONVERTED: std::sync::OnceLock<(Vec<u8>, u64)> = std::sync::OnceLock::new();
    CONVERTED.get_or_init(|| {
        let scratch = tempfile::tempdir().unwrap();
        let sample = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../samples/isoxml/isoxml-dotnet/AFE.zip");
        let found = furrow_pipeline::detect(&sample, scratch.path(), &Default::default()).unwrap();
        let opened = furrow_pipeline::open(&found.datasets[0]).unwrap();
        let unit = opened.units().into_iter().next().unwrap();
        let c = opened
            .convert(&unit, &Default::default(), scratch.path())
            .unwrap();
        (std::fs::read(&c.parquet).unwrap(), c.counts.written)
    })
}

async fn seed(h: &Harness, owner: &str, user: &str) -> Seeded {
    let blobs = crate::harness::blobs();
    let new = |pid: &str| NewFile {
        user_id: user.into(),
        provider: "CLAAS".into(),
        provider_file_id: pid.into(),
        credential_id: None,
        organization_id: Some("4201".into()),
        origin: "provider".into(),
        file_name: format!("{pid}.zip"),
        file_format: Some("ISO11783".into()),
        size_bytes: Some(3),
        ..Default::default()
    };
    let (processed, _) =
        h.db.store
            .insert_file_if_absent(owner, &new("mf-1"))
            .await
            .unwrap();
    let (failed, _) =
        h.db.store
            .insert_file_if_absent(owner, &new("mf-2"))
            .await
            .unwrap();
    let original_key = format!("{owner}/{user}/originals/{processed}/original");
    blobs
        .put_bytes(&original_key, bytes::Bytes::from_static(b"zip"))
        .await
        .unwrap();
    let (parquet, points) = standard_parquet().clone();
    let standard_key = format!("{owner}/{user}/files/{processed}/standard.parquet");
    blobs
        .put_bytes(&standard_key, bytes::Bytes::from(parquet.clone()))
        .await
        .unwrap();
    h.db.store
        .update_file(
            owner,
            &processed,
            &FileUpdate {
                status: Some(FileStatus::Processed),
                steps: vec![
                    ("original".into(), "DONE".into()),
                    ("standard".into(), "DONE".into()),
                    ("geojson".into(), "DONE".into()),
                    ("summary".into(), "DONE".into()),
                    ("units".into(), "DONE".into()),
                ],
                original_key: Some(original_key.clone()),
                operation_type: Some("harvested".into()),
                start_time: Some(1_714_521_600_000_000), // 2024-05-01T00:00:00Z
                end_time: Some(1_714_525_200_000_000),
                summary: Some(json!({"type": "Feature", "properties": {"operationType": "harvested"}, "geometry": null})),
                units: Some(json!({"speed": "m/s", "area": "m2"})),
                standard_key: Some(standard_key),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    h.db.store
        .update_file(
            owner,
            &failed,
            &FileUpdate {
                status: Some(FileStatus::Failed),
                steps: vec![
                    ("original".into(), "DONE".into()),
                    ("standard".into(), "FAILED".into()),
                ],
                message: Some(Some("no time logs to convert".into())),
                original_key: Some(original_key),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    Seeded {
        processed,
        failed,
        user: user.to_owned(),
        parquet,
        points,
    }
}

async fn list(h: &Harness, token: &str, query: &str) -> (Vec<Value>, reqwest::header::HeaderMap) {
    let r = h
        .json_as(token, Method::GET, &format!("{OPS}/files{query}"), None)
        .await;
    assert_eq!(r.status(), 200, "{query}");
    let headers = r.headers().clone();
    let body: Value = r.json().await.unwrap();
    (body["operations"].as_array().unwrap().clone(), headers)
}

async fn files_list_filters_pages_and_envelope(h: &Harness) {
    let user = h.user("grower").await;
    let other = h.user("other").await;
    let s = seed(h, &h.owner_a, &user).await;
    let (all, headers) = list(h, &h.token_a, "").await;
    assert_eq!(all.len(), 2);
    assert_eq!(headers["x-total-count"], "2");
    assert_eq!(all[0]["id"], s.processed.as_str());
    assert_eq!(all[0]["status"], "processed");
    assert_eq!(all[1]["status"], "failed");
    assert_eq!(all[1]["message"], "no time logs to convert");
    let ids = |v: &[Value]| -> Vec<String> {
        v.iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&list(h, &h.token_a, "?status=processed").await.0),
        vec![s.processed.clone()]
    );
    assert_eq!(
        ids(&list(h, &h.token_a, "?status=FAILED").await.0),
        vec![s.failed.clone()]
    );
    assert_eq!(
        ids(
            &list(h, &h.token_a, "?operationType=harvested&provider=CLAAS")
                .await
                .0
        ),
        vec![s.processed.clone()]
    );
    assert!(
        list(h, &h.token_a, "?provider=JohnDeere")
            .await
            .0
            .is_empty()
    );
    // Sorting by Leaf's keys (file names mf-1.zip, mf-2.zip), filters by organization and creation time.
    assert_eq!(
        ids(&list(h, &h.token_a, "?sort=fileName,desc").await.0),
        vec![s.failed.clone(), s.processed.clone()]
    );
    assert_eq!(
        ids(&list(h, &h.token_a, "?sort=fileName").await.0),
        vec![s.processed.clone(), s.failed.clone()]
    );
    assert_eq!(list(h, &h.token_a, "?organizationId=4201").await.0.len(), 2);
    assert!(list(h, &h.token_a, "?organizationId=9").await.0.is_empty());
    assert!(
        list(h, &h.token_a, "?createdTime=2100-01-01T00:00:00Z")
            .await
            .0
            .is_empty()
    );
    let bad = h
        .json(Method::GET, &format!("{OPS}/files?sort=colour,asc"), None)
        .await;
    assert_eq!(
        crate::harness::named_fields(&problem(bad, 400, None).await),
        ["sort"]
    );
    assert_eq!(
        list(h, &h.token_a, &format!("?leafUserId={}", s.user))
            .await
            .0
            .len(),
        2
    );
    assert!(
        list(h, &h.token_a, &format!("?leafUserId={other}"))
            .await
            .0
            .is_empty()
    );
    assert_eq!(
        ids(&list(h, &h.token_a, "?startTime=2024-04-30T00:00:00Z")
            .await
            .0),
        vec![s.processed.clone()]
    );
    assert!(
        list(h, &h.token_a, "?startTime=2024-05-02T00:00:00Z")
            .await
            .0
            .is_empty()
    );
    assert!(
        list(h, &h.token_a, "?endTime=2024-05-01T00:30:00Z")
            .await
            .0
            .is_empty()
    );
    let (page, headers) = list(h, &h.token_a, "?page=0&size=1").await;
    assert_eq!(ids(&page), vec![s.processed.clone()]);
    assert_eq!(headers["x-total-count"], "2");
    let link = headers["link"].to_str().unwrap();
    assert!(link.contains("page=1&size=1>; rel=\"next\""), "{link}");
    let r = h
        .json(Method::GET, &format!("{OPS}/files?status=done"), None)
        .await;
    problem(r, 400, None).await;
    let r = h
        .json(
            Method::GET,
            &format!("{OPS}/files?startTime=yesterday"),
            None,
        )
        .await;
    problem(r, 400, None).await;
    let r = h
        .client
        .get(h.url(&format!("{OPS}/files")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

async fn file_resource_status_summary_units_and_downloads(h: &Harness) {
    let user = h.user("grower").await;
    let s = seed(h, &h.owner_a, &user).await;
    let get = |path: String| async move {
        let r = h.json(Method::GET, &path, None).await;
        assert_eq!(r.status(), 200, "{path}");
        r.json::<Value>().await.unwrap()
    };
    let f = get(format!("{OPS}/files/{}", s.processed)).await;
    assert_eq!(f["fileName"], "mf-1.zip");
    assert_eq!(f["provider"], "CLAAS");
    assert_eq!(f["leafUserId"], user.as_str());
    assert_eq!(f["apiOwnerUsername"], "a@example.com");
    assert_eq!(f["origin"], "provider");
    assert_eq!(f["summary"]["type"], "Feature");
    let dl_geojson = format!("{OPS}/files/{}/download/standardGeojson", s.processed);
    assert_eq!(f["downloadStandardGeojson"], dl_geojson.as_str());
    let status = get(format!("{OPS}/files/{}/status", s.processed)).await;
    assert_eq!(
        status["originalFile"],
        json!({"status": "processed", "message": "ok"})
    );
    assert_eq!(status["standardGeojson"]["status"], "processed");
    let failed = get(format!("{OPS}/files/{}/status", s.failed)).await;
    assert_eq!(
        failed["standardGeoparquet"],
        json!({"status": "failed", "message": "no time logs to convert"})
    );
    let summary = get(format!("{OPS}/files/{}/summary", s.processed)).await;
    assert_eq!(summary["properties"]["operationType"], "harvested");
    let units = get(format!("{OPS}/files/{}/units", s.processed)).await;
    assert_eq!(units, json!({"speed": "m/s", "area": "m2"}));
    let r = h
        .json(
            Method::GET,
            &format!("{OPS}/files/{}/units", s.failed),
            None,
        )
        .await;
    problem(r, 404, None).await;
    // The GeoParquet download answers only with enableGeoparquetOutput on.
    let r = h
        .json(
            Method::GET,
            &format!("{OPS}/files/{}/standardGeoparquet", s.processed),
            None,
        )
        .await;
    let p = problem(r, 404, None).await;
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("enableGeoparquetOutput"),
        "{p}"
    );
    h.db.store
        .merge_config(
            &h.owner_a,
            None,
            json!({"enableGeoparquetOutput": true}).as_object().unwrap(),
        )
        .await
        .unwrap();
    let link = get(format!("{OPS}/files/{}/standardGeoparquet", s.processed)).await;
    let url = link["downloadStandardGeoparquet"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        url,
        format!("{OPS}/files/{}/download/standardGeoparquet", s.processed)
    );
    let r = h.req(Method::GET, &url, &h.token_a).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.apache.parquet"
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), s.parquet.as_slice());
    let r = h
        .req(Method::GET, &dl_geojson, &h.token_a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/geo+json");
    let fc: Value = r.json().await.unwrap();
    assert_eq!(fc["type"], "FeatureCollection");
    // Written on request from the stored GeoParquet: one feature a point.
    assert_eq!(fc["features"].as_array().unwrap().len() as u64, s.points);
    // Downloads need the token.
    let r = h.client.get(h.url(&url)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // A failed file has no standard output.
    let r = h
        .json(
            Method::GET,
            &format!("{OPS}/files/{}/standardGeoparquet", s.failed),
            None,
        )
        .await;
    problem(r, 404, None).await;
    let r = h
        .json(
            Method::GET,
            &format!("{OPS}/files/{}/download/nonsense", s.processed),
            None,
        )
        .await;
    problem(r, 404, None).await;
    let r = h
        .json(Method::GET, &format!("{OPS}/files/not-a-file"), None)
        .await;
    problem(r, 404, None).await;
}

async fn files_of_other_owners_are_invisible(h: &Harness) {
    let user = h.user("grower").await;
    let s = seed(h, &h.owner_a, &user).await;
    let owner_b =
        h.db.store
            .owner_by_username("b@example.com")
            .await
            .unwrap()
            .unwrap()
            .id;
    let user_b =
        h.db.store
            .create_user(
                &owner_b,
                &UserInput {
                    name: Some("b".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
    let sb = seed(h, &owner_b, &user_b).await;
    let (b_files, headers) = list(h, &h.token_b, "").await;
    assert_eq!(headers["x-total-count"], "2");
    let b_ids: Vec<&str> = b_files.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(b_ids, vec![sb.processed.as_str(), sb.failed.as_str()]);
    for path in [
        format!("{OPS}/files/{}", s.processed),
        format!("{OPS}/files/{}/status", s.processed),
        format!("{OPS}/files/{}/summary", s.processed),
        format!("{OPS}/files/{}/units", s.processed),
        format!("{OPS}/files/{}/standardGeoparquet", s.processed),
        format!("{OPS}/files/{}/download/standardGeoparquet", s.processed),
        format!("{OPS}/files/{}/download/originalFile", s.processed),
    ] {
        let r = h.json_as(&h.token_b, Method::GET, &path, None).await;
        problem(r, 404, None).await;
    }
    // A's filter on A's user id shows nothing to B.
    assert!(
        list(h, &h.token_b, &format!("?leafUserId={user}"))
            .await
            .0
            .is_empty()
    );
}
