//! Test harness: a real server on a real port (in-process or as a child process), and helpers that
//! poll with a deadline instead of sleeping.

#![allow(dead_code)]

pub mod access;
pub mod pg;
pub mod pgbouncer;
pub mod raw;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use waymark_client::MapClient;
use waymark_server::Config;
use waymark_server::store::SqliteStore;
use yrs::{Any, Array, GetString, Map, Out, ReadTxn, Text, Transact};

pub const WAIT: Duration = Duration::from_secs(10);

/// A server running inside the test process.
pub struct TestServer {
    pub addr: SocketAddr,
    pub data: PathBuf,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Config::default()).await
    }

    pub async fn start_with(config: Config) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_path_buf();
        let mut s = Self::start_in(&data, config).await;
        s._dir = Some(dir);
        s
    }

    /// Starts a server on an existing data directory (which the caller keeps alive).
    pub async fn start_in(data: &Path, config: Config) -> Self {
        let store = Arc::new(SqliteStore::open(data).unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(waymark_server::run(
            listener,
            store,
            config,
            shutdown.clone(),
        ));
        TestServer {
            addr,
            data: data.to_path_buf(),
            shutdown,
            task: Some(task),
            _dir: None,
        }
    }

    pub fn url(&self, map: &str) -> String {
        format!("ws://{}/maps/{map}", self.addr)
    }

    pub fn http(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn connect(&self, map: &str) -> MapClient {
        let c = MapClient::connect(self.url(map)).await.unwrap();
        c.synced(WAIT).await.unwrap();
        c
    }

    /// Graceful shutdown; returns how long it took.
    pub async fn stop(&mut self) -> Duration {
        let started = std::time::Instant::now();
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .expect("server did not stop in time")
                .unwrap()
                .unwrap();
        }
        started.elapsed()
    }

    /// Takes the temporary data directory so it outlives this server (for restarts).
    pub fn keep_data(&mut self) -> tempfile::TempDir {
        self._dir.take().expect("data dir already taken")
    }

    pub async fn metric(&self, name_and_labels: &str) -> f64 {
        metric_value(&get(&self.http("/metrics")).await.1, name_and_labels)
    }

    /// Waits until a metric reaches `want`.
    pub async fn wait_metric(&self, name_and_labels: &str, want: f64) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let v = self.metric(name_and_labels).await;
            if v == want {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "metric {name_and_labels} is {v}, expected {want}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A `waymark serve` child process, for tests that kill it.
pub struct ProcessServer {
    pub addr: SocketAddr,
    pub child: tokio::process::Child,
}

impl ProcessServer {
    pub async fn start(data: &Path) -> Self {
        Self::start_with(data, &[]).await
    }

    /// Starts `waymark serve` with extra flags (e.g. `--redis-url`).
    pub async fn start_with(data: &Path, args: &[&str]) -> Self {
        Self::start_with_listen(data, "127.0.0.1:0", args).await
    }

    /// Starts `waymark serve --listen listen` with extra flags.
    pub async fn start_with_listen(data: &Path, listen: &str, args: &[&str]) -> Self {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
            .args([
                "serve",
                "--listen",
                listen,
                "--log-format",
                "json",
                "--data",
            ])
            .arg(data)
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = tokio::time::timeout(WAIT, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                if v["message"] == "listening" {
                    return v["addr"].as_str().unwrap().parse().unwrap();
                }
            }
            panic!("server exited before listening");
        })
        .await
        .expect("server did not start listening");
        // Keep draining its log so the pipe never fills.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        ProcessServer { addr, child }
    }

    pub fn url(&self, map: &str) -> String {
        format!("ws://{}/maps/{map}", self.addr)
    }

    pub fn http(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn metric(&self, name_and_labels: &str) -> f64 {
        metric_value(&get(&self.http("/metrics")).await.1, name_and_labels)
    }

    /// SIGKILL: no shutdown, nothing flushed.
    pub async fn kill(&mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }

    /// Stops it as an operator's `kill` or a service manager does (SIGTERM), and checks that it
    /// shut down cleanly.
    pub async fn terminate(&mut self) {
        let pid = self.child.id().expect("still running");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = self.child.wait().await.unwrap();
        assert!(status.success(), "exit status {status}");
    }
}

/// A `redis-server` of the test's own, on a free port, that the test can stop and start again.
pub struct RedisServer {
    pub port: u16,
    child: Option<tokio::process::Child>,
}

impl RedisServer {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut r = RedisServer { port, child: None };
        r.restart().await;
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts it (again) on the same port and waits until it answers.
    pub async fn restart(&mut self) {
        let child = tokio::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server must be installed");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0; 7];
                if s.write_all(b"PING\r\n").await.is_ok()
                    && s.read_exact(&mut buf).await.is_ok()
                    && &buf == b"+PONG\r\n"
                {
                    return;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server did not start on port {}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills it (as a crash or network loss would look to the nodes).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.start_kill().unwrap();
            child.wait().await.unwrap();
        }
    }
}

pub async fn get(url: &str) -> (u16, String) {
    let res = reqwest_lite(url).await;
    (res.0, res.1)
}

/// A minimal HTTP/1.1 GET over a raw socket, so tests see exactly what the server sends.
async fn reqwest_lite(url: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The value of one sample in a Prometheus/OpenMetrics text exposition (0 when absent).
pub fn metric_value(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name_and_labels)
                .and_then(|rest| rest.strip_prefix(' '))
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0.0)
}

