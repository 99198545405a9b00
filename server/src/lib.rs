//! The Waymark server: a y-websocket-compatible sync server for customer journey maps.
//!
//! [`run`] serves on a listener until a shutdown token is cancelled; the `waymark` binary wraps it
//! with configuration, logging and signal handling.

mod archive;
pub mod auth;
mod clock;
pub mod cluster;
pub mod config;
mod events;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod http;
pub mod journey;
pub mod metrics;
mod outlet;
mod refusal;
mod registry;
mod review;
mod revocations;
mod room;
mod services;
mod shards;
pub mod store;
pub mod telemetry;
mod throttle;
mod versions;
mod websocket;
mod workshop;

pub use config::Config;
pub use http::api;
pub use revocations::REFRESH as REVOCATION_REFRESH;

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
    let shards = shards::Shards::start(config.threads).context("cannot start the map threads")?;
    // Read before serving, so that a revoked token is refused from the first request.
    let revocations = Arc::new(revocations::Revocations::default());
    revocations
        .refresh(store.as_ref())
        .await
        .context("cannot read revocations")?;
    tracker.spawn(revocations::follow(
        Arc::clone(&revocations),
        Arc::clone(&store),
        shutdown.clone(),
    ));
    let services = Arc::new(services::Services {
        store: Arc::clone(&store),
        metrics,
        config,
        cluster: cluster.clone(),
        shutdown: shutdown.clone(),
        tracker: tracker.clone(),
        shards,
        revocations,
    });
    let shared = http::Shared::new(Arc::clone(&services));
    let app = http::router(Arc::clone(&shared));
    http::serve(listener, app, Arc::clone(&shared)).await;
    info!("shutting down: closing connections and flushing maps");
    tracker.close();
    if tokio::time::timeout(shutdown_timeout, tracker.wait())
        .await
        .is_err()
    {
        warn!(timeout = ?shutdown_timeout, "shutdown timed out; some tasks did not finish");
    }
    // Nothing runs on the map threads any more.
    services.shards.stop().await;
    // Rooms are gone: what they published while shutting down is on its way; stop the fan-out.
    if let Some(cluster) = cluster {
        cluster.close().await;
    }
    store.close().await?;
    info!("shutdown complete");
    Ok(())
}
