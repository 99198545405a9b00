//! What the room sends its connections: messages queued by a batch and delivered once the batch
//! is durable, each frame encoded once and shared; a connection that cannot keep up is dropped
//! (its client resyncs on reconnecting), never silently skipped.

use super::Room;
use crate::outlet::{ConnId, Gone};
use bytes::Bytes;
use tracing::warn;

pub(super) enum Out {
    All {
        except: Option<ConnId>,
        frame: Bytes,
    },
    To {
        conn: ConnId,
        frame: Bytes,
    },
}

impl Room {
    /// Sends every queued message to its connections: each connection's share of the batch is
    /// queued first and then written in one system call.
    pub(super) fn deliver(&mut self) {
        while !self.outbox.is_empty() {
            let mut lost = Vec::new();
            for out in std::mem::take(&mut self.outbox) {
                match out {
                    Out::All { except, frame } => {
                        let update = frame.first() == Some(&waymark_protocol::message::MSG_SYNC);
                        for (&id, sub) in &self.subs {
                            if Some(id) != except
                                && (sub.answered || !update)
                                && let Err(gone) = sub.outlet.queue(frame.clone())
                            {
                                lost.push((id, gone));
                            }
                        }
                    }
                    Out::To { conn, frame } => {
                        if let Some(sub) = self.subs.get(&conn)
                            && let Err(gone) = sub.outlet.queue(frame)
                        {
                            lost.push((conn, gone));
                        }
                    }
                }
            }
            for (&id, sub) in &self.subs {
                if lost.iter().any(|(l, _)| *l == id) {
                    continue;
                }
                if let Err(gone) = sub.outlet.flush() {
                    lost.push((id, gone));
                }
            }
            // Removing a connection may announce its presence removal: loop until nothing is left.
            for (conn, gone) in lost {
                self.lost(conn, gone);
            }
        }
    }

    /// Sends one frame to one connection now.
    pub(super) fn send_to(&mut self, conn: ConnId, frame: Bytes) {
        let sent = match self.subs.get(&conn) {
            Some(sub) => sub.outlet.send(frame),
            None => Ok(()),
        };
        if let Err(gone) = sent {
            self.lost(conn, gone);
        }
    }

    /// Sends an event to the clients that negotiated the `events` extension.
    pub(super) fn event(&mut self, json: &[u8]) {
        let Ok(json) = std::str::from_utf8(json) else {
            return;
        };
        let frame = Bytes::from(waymark_protocol::ext::encode_event(json));
        let lost: Vec<(ConnId, Gone)> = self
            .subs
            .iter()
            .filter(|(_, s)| s.outlet.events)
            .filter_map(|(&id, s)| s.outlet.send(frame.clone()).err().map(|g| (id, g)))
            .collect();
        for (conn, gone) in lost {
            self.lost(conn, gone);
        }
        self.deliver();
    }

    /// A connection whose queue is full or closed.
    fn lost(&mut self, conn: ConnId, gone: Gone) {
        if gone == Gone::Slow {
            warn!(
                conn_id = conn,
                "connection fell behind; closing it so it resyncs"
            );
            self.services.metrics.error("slow_consumer");
        }
        self.remove_sub(conn);
    }
}
