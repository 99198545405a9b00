//! The sending half of a connection as rooms see it. Whoever sends (usually the map's room,
//! delivering a broadcast) writes the frame straight into the connection's socket, without
//! waking the connection's task; only what the socket cannot take at once waits in a bounded
//! queue, which the connection's task drains when the socket is writable again. A kick closes the
//! connection with a given code.
//!
//! A full queue means the client is not reading fast enough. Dropping the message would leave it
//! silently out of sync, so the connection is closed instead and the client resyncs on reconnect.

use crate::websocket::frame::{self, MAX_HEADER, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG};
use bytes::{Buf, Bytes};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use waymark_protocol::CloseCode;

pub type ConnId = u64;

/// Most queued frames handed to the kernel in one write.
const WRITE_BATCH: usize = 32;

/// Closes a connection once, with the first code and reason given.
#[derive(Clone, Default)]
pub struct Kick {
    token: CancellationToken,
    reason: Arc<OnceLock<(CloseCode, Cow<'static, str>)>>,
}

impl Kick {
    /// Returns whether this call decided the close (false if the connection was already closing).
    pub fn kick(&self, code: CloseCode, reason: impl Into<Cow<'static, str>>) -> bool {
        let first = self.reason.set((code, reason.into())).is_ok();
        self.token.cancel();
        first
    }

    pub async fn kicked(&self) {
        self.token.cancelled().await
    }

    pub fn reason(&self) -> Option<&(CloseCode, Cow<'static, str>)> {
        self.reason.get()
    }
}

/// Why a message could not be queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Gone {
    /// The connection fell behind and this call kicked it.
    Slow,
    /// The connection is closing.
    Closed,
}

/// One frame not yet (wholly) written: its header and its payload, which may be shared with
/// every other connection the same message goes to.
struct Chunk {
    head: [u8; MAX_HEADER],
    head_len: u8,
    head_at: u8,
    body: Bytes,
}

impl Chunk {
    fn new(opcode: u8, body: Bytes) -> Self {
        let mut head = [0; MAX_HEADER];
        let head_len = frame::encode(opcode, body.len(), &mut head) as u8;
        Chunk {
            head,
            head_len,
            head_at: 0,
            body,
        }
    }

    fn head(&self) -> &[u8] {
        &self.head[usize::from(self.head_at)..usize::from(self.head_len)]
    }

    /// Marks up to `n` bytes written; returns how many were this chunk's.
    fn advance(&mut self, n: usize) -> usize {
        let head = n.min(self.head().len());
        self.head_at += head as u8;
        let body = (n - head).min(self.body.len());
        self.body.advance(body);
        head + body
    }

    fn is_done(&self) -> bool {
        self.head().is_empty() && self.body.is_empty()
    }
}

#[derive(Default)]
struct Queue {
    chunks: VecDeque<Chunk>,
    /// A close frame is queued: nothing goes out after it.
    closed: bool,
    /// A message went out since the connection last looked (for its keepalive).
    sent: bool,
}

/// A connection's socket as its senders share it.
pub struct Wire {
    /// `None` for a connection without a socket (the fuzzing harness): frames are dropped.
    io: Option<Arc<TcpStream>>,
    queue: Mutex<Queue>,
    /// Tells the connection's task that frames wait for the socket to become writable.
    waiting: Notify,
    capacity: usize,
    kick: Kick,
    counters: Option<crate::metrics::Outbound>,
}

impl Wire {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a frame and, if `write`, writes what the socket takes now.
    fn push(&self, opcode: u8, body: Bytes, bounded: bool, write: bool) -> Result<(), Gone> {
        let mut q = self.lock();
        if q.closed {
            return Err(Gone::Closed);
        }
        if bounded && q.chunks.len() >= self.capacity {
            drop(q);
            let first = self.kick.kick(
                CloseCode::TryAgainLater,
                "fell behind: too many unsent messages; reconnect to resync",
            );
            return Err(if first { Gone::Slow } else { Gone::Closed });
        }
        if opcode == OP_BINARY {
            q.sent = true;
        }
        if opcode == OP_CLOSE {
            q.closed = true;
        }
        let was_empty = q.chunks.is_empty();
        q.chunks.push_back(Chunk::new(opcode, body));
        // With frames already waiting the connection's task is about to write them (in order).
        if was_empty && write {
            self.write_out(&mut q)?;
        }
        Ok(())
    }

    /// Writes what the socket takes now and leaves the rest to the connection's task.
    fn write_out(&self, q: &mut Queue) -> Result<(), Gone> {
        self.write_locked(q)?;
        if !q.chunks.is_empty() {
            self.waiting.notify_one();
        }
        Ok(())
    }

