//! Fan-out between the nodes of a cluster through Redis pub/sub: each loaded map subscribes to its
//! own channel, publishes its clients' updates and presence there, and receives the other nodes'.
//!
//! Pub/sub is at-most-once, so the shared store stays the source of truth and this module only has
//! to tell a room when it may have missed something; the room then re-reads the map from the store
//! (a "resync"). That happens when:
//! - the subscription connection was lost: once it is back and a map's channel is subscribed again;
//! - a sender's per-room sequence number jumps (a message was dropped somewhere);
//! - the first message heard from a sender's room is not its first: a message it failed to publish
//!   after we subscribed would otherwise go unnoticed;
//! - a sender announces (a `Hello`) that it has published more than we saw, which it does after
//!   its own publishes failed;
//! - this node's inbox for the room overflowed.
//!
//! Ordering relied on (with the room's "store, then publish" rule): a room subscribes to its channel
//! and waits for Redis to confirm before it loads the map from the store. Any update another node
//! published after that confirmation reaches us through the channel; any update published before
//! it was already durable (nodes publish only after their store commit returned), so the load that
//! follows sees it. Applying an update twice is harmless, so the overlap needs no care.
//!
//! A resync reads only what was stored after the room's last read (`Store::load_after`): a map's
//! updates take their sequence numbers under the map's row lock and commit in that order, so
//! anything missed since is numbered higher than what that read saw.

pub mod wire;

use crate::metrics::Metrics;
use bytes::Bytes;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, PushInfo, PushKind, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, info, info_span, warn};
use waymark_protocol::MapId;
use wire::{Envelope, Kind};

use crate::metrics::KindLabel;

/// Messages waiting for one room before the inbox counts as overflowed (and the room resyncs).
const ROOM_INBOX: usize = 4096;
/// Pushes from Redis waiting for the dispatcher.
const PUSH_QUEUE: usize = 65_536;
/// Messages waiting to be published.
const PUBLISH_QUEUE: usize = 65_536;
/// Most messages sent in one pipeline.
const PUBLISH_BATCH: usize = 512;
/// How often the connection is checked (and, while Redis is away, how often reconnection is tried).
const HEALTH_EVERY: Duration = Duration::from_millis(500);
/// Longest a map's load waits for Redis to confirm its subscription; after that it is served
/// locally and subscribed by the health loop once Redis answers.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What a room hears from the other nodes.
#[derive(Debug)]
pub enum Remote {
    /// A Yjs v1 update another node applied and stored.
    Update(Bytes),
    /// An awareness update from another node's clients.
    Awareness(Bytes),
    /// Another node loaded the map or re-synchronised: answer with our clients' presence.
    Hello,
    /// The map was deleted through another node.
    Deleted,
    /// An event for clients of the `events` extension (JSON).
    Event(Bytes),
    /// Workshop state entries another node stored (JSON).
    Workshop(Bytes),
    /// Something may have been missed: re-read the map from the store.
    Resync(&'static str),
}

/// A room's subscription: its inbox, and a flag raised when the inbox overflowed.
pub struct Subscription {
    pub rx: mpsc::Receiver<Remote>,
    pub overflowed: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("invalid Redis URL: {0}")]
    Url(String),
    #[error("cannot connect to Redis: {0}")]
    Connect(String),
}

struct Route {
    generation: u64,
    tx: mpsc::Sender<Remote>,
    overflowed: Arc<AtomicBool>,
    /// Redis has confirmed the subscription on the current connection.
    subscribed: bool,
    /// Resync once the subscription is confirmed again (the connection was lost meanwhile).
    resync_on_subscribe: bool,
    /// Last sequence number seen from each (node, room incarnation).
    senders: HashMap<(String, u64), u64>,
}

impl Route {
    fn tell(&self, msg: Remote) {
        if self.tx.try_send(msg).is_err() {
            // A full inbox: the room catches up by re-reading the store instead.
            self.overflowed.store(true, Ordering::Release);
        }
    }

