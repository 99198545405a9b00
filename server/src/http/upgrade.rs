//! The WebSocket opening handshake (RFC 6455 §4.2). Done here rather than by axum so that each
//! connection gets its TCP socket back after the upgrade: the server frames messages itself
//! (`websocket`), so a room can write into the socket directly and a large message goes out from
//! the one buffer every recipient shares, never copied into per-connection write buffers.

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::runtime::Handle;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_util::task::TaskTracker;
use tracing::{debug, error};

/// A request that asks for a WebSocket, validated.
pub struct Upgrade {
    accept: String,
    on_upgrade: OnUpgrade,
}

fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

impl Upgrade {
    /// Checks an HTTP/1.1 upgrade request; `Err` says what is missing.
    pub fn from_parts(parts: &mut Parts) -> Result<Self, &'static str> {
        if parts.method != Method::GET {
            return Err("the WebSocket handshake is a GET request");
        }
        if !has_token(&parts.headers, header::CONNECTION, "upgrade") {
            return Err("missing `Connection: upgrade`");
        }
        if !has_token(&parts.headers, header::UPGRADE, "websocket") {
            return Err("missing `Upgrade: websocket`");
        }
        if parts
            .headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_none_or(|v| v.as_bytes() != b"13")
        {
            return Err("only WebSocket version 13 is supported");
        }
        let key = parts
            .headers
            .get(header::SEC_WEBSOCKET_KEY)
            .ok_or("missing Sec-WebSocket-Key")?;
        let accept = derive_accept_key(key.as_bytes());
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or("this connection cannot be upgraded")?;
        Ok(Upgrade { accept, on_upgrade })
    }

    /// Answers 101 Switching Protocols; once the response has gone out, `serve` gets the socket and
    /// any bytes already read past the request, and its future runs as a task of `tracker` on the
    /// runtime `on` (the thread of the connection's map, see `shards`). The socket is handed over
    /// unregistered: a socket belongs to the reactor of the runtime it is registered on.
    pub fn accept<F>(
        self,
        tracker: &TaskTracker,
        on: Handle,
        serve: impl FnOnce(std::net::TcpStream, Bytes) -> F + Send + 'static,
    ) -> Response
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let on_upgrade = self.on_upgrade;
        let owner = tracker.clone();
        tracker.spawn(async move {
            let parts = match on_upgrade.await {
                // `serve` (serve.rs) hands hyper plain TCP streams, so this always succeeds.
                Ok(upgraded) => match upgraded.downcast::<TokioIo<TcpStream>>() {
                    Ok(parts) => parts,
                    Err(_) => {
                        return error!("an upgraded connection is not a TCP stream; closing it");
                    }
                },
                Err(e) => return debug!(error = %e, "WebSocket upgrade did not complete"),
            };
            let (socket, seed) = (parts.io.into_inner(), parts.read_buf);
            let socket = match socket.into_std() {
                Ok(socket) => socket,
                Err(e) => return debug!(error = %e, "cannot hand a connection over"),
            };
            // Built here and spawned as it is: wrapped in another `async` block, everything it
            // captured would be kept twice.
            owner.spawn_on(serve(socket, seed), &on);
        });
        Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header(header::CONNECTION, "upgrade")
            .header(header::UPGRADE, "websocket")
            .header(header::SEC_WEBSOCKET_ACCEPT, self.accept)
            .body(Body::empty())
            .expect("static headers are valid")
    }
}
