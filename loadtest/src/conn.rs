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
use waymark_protocol::ext;
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
    /// A workshop participant's second: a cursor move (as `Awareness`, named `p<sender>`) and one
    /// more vote in the open dot-vote (PROTOCOL.md §9.2).
    Workshop,
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
    /// Workshop runs: receipts of each sender's votes (the state showing its count reach seq + 1).
    pub votes_received: HashMap<u32, Vec<u16>>,
    /// Workshop runs: latency of those receipts, in microseconds.
    pub vote_latency: Histogram<u64>,
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
        Self::connect_with(target, map, id, run_id, with_doc, None).await
    }

    /// As [`Self::connect`], asking for the extensions `ext` (`?ext=`).
    pub async fn connect_with(
        target: Arc<Target>,
        map: &str,
        id: u32,
        run_id: u64,
        with_doc: bool,
        ext: Option<&str>,
    ) -> anyhow::Result<Self> {
        // Below 2^53 so that JavaScript servers handle it exactly.
        let client_id = (run_id << 20 | u64::from(id & 0xF_FFFF)) & ((1 << 53) - 1);
        let connect_started = Instant::now();
        let url = match ext {
            Some(ext) => format!("{}?ext={ext}", target.url(map)),
            None => target.url(map),
        };
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
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
            votes: HashMap::new(),
            vote_latency: Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds"),
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
                        let mut failed = None;
                        for msg in self.make(sender, seq, payload) {
                            if let Err(e) = self.sink.feed(WsMessage::Binary(msg.into())).await {
                                failed = Some(format!("send failed: {e}"));
                            }
                        }
                        if let Err(e) = self.sink.flush().await {
                            failed = Some(format!("send failed: {e}"));
                        }
                        if failed.is_some() {
                            error = failed;
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
            votes_received: rec.votes,
            vote_latency: rec.vote_latency,
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

    /// Sends one workshop command now (outside any schedule).
    pub async fn send_workshop(&mut self, json: &str) -> anyhow::Result<()> {
        let msg = ext::encode_json(ext::MSG_WORKSHOP_COMMAND, json);
        let frame = self.target.frame(&self.map, &msg);
        self.sink.send(WsMessage::Binary(frame.into())).await?;
        Ok(())
    }

    /// Reads until a workshop state satisfying `cond` arrives.
    pub async fn wait_workshop(
        &mut self,
        totals: &Totals,
        mut cond: impl FnMut(&serde_json::Value) -> bool,
    ) -> anyhow::Result<()> {
        loop {
            let frame = match self.stream.next().await {
                Some(Ok(WsMessage::Binary(b))) => b,
                Some(Ok(WsMessage::Close(f))) => anyhow::bail!("closed: {f:?}"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => anyhow::bail!("connection ended"),
            };
            if let Some(state) = workshop_state(self.target.unframe(&frame))
                && cond(&state)
            {
                return Ok(());
            }
            self.handle(&frame, totals, None).await?;
        }
    }

    fn make(&mut self, sender: u32, seq: u32, payload: Payload) -> Vec<Vec<u8>> {
        let mark = marker::marker(sender, seq);
        let msgs = match payload {
            Payload::Update => {
                let doc = self.doc.as_ref().expect("senders have a document");
                let mut txn = doc.transact_mut();
                Editor::new(&mut txn)
                    .set_card_text(&self.card, &mark)
                    .expect("the editor's own card exists");
                vec![message::encode_update(&txn.encode_update_v1())]
            }
            Payload::Awareness => vec![self.presence(seq, &format!(r#"{{"cursor":"{mark}"}}"#))],
            // Named, so the server tells the participants' votes apart.
            Payload::Workshop => vec![
                self.presence(
                    seq,
                    &format!(r#"{{"user":{{"name":"p{sender}"}},"cursor":"{mark}"}}"#),
                ),
                ext::encode_json(
                    ext::MSG_WORKSHOP_COMMAND,
                    r#"{"op":"vote.cast","card":"card"}"#,
                ),
            ],
        };
        msgs.iter()
            .map(|m| self.target.frame(&self.map, m))
            .collect()
    }

    /// An awareness message setting this client's presence state to `json` (clock `seq + 1`).
    fn presence(&self, seq: u32, json: &str) -> Vec<u8> {
        let mut u = Vec::with_capacity(json.len() + 16);
        u.write_var(1u32);
        u.write_var(self.client_id);
        u.write_var(seq + 1);
        u.write_string(json);
        message::encode_awareness(&u)
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
            Ok(Message::Extension {
                tag: ext::MSG_WORKSHOP_STATE,
                ..
            }) => {
                if let (Some(rec), Some(state)) = (rec, workshop_state(msg)) {
                    rec.record_votes(&state, totals);
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
    votes: HashMap<u32, Vec<u16>>,
    vote_latency: Histogram<u64>,
}

/// The JSON of a workshop state message, if `msg` is one.
fn workshop_state(msg: &[u8]) -> Option<serde_json::Value> {
    let json = ext::decode_json(ext::MSG_WORKSHOP_STATE, msg)?;
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    (v["type"] == "state").then_some(v)
}

impl Recorder {
    /// A workshop state: sender `p<N>`'s count of votes reaching `c` delivers its votes up to
    /// seq `c - 1` (each second's vote adds one).
    fn record_votes(&mut self, state: &serde_json::Value, totals: &Totals) {
        let now = Instant::now();
        let Some(cast) = state["workshop"]["vote"]["votesCast"].as_object() else {
            return;
        };
        for (user, count) in cast {
            let (Some(sender), Some(count)) = (
                user.strip_prefix('p').and_then(|n| n.parse::<u32>().ok()),
                count.as_u64(),
            ) else {
                continue;
            };
            if Some(sender) == self.me {
                continue;
            }
            let counts = self
                .votes
                .entry(sender)
                .or_insert_with(|| vec![0; self.schedule.count as usize]);
            for seq in 0..(count as usize).min(counts.len()) {
                if counts[seq] == 0 {
                    counts[seq] = 1;
                    totals.delivered.fetch_add(1, Ordering::Relaxed);
                    let intended = self.schedule.intended(sender, seq as u32);
                    let micros = now.saturating_duration_since(intended).as_micros() as u64;
                    let _ = self.vote_latency.record(micros.max(1));
                }
            }
        }
    }

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
