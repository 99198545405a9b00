//! One generated client: connects, completes the y-websocket handshake, sends on its schedule and
//! records every marked delivery it receives. It decodes only message headers, never documents, so
//! that the generator stays cheap next to the server it measures.

use crate::marker;
use crate::target::Target;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;
use waymark_protocol::message::{self, Message};
use waymark_protocol::schema::{At, Editor};
use yrs::encoding::write::Write;
use yrs::updates::encoder::Encode;
use yrs::{Doc, Options, ReadTxn, StateVector, Transact};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// When each sender sends: sender `s` sends its message `k` at `start + (s / senders + k) / rate`
/// seconds, so sends are spread evenly. Latency is measured from this intended time, so a sender or
/// server that falls behind shows up as latency instead of hiding it (no coordinated omission).
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub start: Instant,
    pub rate: f64,
    pub senders: u32,
    pub count: u32,
}

impl Schedule {
    pub fn intended(&self, sender: u32, seq: u32) -> Instant {
        let offset = sender as f64 / self.senders.max(1) as f64;
        self.start + Duration::from_secs_f64((offset + seq as f64) / self.rate)
    }
}

/// What a sender sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// A document update overwriting one map entry with the marker.
    Update,
    /// A presence state holding the marker, as a cursor move would.
    Awareness,
}

/// Counters shared by all clients of a run.
#[derive(Default)]
pub struct Totals {
    /// First receipts of other clients' marked messages.
    pub delivered: AtomicU64,
    pub sent: AtomicU64,
    pub synced: AtomicU64,
}

/// What one client saw.
pub struct Outcome {
    pub id: u32,
    pub map: String,
    /// Receipts per sender and sequence number.
    pub received: HashMap<u32, Vec<u16>>,
    /// Delivery latency in microseconds, from intended send time to receipt.
    pub latency: Histogram<u64>,
    pub sent: u32,
    /// From the start of the connection attempt to the server's SyncStep2.
    pub sync_time: Option<Duration>,
    pub bytes_in: u64,
    pub error: Option<String>,
    pub close_code: Option<u16>,
}

pub struct Client {
    pub id: u32,
    pub map: String,
    target: Arc<Target>,
    sink: SplitSink<Ws, WsMessage>,
    stream: SplitStream<Ws>,
    doc: Option<Doc>,
    /// The card an editor's scheduled updates rewrite.
    card: String,
    client_id: u64,
    connect_started: Instant,
    synced_at: Option<Instant>,
    bytes_in: u64,
}

impl Client {
    /// Connects and starts the handshake. A client that will send updates keeps a document.
    /// Document and presence client ids are derived from `run_id` and `id`, unique per run.
    pub async fn connect(
        target: Arc<Target>,
        map: &str,
        id: u32,
        run_id: u64,
        with_doc: bool,
    ) -> anyhow::Result<Self> {
        // Below 2^53 so that JavaScript servers handle it exactly.
        let client_id = (run_id << 20 | u64::from(id & 0xF_FFFF)) & ((1 << 53) - 1);
        let connect_started = Instant::now();
        let (ws, _) =
            tokio_tungstenite::connect_async_with_config(target.url(map), None, true).await?;
        let (mut sink, stream) = ws.split();
        if let Some(hello) = target.hello(map) {
            sink.send(WsMessage::Binary(hello.into())).await?;
        }
        // An editor's document is a small journey map of its own (SCHEMA.md): a stage, a step, a
        // lane and the card whose text each scheduled update rewrites. It reaches the server in the
        // handshake, before any scheduled send.
        let (doc, card) = if with_doc {
            let doc = Doc::with_options(Options {
                client_id: yrs::ClientID::new(client_id),
                ..Options::default()
            });
            let card = {
                let mut txn = doc.transact_mut();
                let mut ed = Editor::new(&mut txn);
                let stage = ed.add_stage("Load", At::Last)?;
                let step = ed.add_step(&stage, &format!("Editor {id}"), At::Last)?;
                let lane = ed.add_lane("actions", &format!("Editor {id}"), At::Last)?;
                ed.add_card(&lane, &step, "", At::Last)?
            };
            (Some(doc), card)
        } else {
            (None, String::new())
        };
        let sv = match &doc {
            Some(d) => d.transact().state_vector().encode_v1(),
            None => vec![0],
        };
        let step1 = target.frame(map, &message::encode_sync_step1(&sv));
        sink.send(WsMessage::Binary(step1.into())).await?;
        Ok(Client {
            id,
            map: map.to_owned(),
            target,
            sink,
            stream,
            doc,
            card,
            client_id,
            connect_started,
            synced_at: None,
            bytes_in: 0,
        })
    }

