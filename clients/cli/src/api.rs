//! The server as the commands reach it: its address and token, REST requests, opening a map over
//! WebSocket, and every way a call can fail, said so that the person at the terminal knows what
//! to do.

use crate::args::Server;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::io::Write;
use std::time::Duration;
use waymark_client::{ClientError, MapClient};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("cannot reach the Waymark server at {url}: {reason} (check --url or WAYMARK_URL)")]
    Unreachable { url: String, reason: String },
    #[error("{message}{hint}")]
    Refused {
        status: u16,
        code: String,
        message: String,
        hint: &'static str,
    },
    #[error("the server at {url} did not answer as a Waymark server does: {reason}")]
    Unexpected { url: String, reason: String },
    #[error("--url {0:?} is not an http:// or https:// address")]
    BadUrl(String),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
}

/// A connection to one server's API.
pub struct Api {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

/// Bounds a whole call: a server that accepts the connection but never answers.
const TIMEOUT: Duration = Duration::from_secs(300);
/// How long a map may take to load over WebSocket.
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);

impl Api {
    pub fn new(server: &Server) -> Result<Api, ApiError> {
        let base = server.url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ApiError::BadUrl(server.url.clone()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(TIMEOUT)
            .user_agent(concat!("waymark-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Unexpected {
                url: base.clone(),
                reason: e.to_string(),
            })?;
        Ok(Api {
            base,
            token: server.token.clone().filter(|t| !t.is_empty()),
            http,
        })
    }

    /// The WebSocket address of `map` (`ws://` for `http://`, `wss://` for `https://`), with the
    /// token.
    pub fn websocket_url(&self, map: &str) -> String {
        let base = self
            .base
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1);
        match &self.token {
            Some(token) => format!("{base}/maps/{map}?token={token}"),
            None => format!("{base}/maps/{map}"),
        }
    }

    /// Opens `map` over WebSocket and waits until it has loaded.
    pub async fn open_map(&self, map: &str) -> anyhow::Result<MapClient> {
        let client = match MapClient::connect(self.websocket_url(map)).await {
            Ok(c) => c,
            Err(ClientError::Http { status, body }) => {
                let message = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|v| v["message"].as_str().map(str::to_owned))
                    .unwrap_or(body);
                anyhow::bail!("the server refused to open map {map} (HTTP {status}): {message}")
            }
            Err(e) => return Err(e).with_context(|| format!("cannot open map {map}")),
        };
        client
            .synced(LOAD_TIMEOUT)
            .await
            .with_context(|| format!("map {map} did not load"))?;
        Ok(client)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> Result<reqwest::Response, ApiError> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = self.http.request(method, &url);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        req = match body {
            Some(Body::Json(v)) => req.json(&v),
            Some(Body::Raw(bytes)) => req.header("content-type", "application/json").body(bytes),
            None => req,
        };
        let res = req.send().await.map_err(|e| ApiError::Unreachable {
            url: self.base.clone(),
            reason: reason(&e),
        })?;
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        let parsed: Option<Value> = serde_json::from_str(&text).ok();
        let field = |k: &str| {
            parsed
                .as_ref()
                .and_then(|v| v[k].as_str())
                .map(str::to_owned)
        };
        let (Some(code), Some(message)) = (field("error"), field("message")) else {
            return Err(ApiError::Unexpected {
                url: self.base.clone(),
                reason: format!(
                    "HTTP {status} {}",
                    text.chars().take(200).collect::<String>()
                ),
            });
        };
        let hint = match status {
            StatusCode::UNAUTHORIZED if self.token.is_none() => {
                " (give a token with --token or WAYMARK_TOKEN)"
            }
            StatusCode::UNAUTHORIZED => " (the token given with --token or WAYMARK_TOKEN)",
            StatusCode::FORBIDDEN => " (ask for a token with a role or maps that allow it)",
            _ => "",
        };
        Err(ApiError::Refused {
            status: status.as_u16(),
            code,
            message,
            hint,
        })
    }

    async fn json(&self, res: reqwest::Response) -> Result<Value, ApiError> {
        res.json().await.map_err(|e| ApiError::Unexpected {
            url: self.base.clone(),
            reason: format!("an answer that is not JSON ({e})"),
        })
    }

    pub async fn get(&self, path: &str) -> Result<Value, ApiError> {
        let res = self.send(Method::GET, path, None).await?;
        self.json(res).await
    }

    /// A text answer (Markdown, CSV, ...).
    pub async fn get_text(&self, path: &str) -> Result<String, ApiError> {
        let res = self.send(Method::GET, path, None).await?;
        res.text().await.map_err(|e| ApiError::Unreachable {
            url: self.base.clone(),
            reason: reason(&e),
        })
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<Value, ApiError> {
        let res = self
            .send(Method::POST, path, Some(Body::Json(body)))
            .await?;
        self.json(res).await
    }

    /// Posts a JSON document as it is (an import), without parsing it first.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> Result<Value, ApiError> {
        let res = self.send(Method::POST, path, Some(Body::Raw(body))).await?;
        self.json(res).await
    }

    pub async fn delete(&self, path: &str) -> Result<(), ApiError> {
        self.send(Method::DELETE, path, None).await.map(drop)
    }

    /// Streams the answer to `out`; with `progress`, shows a bar (or, without a length, a
    /// counter) on standard error while it comes. Returns the bytes written.
    pub async fn download(
        &self,
        path: &str,
        out: &mut dyn Write,
        progress: bool,
    ) -> Result<u64, ApiError> {
        let mut res = self.send(Method::GET, path, None).await?;
        let bar = progress.then(|| match res.content_length() {
            Some(len) => ProgressBar::new(len).with_style(
                ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {elapsed}")
                    .expect("a valid template"),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {bytes} {elapsed}")
                    .expect("a valid template"),
            ),
        });
        // The server renders before it sends: the bar ticks while it waits.
        if let Some(bar) = &bar {
            bar.enable_steady_tick(Duration::from_millis(100));
        }
        let mut written = 0u64;
        while let Some(chunk) = res.chunk().await.map_err(|e| ApiError::Unreachable {
            url: self.base.clone(),
            reason: reason(&e),
        })? {
            out.write_all(&chunk)?;
            written += chunk.len() as u64;
            if let Some(bar) = &bar {
                bar.set_position(written);
            }
        }
        out.flush()?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        Ok(written)
    }
}

enum Body {
    Json(Value),
    Raw(Vec<u8>),
}

/// What went wrong with a request, down to its cause ("Connection refused", "dns error").
fn reason(e: &reqwest::Error) -> String {
    let mut out = if e.is_timeout() {
        "no answer in time".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    let mut last = String::new();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    if !last.is_empty() {
        out.push_str(": ");
        out.push_str(&last);
    }
    out
}

/// `s` made safe for a path segment (map ids are already; this guards what a user typed).
pub fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
