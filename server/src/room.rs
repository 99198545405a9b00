//! One map's live document: its yrs `Doc`, its awareness (presence) and its subscribers.
//!
//! Each loaded map is an actor task that owns all of that, so no lock or transaction is ever held
//! across an `.await`. The actor takes the commands waiting in its inbox as one batch, applies them,
//! makes the batch's updates durable in one store append, and only then delivers what the batch
//! produced. So nothing reaches another client before it is stored, and every client sees updates in
//! the order they were applied.

use crate::auth::Role;
use crate::cluster::wire::Kind;
use crate::cluster::{Remote, Subscription};
use crate::outlet::{ConnId, Gone, Outlet};
use crate::registry::Registry;
use crate::state::Shared;
use crate::store::{Seq, StoreError};
use bytes::Bytes;
use serde::de::IgnoredAny;
use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};
use tracing::{Instrument, debug, error, info_span, warn};
use waymark_protocol::message::{
    encode_auth_denied, encode_awareness, encode_sync_step1, encode_sync_step2, encode_update,
};
use waymark_protocol::{CloseCode, MapId};
use yrs::sync::awareness::AwarenessUpdateEntry;
use yrs::sync::{Awareness, AwarenessUpdate};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact, Update, WriteTxn};

/// Most commands handled in one batch, so one busy map cannot delay its own broadcasts for long.
const MAX_BATCH: usize = 256;

pub enum Command {
    Join {
        outlet: Outlet,
        reply: oneshot::Sender<Result<(), JoinError>>,
    },
    Leave(ConnId),
    Message {
        conn: ConnId,
        msg: Inbound,
    },
    /// The map as the schema reads it, once everything applied is durable.
    Read {
        reply: oneshot::Sender<waymark_protocol::schema::Read>,
    },
    /// The map's comments, once everything applied is durable.
    Comments {
        reply: oneshot::Sender<Vec<waymark_protocol::schema::comments::Comment>>,
    },
    /// The whole document as a v1 update, and its state vector, once everything applied is durable.
    State {
        reply: oneshot::Sender<(Vec<u8>, Vec<u8>)>,
    },
    /// An update made by the server itself (the REST API): applied, stored and broadcast like a
    /// client's, and durable when answered.
    Apply {
        update: Vec<u8>,
        /// Refuse unless the map is still empty (creating a map).
        only_if_empty: bool,
        reply: oneshot::Sender<Result<(), ApplyError>>,
    },
    /// Turns the map into `target` with ordinary edits (a version being restored); durable when
    /// answered, with what changed.
    Restore {
        target: Box<waymark_protocol::schema::JourneyMap>,
        reply: oneshot::Sender<Result<waymark_protocol::schema::diff::Summary, ApplyError>>,
    },
    /// An event for the map's clients of the `events` extension (JSON), already sent to the other
    /// nodes.
    Event {
        json: String,
    },
    /// Deletes the map: closes its connections and removes it from storage.
    Delete {
        reply: oneshot::Sender<Result<bool, StoreError>>,
    },
}

/// Why the server's own update was not applied.
#[derive(Debug, Clone)]
pub enum ApplyError {
    /// The map already has content.
    Exists,
    Invalid(Rejected),
    /// The change would make the map larger than its limit (bytes).
    TooLarge(usize),
}

/// Why an update was not used.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub reason: &'static str,
    pub error: String,
}

/// A client message the room acts on, its payload sharing the frame's memory.
pub enum Inbound {
    SyncStep1(Bytes),
    Update(Bytes),
    Awareness { frame: Bytes, update: Bytes },
    QueryAwareness,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum JoinError {
    #[error("the map could not be loaded from storage; try again later")]
    Load,
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("the map is being reloaded; try again")]
    Busy,
}

/// The room can no longer serve: its document may differ from the store. Carries the close reason
/// its clients are given.
#[derive(Debug)]
struct Poisoned(&'static str);

enum Out {
    All {
        except: Option<ConnId>,
        frame: Bytes,
    },
    To {
        conn: ConnId,
        frame: Bytes,
    },
}

/// Where an update came from: decides whether it is stored and published.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// A client of this node.
    Client(ConnId),
    /// The server itself (the REST API).
    Server,
    /// Another node, or the shared store: already stored, and the other nodes have it.
    Remote,
}

struct Sub {
    outlet: Outlet,
    /// What the connection may do (from its token).
    role: Role,
    /// The user's name came from their token: presence cannot change it.
    authenticated: bool,
    /// Awareness client ids this connection has published a live state for.
    clients: HashSet<ClientID>,
    /// The `user.name` of its presence state, for the activity record.
    user: Option<String>,
    /// Updates accepted from it (count, bytes) since the activity was last recorded.
    edits: (u64, u64),
    /// Its SyncStep1 was answered. Until then it is sent no updates: the answer holds them, and a
    /// relayed update would reach it ahead of what it depends on.
    answered: bool,
}

/// A client's update that depends on updates of its own the room does not have yet (a client
/// that edits right after reconnecting, before its offline edits arrive in its SyncStep2). It is
/// held until they arrive: integrated with a gap, yrs would settle concurrent writes against
/// content no other client has.
struct Held {
    conn: ConnId,
    update: Update,
    bytes: usize,
}

/// Whose presence an awareness entry sets.
enum Presence {
    /// The sender's (or free to take).
    Own,
    /// A repetition of what the room has: changes nothing.
    Echo,
    /// Someone else's.
    Foreign,
}

