//! Text exports of a map: CSV (one row per card), Markdown, and a Mermaid `journey` diagram.

use super::lane_kind;
use std::fmt::Write as _;
use waymark_protocol::schema::{Card, JourneyMap};

fn name_of<'m, E>(items: &'m [E], id: Option<&str>, key: impl Fn(&E) -> (&str, &str)) -> &'m str {
    id.and_then(|id| items.iter().map(&key).find(|(i, _)| *i == id))
        .map_or("", |(_, name)| name)
}

fn stage_of<'m>(map: &'m JourneyMap, step_id: &str) -> &'m str {
    let stage = map
        .steps
        .iter()
        .find(|s| s.id == step_id)
        .map(|s| s.stage_id.as_str());
    name_of(&map.stages, stage, |s| (&s.id, &s.name))
}

fn step_name<'m>(map: &'m JourneyMap, id: Option<&str>) -> &'m str {
    name_of(&map.steps, id, |s| (&s.id, &s.name))
}

pub const CSV_HEADER: [&str; 18] = [
    "card_id",
    "stage",
    "step",
    "end_step",
    "lane",
    "lane_kind",
    "persona",
    "text",
    "evidence",
    "evidence_source",
    "severity",
    "impact",
    "effort",
    "status",
    "owner",
    "due",
    "channel",
    "touchpoint",
];

/// A cell a spreadsheet shows as the text it is, never runs: text that a spreadsheet would take
/// for a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return, as OWASP lists
/// them) gets a leading `'`, which spreadsheets hide and keep the rest of.
pub fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// One row per card, in the map's order, with names instead of ids; every cell [`inert`].
pub fn csv(map: &JourneyMap) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADER)?;
    for c in &map.cards {
        let num = |v: Option<u8>| v.map(|v| v.to_string()).unwrap_or_default();
        let row = [
            c.id.as_str(),
            stage_of(map, &c.step_id),
            step_name(map, Some(&c.step_id)),
            step_name(map, c.end_step_id.as_deref()),
            name_of(&map.lanes, Some(&c.lane_id), |l| (&l.id, &l.name)),
            lane_kind(map, c),
            name_of(&map.personas, c.persona_id.as_deref(), |p| (&p.id, &p.name)),
            &c.text,
            c.evidence.as_deref().unwrap_or(""),
            c.evidence_source.as_deref().unwrap_or(""),
            &num(c.severity),
            &num(c.impact),
            &num(c.effort),
            c.status.as_deref().unwrap_or(""),
            c.owner.as_deref().unwrap_or(""),
            c.due.as_deref().unwrap_or(""),
            name_of(&map.channels, c.channel_id.as_deref(), |x| (&x.id, &x.name)),
            name_of(&map.touchpoints, c.touchpoint_id.as_deref(), |x| {
                (&x.id, &x.name)
            }),
        ];
        w.write_record(row.iter().map(|cell| inert(cell).into_owned()))?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("CSV of strings is UTF-8"))
}

fn card_line(c: &Card) -> String {
    let mut extra = Vec::new();
    if let Some(e) = &c.evidence {
        extra.push(match &c.evidence_source {
            Some(s) => format!("{e}: {s}"),
            None => e.clone(),
        });
    }
    if let Some(s) = c.severity {
        extra.push(format!("severity {s}"));
    }
    if let (Some(i), Some(e)) = (c.impact, c.effort) {
        extra.push(format!("impact {i}, effort {e}"));
    }
    if let Some(s) = &c.status {
        extra.push(match &c.owner {
            Some(o) => format!("{s}, {o}"),
            None => s.clone(),
        });
    }
    let text = c.text.replace('\n', " ");
    if extra.is_empty() {
        text
    } else {
        format!("{text} ({})", extra.join("; "))
    }
}

