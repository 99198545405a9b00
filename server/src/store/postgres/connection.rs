//! Connections to PostgreSQL: the pool, the limits that make every wait on the server end in
//! bounded time, and [`Failure`], what an operation reports before it is given its context.
//!
//! Everything here works through a connection pooler in transaction mode (PgBouncer's
//! `pool_mode = transaction`), where consecutive transactions of one connection may run on
//! different server connections: no startup options (PgBouncer refuses them), no session state
//! (a session `SET` would stay behind for the pooler's next client), and no named prepared
//! statements (one prepared on one server connection may be executed on another). Statements are
//! sent unnamed with their parameter types (`query_typed`), a single round trip each, and the
//! server-side limits are set with `SET LOCAL` at the start of each transaction.

use crate::store::StoreError;
use deadpool_postgres::{
    Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime, TimeoutType,
};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::NoTls;

/// Most connections one node keeps open. Appends to different maps run in parallel, each on its own
/// connection; this bounds what one node takes from the server's `max_connections`.
const POOL_SIZE: usize = 16;

/// How long an operation waits for a free connection when all are busy.
const WAIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long opening a connection (TCP, startup, authentication) may take.
const CREATE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long checking an idle connection before reuse may take; a connection that does not answer
/// is discarded and a fresh one is opened.
const RECYCLE_TIMEOUT: Duration = Duration::from_secs(5);
/// TCP connect timeout, unless the URL sets one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// TCP keepalives find a peer that vanished without closing the connection (a crashed host, a
/// dropped network path) while we wait for an answer: after idle + interval × retries (~25 s).
const KEEPALIVE_IDLE: Duration = Duration::from_secs(10);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
const KEEPALIVE_RETRIES: u32 = 3;
/// How long sent data may stay unacknowledged before the kernel drops the connection (Linux).
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(30);
/// Server-side limit for one statement, lock waits included: a map row locked by a stuck node
/// makes its appends fail instead of hanging.
pub(super) const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Server-side limit for a transaction left open and idle: a node frozen while holding a map's row
/// lock (a compaction mid-way) would otherwise block every append to that map.
const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// The pool of connections to the database at `url`, opened when first needed, and the statement
/// that sets the server-side limits in a transaction (see [`limits`]).
pub(super) fn pool(url: &str) -> Result<(Pool, String), StoreError> {
    // The URL may hold a password: errors describe it without repeating it.
    let mut config = tokio_postgres::Config::from_str(url).map_err(|e| {
        StoreError::Unavailable(format!("invalid PostgreSQL URL: {}", describe(&e)))
    })?;
    bound_waits(&mut config);
    let limits = limits(config.get_options().unwrap_or_default());
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            // Runs an empty query on an idle connection before handing it out: a connection
            // broken while idle (server restart, failover, network cut) is discarded instead of
            // failing the next operation, so the pool recovers by itself when the server does.
            recycling_method: RecyclingMethod::Verified,
        },
    );
    Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(WAIT_TIMEOUT))
        .create_timeout(Some(CREATE_TIMEOUT))
        .recycle_timeout(Some(RECYCLE_TIMEOUT))
        .build()
        .map(|pool| (pool, limits))
        .map_err(|e| {
            StoreError::Unavailable(format!("cannot create PostgreSQL pool: {}", describe(&e)))
        })
}

/// The `SET LOCAL` statements that put [`STATEMENT_TIMEOUT`] and [`IDLE_IN_TRANSACTION_TIMEOUT`]
/// on a transaction, but for a limit the URL's `options` already set (`-c statement_timeout=…`),
/// which is the operator's choice for the whole session. Only transactions can hold row locks
/// that others wait for, so bounding them bounds every wait; a statement outside one is bounded by
/// the store's own operation timeout.
pub(super) fn limits(url_options: &str) -> String {
    [
        ("statement_timeout", STATEMENT_TIMEOUT),
        (
            "idle_in_transaction_session_timeout",
            IDLE_IN_TRANSACTION_TIMEOUT,
        ),
    ]
    .iter()
    .filter(|(name, _)| !url_options.contains(name))
    .map(|(name, value)| format!("SET LOCAL {name} = {};", value.as_millis()))
    .collect::<Vec<_>>()
    .join(" ")
}

