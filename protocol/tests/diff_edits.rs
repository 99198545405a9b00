//! What the diff reports for edits made with the typed editor to a map made from a template:
//! nothing for none, each kind of edit as what it is, cascades, and the reverse comparison.

mod common;

use common::{
    Edited, card, ecommerce, edit, keys, known_edits, lane, lane_ref, map_of, stage, step, step_ref,
};
use serde_json::json;
use waymark_protocol::schema::diff::{Changed, FieldChange, Moved, Placement, Position};
use waymark_protocol::schema::{At, Card, Collection, EntityKind, JourneyMap, MapDiff, diff, read};
use yrs::Transact;

#[test]
fn identical_maps_have_an_empty_diff() {
    let a = ecommerce(1);
    let m = map_of(&a);
    // The same template applied by another client: different ids, so everything differs; the same
    // document read twice: nothing does.
    let d = diff(&m, &map_of(&a));
    assert!(d.is_empty(), "{d:#?}");
    assert_eq!(d, MapDiff::default());
    assert_eq!(
        d.to_markdown("v1", "v2"),
        "# Changes from v1 to v2\n\nNo changes.\n"
    );
    assert!(diff(&JourneyMap::default(), &JourneyMap::default()).is_empty());
    let other = map_of(&ecommerce(2));
    let d = diff(&m, &other);
    assert_eq!(d.summary.added, d.summary.removed);
    assert!(d.moved.is_empty() && d.changed.is_empty());
}

