//! Fanout: editors of many maps sending small updates (also across nodes), many cursors in one
//! map, and the overload sweep that finds the highest rate the server sustains.

use super::*;
use crate::conn::{Payload, Totals};
use crate::report::Report;
use std::sync::Arc;
use std::time::Duration;

pub struct FanoutParams {
    pub maps: u32,
    pub editors: u32,
    /// Updates per second per editor.
    pub rate: f64,
    pub duration: Duration,
}

/// `maps` maps, each with `editors` editors sending small updates at `rate`; every update must reach
/// the map's other editors. With several targets, editors alternate between nodes (cross-node).
pub async fn fanout(run: &Run, p: &FanoutParams) -> Report {
    let name = if run.targets.len() > 1 {
        "cross-node"
    } else {
        "fanout"
    };
    let mut report = Report::new(name, &run.label);
    report.param("maps", p.maps);
    report.param("editors", p.editors);
    report.param("rate", p.rate);
    report.param("duration_s", p.duration.as_secs_f64());
    let totals = Arc::new(Totals::default());
    let editors = p.editors.max(1);
    let clients = connect_all(
        run,
        p.maps * editors,
        |i| run.map(format_args!("fanout-{}", i / editors)),
        true,
        &totals,
        &mut report,
    )
    .await;
    let ex = Exchange {
        per_map: editors,
        payload: Payload::Update,
        rate: p.rate,
        duration: p.duration,
    };
    exchange(run, name, clients, ex, totals, report).await
}

pub struct AwarenessParams {
    pub clients: u32,
    pub rate: f64,
    pub duration: Duration,
}

/// Many clients in one map, each moving its cursor (a presence update) at `rate`.
pub async fn awareness(run: &Run, p: &AwarenessParams) -> Report {
    let mut report = Report::new("awareness", &run.label);
    report.param("clients", p.clients);
    report.param("rate", p.rate);
    report.param("duration_s", p.duration.as_secs_f64());
    let totals = Arc::new(Totals::default());
    let clients = connect_all(
        run,
        p.clients,
        |_| run.map("awareness"),
        false,
        &totals,
        &mut report,
    )
    .await;
    let ex = Exchange {
        per_map: p.clients,
        payload: Payload::Awareness,
        rate: p.rate,
        duration: p.duration,
    };
    exchange(run, "awareness", clients, ex, totals, report).await
}

/// Sweeps fanout rates upwards until p99 latency exceeds `p99_limit_ms` or a delivery goes missing;
/// reports the highest delivery rate that passed and every step.
pub async fn overload(
    run: &Run,
    base: &FanoutParams,
    p99_limit_ms: f64,
    factor: f64,
    max_steps: u32,
) -> (Report, Vec<Report>) {
    let mut steps = Vec::new();
    let mut best: Option<Report> = None;
    let mut rate = base.rate;
    for step in 0..max_steps {
        // Each step uses fresh maps and client ids, or its updates would repeat the last step's.
        let step_run = Run {
            run_id: run.run_id + u64::from(step),
            ..run.clone()
        };
        let r = fanout(
            &step_run,
            &FanoutParams {
                maps: base.maps,
                editors: base.editors,
                rate,
                duration: base.duration,
            },
        )
        .await;
        let p99 = r.latency_ms.as_ref().map_or(f64::INFINITY, |l| l.p99);
        let ok = r.missing == 0 && r.errors == 0 && p99 <= p99_limit_ms;
        if run.progress {
            eprintln!(
                "[overload] rate {rate:.1}/s per editor: {:.0} deliveries/s, p99 {p99:.1} ms, missing {} -> {}",
                r.delivery_rate,
                r.missing,
                if ok { "pass" } else { "fail" }
            );
        }
        steps.push(r.clone());
        if !ok {
            break;
        }
        best = Some(r);
        rate *= factor;
    }
    let mut summary = best.unwrap_or_else(|| {
        let mut r = steps[0].clone();
        r.delivery_rate = 0.0;
        r
    });
    summary.scenario = "overload".into();
    summary.param("p99_limit_ms", p99_limit_ms);
    summary
        .extra
        .insert("sustained deliveries/s".into(), summary.delivery_rate);
    (summary, steps)
}
