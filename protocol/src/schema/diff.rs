//! Entity-by-entity comparison of two journey maps ([`diff`]) and its review summary
//! ([`MapDiff::to_markdown`]): what was added, removed, moved and changed between two versions.
//!
//! Entities are matched by id (emotion scores, which have none, by `personaId`/`stepId`), never by
//! position or content: ids are stable for an entity's whole life (`SCHEMA.md` §2), so a renamed
//! card is the same card and a deleted-then-recreated one is a different one.
//!
//! What counts as what:
//! - **added** / **removed**: the id is only in the new / only in the old map. The record holds the
//!   whole entity as JSON, and for steps, cards, touchpoints and metrics where it sits.
//! - **moved**: the entity's position fields differ: its `rank` and/or its parent or cell (a step's
//!   `stageId`; a card's `laneId`, `stepId`, `endStepId`; a touchpoint's or metric's `stepId`).
//!   Ranks are compared as strings: reordering rewrites only the moved entity's rank (`SCHEMA.md`
//!   §3), so a sibling's rank never changes because of it and needs no special treatment.
//! - **changed**: any other field differs. Fields are compared in their JSON form, by their JSON
//!   names; an absent optional field is `null`.
//!
//! An entity that moved *and* changed appears once in `moved` and once in `changed`, each record
//! holding only its own part, so each list answers one question and the counts add up per list.
//!
//! Labels and the names used to describe places are resolved when diffing (the Markdown summary is
//! rendered from the diff alone): an entity that exists in the old map (removed, moved, changed) is
//! labelled as it was there, so `name "Pay" → "Pay now"` reads as a change *of* "Pay"; an added one
//! as it is in the new map. A place is described with the names of the map it is in: a move's
//! `from` with the old map, its `to` with the new one.

use super::model::*;
use super::rank;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

/// Labels longer than this many characters are cut, with an ellipsis.
const LABEL_CHARS: usize = 60;
/// Field values in the Markdown summary are cut after this many characters.
const VALUE_CHARS: usize = 80;

/// The kinds of entity a map holds, in the order of the model (and of every list in a diff).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum EntityKind {
    /// The map's own fields (`meta`, with `schemaVersion`), as one pseudo-entity with id `meta`.
    Meta,
    Persona,
    Stage,
    Step,
    Lane,
    Card,
    Channel,
    Touchpoint,
    Metric,
    Measurement,
    Link,
    /// An emotion score; its id is `<personaId>/<stepId>` (`*` for the map-wide curve).
    Emotion,
}

impl EntityKind {
    pub const ALL: [EntityKind; 12] = [
        EntityKind::Meta,
        EntityKind::Persona,
        EntityKind::Stage,
        EntityKind::Step,
        EntityKind::Lane,
        EntityKind::Card,
        EntityKind::Channel,
        EntityKind::Touchpoint,
        EntityKind::Metric,
        EntityKind::Measurement,
        EntityKind::Link,
        EntityKind::Emotion,
    ];

    /// The word for one entity of this kind, as used in sentences ("Added card …").
    pub fn noun(self) -> &'static str {
        match self {
            EntityKind::Meta => "map",
            EntityKind::Persona => "persona",
            EntityKind::Stage => "stage",
            EntityKind::Step => "step",
            EntityKind::Lane => "lane",
            EntityKind::Card => "card",
            EntityKind::Channel => "channel",
            EntityKind::Touchpoint => "touchpoint",
            EntityKind::Metric => "metric",
            EntityKind::Measurement => "measurement",
            EntityKind::Link => "link",
            EntityKind::Emotion => "emotion score",
        }
    }

    /// The heading of this kind's section in the Markdown summary.
    pub fn heading(self) -> &'static str {
        match self {
            EntityKind::Meta => "Map",
            EntityKind::Persona => "Personas",
            EntityKind::Stage => "Stages",
            EntityKind::Step => "Steps",
            EntityKind::Lane => "Lanes",
            EntityKind::Card => "Cards",
            EntityKind::Channel => "Channels",
            EntityKind::Touchpoint => "Touchpoints",
            EntityKind::Metric => "Metrics",
            EntityKind::Measurement => "Measurements",
            EntityKind::Link => "Links",
            EntityKind::Emotion => "Emotion scores",
        }
    }
}

/// Everything that differs between two maps. Each list is ordered by kind (as in
/// [`EntityKind::ALL`]), then by the entities' order in the map they are described from (the new
/// map, except for `removed`: the old one), which for maps returned by the reader is reading order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MapDiff {
    pub summary: Summary,
    /// Entities only in the new map.
    pub added: Vec<Snapshot>,
    /// Entities only in the old map.
    pub removed: Vec<Snapshot>,
    /// Entities in both whose rank or parent/cell differs.
    pub moved: Vec<Moved>,
    /// Entities in both with other differing fields.
    pub changed: Vec<Changed>,
}

