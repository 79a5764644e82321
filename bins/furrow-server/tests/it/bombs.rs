//! Hostile uploads against the binary's memory budget: four XML bombs at once (a 100 MiB `TASKDATA.XML`
//! packed into a zip of about a megabyte each) fail with a message naming the memory they would need, a
//! real upload sent beside them is processed, and the server's peak resident memory stays under 512 MB.

use std::io::Write as _;
use std::time::{Duration, Instant};

use crate::Server;

/// A zip of one `TASKDATA.XML` of `xml_mib` MiB: a root and one small proprietary element repeated.
fn xml_bomb(xml_mib: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        "TASKDATA/TASKDATA.XML",
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1)),
    )
    .unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><ISO11783_TaskData VersionMajor="4" VersionMinor="3" DataTransferOrigin="1">"#)
        .unwrap();
    let element = b"<P94_X a=\"1\"/>";
    let chunk: Vec<u8> = element.repeat((1 << 20) / element.len());
    for _ in 0..xml_mib {
        zip.write_all(&chunk).unwrap();
    }
    zip.write_all(b"</ISO11783_TaskData>").unwrap();
    zip.finish().unwrap().into_inner()
}

async fn upload(server: &Server, token: &str, user: &str, name: &str, zip: &[u8]) {
    let boundary = "furrow-bomb-7d1a";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/zip\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(zip);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = reqwest::Client::new()
        .post(format!(
            "{}/services/operations/api/batch?leafUserId={user}&provider=Other",
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
    assert_eq!(r.status(), 201, "{name}: {}", r.text().await.unwrap());
}

/// The peak resident set of a process, bytes (`VmHWM`).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/<pid>/status");
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_xml_bombs_at_once_fail_with_their_figure_and_memory_stays_under_512_mb() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(&dir.path().join("data"), None, &["--workers", "4"]);
    let token = server.token().await;
    let user = server.create_user(&token).await;
    // The planting log names no crop, which Leaf requires unless the configuration says it is optional.
    let r = reqwest::Client::new()
        .patch(format!(
            "{}/services/config/api/configs/{user}",
            server.base
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({"cropOptional": {"standardGeoJson": {"planted": {"crop": "optional"}}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let bomb = xml_bomb(100);
    assert!(
        bomb.len() < 2 << 20,
        "the bomb packs small: {} B",
        bomb.len()
    );
    let afe =
        std::fs::read(furrow_provider_sim::samples_dir().join("isoxml/isoxml-dotnet/AFE.zip"))
            .expect("sample planting log");
    let names: Vec<String> = (1..=4).map(|i| format!("bomb-{i}.zip")).collect();
    let uploads = names
        .iter()
        .map(|n| upload(&server, &token, &user, n, &bomb));
    futures_util::future::join_all(uploads).await;
    upload(&server, &token, &user, "AFE.zip", &afe).await;

    // Every file ends (no deadline race: the loop ends when all five are settled, or fails at 5 minutes).
    let started = Instant::now();
    let files = loop {
        let files = server
            .get_json(
                &token,
                &format!("/services/operations/api/files?leafUserId={user}&size=100"),
            )
            .await;
        let list = files["operations"].as_array().cloned().unwrap_or_default();
        let settled = list
            .iter()
            .filter(|f| matches!(f["status"].as_str(), Some("processed" | "failed")))
            .count();
        if list.len() == 5 && settled == 5 {
            break list;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "files not settled: {files:#}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    for f in &files {
        let name = f["fileName"].as_str().unwrap_or_default().to_owned();
        if name.starts_with("bomb-") {
            assert_eq!(f["status"], "failed", "{f:#}");
            let reason = f.to_string();
            assert!(
                reason.contains("MiB or more of memory to read")
                    && reason.contains("budget of 256 MiB"),
                "the failure names the memory needed and the budget: {f:#}"
            );
        } else {
            assert_eq!(
                f["status"], "processed",
                "the real upload beside them: {f:#}"
            );
        }
    }
    let peak = peak_rss(server.child.id());
    eprintln!("server peak RSS {} MiB", peak >> 20);
    assert!(peak < 512 << 20, "peak RSS {} MiB", peak >> 20);
}
