//! The workshop state on its own: commands, views, and nodes converging.

use super::*;

fn actor(user: &str, role: Role) -> Actor {
    Actor {
        user: user.into(),
        name: user.into(),
        role,
    }
}

fn run(w: &mut Workshop, who: &Actor, json: &str, now: i64) -> Result<Outcome, Refused> {
    w.execute(who, Command::parse(json)?, now, |lane, step| {
        lane == "l1" && step == "s1"
    })
}

#[test]
fn votes_stay_with_their_voter_until_revealed() {
    let fay = actor("fay", Role::Facilitator);
    let (ana, ben) = (actor("ana", Role::Editor), actor("ben", Role::Commenter));
    let mut w = Workshop::new("n1", Vec::new());
    run(
        &mut w,
        &fay,
        r#"{"op":"vote.open","title":"Pain","cards":["c1","c2","c1"],"perPerson":2,"perCard":2}"#,
        1,
    )
    .unwrap();
    run(&mut w, &ana, r#"{"op":"vote.cast","card":"c1"}"#, 2).unwrap();
    run(&mut w, &ana, r#"{"op":"vote.cast","card":"c1"}"#, 3).unwrap();
    assert_eq!(
        run(&mut w, &ana, r#"{"op":"vote.cast","card":"c2"}"#, 4)
            .unwrap_err()
            .code,
        "no_votes_left"
    );
    run(&mut w, &ben, r#"{"op":"vote.cast","card":"c2"}"#, 5).unwrap();
    assert_eq!(
        run(&mut w, &ben, r#"{"op":"vote.cast","card":"zz"}"#, 5)
            .unwrap_err()
            .code,
        "not_in_vote"
    );
    assert_eq!(
        run(&mut w, &ben, r#"{"op":"vote.retract","card":"c1"}"#, 5)
            .unwrap_err()
            .code,
        "no_vote_there"
    );

    // Nobody's view holds another's votes; the facilitator sees counts per person only.
    let ben_view = format!("{}{}", w.shared_view(false, 6), w.personal_view(&ben));
    assert!(!ben_view.contains("ana"), "{ben_view}");
    assert_eq!(w.personal_view(&ben)["votes"], json!({"c2": 1}));
    assert_eq!(w.personal_view(&ben)["votesLeft"], json!(1));
    let fay_view = w.shared_view(true, 6);
    assert_eq!(fay_view["vote"]["votesCast"], json!({"ana": 2, "ben": 1}));
    assert!(!fay_view.to_string().contains("\"c1\":2"), "{fay_view}");
    assert_eq!(
        w.shared_view(false, 6)["vote"]["cards"],
        json!(["c1", "c2"])
    );

    assert_eq!(
        run(&mut w, &ana, r#"{"op":"vote.reveal"}"#, 7)
            .unwrap_err()
            .code,
        "forbidden"
    );
    let out = run(&mut w, &fay, r#"{"op":"vote.reveal"}"#, 7).unwrap();
    let Some(Reveal::Vote(result)) = out.reveal else {
        panic!("no result")
    };
    assert_eq!(
        result.totals,
        BTreeMap::from([("c1".into(), 2), ("c2".into(), 1)])
    );
    assert_eq!(
        result.voters,
        BTreeMap::from([("ana".into(), 2), ("ben".into(), 1)])
    );
    // Closed: ballots are gone from the state.
    assert!(w.shared_view(true, 8)["vote"].is_null());
    assert_eq!(w.personal_view(&ana)["votes"], json!({}));
}

#[test]
fn private_cards_are_their_writers_until_revealed() {
    let fay = actor("fay", Role::Owner);
    let (ana, ben) = (actor("ana", Role::Editor), actor("ben", Role::Editor));
    let mut w = Workshop::new("n1", Vec::new());
    run(&mut w, &fay, r#"{"op":"round.start","seconds":300}"#, 1000).unwrap();
    assert_eq!(
        w.shared_view(false, 1000)["timer"]["remaining"],
        json!(300_000)
    );
    run(
        &mut w,
        &ana,
        r#"{"op":"round.add","lane":"l1","step":"s1","text":"slow"}"#,
        2000,
    )
    .unwrap();
    run(
        &mut w,
        &ana,
        r#"{"op":"round.add","lane":"l1","step":"s1","text":"dull"}"#,
        2001,
    )
    .unwrap();
    assert_eq!(
        run(
            &mut w,
            &ben,
            r#"{"op":"round.add","lane":"l9","step":"s1","text":"x"}"#,
            2002
        )
        .unwrap_err()
        .code,
        "no_workshop"
    );
    let id = w.personal_view(&ana)["cards"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        run(
            &mut w,
            &ben,
            &format!(r#"{{"op":"round.remove","id":"{id}"}}"#),
            2003
        )
        .unwrap_err()
        .code,
        "not_yours"
    );
    let seen = format!("{}{}", w.shared_view(false, 2004), w.personal_view(&ben));
    assert!(!seen.contains("slow"), "{seen}");
    assert_eq!(
        w.shared_view(true, 2004)["round"]["counts"],
        json!({"ana": 2})
    );
    let out = run(&mut w, &fay, r#"{"op":"round.reveal"}"#, 3000).unwrap();
    let Some(Reveal::Round(cards)) = out.reveal else {
        panic!("nothing revealed")
    };
    let texts: Vec<&str> = cards.iter().map(|(_, c)| c.text.as_str()).collect();
    assert_eq!(texts, ["slow", "dull"]);
    assert!(w.shared_view(true, 3001)["round"].is_null());
}

#[test]
fn the_timer_counts_in_server_time_and_pauses() {
    let fay = actor("fay", Role::Facilitator);
    let mut w = Workshop::new("n1", Vec::new());
    run(
        &mut w,
        &fay,
        r#"{"op":"timer.start","seconds":60,"label":"Go"}"#,
        10_000,
    )
    .unwrap();
    assert_eq!(
        w.shared_view(false, 25_000)["timer"]["remaining"],
        json!(45_000)
    );
    run(&mut w, &fay, r#"{"op":"timer.pause"}"#, 25_000).unwrap();
    assert_eq!(
        w.shared_view(false, 99_000)["timer"]["remaining"],
        json!(45_000)
    );
    assert!(w.shared_view(false, 99_000)["timer"]["endsAt"].is_null());
    run(&mut w, &fay, r#"{"op":"timer.resume"}"#, 100_000).unwrap();
    run(&mut w, &fay, r#"{"op":"timer.add","seconds":30}"#, 100_000).unwrap();
    assert_eq!(
        w.shared_view(false, 100_000)["timer"]["endsAt"],
        json!(175_000)
    );
    // Past the end it shows zero rather than going negative.
    assert_eq!(
        w.shared_view(false, 500_000)["timer"]["remaining"],
        json!(0)
    );
}

#[test]
fn nodes_merging_each_others_entries_in_any_order_agree() {
    let fay = actor("fay", Role::Facilitator);
    let (ana, ben) = (actor("ana", Role::Editor), actor("ben", Role::Editor));
    let (mut a, mut b) = (
        Workshop::new("a", Vec::new()),
        Workshop::new("b", Vec::new()),
    );
    let open = run(
        &mut a,
        &fay,
        r#"{"op":"vote.open","cards":["c1","c2"],"perPerson":3}"#,
        1,
    )
    .unwrap();
    for e in open.entries {
        b.merge(e);
    }
    // Concurrent: ana votes on a, ben on b, and the facilitator locks on b.
    let on_a = run(&mut a, &ana, r#"{"op":"vote.cast","card":"c1"}"#, 5).unwrap();
    let mut on_b = run(&mut b, &ben, r#"{"op":"vote.cast","card":"c2"}"#, 5).unwrap();
    on_b.entries.extend(
        run(&mut b, &fay, r#"{"op":"lock","target":"structure"}"#, 5)
            .unwrap()
            .entries,
    );
    for e in on_b.entries.iter().rev() {
        a.merge(e.clone());
    }
    for e in on_a.entries {
        b.merge(e);
    }
    assert_eq!(a.shared_view(true, 9), b.shared_view(true, 9));
    assert_eq!(a.locks(), vec![Target::Structure]);
    // A node restarting from what was stored sees the same.
    let stored: Vec<WorkshopEntry> = a.entries.values().cloned().collect();
    let c = Workshop::new("a", stored);
    assert_eq!(c.shared_view(true, 9), a.shared_view(true, 9));
    // An entry older than the known one is ignored.
    let old = WorkshopEntry {
        key: "lock/structure".into(),
        stamp: 0,
        node: "z".into(),
        value: None,
    };
    assert!(!a.merge(old));
    assert_eq!(a.locks(), vec![Target::Structure]);
}

#[test]
fn ending_a_session_stops_what_it_ran_and_keeps_it_for_attendance() {
    let fay = actor("fay", Role::Facilitator);
    let mut w = Workshop::new("n1", Vec::new());
    run(
        &mut w,
        &fay,
        r#"{"op":"session.start","title":"Checkout"}"#,
        100,
    )
    .unwrap();
    run(&mut w, &fay, r#"{"op":"timer.start","seconds":60}"#, 100).unwrap();
    run(&mut w, &fay, r#"{"op":"lock","target":"lanes/l1"}"#, 100).unwrap();
    run(&mut w, &fay, r#"{"op":"session.end"}"#, 900).unwrap();
    let view = w.shared_view(true, 901);
    assert!(view["session"].is_null() && view["timer"].is_null());
    assert_eq!(view["locks"][0]["target"], json!("lanes/l1"));
    let last = w.session().unwrap();
    assert_eq!((last.started_at, last.ended_at), (100, Some(900)));
}