#[test]
fn known_edits_are_reported_exactly() {
    let Edited {
        old,
        new,
        added_card,
        added_measurement,
    } = known_edits();
    let d = diff(&old, &new);

    // Added: the card and the measurement, whole, in kind order.
    assert_eq!(
        keys(&d.added),
        vec![
            (
                EntityKind::Card,
                added_card.clone(),
                "Payment failed".into()
            ),
            (
                EntityKind::Measurement,
                added_measurement.clone(),
                "Checkout conversion, 2026-11-01".into()
            ),
        ]
    );
    let new_card = new.cards.iter().find(|c| c.id == added_card).unwrap();
    assert_eq!(d.added[0].entity, serde_json::to_value(new_card).unwrap());
    let pays = step(&new, "Pays now");
    let pains = lane(&new, "pain-points");
    assert_eq!(
        d.added[0].placement,
        Some(Placement {
            rank: new_card.rank.clone(),
            position: None,
            stage: None,
            lane: Some(lane_ref(&new, &pains.id)),
            step: Some(step_ref(&new, &pays.id)),
            end_step: None,
        })
    );
    assert_eq!(d.added[1].entity["value"], json!(63.0));
    assert_eq!(d.added[1].placement, None);

    // Removed: the persona and, by the cascade, its emotion scores: nothing else.
    let tom = old
        .personas
        .iter()
        .find(|p| p.name.starts_with("Tom"))
        .unwrap();
    let mut expected = vec![(EntityKind::Persona, tom.id.clone(), tom.name.clone())];
    for e in old
        .emotions
        .iter()
        .filter(|e| e.persona_id.as_deref() == Some(&tom.id))
    {
        let step = old.steps.iter().find(|s| s.id == e.step_id).unwrap();
        expected.push((
            EntityKind::Emotion,
            format!("{}/{}", tom.id, e.step_id),
            format!("{} at {}", tom.name, step.name),
        ));
    }
    assert_eq!(expected.len(), 11);
    assert_eq!(keys(&d.removed), expected);
    assert_eq!(d.removed[0].entity, serde_json::to_value(tom).unwrap());

    // Moved: the stage (a reorder) and the card (to another step).
    let purchase_old = stage(&old, "Purchase");
    let purchase_new = stage(&new, "Purchase");
    let tabs_old = card(&old, "Opens three models in tabs");
    let tabs_new = card(&new, "Opens three models in tabs");
    assert_eq!(
        d.moved,
        vec![
            Moved {
                kind: EntityKind::Stage,
                id: purchase_old.id.clone(),
                label: "Purchase".into(),
                from: Placement {
                    rank: purchase_old.rank.clone(),
                    position: Some(Position { index: 3, of: 5 }),
                    ..Placement::default()
                },
                to: Placement {
                    rank: purchase_new.rank.clone(),
                    position: Some(Position { index: 1, of: 5 }),
                    ..Placement::default()
                },
                parent_changed: false,
                order_changed: true,
            },
            Moved {
                kind: EntityKind::Card,
                id: tabs_old.id.clone(),
                label: tabs_old.text.clone(),
                from: Placement {
                    rank: tabs_old.rank.clone(),
                    position: Some(Position { index: 1, of: 1 }),
                    lane: Some(lane_ref(&old, &tabs_old.lane_id)),
                    step: Some(step_ref(&old, &tabs_old.step_id)),
                    ..Placement::default()
                },
                to: Placement {
                    rank: tabs_new.rank.clone(),
                    position: Some(Position { index: 2, of: 2 }),
                    lane: Some(lane_ref(&new, &tabs_new.lane_id)),
                    step: Some(step_ref(&new, &tabs_new.step_id)),
                    ..Placement::default()
                },
                parent_changed: true,
                order_changed: true,
            },
        ]
    );
    assert_eq!(
        d.moved[1].from.step.as_ref().unwrap().name.as_deref(),
        Some("Compares models")
    );
    assert_eq!(
        d.moved[1].to.step.as_ref().unwrap().name.as_deref(),
        Some("Checks the size guide")
    );

    // Changed: the step's name, the card's severity, the emotion score. Labels are the old ones.
    let pays_old = step(&old, "Pays");
    let label_card = card(&old, "Return label must be printed");
    let mara = old
        .personas
        .iter()
        .find(|p| p.name.starts_with("Mara"))
        .unwrap();
    let ad = step(&old, "Sees an ad");
    let change = |field: &str, old: serde_json::Value, new: serde_json::Value| FieldChange {
        field: field.into(),
        old,
        new,
    };
    assert_eq!(
        d.changed,
        vec![
            Changed {
                kind: EntityKind::Step,
                id: pays_old.id.clone(),
                label: "Pays".into(),
                fields: vec![change("name", json!("Pays"), json!("Pays now"))],
            },
            Changed {
                kind: EntityKind::Card,
                id: label_card.id.clone(),
                label: "Return label must be printed".into(),
                fields: vec![change("severity", json!(3), json!(4))],
            },
            Changed {
                kind: EntityKind::Emotion,
                id: format!("{}/{}", mara.id, ad.id),
                label: "Mara, busy parent at Sees an ad".into(),
                fields: vec![change("score", json!(1), json!(-1))],
            },
        ]
    );

    // The summary counts the lists, in total and per kind.
    assert_eq!(
        (
            d.summary.added,
            d.summary.removed,
            d.summary.moved,
            d.summary.changed
        ),
        (2, 11, 2, 3)
    );
    let kinds: Vec<EntityKind> = d.summary.by_kind.iter().map(|k| k.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EntityKind::Persona,
            EntityKind::Stage,
            EntityKind::Step,
            EntityKind::Card,
            EntityKind::Measurement,
            EntityKind::Emotion
        ]
    );
    let cards = d.counts(EntityKind::Card);
    assert_eq!(
        (cards.added, cards.removed, cards.moved, cards.changed),
        (1, 0, 1, 1)
    );
    assert_eq!(d.counts(EntityKind::Lane).added, 0);
}

