//! Updates into the document: a client's update decoded, held while it depends on something the
//! room does not have, integrated (a yrs panic contained), and what changed queued for storage,
//! for the other nodes and for every other connection.

use super::outbox::Out;
use super::{ApplyError, Poisoned, Rejected, Room, Source};
use crate::outlet::ConnId;
use bytes::Bytes;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;
use tracing::{debug, error, warn};
use waymark_protocol::CloseCode;
use waymark_protocol::message::encode_update;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ReadTxn, StateVector, Transact, Update, WriteTxn};

/// Most bytes of held updates a room keeps; beyond, the sender is asked to reconnect.
const MAX_HELD_BYTES: usize = 16 << 20;

/// A client's update that depends on updates of its own the room does not have yet (a client
/// that edits right after reconnecting, before its offline edits arrive in its SyncStep2). It is
/// held until they arrive: integrated with a gap, yrs would settle concurrent writes against
/// content no other client has.
pub(super) struct Held {
    pub conn: ConnId,
    update: Update,
    bytes: usize,
}

/// Where each client's insertions in `update` end. (`Update::state_vector` is no use here: it
/// counts only clients whose blocks start at clock 0.)
pub(super) fn insertion_ends(update: &Update) -> StateVector {
    let mut ends = StateVector::default();
    for (client, ranges) in update.insertions(true).iter() {
        if let Some(end) = ranges.iter().map(|r| r.end).max() {
            ends.set_max(*client, end);
        }
    }
    ends
}

impl Room {
    /// Refuses a change of `bytes` that would take the map past its size limit.
    pub(super) fn check_size(&self, bytes: usize) -> Result<(), ApplyError> {
        let limit = self.services.config.limits.max_map_size;
        if self.size + bytes <= limit {
            return Ok(());
        }
        warn!(
            size = self.size,
            update = bytes,
            limit,
            "change would make the map too large; refused"
        );
        self.services.metrics.limit("map_size");
        Err(ApplyError::TooLarge(limit))
    }

