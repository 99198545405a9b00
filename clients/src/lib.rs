//! An async client for Waymark maps, usable against any y-websocket server.
//!
//! A [`MapClient`] owns a yrs [`Doc`] that outlives its connections: edit the document with ordinary
//! yrs transactions and the client sends each change; remote changes are applied as they arrive.
//! [`MapClient::reconnect`] opens a new connection for the same document and resynchronises.
//! With `?ext=workshop` in the URL it takes part in the map's workshop: see [`workshop`] for the
//! commands, [`MapClient::send_workshop`] to send one and [`MapClient::workshop`] for the state.

pub mod workshop;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use waymark_protocol::ext;
use waymark_protocol::message::{self, Message};
use yrs::sync::{Awareness, AwarenessUpdate};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, Origin, ReadTxn, StateVector, Transact, Update};

/// Origin of transactions that apply remote changes, so they are not sent back.
const REMOTE: &str = "waymark-client:remote";

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the server refused the connection with HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("websocket error: {0}")]
    WebSocket(#[from] tungstenite::Error),
    #[error("timed out waiting for {0}")]
    Timeout(String),
    #[error("not connected")]
    NotConnected,
}

/// A frame to send as-is, bypassing the client's own protocol handling (for testing servers).
#[derive(Debug, Clone)]
pub enum RawFrame {
    Binary(Vec<u8>),
    Text(String),
}

/// How the server closed the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

#[derive(Default, Clone)]
pub struct Options {
    /// Use this document instead of a new one.
    pub doc: Option<Doc>,
    /// Keep every frame received, for inspection with [`MapClient::frames`].
    pub record_frames: bool,
}

#[derive(Default)]
struct State {
    /// Counts the connections opened; only the newest one's task may change what follows.
    connection: u64,
    out: Option<mpsc::UnboundedSender<WsMessage>>,
    synced: bool,
    closed: Option<Closed>,
    connected: bool,
    frames: Vec<Bytes>,
    undecodable: Vec<Bytes>,
    /// JSON of each event received (the `events` extension).
    events: Vec<String>,
    extensions: Option<Vec<String>>,
    updates_received: u64,
    /// Reasons of the permission-denied messages received.
    denied: Vec<String>,
    /// Every workshop message received (JSON), states and refusals.
    workshop: Vec<String>,
}

struct Inner {
    doc: Doc,
    awareness: Mutex<Awareness>,
    state: Mutex<State>,
    record: bool,
    /// Bumped on every received message and on disconnection; waiters re-check their condition.
    events: watch::Sender<u64>,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn awareness(&self) -> MutexGuard<'_, Awareness> {
        self.awareness.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn send(&self, frame: Vec<u8>) {
        if let Some(out) = &self.state().out {
            let _ = out.send(WsMessage::Binary(frame.into()));
        }
    }

    fn bump(&self) {
        self.events.send_modify(|n| *n += 1);
    }
}

