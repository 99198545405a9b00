//! The room's connections: joining (the first messages a newcomer gets), what each sends (the
//! sync handshake answered here; updates and presence handed on), leaving, what each may do,
//! closing one that misbehaves, and the activity record of who connected and edited.

use super::{Inbound, Poisoned, Room};
use crate::auth::Role;
use crate::outlet::{ConnId, Outlet};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;
use tracing::{Instrument, debug, warn};
use waymark_protocol::CloseCode;
use waymark_protocol::message::{
    encode_auth_denied, encode_awareness, encode_sync_step1, encode_sync_step2,
};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ClientID, ReadTxn, StateVector, Transact, Update};

pub(super) struct Sub {
    pub outlet: Outlet,
    /// What the connection may do (from its token).
    pub role: Role,
    /// The user's name came from their token: presence cannot change it.
    pub authenticated: bool,
    /// Awareness client ids this connection has published a live state for.
    pub clients: HashSet<ClientID>,
    /// The `user.name` of its presence state, for the activity record.
    pub user: Option<String>,
    /// Updates accepted from it (count, bytes) since the activity was last recorded.
    pub edits: (u64, u64),
    /// Its SyncStep1 was answered. Until then it is sent no updates: the answer holds them, and a
    /// relayed update would reach it ahead of what it depends on.
    pub answered: bool,
}

impl Room {
    /// Adds a connection: it is sent the room's state vector (SyncStep1) and everyone's presence.
    pub(super) fn join(&mut self, outlet: Outlet) {
        let sv = self.doc.transact().state_vector().encode_v1();
        let mut sent = outlet.send(encode_sync_step1(&sv).into());
        if sent.is_ok()
            && let Ok(update) = self.awareness.update()
            && !update.clients.is_empty()
        {
            sent = outlet.send(encode_awareness(&update.encode_v1()).into());
        }
        if sent == Err(crate::outlet::Gone::Slow) {
            self.services.metrics.error("slow_consumer");
        }
        if sent.is_ok() {
            let conn = outlet.conn_id;
            let workshop = outlet.workshop;
            self.idle_since = None;
            self.note_activity("connected", outlet.conn_id, outlet.user.clone(), (0, 0));
            self.subs.insert(
                outlet.conn_id,
                Sub {
                    role: outlet.role,
                    authenticated: outlet.user.is_some(),
                    user: outlet.user.clone(),
                    outlet,
                    clients: HashSet::new(),
                    edits: (0, 0),
                    answered: false,
                },
            );
            if workshop {
                self.send_workshop_state(Some(conn));
            }
        }
    }

    /// Acts on one message of a connection.
    pub(super) async fn message(&mut self, conn: ConnId, msg: Inbound) -> Result<(), Poisoned> {
        match msg {
            Inbound::SyncStep1(sv) => self.answer_sync(conn, &sv).await?,
            Inbound::Update(update) => match self.subs.get(&conn).map(|s| s.role) {
                Some(role) if role >= Role::Editor => self.apply(conn, &update)?,
                Some(role) => self.refuse_update(conn, role, &update),
                None => {}
            },
            Inbound::Awareness { frame, update } => self.client_awareness(conn, frame, update),
            Inbound::QueryAwareness => self.query_awareness(conn),
            Inbound::Workshop(json) => self.workshop_command(conn, &json),
        }
        Ok(())
    }

    /// Answers a client's SyncStep1 with what it lacks (SyncStep2), from durable state only.
    async fn answer_sync(&mut self, conn: ConnId, sv: &[u8]) -> Result<(), Poisoned> {
        let sv = match StateVector::decode_v1(sv) {
            Ok(sv) => sv,
            Err(e) => {
                self.reject(
                    conn,
                    CloseCode::ProtocolError,
                    "bad_state_vector",
                    "malformed state vector",
                    &e,
                );
                return Ok(());
            }
        };
        self.flush().await?;
        let answer = if sv.is_empty() {
            let doc = &self.doc;
            self.full_sync
                .get_or_insert_with(|| {
                    let state = doc.transact().encode_state_as_update_v1(&sv);
                    encode_sync_step2(&state).into()
                })
                .clone()
        } else {
            let diff = self.doc.transact().encode_state_as_update_v1(&sv);
            encode_sync_step2(&diff).into()
        };
        if let Some(sub) = self.subs.get_mut(&conn) {
            sub.answered = true;
        }
        self.send_to(conn, answer);
        Ok(())
    }

