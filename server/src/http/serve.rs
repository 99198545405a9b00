//! The HTTP/1.1 server loop: accepts connections, gives each client a bounded time to send its
//! request (the WebSocket handshake included), tells handlers the peer's address, and stops
//! gracefully.

use super::Shared;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;
use tracing::{debug, warn};

/// Serves `app` until the server's shutdown token is cancelled, then lets requests in flight
/// finish (upgraded WebSocket connections are the tracker's to close).
pub async fn serve(listener: TcpListener, app: Router, shared: Arc<Shared>) {
    let mut http = hyper::server::conn::http1::Builder::new();
    // The timer makes hyper enforce the header read timeout: without it a client could hold a
    // connection open forever by never finishing its request.
    http.timer(TokioTimer::new())
        .header_read_timeout(shared.config.limits.handshake_timeout);
    let connections = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, usually: wait for some to close rather than spin.
                warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Writers already batch what they send; Nagle's algorithm would only hold small updates
        // back (up to ~40 ms against a delayed ACK).
        if let Err(e) = tcp.set_nodelay(true) {
            warn!(error = %e, "cannot set TCP_NODELAY");
        }
        // Whether a request was read: hyper's header timeout also ends idle keep-alive
        // connections, which are not clients too slow to send a request.
        let served = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&served);
        let service = app.clone().map_request(move |mut req: Request<Incoming>| {
            seen.store(true, Ordering::Relaxed);
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req
        });
        let conn = http
            .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service))
            .with_upgrades();
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let mut conn = pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = shared.shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                if e.is_timeout() && !served.load(Ordering::Relaxed) {
                    debug!(%peer, "no complete request within the handshake timeout; closing");
                    shared.metrics.limit("handshake_timeout");
                } else {
                    debug!(%peer, error = %e, "HTTP connection ended");
                }
            }
        });
    }
    connections.close();
    let _ = tokio::time::timeout(shared.config.shutdown_timeout, connections.wait()).await;
}
