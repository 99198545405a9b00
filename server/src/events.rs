//! Events for clients of the `events` extension (protocol/PROTOCOL.md §9): versions taken or
//! restored and review decisions, sent to every connection of the map that opted in, on every node.

use crate::registry::Registry;
use crate::room::Command;
use crate::state::Shared;
use serde_json::{Value, json};
use waymark_protocol::MapId;

/// Sends `event` (an object with a `type`) to the map's opted-in clients here and on other nodes.
/// Best effort: a client that misses one can list versions over REST.
pub(crate) fn emit(shared: &Shared, map: &MapId, mut event: Value) {
    event["map"] = json!(map.as_str());
    let json = event.to_string();
    if let Some(cluster) = &shared.cluster {
        cluster.publish_event(map, &json);
    }
    Registry::tell_if_loaded(shared, map, Command::Event { json });
}
