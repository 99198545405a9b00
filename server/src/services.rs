//! What every part of a running server uses: its store, metrics, configuration, cluster link,
//! the owner of its tasks and the threads maps run on. Rooms get this and nothing of the transport above them.

use crate::cluster::Cluster;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::revocations::Revocations;
use crate::shards::Shards;
use crate::store::Store;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub struct Services {
    pub store: Arc<dyn Store>,
    pub metrics: Metrics,
    pub config: Config,
    /// Set when this node is part of a cluster.
    pub cluster: Option<Cluster>,
    /// Cancelled when the server begins shutting down.
    pub shutdown: CancellationToken,
    /// Owns every connection and room task, so shutdown can wait for them.
    pub tracker: TaskTracker,
    /// The threads maps run on: a map's room and its connections on the same one.
    pub shards: Shards,
    /// Users whose earlier tokens were revoked.
    pub revocations: Arc<Revocations>,
}
