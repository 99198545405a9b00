//! What each lane row of a poster holds: the map's lanes (plus one for typed touchpoints or
//! metrics when no lane has their kind), and in each its touchpoints, metrics and cards with the
//! words of their badges.

use super::style;
use std::fmt::Write as _;
use waymark_protocol::schema::JourneyMap;

/// What a placed box shows.
#[derive(Debug, Clone, PartialEq)]
pub enum What {
    Card {
        hypothesis: bool,
    },
    Touchpoint,
    /// `off_target` is `None` when the metric has no target or no measurement; `points` are its
    /// values in date order.
    Metric {
        off_target: Option<bool>,
        points: Vec<f64>,
    },
}

/// An item to place in a lane: its columns, what it is, its texts.
pub struct Item {
    pub id: String,
    pub first: usize,
    pub last: usize,
    pub what: What,
    pub text: String,
    /// Badges in words, each kept whole on a line where it fits.
    pub meta: Vec<String>,
    pub stripe: &'static str,
}

/// A lane as drawn: the map's lanes, plus a lane for typed touchpoints or metrics when the map
/// has some but no lane of that kind (so nothing typed is left off the wall).
pub struct Row {
    pub name: String,
    pub kind: String,
    lane_id: Option<String>,
    /// Whether the map's typed touchpoints/metrics go in this row (the first of its kind).
    typed: bool,
}

pub fn lane_rows(map: &JourneyMap) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for lane in &map.lanes {
        let typed = matches!(lane.kind.as_str(), "touchpoints" | "metrics")
            && !rows.iter().any(|r| r.kind == lane.kind);
        rows.push(Row {
            name: lane.name.clone(),
            kind: lane.kind.clone(),
            lane_id: Some(lane.id.clone()),
            typed,
        });
    }
    for (kind, some) in [
        ("touchpoints", !map.touchpoints.is_empty()),
        ("metrics", !map.metrics.is_empty()),
    ] {
        if some && !rows.iter().any(|r| r.kind == kind) {
            rows.push(Row {
                name: style::lane_kind_name(kind).to_owned(),
                kind: kind.to_owned(),
                lane_id: None,
                typed: true,
            });
        }
    }
    rows
}

/// What a lane row holds, in drawing order: typed touchpoints or metrics first, then its cards.
pub fn items(map: &JourneyMap, row: &Row) -> Vec<Item> {
    let step_index = |id: &str| map.steps.iter().position(|s| s.id == id);
    let mut items = Vec::new();
    if row.typed && row.kind == "touchpoints" {
        for t in &map.touchpoints {
            let Some(step) = t.step_id.as_deref().and_then(step_index) else {
                continue;
            };
            let channel = t
                .channel_id
                .as_deref()
                .and_then(|c| map.channels.iter().position(|ch| ch.id == c));
            let mut meta = Vec::new();
            if let Some(ch) = channel {
                meta.push(map.channels[ch].name.clone());
            }
            if let Some(owner) = &t.owner {
                meta.push(format!("Owner: {owner}"));
            }
            items.push(Item {
                id: t.id.clone(),
                first: step,
                last: step,
                what: What::Touchpoint,
                text: t.name.clone(),
                meta,
                stripe: channel.map_or(style::lane_colour("touchpoints"), style::channel_colour),
            });
        }
    }
    if row.typed && row.kind == "metrics" {
        for m in &map.metrics {
            let step = m.step_id.as_deref().and_then(step_index).or_else(|| {
                let t = map
                    .touchpoints
                    .iter()
                    .find(|t| Some(&t.id) == m.touchpoint_id.as_ref())?;
                t.step_id.as_deref().and_then(step_index)
            });
            let Some(step) = step else { continue };
            let (meta, what) = metric_meta(map, m);
            items.push(Item {
                id: m.id.clone(),
                first: step,
                last: step,
                what,
                text: m.name.clone(),
                meta,
                stripe: style::lane_colour("metrics"),
            });
        }
    }
    let Some(lane_id) = &row.lane_id else {
        return items;
    };
    for c in map.cards.iter().filter(|c| &c.lane_id == lane_id) {
        let Some(first) = step_index(&c.step_id) else {
            continue;
        };
        let last = c
            .end_step_id
            .as_deref()
            .and_then(step_index)
            .unwrap_or(first)
            .max(first);
        items.push(Item {
            id: c.id.clone(),
            first,
            last,
            what: What::Card {
                hypothesis: !super::super::is_evidenced(c),
            },
            text: c.text.clone(),
            meta: card_meta(map, c),
            stripe: style::lane_colour(&row.kind),
        });
    }
    items
}

/// A card's badges in words: evidence, severity, impact and effort, persona, status, owner, due.
fn card_meta(map: &JourneyMap, c: &waymark_protocol::schema::Card) -> Vec<String> {
    let mut parts = Vec::new();
    let level = c.evidence.as_deref().unwrap_or("hypothesis");
    parts.push(format!("{} {level}", style::evidence_mark(Some(level))));
    if let Some(s) = c.severity {
        parts.push(format!("Severity {s}/5"));
    }
    match (c.impact, c.effort) {
        (Some(i), Some(e)) => parts.push(format!("Impact {i} · Effort {e}")),
        (Some(i), None) => parts.push(format!("Impact {i}")),
        (None, Some(e)) => parts.push(format!("Effort {e}")),
        (None, None) => {}
    }
    if let Some(p) = c
        .persona_id
        .as_deref()
        .and_then(|p| map.personas.iter().find(|x| x.id == p))
    {
        parts.push(p.name.clone());
    }
    if let Some(s) = &c.status {
        parts.push(s.clone());
    }
    if let Some(o) = &c.owner {
        parts.push(format!("Owner: {o}"));
    }
    if let Some(d) = &c.due {
        parts.push(format!("due {d}"));
    }
    parts
}

/// A metric's latest value against its target, in words, and what the tile shows.
fn metric_meta(map: &JourneyMap, m: &waymark_protocol::schema::Metric) -> (Vec<String>, What) {
    let unit = m.unit.as_deref().unwrap_or("");
    let lower = m.direction.as_deref() == Some("lower-is-better");
    let latest = super::super::latest(m, &map.measurements);
    let mut values: Vec<&waymark_protocol::schema::Measurement> = map
        .measurements
        .iter()
        .filter(|x| x.metric_id == m.id)
        .collect();
    values.sort_by(|a, b| (&a.date, &a.id).cmp(&(&b.date, &b.id)));
    let off_target = match (latest, m.target) {
        (Some(x), Some(t)) => Some(if lower { x.value > t } else { x.value < t }),
        _ => None,
    };
    let mut value = match latest {
        Some(x) => super::super::with_unit(x.value, unit),
        None => "not measured yet".to_owned(),
    };
    if let Some(t) = m.target {
        let _ = write!(
            value,
            " / target {} {}",
            super::super::with_unit(t, unit),
            if lower { "↓" } else { "↑" }
        );
    }
    let mut parts = vec![value];
    match off_target {
        Some(true) => parts.push("▼ off target".to_owned()),
        Some(false) => parts.push("✓ on target".to_owned()),
        None => {}
    }
    if let Some(x) = latest {
        parts.push(x.date.clone());
    }
    if let Some(o) = &m.owner {
        parts.push(format!("Owner: {o}"));
    }
    (
        parts,
        What::Metric {
            off_target,
            points: values.iter().map(|x| x.value).collect(),
        },
    )
}
