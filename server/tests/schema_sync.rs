//! Typed edits made by one client reach another through the server: after every operation, both
//! read exactly the same map.

mod common;

use common::*;
use waymark_client::MapClient;
use waymark_protocol::schema::{At, Collection, Editor, JourneyMap, read};
use yrs::{Any, Transact};

fn map_of(c: &MapClient) -> JourneyMap {
    read(&c.doc().transact()).map
}

/// Applies `op` on `a`, then waits until `b` reads the same map as `a`.
async fn step(
    a: &MapClient,
    b: &MapClient,
    what: &str,
    op: impl FnOnce(&mut Editor) -> String,
) -> String {
    let result = {
        let mut txn = a.doc().transact_mut();
        let mut ed = Editor::new(&mut txn);
        op(&mut ed)
    };
    let want = map_of(a);
    b.wait_for(WAIT, what, |b| map_of(b) == want).await.unwrap();
    result
}

#[tokio::test]
async fn every_typed_operation_reaches_a_second_client() {
    let server = TestServer::start().await;
    let a = server.connect("typed").await;
    let b = server.connect("typed").await;
    step(&a, &b, "init", |ed| {
        ed.init("Typed", "journey-map", 1).unwrap();
        String::new()
    })
    .await;
    step(&a, &b, "set meta", |ed| {
        ed.set_meta("scenario", Some("Renewal"));
        String::new()
    })
    .await;
    let p = step(&a, &b, "add persona", |ed| {
        ed.add_persona("Ana", At::Last).unwrap()
    })
    .await;
    let st = step(&a, &b, "add stage", |ed| {
        ed.add_stage("Buy", At::Last).unwrap()
    })
    .await;
    let st2 = step(&a, &b, "add stage before", |ed| {
        ed.add_stage("Look", At::Before(&st)).unwrap()
    })
    .await;
    let s1 = step(&a, &b, "add step", |ed| {
        ed.add_step(&st, "Pay", At::Last).unwrap()
    })
    .await;
    let s0 = step(&a, &b, "add step", |ed| {
        ed.add_step(&st2, "Browse", At::Last).unwrap()
    })
    .await;
    let lane = step(&a, &b, "add lane", |ed| {
        ed.add_lane("pain-points", "Pains", At::Last).unwrap()
    })
    .await;
    let ideas = step(&a, &b, "add lane", |ed| {
        ed.add_lane("opportunities", "Ideas", At::Last).unwrap()
    })
    .await;
    let card = step(&a, &b, "add card", |ed| {
        ed.add_card(&lane, &s1, "Slow", At::Last).unwrap()
    })
    .await;
    let idea = step(&a, &b, "add card", |ed| {
        ed.add_card(&ideas, &s1, "Faster", At::Last).unwrap()
    })
    .await;
    step(&a, &b, "card text", |ed| {
        ed.set_card_text(&card, "Very slow").unwrap();
        String::new()
    })
    .await;
    step(&a, &b, "card field", |ed| {
        ed.set_field(Collection::Cards, &card, "severity", Some(Any::from(4i64)))
            .unwrap();
        String::new()
    })
    .await;
    step(&a, &b, "move card", |ed| {
        ed.move_card(&card, &lane, &s0, At::First).unwrap();
        String::new()
    })
    .await;
    step(&a, &b, "move step", |ed| {
        ed.move_step(&s1, &st2, At::First).unwrap();
        String::new()
    })
    .await;
    step(&a, &b, "reorder stage", |ed| {
        ed.reorder(Collection::Stages, &st, At::First).unwrap();
        String::new()
    })
    .await;
    step(&a, &b, "rename", |ed| {
        ed.rename(Collection::Stages, &st, "Purchase").unwrap();
        String::new()
    })
    .await;
    step(&a, &b, "emotion", |ed| {
        ed.set_emotion(Some(&p), &s0, -1).unwrap();
        String::new()
    })
    .await;
    let ch = step(&a, &b, "channel", |ed| {
        ed.add_channel("Web", At::Last).unwrap()
    })
    .await;
    let tp = step(&a, &b, "touchpoint", |ed| {
        ed.add_touchpoint("Checkout", Some(&ch), Some(&s1)).unwrap()
    })
    .await;
    step(&a, &b, "reference", |ed| {
        ed.set_reference(Collection::Cards, &card, "touchpointId", Some(&tp))
            .unwrap();
        String::new()
    })
    .await;
    let metric = step(&a, &b, "metric", |ed| {
        ed.add_metric("CSAT", "csat", Some(80.0), "higher-is-better")
            .unwrap()
    })
    .await;
    step(&a, &b, "measurement", |ed| {
        ed.record_measurement(&metric, "2026-11-01", 75.0).unwrap()
    })
    .await;
    step(&a, &b, "link", |ed| {
        ed.link(&idea, &card, "addresses").unwrap()
    })
    .await;
    step(&a, &b, "delete", |ed| {
        ed.delete(Collection::Cards, &idea).unwrap();
        String::new()
    })
    .await;

    let m = map_of(&b);
    assert_eq!(
        m.stages.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec!["Purchase", "Look"]
    );
    let c = m.cards.iter().find(|c| c.id == card).unwrap();
    assert_eq!(
        (c.text.as_str(), c.severity, c.step_id.as_str()),
        ("Very slow", Some(4), s0.as_str())
    );
    assert!(m.links.is_empty(), "the link went with the deleted card");
    assert_eq!(m.measurements.len(), 1);
    assert!(read(&b.doc().transact()).warnings.is_empty());
    // And a client joining now reads the same.
    let late = server.connect("typed").await;
    assert_eq!(map_of(&late), map_of(&a));
}

