//! Insights: what a facilitator looks at to decide what to fix first.

use super::{is_evidenced, lane_kind, latest};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::HashSet;
use waymark_protocol::schema::{Card, JourneyMap, Measurement, Metric};

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Insights {
    /// Per persona (or the map-wide curve), its lowest score and the steps where it occurs.
    pub emotion_lows: Vec<EmotionLow>,
    /// Pain points, worst first: by severity, then by the emotion at their step.
    pub pain_points: Vec<RankedPain>,
    /// Steps where no card has evidence above a hypothesis.
    pub unevidenced_steps: Vec<Named>,
    /// Touchpoints without evidence above a hypothesis: typed touchpoints no evidenced card
    /// refers to, and the cards of touchpoint lanes that are themselves hypotheses.
    pub unevidenced_touchpoints: Vec<Named>,
    /// Pain points that no opportunity, improvement or action is linked to.
    pub unaddressed_pain_points: Vec<Named>,
    /// Metrics whose latest measurement misses the target.
    pub metrics_off_target: Vec<MetricStatus>,
    /// Metrics with a target but no measurement yet.
    pub metrics_without_data: Vec<Named>,
    /// Cards of metrics lanes: figures written as text, which no check can hold against a target
    /// until they are made metrics.
    pub untracked_metric_cards: Vec<Named>,
    pub channel_coverage: Coverage,
    /// How much each check looked at, so that "nothing found" is never said of nothing.
    pub checked: Checked,
}

/// What the checks covered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Checked {
    pub steps: u32,
    /// Typed touchpoints and touchpoint-lane cards.
    pub touchpoints: u32,
    pub pain_points: u32,
    /// Metrics with a target and at least one measurement.
    pub measured_metrics: u32,
    /// Metrics with a target.
    pub metrics_with_target: u32,
}

