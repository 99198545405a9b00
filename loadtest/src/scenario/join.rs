//! Join: many clients joining one large map at once.

use super::*;
use crate::conn::{Client, Outcome, Schedule, Totals};
use crate::probe::{Sampler, Watch};
use crate::report::Report;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

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
