//! The scenarios: fanout (and its cross-node and overload variants), idle, join, awareness and
//! reconnect storm. Each returns a [`Report`].

use crate::conn::{Client, Outcome, Payload, Schedule, Totals};
use crate::probe::{self, Sampler, Watch};
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
        let expected =
            totals.sent.load(Ordering::Relaxed) * u64::from(ex.per_map.saturating_sub(1));
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

pub struct JoinParams {
    pub clients: u32,
    pub size_mib: u32,
}

/// Fills one map with `size_mib` of content, then has `clients` join it at once.
pub async fn join(run: &Run, p: &JoinParams) -> Report {
    let mut report = Report::new("join", &run.label);
    report.param("clients", p.clients);
    report.param("size_mib", p.size_mib);
    let map = &run.map("join");
    let totals = Totals::default();
    let started = Instant::now();
    if let Err(e) = run.targets[0].create(map).await {
        report.error(e);
    }
    // The filler stays connected: servers without storage drop a document nobody holds.
    let mut filler = match Client::connect(run.target(0), map, u32::MAX - 1, run.run_id, true).await
    {
        Ok(c) => c,
        Err(e) => {
            report.error(format!("filler: {e}"));
            return report;
        }
    };
    if let Err(e) = filler.wait_synced(&totals).await {
        report.error(format!("filler: {e}"));
        return report;
    }
    // A realistic journey map (SCHEMA.md): a template, then cards of 4 KiB of text, 1 MiB a time.
    let base = filler
        .send_update(|txn| {
            waymark_protocol::schema::templates::find("ecommerce-purchase")
                .expect("the template exists")
                .apply(txn, 0)
                .expect("a template applies to an empty map");
        })
        .await;
    if let Err(e) = base {
        report.error(format!("filler: {e}"));
        return report;
    }
    let text: String = (0..4096).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    for _ in 0..p.size_mib {
        let text = text.clone();
        let sent = filler
            .send_update(move |txn| {
                let m = waymark_protocol::schema::read(txn).map;
                // The emotion lane draws the curve and holds no cards (SCHEMA.md §5.5).
                let lanes: Vec<&str> = m
                    .lanes
                    .iter()
                    .filter(|l| l.kind != "emotions")
                    .map(|l| l.id.as_str())
                    .collect();
                let mut ed = waymark_protocol::schema::Editor::new(txn);
                for k in 0..256 {
                    let lane = lanes[k % lanes.len()];
                    let step = &m.steps[k % m.steps.len()].id;
                    ed.add_card(lane, step, &text, waymark_protocol::schema::At::Last)
                        .expect("lanes and steps exist");
                }
            })
            .await;
        if let Err(e) = sent {
            report.error(format!("filler: {e}"));
            return report;
        }
    }
    // The map is complete once a fresh client's full sync carries all of it.
    let want = u64::from(p.size_mib) << 20;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let probe_totals = Totals::default();
        let full = async {
            let mut c =
                Client::connect(run.target(0), map, u32::MAX - 2, run.run_id, false).await?;
            c.wait_synced(&probe_totals).await?;
            anyhow::Ok(c.bytes_received())
        }
        .await;
        match full {
            Ok(bytes) if bytes >= want => break,
            Ok(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Ok(bytes) => {
                report.error(format!("the map holds only {bytes} of {want} bytes"));
                return report;
            }
            Err(e) => {
                report.error(format!("checking the map: {e}"));
                return report;
            }
        }
    }
    // The filler keeps reading (answering pings) until the end, so no server closes it as dead.
    let filler_stop = CancellationToken::new();
    let filler = tokio::spawn(filler.run(
        Arc::new(Totals::default()),
        Schedule {
            start: Instant::now(),
            rate: 1.0,
            senders: 1,
            count: 0,
        },
        None,
        filler_stop.clone(),
        filler_stop.clone(),
    ));
    // Let the server settle after the checks before taking the baseline.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (server, generator) = run.watches();
    let sampler = Sampler::start(server, Duration::from_millis(20));
    let totals = Arc::new(Totals::default());
    let join_run = Run {
        connect_parallelism: p.clients as usize,
        ..run.clone()
    };
    let joined = connect_all(
        &join_run,
        p.clients,
        |_| map.clone(),
        false,
        &totals,
        &mut report,
    )
    .await;
    let server = sampler.finish().await;
    report.clients = joined.len() as u64;
    report.sync_ms = sync_times(&joined);
    report.server = server;
    if let Some(s) = &report.server {
        report.extra.insert(
            "server RSS growth (MiB)".into(),
            s.rss_peak_mib - s.rss_start_mib,
        );
    }
    report.generator = generator.map(Watch::finish);
    report.wall_seconds = started.elapsed().as_secs_f64();
    filler_stop.cancel();
    if let Ok(Outcome {
        close_code: Some(code),
        ..
    }) = filler.await
    {
        report.error(format!("the filler was closed by the server with {code}"));
    }
    report
}

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
