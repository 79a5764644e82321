//! The API's accept loop: axum's router served by hyper with limits a public server needs, which
//! `axum::serve` does not offer. A client has `header_timeout` to send a request's headers (slow-header
//! attacks), `body_idle_timeout` between two pieces of a body, and `request_timeout` for the whole request
//! until its response starts; at most `max_connections` connections are served at once (more wait in the
//! kernel's backlog) and at most `max_connections_per_client` from one address (more are closed at once).
//! Graceful: on shutdown, connections finish their requests in flight.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Timeouts and connection limits of the API listener.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// Time to send a request's headers, from the connection's start or the previous response.
    pub(crate) header_timeout: Duration,
    /// Longest pause between two pieces of a request body.
    pub(crate) body_idle_timeout: Duration,
    /// Longest time from a request's arrival to its response's start (uploads included).
    pub(crate) request_timeout: Duration,
    /// Connections served at once.
    pub(crate) max_connections: usize,
    /// Connections served at once from one client address.
    pub(crate) max_connections_per_client: usize,
    /// Addresses the per-client limit does not apply to (trusted reverse proxies, whose connections carry
    /// many clients).
    pub(crate) unlimited_clients: Vec<IpAddr>,
}

/// Applies the per-request limits to the router: 408 after `request_timeout`, a body error (the handler's 400)
/// after `body_idle_timeout` without a byte.
pub(crate) fn with_request_limits(app: Router, limits: &Limits) -> Router {
    app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.body_idle_timeout,
    ))
    .layer(tower_http::timeout::TimeoutLayer::with_status_code(
        http_status_408(),
        limits.request_timeout,
    ))
}

fn http_status_408() -> axum::http::StatusCode {
    axum::http::StatusCode::REQUEST_TIMEOUT
}

/// Connections open per client address.
#[derive(Default)]
struct PerClient {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place in the per-client count, given back on drop.
struct ClientSlot {
    clients: Arc<PerClient>,
    ip: IpAddr,
}

impl PerClient {
    fn enter(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<ClientSlot> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            clients: self.clone(),
            ip,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self
            .clients
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then waits for the requests in flight. Handlers see
/// the client's address as `ConnectInfo<SocketAddr>`, as with `into_make_service_with_connect_info`.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let total = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let clients = Arc::new(PerClient::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (done_tx, done_rx) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = total.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: say so and breathe, as axum does.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let max = if limits.unlimited_clients.contains(&addr.ip()) {
            usize::MAX
        } else {
            limits.max_connections_per_client.max(1)
        };
        let Some(slot) = clients.enter(addr.ip(), max) else {
            tracing::debug!(client = %addr.ip(), "connection refused: too many from this client");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(addr));
                req.map(axum::body::Body::new)
            });
        let service = TowerToHyperService::new(service);
        let header_timeout = limits.header_timeout;
        let mut stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            builder
                .http2()
                .timer(TokioTimer::new())
                .keep_alive_interval(Some(header_timeout))
                .keep_alive_timeout(header_timeout);
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                () = async { let _ = stop.wait_for(|s| *s).await; } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop((permit, slot, done));
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(done_rx);
    done_tx.closed().await;
    Ok(())
}
