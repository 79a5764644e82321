//! The API listener's limits on the real binary: slow headers are cut off, a stalled upload is refused, and
//! one client cannot hold more connections than allowed while others are served.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Server;

/// Reads until the server closes the connection (end of stream or reset); what it sent before. Panics if the
/// connection is still open after `deadline` (far longer than any limit under test).
async fn until_closed(stream: &mut TcpStream, deadline: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(deadline, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the server closes the connection");
    got
}

/// One keep-alive request on an open connection; the status line's code.
async fn get_health(stream: &mut TcpStream) -> u16 {
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: furrow\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    // the whole response: headers, then a body of Content-Length bytes
    loop {
        let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return text[9..12].parse().unwrap();
            }
        }
    }
}

fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn slow_headers_and_stalled_bodies_are_cut_off_and_clients_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        None,
        &[
            "--header-timeout-secs",
            "1",
            "--body-idle-timeout-secs",
            "1",
            "--max-connections-per-client",
            "3",
        ],
    );
    let token = server.token().await;
    let user = server.create_user(&token).await;
    let a = addr(&server);

    // Headers that never end: the connection is closed, no request reaches furrow.
    let mut slow = TcpStream::connect(&a).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: fur")
        .await
        .unwrap();
    let answer = until_closed(&mut slow, Duration::from_secs(20)).await;
    assert!(
        !String::from_utf8_lossy(&answer).contains("200 OK"),
        "{answer:?}"
    );

    // An upload that stalls part-way: refused with a problem naming the body, the connection then closed.
    let mut stalled = TcpStream::connect(&a).await.unwrap();
    let head = format!(
        "POST /services/operations/api/batch?leafUserId={user}&provider=Other HTTP/1.1\r\nHost: furrow\r\n\
         Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary=XYZ\r\n\
         Content-Length: 100000\r\n\r\n--XYZ\r\nContent-Disposition: form-data; name=\"file\"; \
         filename=\"a.zip\"\r\n\r\nPK"
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    let answer =
        String::from_utf8_lossy(&until_closed(&mut stalled, Duration::from_secs(30)).await)
            .to_string();
    let status: u16 = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    assert!(
        (400..500).contains(&status),
        "a 4xx, not a 5xx or silence: {answer}"
    );

    // Three connections of one client are served; a fourth is closed unanswered while they stay open.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = TcpStream::connect(&a).await.unwrap();
        assert_eq!(get_health(&mut c).await, 200);
        held.push(c);
    }
    let mut extra = TcpStream::connect(&a).await.unwrap();
    let _ = extra
        .write_all(b"GET /health HTTP/1.1\r\nHost: furrow\r\n\r\n")
        .await;
    let answer = until_closed(&mut extra, Duration::from_secs(20)).await;
    assert!(answer.is_empty(), "{:?}", String::from_utf8_lossy(&answer));
    for c in &mut held {
        assert_eq!(get_health(c).await, 200, "the held connections still work");
    }
    // Once one closes, the client may connect again (the server notices the close on its own time).
    drop(held.pop());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut c = TcpStream::connect(&a).await.unwrap();
        c.write_all(b"GET /health HTTP/1.1\r\nHost: furrow\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let answer = until_closed(&mut c, Duration::from_secs(20)).await;
        if String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a freed slot is given back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await; // poll interval, not a synchronisation
    }
}
