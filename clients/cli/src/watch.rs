//! `waymark watch`: follows a map over WebSocket and prints each change as it arrives, as a line
//! for people ("who changed what") or as JSON lines for a pipe.

use crate::api::Api;
use crate::args::Watch;
use anyhow::bail;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use std::time::Duration;
use tokio::sync::mpsc;
use waymark_client::MapClient;
use waymark_protocol::CloseCode;
use waymark_protocol::schema;
use waymark_protocol::schema::diff::{MapDiff, Snapshot};
use yrs::updates::decoder::Decode;

/// Closes after which reconnecting cannot help (PROTOCOL.md §7): refused, expired, revoked,
/// deleted.
const FINAL: [CloseCode; 4] = [
    CloseCode::PolicyViolation,
    CloseCode::TokenExpired,
    CloseCode::AccessRevoked,
    CloseCode::MapDeleted,
];

pub async fn run(a: Watch) -> anyhow::Result<()> {
    let api = Api::new(&a.server)?;
    let client = api.open_map(&a.map).await?;
    // Every change the server relays arrives as an update; the authors are the clients whose
    // insertions it carries.
    let (tx, mut rx) = mpsc::unbounded_channel::<BTreeSet<u64>>();
    client
        .doc()
        .observe_update_v1("waymark-watch", move |_, e| {
            let authors = yrs::Update::decode_v1(&e.update)
                .map(|u| u.state_vector().iter().map(|(c, _)| c.get()).collect())
                .unwrap_or_default();
            let _ = tx.send(authors);
        })
        .map_err(|e| anyhow::anyhow!("cannot follow the document: {e}"))?;
    // On standard error in both modes: a script can wait for it before it edits.
    eprintln!("following {} (interrupt to stop)", a.map);
    let mut before = client.map().map;
    let mut printed = 0u64;
    let mut health = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            got = rx.recv() => {
                let Some(mut authors) = got else { return Ok(()) };
                // Whatever else arrived meanwhile is described with it.
                while let Ok(more) = rx.try_recv() {
                    authors.extend(more);
                }
                let now = client.map().map;
                let diff = schema::diff(&before, &now);
                before = now;
                let by = names(&client, &authors);
                printed += print(&diff, &by, a.server.json, a.count.saturating_sub(printed))?;
                if a.count > 0 && printed >= a.count {
                    return Ok(());
                }
            }
            _ = health.tick() => {
                if client.is_connected() {
                    continue;
                }
                let last = client.closed();
                if let Some(closed) = last.filter(|c| FINAL.iter().any(|f| f.code() == c.code)) {
                    bail!("the server closed the connection: {} ({})", closed.reason, closed.code);
                }
                eprintln!("connection to {} lost; reconnecting", a.map);
                reconnect(&client).await;
            }
        }
    }
}

/// Reconnects with growing pauses, up to 10 s between tries, until it works.
async fn reconnect(client: &MapClient) {
    let mut pause = Duration::from_millis(250);
    while client.reconnect().await.is_err() {
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}

/// The display names (from presence) of `clients`, else their client ids.
fn names(client: &MapClient, clients: &BTreeSet<u64>) -> Vec<String> {
    let peers = client.peers();
    clients
        .iter()
        .map(|id| {
            peers
                .get(id)
                .and_then(|state| serde_json::from_str::<Value>(state).ok())
                .and_then(|s| s["user"]["name"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("client {id}"))
        })
        .collect()
}

/// Prints the diff's records, at most `limit` of them (0: all); returns how many it printed.
fn print(diff: &MapDiff, by: &[String], json: bool, limit: u64) -> anyhow::Result<u64> {
    let at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let who = if by.is_empty() {
        "someone".to_owned()
    } else {
        by.join(", ")
    };
    let mut lines: Vec<(String, Value)> = Vec::new();
    let mut snapshot = |change: &str, s: &Snapshot| {
        lines.push((
            format!("{change} {} {:?}", s.kind.noun(), s.label),
            json!({ "change": change, "kind": s.kind, "id": s.id, "label": s.label }),
        ));
    };
    for s in &diff.added {
        snapshot("added", s);
    }
    for s in &diff.removed {
        snapshot("removed", s);
    }
    for m in &diff.moved {
        lines.push((
            format!("moved {} {:?}", m.kind.noun(), m.label),
            json!({ "change": "moved", "kind": m.kind, "id": m.id, "label": m.label, "to": m.to }),
        ));
    }
    for c in &diff.changed {
        let fields: Vec<String> = c
            .fields
            .iter()
            .map(|f| format!("{} {} → {}", f.field, short(&f.old), short(&f.new)))
            .collect();
        lines.push((
            format!("changed {} {:?}: {}", c.kind.noun(), c.label, fields.join("; ")),
            json!({ "change": "changed", "kind": c.kind, "id": c.id, "label": c.label, "fields": c.fields }),
        ));
    }
    let mut out = std::io::stdout().lock();
    let mut n = 0;
    for (text, mut record) in lines {
        if limit > 0 && n >= limit {
            break;
        }
        if json {
            record["at"] = at.clone().into();
            record["by"] = by.into();
            writeln!(out, "{record}")?;
        } else {
            writeln!(out, "{at}  {who}  {text}")?;
        }
        n += 1;
    }
    out.flush()?;
    Ok(n)
}

/// A field's value in a line: strings quoted and cut, absent as "none".
fn short(v: &Value) -> String {
    let s = match v {
        Value::Null => return "none".into(),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if s.chars().count() > 60 {
        s.chars().take(59).chain(['…']).collect()
    } else {
        s
    }
}