/// How many records each list of a diff holds, in total and per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub added: usize,
    pub removed: usize,
    pub moved: usize,
    pub changed: usize,
    /// Only the kinds with at least one record, in the order of [`EntityKind::ALL`].
    pub by_kind: Vec<KindCounts>,
}

/// The number of records of one kind in each list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KindCounts {
    pub kind: EntityKind,
    pub added: usize,
    pub removed: usize,
    pub moved: usize,
    pub changed: usize,
}

/// An added or removed entity, whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub kind: EntityKind,
    pub id: String,
    /// A human label: the name or text (one line, cut to about 60 characters), or for measurements,
    /// links and emotion scores a phrase built from what they refer to.
    pub label: String,
    /// Where it is, for steps, cards, touchpoints and metrics (the kinds that have a parent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    /// The entity in its JSON form (`SCHEMA.md` §9).
    pub entity: Value,
}

/// An entity whose rank and/or parent (or cell) differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Moved {
    pub kind: EntityKind,
    pub id: String,
    pub label: String,
    /// Where it was, described with the old map's names.
    pub from: Placement,
    /// Where it is, described with the new map's names.
    pub to: Placement,
    /// The parent or cell differs (a step's stage; a card's lane, step or end step; a touchpoint's
    /// or metric's step).
    pub parent_changed: bool,
    /// The rank differs. Without `parentChanged`, this is a reorder among the same siblings.
    pub order_changed: bool,
}

/// An entity with differing fields other than its position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Changed {
    pub kind: EntityKind,
    pub id: String,
    pub label: String,
    /// In the alphabetical order of the field names.
    pub fields: Vec<FieldChange>,
}

/// One field's old and new value, as JSON; `null` for an absent field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldChange {
    /// The field's JSON name (`name`, `severity`, `endStepId`, ...).
    pub field: String,
    pub old: Value,
    pub new: Value,
}

/// Where an ordered entity sits: its rank and, for the kinds that have one, its parent or cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    pub rank: String,
    /// Its place among its siblings (same stage for steps, same cell for cards, all of the kind
    /// otherwise), in reading order. Given in moves only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// A step's stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<PlaceRef>,
    /// A card's lane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lane: Option<PlaceRef>,
    /// A card's (first) step; a touchpoint's or metric's step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<PlaceRef>,
    /// The last step of a card spanning several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_step: Option<PlaceRef>,
}

/// A 1-based position among `of` siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    pub index: usize,
    pub of: usize,
}

/// A stage, lane or step a placement refers to, with its names resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlaceRef {
    pub id: String,
    /// Absent when the reference is dangling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For a step: the name of its stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_name: Option<String>,
    /// For a lane: its kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lane_kind: Option<String>,
}

/// Compares two versions of a map entity by entity. Ids are expected to be unique within a
/// collection, as they are in a map read from a document; if one repeats, its last occurrence
/// counts.
pub fn diff(old: &JourneyMap, new: &JourneyMap) -> MapDiff {
    let names = (Names::of(old), Names::of(new));
    let mut out = MapDiff::default();
    diff_meta(old, new, &mut out);
    diff_kind(&old.personas, &new.personas, &names, &mut out);
    diff_kind(&old.stages, &new.stages, &names, &mut out);
    diff_kind(&old.steps, &new.steps, &names, &mut out);
    diff_kind(&old.lanes, &new.lanes, &names, &mut out);
    diff_kind(&old.cards, &new.cards, &names, &mut out);
    diff_kind(&old.channels, &new.channels, &names, &mut out);
    diff_kind(&old.touchpoints, &new.touchpoints, &names, &mut out);
    diff_kind(&old.metrics, &new.metrics, &names, &mut out);
    diff_kind(&old.measurements, &new.measurements, &names, &mut out);
    diff_kind(&old.links, &new.links, &names, &mut out);
    diff_kind(&old.emotions, &new.emotions, &names, &mut out);
    out.summary = out.summarise();
    out
}