    pub(super) fn remove_sub(&mut self, conn: ConnId) {
        let Some(sub) = self.subs.remove(&conn) else {
            return;
        };
        // Its held updates go with it: when it reconnects its SyncStep2 brings them again, whole.
        self.held.retain(|h| h.conn != conn);
        if sub.edits.0 > 0 {
            self.note_activity("edited", conn, sub.user.clone(), sub.edits);
        }
        self.note_activity("disconnected", conn, sub.user.clone(), (0, 0));
        self.remove_awareness(sub.clients, true);
        if self.subs.is_empty() {
            self.idle_since = Some(Instant::now());
        }
    }

    /// Closes every connection with `code` (the map was deleted, or the room failed).
    pub(super) fn kick_all(&mut self, code: CloseCode, reason: &'static str) {
        for sub in self.subs.values() {
            sub.outlet.kick().kick(code, reason);
        }
        self.subs.clear();
    }

    /// Closes a connection that sent something invalid.
    pub(super) fn reject(
        &mut self,
        conn: ConnId,
        code: CloseCode,
        kind: &'static str,
        reason: &'static str,
        err: &dyn std::fmt::Display,
    ) {
        warn!(conn_id = conn, error = %err, close_code = code.code(), "{reason}; closing connection");
        self.services.metrics.error(kind);
        if let Some(sub) = self.subs.get(&conn) {
            sub.outlet.kick().kick(code, reason);
        }
        self.remove_sub(conn);
    }

    /// A client whose role may not edit sent an update: it is not applied, and if it would have
    /// changed anything the client is told with the protocol's permission-denied message.
    /// Read-only clients (y-websocket's included) answer the server's sync step 1 with an update
    /// holding nothing new; that is not an attempt to edit.
    pub(super) fn refuse_update(&mut self, conn: ConnId, role: Role, bytes: &[u8]) {
        let changes = match Update::decode_v1(bytes) {
            Ok(update) => {
                let txn = self.doc.transact();
                let sv = txn.state_vector();
                let inserts = super::apply::insertion_ends(&update)
                    .iter()
                    .any(|(client, clock)| *clock > sv.get(client));
                inserts
                    || !update
                        .delete_set()
                        .diff(&txn.snapshot().delete_set)
                        .is_empty()
            }
            Err(_) => true,
        };
        if !changes {
            return;
        }
        debug!(conn_id = conn, %role, "update from a read-only client refused");
        self.services.metrics.refused("read_only");
        let reason = format!("read-only: the {role} role may not edit this map");
        self.send_to(conn, encode_auth_denied(&reason).into());
    }

    pub(super) fn note_activity(
        &mut self,
        kind: &str,
        conn: ConnId,
        user: Option<String>,
        (updates, bytes): (u64, u64),
    ) {
        self.activity.push(crate::store::Activity {
            at: crate::clock::now_millis(),
            kind: kind.into(),
            session: format!("{}-{conn}", self.services.config.node_id),
            user,
            updates,
            bytes,
        });
    }

    /// Collects what the connections edited and hands the activity to the store. In the
    /// background, unless the room is going away (`now`).
    pub(super) async fn record_activity(&mut self, now: bool) {
        let edited: Vec<(ConnId, Option<String>, (u64, u64))> = self
            .subs
            .iter_mut()
            .filter(|(_, s)| s.edits.0 > 0)
            .map(|(&id, s)| (id, s.user.clone(), std::mem::take(&mut s.edits)))
            .collect();
        for (conn, user, edits) in edited {
            self.note_activity("edited", conn, user, edits);
        }
        if self.activity.is_empty() {
            return;
        }
        let entries = std::mem::take(&mut self.activity);
        let (store, map) = (Arc::clone(&self.services.store), self.map.clone());
        let write = async move {
            if let Err(e) = store.record_activity(&map, entries).await {
                warn!(error = %e, "cannot record the map's activity");
            }
        };
        if now {
            write.await;
        } else {
            self.services.tracker.spawn(write.in_current_span());
        }
    }
}
