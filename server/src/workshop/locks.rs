//! What a facilitator's locks cover, and whether a change of the map touches locked content.
//!
//! Changes are judged on the typed map (the schema's reading of the document) before and after
//! an update, so what counts is what a person would see change, however the update was made.

use std::collections::HashMap;
use waymark_protocol::schema::{Card, JourneyMap};

/// Something a facilitator can lock.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// Every stage, step and lane: the map's structure.
    Structure,
    /// A lane and every card in it.
    Lane(String),
    /// One card.
    Card(String),
}

impl Target {
    /// `structure`, `lanes/<id>` or `cards/<id>` (the `<collection>/<id>` form of SCHEMA.md).
    pub fn parse(s: &str) -> Option<Target> {
        let valid = |id: &str| !id.is_empty() && id.len() <= super::MAX_ID;
        match s.split_once('/') {
            None if s == "structure" => Some(Target::Structure),
            Some(("lanes", id)) if valid(id) => Some(Target::Lane(id.to_owned())),
            Some(("cards", id)) if valid(id) => Some(Target::Card(id.to_owned())),
            _ => None,
        }
    }
}

/// The first locked thing `after` changes relative to `before`, described for the person whose
/// change it was; `None` when the change leaves every locked thing as it was.
pub fn violation<'t>(
    before: &JourneyMap,
    after: &JourneyMap,
    locks: impl IntoIterator<Item = &'t Target>,
) -> Option<String> {
    let cards_before: HashMap<&str, &Card> =
        before.cards.iter().map(|c| (c.id.as_str(), c)).collect();
    let cards_after: HashMap<&str, &Card> =
        after.cards.iter().map(|c| (c.id.as_str(), c)).collect();
    for lock in locks {
        match lock {
            Target::Structure => {
                if before.stages != after.stages
                    || before.steps != after.steps
                    || before.lanes != after.lanes
                {
                    return Some("the map's structure (stages, steps and lanes) is locked".into());
                }
            }
            Target::Lane(lane) => {
                let lane_of = |m: &JourneyMap| m.lanes.iter().find(|l| &l.id == lane).cloned();
                if lane_of(before) != lane_of(after) {
                    return Some(format!("lane {lane:?} is locked"));
                }
                let touched = before
                    .cards
                    .iter()
                    .chain(&after.cards)
                    .filter(|c| &c.lane_id == lane)
                    .any(|c| cards_before.get(c.id.as_str()) != cards_after.get(c.id.as_str()));
                if touched {
                    return Some(format!("the cards of lane {lane:?} are locked"));
                }
            }
            Target::Card(card) => {
                if cards_before.get(card.as_str()) != cards_after.get(card.as_str()) {
                    return Some(format!("card {card:?} is locked"));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use waymark_protocol::schema::{Lane, Step};

    fn map() -> JourneyMap {
        let mut m = JourneyMap::default();
        m.steps.push(Step {
            id: "s1".into(),
            ..Default::default()
        });
        for lane in ["l1", "l2"] {
            m.lanes.push(Lane {
                id: lane.into(),
                name: lane.into(),
                ..Default::default()
            });
        }
        for (id, lane) in [("c1", "l1"), ("c2", "l2")] {
            m.cards.push(Card {
                id: id.into(),
                lane_id: lane.into(),
                step_id: "s1".into(),
                text: "text".into(),
                ..Default::default()
            });
        }
        m
    }

    #[test]
    fn locks_cover_what_they_name_and_nothing_else() {
        let before = map();
        let structure = [Target::Structure];
        let lane = [Target::Lane("l1".into())];
        let card = [Target::Card("c2".into())];

        let mut renamed = before.clone();
        renamed.lanes[1].name = "other".into();
        assert!(violation(&before, &renamed, &structure).is_some());
        assert!(violation(&before, &renamed, &lane).is_none());

        let mut edited = before.clone();
        edited.cards[0].text = "changed".into();
        assert!(violation(&before, &edited, &structure).is_none());
        assert!(violation(&before, &edited, &lane).is_some());
        assert!(violation(&before, &edited, &card).is_none());

        // Moving a card out of a locked lane, adding one to it, deleting a locked card.
        let mut moved = before.clone();
        moved.cards[0].lane_id = "l2".into();
        assert!(violation(&before, &moved, &lane).is_some());
        let mut added = before.clone();
        let mut new = added.cards[1].clone();
        new.id = "c3".into();
        new.lane_id = "l1".into();
        added.cards.push(new);
        assert!(violation(&before, &added, &lane).is_some());
        let mut deleted = before.clone();
        deleted.cards.remove(1);
        assert_eq!(
            violation(&before, &deleted, &card).as_deref(),
            Some("card \"c2\" is locked")
        );
        assert!(violation(&before, &deleted, &lane).is_none());
    }

    #[test]
    fn targets_parse() {
        assert_eq!(Target::parse("structure"), Some(Target::Structure));
        assert_eq!(Target::parse("lanes/a"), Some(Target::Lane("a".into())));
        assert_eq!(Target::parse("cards/"), None);
        assert_eq!(Target::parse("steps/a"), None);
    }
}