impl MapDiff {
    /// Whether the two maps hold the same entities with the same fields.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.moved.is_empty()
            && self.changed.is_empty()
    }

    /// The records of one kind in each list (all zero for a kind without any).
    pub fn counts(&self, kind: EntityKind) -> KindCounts {
        KindCounts {
            kind,
            added: self.added.iter().filter(|r| r.kind == kind).count(),
            removed: self.removed.iter().filter(|r| r.kind == kind).count(),
            moved: self.moved.iter().filter(|r| r.kind == kind).count(),
            changed: self.changed.iter().filter(|r| r.kind == kind).count(),
        }
    }

    fn summarise(&self) -> Summary {
        Summary {
            added: self.added.len(),
            removed: self.removed.len(),
            moved: self.moved.len(),
            changed: self.changed.len(),
            by_kind: EntityKind::ALL
                .iter()
                .map(|&k| self.counts(k))
                .filter(|c| c.added + c.removed + c.moved + c.changed > 0)
                .collect(),
        }
    }

    /// A review summary: a heading, a summary line, then one section per kind with one line per
    /// record (added, removed, moved, changed, in that order). User text is put on one line and
    /// Markdown's inline markup characters in it are escaped.
    pub fn to_markdown(&self, old_label: &str, new_label: &str) -> String {
        let mut out = format!("# Changes from {} to {}\n\n", md(old_label), md(new_label));
        if self.is_empty() {
            out.push_str("No changes.\n");
            return out;
        }
        let s = &self.summary;
        let _ = writeln!(
            out,
            "{} added, {} removed, {} moved, {} changed.",
            s.added, s.removed, s.moved, s.changed
        );
        for kind in EntityKind::ALL {
            let mut lines = Vec::new();
            for r in self.added.iter().filter(|r| r.kind == kind) {
                lines.push(snapshot_line("Added", r));
            }
            for r in self.removed.iter().filter(|r| r.kind == kind) {
                lines.push(snapshot_line("Removed", r));
            }
            for r in self.moved.iter().filter(|r| r.kind == kind) {
                lines.push(moved_line(r));
            }
            for r in self.changed.iter().filter(|r| r.kind == kind) {
                lines.push(changed_line(r));
            }
            if !lines.is_empty() {
                let _ = writeln!(out, "\n## {}\n", kind.heading());
                for line in lines {
                    let _ = writeln!(out, "{line}");
                }
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Comparing

/// What the generic comparison needs to know about one kind of entity.
trait Entity: Serialize + PartialEq {
    const KIND: EntityKind;
    /// The JSON names of the fields reported as a move, not as a change.
    const POSITION_FIELDS: &'static [&'static str] = &[];
    /// What identifies the entity across versions.
    fn key(&self) -> Cow<'_, str>;
    fn label(&self, names: &Names<'_>) -> String;
    /// Rank, parent ids (compared for `parentChanged`) and the group its rank orders it within.
    fn pos(&self) -> Option<Pos<'_>> {
        None
    }
    /// Its placement with resolved names, for ordered kinds; `position` is left for the caller.
    fn placement(&self, _names: &Names<'_>) -> Option<Placement> {
        None
    }
    /// Whether all fields but the position fields are equal, when that is cheap to tell; `false`
    /// means "compare the JSON forms". Saves serialising entities that only moved.
    fn same_apart_from_position(&self, _other: &Self) -> bool {
        false
    }
}

/// Compares the listed content fields of two entities. The pattern names every field of the type
/// without `..`, so a field added to the model fails to compile here until it is classified as
/// position or content, rather than being silently left out of the comparison.
macro_rules! same_apart_from_position {
    ($ty:ident; position: $($pos:ident),*; content: $($field:ident),* $(,)?) => {
        fn same_apart_from_position(&self, other: &Self) -> bool {
            let $ty { id: _, $($pos: _,)* $($field: _,)* } = self;
            true $(&& self.$field == other.$field)*
        }
    };
}

struct Pos<'a> {
    rank: &'a str,
    parent: [Option<&'a str>; 3],
    /// Entities with equal groups are siblings: their ranks order them among each other.
    group: [Option<&'a str>; 2],
}

impl<'a> Pos<'a> {
    fn ranked(rank: &'a str) -> Self {
        Pos {
            rank,
            parent: [None; 3],
            group: [None; 2],
        }
    }
}

fn ranked_placement(rank: &str) -> Placement {
    Placement {
        rank: rank.to_owned(),
        ..Placement::default()
    }
}

impl Entity for Persona {
    const KIND: EntityKind = EntityKind::Persona;
    const POSITION_FIELDS: &'static [&'static str] = &["rank"];
    fn key(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }
    fn label(&self, _: &Names<'_>) -> String {
        label(&self.name, &self.id)
    }
    fn pos(&self) -> Option<Pos<'_>> {
        Some(Pos::ranked(&self.rank))
    }
    fn placement(&self, _: &Names<'_>) -> Option<Placement> {
        Some(ranked_placement(&self.rank))
    }
    same_apart_from_position!(Persona; position: rank; content: name, description, goals, needs, challenges, channels, lifecycle_stage);
}

impl Entity for Stage {
    const KIND: EntityKind = EntityKind::Stage;
    const POSITION_FIELDS: &'static [&'static str] = &["rank"];
    fn key(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }
    fn label(&self, _: &Names<'_>) -> String {
        label(&self.name, &self.id)
    }
    fn pos(&self) -> Option<Pos<'_>> {
        Some(Pos::ranked(&self.rank))
    }
    fn placement(&self, _: &Names<'_>) -> Option<Placement> {
        Some(ranked_placement(&self.rank))
    }
    same_apart_from_position!(Stage; position: rank; content: name, description);
}

