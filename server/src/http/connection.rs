//! One WebSocket connection, served by one task: it reads the client's frames and hands their
//! messages to the map's room, answers pings, pings the client and sends keepalives, and writes
//! what senders left queued once the socket takes it again. Broadcasts do not pass through this
//! task: the room writes them into the socket itself (see `outlet`).

use super::Shared;
use crate::auth::Access;
use crate::outlet::{Gone, Kick, Outlet};
use crate::room::Inbound;
use crate::throttle::{Bucket, Permit};
use crate::websocket::{Event, Reader, Violation};
use bytes::Bytes;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tracing::{debug, warn};
use waymark_protocol::message::{self, KEEPALIVE, Message};
use waymark_protocol::{CloseCode, MapId, bounds, ext};

/// How long the closing handshake may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Serves one upgraded connection until it closes. `seed`: bytes the client sent after its
/// handshake request, read along with it.
///
/// Idle, a connection is little more than this future, so it is spawned as it is (the caller adds
/// the span with `instrument`), holding each argument once: an `async` block wrapping it would
/// keep a second copy of what it captured for as long as it runs (1.3 KiB a connection here).
#[allow(clippy::too_many_arguments)]
pub async fn serve(
    socket: std::net::TcpStream,
    seed: Bytes,
    map: MapId,
    extensions: Option<Vec<String>>,
    access: Access,
    permit: Permit,
    shared: Arc<Shared>,
    conn_id: crate::outlet::ConnId,
) {
    // A socket is registered with the reactor of the runtime it is made on: this one, the thread
    // of the connection's map.
    let socket = match TcpStream::from_std(socket) {
        Ok(socket) => socket,
        Err(e) => return debug!(error = %e, "cannot take a connection over"),
    };
    {
        shared.metrics.connections.inc();
        debug!("connected");
        let io = Arc::new(socket);
        let mut outlet = Outlet::new(
            conn_id,
            shared.config.send_queue,
            Arc::clone(&io),
            shared.metrics.outbound(),
        );
        outlet.role = access.role;
        outlet.user = access.author();
        outlet.subject = access.user.clone();
        if let Some(requested) = extensions {
            let accepted: Vec<&str> = requested
                .iter()
                .map(String::as_str)
                .filter(|n| ext::SUPPORTED.contains(n))
                .collect();
            outlet.events = accepted.contains(&ext::EVENTS);
            outlet.workshop = accepted.contains(&ext::WORKSHOP);
            let _ = outlet.send(ext::encode_accepted(&accepted).into());
        }
        let mut conn = Conn {
            io: &io,
            access: &access,
            reader: Reader::new(shared.config.max_message_size, seed),
            outlet: &outlet,
            shared: &shared,
            peer_closed: false,
        };
        match shared.rooms.join(&map, outlet.clone()).await {
            Ok(room) => {
                conn.session(&room, access.expires).await;
                room.leave(conn_id).await;
            }
            Err(e) => {
                warn!(error = %e, "cannot join map");
                let code = match e {
                    crate::room::JoinError::ShuttingDown => CloseCode::GoingAway,
                    _ => CloseCode::InternalError,
                };
                outlet.kick().kick(code, e.to_string());
            }
        }
        outlet.kick().kick(CloseCode::Normal, "");
        conn.close().await;
        drop(permit);
        shared.metrics.connections.dec();
        debug!("disconnected");
    }
}

/// Closes the connection for going over a limit.
fn over_limit(shared: &Shared, kick: &Kick, limit: &'static str, code: CloseCode, reason: String) {
    warn!(
        limit,
        close_code = code.code(),
        "{reason}; closing connection"
    );
    shared.metrics.limit(limit);
    kick.kick(code, reason);
}

/// When a token expiring at `exp` (seconds since the epoch) runs out, as an `Instant`.
fn expiry(exp: Option<u64>) -> Option<Instant> {
    let now = crate::clock::now_secs();
    exp.map(|exp| Instant::now() + Duration::from_secs(exp.saturating_sub(now)))
}

/// The client's limits, as buckets refilled over time.
struct Budgets {
    messages: Bucket,
    bytes: Bucket,
    awareness: Bucket,
}

struct Conn<'a> {
    io: &'a TcpStream,
    access: &'a Access,
    reader: Reader,
    outlet: &'a Outlet,
    shared: &'a Shared,
    /// The client sent its close frame: the closing handshake needs no answer from it.
    peer_closed: bool,
}

/// Why the session ended (the kick says how the connection is closed).
struct Ended;

