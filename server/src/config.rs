//! Command-line interface and runtime settings of the `waymark` binary.

use crate::auth::Role;
use clap::{Args, Parser, Subcommand, ValueEnum};
use ipnet::IpNet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use waymark_protocol::limits;

#[derive(Parser, Debug)]
#[command(
    name = "waymark",
    version,
    about = "Real-time collaboration server for customer journey maps, and its command-line client",
    long_about = "Real-time collaboration server for customer journey maps, and its command-line \
                  client.\n\n\
                  `waymark serve` runs the server. Each map is a Yjs document, synced over \
                  WebSocket at /maps/{mapId} with the y-websocket protocol (see \
                  protocol/PROTOCOL.md).\n\n\
                  The other commands talk to a running server: give its address with --url or \
                  WAYMARK_URL and a token with --token or WAYMARK_TOKEN. They exit with 0 when \
                  done, 1 when `check` finds something, and 2 on an error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Mint a signed access token for a user, a map (or a prefix of map ids) and a role, for
    /// scripts and tests; prints it on standard output.
    Token(TokenArgs),
    /// Revoke a user's access (every token issued to them until now) or a single token, on
    /// every node sharing the store, within seconds; open connections it covers are closed with
    /// code 4003. Tokens issued to the user afterwards work again.
    Revoke(RevokeArgs),
    #[command(flatten)]
    Client(waymark_cli::Command),
    /// Print a completion script for a shell, e.g. `waymark completions bash >
    /// /etc/bash_completion.d/waymark`.
    Completions(CompletionsArgs),
}

#[derive(Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("whom").required(true).args(["user", "token"])))]
pub struct RevokeArgs {
    /// The user's id (the tokens' `sub` claim): every token issued to them until now.
    #[arg(long, value_parser = parse_user)]
    pub user: Option<String>,

    /// One token: its id (the `jti` claim, which `waymark token` prints on standard error) or
    /// the token itself.
    #[arg(long, value_parser = parse_token_id)]
    pub token: Option<String>,

    /// Why, for the record.
    #[arg(long, default_value = "")]
    pub reason: String,

    /// The data directory of the server (its embedded database), as given to `serve --data`.
    #[arg(long, env = "WAYMARK_DATA", default_value = "./waymark-data")]
    pub data: PathBuf,

    /// The PostgreSQL database the nodes share, as given to `serve --database-url`; instead of
    /// --data.
    #[arg(long, env = "WAYMARK_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// A token's id from `--token`: the id itself, or read from a whole token's claims (unverified:
/// revoking a token can only take access away).
fn parse_token_id(s: &str) -> Result<String, String> {
    let id = if s.matches('.').count() == 2 {
        #[derive(serde::Deserialize)]
        struct Id {
            jti: Option<String>,
        }
        jsonwebtoken::dangerous::insecure_decode_claims::<Id>(s)
            .map_err(|e| format!("not a readable token: {e}"))?
            .jti
            .ok_or("this token has no id (`jti`): revoke its user with --user instead")?
    } else {
        s.to_owned()
    };
    match id.len() {
        1..=200 => Ok(id),
        _ => Err("a token id is 1 to 200 bytes".into()),
    }
}

/// A user id as tokens carry it in `sub`: 1 to 200 bytes.
fn parse_user(s: &str) -> Result<String, String> {
    match s.len() {
        1..=200 => Ok(s.to_owned()),
        _ => Err("a user id is 1 to 200 bytes".into()),
    }
}

#[derive(Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("key").required(true).args(["secret", "private_key"])))]
pub struct TokenArgs {
    /// The user's id (the `sub` claim), recorded as the author of what they do.
    #[arg(long)]
    pub user: String,

    /// The user's display name.
    #[arg(long)]
    pub name: Option<String>,

    /// The maps the token covers: one map id, a prefix ending in `*` (e.g. `acme-*`), or `*` for
    /// every map.
    #[arg(long)]
    pub map: String,

    /// What the token allows.
    #[arg(long, value_enum)]
    pub role: Role,

    /// How long the token is valid, e.g. 30m, 8h or 7d.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub expires_in: Duration,

    /// The server's secret (HS256), as given to `serve --auth-secret`.
    #[arg(long, env = "WAYMARK_AUTH_SECRET", hide_env_values = true)]
    pub secret: Option<String>,