impl Entity for Step {
    const KIND: EntityKind = EntityKind::Step;
    const POSITION_FIELDS: &'static [&'static str] = &["rank", "stageId"];
    fn key(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }
    fn label(&self, _: &Names<'_>) -> String {
        label(&self.name, &self.id)
    }
    fn pos(&self) -> Option<Pos<'_>> {
        Some(Pos {
            rank: &self.rank,
            parent: [Some(&self.stage_id), None, None],
            group: [Some(&self.stage_id), None],
        })
    }
    fn placement(&self, names: &Names<'_>) -> Option<Placement> {
        Some(Placement {
            stage: Some(names.stage_ref(&self.stage_id)),
            ..ranked_placement(&self.rank)
        })
    }
    same_apart_from_position!(Step; position: rank, stage_id; content: name, description);
}

impl Entity for Lane {
    const KIND: EntityKind = EntityKind::Lane;
    const POSITION_FIELDS: &'static [&'static str] = &["rank"];
    fn key(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }
    fn label(&self, _: &Names<'_>) -> String {
        label(&self.name, &self.id)
    }
    fn pos(&self) -> Option<Pos<'_>> {
        Some(Pos::ranked(&self.rank))
    }
    fn placement(&self, _: &Names<'_>) -> Option<Placement> {
        Some(ranked_placement(&self.rank))
    }
    same_apart_from_position!(Lane; position: rank; content: kind, name, persona_id);
}

impl Entity for Card {
    const KIND: EntityKind = EntityKind::Card;
    const POSITION_FIELDS: &'static [&'static str] = &["rank", "laneId", "stepId", "endStepId"];
    fn key(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }
    fn label(&self, _: &Names<'_>) -> String {
        label(&self.text, &self.id)
    }
    fn pos(&self) -> Option<Pos<'_>> {
        Some(Pos {
            rank: &self.rank,
            parent: [
                Some(&self.lane_id),
                Some(&self.step_id),
                self.end_step_id.as_deref(),
            ],
            // A card's rank orders it within its cell, lane × (first) step (`SCHEMA.md` §5.6).
            group: [Some(&self.lane_id), Some(&self.step_id)],
        })
    }
    fn placement(&self, names: &Names<'_>) -> Option<Placement> {
        Some(Placement {
            lane: Some(names.lane_ref(&self.lane_id)),
            step: Some(names.step_ref(&self.step_id)),
            end_step: self.end_step_id.as_deref().map(|s| names.step_ref(s)),
            ..ranked_placement(&self.rank)
        })
    }
    same_apart_from_position!(Card; position: rank, lane_id, step_id, end_step_id; content: text, persona_id, evidence, evidence_source, severity, impact, effort, status, owner, due, image_url, channel_id, touchpoint_id);
}

impl Entity for Channel {
    const KIND: EntityKind = EntityKind::Channel;
    const POSITION_FIELDS: &'static [&'static str] = &["rank"];
    fn key(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }
    fn label(&self, _: &Names<'_>) -> String {
        label(&self.name, &self.id)
    }
    fn pos(&self) -> Option<Pos<'_>> {
        Some(Pos::ranked(&self.rank))
    }
    fn placement(&self, _: &Names<'_>) -> Option<Placement> {
        Some(ranked_placement(&self.rank))
    }
    same_apart_from_position!(Channel; position: rank; content: name);
}

impl Entity for Touchpoint {
    const KIND: EntityKind = EntityKind::Touchpoint;
    const POSITION_FIELDS: &'static [&'static str] = &["rank", "stepId"];
    fn key(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }
    fn label(&self, _: &Names<'_>) -> String {
        label(&self.name, &self.id)
    }
    fn pos(&self) -> Option<Pos<'_>> {
        // Touchpoint ranks order all touchpoints (the editor ranks them as one list), so the step
        // is a parent for moves but not a sibling group.
        Some(Pos {
            parent: [self.step_id.as_deref(), None, None],
            ..Pos::ranked(&self.rank)
        })
    }
    fn placement(&self, names: &Names<'_>) -> Option<Placement> {
        Some(Placement {
            step: self.step_id.as_deref().map(|s| names.step_ref(s)),
            ..ranked_placement(&self.rank)
        })
    }
    same_apart_from_position!(Touchpoint; position: rank, step_id; content: name, channel_id);
}

