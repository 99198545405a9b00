//! Throwaway PostgreSQL databases for tests: each test gets a database of its own on the local
//! server, so tests run in parallel without seeing each other's maps, and drops it afterwards.
//!
//! The server is `WAYMARK_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! used as an administrator connection that may create and drop databases.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_postgres::NoTls;

pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The administrator URL of the test server.
pub fn admin_url() -> String {
    std::env::var("WAYMARK_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// A database created for one test. Dropped by [`FreshDatabase::drop_database`], or at the latest
/// (best effort, also when the test panics) when this value is dropped.
pub struct FreshDatabase {
    /// URL of the new database, for `PostgresStore::connect`.
    pub url: String,
    /// Its name.
    pub name: String,
    admin: String,
    dropped: bool,
}

/// Creates an empty database with a unique name.
pub async fn fresh_database() -> FreshDatabase {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let name = format!(
        "waymark_test_{}_{nanos}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let admin = admin_url();
    let client = admin_client(&admin).await;
    // template0 is never connected to, so concurrent CREATE DATABASE calls cannot fail with
    // "source database is being accessed by other users".
    client
        .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0"))
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e:?}"));
    let mut config = tokio_postgres::Config::from_str(&admin).expect("valid admin URL");
    config.dbname(&name);
    FreshDatabase {
        url: to_url(&config),
        name,
        admin,
        dropped: false,
    }
}

impl FreshDatabase {
    /// Drops the database, disconnecting whoever is still connected.
    pub async fn drop_database(mut self) {
        self.dropped = true;
        drop_database(&self.admin, &self.name).await;
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Drop cannot await; a thread with its own runtime works inside or outside a runtime.
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(drop_database(&admin, &name));
            }
        })
        .join();
    }
}

/// A plain connection to `url`, for tests that look at the database directly.
pub async fn client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server at {url}: {e:?}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// `host:port` of the test server, for tests that put something (a proxy) in front of it.
pub fn server_address() -> String {
    let config = tokio_postgres::Config::from_str(&admin_url()).expect("valid admin URL");
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) if h.contains(':') => format!("[{h}]"),
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

async fn admin_client(admin: &str) -> tokio_postgres::Client {
    client(admin).await
}

async fn drop_database(admin: &str, name: &str) {
    let Ok((client, connection)) = tokio_postgres::connect(admin, NoTls).await else {
        return;
    };
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    if let Err(e) = client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
    {
        eprintln!("cannot drop test database {name}: {e:?}");
    }
    drop(client);
    let _ = task.await;
}

/// A URL for `config` (host, port, user, password, database: what the tests need).
fn to_url(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = encode(config.get_user().unwrap_or("postgres").as_bytes());
    let password = config
        .get_password()
        .map(|p| format!(":{}", encode(p)))
        .unwrap_or_default();
    let dbname = config.get_dbname().unwrap_or("postgres");
    format!("postgres://{user}{password}@{host}:{port}/{dbname}")
}

/// Percent-encodes everything but unreserved characters, for the user and password of a URL.
fn encode(raw: &[u8]) -> String {
    raw.iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A TCP proxy in front of the test server that can cut every connection and refuse new ones,
/// as a PostgreSQL restart or a network outage does.
pub struct Proxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    pipes: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let pipes = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let (up, pipes) = (Arc::clone(&up), Arc::clone(&pipes));
            tokio::spawn(async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !up.load(Ordering::Acquire) {
                        continue; // dropped: the connection is closed at once
                    }
                    let upstream = upstream.clone();
                    let pipe = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(&upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    pipes.lock().unwrap().push(pipe);
                }
            })
        };
        Proxy {
            addr,
            up,
            pipes,
            accept,
        }
    }

    /// Closes every proxied connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::Release);
        for pipe in self.pipes.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::Release);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}
