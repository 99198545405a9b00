//! Ready-made maps to start from: realistic, filled-in examples of the common kinds of journey.
//! Each is a [`Spec`] applied through the [`Editor`], so a map made from a template is an ordinary
//! map in every respect.
//!
//! The builder and the shapes of a template's data are here; each template's data is in its own
//! file.

mod blueprint;
mod ecommerce;
mod saas;
mod support;

use super::edit::{At, Collection, EditError, Editor};
use yrs::{Any, TransactionMut};

/// A template's name and what it shows, for listings.
#[derive(Clone, Copy)]
pub struct Template {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    spec: &'static Spec,
}

/// Every template, by name.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "ecommerce-purchase",
        title: "E-commerce purchase",
        description: "From seeing an ad to receiving the parcel, for a first-time mobile shopper.",
        spec: &ecommerce::SPEC,
    },
    Template {
        name: "saas-onboarding",
        title: "SaaS onboarding",
        description: "A team admin's first two weeks with a B2B product, from sign-up to habit.",
        spec: &saas::SPEC,
    },
    Template {
        name: "contact-center-support",
        title: "Contact-center support journey",
        description: "A customer with a billing problem, from noticing it to a resolved case.",
        spec: &support::SPEC,
    },
    Template {
        name: "service-blueprint",
        title: "Service blueprint: hotel stay",
        description: "A hotel stay with the frontstage, backstage and support processes behind it.",
        spec: &blueprint::SPEC,
    },
];

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Finds a template by name.
pub fn find(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

impl Template {
    /// Writes the template into an empty map.
    pub fn apply(&self, txn: &mut TransactionMut, created_at: i64) -> Result<(), EditError> {
        build(self, txn, created_at)
    }
}

struct Spec {
    kind: &'static str,
    scenario: &'static str,
    goals: &'static str,
    /// name, description, goals, needs, challenges, lifecycle stage
    personas: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    )],
    channels: &'static [&'static str],
    /// stage name, its steps
    stages: &'static [(&'static str, &'static [&'static str])],
    /// lane kind, lane name
    lanes: &'static [(&'static str, &'static str)],
    cards: &'static [CardSpec],
    /// per persona, a score per step (in column order)
    emotions: &'static [&'static [i8]],
    /// name, channel index, step index
    touchpoints: &'static [(&'static str, usize, usize)],
    metrics: &'static [MetricSpec],
    /// from card, to card, kind (indexes into `cards`)
    links: &'static [(usize, usize, &'static str)],
}

#[derive(Clone, Copy)]
struct CardSpec {
    lane: usize,
    step: usize,
    text: &'static str,
    evidence: Option<(&'static str, &'static str)>,
    severity: Option<i64>,
    impact_effort: Option<(i64, i64)>,
    status: Option<(&'static str, &'static str)>,
}

const fn c(lane: usize, step: usize, text: &'static str) -> CardSpec {
    CardSpec {
        lane,
        step,
        text,
        evidence: None,
        severity: None,
        impact_effort: None,
        status: None,
    }
}

/// A pain point: severity and the evidence behind it.
const fn pain(
    lane: usize,
    step: usize,
    text: &'static str,
    severity: i64,
    level: &'static str,
    source: &'static str,
) -> CardSpec {
    CardSpec {
        severity: Some(severity),
        evidence: Some((level, source)),
        ..c(lane, step, text)
    }
}

/// An opportunity: expected impact and effort.
const fn idea(lane: usize, step: usize, text: &'static str, impact: i64, effort: i64) -> CardSpec {
    CardSpec {
        impact_effort: Some((impact, effort)),
        ..c(lane, step, text)
    }
}

/// An improvement action: status and owner.
const fn action(
    lane: usize,
    step: usize,
    text: &'static str,
    status: &'static str,
    owner: &'static str,
) -> CardSpec {
    CardSpec {
        status: Some((status, owner)),
        ..c(lane, step, text)
    }
}

struct MetricSpec {
    name: &'static str,
    kind: &'static str,
    target: f64,
    direction: &'static str,
    step: Option<usize>,
    unit: &'static str,
    values: &'static [(&'static str, f64)],
}