/// Makes every wait on the server end in bounded time, keeping whatever the URL chose itself.
fn bound_waits(config: &mut tokio_postgres::Config) {
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(TCP_USER_TIMEOUT);
    }
    // `keepalives=0` in the URL turns them off, and is respected; settings the URL left at the
    // defaults (2 h idle, the kernel's interval and retries) would notice a dead peer far too late.
    if config.get_keepalives() {
        if config.get_keepalives_idle() == tokio_postgres::Config::new().get_keepalives_idle() {
            config.keepalives_idle(KEEPALIVE_IDLE);
        }
        if config.get_keepalives_interval().is_none() {
            config.keepalives_interval(KEEPALIVE_INTERVAL);
        }
        if config.get_keepalives_retries().is_none() {
            config.keepalives_retries(KEEPALIVE_RETRIES);
        }
    }
    if config.get_application_name().is_none() {
        config.application_name("waymark");
    }
}

/// Why an operation failed, before it is given its context.
pub(super) enum Failure {
    Pool(PoolError),
    Db(tokio_postgres::Error),
    Other(String),
    /// The store was closed.
    Closed,
}

impl From<PoolError> for Failure {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Closed => Failure::Closed,
            e => Failure::Pool(e),
        }
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Failure::Db(e)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Pool(PoolError::Backend(e)) => {
                write!(f, "cannot connect to PostgreSQL: {}", describe(e))
            }
            Failure::Pool(PoolError::Timeout(TimeoutType::Create)) => write!(
                f,
                "connecting to PostgreSQL took longer than {} s",
                CREATE_TIMEOUT.as_secs()
            ),
            Failure::Pool(PoolError::Timeout(TimeoutType::Wait)) => write!(
                f,
                "no PostgreSQL connection became free within {} s (all {POOL_SIZE} busy)",
                WAIT_TIMEOUT.as_secs()
            ),
            Failure::Pool(PoolError::Timeout(TimeoutType::Recycle)) => write!(
                f,
                "checking a pooled PostgreSQL connection took longer than {} s",
                RECYCLE_TIMEOUT.as_secs()
            ),
            Failure::Pool(e) => f.write_str(&describe(e)),
            Failure::Db(e) => f.write_str(&describe(e)),
            Failure::Other(message) => f.write_str(message),
            Failure::Closed => f.write_str("the store is closed"),
        }
    }
}

/// An error with its causes: tokio-postgres and deadpool put the useful part (the server's message,
/// the I/O error) in the source chain, not in the top-level message.
pub(super) fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wait_is_bounded_unless_the_url_says_otherwise() {
        let mut config = tokio_postgres::Config::from_str("postgres://u@h/db").unwrap();
        bound_waits(&mut config);
        assert_eq!(config.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        assert_eq!(config.get_tcp_user_timeout(), Some(&TCP_USER_TIMEOUT));
        assert_eq!(config.get_keepalives_idle(), KEEPALIVE_IDLE);
        assert_eq!(config.get_keepalives_interval(), Some(KEEPALIVE_INTERVAL));
        assert_eq!(config.get_keepalives_retries(), Some(KEEPALIVE_RETRIES));
        assert_eq!(
            config.get_options(),
            None,
            "a pooler refuses startup options"
        );
        assert_eq!(config.get_application_name(), Some("waymark"));
        assert_eq!(
            limits(""),
            "SET LOCAL statement_timeout = 30000; SET LOCAL idle_in_transaction_session_timeout = 60000;"
        );

        let mut config = tokio_postgres::Config::from_str(
            "postgres://u@h/db?connect_timeout=2&keepalives_idle=60\
             &options=-c%20statement_timeout%3D5s&application_name=mine",
        )
        .unwrap();
        bound_waits(&mut config);
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(2)));
        assert_eq!(config.get_keepalives_idle(), Duration::from_secs(60));
        assert_eq!(config.get_options(), Some("-c statement_timeout=5s"));
        assert_eq!(config.get_application_name(), Some("mine"));
        assert_eq!(
            limits(config.get_options().unwrap()),
            "SET LOCAL idle_in_transaction_session_timeout = 60000;",
            "the URL's own limit is kept"
        );
    }
}
