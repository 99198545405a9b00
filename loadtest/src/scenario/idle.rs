//! Idle: many open connections doing nothing, and what they cost the server.

use super::*;
use crate::conn::{Schedule, Totals};
use crate::probe::{self, Watch};
use crate::report::Report;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub struct IdleParams {
    pub connections: u32,
    pub maps: u32,
    pub hold: Duration,
}

/// Holds `connections` open (spread over `maps`) and measures what they cost the server.
pub async fn idle(run: &Run, p: &IdleParams) -> Report {
    let mut report = Report::new("idle", &run.label);
    report.param("connections", p.connections);
    report.param("maps", p.maps);
    report.param("hold_s", p.hold.as_secs_f64());
    let (server, generator) = run.watches();
    let started = Instant::now();
    let rss_before = probe::sample_all(&run.server_pids).map(|s| s.rss_bytes);
    let totals = Arc::new(Totals::default());
    let maps = p.maps.max(1);
    let progress = spawn_progress(run, "idle", Arc::clone(&totals), CancellationToken::new());
    let clients = connect_all(
        run,
        p.connections,
        |i| run.map(format_args!("idle-{}", i % maps)),
        false,
        &totals,
        &mut report,
    )
    .await;
    if let Some(p) = progress {
        p.abort();
    }
    report.clients = clients.len() as u64;
    let stop = CancellationToken::new();
    let schedule = Schedule {
        start: Instant::now(),
        rate: 1.0,
        senders: 1,
        count: 0,
    };
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|c| {
            tokio::spawn(c.run(
                Arc::clone(&totals),
                schedule,
                None,
                stop.clone(),
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after = probe::sample_all(&run.server_pids).map(|s| s.rss_bytes);
    let mut server = server;
    let hold_end = Instant::now() + p.hold;
    while Instant::now() < hold_end {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Some(w) = server.as_mut() {
            w.tick();
        }
    }
    stop.cancel();
    for t in tasks {
        if let Ok(o) = t.await {
            // Being closed during the hold is a failure; the generator closing at the end is not.
            if let Some(code) = o.close_code {
                report.error(format!("client {} closed by the server with {code}", o.id));
            } else if let Some(e) = o.error {
                report.error(format!("client {}: {e}", o.id));
            }
        }
    }
    if let (Some(b), Some(a)) = (rss_before, rss_after) {
        let per = (a.saturating_sub(b)) as f64 / 1024.0 / p.connections.max(1) as f64;
        report.extra.insert("server KiB per connection".into(), per);
    }
    report.wall_seconds = started.elapsed().as_secs_f64();
    report.server = server.map(Watch::finish);
    report.generator = generator.map(Watch::finish);
    report
}
