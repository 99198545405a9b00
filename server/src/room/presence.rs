//! Presence (Yjs awareness): a client's states checked (valid JSON, only its own) and relayed,
//! removed when their connection leaves, expired when not renewed, and shared with other nodes.

use super::Room;
use super::outbox::Out;
use crate::cluster::wire::Kind;
use crate::outlet::ConnId;
use bytes::Bytes;
use serde::de::IgnoredAny;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tracing::debug;
use waymark_protocol::CloseCode;
use waymark_protocol::limits::MAX_AWARENESS_DEPTH;
use waymark_protocol::message::encode_awareness;
use yrs::ClientID;
use yrs::sync::AwarenessUpdate;
use yrs::sync::awareness::AwarenessUpdateEntry;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;

/// Whose presence an awareness entry sets.
enum Presence {
    /// The sender's (or free to take).
    Own,
    /// A repetition of what the room has: changes nothing.
    Echo,
    /// Someone else's.
    Foreign,
}

/// How deeply `json` (already known to be valid JSON) nests arrays and objects; counted without
/// parsing, so that a hostile state costs one pass over its bytes.
fn nesting_depth(json: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for b in json.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The `user.name` of a presence state, if it has one.
fn user_name(json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let name = v.get("user")?.get("name")?.as_str()?.trim();
    (!name.is_empty()).then(|| name.chars().take(200).collect())
}

impl Room {
    /// A client's awareness message: its own states are applied, relayed and published.
    pub(super) fn client_awareness(&mut self, conn: ConnId, mut frame: Bytes, mut update: Bytes) {
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
                return;
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
            return;
        }
        if let Some(depth) = parsed
            .clients
            .values()
            .map(|e| nesting_depth(&e.json))
            .find(|d| *d > MAX_AWARENESS_DEPTH)
        {
            self.services.metrics.limit("awareness_depth");
            self.reject(
                conn,
                CloseCode::PolicyViolation,
                "awareness_too_deep",
                "presence state nested deeper than 32 levels",
                &format_args!("{depth} levels"),
            );
            return;
        }
        // Only one's own presence may be set or removed.
        let before = parsed.clients.len();
        let mut foreign = Vec::new();
        parsed.clients.retain(
            |id, entry| match self.may_set_presence(conn, *id, entry.clock) {
                Presence::Own => true,
                Presence::Echo => false,
                Presence::Foreign => {
                    foreign.push(*id);
                    false
                }
            },
        );
        if !foreign.is_empty() {
            debug!(conn_id = conn, ?foreign, "presence of other users ignored");
            self.services.metrics.refused("foreign_presence");
        }
        if parsed.clients.is_empty() {
            return;
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

    /// Answers a client's query with everyone's presence.
    pub(super) fn query_awareness(&mut self, conn: ConnId) {
        if let Ok(update) = self.awareness.update() {
            self.outbox.push(Out::To {
                conn,
                frame: encode_awareness(&update.encode_v1()).into(),
            });
        }
    }

    /// Another node's clients' presence.
    pub(super) fn remote_awareness(&mut self, update: &[u8]) {
        let Ok(parsed) = AwarenessUpdate::decode_v1(update) else {
            self.services.metrics.error("remote_awareness");
            return;
        };
        if let Ok(Some(_)) = self.awareness.apply_update_summary(parsed) {
            self.outbox.push(Out::All {
                except: None,
                frame: encode_awareness(update).into(),
            });
        }
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
        let anonymous = !self.services.config.auth.enabled();
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

    /// Removes presence states and tells everyone still here, and the other nodes if `local` (the
    /// states were this node's clients').
    pub(super) fn remove_awareness(
        &mut self,
        clients: impl IntoIterator<Item = ClientID>,
        local: bool,
    ) {
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
    pub(super) fn sweep_awareness(&mut self) {
        let now = crate::clock::now_millis() as u64;
        let timeout = self.services.config.awareness_timeout.as_millis() as u64;
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

    /// Sends this node's clients' presence states to the other nodes.
    pub(super) fn publish_presence(&mut self) {
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
}

#[cfg(test)]
mod tests {
    use super::nesting_depth;

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert_eq!(nesting_depth(r#""plain""#), 0);
        assert_eq!(
            nesting_depth(r#"{"user":{"name":"Ada","cursor":[1,2]}}"#),
            3
        );
        assert_eq!(nesting_depth(r#"{"name":"[[[{{{\"]]]"}"#), 1);
        assert_eq!(
            nesting_depth(&format!("{}{}", "[".repeat(5000), "]".repeat(5000))),
            5000
        );
    }
}
