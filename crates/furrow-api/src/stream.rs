//! Streaming responses: blobs straight from the blob store, and outputs written on request by a blocking
//! writer (GeoJSON and GeoParquet views of stored points) through a bounded channel, so neither is ever held
//! whole in memory.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::ApiError;

/// Chunks queued between the writer and the connection (64 KiB each).
const QUEUE: usize = 8;
const CHUNK: usize = 64 * 1024;

/// A `Write` that hands 64 KiB chunks to the response body; writing fails once the client is gone, which stops
/// the writer.
pub(crate) struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

impl Drop for ChannelWriter {
    fn drop(&mut self) {
        let _ = self.send();
    }
}

/// A response whose body `write` produces on a blocking thread. `write` runs to its end before the first
/// byte is known good, so an error after the first chunk ends the body early (the client sees a cut
/// transfer); an error before any byte is answered as a problem.
pub(crate) async fn blocking_body<F>(
    content_type: &'static str,
    name: &str,
    write: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(&mut ChannelWriter) -> Result<(), String> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(QUEUE);
    let err_tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        let mut w = ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        if let Err(m) = write(&mut w) {
            w.buf.clear();
            let _ = err_tx.blocking_send(Err(std::io::Error::other(m)));
        }
    });
    // The first chunk decides between a stream and a problem.
    let first = rx.recv().await;
    let first = match first {
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => {
            tracing::warn!(error = %e, "an output could not be written");
            return Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                format!("the output could not be written: {e}"),
                Some("outputFailed"),
            ));
        }
        None => None,
    };
    let rest = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let body = futures_util::stream::iter(first.map(Ok)).chain(rest);
    Ok(attachment(
        Body::from_stream(body).into_response(),
        content_type,
        name,
    ))
}

/// Streams the blob under `key` as an attachment named `name`.
pub(crate) async fn blob(
    blobs: &furrow_store::Blobs,
    key: &str,
    artifact: &str,
    content_type: &'static str,
    name: &str,
) -> Result<Response, ApiError> {
    let stream = blobs.get_stream(key).await.map_err(|e| {
        tracing::error!(error = %e, key, "blob missing");
        ApiError::not_found(artifact, "notFound")
    })?;
    let stream = stream.map(|r| r.map_err(std::io::Error::other));
    Ok(attachment(
        Body::from_stream(stream).into_response(),
        content_type,
        name,
    ))
}

fn attachment(mut resp: Response, content_type: &'static str, name: &str) -> Response {
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}
