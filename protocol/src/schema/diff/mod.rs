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
//!
//! The comparison is here; `entities` says, kind by kind, what identifies an entity, what its
//! position is and how it is labelled; `markdown` renders labels and the review summary.

mod entities;
mod markdown;

use self::entities::{Entity, Names};
use self::markdown::label;
use super::model::*;
use super::rank;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

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
