//! The room's side of workshop mode (PROTOCOL.md §9.2): commands from its connections carried out
//! on the map's `Workshop`, each connection sent its own view, reveals written into the document,
//! entries stored and shared with the other nodes, and locks enforced on every client's update.

use super::outbox::Out;
use super::{Poisoned, Room, Source};
use crate::auth::Role;
use crate::cluster::wire::Kind;
use crate::outlet::ConnId;
use crate::store::WorkshopEntry;
use crate::workshop::{self, Actor, Command, Reveal, VoteResult, locks};
use bytes::Bytes;
use serde_json::Value;
use std::collections::HashMap;
use tracing::{debug, warn};
use waymark_protocol::ext;
use waymark_protocol::message::{encode_auth_denied, encode_update};
use waymark_protocol::schema::{self, At, Editor, JourneyMap};
use yrs::{Any, In, Map, MapPrelim, Number, ReadTxn, StateVector, Transact, Update, WriteTxn};

/// The typed map as of a state vector: what lock checks compare an update against, kept until
/// the document changes.
pub(super) struct Typed {
    sv: StateVector,
    map: JourneyMap,
}

impl Room {
    /// Who a connection is to the workshop: its token's user, else its presence name, else the
    /// connection itself.
    fn actor(&self, conn: ConnId) -> Option<Actor> {
        let sub = self.subs.get(&conn)?;
        let user = sub
            .outlet
            .subject
            .clone()
            .or_else(|| sub.user.clone())
            .unwrap_or_else(|| format!("guest-{conn}"));
        // As the activity record names them, so attendance matches votes to people.
        let name = sub.user.clone().unwrap_or_else(|| user.clone());
        Some(Actor {
            user,
            name,
            role: sub.role,
        })
    }

    /// Carries out a workshop command from a connection; a refused one is answered to it alone.
    pub(super) fn workshop_command(&mut self, conn: ConnId, json: &[u8]) {
        let Some(actor) = self.actor(conn) else {
            return;
        };
        let json = String::from_utf8_lossy(json);
        let command = match Command::parse(&json) {
            Ok(c) => c,
            Err(refused) => return self.refuse_command(conn, "", &refused),
        };
        let op = command.op();
        let now = crate::clock::now_millis();
        let txn = self.doc.transact();
        let (lanes, steps) = (txn.get_map("lanes"), txn.get_map("steps"));
        let exists = |lane: &str, step: &str| {
            lanes.as_ref().is_some_and(|m| m.contains_key(&txn, lane))
                && steps.as_ref().is_some_and(|m| m.contains_key(&txn, step))
        };
        let outcome = self.workshop.execute(&actor, command, now, exists);
        drop(txn);
        match outcome {
            Ok(outcome) => {
                debug!(conn_id = conn, op, user = %actor.user, "workshop command");
                if let Some(reveal) = outcome.reveal {
                    self.reveal(reveal);
                }
                self.workshop_changed(outcome.entries);
            }
            Err(refused) => self.refuse_command(conn, op, &refused),
        }
    }

    fn refuse_command(&mut self, conn: ConnId, op: &str, refused: &workshop::Refused) {
        self.services.metrics.refused("workshop_command");
        let frame = ext::encode_json(
            ext::MSG_WORKSHOP_STATE,
            &workshop::error_message(op, refused),
        );
        self.outbox.push(Out::To {
            conn,
            frame: frame.into(),
        });
    }

    /// Queues entries for storage and the other nodes, and everyone's new view.
    fn workshop_changed(&mut self, entries: Vec<WorkshopEntry>) {
        if entries.is_empty() {
            return;
        }
        self.workshop_unsaved.extend(entries);
        self.send_workshop_state(None);
    }

    /// Entries another node stored.
    pub(super) fn remote_workshop(&mut self, payload: &[u8]) {
        let entries: Vec<WorkshopEntry> = match serde_json::from_slice(payload) {
            Ok(e) => e,
            Err(e) => {
                warn!(error = %e, "another node sent workshop entries that cannot be read");
                self.services.metrics.error("remote_workshop");
                return;
            }
        };
        let mut changed = false;
        for e in entries {
            changed |= self.workshop.merge(e);
        }
        if changed {
            self.send_workshop_state(None);
        }
    }