pub struct MapClient {
    url: String,
    inner: Arc<Inner>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl MapClient {
    /// Connects to a map's WebSocket URL, e.g. `ws://127.0.0.1:8080/maps/onboarding`.
    pub async fn connect(url: impl Into<String>) -> Result<Self, ClientError> {
        Self::connect_with(url, Options::default()).await
    }

    pub async fn connect_with(
        url: impl Into<String>,
        options: Options,
    ) -> Result<Self, ClientError> {
        let doc = options.doc.unwrap_or_default();
        let inner = Arc::new(Inner {
            awareness: Mutex::new(Awareness::new(doc.clone())),
            doc,
            state: Mutex::new(State::default()),
            record: options.record_frames,
            events: watch::channel(0).0,
        });
        let weak = Arc::downgrade(&inner);
        inner
            .doc
            .observe_update_v1("waymark-client", move |txn, e| {
                let remote = txn.origin() == Some(&Origin::from(REMOTE));
                if let (false, Some(inner)) = (remote, weak.upgrade()) {
                    inner.send(message::encode_update(&e.update));
                }
            })
            .expect("a new document has no open transaction");
        let client = MapClient {
            url: url.into(),
            inner,
            task: Mutex::new(None),
        };
        client.open().await?;
        Ok(client)
    }

    async fn open(&self) -> Result<(), ClientError> {
        let (ws, _) =
            match tokio_tungstenite::connect_async_with_config(&self.url, None, true).await {
                Ok(ok) => ok,
                Err(tungstenite::Error::Http(res)) => {
                    let status = res.status().as_u16();
                    let body = res
                        .into_body()
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default();
                    return Err(ClientError::Http { status, body });
                }
                Err(e) => return Err(e.into()),
            };
        let (tx, rx) = mpsc::unbounded_channel();
        let connection = {
            let mut st = self.inner.state();
            st.connection += 1;
            st.out = Some(tx);
            st.synced = false;
            st.closed = None;
            st.connected = true;
            st.connection
        };
        let sv = self.inner.doc.transact().state_vector().encode_v1();
        self.inner.send(message::encode_sync_step1(&sv));
        let local = {
            let aw = self.inner.awareness();
            let id = aw.client_id();
            aw.local_state_raw()
                .and_then(|_| aw.update_with_clients([id]).ok())
        };
        if let Some(update) = local {
            self.inner
                .send(message::encode_awareness(&update.encode_v1()));
        }
        let task = tokio::spawn(run(ws, rx, Arc::clone(&self.inner), connection));
        *self.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        Ok(())
    }

    pub fn doc(&self) -> &Doc {
        &self.inner.doc
    }

    /// The journey map as it is in this client's document now (see `protocol/SCHEMA.md`).
    pub fn map(&self) -> waymark_protocol::schema::Read {
        waymark_protocol::schema::read(&self.inner.doc.transact())
    }

    /// Edits the map in one transaction, sent to the server as one update.
    pub fn edit<R>(&self, f: impl FnOnce(&mut waymark_protocol::schema::Editor) -> R) -> R {
        let mut txn = self.inner.doc.transact_mut();
        let mut editor = waymark_protocol::schema::Editor::new(&mut txn);
        f(&mut editor)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// This client's id in the document and in awareness.
    pub fn client_id(&self) -> u64 {
        self.inner.doc.client_id().get()
    }

    /// Waits until the server has answered this connection's SyncStep1: the document then holds
    /// everything the server had.
    pub async fn synced(&self, timeout: Duration) -> Result<(), ClientError> {
        self.wait_for(timeout, "initial sync", |c| c.inner.state().synced)
            .await
    }

    /// Publishes this client's presence (a JSON value).
    pub fn set_awareness(&self, json: &str) {
        let update = {
            let mut aw = self.inner.awareness();
            aw.set_local_state_raw(json);
            let id = aw.client_id();
            aw.update_with_clients([id])
        };
        if let Ok(update) = update {
            self.inner
                .send(message::encode_awareness(&update.encode_v1()));
        }
    }

    /// The presence states of other clients (client id → JSON), as this client knows them.
    pub fn peers(&self) -> HashMap<u64, String> {
        let aw = self.inner.awareness();
        let me = aw.client_id();
        aw.iter()
            .filter(|(id, _)| *id != me)
            .filter_map(|(id, s)| Some((id.get(), s.data?.to_string())))
            .collect()
    }

    /// Every frame received so far (when created with `record_frames`).
    pub fn frames(&self) -> Vec<Bytes> {
        self.inner.state().frames.clone()
    }

    /// Events received so far, as JSON (connect with `?ext=events` to get them).
    pub fn events(&self) -> Vec<String> {
        self.inner.state().events.clone()
    }

    /// The reasons of the permission-denied messages received (the server refused an edit).
    pub fn denied(&self) -> Vec<String> {
        self.inner.state().denied.clone()
    }

    /// Frames received that are not valid y-websocket messages.
    pub fn undecodable(&self) -> Vec<Bytes> {
        self.inner.state().undecodable.clone()
    }

    /// The extensions the server accepted, if this client asked for any (`?ext=` in the URL).
    pub fn extensions(&self) -> Option<Vec<String>> {
        self.inner.state().extensions.clone()
    }

    /// The workshop as the server last showed it to this client (`{"type":"state",…}`), if it
    /// negotiated the `workshop` extension and got a state.
    pub fn workshop(&self) -> Option<serde_json::Value> {
        self.workshop_messages()
            .iter()
            .rev()
            .filter_map(|m| serde_json::from_str::<serde_json::Value>(m).ok())
            .find(|v| v["type"] == "state")
    }

    /// Every workshop message received so far, as the JSON text sent: states and refused commands
    /// (`{"type":"error",…}`).
    pub fn workshop_messages(&self) -> Vec<String> {
        self.inner.state().workshop.clone()
    }

    /// The refused workshop commands so far.
    pub fn workshop_errors(&self) -> Vec<serde_json::Value> {
        self.workshop_messages()
            .iter()
            .filter_map(|m| serde_json::from_str::<serde_json::Value>(m).ok())
            .filter(|v| v["type"] == "error")
            .collect()
    }

    /// Sends a workshop command (see [`workshop`]).
    pub fn send_workshop(&self, command: &serde_json::Value) -> Result<(), ClientError> {
        let frame = ext::encode_json(ext::MSG_WORKSHOP_COMMAND, &command.to_string());
        self.send_raw(RawFrame::Binary(frame))
    }

    /// Waits until the workshop state satisfies `cond`.
    pub async fn wait_for_workshop(
        &self,
        timeout: Duration,
        what: &str,
        mut cond: impl FnMut(&serde_json::Value) -> bool,
    ) -> Result<serde_json::Value, ClientError> {
        self.wait_for(timeout, what, |c| c.workshop().is_some_and(|w| cond(&w)))
            .await?;
        self.workshop().ok_or(ClientError::NotConnected)
    }

    /// Number of document updates (SyncStep2 or Update) received.
    pub fn updates_received(&self) -> u64 {
        self.inner.state().updates_received
    }

    pub fn is_connected(&self) -> bool {
        self.inner.state().connected
    }

    /// How the server closed the current connection, if it did.
    pub fn closed(&self) -> Option<Closed> {
        self.inner.state().closed.clone()
    }

    /// Waits until the connection is closed and returns the server's close frame, if any.
    pub async fn wait_closed(&self, timeout: Duration) -> Result<Option<Closed>, ClientError> {
        self.wait_for(timeout, "the connection to close", |c| !c.is_connected())
            .await?;
        Ok(self.closed())
    }

    /// Waits until `cond` holds, re-checking whenever a message arrives or the connection drops.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        what: &str,
        mut cond: impl FnMut(&MapClient) -> bool,
    ) -> Result<(), ClientError> {
        let mut events = self.inner.events.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            events.borrow_and_update();
            if cond(self) {
                return Ok(());
            }
            tokio::select! {
                r = events.changed() => if r.is_err() { return Err(ClientError::NotConnected) },
                _ = tokio::time::sleep_until(deadline) => {
                    return if cond(self) { Ok(()) } else { Err(ClientError::Timeout(what.to_owned())) };
                }
            }
        }
    }

