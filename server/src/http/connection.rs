//! One WebSocket connection: a reader that decodes frames and hands them to the map's room, and a
//! writer that drains the connection's bounded queue, pings, and sends keepalives.

use super::Shared;
use super::upgrade::Socket;
use crate::auth::Access;
use crate::outlet::{Gone, Kick, Outbound, Outlet};
use crate::room::Inbound;
use crate::throttle::{Bucket, Permit};
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval, timeout};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tracing::{Instrument, debug, info_span, warn};
use waymark_protocol::message::{self, KEEPALIVE, Message};
use waymark_protocol::{CloseCode, MapId, bounds, ext};

/// Messages written to the socket before it is flushed.
const WRITE_BATCH: usize = 64;

/// Messages larger than this go out as fragments of this size, each a slice of the one shared
/// buffer: tungstenite copies what it sends into a per-connection write buffer, so a whole 10 MiB
/// document sent to 50 joiners would otherwise cost 500 MiB (and stay reserved).
const FRAGMENT: usize = 64 << 10;

/// How long the closing handshake may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Serves one upgraded connection until it closes.
pub async fn serve(
    socket: Socket,
    map: MapId,
    extensions: Option<Vec<String>>,
    access: Access,
    permit: Permit,
    shared: Arc<Shared>,
) {
    let conn_id = shared.next_conn_id();
    let span = info_span!("conn", map_id = %map, conn_id);
    async move {
        shared.metrics.connections.inc();
        debug!("connected");
        let (sink, stream) = socket.split();
        let (mut outlet, queue) = Outlet::new(conn_id, shared.config.send_queue);
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
        let writer = shared.tracker.spawn(
            write_loop(sink, queue, outlet.kick().clone(), Arc::clone(&shared)).in_current_span(),
        );
        let mut stream = stream;
        match shared.rooms.join(&map, outlet.clone()).await {
            Ok(room) => {
                read_loop(&mut stream, &room, &outlet, access.expires, &shared).await;
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
        // The reader is done; make sure the writer ends too.
        outlet.kick().kick(CloseCode::Normal, "");
        drop(outlet);
        // Finish the closing handshake before dropping the socket: closing TCP while the peer is
        // still sending (pongs, updates) resets the connection and can destroy our close frame
        // before the peer reads it.
        let _ = timeout(CLOSE_TIMEOUT, async {
            while let Some(Ok(_)) = stream.next().await {}
        })
        .await;
        let _ = writer.await;
        drop(permit);
        shared.metrics.connections.dec();
        debug!("disconnected");
    }
    .instrument(span)
    .await
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

async fn read_loop(
    stream: &mut SplitStream<Socket>,
    room: &crate::registry::RoomHandle,
    outlet: &Outlet,
    token_expires: Option<u64>,
    shared: &Shared,
) {
    let kick = outlet.kick();
    let config = &shared.config;
    let limits = &config.limits;
    let mut ping = interval(config.ping_interval);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ping.reset();
    let mut last_heard = Instant::now();
    // Pongs keep `last_heard` fresh; only messages count against the idle timeout.
    let mut last_message = Instant::now();
    let expires = expiry(token_expires);
    let mut messages = Bucket::new(f64::from(limits.message_rate), 1.0);
    let mut bytes = Bucket::new(limits.byte_rate as f64, config.max_message_size as f64);
    let mut awareness = Bucket::new(f64::from(limits.awareness_rate), 1.0);
    loop {
        let idle_at = limits.idle_timeout.map(|t| last_message + t);
        let frame = tokio::select! {
            biased;
            _ = kick.kicked() => return,
            _ = shared.shutdown.cancelled() => {
                kick.kick(CloseCode::GoingAway, "server is restarting; reconnect");
                return;
            }
            _ = sleep_until(expires) => {
                shared.metrics.refused("token_expired");
                kick.kick(CloseCode::TokenExpired, "the token expired; reconnect with a new one");
                return;
            }
            _ = sleep_until(idle_at) => {
                let idle = limits.idle_timeout.unwrap_or_default();
                over_limit(shared, kick, "idle", CloseCode::Idle,
                    format!("nothing received for {}", humantime::format_duration(idle)));
                return;
            }
            _ = ping.tick() => {
                if last_heard.elapsed() >= config.ping_timeout {
                    warn!(close_code = CloseCode::PingTimeout.code(), "no answer to pings; closing connection");
                    shared.metrics.error("ping_timeout");
                    kick.kick(CloseCode::PingTimeout, "no answer to pings");
                    return;
                }
                if outlet.ping() == Err(Gone::Slow) {
                    slow(shared);
                    return;
                }
                continue;
            }
            frame = stream.next() => frame,
        };
        let msg = match frame {
            None => return,
            Some(Err(e)) => {
                if is_too_big(e) {
                    warn!(
                        close_code = 1009,
                        limit = config.max_message_size,
                        "message over the size limit; closing connection"
                    );
                    shared.metrics.error("message_too_big");
                    kick.kick(
                        CloseCode::MessageTooBig,
                        format!("message larger than {} bytes", config.max_message_size),
                    );
                } else {
                    debug!("connection lost");
                }
                return;
            }
            Some(Ok(msg)) => msg,
        };
        last_heard = Instant::now();
        if matches!(msg, WsMessage::Binary(_) | WsMessage::Text(_)) {
            last_message = last_heard;
            if !messages.take(1.0) {
                over_limit(
                    shared,
                    kick,
                    "message_rate",
                    CloseCode::RateLimited,
                    format!("more than {} messages a second", limits.message_rate),
                );
                return;
            }
            if !bytes.take(msg.len() as f64) {
                over_limit(
                    shared,
                    kick,
                    "byte_rate",
                    CloseCode::RateLimited,
                    format!("more than {} bytes a second", limits.byte_rate),
                );
                return;
            }
        }
        match msg {
            WsMessage::Binary(frame) => {
                let inbound = match message::decode(&frame) {
                    Ok(Message::Awareness { update })
                        if update.len() > limits.max_awareness_size =>
                    {
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
                        return;
                    }
                    Ok(Message::Awareness { .. }) if !awareness.take(1.0) => {
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
                        return;
                    }
                    Ok(m) => {
                        shared.metrics.message_in(m.kind(), frame.len());
                        to_inbound(&frame, m, outlet.workshop)
                    }
                    Err(e) => {
                        warn!(error = %e, close_code = e.close_code().code(), "bad message; closing connection");
                        shared.metrics.error(e.label());
                        kick.kick(e.close_code(), e.to_string());
                        return;
                    }
                };
                match inbound {
                    Ok(Some(inbound)) => {
                        if room.send(outlet.conn_id, inbound).await.is_err() {
                            kick.kick(CloseCode::InternalError, "map unavailable; reconnect");
                            return;
                        }
                    }
                    Ok(None) => {}
                    Err(refused) => {
                        warn!(
                            close_code = refused.code.code(),
                            "{}; closing connection", refused.reason
                        );
                        shared.metrics.error(refused.kind);
                        kick.kick(refused.code, refused.reason);
                        return;
                    }
                }
            }
            WsMessage::Text(_) => {
                warn!(
                    close_code = CloseCode::UnsupportedData.code(),
                    "text frame; closing connection"
                );
                shared.metrics.error("text_frame");
                kick.kick(
                    CloseCode::UnsupportedData,
                    "text frames are not supported; send binary messages",
                );
                return;
            }
            WsMessage::Close(_) => return,
            WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => {}
        }
    }
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

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn is_too_big(e: tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Capacity(_))
}

async fn write_loop(
    mut sink: SplitSink<Socket, WsMessage>,
    mut queue: mpsc::Receiver<Outbound>,
    kick: Kick,
    shared: Arc<Shared>,
) {
    let keepalive_every = shared.config.keepalive_interval;
    let mut keepalive = interval(keepalive_every / 3);
    keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_sent = Instant::now();
    'outer: loop {
        let first = tokio::select! {
            biased;
            _ = kick.kicked() => break,
            out = queue.recv() => match out {
                Some(out) => out,
                None => break,
            },
            _ = keepalive.tick() => {
                if last_sent.elapsed() < keepalive_every {
                    continue;
                }
                Outbound::Frame(Bytes::from_static(&KEEPALIVE))
            }
        };
        let mut next = Some(first);
        let mut written = 0;
        while let Some(out) = next.take() {
            let msgs = match out {
                Outbound::Frame(frame) => {
                    if let Some(kind) = message::peek_kind(&frame) {
                        shared.metrics.message_out(kind, frame.len());
                    }
                    last_sent = Instant::now();
                    fragments(frame)
                }
                Outbound::Ping => vec![WsMessage::Ping(Bytes::new())],
            };
            for msg in msgs {
                tokio::select! {
                    biased;
                    _ = kick.kicked() => break 'outer,
                    r = sink.feed(msg) => if r.is_err() { break 'outer },
                }
            }
            written += 1;
            if written < WRITE_BATCH {
                next = queue.try_recv().ok();
            }
        }
        tokio::select! {
            biased;
            _ = kick.kicked() => break,
            r = sink.flush() => if r.is_err() { break },
        }
    }
    let (code, reason) = kick
        .reason()
        .map(|(c, r)| (*c, r.to_string()))
        .unwrap_or((CloseCode::Normal, String::new()));
    let close = WsMessage::Close(Some(CloseFrame {
        code: code.code().into(),
        reason: truncate_reason(reason).into(),
    }));
    let _ = timeout(CLOSE_TIMEOUT, sink.send(close)).await;
    let _ = timeout(CLOSE_TIMEOUT, sink.close()).await;
}

/// One binary message as WebSocket messages to send: itself, or fragments slicing it.
fn fragments(frame: Bytes) -> Vec<WsMessage> {
    if frame.len() <= FRAGMENT {
        return vec![WsMessage::Binary(frame)];
    }
    let count = frame.len().div_ceil(FRAGMENT);
    (0..count)
        .map(|i| {
            let chunk = frame.slice(i * FRAGMENT..((i + 1) * FRAGMENT).min(frame.len()));
            let opcode = if i == 0 { Data::Binary } else { Data::Continue };
            WsMessage::Frame(Frame::message(chunk, OpCode::Data(opcode), i + 1 == count))
        })
        .collect()
}

/// Close reasons are limited to 123 bytes by RFC 6455.
fn truncate_reason(mut reason: String) -> String {
    if reason.len() > 123 {
        let mut cut = 123;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
    }
    reason
}
