//! Workshop: participants of one map in a dot-vote, each placing a vote and moving its cursor every
//! second (PROTOCOL.md §9.2). Every vote changes the workshop's state, which the server sends to
//! every participant as that participant may see it; the run measures how long each vote and each
//! cursor move takes to reach every other participant.

use super::*;
use crate::conn::{Client, Payload, Totals};
use crate::report::{Percentiles, Report};
use hdrhistogram::Histogram;
use std::sync::Arc;
use std::time::Duration;

pub struct WorkshopParams {
    pub participants: u32,
    /// Votes (and cursor moves) per participant per second.
    pub rate: f64,
    pub duration: Duration,
}

/// Most votes one participant may place (the server's limit on `perPerson`).
pub const MAX_VOTES: u32 = 100;

pub async fn workshop(run: &Run, p: &WorkshopParams) -> Report {
    let mut report = Report::new("workshop", &run.label);
    report.param("participants", p.participants);
    report.param("rate", p.rate);
    report.param("duration_s", p.duration.as_secs_f64());
    let totals = Arc::new(Totals::default());
    let map = run.map("workshop");
    if let Err(e) = run.targets[0].create(&map).await {
        report.error(e);
    }
    let results: Vec<_> = futures_util::stream::iter(0..p.participants)
        .map(|i| {
            let (target, map, totals) = (run.target(i), map.clone(), Arc::clone(&totals));
            async move {
                let mut c =
                    Client::connect_with(target, &map, i, run.run_id, false, Some("workshop"))
                        .await?;
                c.wait_synced(&totals).await?;
                anyhow::Ok(c)
            }
        })
        .buffer_unordered(run.connect_parallelism.max(1))
        .collect()
        .await;
    let mut clients = Vec::new();
    for r in results {
        match r {
            Ok(c) => clients.push(c),
            Err(e) => report.error(format!("connect: {e}")),
        }
    }
    clients.sort_by_key(|c| c.id);
    // The facilitator (anyone: the load test runs anonymously, so everyone may) opens the vote.
    let Some(first) = clients.first_mut() else {
        return report;
    };
    let open = format!(
        r#"{{"op":"vote.open","title":"Load","cards":["card"],"perPerson":{MAX_VOTES},"perCard":{MAX_VOTES}}}"#
    );
    let opened = async {
        first.send_workshop(&open).await?;
        first
            .wait_workshop(&totals, |s| !s["workshop"]["vote"].is_null())
            .await
    };
    if let Err(e) = tokio::time::timeout(Duration::from_secs(10), opened)
        .await
        .map_err(anyhow::Error::from)
        .and_then(|r| r)
    {
        report.error(format!("cannot open the vote: {e}"));
        return report;
    }
    let ex = Exchange {
        per_map: p.participants,
        payload: Payload::Workshop,
        rate: p.rate,
        duration: p.duration,
    };
    exchange(run, "workshop", clients, ex, totals, report).await
}

/// Adds the votes' deliveries to the tally and reports votes and cursor moves apart.
pub(super) fn account_votes(report: &mut Report, outcomes: &[crate::conn::Outcome]) {
    let mut votes = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).expect("valid bounds");
    let mut cursors = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).expect("valid bounds");
    let sent_by: std::collections::HashMap<u32, u32> =
        outcomes.iter().map(|o| (o.id, o.sent)).collect();
    for o in outcomes {
        let _ = votes.add(&o.vote_latency);
        let _ = cursors.add(&o.latency);
        for (&sender, &sent) in &sent_by {
            if sender == o.id {
                continue;
            }
            let counts = o.votes_received.get(&sender);
            for seq in 0..sent {
                report.expected += 1;
                match counts.map_or(0, |c| c[seq as usize]) {
                    0 => report.missing += 1,
                    _ => report.delivered += 1,
                }
            }
        }
    }
    let mut all = cursors.clone();
    let _ = all.add(&votes);
    report.latency_ms = Percentiles::from_micros(&all);
    for (name, h) in [("vote", &votes), ("cursor", &cursors)] {
        if let Some(p) = Percentiles::from_micros(h) {
            report.extra.insert(format!("{name}_p50_ms"), p.p50);
            report.extra.insert(format!("{name}_p99_ms"), p.p99);
            report.extra.insert(format!("{name}_max_ms"), p.max);
        }
    }
}