    /// Re-reads the workshop from the store (after something from the other nodes may have been
    /// missed).
    pub(super) async fn reload_workshop(&mut self) {
        match self.services.store.workshop(&self.map).await {
            Ok(entries) => {
                let mut changed = false;
                for e in entries {
                    changed |= self.workshop.merge(e);
                }
                if changed {
                    self.send_workshop_state(None);
                }
            }
            Err(e) => warn!(error = %e, "cannot re-read the workshop"),
        }
    }

    /// Stores the entries changed in this batch, then tells the other nodes: durable before
    /// shared, as updates are.
    pub(super) async fn save_workshop(&mut self) -> Result<(), Poisoned> {
        if self.workshop_unsaved.is_empty() {
            return Ok(());
        }
        let entries = std::mem::take(&mut self.workshop_unsaved);
        let (store, map) = (
            std::sync::Arc::clone(&self.services.store),
            self.map.clone(),
        );
        let result = self
            .while_committing(store.save_workshop(&map, entries.clone()))
            .await?;
        match result {
            Ok(()) => {
                let payload = serde_json::to_vec(&entries).unwrap_or_default();
                self.publish(Kind::Workshop, &payload);
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot store the workshop");
                self.services.metrics.error("store");
                Err(Poisoned("storage unavailable; reconnect later"))
            }
        }
    }

    /// Queues the workshop state for every workshop connection (or one): the shared part is built
    /// once per kind of reader, the personal part for each.
    pub(super) fn send_workshop_state(&mut self, only: Option<ConnId>) {
        let now = crate::clock::now_millis();
        let mut shared: HashMap<bool, String> = HashMap::new();
        let readers: Vec<ConnId> = self
            .subs
            .iter()
            .filter(|(id, s)| s.outlet.workshop && only.is_none_or(|o| o == **id))
            .map(|(id, _)| *id)
            .collect();
        for conn in readers {
            let Some(actor) = self.actor(conn) else {
                continue;
            };
            let facilitator = actor.role >= Role::Facilitator;
            let shared = shared
                .entry(facilitator)
                .or_insert_with(|| self.workshop.shared_view(facilitator, now).to_string());
            let personal: Value = self.workshop.personal_view(&actor);
            let json = workshop::state_message(shared, &personal, now);
            let frame = ext::encode_json(ext::MSG_WORKSHOP_STATE, &json);
            self.outbox.push(Out::To {
                conn,
                frame: frame.into(),
            });
        }
    }

    /// Writes what a reveal made public into the document, as the server's own edit.
    fn reveal(&mut self, reveal: Reveal) {
        match reveal {
            Reveal::Vote(result) => {
                let mut txn = self.doc.transact_mut();
                write_vote(&mut txn, &result);
            }
            Reveal::Round(cards) => {
                let mut txn = self.doc.transact_mut();
                let mut editor = Editor::new(&mut txn);
                let mut lost = 0;
                for (_, card) in &cards {
                    if editor
                        .add_card(&card.lane, &card.step, &card.text, At::Last)
                        .is_err()
                    {
                        lost += 1;
                    }
                }
                if lost > 0 {
                    // Their lane or step was deleted during the round.
                    warn!(
                        lost,
                        "private cards whose place no longer exists were not revealed"
                    );
                }
            }
        }
        self.take_applied(Source::Server);
    }

    /// Whether an update from `conn` must be checked against locks.
    pub(super) fn locks_bind(&self, conn: ConnId) -> bool {
        self.subs
            .get(&conn)
            .is_some_and(|s| s.role < Role::Facilitator)
            && !self.workshop.locks().is_empty()
    }

    /// The typed map as the document is now, from the cache while the document is unchanged.
    fn typed_now(&mut self) -> JourneyMap {
        let sv = self.doc.transact().state_vector();
        match &self.typed {
            Some(t) if t.sv == sv => t.map.clone(),
            _ => schema::read(&self.doc.transact()).map,
        }
    }