impl Entity for Metric {
    const KIND: EntityKind = EntityKind::Metric;
    const POSITION_FIELDS: &'static [&'static str] = &["rank", "stepId"];
    fn key(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }
    fn label(&self, _: &Names<'_>) -> String {
        label(&self.name, &self.id)
    }
    fn pos(&self) -> Option<Pos<'_>> {
        // Like touchpoints: one ordered list, the step a parent only.
        Some(Pos {
            parent: [self.step_id.as_deref(), None, None],
            ..Pos::ranked(&self.rank)
        })
    }
    fn placement(&self, names: &Names<'_>) -> Option<Placement> {
        Some(Placement {
            step: self.step_id.as_deref().map(|s| names.step_ref(s)),
            ..ranked_placement(&self.rank)
        })
    }
    same_apart_from_position!(Metric; position: rank, step_id; content: name, kind, unit, target, direction, touchpoint_id);
}

impl Entity for Measurement {
    const KIND: EntityKind = EntityKind::Measurement;
    fn key(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }
    fn label(&self, names: &Names<'_>) -> String {
        let metric = names
            .metrics
            .get(self.metric_id.as_str())
            .map_or(self.metric_id.as_str(), |m| m.name.as_str());
        label(&format!("{}, {}", one_line(metric), self.date), &self.id)
    }
}

impl Entity for Link {
    const KIND: EntityKind = EntityKind::Link;
    fn key(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }
    fn label(&self, names: &Names<'_>) -> String {
        // Both ends must show, so each gets about half the room.
        let end = |id: &str| {
            let text = names.card(id).map_or(id, |c| c.text.as_str());
            truncate(&one_line(text), LABEL_CHARS / 2 - 2)
        };
        label(
            &format!("{} → {}", end(&self.from), end(&self.to)),
            &self.id,
        )
    }
}

impl Entity for Emotion {
    const KIND: EntityKind = EntityKind::Emotion;
    fn key(&self) -> Cow<'_, str> {
        Cow::Owned(format!(
            "{}/{}",
            self.persona_id.as_deref().unwrap_or("*"),
            self.step_id
        ))
    }
    fn label(&self, names: &Names<'_>) -> String {
        let persona = match &self.persona_id {
            None => "Everyone",
            Some(p) => names
                .personas
                .get(p.as_str())
                .map_or(p.as_str(), |p| &p.name),
        };
        let step = names
            .steps
            .get(self.step_id.as_str())
            .map_or(self.step_id.as_str(), |s| s.name.as_str());
        label(
            &format!("{} at {}", one_line(persona), one_line(step)),
            &self.step_id,
        )
    }
}

/// The entities of one map other entities refer to, by id, for labels and places.
struct Names<'m> {
    stages: HashMap<&'m str, &'m Stage>,
    steps: HashMap<&'m str, &'m Step>,
    lanes: HashMap<&'m str, &'m Lane>,
    personas: HashMap<&'m str, &'m Persona>,
    metrics: HashMap<&'m str, &'m Metric>,
    /// Cards are many and only links need their texts: indexed on first use.
    cards: OnceCell<HashMap<&'m str, &'m Card>>,
    all_cards: &'m [Card],
}

impl<'m> Names<'m> {
    fn of(map: &'m JourneyMap) -> Self {
        fn index<E>(v: &[E], id: impl Fn(&E) -> &str) -> HashMap<&str, &E> {
            v.iter().map(|e| (id(e), e)).collect()
        }
        Names {
            stages: index(&map.stages, |e| &e.id),
            steps: index(&map.steps, |e| &e.id),
            lanes: index(&map.lanes, |e| &e.id),
            personas: index(&map.personas, |e| &e.id),
            metrics: index(&map.metrics, |e| &e.id),
            cards: OnceCell::new(),
            all_cards: &map.cards,
        }
    }