#[test]
fn a_cascading_delete_reports_everything_it_took() {
    let d = ecommerce(4);
    let old = map_of(&d);
    let pays = step(&old, "Pays").id.clone();
    edit(&d, |ed| ed.delete(Collection::Steps, &pays)).unwrap();
    // The touchpoint and metric at that step now point nowhere (`SCHEMA.md` §6 allows it).
    let new = read(&d.transact()).map;
    let diff = diff(&old, &new);

    let cards: Vec<&Card> = old.cards.iter().filter(|c| c.step_id == pays).collect();
    assert_eq!(cards.len(), 6);
    let gone = |id: &str| cards.iter().any(|c| c.id == id);
    let mut expected = vec![(EntityKind::Step, pays.clone())];
    expected.extend(cards.iter().map(|c| (EntityKind::Card, c.id.clone())));
    let links: Vec<_> = old
        .links
        .iter()
        .filter(|l| gone(&l.from) || gone(&l.to))
        .collect();
    assert_eq!(links.len(), 2);
    expected.extend(links.iter().map(|l| (EntityKind::Link, l.id.clone())));
    for e in old.emotions.iter().filter(|e| e.step_id == pays) {
        let persona = e.persona_id.clone().unwrap();
        expected.push((EntityKind::Emotion, format!("{persona}/{pays}")));
    }
    assert_eq!(
        diff.removed
            .iter()
            .map(|r| (r.kind, r.id.clone()))
            .collect::<Vec<_>>(),
        expected
    );
    // Each card is shown where it was, with the old map's names.
    let pain = diff
        .removed
        .iter()
        .find(|r| r.label.starts_with("No PayPal"))
        .unwrap();
    let place = pain.placement.as_ref().unwrap();
    assert_eq!(place.step.as_ref().unwrap().name.as_deref(), Some("Pays"));
    assert_eq!(
        place.lane.as_ref().unwrap().name.as_deref(),
        Some("Pain points")
    );
    let link = diff
        .removed
        .iter()
        .find(|r| r.kind == EntityKind::Link && r.entity["kind"] == "addresses")
        .unwrap();
    assert_eq!(
        link.label,
        "Offer wallets: PayPal… → No PayPal or Apple Pay: 18%…"
    );
    // References from touchpoints and metrics to the step are left dangling, unchanged.
    assert!(diff.added.is_empty() && diff.moved.is_empty() && diff.changed.is_empty());
    let md = diff.to_markdown("before", "after");
    assert!(
        md.contains("- Removed card \"No PayPal or Apple Pay: 18% abandon at payment\" (Pain points) in Purchase › Pays\n"),
        "{md}"
    );
    assert!(md.contains("- Removed step \"Pays\" in Purchase\n"), "{md}");
    assert!(
        md.contains(
            "- Removed link \"Offer wallets: PayPal… → No PayPal or Apple Pay: 18%…\" (addresses)\n"
        ),
        "{md}"
    );
}

#[test]
fn reversing_the_arguments_swaps_added_and_removed() {
    let Edited { old, new, .. } = known_edits();
    let forward = diff(&old, &new);
    let back = diff(&new, &old);
    assert_eq!(back.added, forward.removed);
    assert_eq!(back.removed, forward.added);
    // Moves go back where they came from; changes swap old and new values.
    assert_eq!(back.moved.len(), forward.moved.len());
    for (b, f) in back.moved.iter().zip(&forward.moved) {
        assert_eq!(
            (b.kind, &b.id, &b.from, &b.to),
            (f.kind, &f.id, &f.to, &f.from)
        );
        assert_eq!(
            (b.parent_changed, b.order_changed),
            (f.parent_changed, f.order_changed)
        );
    }
    assert_eq!(back.changed.len(), forward.changed.len());
    for (b, f) in back.changed.iter().zip(&forward.changed) {
        assert_eq!((b.kind, &b.id), (f.kind, &f.id));
        let swapped: Vec<FieldChange> = f
            .fields
            .iter()
            .map(|c| FieldChange {
                field: c.field.clone(),
                old: c.new.clone(),
                new: c.old.clone(),
            })
            .collect();
        assert_eq!(b.fields, swapped);
    }
    // Labels come from the map an entity is described from: the renamed step is "Pays now" there.
    assert_eq!(back.changed[0].label, "Pays now");
    let (f, b) = (&forward.summary, &back.summary);
    assert_eq!(
        (b.added, b.removed, b.moved, b.changed),
        (f.removed, f.added, f.moved, f.changed)
    );
}