    /// Sends a frame as-is.
    pub fn send_raw(&self, frame: RawFrame) -> Result<(), ClientError> {
        let msg = match frame {
            RawFrame::Binary(b) => WsMessage::Binary(b.into()),
            RawFrame::Text(t) => WsMessage::Text(t.into()),
        };
        let st = self.inner.state();
        let out = st.out.as_ref().ok_or(ClientError::NotConnected)?;
        out.send(msg).map_err(|_| ClientError::NotConnected)
    }

    /// Closes the connection normally and waits for it to end. The document stays usable.
    pub async fn disconnect(&self) {
        let out = self.inner.state().out.take();
        if let Some(out) = out {
            let _ = out.send(WsMessage::Close(None));
        }
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    /// Drops the connection without a closing handshake, as a crashed client or lost network would.
    pub fn abort(&self) {
        self.inner.state().out = None;
        if let Some(task) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
        }
        self.inner.state().connected = false;
        self.inner.bump();
    }

    /// Opens a new connection for the same document (closing the current one, if any).
    pub async fn reconnect(&self) -> Result<(), ClientError> {
        self.disconnect().await;
        self.open().await
    }
}

impl Drop for MapClient {
    fn drop(&mut self) {
        if let Some(task) = self.task.get_mut().ok().and_then(Option::take) {
            task.abort();
        }
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Serves connection number `connection` until it ends. An aborted task may still be finishing a
/// poll on another thread while the next connection opens: what it receives or how it ends must
/// not touch the new connection's state (it once cleared the new connection's sender, which then
/// closed before it synced).
async fn run(
    ws: Ws,
    mut out: mpsc::UnboundedReceiver<WsMessage>,
    inner: Arc<Inner>,
    connection: u64,
) {
    let current = || inner.state().connection == connection;
    let (mut sink, mut stream) = ws.split();
    loop {
        tokio::select! {
                   msg = out.recv() => match msg {
                       Some(msg) => {
                           let closing = matches!(msg, WsMessage::Close(_));
                           if sink.send(msg).await.is_err() {
                               break;
                           }
                           if closing {
                               // Drain until the server's close frame arrives.
                               while let Some(Ok(m)) = stream.next().await {
                                   if let WsMessage::Close(f) = m {
                                       if current() {
        record_close(&inner, f);
        }
                                       break;
                                   }
                               }
                               break;
                           }
                       }
                       None => break,
                   },
                   frame = stream.next() => match frame {
                       Some(Ok(WsMessage::Binary(b))) if current() => handle(&inner, b),
                       Some(Ok(WsMessage::Close(f))) => {
                           if current() {
        record_close(&inner, f);
        }
                           break;
                       }
                       Some(Ok(_)) => {}
                       Some(Err(_)) | None => break,
                   },
               }
    }
    {
        let mut st = inner.state();
        if st.connection != connection {
            return;
        }
        st.connected = false;
        st.out = None;
    }
    inner.bump();
}

fn record_close(inner: &Inner, frame: Option<tungstenite::protocol::CloseFrame>) {
    if let Some(f) = frame {
        inner.state().closed = Some(Closed {
            code: u16::from(f.code),
            reason: f.reason.to_string(),
        });
    }
}

fn handle(inner: &Inner, frame: Bytes) {
    if inner.record {
        inner.state().frames.push(frame.clone());
    }
    match message::decode(&frame) {
        Ok(Message::SyncStep1 { state_vector }) => {
            if let Ok(sv) = StateVector::decode_v1(state_vector) {
                let diff = inner.doc.transact().encode_state_as_update_v1(&sv);
                inner.send(message::encode_sync_step2(&diff));
            }
        }
        Ok(Message::SyncStep2 { update }) => {
            apply(inner, update);
            inner.state().synced = true;
        }
        Ok(Message::Update { update }) => apply(inner, update),
        Ok(Message::Awareness { update }) => {
            if let Ok(update) = AwarenessUpdate::decode_v1(update) {
                let _ = inner.awareness().apply_update(update);
            }
        }
        Ok(Message::QueryAwareness) => {
            let update = inner.awareness().update();
            if let Ok(update) = update {
                inner.send(message::encode_awareness(&update.encode_v1()));
            }
        }
        Ok(Message::Auth { denied }) => {
            if let Some(reason) = denied {
                inner.state().denied.push(reason.to_owned());
            }
        }
        Ok(Message::Extension {
            tag: ext::MSG_EXTENSIONS,
            ..
        }) => {
            inner.state().extensions = ext::decode_accepted(&frame);
        }
        Ok(Message::Extension {
            tag: ext::MSG_EVENT,
            ..
        }) => match ext::decode_event(&frame) {
            Some(json) => inner.state().events.push(json),
            None => inner.state().undecodable.push(frame),
        },
        Ok(Message::Extension {
            tag: ext::MSG_WORKSHOP_STATE,
            ..
        }) => match ext::decode_json(ext::MSG_WORKSHOP_STATE, &frame) {
            Some(json) => inner.state().workshop.push(json.to_owned()),
            None => inner.state().undecodable.push(frame),
        },
        Ok(Message::Extension { .. }) | Err(_) => inner.state().undecodable.push(frame),
    }
    inner.bump();
}

fn apply(inner: &Inner, update: &[u8]) {
    inner.state().updates_received += 1;
    if let Ok(update) = Update::decode_v1(update) {
        let mut txn = inner.doc.transact_mut_with(REMOTE);
        let _ = txn.apply_update(update);
    }
}