    /// A PEM private key (RSA, EC P-256/P-384 or Ed25519) whose public half the server is given
    /// with `serve --auth-public-key`.
    #[arg(long)]
    pub private_key: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is logged).
    #[arg(long, env = "WAYMARK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory holding the embedded database; created if missing.
    #[arg(long, env = "WAYMARK_DATA", default_value = "./waymark-data")]
    pub data: PathBuf,

    /// Log format.
    #[arg(long, env = "WAYMARK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,

    /// Largest WebSocket message accepted, e.g. 8MiB or 512KiB; larger ones close the connection
    /// with code 1009.
    #[arg(long, env = "WAYMARK_MAX_MESSAGE_SIZE", default_value = "8MiB", value_parser = parse_size)]
    pub max_message_size: usize,

    /// Messages queued for one connection before it counts as too slow and is closed with code 1013.
    #[arg(long, env = "WAYMARK_SEND_QUEUE", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(16..=1_000_000))]
    pub send_queue: u32,

    /// How long a map stays in memory after its last connection closes, e.g. 30s or 5m.
    #[arg(long, env = "WAYMARK_UNLOAD_AFTER", default_value = "30s", value_parser = humantime::parse_duration)]
    pub unload_after: Duration,

    /// Threads the maps run on, and threads serving HTTP (default: one per CPU each). A map and
    /// every connection to it run on one thread, so a map's edits use one CPU at most; more
    /// threads serve more busy maps at once.
    #[arg(long, env = "WAYMARK_THREADS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,

    /// Take an automatic version of a map once it has been quiet this long after an edit, e.g. 5m;
    /// 0 turns automatic versions off. A version is only taken if the map changed since its newest
    /// one.
    #[arg(long, env = "WAYMARK_AUTO_VERSION_AFTER", default_value = "5m", value_parser = humantime::parse_duration)]
    pub auto_version_after: Duration,

    /// Redis URL (redis://host:port/db) to run as one node of a cluster: edits and presence fan out
    /// to the other nodes through Redis pub/sub. Requires --database-url, so all nodes share one
    /// store.
    #[arg(long, env = "WAYMARK_REDIS_URL", requires = "database_url")]
    pub redis_url: Option<String>,

    /// PostgreSQL URL (postgres://user:password@host:port/database) to store maps in instead of the
    /// embedded database in --data. The schema is created or migrated at start-up.
    #[arg(long, env = "WAYMARK_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Serve the browser editor from this directory (a `clients/web/dist` being worked on) instead
    /// of the copy built into the binary; files are read at every request.
    #[arg(long, env = "WAYMARK_WEB_DIR")]
    pub web_dir: Option<PathBuf>,

    /// Longest a graceful shutdown may take before the process exits anyway.
    #[arg(long, env = "WAYMARK_SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,

