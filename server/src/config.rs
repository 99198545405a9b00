//! Command-line interface and runtime settings of the `waymark` binary.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use waymark_protocol::limits;

#[derive(Parser, Debug)]
#[command(
    name = "waymark",
    version,
    about = "Real-time collaboration server for customer journey maps",
    long_about = "Real-time collaboration server for customer journey maps.\n\n\
                  Each map is a Yjs document, synced over WebSocket at /maps/{mapId} with the \
                  y-websocket protocol (see protocol/PROTOCOL.md)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
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

    /// Threads serving connections (default: one per CPU). On a small machine shared with other
    /// work, 1 uses less CPU per message at light load; more threads sustain higher peaks.
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

    /// Longest a graceful shutdown may take before the process exits anyway.
    #[arg(long, env = "WAYMARK_SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,
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
            auto_version_after: (!a.auto_version_after.is_zero()).then_some(a.auto_version_after),
            ..Config::default()
        }
    }
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
    fn sizes() {
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12").unwrap_err().contains("out of range"));
        assert!(parse_size("8XB").unwrap_err().contains("unit"));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
    }
}
