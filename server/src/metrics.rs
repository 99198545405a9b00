//! Prometheus metrics of one server instance, rendered at `GET /metrics`.
//!
//! Each server owns its registry (rather than a process-global recorder) so that several servers in
//! one test process report their own figures.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use waymark_protocol::MessageKind;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TypeLabel {
    pub r#type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: &'static str,
}

/// A message kind's two counters, resolved once: the per-message path then costs two atomic adds
/// instead of two labelled look-ups.
struct KindCounters {
    messages: Counter,
    bytes: Counter,
}

/// The outbound message counters, shared with every connection's send half (one pointer each).
#[derive(Clone)]
pub struct Outbound(std::sync::Arc<Vec<KindCounters>>);

impl Outbound {
    pub fn count(&self, kind: MessageKind, bytes: usize) {
        let c = &self.0[kind.index()];
        c.messages.inc();
        c.bytes.inc_by(bytes as u64);
    }
}

fn per_kind(
    messages: &Family<TypeLabel, Counter>,
    bytes: &Family<TypeLabel, Counter>,
) -> Vec<KindCounters> {
    MessageKind::ALL
        .iter()
        .map(|k| {
            let label = TypeLabel { r#type: k.label() };
            KindCounters {
                messages: messages.get_or_create(&label).clone(),
                bytes: bytes.get_or_create(&label).clone(),
            }
        })
        .collect()
}

pub struct Metrics {
    registry: Registry,
    inbound: Vec<KindCounters>,
    outbound: Outbound,
    pub connections: Gauge,
    pub maps_loaded: Gauge,
    pub messages_in: Family<TypeLabel, Counter>,
    pub bytes_in: Family<TypeLabel, Counter>,
    pub messages_out: Family<TypeLabel, Counter>,
    pub bytes_out: Family<TypeLabel, Counter>,
    pub update_apply_seconds: Histogram,
    pub store_commit_seconds: Histogram,
    pub errors: Family<KindLabel, Counter>,
    /// Cluster messages, by what happened to them (published, received, publish_failed, malformed).
    pub cluster_messages: Family<KindLabel, Counter>,
    /// Maps re-read from the store because cluster messages may have been missed, by reason.
    pub map_resyncs: Family<KindLabel, Counter>,
    /// Bytes read from the store by those resyncs.
    pub map_resync_bytes: Counter,
    /// 1 while the cluster's Redis subscription connection is up (always 0 on a single node).
    pub redis_connected: Gauge,
    pub limits_hit: Family<LimitLabel, Counter>,
    pub auth_refused: Family<ReasonLabel, Counter>,
    /// Time to produce an export, by format.
    pub export_seconds: Family<FormatLabel, Histogram, fn() -> Histogram>,
    /// Poster renders running now.
    pub exports_running: Gauge,
    /// Peak resident memory of the process, sampled when an export ends (bytes).
    pub export_peak_memory: Gauge,
}

/// 1 ms .. ~65 s.
fn export_histogram() -> Histogram {
    Histogram::new(exponential_buckets(1e-3, 2.0, 17))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FormatLabel {
    pub format: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabel {
    pub limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("waymark");
        let m = Metrics {
            connections: Gauge::default(),
            maps_loaded: Gauge::default(),
            messages_in: Family::default(),
            bytes_in: Family::default(),
            messages_out: Family::default(),
            bytes_out: Family::default(),
            // 10 µs .. ~0.16 s
            update_apply_seconds: Histogram::new(exponential_buckets(1e-5, 2.0, 15)),
            // 50 µs .. ~1.6 s
            store_commit_seconds: Histogram::new(exponential_buckets(5e-5, 2.0, 16)),
            errors: Family::default(),
            cluster_messages: Family::default(),
            map_resyncs: Family::default(),
            map_resync_bytes: Counter::default(),
            redis_connected: Gauge::default(),
            limits_hit: Family::default(),
            auth_refused: Family::default(),
            export_seconds: Family::new_with_constructor(export_histogram),
            exports_running: Gauge::default(),
            export_peak_memory: Gauge::default(),
            registry: Registry::default(),
            inbound: Vec::new(),
            outbound: Outbound(Default::default()),
        };
        registry.register(
            "connections",
            "Open WebSocket connections",
            m.connections.clone(),
        );
        registry.register(
            "export_seconds",
            "Time to produce an export, by format",
            m.export_seconds.clone(),
        );
        registry.register(
            "exports_running",
            "Poster exports (svg, png, pdf) being rendered now",
            m.exports_running.clone(),
        );
        registry.register(
            "export_peak_memory_bytes",
            "Peak resident memory of the process, as sampled when an export ends",
            m.export_peak_memory.clone(),
        );
        registry.register(
            "maps_loaded",
            "Map documents held in memory",
            m.maps_loaded.clone(),
        );
        registry.register(
            "messages_in",
            "Messages received from clients, by type",
            m.messages_in.clone(),
        );
        registry.register(
            "bytes_in",
            "Bytes received from clients, by message type",
            m.bytes_in.clone(),
        );
        registry.register(
            "messages_out",
            "Messages sent to clients, by type",
            m.messages_out.clone(),
        );
        registry.register(
            "bytes_out",
            "Bytes sent to clients, by message type",
            m.bytes_out.clone(),
        );
        registry.register(
            "update_apply_seconds",
            "Time to apply one document update",
            m.update_apply_seconds.clone(),
        );
        registry.register(
            "store_commit_seconds",
            "Time for a batch of updates to become durable",
            m.store_commit_seconds.clone(),
        );
        registry.register(
            "errors",
            "Errors, by kind (bad input, slow consumers, storage failures...)",
            m.errors.clone(),
        );
        registry.register(
            "cluster_messages",
            "Messages exchanged with other nodes through Redis, by outcome",
            m.cluster_messages.clone(),
        );
        registry.register(
            "map_resyncs",
            "Maps re-read from the shared store because cluster messages may have been missed, by reason",
            m.map_resyncs.clone(),
        );
        registry.register(
            "map_resync_bytes",
            "Bytes read from the shared store by resyncs (what was stored since the map was last read)",
            m.map_resync_bytes.clone(),
        );
        registry.register(
            "limits_hit",
            "Clients refused or disconnected for exceeding a limit, by limit",
            m.limits_hit.clone(),
        );
        registry.register(
            "auth_refused",
            "Requests and messages refused by access control, by reason",
            m.auth_refused.clone(),
        );
        registry.register(
            "redis_connected",
            "1 while the connection to Redis is up (cluster mode only)",
            m.redis_connected.clone(),
        );
        let inbound = per_kind(&m.messages_in, &m.bytes_in);
        let outbound = per_kind(&m.messages_out, &m.bytes_out);
        Metrics {
            registry,
            inbound,
            outbound: Outbound(std::sync::Arc::new(outbound)),
            ..m
        }
    }

    pub fn error(&self, kind: &'static str) {
        self.errors.get_or_create(&KindLabel { kind }).inc();
    }

    /// A client hit `limit` (and was refused or disconnected).
    pub fn limit(&self, limit: &'static str) {
        self.limits_hit.get_or_create(&LimitLabel { limit }).inc();
    }

    /// Access control refused something, for `reason` (an `AuthError` code, or `read_only`).
    pub fn refused(&self, reason: &'static str) {
        self.auth_refused
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    pub fn message_in(&self, kind: MessageKind, bytes: usize) {
        let c = &self.inbound[kind.index()];
        c.messages.inc();
        c.bytes.inc_by(bytes as u64);
    }

    /// What connections count the messages they send with.
    pub fn outbound(&self) -> Outbound {
        self.outbound.clone()
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
