//! Reconnect storm: every connection dropped and re-established at the same moment.

use super::*;
use crate::conn::Totals;
use crate::probe::{Sampler, Watch};
use crate::report::Report;
use std::time::Duration;
use tokio::time::Instant;

pub struct ReconnectParams {
    pub clients: u32,
    pub maps: u32,
}

/// Connects everyone, drops every connection at once, and measures how the server absorbs
/// everyone reconnecting and resyncing at the same moment.
pub async fn reconnect(run: &Run, p: &ReconnectParams) -> Report {
    let mut report = Report::new("reconnect", &run.label);
    report.param("clients", p.clients);
    report.param("maps", p.maps);
    let maps = p.maps.max(1);
    let totals = Totals::default();
    let first = connect_all(
        run,
        p.clients,
        |i| run.map(format_args!("storm-{}", i % maps)),
        false,
        &totals,
        &mut report,
    )
    .await;
    let connected = first.len();
    let (server, generator) = run.watches();
    let started = Instant::now();
    // Drop everything without a closing handshake, as a network failure or proxy restart would.
    for c in first {
        c.abort();
    }
    let totals = Totals::default();
    let storm = Run {
        connect_parallelism: p.clients as usize,
        ..run.clone()
    };
    let sampler = Sampler::start(server, Duration::from_millis(50));
    let again = connect_all(
        &storm,
        p.clients,
        |i| run.map(format_args!("storm-{}", i % maps)),
        false,
        &totals,
        &mut report,
    )
    .await;
    let server = sampler.finish().await;
    report.clients = again.len() as u64;
    report
        .extra
        .insert("connected before the storm".into(), connected as f64);
    report
        .extra
        .insert("resynced after the storm".into(), again.len() as f64);
    report.extra.insert(
        "storm duration (ms)".into(),
        started.elapsed().as_secs_f64() * 1000.0,
    );
    report.sync_ms = sync_times(&again);
    report.wall_seconds = started.elapsed().as_secs_f64();
    report.server = server;
    report.generator = generator.map(Watch::finish);
    report
}