    /// Writes queued frames until the socket would block; a broken socket ends the connection.
    fn write_locked(&self, q: &mut Queue) -> Result<(), Gone> {
        let Some(io) = &self.io else {
            q.chunks.clear();
            return Ok(());
        };
        while !q.chunks.is_empty() {
            let result = {
                let mut slices = [IoSlice::new(&[]); WRITE_BATCH * 2];
                let mut n = 0;
                for chunk in q.chunks.iter().take(WRITE_BATCH) {
                    for part in [chunk.head(), &chunk.body[..]] {
                        if !part.is_empty() {
                            slices[n] = IoSlice::new(part);
                            n += 1;
                        }
                    }
                }
                io.try_write_vectored(&slices[..n])
            };
            match result {
                Ok(mut written) if written > 0 => {
                    while written > 0 {
                        let front = q.chunks.front_mut().expect("written bytes were queued");
                        written -= front.advance(written);
                        if front.is_done() {
                            q.chunks.pop_front();
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                _ => {
                    // Reset, broken pipe: the client is gone.
                    q.chunks.clear();
                    q.closed = true;
                    self.kick.kick(CloseCode::Normal, "connection lost");
                    return Err(Gone::Closed);
                }
            }
        }
        Ok(())
    }

    /// Whether frames wait for the socket.
    pub fn pending(&self) -> bool {
        !self.lock().chunks.is_empty()
    }

    /// Writes what waits, as far as the socket takes it (the connection's task, once writable).
    pub fn drain(&self) -> Result<(), Gone> {
        self.write_locked(&mut self.lock())
    }

    /// Resolves when a sender left frames for the connection's task to write.
    pub async fn waiting(&self) {
        self.waiting.notified().await
    }

    /// Whether a message was sent since the last call.
    pub fn take_sent(&self) -> bool {
        std::mem::take(&mut self.lock().sent)
    }
}

#[derive(Clone)]
pub struct Outlet {
    pub conn_id: ConnId,
    wire: Arc<Wire>,
    /// The client negotiated the `events` extension.
    pub events: bool,
    /// The client negotiated the `workshop` extension.
    pub workshop: bool,
    /// What the client may do in the map.
    pub role: crate::auth::Role,
    /// The authenticated user's display name (or id), for the activity record.
    pub user: Option<String>,
    /// The authenticated user's id (the token's subject).
    pub subject: Option<String>,
}

impl Outlet {
    /// The sending half of a connection on `io`; at most `capacity` frames wait for it.
    pub fn new(
        conn_id: ConnId,
        capacity: usize,
        io: Arc<TcpStream>,
        counters: crate::metrics::Outbound,
    ) -> Self {
        Self::with(conn_id, capacity, Some(io), Some(counters))
    }

    /// A connection without a socket, whose frames are dropped (for harnesses).
    pub fn detached(conn_id: ConnId) -> Self {
        Self::with(conn_id, usize::MAX, None, None)
    }

    fn with(
        conn_id: ConnId,
        capacity: usize,
        io: Option<Arc<TcpStream>>,
        counters: Option<crate::metrics::Outbound>,
    ) -> Self {
        Outlet {
            conn_id,
            wire: Arc::new(Wire {
                io,
                queue: Mutex::default(),
                waiting: Notify::new(),
                capacity,
                kick: Kick::default(),
                counters,
            }),
            events: false,
            workshop: false,
            role: crate::auth::Role::Owner,
            user: None,
            subject: None,
        }
    }

    pub fn kick(&self) -> &Kick {
        &self.wire.kick
    }

    pub fn wire(&self) -> &Wire {
        &self.wire
    }

    /// Sends a binary message now (or queues what the socket cannot take yet); a full queue kicks
    /// the connection.
    pub fn send(&self, message: Bytes) -> Result<(), Gone> {
        self.count(&message);
        self.wire.push(OP_BINARY, message, true, true)
    }

    /// Queues a binary message to go out with the next [`Outlet::flush`]: a room delivering a
    /// batch writes each connection's share of it in one system call.
    pub fn queue(&self, message: Bytes) -> Result<(), Gone> {
        self.count(&message);
        self.wire.push(OP_BINARY, message, true, false)
    }

    /// Writes what [`Outlet::queue`] left, as far as the socket takes it now.
    pub fn flush(&self) -> Result<(), Gone> {
        let mut q = self.wire.lock();
        if q.chunks.is_empty() {
            return Ok(());
        }
        self.wire.write_out(&mut q)
    }

    fn count(&self, message: &[u8]) {
        if let Some(counters) = &self.wire.counters
            && let Some(kind) = waymark_protocol::message::peek_kind(message)
        {
            counters.count(kind, message.len());
        }
    }

    pub fn ping(&self) -> Result<(), Gone> {
        self.wire.push(OP_PING, Bytes::new(), true, true)
    }

    pub fn pong(&self, payload: Bytes) -> Result<(), Gone> {
        self.wire.push(OP_PONG, payload, true, true)
    }

    /// Queues the close frame (even past the queue's limit); nothing is sent after it.
    pub fn close(&self, code: CloseCode, reason: &str) {
        let payload = frame::close_payload(code, reason);
        let _ = self.wire.push(OP_CLOSE, payload.into(), false, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_advances_through_its_header_then_its_body() {
        let mut chunk = Chunk::new(OP_BINARY, Bytes::from_static(b"hello"));
        assert_eq!(chunk.head(), &[0x82, 5]);
        assert_eq!(chunk.advance(1), 1);
        assert_eq!(chunk.head(), &[5]);
        assert_eq!(chunk.advance(3), 3);
        assert_eq!(&chunk.body[..], b"llo");
        assert_eq!(chunk.advance(10), 3);
        assert!(chunk.is_done());
    }

    #[test]
    fn a_detached_outlet_takes_frames_until_closed() {
        let outlet = Outlet::detached(1);
        assert_eq!(outlet.send(Bytes::from_static(&[0, 2, 0])), Ok(()));
        assert!(outlet.wire().take_sent());
        assert!(!outlet.wire().take_sent());
        assert_eq!(outlet.queue(Bytes::from_static(&[0, 2, 0])), Ok(()));
        assert!(outlet.wire().pending());
        assert_eq!(outlet.flush(), Ok(()));
        assert!(!outlet.wire().pending());
        outlet.close(CloseCode::Normal, "bye");
        assert_eq!(
            outlet.send(Bytes::from_static(&[0, 2, 0])),
            Err(Gone::Closed)
        );
        assert!(!outlet.wire().pending());
    }
}
