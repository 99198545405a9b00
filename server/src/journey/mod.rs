//! What the server derives from a journey map's typed model: exports and insights.

pub mod export;
pub mod insights;
pub mod poster;

use waymark_protocol::schema::{Card, JourneyMap, Measurement, Metric};

/// The kind of the lane a card sits in (`""` when the lane does not exist).
fn lane_kind<'m>(map: &'m JourneyMap, card: &Card) -> &'m str {
    map.lanes
        .iter()
        .find(|l| l.id == card.lane_id)
        .map_or("", |l| l.kind.as_str())
}

/// A metric's current value: its measurement with the latest date (ties: greatest id), as
/// `SCHEMA.md` §5.10 defines it.
fn latest<'m>(metric: &Metric, measurements: &'m [Measurement]) -> Option<&'m Measurement> {
    measurements
        .iter()
        .filter(|m| m.metric_id == metric.id)
        .max_by(|a, b| (&a.date, &a.id).cmp(&(&b.date, &b.id)))
}

/// A value with its unit: `17%`, but `4.8 points`.
fn with_unit(value: f64, unit: &str) -> String {
    if unit.starts_with(|c: char| c.is_alphabetic()) {
        format!("{value} {unit}")
    } else {
        format!("{value}{unit}")
    }
}

/// Evidence stronger than a hypothesis.
fn is_evidenced(card: &Card) -> bool {
    matches!(
        card.evidence.as_deref(),
        Some("reported" | "observed" | "validated")
    )
}
