//! Events for clients of the `events` extension (protocol/PROTOCOL.md §9): versions taken or
//! restored and review decisions, sent to every connection of the map that opted in, on every node.

use crate::registry::Registry;
use crate::room::Command;
use serde_json::{Value, json};
use waymark_protocol::MapId;

/// Sends `event` (an object with a `type`) to the map's opted-in clients here and on other nodes.
/// Best effort: a client that misses one can list versions over REST.
pub fn emit(rooms: &Registry, map: &MapId, mut event: Value) {
    event["map"] = json!(map.as_str());
    let json = event.to_string();
    if let Some(cluster) = &rooms.services().cluster {
        cluster.publish_event(map, &json);
    }
    rooms.tell_if_loaded(map, Command::Event { json });
}
