//! What every route and connection of one server shares: the application's services and rooms,
//! and the transport's own bookkeeping (open connections, their numbers).

use crate::registry::Registry;
use crate::services::Services;
use crate::throttle::Connections;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Shared {
    pub services: Arc<Services>,
    pub rooms: Registry,
    /// Open WebSocket connections, for the connection limits.
    pub connections: Arc<Connections>,
    /// Poster exports running, for their limits.
    pub renders: super::renders::Renders,
    next_conn_id: AtomicU64,
}

impl Shared {
    pub fn new(services: Arc<Services>) -> Arc<Self> {
        Arc::new(Shared {
            rooms: Registry::new(Arc::clone(&services)),
            services,
            connections: Default::default(),
            renders: Default::default(),
            next_conn_id: AtomicU64::new(1),
        })
    }

    pub fn next_conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// Handlers reach the store, metrics and configuration as `shared.store` and so on.
impl Deref for Shared {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}