    /// Secret (at least 32 bytes) that signs access tokens (HS256); every request then needs a
    /// token (see `waymark token`).
    #[arg(
        long,
        env = "WAYMARK_AUTH_SECRET",
        hide_env_values = true,
        help_heading = "Access"
    )]
    pub auth_secret: Option<String>,

    /// PEM public key (RSA, EC P-256/P-384 or Ed25519) that verifies access tokens signed by
    /// your identity provider; every request then needs a token.
    #[arg(
        long,
        env = "WAYMARK_AUTH_PUBLIC_KEY",
        conflicts_with = "auth_secret",
        help_heading = "Access"
    )]
    pub auth_public_key: Option<PathBuf>,

    /// Serve without authentication on a non-loopback address: everyone who can reach the server
    /// may read, edit and delete every map. Without a key the server otherwise only starts on a
    /// loopback address.
    #[arg(long, env = "WAYMARK_ALLOW_ANONYMOUS", conflicts_with_all = ["auth_secret", "auth_public_key"], help_heading = "Access")]
    pub allow_anonymous: bool,

    /// Browser origins allowed to connect, comma-separated (e.g. https://maps.example.com); pages
    /// served by this server are always allowed. Unset: any origin.
    #[arg(long, env = "WAYMARK_ALLOWED_ORIGINS", value_delimiter = ',', value_parser = parse_origin, help_heading = "Access")]
    pub allowed_origins: Option<Vec<String>>,

    /// Load balancers or proxies (addresses or CIDR ranges, comma-separated) whose
    /// X-Forwarded-For header names the real client address, for the per-address limit.
    #[arg(
        long,
        env = "WAYMARK_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_net,
        help_heading = "Limits"
    )]
    pub trusted_proxies: Vec<IpNet>,

    /// WebSocket connections this node accepts; more are refused with 503.
    #[arg(
        long,
        env = "WAYMARK_MAX_CONNECTIONS",
        default_value_t = 20_000,
        help_heading = "Limits"
    )]
    pub max_connections: usize,

    /// WebSocket connections accepted from one client address (an IPv6 client counts as its /64);
    /// more are refused with 429.
    #[arg(
        long,
        env = "WAYMARK_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 256,
        help_heading = "Limits"
    )]
    pub max_connections_per_address: usize,

    /// Messages per second one connection may send on average (bursts of 5 s worth pass);
    /// beyond it the connection is closed with code 4029.
    #[arg(long, env = "WAYMARK_MESSAGE_RATE", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..), help_heading = "Limits")]
    pub message_rate: u32,

    /// Bytes per second one connection may send on average, e.g. 1MiB (bursts of 5 s worth, or
    /// one message of the largest size, pass); beyond it the connection is closed with code 4029.
    #[arg(long, env = "WAYMARK_BYTE_RATE", default_value = "1MiB", value_parser = parse_size, help_heading = "Limits")]
    pub byte_rate: usize,

    /// Largest presence (awareness) state of one client, e.g. 16KiB; a larger one closes the
    /// connection with code 1008.
    #[arg(long, env = "WAYMARK_MAX_AWARENESS_SIZE", default_value = "16KiB", value_parser = parse_size, help_heading = "Limits")]
    pub max_awareness_size: usize,

    /// Presence updates per second one connection may send on average (bursts of 5 s worth
    /// pass); beyond it the connection is closed with code 4029.
    #[arg(long, env = "WAYMARK_AWARENESS_RATE", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..), help_heading = "Limits")]
    pub awareness_rate: u32,

    /// Largest stored size of one map, e.g. 64MiB; an update that would make a map larger is
    /// refused (the map stays as it was) and its sender closed with code 4009.
    #[arg(long, env = "WAYMARK_MAX_MAP_SIZE", default_value = "64MiB", value_parser = parse_size, help_heading = "Limits")]
    pub max_map_size: usize,

    /// Close a connection that has sent nothing for this long, e.g. 10m (code 4008); 0 never.
    /// Stock clients renew their presence every 15 s, so an open editor is never idle.
    #[arg(long, env = "WAYMARK_IDLE_TIMEOUT", default_value = "10m", value_parser = humantime::parse_duration, help_heading = "Limits")]
    pub idle_timeout: Duration,

    /// Time a client has to send its HTTP request (the WebSocket handshake included) after
    /// connecting, and then as long again for a REST request's body (408 after it).
    #[arg(long, env = "WAYMARK_HANDSHAKE_TIMEOUT", default_value = "10s", value_parser = parse_timeout, help_heading = "Limits")]
    pub handshake_timeout: Duration,
}

/// Limits that keep one client from hurting the others.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub trusted_proxies: Vec<IpNet>,
    pub message_rate: u32,
    pub byte_rate: usize,
    pub max_awareness_size: usize,
    pub awareness_rate: u32,
    pub max_map_size: usize,
    pub idle_timeout: Option<Duration>,
    pub handshake_timeout: Duration,
}

/// How many seconds' worth of a rate a token bucket holds.
pub const BURST_SECONDS: u32 = 5;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 20_000,
            max_connections_per_address: 256,
            trusted_proxies: Vec::new(),
            message_rate: 100,
            byte_rate: 1 << 20,
            max_awareness_size: 16 << 10,
            awareness_rate: 30,
            max_map_size: 64 << 20,
            idle_timeout: Some(Duration::from_secs(600)),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// An address (`10.0.0.5`) or a CIDR range (`10.0.0.0/8`).
fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{s:?} is not an address or CIDR range (e.g. 10.0.0.5 or 10.0.0.0/8)"))
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| e.to_string())?;
    if d.is_zero() {
        return Err("must be more than 0".into());
    }
    Ok(d)
}

