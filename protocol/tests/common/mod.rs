//! What the diff tests share: documents made from a template and edited with the typed editor, as
//! a client would, read back into maps, and the known set of edits several tests compare.

#![allow(dead_code, reason = "each test crate uses a subset of the helpers")]

use waymark_protocol::schema::diff::{PlaceRef, Snapshot};
use waymark_protocol::schema::templates::find;
use waymark_protocol::schema::{
    At, Card, Collection, Editor, EntityKind, JourneyMap, Lane, Stage, Step, read,
};
use yrs::{Any, Doc, Options, Transact};

pub fn doc(client: u64) -> Doc {
    Doc::with_options(Options {
        client_id: yrs::ClientID::new(client),
        ..Options::default()
    })
}

/// A document holding the e-commerce template.
pub fn ecommerce(client: u64) -> Doc {
    let d = doc(client);
    find("ecommerce-purchase")
        .unwrap()
        .apply(&mut d.transact_mut(), 1_700_000_000_000)
        .unwrap();
    d
}

pub fn map_of(d: &Doc) -> JourneyMap {
    let r = read(&d.transact());
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    r.map
}

pub fn edit<T>(d: &Doc, f: impl FnOnce(&mut Editor<'_, '_>) -> T) -> T {
    let mut txn = d.transact_mut();
    let mut ed = Editor::new(&mut txn);
    f(&mut ed)
}

pub fn stage<'m>(m: &'m JourneyMap, name: &str) -> &'m Stage {
    m.stages.iter().find(|s| s.name == name).unwrap()
}
pub fn step<'m>(m: &'m JourneyMap, name: &str) -> &'m Step {
    m.steps.iter().find(|s| s.name == name).unwrap()
}
pub fn lane<'m>(m: &'m JourneyMap, kind: &str) -> &'m Lane {
    m.lanes.iter().find(|l| l.kind == kind).unwrap()
}
pub fn card<'m>(m: &'m JourneyMap, text: &str) -> &'m Card {
    m.cards.iter().find(|c| c.text == text).unwrap()
}

pub fn step_ref(m: &JourneyMap, id: &str) -> PlaceRef {
    let s = m.steps.iter().find(|s| s.id == id).unwrap();
    PlaceRef {
        id: id.into(),
        name: Some(s.name.clone()),
        stage_name: Some(
            m.stages
                .iter()
                .find(|x| x.id == s.stage_id)
                .unwrap()
                .name
                .clone(),
        ),
        lane_kind: None,
    }
}
pub fn lane_ref(m: &JourneyMap, id: &str) -> PlaceRef {
    let l = m.lanes.iter().find(|l| l.id == id).unwrap();
    PlaceRef {
        id: id.into(),
        name: Some(l.name.clone()),
        stage_name: None,
        lane_kind: Some(l.kind.clone()),
    }
}

/// (kind, id, label) of snapshots, for comparing whole lists.
pub fn keys(v: &[Snapshot]) -> Vec<(EntityKind, String, String)> {
    v.iter()
        .map(|s| (s.kind, s.id.clone(), s.label.clone()))
        .collect()
}

/// The old map, the new one, and the ids the edits produced.
pub struct Edited {
    pub old: JourneyMap,
    pub new: JourneyMap,
    pub added_card: String,
    pub added_measurement: String,
}

/// Rename a step, add a card, delete a persona, move a card to another step, reorder a stage,
/// change a card's severity, set an emotion score, add a measurement.
pub fn known_edits() -> Edited {
    let d = ecommerce(3);
    let old = map_of(&d);
    let pays = step(&old, "Pays").id.clone();
    let pains = lane(&old, "pain-points").id.clone();
    let tom = old
        .personas
        .iter()
        .find(|p| p.name.starts_with("Tom"))
        .unwrap();
    let mara = old
        .personas
        .iter()
        .find(|p| p.name.starts_with("Mara"))
        .unwrap();
    let tabs = card(&old, "Opens three models in tabs");
    let label = card(&old, "Return label must be printed").id.clone();
    let size_guide = step(&old, "Checks the size guide").id.clone();
    let ad = step(&old, "Sees an ad").id.clone();
    let conversion = old.metrics.iter().find(|m| m.kind == "conversion").unwrap();
    let (added_card, added_measurement) = edit(&d, |ed| {
        ed.rename(Collection::Steps, &pays, "Pays now").unwrap();
        let c = ed
            .add_card(&pains, &pays, "Payment failed", At::Last)
            .unwrap();
        ed.delete(Collection::Personas, &tom.id).unwrap();
        ed.move_card(&tabs.id, &tabs.lane_id, &size_guide, At::Last)
            .unwrap();
        ed.reorder(Collection::Stages, &stage(&old, "Purchase").id, At::First)
            .unwrap();
        ed.set_field(Collection::Cards, &label, "severity", Some(Any::from(4i64)))
            .unwrap();
        ed.set_emotion(Some(&mara.id), &ad, -1).unwrap();
        let m = ed
            .record_measurement(&conversion.id, "2026-11-01", 63.0)
            .unwrap();
        (c, m)
    });
    let new = map_of(&d);
    Edited {
        old,
        new,
        added_card,
        added_measurement,
    }
}
