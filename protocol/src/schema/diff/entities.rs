//! What the comparison needs to know about each kind of entity: its key across versions, its
//! position fields, its label, and the names of the places it refers to ([`Names`]).

use super::markdown::{LABEL_CHARS, label, one_line, truncate};
use super::{EntityKind, PlaceRef, Placement};
use crate::schema::model::*;
use serde::Serialize;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;

/// What the generic comparison needs to know about one kind of entity.
pub(super) trait Entity: Serialize + PartialEq {
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

pub(super) struct Pos<'a> {
    pub(super) rank: &'a str,
    pub(super) parent: [Option<&'a str>; 3],
    /// Entities with equal groups are siblings: their ranks order them among each other.
    pub(super) group: [Option<&'a str>; 2],
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
    same_apart_from_position!(Touchpoint; position: rank, step_id; content: name, channel_id, owner);
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
    same_apart_from_position!(Metric; position: rank, step_id; content: name, kind, unit, target, direction, touchpoint_id, owner);
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
pub(super) struct Names<'m> {
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
    pub(super) fn of(map: &'m JourneyMap) -> Self {
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
