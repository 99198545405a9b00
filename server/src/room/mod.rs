//! One map's live document: its yrs `Doc`, its awareness (presence) and its subscribers.
//!
//! Each loaded map is an actor task that owns all of that, so no lock or transaction is ever held
//! across an `.await`. The actor takes the commands waiting in its inbox as one batch, applies them,
//! makes the batch's updates durable in one store append, and only then delivers what the batch
//! produced. So nothing reaches another client before it is stored, and every client sees updates in
//! the order they were applied.
//!
//! The life of one client update, file by file: `session` admits the connection; `apply` decodes
//! and integrates the update (or holds it while it depends on something missing) and queues what
//! changed; `persist` appends the batch to the store and then publishes it to the other nodes;
//! `outbox` delivers it to every other connection. `presence` handles awareness, `remote` what the
//! other nodes send, `commands` the server's own requests (the REST API), `compact` folding the
//! log into a snapshot and automatic versions. This file holds the actor's interface and its loop.

mod apply;
mod commands;
mod compact;
mod outbox;
mod persist;
mod presence;
mod remote;
mod session;
mod workshop;

use crate::cluster::Subscription;
use crate::cluster::wire::Kind;
use crate::outlet::{ConnId, Outlet};
use crate::refusal::{Class, Refusal};
use crate::services::Services;
use crate::store::{Seq, StoreError};
use apply::Held;
use bytes::Bytes;
use outbox::Out;
use session::Sub;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tracing::{Instrument, debug, error, info_span};
use waymark_protocol::MapId;
use yrs::sync::Awareness;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Transact, Update};

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
    /// The workshop session going on (or the last one) and the votes revealed in the map, for
    /// attendance.
    Attendance {
        reply: oneshot::Sender<crate::workshop::attendance::Facts>,
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

impl From<ApplyError> for Refusal {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::TooLarge(limit) => Refusal::new(
                Class::TooLarge,
                "map_too_large",
                format!("the map would exceed its limit of {limit} bytes; nothing was changed"),
            ),
            ApplyError::Exists => Refusal::conflict("map_exists", "the map exists"),
            ApplyError::Invalid(r) => {
                Refusal::conflict("cannot_apply", format!("{}: {}", r.reason, r.error))
            }
        }
    }
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
    Awareness {
        frame: Bytes,
        update: Bytes,
    },
    QueryAwareness,
    /// A workshop command (JSON text, checked to be UTF-8).
    Workshop(Bytes),
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

impl From<JoinError> for Refusal {
    fn from(e: JoinError) -> Self {
        Refusal::new(Class::Unavailable, "unavailable", e.to_string())
    }
}

