//! Downloads as byte streams: whole-body or `Range`-chunked, resumed after a connection lost mid-body.

use bytes::Bytes;
use futures_util::StreamExt;
use http::StatusCode;

use crate::auth::AuthedClient;
use crate::error::{Error, Result};
use crate::provider::ByteStream;
use crate::transport::Request;

/// How many times one download resumes after a truncated body before giving up.
const MAX_RESUMES: u32 = 5;

/// How a provider serves file bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadMode {
    /// One `GET`; resumed with `Range: bytes=N-` when the body is cut.
    Whole,
    /// Mandatory `Range` requests of at most `chunk` bytes (Climate: 1–5 MiB).
    Ranged {
        /// Bytes per request.
        chunk: u64,
    },
}

/// `Content-Range: bytes start-end/total` → (start, total).
fn content_range(resp: &reqwest::Response) -> Option<(u64, Option<u64>)> {
    let v = resp.headers().get("content-range")?.to_str().ok()?;
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, _) = range.split_once('-')?;
    Some((start.parse().ok()?, total.parse().ok()))
}

/// Streams the bytes of `req` in `mode`. `expected_len` (from the file listing) bounds ranged requests and
/// detects a short body even without `Content-Length`.
pub fn download(
    client: AuthedClient,
    req: Request,
    mode: DownloadMode,
    expected_len: Option<u64>,
) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes>>(4);
    tokio::spawn(async move {
        if let Err(e) = run(&client, &req, mode, expected_len, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

async fn run(
    client: &AuthedClient,
    req: &Request,
    mode: DownloadMode,
    expected_len: Option<u64>,
    tx: &tokio::sync::mpsc::Sender<Result<Bytes>>,
) -> Result<()> {
    let slug = client.provider().slug();
    let mut offset: u64 = 0;
    let mut total = expected_len;
    let mut resumes = 0;
    loop {
        if total.is_some_and(|t| offset >= t) && (offset > 0 || total == Some(0)) {
            return Ok(());
        }
        let mut r = req.clone();
        match mode {
            DownloadMode::Whole if offset > 0 => r.set_header("Range", format!("bytes={offset}-")),
            DownloadMode::Whole => {}
            DownloadMode::Ranged { chunk } => {
                let mut end = offset + chunk.max(1) - 1;
                if let Some(t) = total {
                    end = end.min(t.saturating_sub(1));
                }
                r.set_header("Range", format!("bytes={offset}-{end}"));
            }
        }
        let resp = client.send_streaming(&r).await?;
        let status = resp.status();
        let mut skip = 0u64;
        let whole_body = match status {
            StatusCode::PARTIAL_CONTENT => {
                let (start, t) = content_range(&resp)
                    .ok_or_else(|| Error::protocol(slug, "206 without a valid Content-Range"))?;
                if start != offset {
                    return Err(Error::protocol(
                        slug,
                        format!("asked for bytes from {offset}, got from {start}"),
                    ));
                }
                if t.is_some() {
                    total = t;
                }
                false
            }
            s if s.is_success() => {
                // The whole file: skip what we already have.
                skip = offset;
                if let Some(len) = resp.content_length() {
                    total = Some(len);
                }
                true
            }
            s => {
                return Err(Error::protocol(
                    slug,
                    format!("download answered HTTP {}", s.as_u16()),
                ));
            }
        };
        let mut body = resp.bytes_stream();
        let mut cut = false;
        let mut received = 0u64;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(mut bytes) => {
                    received += bytes.len() as u64;
                    if skip > 0 {
                        let n = skip.min(bytes.len() as u64);
                        skip -= n;
                        bytes = bytes.slice(n as usize..);
                    }
                    if bytes.is_empty() {
                        continue;
                    }
                    offset += bytes.len() as u64;
                    if tx.send(Ok(bytes)).await.is_err() {
                        return Ok(()); // the reader went away
                    }
                }
                Err(_) => {
                    cut = true;
                    break;
                }
            }
        }
        if !cut && received == 0 && !whole_body {
            return Err(Error::protocol(slug, "empty range response"));
        }
        let short = total.is_some_and(|t| offset < t);
        if cut || (whole_body && short) {
            resumes += 1;
            if resumes > MAX_RESUMES {
                return Err(Error::unavailable(
                    slug,
                    format!("download truncated at byte {offset}"),
                ));
            }
            tracing::debug!(provider = slug, offset, "resuming a truncated download");
            continue;
        }
        match (mode, whole_body, total) {
            (DownloadMode::Whole, _, _) | (_, true, _) | (_, _, None) => return Ok(()),
            (DownloadMode::Ranged { .. }, false, Some(_)) => {} // next chunk (loop top stops at total)
        }
    }
}