/// Most bytes of held updates a room keeps; beyond, the sender is asked to reconnect.
const MAX_HELD_BYTES: usize = 16 << 20;

/// Where each client's insertions in `update` end. (`Update::state_vector` is no use here: it
/// counts only clients whose blocks start at clock 0.)
fn insertion_ends(update: &Update) -> StateVector {
    let mut ends = StateVector::default();
    for (client, ranges) in update.insertions(true).iter() {
        if let Some(end) = ranges.iter().map(|r| r.end).max() {
            ends.set_max(*client, end);
        }
    }
    ends
}

/// The `user.name` of a presence state, if it has one.
fn user_name(json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let name = v.get("user")?.get("name")?.as_str()?.trim();
    (!name.is_empty()).then(|| name.chars().take(200).collect())
}

struct Room {
    map: MapId,
    generation: u64,
    shared: Arc<Shared>,
    doc: Doc,
    awareness: Awareness,
    /// Filled by the document's update observer: each applied change, encoded once.
    applied: Arc<Mutex<Vec<Vec<u8>>>>,
    subs: HashMap<ConnId, Sub>,
    /// Updates applied in this batch, not yet durable.
    pending: Vec<Bytes>,
    /// Messages produced by this batch, delivered once `pending` is durable.
    outbox: Vec<Out>,
    log_updates: usize,
    log_bytes: usize,
    /// The map's stored size, estimated: its snapshot and every update applied since, as encoded.
    size: usize,
    last_seq: Seq,
    idle_since: Option<Instant>,
    /// The SyncStep2 answering an empty state vector (what every new client sends), shared by all
    /// joiners until the document changes: a crowd joining a large map costs one copy, not one each.
    full_sync: Option<Bytes>,
    /// Title, kind and review due date last recorded for listings.
    summary: Option<(String, String, Option<String>)>,
    /// Set once the map is deleted: the room then goes away.
    deleted: bool,
    /// A background compaction is under way.
    compacting: Arc<AtomicBool>,
    /// The other nodes' messages for this map (cluster mode).
    remote: Option<Subscription>,
    /// Messages this room published to the other nodes.
    published: u64,
    /// A resync failed (the store was unreachable) and is retried on the next sweep.
    resync_due: bool,
    /// A resync asked for while the room was committing, done right after.
    resync_next: Option<&'static str>,
    /// When to take an automatic version: set by this node's edits, pushed back by each new one.
    auto_version_at: Option<Instant>,
    /// Activity not yet recorded (written in batches, with the awareness sweep).
    activity: Vec<crate::store::Activity>,
    /// Client updates waiting for what they depend on.
    held: Vec<Held>,
}

pub async fn run(
    map: MapId,
    generation: u64,
    shared: Arc<Shared>,
    mut rx: mpsc::Receiver<Command>,
) {
    let span = info_span!("room", map_id = %map);
    async move {
        // Subscribe before loading: see the ordering argument in `cluster`.
        let remote = match &shared.cluster {
            Some(cluster) => Some(cluster.join(&map, generation).await),
            None => None,
        };
        let loaded = Room::load(map.clone(), generation, Arc::clone(&shared), remote).await;
        let mut room = match loaded {
            Ok(room) => room,
            Err(e) => {
                error!(error = %e, "cannot load map");
                shared.metrics.error("map_load");
                Registry::remove_locked(&mut shared.rooms.lock(), &map, generation);
                rx.close();
                while let Ok(cmd) = rx.try_recv() {
                    if let Command::Join { reply, .. } = cmd {
                        let _ = reply.send(Err(JoinError::Load));
                    }
                }
                if let Some(cluster) = &shared.cluster {
                    cluster.leave(&map, generation).await;
                }
                return;
            }
        };
        shared.metrics.maps_loaded.inc();
        debug!("map loaded");
        // Ask the other nodes for their clients' presence.
        room.publish(Kind::Hello, &[]);
        room.serve(&mut rx).await;
        if let Some(cluster) = &shared.cluster {
            cluster.leave(&map, generation).await;
        }
        shared.metrics.maps_loaded.dec();
        debug!("map unloaded");
    }
    .instrument(span)
    .await
}

#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored update {index} cannot be applied: {detail}")]
    Corrupt { index: usize, detail: String },
}