impl Conn<'_> {
    async fn session(&mut self, room: &crate::registry::RoomHandle, token_expires: Option<u64>) {
        let (kick, wire) = (self.outlet.kick(), self.outlet.wire());
        let config = &self.shared.config;
        let limits = &config.limits;
        let mut budgets = Budgets {
            messages: Bucket::new(f64::from(limits.message_rate), 1.0),
            bytes: Bucket::new(limits.byte_rate as f64, config.max_message_size as f64),
            awareness: Bucket::new(f64::from(limits.awareness_rate), 1.0),
        };
        let expires = expiry(token_expires);
        let start = Instant::now();
        let mut clock = Clock {
            next_ping: start + config.ping_interval,
            next_keepalive: start + config.keepalive_interval / 3,
            last_sent: start,
            last_heard: start,
            // Pongs keep `last_heard` fresh; only messages count against the idle timeout.
            last_message: start,
        };
        // What arrived with the handshake request (hyper read it along) is not announced by the
        // socket again.
        if self
            .take_events(room, &mut budgets, &mut clock)
            .await
            .is_err()
        {
            return;
        }
        let timer = tokio::time::sleep_until(clock.deadline(expires, limits.idle_timeout));
        tokio::pin!(timer);
        loop {
            let wants_write = wire.pending();
            tokio::select! {
                biased;
                _ = kick.kicked() => return,
                _ = self.shared.shutdown.cancelled() => {
                    kick.kick(CloseCode::GoingAway, "server is restarting; reconnect");
                    return;
                }
                _ = &mut timer => {
                    if self.tick(&mut clock, expires).is_err() {
                        return;
                    }
                    timer.as_mut().reset(clock.deadline(expires, limits.idle_timeout));
                }
                ready = self.io.writable(), if wants_write => {
                    if ready.is_err() || wire.drain().is_err() {
                        return;
                    }
                }
                _ = wire.waiting() => {}
                ready = self.io.readable() => {
                    if ready.is_err() {
                        return;
                    }
                    match self.reader.read_from(self.io) {
                        Ok(0) => {
                            debug!("connection lost");
                            return;
                        }
                        Ok(_) => {}
                        Err(e) if retry(&e) => continue,
                        Err(e) => {
                            debug!(error = %e, "connection lost");
                            return;
                        }
                    }
                    clock.last_heard = Instant::now();
                    if self.take_events(room, &mut budgets, &mut clock).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Acts on every complete event read so far.
    async fn take_events(
        &mut self,
        room: &crate::registry::RoomHandle,
        budgets: &mut Budgets,
        clock: &mut Clock,
    ) -> Result<(), Ended> {
        loop {
            let event = match self.reader.next() {
                Ok(Some(event)) => event,
                Ok(None) => return Ok(()),
                Err(v) => {
                    self.violation(v);
                    return Err(Ended);
                }
            };
            if let Event::Message { .. } = event {
                clock.last_message = clock.last_heard;
            }
            self.event(event, room, budgets).await?;
        }
    }

    /// The timer: token expiry, idle timeout, pings and the liveness deadline, keepalives.
    fn tick(&mut self, clock: &mut Clock, expires: Option<Instant>) -> Result<(), Ended> {
        let (shared, kick) = (self.shared, self.outlet.kick());
        let config = &shared.config;
        let now = Instant::now();
        if expires.is_some_and(|at| now >= at) {
            shared.metrics.refused("token_expired");
            kick.kick(
                CloseCode::TokenExpired,
                "the token expired; reconnect with a new one",
            );
            return Err(Ended);
        }
        if shared.revocations.refuses(self.access) {
            shared.metrics.refused("token_revoked");
            kick.kick(
                CloseCode::AccessRevoked,
                "access was revoked; sign in again for a new token",
            );
            return Err(Ended);
        }
        if let Some(idle) = config.limits.idle_timeout
            && now >= clock.last_message + idle
        {
            over_limit(
                shared,
                kick,
                "idle",
                CloseCode::Idle,
                format!("nothing received for {}", humantime::format_duration(idle)),
            );
            return Err(Ended);
        }
        if now >= clock.next_ping {
            clock.next_ping = now + config.ping_interval;
            if clock.last_heard.elapsed() >= config.ping_timeout {
                warn!(
                    close_code = CloseCode::PingTimeout.code(),
                    "no answer to pings; closing connection"
                );
                shared.metrics.error("ping_timeout");
                kick.kick(CloseCode::PingTimeout, "no answer to pings");
                return Err(Ended);
            }
            self.sent(self.outlet.ping())?;
        }
        if now >= clock.next_keepalive {
            clock.next_keepalive = now + config.keepalive_interval / 3;
            if self.outlet.wire().take_sent() {
                clock.last_sent = now;
            } else if now - clock.last_sent >= config.keepalive_interval {
                clock.last_sent = now;
                self.sent(self.outlet.send(Bytes::from_static(&KEEPALIVE)))?;
            }
        }
        Ok(())
    }

    fn sent(&self, result: Result<(), Gone>) -> Result<(), Ended> {
        match result {
            Ok(()) => Ok(()),
            Err(gone) => {
                if gone == Gone::Slow {
                    slow(self.shared);
                }
                Err(Ended)
            }
        }
    }

    fn violation(&self, v: Violation) {
        warn!(
            close_code = v.code.code(),
            "{}; closing connection", v.reason
        );
        self.shared.metrics.error(v.kind);
        self.outlet.kick().kick(v.code, v.reason);
    }

    /// Acts on one thing the client sent.
    async fn event(
        &mut self,
        event: Event,
        room: &crate::registry::RoomHandle,
        budgets: &mut Budgets,
    ) -> Result<(), Ended> {
        let (shared, kick) = (self.shared, self.outlet.kick());
        let limits = &shared.config.limits;
        let (text, frame) = match event {
            Event::Ping(payload) => return self.sent(self.outlet.pong(payload)),
            Event::Pong => return Ok(()),
            Event::Close(_) => {
                self.peer_closed = true;
                return Err(Ended);
            }
            Event::Message { text, data } => (text, data),
        };
        if !budgets.messages.take(1.0) {
            over_limit(
                shared,
                kick,
                "message_rate",
                CloseCode::RateLimited,
                format!("more than {} messages a second", limits.message_rate),
            );
            return Err(Ended);
        }
        if !budgets.bytes.take(frame.len() as f64) {
            over_limit(
                shared,
                kick,
                "byte_rate",
                CloseCode::RateLimited,
                format!("more than {} bytes a second", limits.byte_rate),
            );
            return Err(Ended);
        }
        if text {
            warn!(
                close_code = CloseCode::UnsupportedData.code(),
                "text frame; closing connection"
            );
            shared.metrics.error("text_frame");
            kick.kick(
                CloseCode::UnsupportedData,
                "text frames are not supported; send binary messages",
            );
            return Err(Ended);
        }
        let inbound = match message::decode(&frame) {
            Ok(Message::Awareness { update }) if update.len() > limits.max_awareness_size => {
                over_limit(
                    shared,
                    kick,
                    "awareness_size",
                    CloseCode::PolicyViolation,
                    format!(
                        "presence update larger than {} bytes",
                        limits.max_awareness_size
                    ),
                );
                return Err(Ended);
            }
            Ok(Message::Awareness { .. }) if !budgets.awareness.take(1.0) => {
                over_limit(
                    shared,
                    kick,
                    "awareness_rate",
                    CloseCode::RateLimited,
                    format!(
                        "more than {} presence updates a second",
                        limits.awareness_rate
                    ),
                );
                return Err(Ended);
            }
            Ok(m) => {
                shared.metrics.message_in(m.kind(), frame.len());
                to_inbound(&frame, m, self.outlet.workshop)
            }
            Err(e) => {
                warn!(error = %e, close_code = e.close_code().code(), "bad message; closing connection");
                shared.metrics.error(e.label());
                kick.kick(e.close_code(), e.to_string());
                return Err(Ended);
            }
        };
        match inbound {
            Ok(Some(inbound)) => {
                if room.send(self.outlet.conn_id, inbound).await.is_err() {
                    kick.kick(CloseCode::InternalError, "map unavailable; reconnect");
                    return Err(Ended);
                }
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(refused) => {
                warn!(
                    close_code = refused.code.code(),
                    "{}; closing connection", refused.reason
                );
                shared.metrics.error(refused.kind);
                kick.kick(refused.code, refused.reason);
                Err(Ended)
            }
        }
    }

    /// The closing handshake: the close frame (after whatever was queued before it), then, unless
    /// the client closed first, its answer. Closing TCP while the peer is still sending (pongs,
    /// updates) would reset the connection and could destroy our close frame before it is read.
    async fn close(&mut self) {
        let (code, reason) = self
            .outlet
            .kick()
            .reason()
            .map(|(c, r)| (*c, r.as_ref()))
            .unwrap_or((CloseCode::Normal, ""));
        self.outlet.close(code, reason);
        let (io, wire) = (self.io, self.outlet.wire());
        let _ = timeout(CLOSE_TIMEOUT, async {
            while wire.pending() {
                if io.writable().await.is_err() || wire.drain().is_err() {
                    return;
                }
            }
            if self.peer_closed {
                return;
            }
            // Whatever else arrives is dropped; a stream the reader refused is read raw (into a
            // buffer allocated only then: the task's own state stays small).
            let mut broken: Option<Vec<u8>> = None;
            loop {
                if io.readable().await.is_err() {
                    return;
                }
                let read = match &mut broken {
                    Some(scratch) => io.try_read(scratch),
                    None => self.reader.read_from(io),
                };
                match read {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(e) if retry(&e) => continue,
                    Err(_) => return,
                }
                while broken.is_none() {
                    match self.reader.next() {
                        Ok(Some(Event::Close(_))) => return,
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(_) => broken = Some(vec![0; 4096]),
                    }
                }
            }
        })
        .await;
    }
}

/// The connection's timekeeping.
struct Clock {
    next_ping: Instant,
    next_keepalive: Instant,
    /// When a message was last seen going out (to the nearest keepalive check).
    last_sent: Instant,
    /// When anything (a pong included) was last received.
    last_heard: Instant,
    /// When a message was last received.
    last_message: Instant,
}

impl Clock {
    /// The next moment the timer has something to check.
    fn deadline(&self, expires: Option<Instant>, idle: Option<Duration>) -> Instant {
        let mut at = self.next_ping.min(self.next_keepalive);
        if let Some(e) = expires {
            at = at.min(e);
        }
        if let Some(idle) = idle {
            at = at.min(self.last_message + idle);
        }
        at
    }
}

/// A read or write that found nothing to do and may simply be tried again.
fn retry(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

fn slow(shared: &Shared) {
    warn!("connection fell behind; closing it so it resyncs");
    shared.metrics.error("slow_consumer");
}

/// A message the connection may not send, and how it is closed for it.
pub(crate) struct Refused {
    pub code: CloseCode,
    /// Metric label.
    pub kind: &'static str,
    pub reason: String,
}

/// What the room must act on, if anything. Payloads are checked with `bounds` first: yrs must
/// never see counts that do not fit their message, unbounded nesting, or content it cannot
/// write back.
/// `workshop`: the connection negotiated the workshop extension, whose commands it may send.
pub(crate) fn to_inbound(
    frame: &Bytes,
    msg: Message<'_>,
    workshop: bool,
) -> Result<Option<Inbound>, Refused> {
    // The same answers as when yrs itself cannot decode them (PROTOCOL.md §10).
    let checked = |what: &str, kind, code, result: Result<(), bounds::BoundsError>| {
        result.map_err(|e| Refused {
            code,
            kind,
            reason: format!("malformed {what}: {e}"),
        })
    };
    Ok(Some(match msg {
        Message::SyncStep1 { state_vector } => {
            let result = bounds::check_state_vector(state_vector);
            checked(
                "state vector",
                "bad_state_vector",
                CloseCode::ProtocolError,
                result,
            )?;
            Inbound::SyncStep1(frame.slice_ref(state_vector))
        }
        Message::SyncStep2 { update } | Message::Update { update } => {
            let result = bounds::check_update(update);
            checked("update", "bad_update", CloseCode::InvalidPayload, result)?;
            Inbound::Update(frame.slice_ref(update))
        }
        Message::Awareness { update } => {
            let result = bounds::check_awareness(update);
            checked(
                "awareness update",
                "bad_awareness",
                CloseCode::ProtocolError,
                result,
            )?;
            Inbound::Awareness {
                frame: frame.clone(),
                update: frame.slice_ref(update),
            }
        }
        Message::QueryAwareness => Inbound::QueryAwareness,
        // Tokens come with the request (PROTOCOL.md §1.5); the message is accepted and ignored.
        Message::Auth { .. } => return Ok(None),
        Message::Extension { tag, body } if workshop && tag == ext::MSG_WORKSHOP_COMMAND => {
            let Some(json) = ext::decode_json_body(body) else {
                return Err(Refused {
                    code: CloseCode::ProtocolError,
                    kind: "bad_workshop_command",
                    reason: "malformed workshop command: expected one string".into(),
                });
            };
            Inbound::Workshop(frame.slice_ref(json.as_bytes()))
        }
        // Every other extension message goes from server to client: nothing may come back.
        Message::Extension { .. } => {
            return Err(Refused {
                code: CloseCode::UnsupportedData,
                kind: "unknown_type",
                reason: "extension message was not negotiated".into(),
            });
        }
    }))
}