#[tokio::test]
async fn concurrent_moves_through_the_server_converge_without_duplicates_or_losses() {
    let server = TestServer::start().await;
    let a = server.connect("concurrent").await;
    let b = server.connect("concurrent").await;
    let (stages, steps, lanes, cards) = a.edit(|ed| {
        ed.init("Concurrent", "journey-map", 1).unwrap();
        let stages: Vec<String> = ["One", "Two", "Three"]
            .iter()
            .map(|n| ed.add_stage(n, At::Last).unwrap())
            .collect();
        let steps: Vec<String> = stages
            .iter()
            .map(|s| ed.add_step(s, "step", At::Last).unwrap())
            .collect();
        let lanes: Vec<String> = ["actions", "pain-points"]
            .iter()
            .map(|k| ed.add_lane(k, k, At::Last).unwrap())
            .collect();
        let cards: Vec<String> = (0..4)
            .map(|i| {
                ed.add_card(&lanes[0], &steps[0], &format!("card {i}"), At::Last)
                    .unwrap()
            })
            .collect();
        (stages, steps, lanes, cards)
    });
    let want = map_of(&a);
    b.wait_for(WAIT, "the initial map", |b| map_of(b) == want)
        .await
        .unwrap();

    // b goes offline; both edit the same entities; b comes back.
    b.disconnect().await;
    a.edit(|ed| {
        ed.move_card(&cards[0], &lanes[1], &steps[1], At::Last)
            .unwrap();
        ed.reorder(Collection::Stages, &stages[0], At::Last)
            .unwrap();
        ed.reorder(Collection::Cards, &cards[3], At::First).unwrap();
        ed.add_card(&lanes[0], &steps[2], "from a", At::First)
            .unwrap();
    });
    b.edit(|ed| {
        ed.move_card(&cards[0], &lanes[0], &steps[2], At::First)
            .unwrap();
        ed.reorder(Collection::Stages, &stages[2], At::First)
            .unwrap();
        ed.reorder(Collection::Cards, &cards[3], At::Last).unwrap();
        ed.add_card(&lanes[0], &steps[2], "from b", At::First)
            .unwrap();
        ed.delete(Collection::Cards, &cards[1]).unwrap();
    });
    b.reconnect().await.unwrap();
    b.synced(WAIT).await.unwrap();
    a.wait_for(WAIT, "b's offline edits", |a| {
        map_of(a).cards.iter().any(|c| c.text == "from b")
    })
    .await
    .unwrap();
    let ma = map_of(&a);
    b.wait_for(WAIT, "convergence", |b| map_of(b) == ma)
        .await
        .unwrap();

    let m = a.map();
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    let m = m.map;
    // 4 cards − 1 deleted + 2 added, each exactly once.
    let mut ids: Vec<&str> = m.cards.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), 5);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "a card appears twice");
    assert_eq!(m.stages.len(), 3);
    let moved = m.cards.iter().find(|c| c.id == cards[0]).unwrap();
    assert!(
        [(&lanes[1], &steps[1]), (&lanes[0], &steps[2])]
            .contains(&(&moved.lane_id, &moved.step_id)),
        "the moved card is in one of the two cells it was moved to"
    );
    // A third client joining now reads the same map.
    let late = server.connect("concurrent").await;
    assert_eq!(map_of(&late), m);
}
