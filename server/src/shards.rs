//! The threads that maps run on: a map's room and every connection to it share one
//! single-threaded runtime, chosen by the map's id, so a broadcast never wakes another thread.
//!
//! On tokio's work-stealing runtime a room and its connections were spread over every worker: each
//! delivery woke a parked thread, and the futex and context-switch cost of those wake-ups was a
//! larger share of the server's CPU than the sending itself (BENCHMARKS.md, "Threads per map").
//! Here the room and its connections run on one thread, one after another, and the kernel sees only
//! the socket writes. Maps are spread over the threads by a fixed hash of their id. The HTTP side
//! (handshakes, REST, exports) stays on the main runtime.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::thread::JoinHandle;
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;
use waymark_protocol::MapId;

/// The map threads of one server.
pub struct Shards {
    handles: Vec<Handle>,
    /// Cancelled to let every thread's runtime finish; `None` when the runtimes are borrowed.
    stop: Option<CancellationToken>,
    threads: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl Shards {
    /// Starts `count` threads (at least one), each running its own runtime until [`Shards::stop`].
    pub fn start(count: usize) -> std::io::Result<Self> {
        let stop = CancellationToken::new();
        let mut handles = Vec::new();
        let mut threads = Vec::new();
        for i in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            handles.push(runtime.handle().clone());
            let stopped = stop.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("waymark-maps-{i}"))
                    .spawn(move || runtime.block_on(stopped.cancelled()))?,
            );
        }
        Ok(Shards {
            handles,
            stop: Some(stop),
            threads: std::sync::Mutex::new(threads),
        })
    }

    /// Every map on one runtime that someone else owns (the fuzzing harness's own).
    pub fn on(handle: Handle) -> Self {
        Shards {
            handles: vec![handle],
            stop: None,
            threads: Default::default(),
        }
    }

    /// The runtime that `map`'s room and connections run on.
    pub fn for_map(&self, map: &MapId) -> &Handle {
        // A fixed hasher: the same map lands on the same thread for as long as the server runs.
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(map.as_str());
        &self.handles[(hash % self.handles.len() as u64) as usize]
    }

    /// How many threads maps are spread over.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Ends every thread and waits for it. Tasks still running on them are dropped, so call this
    /// once the rooms and connections have finished.
    pub async fn stop(&self) {
        if let Some(stop) = &self.stop {
            stop.cancel();
        }
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        // Joining blocks; a runtime's shutdown also waits for its blocking tasks.
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_map_always_runs_on_the_same_thread() {
        let shards = Shards::start(4).unwrap();
        let thread_of = |map: &str| {
            let map = MapId::parse(map).unwrap();
            let handle = shards.for_map(&map).clone();
            async move {
                handle
                    .spawn(async { std::thread::current().name().unwrap().to_owned() })
                    .await
                    .unwrap()
            }
        };
        let first = thread_of("onboarding").await;
        assert!(first.starts_with("waymark-maps-"), "{first}");
        for _ in 0..10 {
            assert_eq!(thread_of("onboarding").await, first);
        }
        let mut names = std::collections::HashSet::new();
        for i in 0..64 {
            names.insert(thread_of(&format!("map-{i}")).await);
        }
        assert_eq!(names.len(), 4, "64 maps should use every thread: {names:?}");
        shards.stop().await;
    }

    #[tokio::test]
    async fn stop_ends_every_thread() {
        let shards = Shards::start(2).unwrap();
        let handle = shards.for_map(&MapId::parse("m").unwrap()).clone();
        shards.stop().await;
        assert!(shards.threads.lock().unwrap().is_empty());
        let ran = handle.spawn(async {}).await;
        assert!(ran.is_err(), "a stopped runtime runs nothing");
    }
}