    /// Reads until the server's SyncStep2 has arrived (the client then holds the whole document).
    pub async fn wait_synced(&mut self, totals: &Totals) -> anyhow::Result<Duration> {
        while self.synced_at.is_none() {
            let frame = match self.stream.next().await {
                Some(Ok(WsMessage::Binary(b))) => b,
                Some(Ok(WsMessage::Close(f))) => anyhow::bail!("closed during sync: {f:?}"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => anyhow::bail!("connection ended during sync"),
            };
            self.handle(&frame, totals, None).await?;
        }
        Ok(self.synced_at.unwrap_or(self.connect_started) - self.connect_started)
    }

    /// Runs until `stop`: sends on `schedule` if this client is a sender (`sender` is its index
    /// among senders), and records every marked delivery.
    pub async fn run(
        mut self,
        totals: Arc<Totals>,
        schedule: Schedule,
        send: Option<(u32, Payload)>,
        stop: CancellationToken,
        stop_sending: CancellationToken,
    ) -> Outcome {
        let mut rec = Recorder {
            schedule,
            received: HashMap::new(),
            latency: Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds"),
            me: send.map(|(s, _)| s),
        };
        let mut seq = 0u32;
        let mut error = None;
        let mut close_code = None;
        loop {
            let next_send = match send {
                Some((sender, _)) if seq < schedule.count && !stop_sending.is_cancelled() => {
                    Some(schedule.intended(sender, seq))
                }
                _ => None,
            };
            tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                _ = sleep_until(next_send) => {
                    if let Some((sender, payload)) = send {
                        let msg = self.make(sender, seq, payload);
                        if let Err(e) = self.sink.send(WsMessage::Binary(msg.into())).await {
                            error = Some(format!("send failed: {e}"));
                            break;
                        }
                        seq += 1;
                        totals.sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
                frame = self.stream.next() => match frame {
                    Some(Ok(WsMessage::Binary(b))) => {
                        if let Err(e) = self.handle(&b, &totals, Some(&mut rec)).await {
                            error = Some(e.to_string());
                            break;
                        }
                    }
                    Some(Ok(WsMessage::Close(f))) => {
                        close_code = f.map(|f| u16::from(f.code));
                        break;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        error = Some(e.to_string());
                        break;
                    }
                    None => {
                        error = Some("connection ended".into());
                        break;
                    }
                },
            }
        }
        let _ = self.sink.close().await;
        Outcome {
            id: self.id,
            map: self.map,
            received: rec.received,
            latency: rec.latency,
            sent: seq,
            sync_time: self.synced_at.map(|t| t - self.connect_started),
            bytes_in: self.bytes_in,
            error,
            close_code,
        }
    }

    /// Sends one document update (used to fill a map before a join test).
    pub async fn send_update(
        &mut self,
        edit: impl FnOnce(&mut yrs::TransactionMut),
    ) -> anyhow::Result<()> {
        let doc = self.doc.as_ref().expect("client has a document");
        let update = {
            let mut txn = doc.transact_mut();
            edit(&mut txn);
            txn.encode_update_v1()
        };
        let frame = self
            .target
            .frame(&self.map, &message::encode_update(&update));
        self.sink.send(WsMessage::Binary(frame.into())).await?;
        Ok(())
    }

    /// Drops the connection without a WebSocket closing handshake (the socket just closes), as a
    /// crashed client or a failed proxy would.
    pub fn abort(self) {
        drop(self);
    }

    /// Bytes received so far.
    pub fn bytes_received(&self) -> u64 {
        self.bytes_in
    }

    /// From the connection attempt to the server's SyncStep2, once synced.
    pub fn sync_time(&self) -> Option<Duration> {
        self.synced_at.map(|t| t - self.connect_started)
    }

    fn make(&mut self, sender: u32, seq: u32, payload: Payload) -> Vec<u8> {
        let mark = marker::marker(sender, seq);
        let msg = match payload {
            Payload::Update => {
                let doc = self.doc.as_ref().expect("senders have a document");
                let mut txn = doc.transact_mut();
                Editor::new(&mut txn)
                    .set_card_text(&self.card, &mark)
                    .expect("the editor's own card exists");
                message::encode_update(&txn.encode_update_v1())
            }
            Payload::Awareness => {
                let mut u = Vec::with_capacity(48);
                u.write_var(1u32);
                u.write_var(self.client_id);
                u.write_var(seq + 1);
                u.write_string(&format!("{{\"cursor\":\"{mark}\"}}"));
                message::encode_awareness(&u)
            }
        };
        self.target.frame(&self.map, &msg)
    }

    async fn handle(
        &mut self,
        frame: &[u8],
        totals: &Totals,
        rec: Option<&mut Recorder>,
    ) -> anyhow::Result<()> {
        self.bytes_in += frame.len() as u64;
        let msg = self.target.unframe(frame);
        match message::decode(msg) {
            Ok(Message::SyncStep1 { state_vector }) => {
                let diff = match (
                    &self.doc,
                    yrs::updates::decoder::Decode::decode_v1(state_vector),
                ) {
                    (Some(doc), Ok(sv)) => {
                        let sv: StateVector = sv;
                        doc.transact().encode_state_as_update_v1(&sv)
                    }
                    _ => vec![0, 0],
                };
                let reply = self
                    .target
                    .frame(&self.map, &message::encode_sync_step2(&diff));
                self.sink.send(WsMessage::Binary(reply.into())).await?;
            }
            Ok(Message::SyncStep2 { .. }) if self.synced_at.is_none() => {
                self.synced_at = Some(Instant::now());
                totals.synced.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Message::Update { update }) => {
                if let Some(rec) = rec {
                    rec.record(update, totals);
                }
            }
            Ok(Message::Awareness { update }) => {
                if let Some(rec) = rec {
                    rec.record(update, totals);
                }
            }
            // Auth replies, extensions, and other servers' own message types carry no deliveries.
            _ => {}
        }
        Ok(())
    }
}

struct Recorder {
    schedule: Schedule,
    received: HashMap<u32, Vec<u16>>,
    latency: Histogram<u64>,
    /// This client's sender index: its own messages echoed back are not deliveries.
    me: Option<u32>,
}

impl Recorder {
    fn record(&mut self, payload: &[u8], totals: &Totals) {
        let now = Instant::now();
        marker::scan(payload, |sender, seq| {
            if Some(sender) == self.me || seq >= self.schedule.count {
                return;
            }
            let counts = self
                .received
                .entry(sender)
                .or_insert_with(|| vec![0; self.schedule.count as usize]);
            let c = &mut counts[seq as usize];
            *c = c.saturating_add(1);
            if *c == 1 {
                totals.delivered.fetch_add(1, Ordering::Relaxed);
                let intended = self.schedule.intended(sender, seq);
                let micros = now.saturating_duration_since(intended).as_micros() as u64;
                let _ = self.latency.record(micros.max(1));
            }
        });
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