fn build(t: &Template, txn: &mut TransactionMut, created_at: i64) -> Result<(), EditError> {
    let s = t.spec;
    let mut ed = Editor::new(txn);
    ed.init(t.title, s.kind, created_at)?;
    ed.set_meta("description", Some(t.description));
    ed.set_meta("scenario", Some(s.scenario));
    ed.set_meta("goals", Some(s.goals));
    ed.set_meta("template", Some(t.name));
    let channels = s
        .channels
        .iter()
        .map(|name| ed.add_channel(name, At::Last))
        .collect::<Result<Vec<_>, _>>()?;
    let mut personas = Vec::new();
    for (name, description, goals, needs, challenges, lifecycle) in s.personas {
        let id = ed.add_persona(name, At::Last)?;
        for (field, value) in [
            ("description", description),
            ("goals", goals),
            ("needs", needs),
            ("challenges", challenges),
            ("lifecycleStage", lifecycle),
        ] {
            ed.set_field(Collection::Personas, &id, field, Some(Any::from(*value)))?;
        }
        let preferred: Vec<Any> = channels
            .iter()
            .take(2)
            .map(|c| Any::from(c.as_str()))
            .collect();
        ed.set_field(
            Collection::Personas,
            &id,
            "channels",
            Some(Any::from(preferred)),
        )?;
        personas.push(id);
    }
    let mut steps = Vec::new();
    for (stage, stage_steps) in s.stages {
        let stage_id = ed.add_stage(stage, At::Last)?;
        for step in *stage_steps {
            steps.push(ed.add_step(&stage_id, step, At::Last)?);
        }
    }
    let lanes = s
        .lanes
        .iter()
        .map(|(kind, name)| ed.add_lane(kind, name, At::Last))
        .collect::<Result<Vec<_>, _>>()?;
    let mut cards = Vec::new();
    for card in s.cards {
        let id = ed.add_card(&lanes[card.lane], &steps[card.step], card.text, At::Last)?;
        let mut set =
            |field: &str, value: Any| ed.set_field(Collection::Cards, &id, field, Some(value));
        if let Some((level, source)) = card.evidence {
            set("evidence", Any::from(level))?;
            set("evidenceSource", Any::from(source))?;
        }
        if let Some(severity) = card.severity {
            set("severity", Any::from(severity))?;
        }
        if let Some((impact, effort)) = card.impact_effort {
            set("impact", Any::from(impact))?;
            set("effort", Any::from(effort))?;
        }
        if let Some((status, owner)) = card.status {
            set("status", Any::from(status))?;
            set("owner", Any::from(owner))?;
        }
        cards.push(id);
    }
    for (persona, scores) in personas.iter().zip(s.emotions) {
        for (step, score) in steps.iter().zip(scores.iter()) {
            ed.set_emotion(Some(persona), step, *score)?;
        }
    }
    for (name, channel, step) in s.touchpoints {
        ed.add_touchpoint(name, Some(&channels[*channel]), Some(&steps[*step]))?;
    }
    for m in s.metrics {
        let id = ed.add_metric(m.name, m.kind, Some(m.target), m.direction)?;
        ed.set_field(Collection::Metrics, &id, "unit", Some(Any::from(m.unit)))?;
        if let Some(step) = m.step {
            ed.set_reference(Collection::Metrics, &id, "stepId", Some(&steps[step]))?;
        }
        for (date, value) in m.values {
            ed.record_measurement(&id, date, *value)?;
        }
    }
    for (from, to, kind) in s.links {
        ed.link(&cards[*from], &cards[*to], kind)?;
    }
    Ok(())
}

// Lane indexes shared by the journey templates (all but the blueprint).
const ACTIONS: usize = 0;
const TOUCHPOINTS: usize = 1;
const THOUGHTS: usize = 2;
const PAINS: usize = 3;
const IDEAS: usize = 4;
const FIXES: usize = 5;
const JOURNEY_LANES: &[(&str, &str)] = &[
    ("actions", "What the customer does"),
    ("touchpoints", "Touchpoints"),
    ("thoughts", "Thinking and feeling"),
    ("pain-points", "Pain points"),
    ("opportunities", "Opportunities"),
    ("improvements", "Improvement actions"),
    ("emotions", "Emotion curve"),
    ("metrics", "Metrics"),
];