    /// Records a sender's sequence number; says why to resync if something from it may have been
    /// missed.
    fn missed(&mut self, env: &Envelope) -> Option<&'static str> {
        let key = (env.node.clone(), env.incarnation);
        // The sequence number of the last message sent up to and including this one.
        let sent = env.seq;
        let hello = env.kind == Kind::Hello;
        match self.senders.get_mut(&key) {
            // First word from this room. Whatever it published before we subscribed is in the
            // store we loaded from, but a message it failed to publish after that is not: only a
            // re-read (after this message, so after that message's commit) covers it.
            None => {
                self.senders.insert(key, sent);
                let earlier = if hello { sent > 0 } else { sent > 1 };
                earlier.then_some("first_contact")
            }
            Some(last) => {
                let gap = if hello {
                    sent > *last
                } else {
                    sent > *last + 1
                };
                *last = (*last).max(sent);
                gap.then_some("gap")
            }
        }
    }
}

struct ClusterMetrics {
    messages: Family<KindLabel, Counter>,
    connected: Gauge,
}

impl ClusterMetrics {
    fn count(&self, kind: &'static str, n: u64) {
        self.messages.get_or_create(&KindLabel { kind }).inc_by(n);
    }
}

struct Inner {
    node: String,
    routes: Mutex<HashMap<String, Route>>,
    /// Serialises SUBSCRIBE and UNSUBSCRIBE: a room unloading must not unsubscribe the channel a
    /// new room of the same map has just subscribed.
    subscribing: tokio::sync::Mutex<()>,
    sub: ConnectionManager,
    publish: Mutex<Option<mpsc::Sender<(String, Bytes)>>>,
    /// Channels whose last publishes failed, with the (incarnation, seq) of the last one: once Redis
    /// is back, a `Hello` tells the other nodes how far we got.
    failed: Mutex<HashMap<String, (u64, u64)>>,
    connected: AtomicBool,
    metrics: ClusterMetrics,
}

