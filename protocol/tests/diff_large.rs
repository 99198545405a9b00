//! Diffs of maps built directly in their JSON form, without a document: a large map (a guard
//! against a quadratic comparison) and repeated ids.

use waymark_protocol::schema::{Card, EntityKind, JourneyMap, Lane, Stage, Step, diff};

/// A map of `n` cards over 20 steps and 6 lanes, built directly in its JSON form.
fn big_map(n: usize) -> JourneyMap {
    let mut m = JourneyMap::default();
    for s in 0..4 {
        m.stages.push(Stage {
            id: format!("stage{s}"),
            name: format!("Stage {s}"),
            description: String::new(),
            rank: format!("{}", s + 1),
        });
    }
    for s in 0..20 {
        m.steps.push(Step {
            id: format!("step{s}"),
            stage_id: format!("stage{}", s / 5),
            name: format!("Step {s}"),
            description: String::new(),
            rank: format!("{}", s % 5 + 1),
        });
    }
    for l in 0..6 {
        m.lanes.push(Lane {
            id: format!("lane{l}"),
            kind: "actions".into(),
            name: format!("Lane {l}"),
            persona_id: None,
            rank: format!("{}", l + 1),
        });
    }
    for c in 0..n {
        m.cards.push(Card {
            id: format!("card{c}"),
            lane_id: format!("lane{}", c % 6),
            step_id: format!("step{}", c % 20),
            rank: format!("V{}", c / 120 + 1),
            text: format!("Card number {c} with a sentence of text describing what happens"),
            severity: Some((c % 5 + 1) as u8),
            ..Card::default()
        });
    }
    m
}

#[test]
fn a_large_map_diffs_quickly_and_completely() {
    let old = big_map(600);
    let mut new = old.clone();
    for (i, c) in new.cards.iter_mut().enumerate() {
        match i % 4 {
            0 => c.text.push_str(" (edited)"),
            1 => c.step_id = format!("step{}", (i + 1) % 20),
            _ => {}
        }
    }
    new.cards.retain(|c| c.id != "card2");
    new.cards.push(Card {
        id: "fresh".into(),
        ..new.cards[0].clone()
    });
    let start = std::time::Instant::now();
    let d = diff(&old, &new);
    let elapsed = start.elapsed();
    eprintln!("diff of two 600-card maps: {elapsed:?}");
    assert_eq!(
        (
            d.summary.added,
            d.summary.removed,
            d.summary.moved,
            d.summary.changed
        ),
        (1, 1, 150, 150)
    );
    assert!(d.moved.iter().all(|m| m.parent_changed && !m.order_changed));
    // Unoptimised builds are far slower; this only catches a quadratic blow-up.
    assert!(elapsed.as_millis() < 500, "{elapsed:?}");
    let md = d.to_markdown("a", "b");
    assert_eq!(md.lines().filter(|l| l.starts_with("- ")).count(), 302);
}

#[test]
fn a_repeated_id_is_reported_once() {
    let mut old = big_map(3);
    let mut new = old.clone();
    new.cards.push(Card {
        text: "a second card0".into(),
        ..new.cards[0].clone()
    });
    let d = diff(&old, &new);
    assert_eq!(d.changed.len(), 1, "{d:#?}");
    assert!(d.added.is_empty() && d.removed.is_empty());
    old.cards.push(old.cards[0].clone());
    let d = diff(&old, &JourneyMap::default());
    assert_eq!(
        d.removed
            .iter()
            .filter(|r| r.kind == EntityKind::Card)
            .count(),
        3
    );
}