    fn card(&self, id: &str) -> Option<&'m Card> {
        self.cards
            .get_or_init(|| self.all_cards.iter().map(|c| (c.id.as_str(), c)).collect())
            .get(id)
            .copied()
    }

    fn stage_ref(&self, id: &str) -> PlaceRef {
        PlaceRef {
            id: id.to_owned(),
            name: self.stages.get(id).map(|s| one_line(&s.name)),
            ..PlaceRef::default()
        }
    }

    fn lane_ref(&self, id: &str) -> PlaceRef {
        let lane = self.lanes.get(id);
        PlaceRef {
            id: id.to_owned(),
            name: lane.map(|l| one_line(&l.name)),
            lane_kind: lane.map(|l| l.kind.clone()),
            ..PlaceRef::default()
        }
    }

    fn step_ref(&self, id: &str) -> PlaceRef {
        let step = self.steps.get(id);
        PlaceRef {
            id: id.to_owned(),
            name: step.map(|s| one_line(&s.name)),
            stage_name: step
                .and_then(|s| self.stages.get(s.stage_id.as_str()))
                .map(|s| one_line(&s.name)),
            ..PlaceRef::default()
        }
    }
}

fn diff_meta(old: &JourneyMap, new: &JourneyMap, out: &mut MapDiff) {
    if old.meta == new.meta && old.schema_version == new.schema_version {
        return;
    }
    // `schemaVersion` lives in `meta` in the document (`SCHEMA.md` §5.1), so it is compared there.
    let json = |m: &JourneyMap| {
        let mut v = to_json(&m.meta);
        if let Value::Object(o) = &mut v {
            o.insert("schemaVersion".into(), m.schema_version.into());
        }
        v
    };
    let fields = field_changes(json(old), json(new), &[]);
    if !fields.is_empty() {
        out.changed.push(Changed {
            kind: EntityKind::Meta,
            id: "meta".into(),
            label: label(&old.meta.title, "meta"),
            fields,
        });
    }
}

fn diff_kind<'m, E: Entity>(
    old: &'m [E],
    new: &'m [E],
    names: &(Names<'m>, Names<'m>),
    out: &mut MapDiff,
) {
    let (old_names, new_names) = names;
    let old_index: HashMap<Cow<'m, str>, &'m E> = old.iter().map(|e| (e.key(), e)).collect();
    let new_index: HashMap<Cow<'m, str>, &'m E> = new.iter().map(|e| (e.key(), e)).collect();
    // Sibling positions are only needed for moves, which are rare: computed on the first one.
    let mut positions: Option<(Positions<'m>, Positions<'m>)> = None;
    // With a repeated id only the occurrence the index kept is compared, so each id is reported
    // once.
    let kept = |index: &HashMap<Cow<'m, str>, &'m E>, key: &str, e: &E| {
        index.get(key).is_some_and(|k| std::ptr::eq(*k, e))
    };
    for n in new {
        let key = n.key();
        if !kept(&new_index, &key, n) {
            continue;
        }
        let Some(&o) = old_index.get(&key) else {
            out.added.push(snapshot(n, new_names));
            continue;
        };
        if o == n {
            continue;
        }
        // Labelled once, though it may be needed twice (moved and changed).
        let mut label = None;
        if let (Some(op), Some(np)) = (o.pos(), n.pos()) {
            let parent_changed = op.parent != np.parent;
            let order_changed = op.rank != np.rank;
            if parent_changed || order_changed {
                let (old_pos, new_pos) = positions
                    .get_or_insert_with(|| (sibling_positions(old), sibling_positions(new)));
                let mut from = o.placement(old_names).unwrap_or_default();
                from.position = old_pos.get(key.as_ref()).copied();
                let mut to = n.placement(new_names).unwrap_or_default();
                to.position = new_pos.get(key.as_ref()).copied();
                out.moved.push(Moved {
                    kind: E::KIND,
                    id: key.clone().into_owned(),
                    label: label.get_or_insert_with(|| o.label(old_names)).clone(),
                    from,
                    to,
                    parent_changed,
                    order_changed,
                });
            }
        }
        if o.same_apart_from_position(n) {
            continue;
        }
        let fields = field_changes(to_json(o), to_json(n), E::POSITION_FIELDS);
        if !fields.is_empty() {
            out.changed.push(Changed {
                kind: E::KIND,
                id: key.into_owned(),
                label: label.unwrap_or_else(|| o.label(old_names)),
                fields,
            });
        }
    }
    for o in old {
        let key = o.key();
        if kept(&old_index, &key, o) && !new_index.contains_key(&key) {
            out.removed.push(snapshot(o, old_names));
        }
    }
}

fn snapshot<E: Entity>(e: &E, names: &Names<'_>) -> Snapshot {
    // Ranks alone say little about an added or removed entity; parents say where it is.
    let has_parent = E::POSITION_FIELDS.len() > 1;
    Snapshot {
        kind: E::KIND,
        id: e.key().into_owned(),
        label: e.label(names),
        placement: if has_parent { e.placement(names) } else { None },
        entity: to_json(e),
    }
}

