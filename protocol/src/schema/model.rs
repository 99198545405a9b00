//! The typed journey map: what a reader returns and what the JSON export holds. Field meanings are
//! in `SCHEMA.md`; here they are only typed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

pub const MAP_KINDS: &[&str] = &["journey-map", "experience-map", "service-blueprint"];
pub const LANE_KINDS: &[&str] = &[
    "actions",
    "touchpoints",
    "channels",
    "thoughts",
    "feelings",
    "emotions",
    "pain-points",
    "opportunities",
    "improvements",
    "metrics",
    "frontstage",
    "backstage",
    "support",
    "text",
    "images",
];
pub const EVIDENCE_LEVELS: &[&str] = &["hypothesis", "reported", "observed", "validated"];
pub const STATUSES: &[&str] = &["open", "planned", "in-progress", "done", "dropped"];
pub const METRIC_TYPES: &[&str] = &["csat", "nps", "ces", "conversion", "drop-off", "custom"];
pub const DIRECTIONS: &[&str] = &["higher-is-better", "lower-is-better"];
pub const LINK_KINDS: &[&str] = &["addresses", "implements", "relates"];

/// Emotion scores run from −2 to +2.
pub const EMOTION_RANGE: std::ops::RangeInclusive<i64> = -2..=2;
/// Severity, impact and effort run from 1 to 5.
pub const SCALE_RANGE: std::ops::RangeInclusive<i64> = 1..=5;

/// A customer journey map in its JSON form (`SCHEMA.md` §9).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    title = "Waymark journey map",
    description = "A journey map in its JSON form; field meanings are in protocol/SCHEMA.md."
)]
pub struct JourneyMap {
    pub schema_version: u32,
    pub meta: Meta,
    pub personas: Vec<Persona>,
    pub stages: Vec<Stage>,
    /// In column order: by stage, then by rank.
    pub steps: Vec<Step>,
    pub lanes: Vec<Lane>,
    pub cards: Vec<Card>,
    pub channels: Vec<Channel>,
    pub touchpoints: Vec<Touchpoint>,
    pub metrics: Vec<Metric>,
    pub measurements: Vec<Measurement>,
    pub links: Vec<Link>,
    pub emotions: Vec<Emotion>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub title: String,
    pub description: String,
    pub kind: String,
    pub scenario: String,
    pub goals: String,
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_due: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Persona {
    pub id: String,
    pub name: String,
    pub description: String,
    pub goals: String,
    pub needs: String,
    pub challenges: String,
    pub channels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<String>,
    pub rank: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub id: String,
    pub name: String,
    pub description: String,
    pub rank: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub id: String,
    pub stage_id: String,
    pub name: String,
    pub description: String,
    pub rank: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Lane {
    pub id: String,
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona_id: Option<String>,
    pub rank: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    pub id: String,
    pub lane_id: String,
    pub step_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_step_id: Option<String>,
    pub rank: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 5))]
    pub severity: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 5))]
    pub impact: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 5))]
    pub effort: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touchpoint_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub rank: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Touchpoint {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub rank: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touchpoint_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub rank: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Measurement {
    pub id: String,
    pub metric_id: String,
    pub date: String,
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub id: String,
    pub from: String,
    pub to: String,
    pub kind: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Emotion {
    /// Absent for a map-wide curve (key `*/<stepId>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona_id: Option<String>,
    pub step_id: String,
    #[schemars(range(min = -2, max = 2))]
    pub score: i8,
}

/// A problem found while reading a map; reading goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Warning {
    /// Where: a root, an entity (`cards/3fX9`) or a field (`cards/3fX9.laneId`).
    pub path: String,
    pub message: String,
}

/// The JSON Schema of a map's JSON form, as published in `protocol/map.schema.json`.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(JourneyMap)).expect("a schema serialises")
}
