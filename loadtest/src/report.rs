//! Results: one [`Report`] per run, printed as a table and written as JSON; several reports (one per
//! server) print side by side.

use crate::probe::ProcessUsage;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub count: u64,
}

impl Percentiles {
    /// From a histogram of microseconds, in milliseconds.
    pub fn from_micros(h: &Histogram<u64>) -> Option<Self> {
        (!h.is_empty()).then(|| Percentiles {
            p50: h.value_at_quantile(0.50) as f64 / 1000.0,
            p90: h.value_at_quantile(0.90) as f64 / 1000.0,
            p99: h.value_at_quantile(0.99) as f64 / 1000.0,
            p999: h.value_at_quantile(0.999) as f64 / 1000.0,
            max: h.max() as f64 / 1000.0,
            count: h.len(),
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub scenario: String,
    /// Which server this ran against.
    pub label: String,
    pub params: BTreeMap<String, serde_json::Value>,
    pub clients: u64,
    pub wall_seconds: f64,
    pub sent: u64,
    pub expected: u64,
    pub delivered: u64,
    pub missing: u64,
    pub duplicates: u64,
    /// Deliveries per second over the sending period.
    pub delivery_rate: f64,
    /// Delivery latency from the intended send time, in milliseconds.
    pub latency_ms: Option<Percentiles>,
    /// Time from connecting to holding the whole document, in milliseconds.
    pub sync_ms: Option<Percentiles>,
    pub errors: u64,
    pub error_samples: Vec<String>,
    pub server: Option<ProcessUsage>,
    pub generator: Option<ProcessUsage>,
    /// Scenario-specific figures (memory per connection, memory growth, ...).
    pub extra: BTreeMap<String, f64>,
}

impl Report {
    pub fn new(scenario: &str, label: &str) -> Self {
        Report {
            scenario: scenario.into(),
            label: label.into(),
            params: BTreeMap::new(),
            clients: 0,
            wall_seconds: 0.0,
            sent: 0,
            expected: 0,
            delivered: 0,
            missing: 0,
            duplicates: 0,
            delivery_rate: 0.0,
            latency_ms: None,
            sync_ms: None,
            errors: 0,
            error_samples: Vec::new(),
            server: None,
            generator: None,
            extra: BTreeMap::new(),
        }
    }

    pub fn param(&mut self, key: &str, value: impl Serialize) {
        self.params.insert(
            key.into(),
            serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
        );
    }

    pub fn error(&mut self, e: impl std::fmt::Display) {
        self.errors += 1;
        if self.error_samples.len() < 5 {
            self.error_samples.push(e.to_string());
        }
    }

    fn rows(&self) -> Vec<(String, String)> {
        let mut rows = vec![
            ("clients".to_string(), self.clients.to_string()),
            ("wall time (s)".into(), format!("{:.1}", self.wall_seconds)),
        ];
        if self.expected > 0 || self.sent > 0 {
            rows.push(("sent".into(), self.sent.to_string()));
            rows.push(("deliveries expected".into(), self.expected.to_string()));
            rows.push(("delivered".into(), self.delivered.to_string()));
            rows.push(("missing".into(), self.missing.to_string()));
            rows.push(("duplicates".into(), self.duplicates.to_string()));
            rows.push(("deliveries/s".into(), format!("{:.0}", self.delivery_rate)));
        }
        if let Some(l) = &self.latency_ms {
            rows.push(("latency p50 (ms)".into(), format!("{:.2}", l.p50)));
            rows.push(("latency p99 (ms)".into(), format!("{:.2}", l.p99)));
            rows.push(("latency max (ms)".into(), format!("{:.2}", l.max)));
        }
        if let Some(l) = &self.sync_ms {
            rows.push(("sync p50 (ms)".into(), format!("{:.1}", l.p50)));
            rows.push(("sync p99 (ms)".into(), format!("{:.1}", l.p99)));
            rows.push(("sync max (ms)".into(), format!("{:.1}", l.max)));
        }
        if let Some(s) = &self.server {
            rows.push(("server CPU (s)".into(), format!("{:.2}", s.cpu_seconds)));
            if let Some(system) = s.system_seconds {
                rows.push(("of it in the kernel (s)".into(), format!("{system:.2}")));
            }
            rows.push((
                "server CPU (% of a core)".into(),
                format!("{:.0}", s.cpu_percent),
            ));
            rows.push((
                "server RSS peak (MiB)".into(),
                format!("{:.1}", s.rss_peak_mib),
            ));
        }
        for (k, v) in &self.extra {
            rows.push((k.clone(), format!("{v:.1}")));
        }
        if let Some(g) = &self.generator {
            rows.push((
                "generator CPU (% of a core)".into(),
                format!("{:.0}", g.cpu_percent),
            ));
        }
        rows.push(("errors".into(), self.errors.to_string()));
        rows
    }

    /// The report as a two-column table.
    pub fn table(&self) -> String {
        table(std::slice::from_ref(self))
    }
}

/// Several reports of the same scenario side by side, one column per server.
pub fn table(reports: &[Report]) -> String {
    let mut keys: Vec<String> = Vec::new();
    let mut cols: Vec<BTreeMap<String, String>> = Vec::new();
    for r in reports {
        let rows = r.rows();
        for (k, _) in &rows {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        cols.push(rows.into_iter().collect());
    }
    let mut out = String::new();
    let scenario = reports.first().map_or("", |r| r.scenario.as_str());
    out.push_str(&format!("| {scenario} |"));
    for r in reports {
        out.push_str(&format!(" {} |", r.label));
    }
    out.push('\n');
    out.push_str(&"|---".repeat(reports.len() + 1));
    out.push_str("|\n");
    for k in keys {
        out.push_str(&format!("| {k} |"));
        for c in &cols {
            out.push_str(&format!(" {} |", c.get(&k).map_or("–", String::as_str)));
        }
        out.push('\n');
    }
    out
}