type Positions<'m> = HashMap<&'m str, Position>;

/// Each entity's place among its siblings, ordered as the reader orders them: valid ranks first,
/// then by rank, then by id.
fn sibling_positions<'m, E: Entity>(items: &'m [E]) -> Positions<'m> {
    /// The reader's sort key: (invalid rank, rank, id).
    type SortKey<'a> = (bool, &'a str, &'a str);
    let mut groups: HashMap<[Option<&'m str>; 2], Vec<SortKey<'m>>> = HashMap::new();
    for e in items {
        // Ordered kinds are keyed by their id, which borrows from the map.
        if let (Some(p), Cow::Borrowed(id)) = (e.pos(), e.key()) {
            groups
                .entry(p.group)
                .or_default()
                .push((!rank::is_valid(p.rank), p.rank, id));
        }
    }
    let mut out = HashMap::new();
    for mut siblings in groups.into_values() {
        siblings.sort_unstable();
        let of = siblings.len();
        for (i, (_, _, id)) in siblings.into_iter().enumerate() {
            out.insert(id, Position { index: i + 1, of });
        }
    }
    out
}

fn to_json(e: &impl Serialize) -> Value {
    serde_json::to_value(e).expect("model types serialise to JSON")
}

/// The fields whose JSON values differ, `skip` left out, in alphabetical order (so the order does
/// not depend on how `serde_json` orders object keys).
fn field_changes(old: Value, new: Value, skip: &[&str]) -> Vec<FieldChange> {
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return Vec::new();
    };
    let names: BTreeSet<&String> = old
        .keys()
        .chain(new.keys())
        .filter(|k| !skip.contains(&k.as_str()))
        .collect();
    names
        .into_iter()
        .filter_map(|k| {
            let (o, n) = (
                old.get(k).unwrap_or(&Value::Null),
                new.get(k).unwrap_or(&Value::Null),
            );
            (o != n).then(|| FieldChange {
                field: k.clone(),
                old: o.clone(),
                new: n.clone(),
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Text

/// Whitespace runs (newlines included) as single spaces, none at the ends.
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_one_line(&mut out, s, false);
    out
}

/// Appends `s` on one line, and with `escape` Markdown's inline markup characters escaped. One
/// pass, no intermediate strings: labels and names go through here for every record.
fn push_one_line(out: &mut String, s: &str, escape: bool) {
    let special =
        |c: char| escape && matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|');
    // Most names and texts are already plain single-line ASCII: copied whole.
    let mut previous = b' ';
    let plain = s.bytes().all(|b| {
        let ok = (b.is_ascii_graphic() && !special(b as char)) || (b == b' ' && previous != b' ');
        previous = b;
        ok
    }) && previous != b' ';
    if plain {
        out.push_str(s);
        return;
    }
    let mut space = false;
    for c in s.trim().chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        if special(c) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// At most `max` characters; a cut text ends in an ellipsis, after a whole word when one ends in
/// the second half of what is kept.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let keep = max.saturating_sub(1);
    // There are more than `max` characters, so one follows the kept ones.
    let (cut, next) = s.char_indices().nth(keep).expect("longer than max");
    let mut out = &s[..cut];
    if !next.is_whitespace()
        && let Some(space) = out.rfind(char::is_whitespace)
        && out[..space].chars().count() >= keep / 2
    {
        out = &out[..space];
    }
    let out = out.trim_end_matches(|c: char| c.is_whitespace() || ",;:".contains(c));
    format!("{out}…")
}

/// A label from a name or text; the id when that is empty, so every record names something.
fn label(text: &str, id: &str) -> String {
    let text = one_line(text);
    if text.is_empty() {
        id.to_owned()
    } else {
        truncate(&text, LABEL_CHARS)
    }
}

/// User text for Markdown: one line, with inline markup characters escaped so that a card text
/// cannot turn into emphasis, a link, code or HTML.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push_one_line(&mut out, s, true);
    out
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", md(s))
}

/// A referenced entity's name, or a note that it does not exist.
fn ref_name(r: &PlaceRef, noun: &str) -> String {
    match &r.name {
        Some(n) if !n.is_empty() => md(n),
        Some(_) => format!("unnamed {noun}"),
        None => format!("missing {noun} {}", md(&r.id)),
    }
}

/// "Stage › Step".
fn step_text(r: &PlaceRef) -> String {
    match &r.stage_name {
        Some(stage) if r.name.is_some() => format!("{} › {}", md(stage), ref_name(r, "step")),
        _ => ref_name(r, "step"),
    }
}

/// The columns a card covers: "Stage › Step", or "Stage › Step – Stage › End step".
fn cell_text(p: &Placement) -> String {
    let first = p.step.as_ref().map_or_else(|| "no step".into(), step_text);
    match &p.end_step {
        Some(end) => format!("{first} – {}", step_text(end)),
        None => first,
    }
}

/// Where an entity of `kind` is, for moves: its parent, or for a card its cell (with the lane when
/// `with_lane`).
fn place_text(kind: EntityKind, p: &Placement, with_lane: bool) -> String {
    match kind {
        EntityKind::Step => p
            .stage
            .as_ref()
            .map_or_else(|| "no stage".into(), |s| ref_name(s, "stage")),
        EntityKind::Card if with_lane => {
            let lane = p
                .lane
                .as_ref()
                .map_or_else(|| "no lane".into(), |l| ref_name(l, "lane"));
            format!("{lane} at {}", cell_text(p))
        }
        _ => cell_text(p),
    }
}

fn position_text(p: Option<Position>) -> String {
    p.map_or_else(|| "?".into(), |p| format!("{} of {}", p.index, p.of))
}

/// A JSON value for a sentence: strings quoted, absence as "(none)", long values cut.
fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) => quoted(&truncate(&one_line(s), VALUE_CHARS)),
        Value::Number(_) | Value::Bool(_) => v.to_string(),
        _ => md(&truncate(&v.to_string(), VALUE_CHARS)),
    }
}

