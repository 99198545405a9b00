//! Keeping what is stored small and the map's history kept: the update log folded into a snapshot
//! once it grows (in the background while the room serves, or in place before it goes away), and
//! automatic versions taken after a quiet period following this node's edits.

use super::{Command, Room};
use crate::services::Services;
use crate::store::{NewVersion, VersionInfo, VersionKind};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tracing::{Instrument, debug, warn};
use waymark_protocol::MapId;
use yrs::updates::encoder::Encode;
use yrs::{ReadTxn, StateVector, Transact};

impl Room {
    /// The whole document as a v1 update, and its state vector (v1).
    pub(super) fn state(&self) -> (Vec<u8>, Vec<u8>) {
        let txn = self.doc.transact();
        let state = txn.encode_state_as_update_v1(&StateVector::default());
        (state, txn.state_vector().encode_v1())
    }

    /// Compacts without making the room wait: the snapshot is encoded here, and the store write
    /// (which queues behind every map's appends on the one writer) runs as its own task. Updates
    /// appended meanwhile have higher sequence numbers and stay in the log.
    pub(super) fn compact_in_background(&mut self) {
        if self.compacting.load(Ordering::Acquire) {
            return;
        }
        let snapshot = self
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        self.size = snapshot.len();
        let services = Arc::clone(&self.services);
        let (map, through) = (self.map.clone(), self.last_seq);
        let compacting = Arc::clone(&self.compacting);
        compacting.store(true, Ordering::Release);
        self.log_updates = 0;
        self.log_bytes = 0;
        self.services.tracker.spawn(
            async move {
                if let Err(e) = services.store.compact(&map, snapshot, through).await {
                    // Not fatal: the log still holds everything; the next threshold retries.
                    warn!(error = %e, "cannot compact update log");
                    services.metrics.error("compact");
                }
                compacting.store(false, Ordering::Release);
            }
            .in_current_span(),
        );
    }

    /// Compacts and waits for it (the room is going away).
    pub(super) async fn compact(&mut self) {
        let snapshot = self
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let size = snapshot.len();
        self.size = size;
        match self
            .services
            .store
            .compact(&self.map, snapshot, self.last_seq)
            .await
        {
            Ok(()) => {
                debug!(
                    updates = self.log_updates,
                    log_bytes = self.log_bytes,
                    snapshot_bytes = size,
                    "compacted update log"
                );
                self.log_updates = 0;
                self.log_bytes = 0;
            }
            Err(e) => {
                // Not fatal: the log still holds everything; compaction is retried on the next flush.
                warn!(error = %e, "cannot compact update log");
                self.services.metrics.error("compact");
            }
        }
    }

    /// The state for an automatic version, and what to store it as.
    fn auto_version(&mut self) -> (Vec<u8>, NewVersion) {
        self.auto_version_at = None;
        let (state, state_vector) = self.state();
        let version = NewVersion {
            label: "Automatic".into(),
            description: "Taken after a quiet period following edits".into(),
            author: String::new(),
            kind: VersionKind::Auto,
            state: Vec::new(),
            state_vector,
            raw_size: 0,
        };
        (state, version)
    }

    /// Takes an automatic version without holding the room up: compressing and storing run as
    /// their own task, which then announces it to this room's clients and the other nodes'.
    pub(super) fn auto_version_in_background(&mut self) {
        let (state, version) = self.auto_version();
        let (services, map) = (Arc::clone(&self.services), self.map.clone());
        let inbox = self.inbox.clone();
        self.services.tracker.spawn(
            async move {
                match crate::archive::store_version(&services, &map, state, version).await {
                    Ok(Some(v)) => {
                        debug!(version = v.number, "took an automatic version");
                        let json = announce(&services, &map, &v);
                        if let Some(inbox) = inbox.upgrade() {
                            let _ = inbox.try_send(Command::Event { json });
                        }
                    }
                    Ok(None) => debug!("no automatic version: nothing changed since the last"),
                    Err(e) => warn!(error = %e, "cannot take an automatic version"),
                }
            }
            .in_current_span(),
        );
    }

    /// Takes an automatic version that is due before the room goes away.
    pub(super) async fn auto_version_now(&mut self) {
        if self.auto_version_at.is_none() {
            return;
        }
        let (state, version) = self.auto_version();
        match crate::archive::store_version(&self.services, &self.map, state, version).await {
            Ok(Some(v)) => {
                let json = announce(&self.services, &self.map, &v);
                self.event(json.as_bytes());
            }
            Ok(None) => {}
            Err(e) => warn!(error = %e, "cannot take an automatic version"),
        }
    }
}

/// Tells the other nodes' clients of a new automatic version; returns the event for this room's.
fn announce(services: &Services, map: &MapId, version: &VersionInfo) -> String {
    let json =
        json!({ "type": "version.created", "version": version, "map": map.as_str() }).to_string();
    if let Some(cluster) = &services.cluster {
        cluster.publish_event(map, &json);
    }
    json
}