/// A readable summary of the journey-map-like content the tests write.
pub fn content(c: &MapClient) -> String {
    let doc = c.doc();
    let txn = doc.transact();
    let mut out = Vec::new();
    if let Some(m) = txn.get_map("cards") {
        let mut kv: Vec<String> = m
            .iter(&txn)
            .map(|(k, v)| format!("{k}={}", v.to_string(&txn)))
            .collect();
        kv.sort();
        out.push(format!("cards: {}", kv.join(",")));
    }
    if let Some(a) = txn.get_array("stages") {
        let items: Vec<String> = a.iter(&txn).map(|v| v.to_string(&txn)).collect();
        out.push(format!("stages: {}", items.join(",")));
    }
    if let Some(t) = txn.get_text("notes") {
        out.push(format!("notes: {}", t.get_string(&txn)));
    }
    out.join(" | ")
}

pub fn set_card(c: &MapClient, key: &str, value: &str) {
    let m = c.doc().get_or_insert_map("cards");
    let mut txn = c.doc().transact_mut();
    m.insert(&mut txn, key, value);
}

pub fn card(c: &MapClient, key: &str) -> Option<String> {
    let doc = c.doc();
    let txn = doc.transact();
    let m = txn.get_map("cards")?;
    match m.get(&txn, key)? {
        Out::Any(Any::String(s)) => Some(s.to_string()),
        other => Some(other.to_string(&txn)),
    }
}

pub fn card_count(c: &MapClient) -> u32 {
    let doc = c.doc();
    let txn = doc.transact();
    txn.get_map("cards").map_or(0, |m| m.len(&txn))
}

pub fn push_stage(c: &MapClient, name: &str) {
    let a = c.doc().get_or_insert_array("stages");
    let mut txn = c.doc().transact_mut();
    a.push_back(&mut txn, name);
}

pub fn append_note(c: &MapClient, text: &str) {
    let t = c.doc().get_or_insert_text("notes");
    let mut txn = c.doc().transact_mut();
    let len = t.len(&txn);
    t.insert(&mut txn, len, text);
}

/// An HTTP answer as the tests see it.
pub struct HttpResponse {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl HttpResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

/// A minimal HTTP/1.1 request over a raw socket.
pub async fn http(method: &str, url: &str, body: Option<&str>) -> HttpResponse {
    http_with(method, url, &[], body).await
}

/// A minimal HTTP/1.1 request with extra headers.
pub async fn http_with(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> HttpResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let body = body.unwrap_or("");
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         {extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    HttpResponse {
        status: head[9..12].parse().unwrap(),
        headers: head.to_owned(),
        body: body.to_owned(),
    }
}

/// A GET whose body is binary: (status, headers, body).
pub async fn http_bytes(url: &str) -> (u16, String, Vec<u8>) {
    http_bytes_with(url, &[]).await
}

/// A GET with extra headers whose body is binary: (status, headers, body).
pub async fn http_bytes_with(url: &str, headers: &[(&str, &str)]) -> (u16, String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    (
        head[9..12].parse().unwrap(),
        head,
        buf[split + 4..].to_vec(),
    )
}
