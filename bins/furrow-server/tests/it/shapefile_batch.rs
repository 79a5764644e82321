//! `POST /batch` takes shapefile exports on the real binary, on SQLite and PostgreSQL: John Deere's Operations
//! Center harvest export as it comes (its set in a folder), and one zip holding several sets (an Operations
//! Center export and a Gen4 swath polygon export, nested zips) give one processed `SHAPEFILE` file per set, with
//! its operation type and every record of its DBF counted.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::Server;

const OPS: &str = "/services/operations/api";

/// A John Deere sample export of the repository's `samples/` (SampleData, MIT).
fn john_deere(name: &str) -> Vec<u8> {
    std::fs::read(
        furrow_provider_sim::samples_dir()
            .join("shapefile/john-deere/Shapefiles")
            .join(name),
    )
    .unwrap()
}

/// Uploads `bytes` as `name` for `user`; the batch id.
async fn upload(server: &Server, token: &str, user: &str, name: &str, bytes: &[u8]) -> String {
    let boundary = "furrow-shapefile-batch-41d8";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/zip\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = reqwest::Client::new()
        .post(format!(
            "{}{OPS}/batch?leafUserId={user}&provider=Other",
            server.base
        ))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{name}");
    let batch: Value = r.json().await.unwrap();
    assert_eq!(batch["fileName"], name);
    batch["id"].as_str().unwrap().to_owned()
}

/// The batch's files once it is no longer being worked on, sorted by name.
async fn settled(server: &Server, token: &str, batch: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let b = server
            .get_json(token, &format!("{OPS}/batch/{batch}"))
            .await;
        let status = b["status"].as_str().unwrap_or_default().to_owned();
        if status != "RECEIVED" && status != "PROCESSING" {
            assert_eq!(status, "PROCESSED", "{b}");
            let page = server
                .get_json(token, &format!("{OPS}/files?batchId={batch}&size=100"))
                .await;
            let mut files = page["operations"].as_array().cloned().unwrap_or_default();
            files.sort_by_key(|f| f["fileName"].as_str().unwrap_or_default().to_owned());
            return files;
        }
        assert!(Instant::now() < deadline, "batch {batch} still {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A processed shapefile file's name, operation type and point counts: records read (`raw`, the DBF's count)
/// and points of the standard view (`standard`, after Leaf's cleanup).
async fn described(server: &Server, token: &str, f: &Value) -> (String, String, u64, u64) {
    assert_eq!(f["fileFormat"], "SHAPEFILE", "{f}");
    assert_eq!(f["status"], "processed", "{f}");
    assert_eq!(f["origin"], "uploaded", "{f}");
    let id = f["id"].as_str().unwrap();
    let summary = server
        .get_json(token, &format!("{OPS}/files/{id}/summary"))
        .await;
    let p = &summary["properties"];
    assert_eq!(p["operationType"], f["operationType"], "{summary}");
    let counts = &p["pointCounts"];
    let n = |k: &str| {
        counts[k]
            .as_u64()
            .unwrap_or_else(|| panic!("pointCounts.{k}: {counts}"))
    };
    // Every record is accounted for: a point of the standard view, or dropped by a documented rule.
    assert_eq!(
        n("raw"),
        n("invalidPosition")
            + n("noPosition")
            + n("jumps")
            + n("implausibleSpeed")
            + n("implausibleYield")
            + n("cleaned")
            + n("standard"),
        "{counts}"
    );
    (
        f["fileName"].as_str().unwrap().to_owned(),
        f["operationType"].as_str().unwrap().to_owned(),
        counts["raw"].as_u64().unwrap(),
        counts["standard"].as_u64().unwrap(),
    )
}

async fn shapefile_exports_upload_as_batches(server: &Server) {
    let token = server.token().await;
    let user = server.create_user(&token).await;

    // John Deere's Operations Center export as it comes: a zip with the set (and its -Deere-Metadata.json) in
    // a `doc/` folder.
    let name = "Export From MyJohnDeere - Harvest.zip";
    let batch = upload(server, &token, &user, name, &john_deere(name)).await;
    let files = settled(server, &token, &batch).await;
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        described(server, &token, &files[0]).await,
        (name.to_owned(), "harvested".to_owned(), 40_960, 40_570)
    );

    // Several sets in one zip: two exports nested as they were downloaded, one of them in a folder. One file
    // per set, named after the upload and the set.
    let seeding = "Export From MyJohnDeere - Seeding.zip";
    let polygons = "Gen4 - 4600 Application Data - Polygon - OneHertz.zip";
    let members = vec![
        (seeding.to_owned(), john_deere(seeding)),
        (format!("Gen4 4600/{polygons}"), john_deere(polygons)),
    ];
    let several = furrow_provider_sim::zip_of(&members);
    let batch = upload(server, &token, &user, "season.zip", &several).await;
    let files = settled(server, &token, &batch).await;
    let mut got = Vec::new();
    for f in &files {
        got.push(described(server, &token, f).await);
    }
    assert_eq!(
        got,
        [
            (
                "season.zip [--------Tank Mix Rate-Tank Mix, applied]".to_owned(),
                "applied".to_owned(),
                780,
                780
            ),
            (
                "season.zip [Merriweather Farms-JT-01-Soybeans, planted]".to_owned(),
                "planted".to_owned(),
                55_285,
                55_268
            ),
        ]
    );
    // The swath polygons of the Gen4 set are kept: its polygon output is there to ask for.
    let applied = files[0]["id"].as_str().unwrap();
    let r = reqwest::Client::new()
        .patch(format!(
            "{}/services/config/api/configs/{user}",
            server.base
        ))
        .bearer_auth(&token)
        .json(&json!({"enablePolygonOutput": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let link = server
        .get_json(&token, &format!("{OPS}/files/{applied}/polygonGeoparquet"))
        .await;
    let url = link["downloadPolygonGeoparquet"]
        .as_str()
        .unwrap_or_default();
    assert!(!url.is_empty(), "{link}");
    let bytes = reqwest::Client::new()
        .get(format!("{}{url}", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shapefile_exports_upload_as_batches_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), None);
    shapefile_exports_upload_as_batches(&server).await;
}

#[cfg(furrow_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shapefile_exports_upload_as_batches_on_postgres() {
    let db = furrow_store::testing::TestDb::new(furrow_store::Backend::Postgres).await;
    let server = Server::start(&db.data_dir, db.database_url.as_deref());
    shapefile_exports_upload_as_batches(&server).await;
    drop(server);
    db.cleanup().await;
}
