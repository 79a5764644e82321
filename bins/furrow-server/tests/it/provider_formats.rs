//! Machine files as four providers really deliver them, synced by the real binary from their simulators:
//! Ag Leader's SMS shapefile exports and Raven Slingshot's jobs (fetched as shapefiles) convert, one file per
//! set; Climate FieldView's and Panorama's 20|20 files and Ag Leader's INTEGRA display data are kept as
//! unsupported with the reason. Nothing else fails.

use std::time::{Duration, Instant};

use furrow_credentials::Provider;
use furrow_provider_sim::Simulator;
use serde_json::{Value, json};

use super::{Server, UM};

const OPS: &str = "/services/operations/api";

/// `(provider, fileName, fileFormat, operationType or the refusal, raw points, standard points)`.
type Row = (String, String, String, String, u64, u64);

async fn providers_deliver_what_furrow_converts_or_keeps(db: Option<(&std::path::Path, &str)>) {
    let kinds = [
        Provider::ClimateFieldView,
        Provider::Panorama,
        Provider::AgLeader,
        Provider::RavenSlingshot,
    ];
    let mut sims = Vec::new();
    let mut flags = Vec::new();
    for kind in kinds {
        let sim = Simulator::start(kind).await.unwrap();
        flags.push("--provider-url".to_owned());
        flags.push(format!("{}={}", kind.slug(), sim.base_url()));
        sims.push(sim);
    }
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let dir = tempfile::tempdir().unwrap();
    let server = match db {
        Some((data, url)) => Server::start_with(data, Some(url), &flags),
        None => Server::start_with(&dir.path().join("data"), None, &flags),
    };
    let token = server.token().await;
    let user = server.create_user(&token).await;
    let http = reqwest::Client::new();
    // The grower's files come at once, not held until organizations are picked.
    let r = http
        .patch(format!(
            "{}/services/config/api/configs/{user}",
            server.base
        ))
        .bearer_auth(&token)
        .json(&json!({"customDataSync": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for (kind, sim) in kinds.iter().zip(&sims) {
        let body: serde_json::Map<String, Value> = sim
            .credential()
            .into_iter()
            .filter(|(k, _)| kind.field(k).is_some_and(|f| f.in_create))
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let r = http
            .post(format!(
                "{}{UM}/users/{user}/{}-credentials",
                server.base,
                kind.slug()
            ))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{kind}");
    }

    // 3 + 3 files of 20|20 data, 4 from Ag Leader (one export holds two sets), 3 Slingshot jobs.
    let deadline = Instant::now() + Duration::from_secs(240);
    let files = loop {
        let page = server
            .get_json(
                &token,
                &format!("{OPS}/files?leafUserId={user}&size=100&sort=fileName,asc"),
            )
            .await;
        let files = page["operations"].as_array().cloned().unwrap_or_default();
        if files.len() >= 13 && files.iter().all(|f| f["status"] != "processing") {
            break files;
        }
        assert!(Instant::now() < deadline, "files still arriving: {page}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let mut got: Vec<Row> = Vec::new();
    for f in &files {
        let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
        let (outcome, raw, standard) = if f["status"] == "processed" {
            let summary = server
                .get_json(&token, &format!("{OPS}/files/{}/summary", s("id")))
                .await;
            let counts = &summary["properties"]["pointCounts"];
            (
                s("operationType"),
                counts["raw"].as_u64().unwrap(),
                counts["standard"].as_u64().unwrap(),
            )
        } else {
            assert_eq!(f["status"], "failed", "{f}");
            assert!(
                s("message").ends_with(
                    "cannot be converted (no public specification); the original is kept"
                ),
                "only unsupported formats are refused: {f}"
            );
            (s("message"), 0, 0)
        };
        got.push((
            s("provider"),
            s("fileName"),
            s("fileFormat"),
            outcome,
            raw,
            standard,
        ));
    }
    got.sort();
    let pp = "unsupported file format: Precision Planting 20|20 data cannot be converted (no public \
              specification); the original is kept";
    let agdata = "unsupported file format: Ag Leader display data cannot be converted (no public \
                  specification); the original is kept";
    let row = |p: &str, name: &str, format: &str, outcome: &str, raw: u64, standard: u64| -> Row {
        (
            p.into(),
            name.into(),
            format.into(),
            outcome.into(),
            raw,
            standard,
        )
    };
    assert_eq!(
        got,
        [
            row(
                "AgLeader",
                "INTEGRA - 2024 Planting.zip",
                "AGDATA",
                agdata,
                0,
                0
            ),
            row(
                "AgLeader",
                "SMS Export - 2023 Harvest.zip [Prairie Farms_Creek Bottom_2023_Corn_Harvest, harvested]",
                "SHAPEFILE",
                "harvested",
                3600,
                3600
            ),
            row(
                "AgLeader",
                "SMS Export - 2023 Harvest.zip [Prairie Farms_Split Quarter_2023_Soybeans_Harvest, harvested]",
                "SHAPEFILE",
                "harvested",
                1600,
                1600
            ),
            row(
                "AgLeader",
                "SMS Export - North 40 - 2023 Harvest.zip",
                "SHAPEFILE",
                "harvested",
                2400,
                2400
            ),
            row(
                "ClimateFieldView",
                "asApplied-mf-1102.zip",
                "PP2020",
                pp,
                0,
                0
            ),
            row(
                "ClimateFieldView",
                "asHarvested-mf-1101.zip",
                "PP2020",
                pp,
                0,
                0
            ),
            row(
                "ClimateFieldView",
                "asPlanted-mf-1100.zip",
                "PP2020",
                pp,
                0,
                0
            ),
            row(
                "Panorama",
                "Creek Bottom - Planting 2024.zip",
                "PP2020",
                pp,
                0,
                0
            ),
            row(
                "Panorama",
                "North 40 - Harvest 2023 (Gen2).zip",
                "PP2020",
                pp,
                0,
                0
            ),
            row(
                "Panorama",
                "North 40 - Planting 2024.zip",
                "PP2020",
                pp,
                0,
                0
            ),
            row(
                "RavenSlingshot",
                "Creek Bottom - Fungicide - 2024-07-20",
                "SHAPEFILE",
                "applied",
                840,
                840
            ),
            row(
                "RavenSlingshot",
                "North 40 - Herbicide - 2024-05-14",
                "SHAPEFILE",
                "applied",
                1920,
                1920
            ),
            row(
                "RavenSlingshot",
                "Split Quarter - Liquid N - 2024-06-05",
                "SHAPEFILE",
                "applied",
                480,
                480
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_deliver_what_furrow_converts_or_keeps_on_sqlite() {
    providers_deliver_what_furrow_converts_or_keeps(None).await;
}

#[cfg(furrow_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_deliver_what_furrow_converts_or_keeps_on_postgres() {
    let db = furrow_store::testing::TestDb::new(furrow_store::Backend::Postgres).await;
    providers_deliver_what_furrow_converts_or_keeps(Some((
        &db.data_dir,
        db.database_url.as_deref().unwrap(),
    )))
    .await;
    db.cleanup().await;
}