    /// Applies a client's update under locks: if it changes locked content it is undone at once,
    /// and what goes out (to everyone, the sender included, and to the store) is the update and
    /// its undoing together, in which the undone items have lost their content.
    pub(super) fn apply_locked(&mut self, conn: ConnId, update: Update) -> Result<(), Poisoned> {
        let before = self.typed_now();
        let sv_before = self.doc.transact().state_vector();
        let (pending, outbox) = (self.pending.len(), self.outbox.len());
        let size = self.size;
        self.apply_update(conn, update)?;
        let after = schema::read(&self.doc.transact()).map;
        let locks = self.workshop.locks();
        let Some(reason) = locks::violation(&before, &after, &locks) else {
            self.typed = Some(Typed {
                sv: self.doc.transact().state_vector(),
                map: after,
            });
            return Ok(());
        };
        debug!(conn_id = conn, %reason, "update touching locked content undone");
        self.services.metrics.refused("locked");
        // Nothing of the update leaves the room as it came.
        self.pending.truncate(pending);
        self.outbox.truncate(outbox);
        self.size = size;
        if let Some(sub) = self.subs.get_mut(&conn) {
            sub.edits = (0, 0);
        }
        let written = {
            let mut txn = self.doc.transact_mut();
            schema::write_over(&mut txn, &after, &before)
        };
        if let Err(e) = written {
            warn!(error = %e, "cannot undo a change of locked content");
        }
        self.applied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        let net = self.doc.transact().encode_state_as_update_v1(&sv_before);
        self.typed = None;
        self.full_sync = None;
        self.size += net.len();
        let frame = Bytes::from(encode_update(&net));
        self.pending.push(frame.slice(frame.len() - net.len()..));
        self.outbox.push(Out::All {
            except: None,
            frame,
        });
        self.outbox.push(Out::To {
            conn,
            frame: encode_auth_denied(&format!("locked: {reason}")).into(),
        });
        Ok(())
    }
}

/// A revealed vote in the `votes` root (SCHEMA.md §5.14).
fn write_vote(txn: &mut yrs::TransactionMut<'_>, r: &VoteResult) {
    let votes = txn.get_or_insert_map("votes");
    let count = |n: u32| In::Any(Any::Number(Number::Int(i64::from(n))));
    let totals: MapPrelim = r
        .totals
        .iter()
        .map(|(card, n)| (card.as_str(), count(*n)))
        .collect();
    let voters: MapPrelim = r
        .voters
        .iter()
        .map(|(user, n)| (user.as_str(), count(*n)))
        .collect();
    let text = |s: &str| In::Any(Any::from(s));
    let time = |t: i64| In::Any(Any::Number(Number::Int(t)));
    let entry = MapPrelim::from([
        ("title", text(&r.vote.title)),
        ("openedBy", text(&r.vote.opened_by)),
        ("openedAt", time(r.vote.opened_at)),
        ("revealedBy", text(&r.revealed_by)),
        ("revealedAt", time(r.revealed_at)),
        ("perPerson", count(r.vote.per_person)),
        ("perCard", count(r.vote.per_card)),
        ("totals", In::Map(totals)),
        ("voters", In::Map(voters)),
    ]);
    votes.insert(txn, r.vote.id.as_str(), entry);
}

impl Room {
    /// The session and the revealed votes' tallies, for attendance.
    pub(super) fn attendance(&self) -> workshop::attendance::Facts {
        let txn = self.doc.transact();
        let mut votes = Vec::new();
        if let Some(root) = txn.get_map("votes") {
            for (_, entry) in root.iter(&txn) {
                let Ok(entry) = entry.cast::<yrs::MapRef>() else {
                    continue;
                };
                let at = match entry.get(&txn, "revealedAt") {
                    Some(yrs::Out::Any(Any::Number(n))) => match n.as_i64() {
                        Some(n) => n,
                        None => continue,
                    },
                    _ => continue,
                };
                let mut voters = std::collections::BTreeMap::new();
                if let Some(yrs::Out::YMap(v)) = entry.get(&txn, "voters") {
                    for (user, n) in v.iter(&txn) {
                        if let yrs::Out::Any(Any::Number(n)) = n
                            && let Some(n) = n.as_i64()
                        {
                            voters.insert(user.to_owned(), n as u32);
                        }
                    }
                }
                votes.push((at, voters));
            }
        }
        workshop::attendance::Facts {
            session: self.workshop.session(),
            votes,
        }
    }
}
