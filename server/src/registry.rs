//! The maps loaded on this server: finds a map's room, starting it on first use.
//!
//! A room closes its inbox when it goes away (unloaded, deleted, failed); its entry is then
//! replaced by the next one asked for, and removed once its task ends. A connection that reaches a
//! room just as it goes away sees its request dropped and simply asks again, which starts a fresh
//! room from the store.

use crate::outlet::{ConnId, Outlet};
use crate::room::{self, Command, Inbound, JoinError};
use crate::services::Services;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, oneshot};
use waymark_protocol::MapId;

/// Commands queued for one room before connections wait (which in turn stops reading their sockets).
const ROOM_INBOX: usize = 1024;

/// Attempts to reach a map whose room keeps going away underneath us.
const JOIN_ATTEMPTS: usize = 5;

/// The loaded maps; clones share them.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    services: Arc<Services>,
    rooms: Mutex<HashMap<MapId, Entry>>,
    next_generation: AtomicU64,
}

struct Entry {
    tx: mpsc::Sender<Command>,
    generation: u64,
}

/// A connection's link to the room of its map.
pub struct RoomHandle {
    tx: mpsc::Sender<Command>,
}

/// The room is gone (unloaded after a failure, or the server is stopping).
#[derive(Debug)]
pub struct RoomGone;

impl RoomHandle {
    pub async fn send(&self, conn: ConnId, msg: Inbound) -> Result<(), RoomGone> {
        self.tx
            .send(Command::Message { conn, msg })
            .await
            .map_err(|_| RoomGone)
    }

    pub async fn leave(&self, conn: ConnId) {
        let _ = self.tx.send(Command::Leave(conn)).await;
    }
}

impl Registry {
    pub fn new(services: Arc<Services>) -> Self {
        Registry {
            inner: Arc::new(Inner {
                services,
                rooms: Mutex::new(HashMap::new()),
                next_generation: AtomicU64::new(0),
            }),
        }
    }

    /// What the rooms run with.
    pub fn services(&self) -> &Arc<Services> {
        &self.inner.services
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<MapId, Entry>> {
        // The map is only ever touched in short, non-panicking sections.
        self.inner.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `outlet` to the room of `map`, loading the map if needed.
    pub async fn join(&self, map: &MapId, outlet: Outlet) -> Result<RoomHandle, JoinError> {
        let (joined, tx) = self
            .ask(map, |reply| Command::Join {
                outlet: outlet.clone(),
                reply,
            })
            .await?;
        joined.map(|()| RoomHandle { tx })
    }

    /// Sends a request to the room of `map` (loading it if needed) and waits for the answer.
    pub async fn request<T>(
        &self,
        map: &MapId,
        make: impl Fn(oneshot::Sender<T>) -> Command,
    ) -> Result<T, JoinError> {
        self.ask(map, make).await.map(|(answer, _)| answer)
    }

    /// Asks the room of `map` and returns its answer and its inbox. A room that goes away before
    /// answering (unloaded, or failed) is replaced by a fresh one and asked again.
    async fn ask<T>(
        &self,
        map: &MapId,
        make: impl Fn(oneshot::Sender<T>) -> Command,
    ) -> Result<(T, mpsc::Sender<Command>), JoinError> {
        for _ in 0..JOIN_ATTEMPTS {
            if self.inner.services.shutdown.is_cancelled() {
                return Err(JoinError::ShuttingDown);
            }
            let tx = self.get_or_start(map);
            let (reply, answer) = oneshot::channel();
            if tx.send(make(reply)).await.is_err() {
                continue;
            }
            if let Ok(value) = answer.await {
                return Ok((value, tx));
            }
        }
        Err(JoinError::Busy)
    }

    /// Hands `cmd` to the room of `map` if it is loaded here; never loads it, never waits.
    pub fn tell_if_loaded(&self, map: &MapId, cmd: Command) {
        let tx = self.lock().get(map).map(|e| e.tx.clone());
        if let Some(tx) = tx {
            let _ = tx.try_send(cmd);
        }
    }

    /// The inbox of the map's room, starting one unless a live one is there.
    fn get_or_start(&self, map: &MapId) -> mpsc::Sender<Command> {
        let mut rooms = self.lock();
        if let Some(e) = rooms.get(map)
            && !e.tx.is_closed()
        {
            return e.tx.clone();
        }
        let (tx, rx) = mpsc::channel(ROOM_INBOX);
        let generation = self.inner.next_generation.fetch_add(1, Ordering::Relaxed);
        rooms.insert(
            map.clone(),
            Entry {
                tx: tx.clone(),
                generation,
            },
        );
        let services = Arc::clone(&self.inner.services);
        let registry = self.clone();
        let on = self.inner.services.shards.for_map(map);
        let map = map.clone();
        let inbox = tx.downgrade();
        self.inner.services.tracker.spawn_on(
            async move {
                room::run(map.clone(), generation, services, rx, inbox).await;
                registry.forget(&map, generation);
            },
            on,
        );
        tx
    }

    /// Removes a room's entry once its task ended, unless a newer room has replaced it.
    fn forget(&self, map: &MapId, generation: u64) {
        let mut rooms = self.lock();
        if rooms.get(map).is_some_and(|e| e.generation == generation) {
            rooms.remove(map);
        }
    }
}
