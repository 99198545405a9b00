//! `waymark insights` and `waymark check`: what a map's insights find, for people and for CI.

use crate::api::{Api, segment};
use crate::args::{Check, Finding, MapOnly};
use crate::maps::text;
use crate::{Outcome, table};
use serde_json::{Value, json};

pub async fn insights(a: MapOnly) -> anyhow::Result<()> {
    let found = Api::new(&a.server)?
        .get(&format!("/maps/{}/insights", segment(&a.map)))
        .await?;
    if a.server.json {
        println!("{}", serde_json::to_string_pretty(&found)?);
        return Ok(());
    }
    let list = |k: &str| found[k].as_array().cloned().unwrap_or_default();
    let checked = &found["checked"];
    let mut out = String::new();
    let mut section = |title: String, header: &[&str], rows: Vec<Vec<String>>| {
        out.push_str(&format!("{title}\n"));
        if rows.is_empty() {
            out.push_str("  none\n\n");
        } else {
            for line in table::render(header, &rows).lines() {
                out.push_str(&format!("  {line}\n"));
            }
            out.push('\n');
        }
    };
    section(
        format!(
            "Pain points, worst first ({} checked)",
            text(&checked["painPoints"])
        ),
        &["SEVERITY", "EMOTION", "STEP", "PAIN POINT"],
        list("painPoints")
            .iter()
            .map(|p| {
                vec![
                    text(&p["severity"]),
                    text(&p["emotion"]),
                    text(&p["step"]["name"]),
                    text(&p["text"]),
                ]
            })
            .collect(),
    );
    section(
        "Pain points nothing addresses".into(),
        &["ID", "PAIN POINT"],
        named(&list("unaddressedPainPoints")),
    );
    section(
        format!(
            "Metrics off target ({} of {} with a target measured)",
            text(&checked["measuredMetrics"]),
            text(&checked["metricsWithTarget"])
        ),
        &["METRIC", "VALUE", "TARGET", "DIRECTION", "MEASURED"],
        list("metricsOffTarget")
            .iter()
            .map(|m| {
                vec![
                    text(&m["name"]),
                    text(&m["value"]),
                    text(&m["target"]),
                    text(&m["direction"]),
                    text(&m["date"]),
                ]
            })
            .collect(),
    );
    section(
        "Metrics with a target but no measurement".into(),
        &["ID", "METRIC"],
        named(&list("metricsWithoutData")),
    );
    section(
        "Emotion lows".into(),
        &["PERSONA", "SCORE", "STEPS"],
        list("emotionLows")
            .iter()
            .map(|e| {
                let steps: Vec<String> = e["steps"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| text(&s["name"]))
                    .collect();
                vec![text(&e["persona"]), text(&e["score"]), steps.join(", ")]
            })
            .collect(),
    );
    section(
        format!(
            "Steps without evidence ({} checked)",
            text(&checked["steps"])
        ),
        &["ID", "STEP"],
        named(&list("unevidencedSteps")),
    );
    section(
        format!(
            "Touchpoints without evidence ({} checked)",
            text(&checked["touchpoints"])
        ),
        &["ID", "TOUCHPOINT"],
        named(&list("unevidencedTouchpoints")),
    );
    print!("{out}");
    Ok(())
}

fn named(list: &[Value]) -> Vec<Vec<String>> {
    list.iter()
        .map(|n| vec![text(&n["id"]), text(&n["name"])])
        .collect()
}

pub async fn check(a: Check) -> anyhow::Result<Outcome> {
    let api = Api::new(&a.server)?;
    let map = segment(&a.map);
    let found = api.get(&format!("/maps/{map}/insights")).await?;
    // The review date is the map's; the listing says whether it has passed on the server's clock.
    let listed = api.get("/maps").await?;
    let entry = listed["maps"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["id"] == a.map.as_str())
        .cloned()
        .unwrap_or(Value::Null);
    let mut failures: Vec<Value> = Vec::new();
    if !a.ignore.contains(&Finding::MetricsOffTarget) {
        for m in found["metricsOffTarget"].as_array().into_iter().flatten() {
            failures.push(json!({
                "finding": "metrics-off-target",
                "id": m["id"],
                "message": format!(
                    "metric {:?} is {} on {}, against a target of {} ({})",
                    text(&m["name"]), text(&m["value"]), text(&m["date"]),
                    text(&m["target"]), text(&m["direction"])
                ),
            }));
        }
    }
    if !a.ignore.contains(&Finding::UnaddressedPainPoints) {
        for p in found["unaddressedPainPoints"]
            .as_array()
            .into_iter()
            .flatten()
        {
            failures.push(json!({
                "finding": "unaddressed-pain-points",
                "id": p["id"],
                "message": format!(
                    "pain point {:?} has no opportunity, improvement or action linked to it",
                    text(&p["name"])
                ),
            }));
        }
    }
    if !a.ignore.contains(&Finding::ReviewOverdue) && entry["reviewOverdue"] == true {
        failures.push(json!({
            "finding": "review-overdue",
            "id": a.map,
            "message": format!("the map's review was due on {}", text(&entry["reviewDue"])),
        }));
    }
    if a.server.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({ "map": a.map, "ok": failures.is_empty(), "findings": failures })
            )?
        );
    } else if failures.is_empty() {
        eprintln!(
            "{}: no metrics off target, no unaddressed pain points, review not overdue",
            a.map
        );
    } else {
        for f in &failures {
            println!("{}: {}", a.map, text(&f["message"]));
        }
        eprintln!("{}: {} finding(s)", a.map, failures.len());
    }
    Ok(if failures.is_empty() {
        Outcome::Done
    } else {
        Outcome::Findings
    })
}
