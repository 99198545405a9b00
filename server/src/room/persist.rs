//! Durability before delivery: a batch's updates are appended to the store in one commit, then
//! published to the other nodes, then delivered; the listing's title and due date kept in step.

use super::remote;
use super::{Poisoned, Room};
use crate::cluster::Remote;
use crate::cluster::wire::Kind;
use crate::store::StoreError;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Instant;
use tracing::{error, warn};
use waymark_protocol::CloseCode;
use yrs::Transact;

impl Room {
    /// Makes this batch's updates durable, then delivers its messages.
    pub(super) async fn flush(&mut self) -> Result<(), Poisoned> {
        if !self.pending.is_empty() {
            let batch = std::mem::take(&mut self.pending);
            let (count, bytes) = (batch.len(), batch.iter().map(Bytes::len).sum::<usize>());
            let started = Instant::now();
            let (store, map) = (Arc::clone(&self.services.store), self.map.clone());
            let result = self
                .while_committing(store.append_since(&map, batch.clone(), self.deleted_at))
                .await?;
            self.services
                .metrics
                .store_commit_seconds
                .observe(started.elapsed().as_secs_f64());
            match result {
                Ok(seq) => {
                    self.deleted_at = None;
                    self.last_seq = seq;
                    self.log_updates += count;
                    self.log_bytes += bytes;
                    if let Some(quiet) = self.services.config.auto_version_after {
                        self.auto_version_at = Some(Instant::now() + quiet);
                    }
                    // Only now, durable, may the other nodes see them: see `cluster`.
                    for update in &batch {
                        self.publish(Kind::Update, update);
                    }
                    self.record_summary().await;
                }
                Err(StoreError::Deleted) => {
                    // Deleted on another node since this room loaded it: what this batch changed
                    // is dropped with the map, and its editors are told.
                    warn!("the map was deleted on another node; closing its connections");
                    self.outbox.clear();
                    self.kick_all(CloseCode::MapDeleted, "this map was deleted");
                    self.deleted = true;
                    return Ok(());
                }
                Err(e) => {
                    error!(error = %e, "cannot store updates");
                    self.services.metrics.error("store");
                    return Err(Poisoned("storage unavailable; reconnect later"));
                }
            }
        }
        self.save_workshop().await?;
        self.deliver();
        let config = &self.services.config;
        if self.log_updates >= config.compact_after_updates
            || self.log_bytes >= config.compact_after_bytes
        {
            self.compact_in_background();
        }
        Ok(())
    }

    /// Waits for this room's own commit while handling what other nodes send: their updates are
    /// durable already, so they need not wait behind ours. This batch's own messages stay held back
    /// until the commit returns.
    pub(super) async fn while_committing<T>(
        &mut self,
        commit: impl std::future::Future<Output = T>,
    ) -> Result<T, Poisoned> {
        if self.remote.is_none() {
            return Ok(commit.await);
        }
        tokio::pin!(commit);
        let held = std::mem::take(&mut self.outbox);
        let mut poisoned = None;
        let result = loop {
            tokio::select! {
                biased;
                result = &mut commit => break result,
                Some(msg) = remote::recv(&mut self.remote), if poisoned.is_none() => {
                    let handled = match msg {
                        // Re-reading the store would wait on it as well: right after instead.
                        Remote::Resync(reason) => {
                            self.resync_next = Some(reason);
                            Ok(())
                        }
                        msg => self.remote(msg).await,
                    };
                    match handled {
                        Ok(()) => self.deliver(),
                        Err(p) => poisoned = Some(p),
                    }
                }
            }
        };
        let arrived = std::mem::replace(&mut self.outbox, held);
        self.outbox.extend(arrived);
        match poisoned {
            Some(p) => Err(p),
            None => Ok(result),
        }
    }

    /// Keeps the store's listing (title, kind, review due date) in step with the document,
    /// writing only changes.
    async fn record_summary(&mut self) {
        let current = {
            let meta = waymark_protocol::schema::read_meta(&self.doc.transact());
            (meta.title, meta.kind, meta.review_due)
        };
        if self.summary.as_ref() == Some(&current) {
            return;
        }
        match self
            .services
            .store
            .set_summary(&self.map, &current.0, &current.1, current.2.as_deref())
            .await
        {
            Ok(()) => self.summary = Some(current),
            Err(e) => warn!(error = %e, "cannot record the map's title for listings"),
        }
    }
}
