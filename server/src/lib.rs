//! The Waymark server: a y-websocket-compatible sync server for customer journey maps.
//!
//! [`run`] serves on a listener until a shutdown token is cancelled; the `waymark` binary wraps it
//! with configuration, logging and signal handling.

pub mod api;
pub mod auth;
pub mod cluster;
pub mod config;
mod connection;
mod events;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod guard;
mod http;
pub mod journey;
pub mod metrics;
mod openapi;
mod outlet;
mod registry;
mod review;
mod room;
mod routes;
mod state;
pub mod store;
pub mod telemetry;
mod throttle;
mod upgrade;
mod versions;
mod web;

pub use config::Config;

/// Milliseconds since the Unix epoch, as times are stored and sent.
pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

use anyhow::Context;
use std::sync::Arc;
use store::Store;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

/// Serves until `shutdown` is cancelled, then closes every connection with "going away", makes every
/// map durable, closes the store and returns (within `config.shutdown_timeout`).
pub async fn run(
    listener: TcpListener,
    store: Arc<dyn Store>,
    config: Config,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let tracker = TaskTracker::new();
    let shutdown_timeout = config.shutdown_timeout;
    let metrics = metrics::Metrics::new();
    let cluster = match &config.redis_url {
        Some(url) => Some(
            cluster::Cluster::connect(url, config.node_id.clone(), &metrics)
                .await
                .context("cannot join the cluster")?,
        ),
        None => None,
    };
    let shared = state::Shared::new(
        Arc::clone(&store),
        config,
        metrics,
        cluster.clone(),
        shutdown.clone(),
        tracker.clone(),
    );
    let app = routes::router(Arc::clone(&shared));
    http::serve(listener, app, Arc::clone(&shared)).await;
    info!("shutting down: closing connections and flushing maps");
    tracker.close();
    if tokio::time::timeout(shutdown_timeout, tracker.wait())
        .await
        .is_err()
    {
        warn!(timeout = ?shutdown_timeout, "shutdown timed out; some tasks did not finish");
    }
    // Rooms are gone: what they published while shutting down is on its way; stop the fan-out.
    if let Some(cluster) = cluster {
        cluster.close().await;
    }
    store.close().await?;
    info!("shutdown complete");
    Ok(())
}
