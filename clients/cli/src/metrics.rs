//! `waymark metrics push`: dated measurements from CSV into a map's metrics, over WebSocket as an
//! ordinary edit that every editor sees. The whole file is checked before anything is written,
//! no metric is ever created, and a row already recorded is not added again, so a re-run of the
//! same file changes nothing.

use crate::api::Api;
use crate::args::{Metrics, Push};
use anyhow::{Context, bail};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::time::Duration;
use waymark_client::MapClient;
use waymark_protocol::schema::edit::is_date;
use waymark_protocol::schema::{Collection, JourneyMap};

/// How long the map may take to load, and the server to relay the edit back.
const WAIT: Duration = Duration::from_secs(30);
/// Problems listed before the rest are only counted.
const MAX_LISTED: usize = 20;

pub async fn run(command: Metrics) -> anyhow::Result<()> {
    match command {
        Metrics::Push(a) => push(a).await,
    }
}

/// One row of the file.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    line: u64,
    metric: String,
    date: String,
    value: f64,
}

/// What pushing a row does.
#[derive(Debug, PartialEq)]
enum Step {
    Add { metric_id: String },
    Replace { measurement_id: String },
    AlreadyThere,
}

/// Reads `metric,date,value` rows; a first row naming the columns is a header. Every problem is
/// reported with its line number.
fn parse(input: impl Read) -> Result<Vec<Row>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let (mut rows, mut problems) = (Vec::new(), Vec::new());
    for (i, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("line {}: {e}", i + 1));
                continue;
            }
        };
        let line = record.position().map_or(i as u64 + 1, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        if i == 0
            && record
                .get(0)
                .is_some_and(|f| f.eq_ignore_ascii_case("metric"))
        {
            continue;
        }
        if record.len() != 3 {
            problems.push(format!(
                "line {line}: expected 3 fields (metric,date,value), found {}",
                record.len()
            ));
            continue;
        }
        let (metric, date, value) = (&record[0], &record[1], &record[2]);
        if metric.is_empty() {
            problems.push(format!("line {line}: no metric"));
            continue;
        }
        if !is_date(date) {
            problems.push(format!("line {line}: {date:?} is not a YYYY-MM-DD date"));
            continue;
        }
        match value.parse::<f64>() {
            Ok(v) if v.is_finite() => rows.push(Row {
                line,
                metric: metric.to_owned(),
                date: date.to_owned(),
                value: v,
            }),
            _ => problems.push(format!("line {line}: {value:?} is not a number")),
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// What each row does to `map`, or every reason the file cannot be pushed.
fn plan(map: &JourneyMap, rows: &[Row], replace: bool) -> Result<Vec<Step>, Vec<String>> {
    let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
    for m in &map.metrics {
        by_name.entry(m.name.as_str()).or_default().push(&m.id);
    }
    let recorded: HashMap<(&str, &str), (&str, f64)> = map
        .measurements
        .iter()
        .map(|m| {
            (
                (m.metric_id.as_str(), m.date.as_str()),
                (m.id.as_str(), m.value),
            )
        })
        .collect();
    let mut in_file: HashMap<(String, String), (u64, f64)> = HashMap::new();
    let (mut steps, mut problems) = (Vec::new(), Vec::new());
    for row in rows {
        let id =
            if map.metrics.iter().any(|m| m.id == row.metric) {
                row.metric.as_str()
            } else {
                match by_name.get(row.metric.as_str()).map(Vec::as_slice) {
                    Some([id]) => id,
                    Some(ids) => {
                        problems.push(format!(
                            "line {}: {} metrics are named {:?}; give its id instead ({})",
                            row.line,
                            ids.len(),
                            row.metric,
                            ids.join(", ")
                        ));
                        continue;
                    }
                    None => {
                        let names: Vec<&str> =
                            map.metrics.iter().map(|m| m.name.as_str()).collect();
                        problems.push(format!(
                        "line {}: the map has no metric named {:?} (metrics: {}); add it on the \
                         board first",
                        row.line,
                        row.metric,
                        if names.is_empty() { "none".to_owned() } else { names.join(", ") }
                    ));
                        continue;
                    }
                }
            };
        let key = (id.to_owned(), row.date.clone());
        if let Some(&(line, value)) = in_file.get(&key) {
            if value != row.value {
                problems.push(format!(
                    "line {}: {:?} on {} is {value} on line {line}",
                    row.line, row.metric, row.date
                ));
            }
            steps.push(Step::AlreadyThere);
            continue;
        }
        in_file.insert(key, (row.line, row.value));
        steps.push(match recorded.get(&(id, row.date.as_str())) {
            Some(&(_, value)) if value == row.value => Step::AlreadyThere,
            Some(&(measurement, _)) if replace => Step::Replace {
                measurement_id: measurement.to_owned(),
            },
            Some(&(_, value)) => {
                problems.push(format!(
                    "line {}: {:?} already has {value} on {}; give --replace to record {} instead",
                    row.line, row.metric, row.date, row.value
                ));
                continue;
            }
            None => Step::Add {
                metric_id: id.to_owned(),
            },
        });
    }
    if problems.is_empty() {
        Ok(steps)
    } else {
        Err(problems)
    }
}

fn refuse(what: &str, problems: Vec<String>) -> anyhow::Error {
    let mut text = format!("{what}; nothing was changed:");
    for p in problems.iter().take(MAX_LISTED) {
        text.push_str("\n  ");
        text.push_str(p);
    }
    if problems.len() > MAX_LISTED {
        text.push_str(&format!("\n  … and {} more", problems.len() - MAX_LISTED));
    }
    anyhow::anyhow!(text)
}

async fn push(a: Push) -> anyhow::Result<()> {
    let rows = if a.from.as_os_str() == "-" {
        parse(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(&a.from)
            .with_context(|| format!("cannot read {}", a.from.display()))?;
        parse(file)
    }
    .map_err(|p| refuse(&format!("{} has errors", source(&a)), p))?;
    let api = Api::new(&a.server)?;
    let client = api.open_map(&a.map).await?;
    // Named in others' presence, so that `waymark watch` and the board say who added them.
    client.set_awareness(r#"{"user":{"name":"waymark metrics push"}}"#);
    let map = client.map().map;
    let steps = plan(&map, &rows, a.replace)
        .map_err(|p| refuse(&format!("cannot push {} into {}", source(&a), a.map), p))?;
    let replacing = steps.iter().any(|s| matches!(s, Step::Replace { .. }));
    if a.dry_run {
        report(&a, &rows, &steps, true);
        return Ok(());
    }
    let mut added = BTreeSet::new();
    let edit = client.edit(|ed| -> Result<(), String> {
        for (row, step) in rows.iter().zip(&steps) {
            match step {
                Step::Add { metric_id } => {
                    let id = ed
                        .record_measurement(metric_id, &row.date, row.value)
                        .map_err(|e| format!("line {}: {e}", row.line))?;
                    added.insert(id);
                }
                Step::Replace { measurement_id } => ed
                    .set_field(
                        Collection::Measurements,
                        measurement_id,
                        "value",
                        Some(row.value.into()),
                    )
                    .map_err(|e| format!("line {}: {e}", row.line))?,
                Step::AlreadyThere => {}
            }
        }
        Ok(())
    });
    if let Err(e) = edit {
        bail!("cannot record the measurements: {e}");
    }
    if !added.is_empty() || replacing {
        confirm(&client, &api, &a.map, &added, replacing).await?;
    }
    report(&a, &rows, &steps, false);
    client.disconnect().await;
    Ok(())
}

/// The file named, or standard input, for messages.
fn source(a: &Push) -> String {
    if a.from.as_os_str() == "-" {
        "standard input".into()
    } else {
        a.from.display().to_string()
    }
}

/// Waits until a second connection reads what was written: the server has applied it (and, as it
/// relays only what it has stored, kept it). Fails with the server's reason if the edit was
/// refused (a token that may not edit).
async fn confirm(
    client: &MapClient,
    api: &Api,
    map: &str,
    added: &BTreeSet<String>,
    replaced: bool,
) -> anyhow::Result<()> {
    let want = client.map().map;
    let reader = api.open_map(map).await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(reason) = client.denied().first() {
            bail!("the server did not accept the measurements: {reason}");
        }
        let seen = reader.map().map;
        let all_added = added
            .iter()
            .all(|id| seen.measurements.iter().any(|m| &m.id == id));
        if all_added && (!replaced || seen.measurements == want.measurements) {
            reader.disconnect().await;
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "the server did not confirm the measurements within {} s; run the command again \
                 (what was recorded is not added twice)",
                WAIT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn report(a: &Push, rows: &[Row], steps: &[Step], dry: bool) {
    let kind = |s: &Step| match s {
        Step::Add { .. } => "add",
        Step::Replace { .. } => "replace",
        Step::AlreadyThere => "unchanged",
    };
    if a.server.json {
        let list: Vec<_> = rows
            .iter()
            .zip(steps)
            .map(|(r, s)| {
                json!({ "line": r.line, "metric": r.metric, "date": r.date, "value": r.value, "action": kind(s) })
            })
            .collect();
        println!("{}", json!({ "map": a.map, "dryRun": dry, "rows": list }));
        return;
    }
    let verb = if dry { "would " } else { "" };
    for (r, s) in rows.iter().zip(steps) {
        if !matches!(s, Step::AlreadyThere) {
            println!("{verb}{} {} {} {}", kind(s), r.metric, r.date, r.value);
        }
    }
    let count = |k: &str| steps.iter().filter(|s| kind(s) == k).count();
    eprintln!(
        "{}: {verb}add {}, {verb}replace {}, already recorded {}",
        a.map,
        count("add"),
        count("replace"),
        count("unchanged")
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use waymark_protocol::schema::{Measurement, Metric};

    fn map() -> JourneyMap {
        let metric = |id: &str, name: &str| Metric {
            id: id.into(),
            name: name.into(),
            kind: "nps".into(),
            ..Metric::default()
        };
        JourneyMap {
            metrics: vec![
                metric("m1", "NPS"),
                metric("m2", "CSAT"),
                metric("m3", "CSAT"),
            ],
            measurements: vec![Measurement {
                id: "x1".into(),
                metric_id: "m1".into(),
                date: "2026-11-01".into(),
                value: 31.0,
                note: None,
            }],
            ..JourneyMap::default()
        }
    }

    #[test]
    fn every_bad_line_is_named_and_a_header_is_skipped() {
        let csv = "metric,date,value\nNPS,2026-11-01,31\nNPS,2026-02-30x,1\nNPS,2026-12-01\nNPS,2026-12-01,abc\n";
        let problems = parse(csv.as_bytes()).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("line 3: "), "{problems:?}");
        assert!(
            problems[1].contains("line 4: expected 3 fields"),
            "{problems:?}"
        );
        assert!(
            problems[2].contains("line 5: \"abc\" is not a number"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_re_run_adds_nothing_and_unknown_or_ambiguous_metrics_are_refused() {
        let rows = parse("NPS,2026-11-01,31\nm1,2026-12-01,35\n".as_bytes()).unwrap();
        assert_eq!(
            plan(&map(), &rows, false).unwrap(),
            vec![
                Step::AlreadyThere,
                Step::Add {
                    metric_id: "m1".into()
                }
            ]
        );
        let rows =
            parse("Churn,2026-12-01,3\nCSAT,2026-12-01,4\nNPS,2026-11-01,40\n".as_bytes()).unwrap();
        let problems = plan(&map(), &rows, false).unwrap_err();
        assert!(
            problems[0].contains("no metric named \"Churn\""),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("2 metrics are named \"CSAT\""),
            "{problems:?}"
        );
        assert!(problems[2].contains("--replace"), "{problems:?}");
        let rows = parse("NPS,2026-11-01,40\n".as_bytes()).unwrap();
        assert_eq!(
            plan(&map(), &rows, true).unwrap(),
            vec![Step::Replace {
                measurement_id: "x1".into()
            }]
        );
    }
}
