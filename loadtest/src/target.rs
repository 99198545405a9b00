//! Where the load goes: a URL template per map, the framing the server expects, and how to create a
//! document first on servers that need it.

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use yrs::encoding::write::Write;

/// How protocol messages are carried in WebSocket messages.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
pub enum Framing {
    /// One y-websocket message per WebSocket message, one document per connection (Waymark,
    /// y-websocket's server, y-sweet).
    YWebsocket,
    /// Hocuspocus: each message prefixed with the document name, and an authentication message first.
    Hocuspocus,
}

#[derive(Debug, Clone)]
pub struct Target {
    /// WebSocket URL with `{map}` standing for the map id, e.g. `ws://127.0.0.1:8080/maps/{map}`.
    pub url: String,
    pub framing: Framing,
    /// When set, `POST {"docId": map}` to this URL before connecting to a map (y-sweet's
    /// `/doc/new`).
    pub create_url: Option<String>,
}

impl Target {
    pub fn waymark(addr: impl std::fmt::Display) -> Self {
        Target {
            url: format!("ws://{addr}/maps/{{map}}"),
            framing: Framing::YWebsocket,
            create_url: None,
        }
    }

    pub fn url(&self, map: &str) -> String {
        self.url.replace("{map}", map)
    }

    /// Frames a protocol message for the wire.
    pub fn frame(&self, map: &str, msg: &[u8]) -> Vec<u8> {
        match self.framing {
            Framing::YWebsocket => msg.to_vec(),
            Framing::Hocuspocus => {
                let mut out = Vec::with_capacity(msg.len() + map.len() + 2);
                out.write_string(map);
                out.extend_from_slice(msg);
                out
            }
        }
    }

    /// The protocol message inside a received frame.
    pub fn unframe<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        match self.framing {
            Framing::YWebsocket => frame,
            Framing::Hocuspocus => {
                // varString: varUint length, then the name.
                let mut len = 0usize;
                let mut shift = 0;
                let mut i = 0;
                while let Some(&b) = frame.get(i) {
                    len |= ((b & 0x7f) as usize) << shift;
                    i += 1;
                    if b & 0x80 == 0 || shift > 28 {
                        break;
                    }
                    shift += 7;
                }
                frame.get(i + len..).unwrap_or(&[])
            }
        }
    }

    /// Messages a client sends before its SyncStep1.
    pub fn hello(&self, map: &str) -> Option<Vec<u8>> {
        match self.framing {
            Framing::YWebsocket => None,
            // Auth message, token sub-type, any token: the benchmark server accepts everyone.
            Framing::Hocuspocus => {
                let mut msg = vec![2u8, 0];
                msg.write_string("loadtest");
                Some(self.frame(map, &msg))
            }
        }
    }

    /// Creates the document on servers that need it (a no-op otherwise).
    pub async fn create(&self, map: &str) -> anyhow::Result<()> {
        let Some(url) = &self.create_url else {
            return Ok(());
        };
        let rest = url
            .strip_prefix("http://")
            .context("--create-url must be an http:// URL")?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let body = format!("{{\"docId\":\"{map}\"}}");
        let mut s = tokio::net::TcpStream::connect(host)
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let path = if path.is_empty() { "/" } else { path };
        s.write_all(
            format!(
                "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await?;
        let mut res = Vec::new();
        s.read_to_end(&mut res).await?;
        let head = String::from_utf8_lossy(&res[..res.len().min(12)]).into_owned();
        if !head.starts_with("HTTP/1.1 2") {
            bail!("creating {map} at {url} failed: {head}");
        }
        Ok(())
    }
}
