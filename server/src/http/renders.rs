//! What poster exports as PNG or PDF may cost: how many run at once on this node and for one
//! caller, and how large a map is drawn. SVG and the text formats are cheap at any size and are
//! not limited here.
//!
//! Rendering is CPU work on the blocking pool. Bounded to half the cores, renders leave the map
//! threads, and so live editing, CPU to run on; bounded per caller, one viewer cannot take them
//! all.

use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Renders one caller may have running at once.
pub const PER_CALLER: usize = 2;
/// Most cards a PNG or PDF poster is drawn with. Measured (BENCHMARKS.md, "Poster exports"): at
/// 1 000 cards a PNG takes 5.5 s and 350 MiB, a PDF 5.3 s and 52 MiB; at 3 000 a PNG takes 17 s
/// and 630 MiB.
pub const MAX_POSTER_CARDS: usize = 1000;
/// What a refused caller is told to wait, in seconds.
pub const RETRY_AFTER_SECS: u64 = 5;

/// Why a render cannot start now.
#[derive(Debug, PartialEq, Eq)]
pub enum Busy {
    /// This caller has [`PER_CALLER`] renders running.
    Caller,
    /// The node has all its render slots busy.
    Node(usize),
}

pub struct Renders {
    node: std::sync::Arc<Semaphore>,
    slots: usize,
    callers: Mutex<HashMap<String, usize>>,
}

/// A running render's place; given back when dropped, also when the caller went away and the
/// handler was dropped mid-render.
pub struct Slot<'a> {
    _node: OwnedSemaphorePermit,
    caller: String,
    renders: &'a Renders,
}

impl Renders {
    /// Half the CPUs, at least one.
    pub fn new() -> Renders {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Renders::with_slots((cpus / 2).max(1))
    }

    pub fn with_slots(slots: usize) -> Renders {
        Renders {
            node: std::sync::Arc::new(Semaphore::new(slots)),
            slots,
            callers: Mutex::new(HashMap::new()),
        }
    }

    /// A slot for `caller`, if one is free for them and on the node.
    pub fn try_start(&self, caller: &str) -> Result<Slot<'_>, Busy> {
        let mut callers = self.callers.lock().unwrap_or_else(|e| e.into_inner());
        let running = callers.get(caller).copied().unwrap_or(0);
        if running >= PER_CALLER {
            return Err(Busy::Caller);
        }
        let permit = std::sync::Arc::clone(&self.node)
            .try_acquire_owned()
            .map_err(|_| Busy::Node(self.slots))?;
        callers.insert(caller.to_owned(), running + 1);
        Ok(Slot {
            _node: permit,
            caller: caller.to_owned(),
            renders: self,
        })
    }
}

impl Default for Renders {
    fn default() -> Self {
        Renders::new()
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut callers = self
            .renders
            .callers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = callers.get_mut(&self.caller) {
            *n -= 1;
            if *n == 0 {
                callers.remove(&self.caller);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_two_slots_and_the_node_its_own_number() {
        let renders = Renders::with_slots(3);
        let a1 = renders.try_start("ana").unwrap();
        let _a2 = renders.try_start("ana").unwrap();
        assert_eq!(renders.try_start("ana").err(), Some(Busy::Caller));
        let _b = renders.try_start("bob").unwrap();
        assert_eq!(renders.try_start("cy").err(), Some(Busy::Node(3)));
        drop(a1);
        assert!(
            renders.try_start("ana").is_ok(),
            "a slot given back is free again"
        );
    }
}