/// A browser origin: `scheme://host[:port]`.
fn parse_origin(s: &str) -> Result<String, String> {
    let o = crate::auth::normalize_origin(s);
    match o.split_once("://") {
        Some(("http" | "https", host)) if !host.is_empty() && !host.contains('/') => Ok(o),
        _ => Err(format!(
            "{s:?} is not an origin; write scheme://host[:port], e.g. https://maps.example.com"
        )),
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, coloured when the output is a terminal.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Settings of a running server, independent of where they came from.
#[derive(Debug, Clone)]
pub struct Config {
    pub max_message_size: usize,
    pub send_queue: usize,
    pub unload_after: Duration,
    pub shutdown_timeout: Duration,
    pub awareness_timeout: Duration,
    pub keepalive_interval: Duration,
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// Compact a map's update log into a snapshot once it holds this many updates...
    pub compact_after_updates: usize,
    /// ...or this many bytes.
    pub compact_after_bytes: usize,
    /// Take an automatic version of a map once it has been quiet this long after an edit
    /// (`None`: never).
    pub auto_version_after: Option<Duration>,
    /// Redis to fan out through; `None` runs the node alone.
    pub redis_url: Option<String>,
    /// This node's name in cluster messages and logs.
    pub node_id: String,
    /// Threads the maps are spread over (see `shards`); at least one.
    pub threads: usize,
    pub limits: Limits,
    /// How callers are authenticated (default: not at all).
    pub auth: std::sync::Arc<crate::auth::Auth>,
    /// Where the editor's files are read from instead of the built-in copy (`None`: built in).
    pub web_dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_message_size: limits::DEFAULT_MAX_MESSAGE_BYTES,
            send_queue: 1024,
            unload_after: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(10),
            awareness_timeout: limits::AWARENESS_TIMEOUT,
            keepalive_interval: limits::KEEPALIVE_INTERVAL,
            ping_interval: limits::PING_INTERVAL,
            ping_timeout: limits::PING_TIMEOUT,
            compact_after_updates: 1000,
            compact_after_bytes: 4 << 20,
            auto_version_after: Some(Duration::from_secs(300)),
            redis_url: None,
            node_id: default_node_id(),
            threads: default_threads(),
            limits: Limits::default(),
            auth: Default::default(),
            web_dir: None,
        }
    }
}

impl From<&ServeArgs> for Config {
    fn from(a: &ServeArgs) -> Self {
        Config {
            max_message_size: a.max_message_size,
            send_queue: a.send_queue as usize,
            unload_after: a.unload_after,
            shutdown_timeout: a.shutdown_timeout,
            redis_url: a.redis_url.clone(),
            web_dir: a.web_dir.clone(),
            auto_version_after: (!a.auto_version_after.is_zero()).then_some(a.auto_version_after),
            threads: a.threads.map_or_else(default_threads, usize::from),
            limits: Limits {
                max_connections: a.max_connections,
                max_connections_per_address: a.max_connections_per_address,
                trusted_proxies: a.trusted_proxies.clone(),
                message_rate: a.message_rate,
                byte_rate: a.byte_rate,
                max_awareness_size: a.max_awareness_size,
                awareness_rate: a.awareness_rate,
                max_map_size: a.max_map_size,
                idle_timeout: (!a.idle_timeout.is_zero()).then_some(a.idle_timeout),
                handshake_timeout: a.handshake_timeout,
            },
            ..Config::default()
        }
    }
}

/// One thread per CPU this process may use.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// A name unique to this process: the host name (for people reading logs) and a random suffix (so
/// a restarted node is never mistaken for its previous life).
pub fn default_node_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    // Each `RandomState` is seeded from the OS's randomness; nothing else here needs a RNG.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(40)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    format!("{host}-{:08x}", random as u32)
}

/// Parses a byte size such as `8388608`, `512KiB`, `8MiB` or `1GiB`.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: usize = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size; use e.g. 8MiB, 512KiB or 1048576"))?;
    let mult: usize = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" | "KB" => 1 << 10,
        "MiB" | "M" | "MB" => 1 << 20,
        "GiB" | "G" | "GB" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?}; use B, KiB, MiB or GiB"
            ));
        }
    };
    let size = n
        .checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))?;
    if !(1024..=(1usize << 30)).contains(&size) {
        return Err(format!("{s:?} is out of range; allowed: 1KiB to 1GiB"));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn trusted_proxies() {
        assert_eq!(parse_net("10.0.0.5").unwrap().to_string(), "10.0.0.5/32");
        assert_eq!(parse_net("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_net("::1").unwrap().to_string(), "::1/128");
        assert!(parse_net("nonsense").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12").unwrap_err().contains("out of range"));
        assert!(parse_size("8XB").unwrap_err().contains("unit"));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
    }
}