/// The map as a readable document: personas, then each stage and step with its cards by lane,
/// then emotion curves and metrics.
pub fn markdown(map: &JourneyMap) -> String {
    let mut out = String::new();
    let m = &map.meta;
    let _ = writeln!(out, "# {}\n", one_line(&m.title));
    for (label, value) in [
        ("Kind", &m.kind),
        ("Scenario", &m.scenario),
        ("Goals", &m.goals),
        ("Owner", &m.owner),
    ] {
        if !value.is_empty() {
            let _ = writeln!(out, "- **{label}:** {}", one_line(value));
        }
    }
    if !m.description.is_empty() {
        let _ = writeln!(out, "\n{}", m.description);
    }
    if !map.personas.is_empty() {
        out.push_str("\n## Personas\n");
        for p in &map.personas {
            let _ = writeln!(out, "\n### {}\n", one_line(&p.name));
            for (label, value) in [
                ("About", &p.description),
                ("Goals", &p.goals),
                ("Needs", &p.needs),
                ("Challenges", &p.challenges),
            ] {
                if !value.is_empty() {
                    let _ = writeln!(out, "- **{label}:** {}", one_line(value));
                }
            }
        }
    }
    for stage in &map.stages {
        let _ = writeln!(out, "\n## {}", one_line(&stage.name));
        for step in map.steps.iter().filter(|s| s.stage_id == stage.id) {
            let _ = writeln!(out, "\n### {}\n", one_line(&step.name));
            for lane in &map.lanes {
                let cards: Vec<String> = map
                    .cards
                    .iter()
                    .filter(|c| c.lane_id == lane.id && c.step_id == step.id)
                    .map(card_line)
                    .collect();
                if !cards.is_empty() {
                    let _ = writeln!(out, "- **{}:** {}", one_line(&lane.name), cards.join(" · "));
                }
            }
        }
    }
    if !map.emotions.is_empty() && !map.personas.is_empty() {
        out.push_str("\n## Emotion curve\n\n| Step |");
        for p in &map.personas {
            let _ = write!(out, " {} |", cell(&p.name));
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(map.personas.len()));
        out.push('\n');
        for step in &map.steps {
            let _ = write!(out, "| {} |", cell(&step.name));
            for p in &map.personas {
                let score = map
                    .emotions
                    .iter()
                    .find(|e| e.step_id == step.id && e.persona_id.as_deref() == Some(&p.id))
                    .map(|e| format!("{:+}", e.score))
                    .unwrap_or_default();
                let _ = write!(out, " {score} |");
            }
            out.push('\n');
        }
    }
    if !map.metrics.is_empty() {
        out.push_str("\n## Metrics\n\n| Metric | Type | Target | Latest |\n|---|---|---|---|\n");
        for metric in &map.metrics {
            let latest = super::latest(metric, &map.measurements)
                .map(|x| format!("{} ({})", x.value, x.date))
                .unwrap_or_else(|| "–".into());
            let unit = metric.unit.as_deref().unwrap_or("");
            let target = metric
                .target
                .map(|t| super::with_unit(t, unit))
                .unwrap_or_else(|| "–".into());
            let _ = writeln!(
                out,
                "| {} | {} | {target} | {latest} |",
                cell(&metric.name),
                metric.kind
            );
        }
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn cell(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

/// Mermaid's `journey` diagram: stages as sections, steps as tasks scored 1–5 (emotion −2…+2
/// plus 3), personas as actors. Steps where personas feel differently get one task per persona.
pub fn mermaid(map: &JourneyMap) -> String {
    let mut out = String::from("journey\n");
    let title = mermaid_text(&map.meta.title);
    if !title.is_empty() {
        let _ = writeln!(out, "    title {title}");
    }
    for stage in &map.stages {
        let steps: Vec<_> = map
            .steps
            .iter()
            .filter(|s| s.stage_id == stage.id)
            .collect();
        if steps.is_empty() {
            continue;
        }
        let _ = writeln!(out, "    section {}", mermaid_text(&stage.name));
        for step in steps {
            let name = mermaid_text(&step.name);
            // (score, actors) groups in persona order.
            let mut groups: Vec<(i8, Vec<String>)> = Vec::new();
            for e in map.emotions.iter().filter(|e| e.step_id == step.id) {
                let actor = match &e.persona_id {
                    Some(p) => name_of(&map.personas, Some(p), |x| (&x.id, &x.name)).to_owned(),
                    None => "Everyone".to_owned(),
                };
                match groups.iter_mut().find(|(s, _)| *s == e.score) {
                    Some((_, actors)) => actors.push(mermaid_text(&actor)),
                    None => groups.push((e.score, vec![mermaid_text(&actor)])),
                }
            }
            if groups.is_empty() {
                // No score recorded: neutral, no actors.
                let _ = writeln!(out, "      {name}: 3");
            }
            for (score, actors) in groups {
                let _ = writeln!(out, "      {name}: {}: {}", score + 3, actors.join(", "));
            }
        }
    }
    out
}

/// Mermaid's journey syntax separates fields with `:` and actors with `,`, and ends a statement at
/// `;` or a newline; `#` starts an entity code. Those characters cannot appear in names.
fn mermaid_text(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if matches!(c, ':' | ';' | '#' | ',' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let text = one_line(&cleaned);
    if text.is_empty() {
        "Untitled".into()
    } else {
        text
    }
}
