//! The scenarios: fanout (and its cross-node and overload variants), idle, join, awareness and
//! reconnect storm. Each returns a [`Report`]. This file holds what they share: the run's settings,
//! connecting clients, the send-and-receive exchange and its accounting.

mod fanout;
mod idle;
mod join;
mod reconnect;
mod workshop;

pub use fanout::{AwarenessParams, FanoutParams, awareness, fanout, overload};
pub use idle::{IdleParams, idle};
pub use join::{JoinParams, join};
pub use reconnect::{ReconnectParams, reconnect};
pub use workshop::{MAX_VOTES, WorkshopParams, workshop};

use crate::conn::{Client, Outcome, Payload, Schedule, Totals};
use crate::probe::{self, Watch};
use crate::report::{Percentiles, Report};
use crate::target::Target;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Settings shared by every scenario.
#[derive(Clone)]
pub struct Run {
    /// Targets are used round-robin by client index (several for cross-node runs).
    pub targets: Vec<Arc<Target>>,
    pub label: String,
    /// The server processes to sample (CPU time, memory, summed); all of their threads count.
    pub server_pids: Vec<u32>,
    pub progress: bool,
    /// Connections opened at once while setting up.
    pub connect_parallelism: usize,
    /// How long to wait for in-flight deliveries after the last send.
    pub grace: Duration,
    /// Distinguishes this run's maps and document client ids from earlier runs' on the same server:
    /// reused client ids would make new updates look already known.
    pub run_id: u64,
}

/// A run id from the clock and the process id (no two runs of one machine share it).
pub fn new_run_id() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    (nanos ^ (u64::from(std::process::id()) << 32)) % 1_000_000_000
}

impl Run {
    pub fn new(target: Target, label: &str) -> Self {
        Run {
            targets: vec![Arc::new(target)],
            label: label.into(),
            server_pids: Vec::new(),
            progress: false,
            connect_parallelism: 64,
            grace: Duration::from_secs(5),
            run_id: new_run_id(),
        }
    }

    /// The name of this run's map `name`.
    fn map(&self, name: impl std::fmt::Display) -> String {
        format!("lt{}-{name}", self.run_id)
    }

    fn target(&self, i: u32) -> Arc<Target> {
        Arc::clone(&self.targets[i as usize % self.targets.len()])
    }

    fn watches(&self) -> (Option<Watch>, Option<Watch>) {
        (
            Watch::start(self.server_pids.clone()),
            Watch::start(vec![std::process::id()]),
        )
    }
}

/// Connects `n` clients (client `i` to map `map_of(i)`), waiting until each has synced.
async fn connect_all(
    run: &Run,
    n: u32,
    map_of: impl Fn(u32) -> String,
    with_doc: bool,
    totals: &Totals,
    report: &mut Report,
) -> Vec<Client> {
    for map in (0..n)
        .map(&map_of)
        .collect::<std::collections::BTreeSet<_>>()
    {
        if let Err(e) = run.targets[0].create(&map).await {
            report.error(e);
        }
    }
    let results: Vec<_> = futures_util::stream::iter(0..n)
        .map(|i| {
            let target = run.target(i);
            let map = map_of(i);
            async move {
                let mut c = Client::connect(target, &map, i, run.run_id, with_doc).await?;
                c.wait_synced(totals).await?;
                anyhow::Ok(c)
            }
        })
        .buffer_unordered(run.connect_parallelism.max(1))
        .collect()
        .await;
    let mut clients = Vec::with_capacity(n as usize);
    for r in results {
        match r {
            Ok(c) => clients.push(c),
            Err(e) => report.error(format!("connect: {e}")),
        }
    }
    clients.sort_by_key(|c| c.id);
    clients
}

fn spawn_progress(
    run: &Run,
    name: &'static str,
    totals: Arc<Totals>,
    stop: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    if !run.progress {
        return None;
    }
    Some(tokio::spawn(async move {
        let started = Instant::now();
        let mut gen_cpu = probe::sample(std::process::id()).map(|s| s.cpu);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let now = probe::sample(std::process::id()).map(|s| s.cpu);
            let cpu = match (gen_cpu, now) {
                (Some(a), Some(b)) => format!("{:.0}%", (b - a).as_secs_f64() * 100.0),
                _ => "?".into(),
            };
            gen_cpu = now;
            eprintln!(
                "[{name}] {:>5.1}s  sent {:>8}  delivered {:>9}  synced {:>6}  generator CPU {cpu}",
                started.elapsed().as_secs_f64(),
                totals.sent.load(Ordering::Relaxed),
                totals.delivered.load(Ordering::Relaxed),
                totals.synced.load(Ordering::Relaxed),
            );
        }
    }))
}

