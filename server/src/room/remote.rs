//! The room's side of the cluster: what other nodes send (their stored updates, presence, events,
//! deletes) applied and delivered, re-reading the map from the store when something may have been
//! missed, and publishing this room's messages with their sequence numbers.

use super::{Poisoned, Room, Source};
use crate::cluster::wire::Kind;
use crate::cluster::{Remote, Subscription};
use std::sync::atomic::Ordering;
use tracing::{debug, error, warn};
use waymark_protocol::CloseCode;

/// The next message from the other nodes, or never when the node runs alone.
pub(super) async fn recv(remote: &mut Option<Subscription>) -> Option<Remote> {
    match remote {
        Some(sub) => sub.rx.recv().await,
        None => std::future::pending().await,
    }
}

impl Room {
    /// Handles the other nodes' waiting messages, then delivers what they changed.
    pub(super) async fn remote_batch(&mut self, first: Remote) -> Result<(), Poisoned> {
        let mut next = Some(first);
        let mut handled = 0;
        while let Some(msg) = next.take() {
            self.remote(msg).await?;
            handled += 1;
            if handled < super::MAX_BATCH
                && let Some(sub) = &mut self.remote
            {
                next = sub.rx.try_recv().ok();
            }
        }
        if let Some(sub) = &self.remote
            && sub.overflowed.swap(false, Ordering::AcqRel)
        {
            self.resync("inbox_overflow").await;
        }
        self.flush().await
    }

    pub(super) async fn remote(&mut self, msg: Remote) -> Result<(), Poisoned> {
        match msg {
            Remote::Update(update) => {
                if let Err(rejected) = self.integrate(Source::Remote, &update)? {
                    // Another node stored it, so the store will not load either: say so loudly.
                    error!(error = %rejected.error, "another node sent an update that cannot be applied");
                    self.services.metrics.error("remote_update");
                }
            }
            Remote::Awareness(update) => self.remote_awareness(&update),
            Remote::Hello => self.publish_presence(),
            Remote::Deleted => {
                self.kick_all(CloseCode::MapDeleted, "this map was deleted");
                self.deleted = true;
            }
            Remote::Resync(reason) => self.resync(reason).await,
            Remote::Event(json) => self.event(&json),
            Remote::Workshop(entries) => self.remote_workshop(&entries),
        }
        Ok(())
    }

    /// Re-reads from the store what was stored since this room last read it and applies whatever
    /// this node missed, so its clients converge with the other nodes' without reconnecting (the
    /// snapshot is read again only if a compaction went past that point). Then tells the other
    /// nodes how far this room has published, so they can do the same.
    pub(super) async fn resync(&mut self, reason: &'static str) {
        self.services
            .metrics
            .map_resyncs
            .get_or_create(&crate::metrics::KindLabel { kind: reason })
            .inc();
        match self
            .services
            .store
            .load_after(&self.map, self.read_through)
            .await
        {
            Ok(stored) => {
                self.resync_due = false;
                self.services.metrics.map_resync_bytes.inc_by(
                    (stored.snapshot.as_ref().map_or(0, Vec::len) + stored.log_bytes) as u64,
                );
                self.read_through = stored.last_seq;
                for bytes in stored.snapshot.iter().chain(&stored.updates) {
                    match self.integrate(Source::Remote, bytes) {
                        Ok(Ok(())) => {}
                        Ok(Err(rejected)) => {
                            warn!(error = %rejected.error, "stored update cannot be applied during resync");
                        }
                        Err(Poisoned(_)) => {
                            // The document is suspect; the next flush closes everyone.
                            self.resync_due = false;
                            return;
                        }
                    }
                }
                self.reload_workshop().await;
                debug!(reason, "resynced from the store");
                self.publish(Kind::Hello, &[]);
            }
            Err(e) => {
                warn!(error = %e, reason, "cannot resync from the store yet; will retry");
                self.resync_due = true;
            }
        }
    }

    /// Sends a message to the other nodes (cluster mode).
    pub(super) fn publish(&mut self, kind: Kind, payload: &[u8]) {
        let Some(cluster) = &self.services.cluster else {
            return;
        };
        // A Hello carries the last sequence number instead of taking one.
        if kind != Kind::Hello {
            self.published += 1;
        }
        cluster.publish(&self.map, kind, self.generation, self.published, payload);
    }
}
