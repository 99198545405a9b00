//! The maps loaded on this server: finds a map's room, starting it on first use.
//!
//! A room removes itself when it unloads. A connection that reaches a room just as it goes away
//! sees its join dropped and simply asks again, which starts a fresh room from the store.

use crate::outlet::{ConnId, Outlet};
use crate::room::{self, Command, Inbound, JoinError};
use crate::state::Shared;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use waymark_protocol::MapId;

/// Commands queued for one room before connections wait (which in turn stops reading their sockets).
const ROOM_INBOX: usize = 1024;

/// Attempts to join a map whose room keeps unloading underneath us.
const JOIN_ATTEMPTS: usize = 5;

#[derive(Default)]
pub struct Registry {
    rooms: Mutex<HashMap<MapId, Entry>>,
    next_generation: AtomicU64,
}

pub(crate) struct Entry {
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
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<MapId, Entry>> {
        // The map is only ever touched in short, non-panicking sections.
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `outlet` to the room of `map`, loading the map if needed.
    pub async fn join(
        shared: &Arc<Shared>,
        map: &MapId,
        outlet: Outlet,
    ) -> Result<RoomHandle, JoinError> {
        let (joined, tx) = Self::ask(shared, map, |reply| Command::Join {
            outlet: outlet.clone(),
            reply,
        })
        .await?;
        joined.map(|()| RoomHandle { tx })
    }

    /// Sends a request to the room of `map` (loading it if needed) and waits for the answer.
    pub async fn request<T>(
        shared: &Arc<Shared>,
        map: &MapId,
        make: impl Fn(oneshot::Sender<T>) -> Command,
    ) -> Result<T, JoinError> {
        Self::ask(shared, map, make).await.map(|(answer, _)| answer)
    }

    /// Asks the room of `map` and returns its answer and its inbox. A room that goes away before
    /// answering (unloaded, or failed) is replaced by a fresh one and asked again.
    async fn ask<T>(
        shared: &Arc<Shared>,
        map: &MapId,
        make: impl Fn(oneshot::Sender<T>) -> Command,
    ) -> Result<(T, mpsc::Sender<Command>), JoinError> {
        for _ in 0..JOIN_ATTEMPTS {
            if shared.shutdown.is_cancelled() {
                return Err(JoinError::ShuttingDown);
            }
            let tx = Self::get_or_start(shared, map);
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
    pub fn tell_if_loaded(shared: &Shared, map: &MapId, cmd: Command) {
        let tx = shared.rooms.lock().get(map).map(|e| e.tx.clone());
        if let Some(tx) = tx {
            let _ = tx.try_send(cmd);
        }
    }

    fn get_or_start(shared: &Arc<Shared>, map: &MapId) -> mpsc::Sender<Command> {
        let mut rooms = shared.rooms.lock();
        if let Some(e) = rooms.get(map) {
            return e.tx.clone();
        }
        let (tx, rx) = mpsc::channel(ROOM_INBOX);
        let generation = shared.rooms.next_generation.fetch_add(1, Ordering::Relaxed);
        rooms.insert(
            map.clone(),
            Entry {
                tx: tx.clone(),
                generation,
            },
        );
        shared
            .tracker
            .spawn(room::run(map.clone(), generation, Arc::clone(shared), rx));
        tx
    }

    /// Removes a room's entry, unless it has already been replaced by a newer room.
    pub(crate) fn remove_locked(rooms: &mut HashMap<MapId, Entry>, map: &MapId, generation: u64) {
        if rooms.get(map).is_some_and(|e| e.generation == generation) {
            rooms.remove(map);
        }
    }
}
