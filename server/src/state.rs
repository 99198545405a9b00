//! What every route, connection and room of one server shares.

use crate::cluster::Cluster;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::store::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub struct Shared {
    pub store: Arc<dyn Store>,
    pub metrics: Metrics,
    pub config: Config,
    /// Cancelled when the server begins shutting down.
    pub shutdown: CancellationToken,
    /// Owns every connection and room task, so shutdown can wait for them.
    pub tracker: TaskTracker,
    pub rooms: Registry,
    /// Set when this node is part of a cluster.
    pub cluster: Option<Cluster>,
    /// Open WebSocket connections, for the connection limits.
    pub connections: Arc<crate::throttle::Connections>,
    next_conn_id: AtomicU64,
}

impl Shared {
    pub fn new(
        store: Arc<dyn Store>,
        config: Config,
        metrics: Metrics,
        cluster: Option<Cluster>,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) -> Arc<Self> {
        Arc::new(Shared {
            store,
            metrics,
            cluster,
            config,
            shutdown,
            tracker,
            rooms: Registry::default(),
            connections: Default::default(),
            next_conn_id: AtomicU64::new(1),
        })
    }

    pub fn next_conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }
}