fn snapshot_line(verb: &str, r: &Snapshot) -> String {
    let mut line = format!("- {verb} {} {}", r.kind.noun(), quoted(&r.label));
    let field = |name: &str| r.entity.get(name).filter(|v| !v.is_null());
    match (r.kind, &r.placement) {
        (EntityKind::Step, Some(p)) => {
            let _ = write!(line, " in {}", place_text(r.kind, p, false));
        }
        (EntityKind::Card, Some(p)) => {
            if let Some(lane) = &p.lane {
                let _ = write!(line, " ({})", ref_name(lane, "lane"));
            }
            let _ = write!(line, " in {}", cell_text(p));
        }
        (EntityKind::Touchpoint | EntityKind::Metric, Some(p)) if p.step.is_some() => {
            let _ = write!(line, " at {}", cell_text(p));
        }
        (EntityKind::Lane | EntityKind::Link, _) => {
            if let Some(Value::String(kind)) = field("kind") {
                let _ = write!(line, " ({})", md(kind));
            }
        }
        (EntityKind::Measurement, _) => {
            if let Some(v) = field("value") {
                let _ = write!(line, ": {}", value_text(v));
            }
        }
        (EntityKind::Emotion, _) => match field("score").and_then(Value::as_i64) {
            Some(0) => line.push_str(": 0"),
            Some(score) => {
                let _ = write!(line, ": {score:+}");
            }
            None => {}
        },
        _ => {}
    }
    line
}

fn moved_line(r: &Moved) -> String {
    let noun = r.kind.noun();
    let label = quoted(&r.label);
    if r.parent_changed {
        let lane_changed = r.from.lane.as_ref().map(|l| &l.id) != r.to.lane.as_ref().map(|l| &l.id);
        let mut line = format!(
            "- Moved {noun} {label} from {} to {}",
            place_text(r.kind, &r.from, lane_changed),
            place_text(r.kind, &r.to, lane_changed),
        );
        match r.kind {
            // Steps and cards are ranked within their parent: say where in the new one.
            EntityKind::Step | EntityKind::Card => {
                let _ = write!(line, " (position {})", position_text(r.to.position));
            }
            // Touchpoints and metrics are ranked as one list, whatever their step.
            _ if r.order_changed => {
                let _ = write!(
                    line,
                    ", and reordered: position {} → {}",
                    position_text(r.from.position),
                    position_text(r.to.position)
                );
            }
            _ => {}
        }
        line
    } else {
        // Only the rank differs: the same siblings, another order.
        let within = match r.kind {
            EntityKind::Step | EntityKind::Card => {
                format!(" in {}", place_text(r.kind, &r.to, true))
            }
            _ => String::new(),
        };
        format!(
            "- Reordered {noun} {label}{within}: position {} → {}",
            position_text(r.from.position),
            position_text(r.to.position)
        )
    }
}

fn changed_line(r: &Changed) -> String {
    let fields: Vec<String> = r
        .fields
        .iter()
        .map(|f| {
            format!(
                "{} {} → {}",
                md(&f.field),
                value_text(&f.old),
                value_text(&f.new)
            )
        })
        .collect();
    format!(
        "- Changed {} {}: {}",
        r.kind.noun(),
        quoted(&r.label),
        fields.join("; ")
    )
}
