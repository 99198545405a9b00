//! The `room` fuzz target's way in (built with the `fuzzing` feature only): arbitrary client
//! frames go through the path a connection's frames take (decoding, the role check, the room),
//! and the harness checks that the map stays usable and that what is stored is what is served.

use crate::auth::Role;
use crate::config::Config;
use crate::http::Shared;
use crate::metrics::Metrics;
use crate::outlet::Outlet;
use crate::room::Command;
use crate::services::Services;
use crate::shards::Shards;
use crate::store::{SqliteStore, Store};
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use waymark_protocol::MapId;
use waymark_protocol::message;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

/// How long one step may take before the harness calls it a hang.
const STEP: Duration = Duration::from_secs(5);

/// A server's shared state on a store in a temporary directory, and a runtime, reused by every
/// input (each input gets a map of its own).
pub struct Harness {
    runtime: Runtime,
    shared: Arc<Shared>,
    next_map: AtomicU64,
    dir: std::path::PathBuf,
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    pub fn new() -> Harness {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        static HARNESSES: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "waymark-fuzz-{}-{}",
            std::process::id(),
            HARNESSES.fetch_add(1, Ordering::Relaxed)
        ));
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir).expect("a store"));
        let config = Config {
            unload_after: Duration::from_secs(3600),
            auto_version_after: None,
            ..Config::default()
        };
        let shared = Shared::new(Arc::new(Services {
            store,
            metrics: Metrics::new(),
            config,
            cluster: None,
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
            shards: Shards::on(runtime.handle().clone()),
            revocations: Default::default(),
        }));
        Harness {
            runtime,
            shared,
            next_map: AtomicU64::new(1),
            dir,
        }
    }

    /// Feeds `data` as frames from two clients, an editor and a viewer, to a new map, then checks
    /// it. Each frame is `[sender byte][length: u16 LE][bytes]`; an odd sender byte is the viewer.
    pub fn run(&self, data: &[u8]) {
        let n = self.next_map.fetch_add(1, Ordering::Relaxed);
        let map = MapId::parse(&format!("fuzz-{n}")).expect("a valid id");
        self.runtime.block_on(async {
            tokio::time::timeout(STEP * 4, self.feed(&map, data))
                .await
                .expect("the map stopped answering (a hang)");
        });
    }

    async fn feed(&self, map: &MapId, mut data: &[u8]) {
        let shared = &self.shared;
        let mut clients = Vec::new();
        for role in [Role::Editor, Role::Viewer] {
            let mut outlet = Outlet::detached(shared.next_conn_id());
            outlet.role = role;
            let room = shared
                .rooms
                .join(map, outlet.clone())
                .await
                .expect("joining a map");
            clients.push((outlet, room, true));
        }
        let mut viewer_only = true;
        while data.len() >= 3 {
            let who = usize::from(data[0] & 1);
            let len = usize::from(u16::from_le_bytes([data[1], data[2]])).min(data.len() - 3);
            let frame = Bytes::copy_from_slice(&data[3..3 + len]);
            data = &data[3 + len..];
            let (outlet, room, open) = &mut clients[who];
            if !*open {
                continue;
            }
            // What the connection's reader does with a binary frame.
            let inbound = match message::decode(&frame) {
                Ok(m) => crate::http::to_inbound(&frame, m, true).map_err(drop),
                Err(_) => Err(()),
            };
            match inbound {
                Ok(Some(inbound)) => {
                    viewer_only &= who == 1;
                    room.send(outlet.conn_id, inbound)
                        .await
                        .expect("the room went away");
                }
                Ok(None) => {}
                Err(_) => *open = false,
            }
            if outlet.kick().reason().is_some() {
                *open = false;
            }
        }
        // Everything is durable once the room answers; the store must hold what the room serves.
        let (state, sv) = shared
            .rooms
            .request(map, |reply| Command::State { reply })
            .await
            .expect("the map answers");
        let served = doc_of([&state[..]]);
        assert_eq!(
            served.transact().state_vector().encode_v1(),
            sv,
            "the served state does not decode to itself"
        );
        if viewer_only {
            assert!(
                StateVector::decode_v1(&sv)
                    .expect("a state vector")
                    .is_empty(),
                "a viewer changed the map"
            );
        }
        let stored = shared.store.load(map).await.expect("the map loads");
        let reloaded = doc_of(
            stored
                .snapshot
                .iter()
                .chain(&stored.updates)
                .map(Vec::as_slice),
        );
        assert_eq!(
            reloaded
                .transact()
                .encode_state_as_update_v1(&StateVector::default()),
            served
                .transact()
                .encode_state_as_update_v1(&StateVector::default()),
            "what is stored differs from what is served"
        );
        // Reading it as a journey map never fails, whatever it holds.
        let _ = waymark_protocol::schema::read(&served.transact());
        for (outlet, room, _) in clients {
            room.leave(outlet.conn_id).await;
        }
        shared
            .rooms
            .request(map, |reply| Command::Delete { reply })
            .await
            .expect("the map answers")
            .expect("the map is deleted");
    }
}

/// A document holding `updates`, which must all apply.
fn doc_of<'a>(updates: impl IntoIterator<Item = &'a [u8]>) -> Doc {
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        for u in updates {
            let update = Update::decode_v1(u).expect("a stored update decodes");
            txn.apply_update(update).expect("a stored update applies");
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(who: u8, bytes: &[u8]) -> Vec<u8> {
        let mut f = vec![who];
        f.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        f.extend_from_slice(bytes);
        f
    }

    #[test]
    fn the_harness_applies_editor_updates_and_refuses_viewer_ones() {
        let h = Harness::new();
        let doc = Doc::new();
        let cards = doc.get_or_insert_map("cards");
        yrs::Map::insert(&cards, &mut doc.transact_mut(), "c1", "x");
        let update = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let mut input = frame(1, &message::encode_update(&update));
        h.run(&input);
        input.extend(frame(0, &message::encode_update(&update)));
        input.extend(frame(0, b"\x00\x02\xff\xff"));
        h.run(&input);
        h.run(b"");
    }

    /// Found by the fuzzer: a deletion of items the map does not have was kept in memory and
    /// served, but never stored.
    #[test]
    fn a_deletion_of_unknown_items_is_not_served_unstored() {
        let update = [0, 1, 0xd7, 0x08, 1, 0x4b, 3];
        Harness::new().run(&frame(0, &message::encode_update(&update)));
    }
}