    /// Applies a client's update, or holds it while it has a gap; an invalid one closes that
    /// client's connection.
    pub(super) fn apply(&mut self, conn: ConnId, bytes: &[u8]) -> Result<(), Poisoned> {
        if let Err(ApplyError::TooLarge(limit)) = self.check_size(bytes.len()) {
            if let Some(sub) = self.subs.get(&conn) {
                sub.outlet.kick().kick(
                    CloseCode::MapTooLarge,
                    format!("the map would exceed its limit of {limit} bytes; the update was not applied"),
                );
            }
            self.remove_sub(conn);
            return Ok(());
        }
        let update = match Update::decode_v1(bytes) {
            Ok(u) => u,
            Err(e) => {
                self.reject(
                    conn,
                    CloseCode::InvalidPayload,
                    "bad_update",
                    "update cannot be decoded",
                    &e,
                );
                return Ok(());
            }
        };
        if self.has_gap(&update) {
            self.hold(conn, update, bytes.len());
            return Ok(());
        }
        self.apply_checked(conn, update)?;
        // What it brought may be what held updates were waiting for. Each pass tries every held
        // update without a gap once (one still missing something is held again); passes go on
        // while they make progress.
        loop {
            let before = self.doc.transact().state_vector();
            let (ready, waiting): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.held)
                .into_iter()
                .partition(|h| !self.has_gap(&h.update));
            self.held = waiting;
            if ready.is_empty() {
                return Ok(());
            }
            for held in ready {
                self.apply_checked(held.conn, held.update)?;
            }
            if self.doc.transact().state_vector() == before {
                return Ok(());
            }
        }
    }

    /// Keeps an update with a gap until what it depends on arrives, within the room's bound.
    fn hold(&mut self, conn: ConnId, update: Update, bytes: usize) {
        let held: usize = self.held.iter().map(|h| h.bytes).sum();
        if held + bytes > MAX_HELD_BYTES {
            warn!(
                conn_id = conn,
                held, "too many updates waiting for missing ones"
            );
            self.services.metrics.error("held_overflow");
            if let Some(sub) = self.subs.get(&conn) {
                sub.outlet.kick().kick(
                    CloseCode::TryAgainLater,
                    "updates wait for earlier ones that never came; reconnect to resync",
                );
            }
            self.remove_sub(conn);
            return;
        }
        debug!(
            conn_id = conn,
            "update held until what it depends on arrives"
        );
        self.held.push(Held {
            conn,
            update,
            bytes,
        });
    }

    /// Whether `update` starts, for some client, after what the document has of that client, or
    /// deletes something the document does not have (yrs would keep such a deletion in memory
    /// only, and serve it without its ever being stored).
    fn has_gap(&self, update: &Update) -> bool {
        let mut sv = self.doc.transact().state_vector();
        if update
            .state_vector_lower()
            .iter()
            .any(|(client, clock)| *clock > sv.get(client))
        {
            return true;
        }
        // The update's own insertions follow on from the document's: with them, what may be
        // deleted is everything up to their ends. (Yjs sends its whole delete set.)
        sv.merge(insertion_ends(update));
        update
            .delete_set()
            .iter()
            .any(|(client, ranges)| ranges.iter().any(|r| r.end > sv.get(client)))
    }

    /// Applies a client's update, checked against the workshop's locks when they bind its sender.
    fn apply_checked(&mut self, conn: ConnId, update: Update) -> Result<(), Poisoned> {
        if self.locks_bind(conn) {
            self.apply_locked(conn, update)
        } else {
            self.apply_update(conn, update)
        }
    }

    pub(super) fn apply_update(&mut self, conn: ConnId, update: Update) -> Result<(), Poisoned> {
        let before = self.pending.len();
        let result = self.integrate_update(Source::Client(conn), update)?;
        let accepted: u64 = self.pending[before..].iter().map(|b| b.len() as u64).sum();
        if accepted > 0
            && let Some(sub) = self.subs.get_mut(&conn)
        {
            sub.edits.0 += 1;
            sub.edits.1 += accepted;
        }
        if let Err(rejected) = result {
            self.reject(
                conn,
                CloseCode::InvalidPayload,
                "bad_update",
                rejected.reason,
                &rejected.error,
            );
        }
        Ok(())
    }

    /// Integrates an update into the document and queues what changed for every connection but the
    /// sender, and (unless it came from another node) for storage and the other nodes.
    /// `Ok(Err(_))` is an update that cannot be used.
    pub(super) fn integrate(
        &mut self,
        source: Source,
        bytes: &[u8],
    ) -> Result<Result<(), Rejected>, Poisoned> {
        let update = match Update::decode_v1(bytes) {
            Ok(u) => u,
            Err(e) => {
                return Ok(Err(Rejected {
                    reason: "update cannot be decoded",
                    error: e.to_string(),
                }));
            }
        };
        self.integrate_update(source, update)
    }

    /// As [`Self::integrate`], for an update already decoded.
    fn integrate_update(
        &mut self,
        source: Source,
        update: Update,
    ) -> Result<Result<(), Rejected>, Poisoned> {
        let started = Instant::now();
        // yrs may panic on input it does not expect; a panic must not take the server down, but the
        // document can no longer be trusted afterwards.
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut txn = self.doc.transact_mut();
            let result = txn.apply_update(update);
            // What could not be integrated (it depends on content the document lacks) would stay
            // in yrs as pending, and be served to joiners without ever being stored. A client's is
            // held instead, until what it needs arrives; another node stored its own.
            let pending = match source {
                Source::Remote => None,
                Source::Client(_) | Source::Server => txn.prune_pending(),
            };
            (result, pending)
        }));
        self.services
            .metrics
            .update_apply_seconds
            .observe(started.elapsed().as_secs_f64());
        // Whatever was integrated (even before an error) is in the document: store and share it.
        self.take_applied(source);
        let result = result.map(|(result, pending)| {
            if let (Some(update), Source::Client(conn)) = (pending, source) {
                let bytes = update.encode_v1().len();
                debug!(
                    conn_id = conn,
                    bytes, "part of an update held for what it depends on"
                );
                self.held.push(Held {
                    conn,
                    update,
                    bytes,
                });
            }
            result
        });
        match result {
            Ok(Ok(())) => Ok(Ok(())),
            Ok(Err(e)) => Ok(Err(Rejected {
                reason: "update cannot be applied",
                error: e.to_string(),
            })),
            Err(_) => {
                error!(origin = ?source.conn(), "applying an update panicked; reloading the map");
                self.services.metrics.error("update_panic");
                Err(Poisoned("internal error in this map; reconnect"))
            }
        }
    }

    /// Queues what the document's observer recorded: for every connection but the sender, and
    /// (unless it came from another node) for storage and the other nodes.
    pub(super) fn take_applied(&mut self, source: Source) {
        let applied = std::mem::take(&mut *self.applied.lock().unwrap_or_else(|e| e.into_inner()));
        if !applied.is_empty() {
            self.full_sync = None;
        }
        for delta in applied {
            self.size += delta.len();
            let frame = Bytes::from(encode_update(&delta));
            if !matches!(source, Source::Remote) {
                self.pending.push(frame.slice(frame.len() - delta.len()..));
            }
            self.outbox.push(Out::All {
                except: source.conn(),
                frame,
            });
        }
    }
}