/// An entity a finding is about, with the root it lives in (SCHEMA.md §4: `steps`, `cards`,
/// `touchpoints`, `metrics`, …) so a client can show it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Named {
    pub collection: String,
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmotionLow {
    /// Absent for the map-wide curve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persona_id: Option<String>,
    pub persona: String,
    pub score: i8,
    pub steps: Vec<Named>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RankedPain {
    pub id: String,
    pub text: String,
    pub severity: Option<u8>,
    /// The lowest emotion score at the pain point's step (of its persona, if it has one).
    pub emotion: Option<i8>,
    pub step: Option<Named>,
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricStatus {
    pub id: String,
    pub name: String,
    pub target: f64,
    pub direction: String,
    pub value: f64,
    pub date: String,
}

/// How many touchpoints and cards each channel has in each stage.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    pub channels: Vec<Named>,
    pub stages: Vec<Named>,
    /// `counts[channel][stage]`.
    pub counts: Vec<Vec<u32>>,
}

pub fn insights(map: &JourneyMap) -> Insights {
    let with_target = map.metrics.iter().filter(|m| m.target.is_some());
    let checked = Checked {
        steps: map.steps.len() as u32,
        touchpoints: (map.touchpoints.len() + in_lanes(map, "touchpoints").count()) as u32,
        pain_points: pains(map).count() as u32,
        measured_metrics: with_target
            .clone()
            .filter(|m| latest(m, &map.measurements).is_some())
            .count() as u32,
        metrics_with_target: with_target.count() as u32,
    };
    Insights {
        emotion_lows: emotion_lows(map),
        pain_points: ranked_pains(map),
        unevidenced_steps: unevidenced_steps(map),
        unevidenced_touchpoints: unevidenced_touchpoints(map),
        unaddressed_pain_points: unaddressed(map),
        metrics_off_target: map
            .metrics
            .iter()
            .filter_map(|m| off_target(m, &map.measurements))
            .collect(),
        metrics_without_data: map
            .metrics
            .iter()
            .filter(|m| m.target.is_some() && latest(m, &map.measurements).is_none())
            .map(|m| named("metrics", &m.id, &m.name))
            .collect(),
        untracked_metric_cards: in_lanes(map, "metrics")
            .map(|c| named("cards", &c.id, &c.text))
            .collect(),
        channel_coverage: coverage(map),
        checked,
    }
}

fn named(collection: &str, id: &str, name: &str) -> Named {
    Named {
        collection: collection.to_owned(),
        id: id.to_owned(),
        name: name.to_owned(),
    }
}

/// The cards of every lane of `kind`.
fn in_lanes<'m>(map: &'m JourneyMap, kind: &'m str) -> impl Iterator<Item = &'m Card> + Clone {
    map.cards.iter().filter(move |c| lane_kind(map, c) == kind)
}

fn step_named(map: &JourneyMap, id: &str) -> Option<Named> {
    map.steps
        .iter()
        .find(|s| s.id == id)
        .map(|s| named("steps", &s.id, &s.name))
}

fn emotion_lows(map: &JourneyMap) -> Vec<EmotionLow> {
    let mut curves: Vec<(Option<String>, String)> = map
        .personas
        .iter()
        .map(|p| (Some(p.id.clone()), p.name.clone()))
        .collect();
    if map.emotions.iter().any(|e| e.persona_id.is_none()) {
        curves.push((None, "Everyone".into()));
    }
    curves
        .into_iter()
        .filter_map(|(persona_id, persona)| {
            let scores: Vec<_> = map
                .emotions
                .iter()
                .filter(|e| e.persona_id == persona_id)
                .collect();
            let low = scores.iter().map(|e| e.score).min()?;
            let steps = scores
                .iter()
                .filter(|e| e.score == low)
                .filter_map(|e| step_named(map, &e.step_id))
                .collect();
            Some(EmotionLow {
                persona_id,
                persona,
                score: low,
                steps,
            })
        })
        .collect()
}

fn pains(map: &JourneyMap) -> impl Iterator<Item = &Card> + Clone {
    in_lanes(map, "pain-points")
}

fn ranked_pains(map: &JourneyMap) -> Vec<RankedPain> {
    let mut out: Vec<RankedPain> = pains(map)
        .map(|c| {
            let emotion = map
                .emotions
                .iter()
                .filter(|e| e.step_id == c.step_id)
                .filter(|e| c.persona_id.is_none() || e.persona_id == c.persona_id)
                .map(|e| e.score)
                .min();
            RankedPain {
                id: c.id.clone(),
                text: c.text.clone(),
                severity: c.severity,
                emotion,
                step: step_named(map, &c.step_id),
                evidence: c.evidence.clone().unwrap_or_else(|| "hypothesis".into()),
            }
        })
        .collect();
    // Worst first: highest severity, then lowest emotion; unknowns after knowns.
    out.sort_by_key(|p| {
        (
            std::cmp::Reverse(p.severity.unwrap_or(0)),
            p.emotion.unwrap_or(i8::MAX),
            p.id.clone(),
        )
    });
    out
}

fn unevidenced_steps(map: &JourneyMap) -> Vec<Named> {
    let position = |id: &str| map.steps.iter().position(|s| s.id == id);
    let mut evidenced = HashSet::new();
    for c in map.cards.iter().filter(|c| is_evidenced(c)) {
        // A card spanning several steps supports each of them.
        if let Some(first) = position(&c.step_id) {
            let last = c
                .end_step_id
                .as_deref()
                .and_then(position)
                .unwrap_or(first)
                .max(first);
            for s in &map.steps[first..=last] {
                evidenced.insert(s.id.as_str());
            }
        }
    }
    map.steps
        .iter()
        .filter(|s| !evidenced.contains(s.id.as_str()))
        .map(|s| named("steps", &s.id, &s.name))
        .collect()
}

fn unevidenced_touchpoints(map: &JourneyMap) -> Vec<Named> {
    let evidenced: HashSet<&str> = map
        .cards
        .iter()
        .filter(|c| is_evidenced(c))
        .filter_map(|c| c.touchpoint_id.as_deref())
        .collect();
    let typed = map
        .touchpoints
        .iter()
        .filter(|t| !evidenced.contains(t.id.as_str()))
        .map(|t| named("touchpoints", &t.id, &t.name));
    // A touchpoint written as a card in a touchpoints lane carries its own evidence.
    let cards = in_lanes(map, "touchpoints")
        .filter(|c| !is_evidenced(c))
        .map(|c| named("cards", &c.id, &c.text));
    typed.chain(cards).collect()
}

fn unaddressed(map: &JourneyMap) -> Vec<Named> {
    let remedy = |id: &str| {
        map.cards.iter().find(|c| c.id == id).is_some_and(|c| {
            matches!(
                lane_kind(map, c),
                "opportunities" | "improvements" | "actions"
            )
        })
    };
    pains(map)
        .filter(|p| {
            !map.links
                .iter()
                .any(|l| (l.to == p.id && remedy(&l.from)) || (l.from == p.id && remedy(&l.to)))
        })
        .map(|p| named("cards", &p.id, &p.text))
        .collect()
}

fn off_target(metric: &Metric, measurements: &[Measurement]) -> Option<MetricStatus> {
    let target = metric.target?;
    let current = latest(metric, measurements)?;
    let direction = metric.direction.as_deref().unwrap_or("higher-is-better");
    let off = if direction == "lower-is-better" {
        current.value > target
    } else {
        current.value < target
    };
    off.then(|| MetricStatus {
        id: metric.id.clone(),
        name: metric.name.clone(),
        target,
        direction: direction.to_owned(),
        value: current.value,
        date: current.date.clone(),
    })
}

fn coverage(map: &JourneyMap) -> Coverage {
    let stage_of_step = |step: &str| {
        let stage = &map.steps.iter().find(|s| s.id == step)?.stage_id;
        map.stages.iter().position(|s| &s.id == stage)
    };
    let mut counts = vec![vec![0u32; map.stages.len()]; map.channels.len()];
    let mut count = |channel: Option<&str>, step: Option<&str>| {
        let ch = channel.and_then(|c| map.channels.iter().position(|x| x.id == c));
        let st = step.and_then(stage_of_step);
        if let (Some(ch), Some(st)) = (ch, st) {
            counts[ch][st] += 1;
        }
    };
    for t in &map.touchpoints {
        count(t.channel_id.as_deref(), t.step_id.as_deref());
    }
    for c in &map.cards {
        count(c.channel_id.as_deref(), Some(&c.step_id));
    }
    Coverage {
        channels: map
            .channels
            .iter()
            .map(|c| named("channels", &c.id, &c.name))
            .collect(),
        stages: map
            .stages
            .iter()
            .map(|s| named("stages", &s.id, &s.name))
            .collect(),
        counts,
    }
}