impl Room {
    async fn load(
        map: MapId,
        generation: u64,
        shared: Arc<Shared>,
        remote: Option<Subscription>,
    ) -> Result<Room, LoadError> {
        let stored = shared.store.load(&map).await?;
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            for (index, bytes) in stored.snapshot.iter().chain(&stored.updates).enumerate() {
                let update = Update::decode_v1(bytes).map_err(|e| LoadError::Corrupt {
                    index,
                    detail: e.to_string(),
                })?;
                txn.apply_update(update).map_err(|e| LoadError::Corrupt {
                    index,
                    detail: e.to_string(),
                })?;
            }
        }
        let applied = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&applied);
        // The observer only records the encoded change: it must not block or open a transaction.
        doc.observe_update_v1("room", move |_, e| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.update.clone());
            }
        })
        .map_err(|e| LoadError::Corrupt {
            index: 0,
            detail: e.to_string(),
        })?;
        let awareness = Awareness::new(doc.clone());
        Ok(Room {
            map,
            generation,
            shared,
            doc,
            awareness,
            applied,
            subs: HashMap::new(),
            pending: Vec::new(),
            outbox: Vec::new(),
            log_updates: stored.updates.len(),
            log_bytes: stored.log_bytes,
            size: stored.snapshot.as_ref().map_or(0, Vec::len) + stored.log_bytes,
            last_seq: stored.last_seq,
            idle_since: Some(Instant::now()),
            full_sync: None,
            summary: None,
            deleted: false,
            compacting: Arc::new(AtomicBool::new(false)),
            remote,
            published: 0,
            resync_due: false,
            resync_next: None,
            auto_version_at: None,
            activity: Vec::new(),
            held: Vec::new(),
        })
    }

    async fn serve(&mut self, rx: &mut mpsc::Receiver<Command>) {
        let shutdown = self.shared.shutdown.clone();
        let sweep_every = (self.shared.config.awareness_timeout / 6).max(Duration::from_millis(50));
        let mut sweep = tokio::time::interval(sweep_every);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let unload_at = self.idle_since.map(|t| t + self.shared.config.unload_after);
            let step = tokio::select! {
                biased;
                _ = shutdown.cancelled() => {
                    self.shut_down(rx).await;
                    return;
                }
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.batch(cmd, rx).await,
                    None => return,
                },
                Some(msg) = recv_remote(&mut self.remote) => self.remote_batch(msg).await,
                _ = sweep.tick() => {
                    self.sweep_awareness();
                    self.record_activity(false).await;
                    if self.resync_due {
                        self.resync("retry").await;
                    }
                    self.flush().await
                }
                _ = sleep_until(self.auto_version_at) => {
                    self.auto_version_in_background();
                    Ok(())
                }
                _ = sleep_until(unload_at) => {
                    if self.try_unload(rx).await {
                        return;
                    }
                    Ok(())
                }
            };
            let step = match (step, self.resync_next.take()) {
                (Ok(()), Some(reason)) => {
                    self.resync(reason).await;
                    self.flush().await
                }
                (step, _) => step,
            };
            if let Err(Poisoned(reason)) = step {
                self.poison(rx, reason);
                return;
            }
            if self.deleted {
                // Joins still queued are dropped: they retry and start a new, empty map.
                Registry::remove_locked(&mut self.shared.rooms.lock(), &self.map, self.generation);
                rx.close();
                while rx.try_recv().is_ok() {}
                return;
            }
        }
    }

    async fn batch(
        &mut self,
        first: Command,
        rx: &mut mpsc::Receiver<Command>,
    ) -> Result<(), Poisoned> {
        self.handle(first).await?;
        for _ in 1..MAX_BATCH {
            match rx.try_recv() {
                Ok(cmd) => self.handle(cmd).await?,
                Err(_) => break,
            }
        }
        self.flush().await
    }

    /// Handles the other nodes' waiting messages, then delivers what they changed.
    async fn remote_batch(&mut self, first: Remote) -> Result<(), Poisoned> {
        let mut next = Some(first);
        let mut handled = 0;
        while let Some(msg) = next.take() {
            self.remote(msg).await?;
            handled += 1;
            if handled < MAX_BATCH
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

    async fn remote(&mut self, msg: Remote) -> Result<(), Poisoned> {
        match msg {
            Remote::Update(update) => {
                if let Err(rejected) = self.integrate(Source::Remote, &update)? {
                    // Another node stored it, so the store will not load either: say so loudly.
                    error!(error = %rejected.error, "another node sent an update that cannot be applied");
                    self.shared.metrics.error("remote_update");
                }
            }
            Remote::Awareness(update) => {
                let Ok(parsed) = AwarenessUpdate::decode_v1(&update) else {
                    self.shared.metrics.error("remote_awareness");
                    return Ok(());
                };
                if let Ok(Some(_)) = self.awareness.apply_update_summary(parsed) {
                    self.outbox.push(Out::All {
                        except: None,
                        frame: encode_awareness(&update).into(),
                    });
                }
            }
            Remote::Hello => self.publish_presence(),
            Remote::Deleted => {
                for sub in self.subs.values() {
                    sub.outlet
                        .kick()
                        .kick(CloseCode::MapDeleted, "this map was deleted");
                }
                self.subs.clear();
                self.deleted = true;
            }
            Remote::Resync(reason) => self.resync(reason).await,
            Remote::Event(json) => self.event(&json),
        }
        Ok(())
    }

    /// Re-reads the map from the store and applies whatever this node missed, so its clients
    /// converge with the other nodes' without reconnecting. Then tells the other nodes how far this
    /// room has published, so they can do the same.
    async fn resync(&mut self, reason: &'static str) {
        self.shared
            .metrics
            .map_resyncs
            .get_or_create(&crate::metrics::KindLabel { kind: reason })
            .inc();
        match self.shared.store.load(&self.map).await {
            Ok(stored) => {
                self.resync_due = false;
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
                debug!(reason, "resynced from the store");
                self.publish(Kind::Hello, &[]);
            }
            Err(e) => {
                warn!(error = %e, reason, "cannot resync from the store yet; will retry");
                self.resync_due = true;
            }
        }
    }

    fn note_activity(
        &mut self,
        kind: &str,
        conn: ConnId,
        user: Option<String>,
        (updates, bytes): (u64, u64),
    ) {
        self.activity.push(crate::store::Activity {
            at: crate::now_millis(),
            kind: kind.into(),
            session: format!("{}-{conn}", self.shared.config.node_id),
            user,
            updates,
            bytes,
        });
    }

    /// Collects what the connections edited and hands the activity to the store. In the
    /// background, unless the room is going away (`now`).
    async fn record_activity(&mut self, now: bool) {
        let edited: Vec<(ConnId, Option<String>, (u64, u64))> = self
            .subs
            .iter_mut()
            .filter(|(_, s)| s.edits.0 > 0)
            .map(|(&id, s)| (id, s.user.clone(), std::mem::take(&mut s.edits)))
            .collect();
        for (conn, user, edits) in edited {
            self.note_activity("edited", conn, user, edits);
        }
        if self.activity.is_empty() {
            return;
        }
        let entries = std::mem::take(&mut self.activity);
        let (store, map) = (Arc::clone(&self.shared.store), self.map.clone());
        let write = async move {
            if let Err(e) = store.record_activity(&map, entries).await {
                warn!(error = %e, "cannot record the map's activity");
            }
        };
        if now {
            write.await;
        } else {
            self.shared.tracker.spawn(write.in_current_span());
        }
    }

    /// Sends an event to the clients that negotiated the `events` extension.
    fn event(&mut self, json: &[u8]) {
        let Ok(json) = std::str::from_utf8(json) else {
            return;
        };
        let frame = Bytes::from(waymark_protocol::ext::encode_event(json));
        let lost: Vec<(ConnId, Gone)> = self
            .subs
            .iter()
            .filter(|(_, s)| s.outlet.events)
            .filter_map(|(&id, s)| s.outlet.send(frame.clone()).err().map(|g| (id, g)))
            .collect();
        for (conn, gone) in lost {
            self.lost(conn, gone);
        }
        self.deliver();
    }

    /// Sends this node's clients' presence states to the other nodes.
    fn publish_presence(&mut self) {
        let local: Vec<ClientID> = self
            .subs
            .values()
            .flat_map(|s| s.clients.iter().copied())
            .collect();
        if local.is_empty() {
            return;
        }
        if let Ok(update) = self.awareness.update_with_clients(local) {
            self.publish(Kind::Awareness, &update.encode_v1());
        }
    }

    /// Sends a message to the other nodes (cluster mode).
    fn publish(&mut self, kind: Kind, payload: &[u8]) {
        let Some(cluster) = &self.shared.cluster else {
            return;
        };
        // A Hello carries the last sequence number instead of taking one.
        if kind != Kind::Hello {
            self.published += 1;
        }
        cluster.publish(&self.map, kind, self.generation, self.published, payload);
    }

    async fn handle(&mut self, cmd: Command) -> Result<(), Poisoned> {
        match cmd {
            Command::Join { outlet, reply } => {
                // The newcomer's first messages must reflect only durable state.
                self.flush().await?;
                self.join(outlet);
                let _ = reply.send(Ok(()));
            }
            Command::Leave(conn) => self.remove_sub(conn),
            Command::Read { reply } => {
                self.flush().await?;
                let _ = reply.send(waymark_protocol::schema::read(&self.doc.transact()));
            }
            Command::Comments { reply } => {
                self.flush().await?;
                let _ = reply.send(waymark_protocol::schema::comments::read(
                    &self.doc.transact(),
                ));
            }
            Command::State { reply } => {
                self.flush().await?;
                let txn = self.doc.transact();
                let state = txn.encode_state_as_update_v1(&StateVector::default());
                let _ = reply.send((state, txn.state_vector().encode_v1()));
            }
            Command::Event { json } => self.event(json.as_bytes()),
            Command::Restore { target, reply } => {
                self.flush().await?;
                // The edits a restore makes are at most the restored map written out whole.
                let scratch = Doc::new();
                // (Two statements: a read transaction must not be opened while the write one of
                // the same statement is still alive.)
                let written = waymark_protocol::schema::write(&mut scratch.transact_mut(), &target);
                let written = match written {
                    Ok(()) => scratch
                        .transact()
                        .encode_state_as_update_v1(&StateVector::default())
                        .len(),
                    Err(_) => 0,
                };
                if let Err(e) = self.check_size(written) {
                    let _ = reply.send(Err(e));
                    return Ok(());
                }
                let current = waymark_protocol::schema::read(&self.doc.transact()).map;
                let result = {
                    let mut txn = self.doc.transact_mut();
                    waymark_protocol::schema::write_over(&mut txn, &current, &target)
                };
                self.take_applied(Source::Server);
                self.flush().await?;
                let _ = reply.send(result.map(|d| d.summary).map_err(|e| {
                    ApplyError::Invalid(Rejected {
                        reason: "the version cannot be written over the map",
                        error: e.to_string(),
                    })
                }));
            }
            Command::Apply {
                update,
                only_if_empty,
                reply,
            } => {
                self.flush().await?;
                if only_if_empty && !self.doc.transact().state_vector().is_empty() {
                    let _ = reply.send(Err(ApplyError::Exists));
                    return Ok(());
                }
                if let Err(e) = self.check_size(update.len()) {
                    let _ = reply.send(Err(e));
                    return Ok(());
                }
                let result = self.integrate(Source::Server, &update)?;
                self.flush().await?;
                let _ = reply.send(result.map_err(ApplyError::Invalid));
            }
            Command::Delete { reply } => {
                self.flush().await?;
                for sub in self.subs.values() {
                    sub.outlet
                        .kick()
                        .kick(CloseCode::MapDeleted, "this map was deleted");
                }
                self.subs.clear();
                let result = self.shared.store.delete(&self.map).await;
                if result.is_ok() {
                    self.publish(Kind::Deleted, &[]);
                }
                let _ = reply.send(result);
                self.deleted = true;
            }
            Command::Message { conn, msg } => {
                if self.subs.contains_key(&conn) {
                    self.message(conn, msg).await?;
                }
            }
        }
        Ok(())
    }

    fn join(&mut self, outlet: Outlet) {
        let sv = self.doc.transact().state_vector().encode_v1();
        let mut sent = outlet.send(encode_sync_step1(&sv).into());
        if sent.is_ok()
            && let Ok(update) = self.awareness.update()
            && !update.clients.is_empty()
        {
            sent = outlet.send(encode_awareness(&update.encode_v1()).into());
        }
        if sent == Err(Gone::Slow) {
            self.shared.metrics.error("slow_consumer");
        }
        if sent.is_ok() {
            self.idle_since = None;
            self.note_activity("connected", outlet.conn_id, None, (0, 0));
            self.subs.insert(
                outlet.conn_id,
                Sub {
                    role: outlet.role,
                    authenticated: outlet.user.is_some(),
                    user: outlet.user.clone(),
                    outlet,
                    clients: HashSet::new(),
                    edits: (0, 0),
                    answered: false,
                },
            );
        }
    }

    async fn message(&mut self, conn: ConnId, msg: Inbound) -> Result<(), Poisoned> {
        match msg {
            Inbound::SyncStep1(sv) => {
                let sv = match StateVector::decode_v1(&sv) {
                    Ok(sv) => sv,
                    Err(e) => {
                        self.reject(
                            conn,
                            CloseCode::ProtocolError,
                            "bad_state_vector",
                            "malformed state vector",
                            &e,
                        );
                        return Ok(());
                    }
                };
                self.flush().await?;
                let answer = if sv.is_empty() {
                    let doc = &self.doc;
                    self.full_sync
                        .get_or_insert_with(|| {
                            let state = doc.transact().encode_state_as_update_v1(&sv);
                            encode_sync_step2(&state).into()
                        })
                        .clone()
                } else {
                    let diff = self.doc.transact().encode_state_as_update_v1(&sv);
                    encode_sync_step2(&diff).into()
                };
                if let Some(sub) = self.subs.get_mut(&conn) {
                    sub.answered = true;
                }
                self.send_to(conn, answer);
            }
            Inbound::Update(update) => match self.subs.get(&conn).map(|s| s.role) {
                Some(role) if role >= Role::Editor => self.apply(conn, &update)?,
                Some(role) => self.refuse_update(conn, role, &update),
                None => {}
            },
            Inbound::Awareness {
                mut frame,
                mut update,
            } => {
                let mut parsed = match AwarenessUpdate::decode_v1(&update) {
                    Ok(u) => u,
                    Err(e) => {
                        self.reject(
                            conn,
                            CloseCode::ProtocolError,
                            "bad_awareness",
                            "malformed awareness update",
                            &e,
                        );
                        return Ok(());
                    }
                };
                // Stock clients JSON.parse every state they receive: one bad state must not reach them.
                if let Some(e) = parsed
                    .clients
                    .values()
                    .find_map(|e| serde_json::from_str::<IgnoredAny>(&e.json).err())
                {
                    self.reject(
                        conn,
                        CloseCode::InvalidPayload,
                        "bad_awareness",
                        "awareness state is not valid JSON",
                        &e,
                    );
                    return Ok(());
                }
                // Only one's own presence may be set or removed.
                let before = parsed.clients.len();
                let mut foreign = Vec::new();
                parsed.clients.retain(|id, entry| {
                    match self.may_set_presence(conn, *id, entry.clock) {
                        Presence::Own => true,
                        Presence::Echo => false,
                        Presence::Foreign => {
                            foreign.push(*id);
                            false
                        }
                    }
                });
                if !foreign.is_empty() {
                    debug!(conn_id = conn, ?foreign, "presence of other users ignored");
                    self.shared.metrics.refused("foreign_presence");
                }
                if parsed.clients.is_empty() {
                    return Ok(());
                }
                if parsed.clients.len() < before {
                    update = Bytes::from(parsed.encode_v1());
                    frame = encode_awareness(&update).into();
                }
                let name = parsed.clients.values().find_map(|e| user_name(&e.json));
                if let (Some(name), Some(sub)) = (name, self.subs.get_mut(&conn))
                    && !sub.authenticated
                {
                    sub.user = Some(name);
                }
                // Applying never fails; `None` means nothing changed (a stale clock).
                if let Ok(Some(summary)) = self.awareness.apply_update_summary(parsed) {
                    if let Some(sub) = self.subs.get_mut(&conn) {
                        sub.clients
                            .extend(summary.added.iter().chain(&summary.updated));
                        for id in &summary.removed {
                            sub.clients.remove(id);
                        }
                    }
                    self.outbox.push(Out::All {
                        except: Some(conn),
                        frame,
                    });
                    self.publish(Kind::Awareness, &update);
                }
            }
            Inbound::QueryAwareness => {
                if let Ok(update) = self.awareness.update() {
                    self.outbox.push(Out::To {
                        conn,
                        frame: encode_awareness(&update.encode_v1()).into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether connection `conn` may set or remove the presence of awareness client `id` (at
    /// `clock`): its own; one nobody shows; or one another connection of the same user holds,
    /// which it then takes over (a client reconnecting before its old connection is noticed
    /// gone). Stock clients echo every presence change they receive, at the clock they received
    /// it: such an entry changes nothing and is dropped without being counted. On a server without
    /// authentication users cannot be told apart, and a takeover is always allowed.
    fn may_set_presence(&mut self, conn: ConnId, id: ClientID, clock: u32) -> Presence {
        if self
            .subs
            .get(&conn)
            .is_some_and(|s| s.clients.contains(&id))
        {
            return Presence::Own;
        }
        let live = self
            .awareness
            .iter()
            .any(|(c, s)| c == id && s.data.is_some());
        if !live {
            return Presence::Own;
        }
        if self
            .awareness
            .meta(id)
            .is_some_and(|(current, _)| clock <= current)
        {
            return Presence::Echo;
        }
        let subject = self.subs.get(&conn).and_then(|s| s.outlet.subject.clone());
        let anonymous = !self.shared.config.auth.enabled();
        let holder = self
            .subs
            .iter_mut()
            .find(|(c, s)| **c != conn && s.clients.contains(&id));
        match holder {
            Some((_, other))
                if anonymous || (subject.is_some() && other.outlet.subject == subject) =>
            {
                other.clients.remove(&id);
                Presence::Own
            }
            None if anonymous => Presence::Own,
            // Another user's, or another node's client's.
            _ => Presence::Foreign,
        }
    }

    /// A client whose role may not edit sent an update: it is not applied, and if it would have
    /// changed anything the client is told with the protocol's permission-denied message.
    /// Read-only clients (y-websocket's included) answer the server's sync step 1 with an update
    /// holding nothing new; that is not an attempt to edit.
    fn refuse_update(&mut self, conn: ConnId, role: Role, bytes: &[u8]) {
        let changes = match Update::decode_v1(bytes) {
            Ok(update) => {
                let txn = self.doc.transact();
                let sv = txn.state_vector();
                let inserts = insertion_ends(&update)
                    .iter()
                    .any(|(client, clock)| *clock > sv.get(client));
                inserts
                    || !update
                        .delete_set()
                        .diff(&txn.snapshot().delete_set)
                        .is_empty()
            }
            Err(_) => true,
        };
        if !changes {
            return;
        }
        debug!(conn_id = conn, %role, "update from a read-only client refused");
        self.shared.metrics.refused("read_only");
        let reason = format!("read-only: the {role} role may not edit this map");
        self.send_to(conn, encode_auth_denied(&reason).into());
    }

    /// Refuses a change of `bytes` that would take the map past its size limit.
    fn check_size(&self, bytes: usize) -> Result<(), ApplyError> {
        let limit = self.shared.config.limits.max_map_size;
        if self.size + bytes <= limit {
            return Ok(());
        }
        warn!(
            size = self.size,
            update = bytes,
            limit,
            "change would make the map too large; refused"
        );
        self.shared.metrics.limit("map_size");
        Err(ApplyError::TooLarge(limit))
    }

    /// Applies a client's update; an invalid one closes that client's connection.
    /// Applies a client's update, or holds it while it has a gap; an invalid one closes that
    /// client's connection.
    fn apply(&mut self, conn: ConnId, bytes: &[u8]) -> Result<(), Poisoned> {
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
            let held: usize = self.held.iter().map(|h| h.bytes).sum();
            if held + bytes.len() > MAX_HELD_BYTES {
                warn!(
                    conn_id = conn,
                    held, "too many updates waiting for missing ones"
                );
                self.shared.metrics.error("held_overflow");
                if let Some(sub) = self.subs.get(&conn) {
                    sub.outlet.kick().kick(
                        CloseCode::TryAgainLater,
                        "updates wait for earlier ones that never came; reconnect to resync",
                    );
                }
                self.remove_sub(conn);
                return Ok(());
            }
            debug!(
                conn_id = conn,
                "update held until what it depends on arrives"
            );
            self.held.push(Held {
                conn,
                update,
                bytes: bytes.len(),
            });
            return Ok(());
        }
        self.apply_update(conn, update)?;
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
                self.apply_update(held.conn, held.update)?;
            }
            if self.doc.transact().state_vector() == before {
                return Ok(());
            }
        }
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

    fn apply_update(&mut self, conn: ConnId, update: Update) -> Result<(), Poisoned> {
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
    fn integrate(
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
        let origin = match source {
            Source::Client(conn) => Some(conn),
            Source::Server | Source::Remote => None,
        };
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
        self.shared
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
                error!(?origin, "applying an update panicked; reloading the map");
                self.shared.metrics.error("update_panic");
                Err(Poisoned("internal error in this map; reconnect"))
            }
        }
    }

    /// Queues what the document's observer recorded: for every connection but the sender, and
    /// (unless it came from another node) for storage and the other nodes.
    fn take_applied(&mut self, source: Source) {
        let origin = match source {
            Source::Client(conn) => Some(conn),
            Source::Server | Source::Remote => None,
        };
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
                except: origin,
                frame,
            });
        }
    }

    /// Closes a connection that sent something invalid.
    fn reject(
        &mut self,
        conn: ConnId,
        code: CloseCode,
        kind: &'static str,
        reason: &'static str,
        err: &dyn std::fmt::Display,
    ) {
        warn!(conn_id = conn, error = %err, close_code = code.code(), "{reason}; closing connection");
        self.shared.metrics.error(kind);
        if let Some(sub) = self.subs.get(&conn) {
            sub.outlet.kick().kick(code, reason);
        }
        self.remove_sub(conn);
    }

    fn send_to(&mut self, conn: ConnId, frame: Bytes) {
        let sent = match self.subs.get(&conn) {
            Some(sub) => sub.outlet.send(frame),
            None => Ok(()),
        };
        if let Err(gone) = sent {
            self.lost(conn, gone);
        }
    }

    /// A connection whose queue is full or closed.
    fn lost(&mut self, conn: ConnId, gone: Gone) {
        if gone == Gone::Slow {
            warn!(
                conn_id = conn,
                "connection fell behind; closing it so it resyncs"
            );
            self.shared.metrics.error("slow_consumer");
        }
        self.remove_sub(conn);
    }

    fn remove_sub(&mut self, conn: ConnId) {
        let Some(sub) = self.subs.remove(&conn) else {
            return;
        };
        // Its held updates go with it: when it reconnects its SyncStep2 brings them again, whole.
        self.held.retain(|h| h.conn != conn);
        if sub.edits.0 > 0 {
            self.note_activity("edited", conn, sub.user.clone(), sub.edits);
        }
        self.note_activity("disconnected", conn, sub.user.clone(), (0, 0));
        self.remove_awareness(sub.clients, true);
        if self.subs.is_empty() {
            self.idle_since = Some(Instant::now());
        }
    }

    /// Removes presence states and tells everyone still here, and the other nodes if `local` (the
    /// states were this node's clients').
    fn remove_awareness(&mut self, clients: impl IntoIterator<Item = ClientID>, local: bool) {
        // A removal carries the state's current clock, as y-protocols does: bumping it (as
        // `Awareness::remove_state` would) makes a late renewal at that clock look stale.
        let entries: HashMap<ClientID, AwarenessUpdateEntry> = clients
            .into_iter()
            .filter_map(|id| {
                let (clock, _) = self.awareness.meta(id)?;
                let json = Arc::from("null");
                Some((id, AwarenessUpdateEntry { clock, json }))
            })
            .collect();
        if entries.is_empty() {
            return;
        }
        let removal = AwarenessUpdate { clients: entries };
        let payload = removal.encode_v1();
        if local {
            self.publish(Kind::Awareness, &payload);
        }
        let frame = encode_awareness(&payload).into();
        let _ = self.awareness.apply_update(removal);
        self.outbox.push(Out::All {
            except: None,
            frame,
        });
    }

    /// Expires presence states not renewed within the awareness timeout.
    fn sweep_awareness(&mut self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        let timeout = self.shared.config.awareness_timeout.as_millis() as u64;
        let stale: HashSet<ClientID> = self
            .awareness
            .iter()
            .filter(|(_, s)| s.data.is_some() && now.saturating_sub(s.last_updated) >= timeout)
            .map(|(id, _)| id)
            .collect();
        if stale.is_empty() {
            return;
        }
        debug!(count = stale.len(), "expiring stale awareness states");
        // Only this node's clients' expiries are news to the other nodes; they expire the rest
        // themselves (or the owning node tells them).
        let mut local = HashSet::new();
        for sub in self.subs.values_mut() {
            sub.clients.retain(|id| {
                let ours = stale.contains(id);
                if ours {
                    local.insert(*id);
                }
                !ours
            });
        }
        let remote: Vec<ClientID> = stale.difference(&local).copied().collect();
        self.remove_awareness(local, true);
        self.remove_awareness(remote, false);
    }

    /// Makes this batch's updates durable, then delivers its messages.
    async fn flush(&mut self) -> Result<(), Poisoned> {
        if !self.pending.is_empty() {
            let batch = std::mem::take(&mut self.pending);
            let (count, bytes) = (batch.len(), batch.iter().map(Bytes::len).sum::<usize>());
            let started = Instant::now();
            let (store, map) = (Arc::clone(&self.shared.store), self.map.clone());
            let result = self
                .while_committing(store.append(&map, batch.clone()))
                .await?;
            self.shared
                .metrics
                .store_commit_seconds
                .observe(started.elapsed().as_secs_f64());
            match result {
                Ok(seq) => {
                    self.last_seq = seq;
                    self.log_updates += count;
                    self.log_bytes += bytes;
                    if let Some(quiet) = self.shared.config.auto_version_after {
                        self.auto_version_at = Some(Instant::now() + quiet);
                    }
                    // Only now, durable, may the other nodes see them: see `cluster`.
                    for update in &batch {
                        self.publish(Kind::Update, update);
                    }
                    self.record_summary().await;
                }
                Err(e) => {
                    error!(error = %e, "cannot store updates");
                    self.shared.metrics.error("store");
                    return Err(Poisoned("storage unavailable; reconnect later"));
                }
            }
        }
        self.deliver();
        let config = &self.shared.config;
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
    async fn while_committing<T>(
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
                Some(msg) = recv_remote(&mut self.remote), if poisoned.is_none() => {
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

    /// Sends every queued message to its connections.
    fn deliver(&mut self) {
        while !self.outbox.is_empty() {
            let mut lost = Vec::new();
            for out in std::mem::take(&mut self.outbox) {
                match out {
                    Out::All { except, frame } => {
                        let update = frame.first() == Some(&waymark_protocol::message::MSG_SYNC);
                        for (&id, sub) in &self.subs {
                            if Some(id) != except
                                && (sub.answered || !update)
                                && let Err(gone) = sub.outlet.send(frame.clone())
                            {
                                lost.push((id, gone));
                            }
                        }
                    }
                    Out::To { conn, frame } => {
                        if let Some(sub) = self.subs.get(&conn)
                            && let Err(gone) = sub.outlet.send(frame)
                        {
                            lost.push((conn, gone));
                        }
                    }
                }
            }
            // Removing a connection may announce its presence removal: loop until nothing is left.
            for (conn, gone) in lost {
                self.lost(conn, gone);
            }
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
            .shared
            .store
            .set_summary(&self.map, &current.0, &current.1, current.2.as_deref())
            .await
        {
            Ok(()) => self.summary = Some(current),
            Err(e) => warn!(error = %e, "cannot record the map's title for listings"),
        }
    }

    /// Compacts without making the room wait: the snapshot is encoded here, and the store write
    /// (which queues behind every map's appends on the one writer) runs as its own task. Updates
    /// appended meanwhile have higher sequence numbers and stay in the log.
    fn compact_in_background(&mut self) {
        if self.compacting.load(Ordering::Acquire) {
            return;
        }
        let snapshot = self
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        self.size = snapshot.len();
        let store = Arc::clone(&self.shared.store);
        let (map, through) = (self.map.clone(), self.last_seq);
        let compacting = Arc::clone(&self.compacting);
        let shared = Arc::clone(&self.shared);
        compacting.store(true, Ordering::Release);
        self.log_updates = 0;
        self.log_bytes = 0;
        self.shared.tracker.spawn(
            async move {
                if let Err(e) = store.compact(&map, snapshot, through).await {
                    // Not fatal: the log still holds everything; the next threshold retries.
                    warn!(error = %e, "cannot compact update log");
                    shared.metrics.error("compact");
                }
                compacting.store(false, Ordering::Release);
            }
            .in_current_span(),
        );
    }

    async fn compact(&mut self) {
        let snapshot = self
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let size = snapshot.len();
        self.size = size;
        match self
            .shared
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
                self.shared.metrics.error("compact");
            }
        }
    }

    /// The state for an automatic version, and what to store it as.
    fn auto_version(&mut self) -> (Vec<u8>, crate::store::NewVersion) {
        self.auto_version_at = None;
        let txn = self.doc.transact();
        let state = txn.encode_state_as_update_v1(&StateVector::default());
        let version = crate::store::NewVersion {
            label: "Automatic".into(),
            description: "Taken after a quiet period following edits".into(),
            author: String::new(),
            kind: crate::store::VersionKind::Auto,
            state: Vec::new(),
            state_vector: txn.state_vector().encode_v1(),
            raw_size: 0,
        };
        (state, version)
    }

    /// Takes an automatic version without holding the room up: compressing and storing run as
    /// their own task.
    fn auto_version_in_background(&mut self) {
        let (state, version) = self.auto_version();
        let (shared, map) = (Arc::clone(&self.shared), self.map.clone());
        self.shared.tracker.spawn(
            async move {
                match crate::versions::store_version(&shared, &map, state, version).await {
                    Ok(Some(v)) => debug!(version = v.number, "took an automatic version"),
                    Ok(None) => debug!("no automatic version: nothing changed since the last"),
                    Err(e) => warn!(error = %e, "cannot take an automatic version"),
                }
            }
            .in_current_span(),
        );
    }

    /// Takes an automatic version that is due before the room goes away.
    async fn auto_version_now(&mut self) {
        if self.auto_version_at.is_none() {
            return;
        }
        let (state, version) = self.auto_version();
        if let Err(e) =
            crate::versions::store_version(&self.shared, &self.map, state, version).await
        {
            warn!(error = %e, "cannot take an automatic version");
        }
    }

    /// Unloads the map if it is still unused; returns whether it did.
    async fn try_unload(&mut self, rx: &mut mpsc::Receiver<Command>) -> bool {
        if !self.subs.is_empty() {
            self.idle_since = None;
            return false;
        }
        self.auto_version_now().await;
        self.record_activity(true).await;
        if self.log_updates > 0 {
            self.compact().await;
        }
        {
            let mut rooms = self.shared.rooms.lock();
            if !rx.is_empty() {
                // Someone joined while we were compacting: stay.
                self.idle_since = Some(Instant::now());
                return false;
            }
            Registry::remove_locked(&mut rooms, &self.map, self.generation);
        }
        // A join sent after this point finds the channel closed (or its reply dropped below) and
        // retries against a fresh room, which loads everything from the store.
        rx.close();
        while rx.try_recv().is_ok() {}
        true
    }

    /// Storage failed or the document is suspect: drop every connection (they reconnect and resync
    /// against a fresh room) and go away without delivering anything not stored.
    fn poison(&mut self, rx: &mut mpsc::Receiver<Command>, reason: &'static str) {
        for sub in self.subs.values() {
            sub.outlet.kick().kick(CloseCode::InternalError, reason);
        }
        self.subs.clear();
        Registry::remove_locked(&mut self.shared.rooms.lock(), &self.map, self.generation);
        rx.close();
        while rx.try_recv().is_ok() {}
    }

    async fn shut_down(&mut self, rx: &mut mpsc::Receiver<Command>) {
        rx.close();
        // Finish what clients already sent, so an acknowledged edit is never lost on restart.
        let mut ok = true;
        while let Ok(cmd) = rx.try_recv() {
            match cmd {
                Command::Join { reply, .. } => {
                    let _ = reply.send(Err(JoinError::ShuttingDown));
                }
                cmd => ok = ok && self.handle(cmd).await.is_ok(),
            }
        }
        if ok && self.flush().await.is_ok() {
            self.auto_version_now().await;
            self.record_activity(true).await;
            if self.log_updates > 0 {
                self.compact().await;
            }
        }
    }
}

async fn recv_remote(remote: &mut Option<Subscription>) -> Option<Remote> {
    match remote {
        Some(sub) => sub.rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