/// The room can no longer serve: its document may differ from the store. Carries the close reason
/// its clients are given.
#[derive(Debug)]
struct Poisoned(&'static str);

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

impl Source {
    /// The connection that sent it, which is not sent it back.
    fn conn(self) -> Option<ConnId> {
        match self {
            Source::Client(conn) => Some(conn),
            Source::Server | Source::Remote => None,
        }
    }
}

struct Room {
    map: MapId,
    generation: u64,
    services: Arc<Services>,
    /// The room's own inbox, for what its background tasks report back (automatic versions).
    inbox: mpsc::WeakSender<Command>,
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
    /// Every stored update up to this sequence number is in the document: a resync reads only
    /// what was stored after it.
    read_through: Seq,
    /// The deletion the load saw (the map is being started anew), until the first append.
    deleted_at: Option<i64>,
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
    /// The map's workshop (PROTOCOL.md §9.2).
    workshop: crate::workshop::Workshop,
    /// Workshop entries changed in this batch, not yet durable.
    workshop_unsaved: Vec<crate::store::WorkshopEntry>,
    /// The typed map lock checks compare against.
    typed: Option<workshop::Typed>,
}

/// Serves the map until it unloads, is deleted, fails or the server stops. The room closes its
/// inbox before returning, so whoever holds a sender sees it gone and starts a fresh room.
pub async fn run(
    map: MapId,
    generation: u64,
    services: Arc<Services>,
    mut rx: mpsc::Receiver<Command>,
    inbox: mpsc::WeakSender<Command>,
) {
    let span = info_span!("room", map_id = %map);
    async move {
        // Subscribe before loading: see the ordering argument in `cluster`.
        let remote = match &services.cluster {
            Some(cluster) => Some(cluster.join(&map, generation).await),
            None => None,
        };
        let loaded = Room::load(
            map.clone(),
            generation,
            Arc::clone(&services),
            inbox,
            remote,
        );
        let mut room = match loaded.await {
            Ok(room) => room,
            Err(e) => {
                error!(error = %e, "cannot load map");
                services.metrics.error("map_load");
                rx.close();
                while let Ok(cmd) = rx.try_recv() {
                    if let Command::Join { reply, .. } = cmd {
                        let _ = reply.send(Err(JoinError::Load));
                    }
                }
                if let Some(cluster) = &services.cluster {
                    cluster.leave(&map, generation).await;
                }
                return;
            }
        };
        services.metrics.maps_loaded.inc();
        debug!("map loaded");
        // Ask the other nodes for their clients' presence.
        room.publish(Kind::Hello, &[]);
        room.serve(&mut rx).await;
        if let Some(cluster) = &services.cluster {
            cluster.leave(&map, generation).await;
        }
        services.metrics.maps_loaded.dec();
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
        services: Arc<Services>,
        inbox: mpsc::WeakSender<Command>,
        remote: Option<Subscription>,
    ) -> Result<Room, LoadError> {
        let stored = services.store.load(&map).await?;
        let workshop = crate::workshop::Workshop::new(
            services.config.node_id.clone(),
            services.store.workshop(&map).await?,
        );
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
            services,
            inbox,
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
            read_through: stored.last_seq,
            deleted_at: stored.deleted_at,
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
            workshop,
            workshop_unsaved: Vec::new(),
            typed: None,
        })
    }

    async fn serve(&mut self, rx: &mut mpsc::Receiver<Command>) {
        let shutdown = self.services.shutdown.clone();
        let sweep_every =
            (self.services.config.awareness_timeout / 6).max(Duration::from_millis(50));
        let mut sweep = tokio::time::interval(sweep_every);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let unload_at = self
                .idle_since
                .map(|t| t + self.services.config.unload_after);
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
                Some(msg) = remote::recv(&mut self.remote) => self.remote_batch(msg).await,
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
                close(rx);
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

    async fn handle(&mut self, cmd: Command) -> Result<(), Poisoned> {
        match cmd {
            Command::Join { outlet, reply } => {
                // The newcomer's first messages must reflect only durable state.
                self.flush().await?;
                self.join(outlet);
                let _ = reply.send(Ok(()));
            }
            Command::Leave(conn) => self.remove_sub(conn),
            Command::Message { conn, msg } => {
                if self.subs.contains_key(&conn) {
                    self.message(conn, msg).await?;
                }
            }
            Command::Event { json } => self.event(json.as_bytes()),
            Command::Attendance { reply } => {
                self.flush().await?;
                // Who connected recently is otherwise written with the next sweep.
                self.record_activity(true).await;
                let _ = reply.send(self.attendance());
            }
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
                let _ = reply.send(self.state());
            }
            Command::Restore { target, reply } => {
                self.flush().await?;
                let result = self.restore(&target).await?;
                let _ = reply.send(result);
            }
            Command::Apply {
                update,
                only_if_empty,
                reply,
            } => {
                self.flush().await?;
                let result = self.apply_server_update(&update, only_if_empty).await?;
                let _ = reply.send(result);
            }
            Command::Delete { reply } => {
                self.flush().await?;
                let _ = reply.send(self.delete().await);
            }
        }
        Ok(())
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
        if !rx.is_empty() {
            // Someone joined while we were compacting: stay.
            self.idle_since = Some(Instant::now());
            return false;
        }
        // A command sent after this point finds the inbox closed (or its reply dropped) and is
        // retried against a fresh room, which loads everything from the store.
        close(rx);
        true
    }

    /// Storage failed or the document is suspect: drop every connection (they reconnect and resync
    /// against a fresh room) and go away without delivering anything not stored.
    fn poison(&mut self, rx: &mut mpsc::Receiver<Command>, reason: &'static str) {
        self.kick_all(waymark_protocol::CloseCode::InternalError, reason);
        close(rx);
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

/// Closes the inbox and drops what is still in it: senders waiting for an answer see their reply
/// dropped and try again with a fresh room.
fn close(rx: &mut mpsc::Receiver<Command>) {
    rx.close();
    while rx.try_recv().is_ok() {}
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