#[test]
fn meta_references_spans_and_markup_are_reported_as_what_they_are() {
    let d = ecommerce(5);
    let old = map_of(&d);
    let checkout = old
        .touchpoints
        .iter()
        .find(|t| t.name == "Checkout")
        .unwrap();
    let ad = step(&old, "Sees an ad").id.clone();
    let visits = step(&old, "Visits the site").id.clone();
    let legit = card(&old, "\"Is this shop legit?\"").id.clone();
    let thoughts = lane(&old, "thoughts").id.clone();
    let ideas = lane(&old, "opportunities").id.clone();
    let fill = step(&old, "Fills the cart").id.clone();
    let emotions_lane = lane(&old, "emotions").id.clone();
    let sponsored = card(&old, "Sponsored post").id.clone();
    edit(&d, |ed| {
        ed.set_meta("title", Some("Shoe purchase"));
        ed.set_meta("owner", Some("CX team"));
        ed.set_meta("reviewDue", Some("2027-01-31"));
        // A touchpoint's step is its position: a move, not a change.
        ed.set_reference(Collection::Touchpoints, &checkout.id, "stepId", Some(&ad))
            .unwrap();
        // A card's end step is part of its cell; its text is a change, written with markup.
        ed.set_reference(Collection::Cards, &legit, "endStepId", Some(&visits))
            .unwrap();
        ed.set_card_text(&legit, "Is *this* shop\nlegit? <b>|</b> [x](y)")
            .unwrap();
        // Moved to another lane in the same step: the lanes are named.
        ed.move_card(&sponsored, &thoughts, &ad, At::Last).unwrap();
        // Added and moved in the same edit: just added, where it ended up.
        let c = ed
            .add_card(&thoughts, &fill, "Where is the discount field?", At::Last)
            .unwrap();
        ed.move_card(&c, &ideas, &fill, At::First).unwrap();
        ed.reorder(Collection::Lanes, &emotions_lane, At::First)
            .unwrap();
        // The map-wide curve: no persona, keyed `*/<stepId>`.
        ed.set_emotion(None, &ad, 2).unwrap();
    });
    let new = map_of(&d);
    let diff = diff(&old, &new);
    assert_eq!(
        diff.added
            .iter()
            .map(|a| (a.kind, a.id.clone(), a.label.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (
                EntityKind::Card,
                diff.added[0].id.clone(),
                "Where is the discount field?"
            ),
            (
                EntityKind::Emotion,
                format!("*/{ad}"),
                "Everyone at Sees an ad"
            ),
        ]
    );
    assert_eq!(diff.added[1].entity, json!({"stepId": ad, "score": 2}));
    assert_eq!(
        diff.added[0]
            .placement
            .as_ref()
            .unwrap()
            .lane
            .as_ref()
            .unwrap()
            .id,
        ideas
    );
    assert!(diff.removed.is_empty());
    assert_eq!(
        diff.changed
            .iter()
            .map(|c| (
                c.kind,
                c.fields
                    .iter()
                    .map(|f| f.field.as_str())
                    .collect::<Vec<_>>()
            ))
            .collect::<Vec<_>>(),
        vec![
            (EntityKind::Meta, vec!["owner", "reviewDue", "title"]),
            (EntityKind::Card, vec!["text"]),
        ]
    );
    assert_eq!(diff.changed[0].id, "meta");
    assert_eq!(
        diff.changed[0].fields[1],
        FieldChange {
            field: "reviewDue".into(),
            old: json!(null),
            new: json!("2027-01-31"),
        },
        "an absent field is null"
    );
    assert_eq!(
        diff.moved
            .iter()
            .map(|m| (m.kind, m.parent_changed, m.order_changed))
            .collect::<Vec<_>>(),
        vec![
            (EntityKind::Lane, false, true),
            // Into an empty cell the card keeps its rank: only its lane changed.
            (EntityKind::Card, true, false),
            (EntityKind::Card, true, false),
            (EntityKind::Touchpoint, true, false),
        ]
    );
    let md = diff.to_markdown("v1", "v2");
    for expected in [
        "- Changed map \"E-commerce purchase\": owner \"\" → \"CX team\"; reviewDue (none) → \"2027-01-31\"; title \"E-commerce purchase\" → \"Shoe purchase\"",
        "- Reordered lane \"Emotion curve\": position 7 of 8 → 1 of 8",
        "- Moved card \"\"Is this shop legit?\"\" from Awareness › Visits the site to Awareness › Visits the site – Awareness › Visits the site (position 1 of 1)",
        "- Changed card \"\"Is this shop legit?\"\": text \"\"Is this shop legit?\"\" → \"Is \\*this\\* shop legit? \\<b\\>\\|\\</b\\> \\[x\\](y)\"",
        "- Moved touchpoint \"Checkout\" from Purchase › Pays to Awareness › Sees an ad",
        "- Added card \"Where is the discount field?\" (Opportunities) in Purchase › Fills the cart",
        "- Moved card \"Sponsored post\" from Touchpoints at Awareness › Sees an ad to Thinking and feeling at Awareness › Sees an ad (position 1 of 1)",
        "- Added emotion score \"Everyone at Sees an ad\": +2",
    ] {
        assert!(
            md.lines().any(|l| l == expected),
            "missing {expected:?} in\n{md}"
        );
    }
}