/// Senders send on a schedule; every other client of the same map must receive every message.
struct Exchange {
    /// Clients per map, consecutive ids.
    per_map: u32,
    payload: Payload,
    rate: f64,
    duration: Duration,
}

async fn exchange(
    run: &Run,
    scenario: &'static str,
    clients: Vec<Client>,
    ex: Exchange,
    totals: Arc<Totals>,
    mut report: Report,
) -> Report {
    let (server, generator) = run.watches();
    let started = Instant::now();
    let senders = clients.len() as u32;
    let schedule = Schedule {
        start: Instant::now() + Duration::from_millis(200),
        rate: ex.rate,
        senders,
        count: (ex.rate * ex.duration.as_secs_f64()).round().max(1.0) as u32,
    };
    let stop = CancellationToken::new();
    let stop_sending = CancellationToken::new();
    let progress = spawn_progress(run, scenario, Arc::clone(&totals), stop.clone());
    let mut server = server;
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|c| {
            let sender = c.id;
            tokio::spawn(c.run(
                Arc::clone(&totals),
                schedule,
                Some((sender, ex.payload)),
                stop.clone(),
                stop_sending.clone(),
            ))
        })
        .collect();
    // Wait for the schedule to finish, then for every expected delivery (or the grace period).
    let send_end = schedule.intended(senders, schedule.count);
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tick.tick().await;
        if let Some(w) = server.as_mut() {
            w.tick();
        }
        if Instant::now() >= send_end {
            break;
        }
    }
    let drain_deadline = Instant::now() + run.grace;
    loop {
        // A workshop participant's second is delivered twice: its cursor and its vote.
        let per_send = if ex.payload == Payload::Workshop {
            2
        } else {
            1
        };
        let expected = totals.sent.load(Ordering::Relaxed)
            * u64::from(ex.per_map.saturating_sub(1))
            * per_send;
        if totals.delivered.load(Ordering::Relaxed) >= expected || Instant::now() >= drain_deadline
        {
            break;
        }
        tick.tick().await;
        if let Some(w) = server.as_mut() {
            w.tick();
        }
    }
    stop_sending.cancel();
    stop.cancel();
    let mut outcomes = Vec::new();
    for t in tasks {
        if let Ok(o) = t.await {
            outcomes.push(o);
        }
    }
    if let Some(p) = progress {
        let _ = p.await;
    }
    account(&mut report, &outcomes, ex.per_map);
    if ex.payload == Payload::Workshop {
        workshop::account_votes(&mut report, &outcomes);
    }
    report.wall_seconds = started.elapsed().as_secs_f64();
    let send_seconds = (send_end - schedule.start).as_secs_f64().max(1e-9);
    report.delivery_rate = report.delivered as f64 / send_seconds;
    report.server = server.map(Watch::finish);
    report.generator = generator.map(Watch::finish);
    report
}

/// Tallies deliveries: each client's messages must reach every other client of its map once.
fn account(report: &mut Report, outcomes: &[Outcome], per_map: u32) {
    let mut latency = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).expect("valid bounds");
    let sent_by: std::collections::HashMap<u32, u32> =
        outcomes.iter().map(|o| (o.id, o.sent)).collect();
    for o in outcomes {
        report.sent += u64::from(o.sent);
        let _ = latency.add(&o.latency);
        if let Some(e) = &o.error {
            report.error(format!("client {}: {e}", o.id));
        } else if let Some(code) = o.close_code {
            report.error(format!("client {} closed by the server with {code}", o.id));
        }
        let first = o.id - o.id % per_map;
        for sender in first..first + per_map {
            if sender == o.id {
                continue;
            }
            let sent = *sent_by.get(&sender).unwrap_or(&0);
            let counts = o.received.get(&sender);
            for seq in 0..sent {
                report.expected += 1;
                match counts.map_or(0, |c| c[seq as usize]) {
                    0 => report.missing += 1,
                    n => {
                        report.delivered += 1;
                        report.duplicates += u64::from(n - 1);
                    }
                }
            }
        }
    }
    report.clients = outcomes.len() as u64;
    report.latency_ms = Percentiles::from_micros(&latency);
}

/// Percentiles of the clients' times from connecting to holding the whole document.
fn sync_times(clients: &[Client]) -> Option<Percentiles> {
    let mut sync = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("valid bounds");
    for t in clients.iter().filter_map(Client::sync_time) {
        let _ = sync.record(t.as_micros() as u64);
    }
    Percentiles::from_micros(&sync)
}