/// This node's membership in a cluster. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl Cluster {
    /// Connects to Redis and starts the dispatcher, publisher and health tasks.
    pub async fn connect(url: &str, node: String, metrics: &Metrics) -> Result<Self, ClusterError> {
        // Push messages (and so pub/sub over a ConnectionManager) need RESP3.
        let url = if url.contains("protocol=") {
            url.to_owned()
        } else if url.contains('?') {
            format!("{url}&protocol=resp3")
        } else {
            format!("{url}?protocol=resp3")
        };
        let info = url
            .as_str()
            .into_connection_info()
            .map_err(|e| ClusterError::Url(e.to_string()))?;
        // Messages are small and latency-bound: Nagle's algorithm would hold a publish back until
        // the previous one is acknowledged.
        let tcp = info.tcp_settings().clone().set_nodelay(true);
        let client = redis::Client::open(info.set_tcp_settings(tcp))
            .map_err(|e| ClusterError::Url(e.to_string()))?;
        let (push_tx, push_rx) = mpsc::channel::<PushInfo>(PUSH_QUEUE);
        let push_overflow = Arc::new(AtomicBool::new(false));
        let overflow = Arc::clone(&push_overflow);
        let settings = || {
            ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(2)))
                .set_response_timeout(Some(Duration::from_secs(5)))
                .set_number_of_retries(2)
                .set_max_delay(Duration::from_secs(1))
        };
        let sub_config = settings()
            .set_push_sender(move |info: PushInfo| {
                // Must not block the connection: a full queue means resync everything instead.
                if push_tx.try_send(info).is_err() {
                    overflow.store(true, Ordering::Release);
                }
                Ok::<(), ()>(())
            })
            .set_automatic_resubscription();
        let sub = client
            .get_connection_manager_with_config(sub_config)
            .await
            .map_err(|e| ClusterError::Connect(e.to_string()))?;
        let publisher = client
            .get_connection_manager_with_config(settings())
            .await
            .map_err(|e| ClusterError::Connect(e.to_string()))?;
        let (publish_tx, publish_rx) = mpsc::channel(PUBLISH_QUEUE);
        let cluster_metrics = ClusterMetrics {
            messages: metrics.cluster_messages.clone(),
            connected: metrics.redis_connected.clone(),
        };
        cluster_metrics.connected.set(1);
        let inner = Arc::new(Inner {
            node,
            routes: Mutex::new(HashMap::new()),
            subscribing: tokio::sync::Mutex::new(()),
            sub,
            publish: Mutex::new(Some(publish_tx)),
            failed: Mutex::new(HashMap::new()),
            connected: AtomicBool::new(true),
            metrics: cluster_metrics,
        });
        let cluster = Cluster {
            inner,
            tracker: TaskTracker::new(),
            stop: CancellationToken::new(),
        };
        let span = info_span!("cluster", node_id = %cluster.inner.node);
        cluster.tracker.spawn(
            dispatch(
                Arc::clone(&cluster.inner),
                push_rx,
                push_overflow,
                cluster.stop.clone(),
            )
            .instrument(span.clone()),
        );
        cluster.tracker.spawn(
            publish(Arc::clone(&cluster.inner), publisher, publish_rx).instrument(span.clone()),
        );
        cluster
            .tracker
            .spawn(health(Arc::clone(&cluster.inner), cluster.stop.clone()).instrument(span));
        info!(node_id = %cluster.inner.node, "joined the cluster");
        Ok(cluster)
    }

    pub fn node(&self) -> &str {
        &self.inner.node
    }

    /// Whether the subscription connection to Redis is up.
    pub fn connected(&self) -> bool {
        self.inner.connected.load(Ordering::Acquire)
    }

    /// Subscribes room `generation` to `map`'s channel. Returns once Redis has confirmed the
    /// subscription, or, if Redis is unreachable, at once with the subscription pending: it is made
    /// when Redis is back, and the room then re-reads the map.
    pub async fn join(&self, map: &MapId, generation: u64) -> Subscription {
        let channel = wire::channel(map.as_str());
        let (tx, rx) = mpsc::channel(ROOM_INBOX);
        let overflowed = Arc::new(AtomicBool::new(false));
        let _serial = self.inner.subscribing.lock().await;
        self.inner.lock_routes().insert(
            channel.clone(),
            Route {
                generation,
                tx,
                overflowed: Arc::clone(&overflowed),
                subscribed: false,
                resync_on_subscribe: false,
                senders: HashMap::new(),
            },
        );
        // While Redis is known to be away, don't make every map load wait for it.
        let subscribed = if self.connected() {
            let mut sub = self.inner.sub.clone();
            match tokio::time::timeout(SUBSCRIBE_TIMEOUT, sub.subscribe(&channel)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("no answer from Redis".to_owned()),
            }
        } else {
            Err("Redis is unreachable".to_owned())
        };
        if let Some(r) = self.inner.lock_routes().get_mut(&channel) {
            match subscribed {
                Ok(()) => r.subscribed = true,
                Err(e) => {
                    warn!(error = %e, map_id = %map, "cannot subscribe; serving locally until Redis is back");
                    r.resync_on_subscribe = true;
                }
            }
        }
        Subscription { rx, overflowed }
    }

    /// Unsubscribes room `generation` from `map`, unless a newer room of the map took over.
    pub async fn leave(&self, map: &MapId, generation: u64) {
        let channel = wire::channel(map.as_str());
        let _serial = self.inner.subscribing.lock().await;
        {
            let mut routes = self.inner.lock_routes();
            if routes
                .get(&channel)
                .is_none_or(|r| r.generation != generation)
            {
                return;
            }
            routes.remove(&channel);
        }
        // Messages for a channel without a route are ignored, so a failed or skipped UNSUBSCRIBE
        // costs only traffic; it must not hold up the unload while Redis is away.
        if self.connected() {
            let mut sub = self.inner.sub.clone();
            match tokio::time::timeout(SUBSCRIBE_TIMEOUT, sub.unsubscribe(&channel)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => debug!(error = %e, map_id = %map, "cannot unsubscribe"),
                Err(_) => debug!(map_id = %map, "cannot unsubscribe: no answer from Redis"),
            }
        }
    }

    /// Queues a message for the other nodes. Never waits: if the queue is full the message is
    /// dropped and the others learn of the gap from the next `Hello`.
    pub fn publish(&self, map: &MapId, kind: Kind, incarnation: u64, seq: u64, payload: &[u8]) {
        let channel = wire::channel(map.as_str());
        let msg = wire::encode(kind, &self.inner.node, incarnation, seq, payload);
        let sent = match &*self.inner.publish.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(tx) => tx.try_send((channel.clone(), msg.clone())).is_ok(),
            None => return,
        };
        if !sent {
            self.inner.metrics.count("publish_failed", 1);
            self.inner.record_failed(&[(channel, msg)]);
        }
    }

    /// Sends an event to the other nodes' clients of `map` (outside any room's sequence).
    pub fn publish_event(&self, map: &MapId, json: &str) {
        self.publish(map, Kind::Event, 0, 0, json.as_bytes());
    }

    /// Stops the cluster tasks once every room is gone: what rooms published while shutting down is
    /// sent first.
    pub async fn close(&self) {
        self.inner
            .publish
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        self.stop.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

impl Inner {
    fn lock_routes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Route>> {
        // Only short, non-panicking sections run under this lock.
        self.routes.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record_failed(&self, msgs: &[(String, Bytes)]) {
        let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        for (channel, msg) in msgs {
            if let Ok(env) = wire::decode(msg.clone()) {
                let e = failed
                    .entry(channel.clone())
                    .or_insert((env.incarnation, 0));
                if env.incarnation == e.0 {
                    e.1 = e.1.max(env.seq);
                } else {
                    *e = (env.incarnation, env.seq);
                }
            }
        }
    }

    fn resync_all(&self, reason: &'static str) {
        for route in self.lock_routes().values() {
            route.tell(Remote::Resync(reason));
        }
    }

    fn set_connected(&self, up: bool) {
        if self.connected.swap(up, Ordering::AcqRel) != up {
            self.metrics.connected.set(up.into());
            if up {
                info!("Redis connection is back");
            } else {
                warn!("lost the Redis connection; serving local clients, will resync every map");
            }
        }
    }
}

/// Routes what Redis pushes to the rooms.
async fn dispatch(
    inner: Arc<Inner>,
    mut pushes: mpsc::Receiver<PushInfo>,
    overflow: Arc<AtomicBool>,
    stop: CancellationToken,
) {
    loop {
        let push = tokio::select! {
            _ = stop.cancelled() => return,
            push = pushes.recv() => match push {
                Some(p) => p,
                None => return,
            },
        };
        if overflow.swap(false, Ordering::AcqRel) {
            warn!("too many messages from Redis queued; resyncing every map");
            inner.resync_all("push_overflow");
        }
        match push.kind {
            PushKind::Message => on_message(&inner, push.data),
            PushKind::Disconnection => {
                inner.set_connected(false);
                for route in inner.lock_routes().values_mut() {
                    route.subscribed = false;
                    route.resync_on_subscribe = true;
                }
            }
            PushKind::Subscribe => {
                inner.set_connected(true);
                let Some(channel) = push.data.first().and_then(as_string) else {
                    continue;
                };
                if let Some(route) = inner.lock_routes().get_mut(&channel) {
                    route.subscribed = true;
                    if std::mem::take(&mut route.resync_on_subscribe) {
                        route.tell(Remote::Resync("resubscribed"));
                    }
                }
            }
            _ => {}
        }
    }
}

fn on_message(inner: &Inner, data: Vec<Value>) {
    let mut data = data.into_iter();
    let (Some(channel), Some(Value::BulkString(payload))) = (data.next(), data.next()) else {
        return;
    };
    let Some(channel) = as_string(&channel) else {
        return;
    };
    let env = match wire::decode(Bytes::from(payload)) {
        Ok(env) => env,
        Err(e) => {
            warn!(error = %e, %channel, "ignoring a malformed cluster message");
            inner.metrics.count("malformed", 1);
            return;
        }
    };
    if env.node == inner.node {
        return;
    }
    inner.metrics.count("received", 1);
    let mut routes = inner.lock_routes();
    let Some(route) = routes.get_mut(&channel) else {
        return;
    };
    if env.kind == Kind::Event {
        route.tell(Remote::Event(env.payload));
        return;
    }
    if let Some(reason) = route.missed(&env) {
        debug!(from = %env.node, incarnation = env.incarnation, seq = env.seq, %channel, reason, "may have missed messages; resyncing");
        route.tell(Remote::Resync(reason));
    }
    route.tell(match env.kind {
        Kind::Update => Remote::Update(env.payload),
        Kind::Awareness => Remote::Awareness(env.payload),
        Kind::Hello => Remote::Hello,
        Kind::Deleted => Remote::Deleted,
        Kind::Workshop => Remote::Workshop(env.payload),
        Kind::Event => return,
    });
}

fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// Sends queued messages in pipelines, in order; failed ones are remembered for a later `Hello`.
async fn publish(
    inner: Arc<Inner>,
    mut conn: ConnectionManager,
    mut rx: mpsc::Receiver<(String, Bytes)>,
) {
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    while rx.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for (channel, msg) in &batch {
            pipe.publish(channel, msg.as_ref()).ignore();
        }
        match pipe.exec_async(&mut conn).await {
            Ok(()) => {
                inner.metrics.count("published", batch.len() as u64);
                announce_failed(&inner, &mut conn).await;
            }
            Err(e) => {
                warn!(error = %e, messages = batch.len(), "cannot publish; other nodes will resync");
                inner.metrics.count("publish_failed", batch.len() as u64);
                inner.record_failed(&batch);
            }
        }
        batch.clear();
    }
}

/// After publishes failed, tells the other nodes how far each room got, so they re-read what they
/// missed.
async fn announce_failed(inner: &Inner, conn: &mut ConnectionManager) {
    let failed = std::mem::take(&mut *inner.failed.lock().unwrap_or_else(|e| e.into_inner()));
    if failed.is_empty() {
        return;
    }
    let mut pipe = redis::pipe();
    for (channel, (incarnation, seq)) in &failed {
        let hello = wire::encode(Kind::Hello, &inner.node, *incarnation, *seq, &[]);
        pipe.publish(channel, hello.as_ref()).ignore();
    }
    if let Err(e) = pipe.exec_async(conn).await {
        debug!(error = %e, "cannot announce failed publishes yet");
        let mut again = inner.failed.lock().unwrap_or_else(|e| e.into_inner());
        for (channel, v) in failed {
            again.entry(channel).or_insert(v);
        }
    } else {
        info!(
            maps = failed.len(),
            "told the other nodes about publishes they missed"
        );
    }
}

/// Pings Redis on the subscription connection: that notices a dead connection, and while Redis is
/// away it is what makes the connection manager try again. Once the connection is back, channels
/// whose subscription failed are subscribed again.
async fn health(inner: Arc<Inner>, stop: CancellationToken) {
    let mut tick = tokio::time::interval(HEALTH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let mut sub = inner.sub.clone();
        let up = redis::cmd("PING").query_async::<()>(&mut sub).await.is_ok();
        inner.set_connected(up);
        if !up {
            continue;
        }
        let pending: Vec<String> = inner
            .lock_routes()
            .iter()
            .filter(|(_, r)| !r.subscribed)
            .map(|(c, _)| c.clone())
            .collect();
        if !pending.is_empty() {
            let _serial = inner.subscribing.lock().await;
            for channel in pending {
                if !inner.lock_routes().contains_key(&channel) {
                    continue;
                }
                if !matches!(
                    tokio::time::timeout(SUBSCRIBE_TIMEOUT, sub.subscribe(&channel)).await,
                    Ok(Ok(()))
                ) {
                    debug!(%channel, "cannot subscribe yet");
                    break;
                }
            }
        }
        // Failed publishes are announced by the publisher after its next success; when nothing
        // else is being published, do it from here.
        let has_failed = !inner
            .failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty();
        if has_failed {
            announce_failed(&inner, &mut sub).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route() -> Route {
        let (tx, _rx) = mpsc::channel(1);
        Route {
            generation: 0,
            tx,
            overflowed: Arc::new(AtomicBool::new(false)),
            subscribed: true,
            resync_on_subscribe: false,
            senders: HashMap::new(),
        }
    }

    fn env(kind: Kind, node: &str, incarnation: u64, seq: u64) -> Envelope {
        Envelope {
            kind,
            node: node.into(),
            incarnation,
            seq,
            payload: Bytes::new(),
        }
    }

    #[test]
    fn sequence_numbers_reveal_missed_messages() {
        let mut r = route();
        // A room that just loaded: its hello (nothing sent yet) and first update.
        assert_eq!(r.missed(&env(Kind::Hello, "a", 1, 0)), None);
        assert_eq!(r.missed(&env(Kind::Update, "a", 1, 1)), None);
        assert_eq!(r.missed(&env(Kind::Update, "a", 1, 2)), None);
        // A repeat is harmless; a jump is a gap.
        assert_eq!(r.missed(&env(Kind::Update, "a", 1, 2)), None);
        assert_eq!(r.missed(&env(Kind::Awareness, "a", 1, 4)), Some("gap"));
        // A hello saying more was sent than we saw.
        assert_eq!(r.missed(&env(Kind::Hello, "a", 1, 4)), None);
        assert_eq!(r.missed(&env(Kind::Hello, "a", 1, 6)), Some("gap"));
        // First word from a room that had already sent messages: re-read once.
        assert_eq!(
            r.missed(&env(Kind::Update, "b", 7, 40)),
            Some("first_contact")
        );
        assert_eq!(r.missed(&env(Kind::Update, "b", 7, 41)), None);
        // A new incarnation of the same node is a different room.
        assert_eq!(r.missed(&env(Kind::Update, "a", 2, 1)), None);
    }
}
