//! Workshop mode end to end over real sockets (PROTOCOL.md §9.2): what stays hidden until it is
//! revealed, locks that undo a participant's change before anyone else sees it, state that
//! survives a restart, and attendance over REST.

mod common;

use common::access::*;
use common::*;
use serde_json::{Value, json};
use waymark_client::workshop as w;
use waymark_client::{MapClient, Options};
use waymark_protocol::schema::At;
use waymark_server::auth::Role;
use yrs::types::ToJson;
use yrs::{Map, Out, ReadTxn, Transact};

/// Connects `user` with `role`, asking for the workshop extension unless `stock`.
async fn join(server: &TestServer, map: &str, user: &str, role: Role, stock: bool) -> MapClient {
    let token = token_for(user, map, role, now() + 3600);
    let ext = if stock { "" } else { "&ext=workshop" };
    let c = MapClient::connect_with(
        format!("{}?token={token}{ext}", server.url(map)),
        Options {
            record_frames: true,
            ..Options::default()
        },
    )
    .await
    .unwrap();
    c.synced(WAIT).await.unwrap();
    c
}

/// A lane with a step and two cards, written by `c`; returns (lane, step, [card ids]).
fn board(c: &MapClient) -> (String, String, Vec<String>) {
    c.edit(|e| {
        let stage = e.add_stage("Buy", At::Last).unwrap();
        let step = e.add_step(&stage, "Pay", At::Last).unwrap();
        let lane = e.add_lane("pain-points", "Pains", At::Last).unwrap();
        let cards = ["Slow checkout", "Hidden fees"]
            .iter()
            .map(|t| e.add_card(&lane, &step, t, At::Last).unwrap())
            .collect();
        (lane, step, cards)
    })
}

fn text_of(c: &MapClient, card: &str) -> Option<String> {
    c.map()
        .map
        .cards
        .into_iter()
        .find(|x| x.id == card)
        .map(|x| x.text)
}

/// Whether any frame `c` received holds `needle`.
fn ever_received(c: &MapClient, needle: &str) -> bool {
    c.frames()
        .iter()
        .any(|f| f.windows(needle.len()).any(|w| w == needle.as_bytes()))
}

async fn state(c: &MapClient, what: &str, cond: impl FnMut(&Value) -> bool) -> Value {
    c.wait_for_workshop(WAIT, what, cond).await.unwrap()
}

#[tokio::test]
async fn votes_and_private_cards_reach_nobody_before_they_are_revealed() {
    let server = secured().await;
    let map = "ws-hidden";
    let fay = join(&server, map, "fay", Role::Facilitator, false).await;
    let (lane, step, cards) = board(&fay);
    let ana = join(&server, map, "ana", Role::Editor, false).await;
    let ben = join(&server, map, "ben", Role::Editor, false).await;
    // A stock client, and a raw one that asked for the extension, see the same map.
    let stock = join(&server, map, "cy", Role::Editor, true).await;
    for c in [&ana, &ben, &stock] {
        c.wait_for(WAIT, "the board", |c| c.map().map.cards.len() == 2)
            .await
            .unwrap();
    }

    // A dot-vote: ana puts two votes on the first card, ben one on the second.
    fay.send_workshop(&w::vote_open("Biggest pain", &[&cards[0], &cards[1]], 3, 2))
        .unwrap();
    state(&ben, "the vote to open", |s| {
        !s["workshop"]["vote"].is_null()
    })
    .await;
    ana.send_workshop(&w::vote_cast(&cards[0])).unwrap();
    ana.send_workshop(&w::vote_cast(&cards[0])).unwrap();
    ana.send_workshop(&w::vote_cast(&cards[0])).unwrap();
    ben.send_workshop(&w::vote_cast(&cards[1])).unwrap();
    let mine = state(&ana, "ana's votes", |s| s["you"]["votes"][&cards[0]] == 2).await;
    assert_eq!(mine["you"]["votesLeft"], 1);
    // The third on one card is refused: two at most per card.
    ana.wait_for(WAIT, "the refusal", |c| !c.workshop_errors().is_empty())
        .await
        .unwrap();
    assert_eq!(ana.workshop_errors()[0]["code"], "card_limit");
    let counts = state(&fay, "the facilitator's counts", |s| {
        s["workshop"]["vote"]["votesCast"] == json!({"ana name": 2, "ben name": 1})
    })
    .await;
    assert_eq!(counts["workshop"]["vote"]["voters"], 2);
    let theirs = state(&ben, "ben's vote", |s| s["you"]["votes"][&cards[1]] == 1).await;
    assert!(theirs["workshop"]["vote"].get("votesCast").is_none());
    // Nothing ben or the stock client received names ana or her votes.
    for c in [&ben, &stock] {
        assert!(
            !ever_received(c, "ana"),
            "a participant saw another's votes"
        );
    }
    assert!(!ever_received(&fay, &format!("\"{}\":2", cards[0])));

    // A private round: each writes cards only they can see.
    fay.send_workshop(&w::round_start(Some(300))).unwrap();
    state(&ana, "the round", |s| !s["workshop"]["round"].is_null()).await;
    ana.send_workshop(&w::round_add(&lane, &step, "Secret idea of ana"))
        .unwrap();
    ben.send_workshop(&w::round_add(&lane, &step, "Ben's own idea"))
        .unwrap();
    state(&ana, "ana's private card", |s| {
        s["you"]["cards"][0]["text"] == "Secret idea of ana"
    })
    .await;
    state(&fay, "the count of private cards", |s| {
        s["workshop"]["round"]["counts"] == json!({"ana name": 1, "ben name": 1})
    })
    .await;
    state(&ben, "ben's private card", |s| {
        s["you"]["cards"].as_array().is_some_and(|a| a.len() == 1)
    })
    .await;
    for c in [&ben, &stock, &fay] {
        assert!(!ever_received(c, "Secret idea"), "a private card leaked");
    }
    assert!(!ever_received(&ana, "Ben's own idea"));

    // Reveal: every private card lands on the map at once, for everyone.
    fay.send_workshop(&w::round_reveal()).unwrap();
    for c in [&ana, &ben, &stock] {
        c.wait_for(WAIT, "the revealed cards", |c| c.map().map.cards.len() == 4)
            .await
            .unwrap();
    }
    let texts: Vec<String> = stock.map().map.cards.into_iter().map(|c| c.text).collect();
    assert!(
        texts.contains(&"Secret idea of ana".to_owned()),
        "{texts:?}"
    );

    // Reveal the vote: its totals are written into the document, for stock clients too.
    fay.send_workshop(&w::vote_reveal()).unwrap();
    stock
        .wait_for(WAIT, "the vote's totals", |c| totals(c).is_some())
        .await
        .unwrap();
    let (t, voters) = totals(&stock).unwrap();
    assert_eq!(t, json!({ cards[0].clone(): 2, cards[1].clone(): 1 }));
    assert_eq!(voters, json!({"ana name": 2, "ben name": 1}));
    let after = state(&ana, "the vote to close", |s| {
        s["workshop"]["vote"].is_null()
    })
    .await;
    assert_eq!(after["you"]["votes"], json!({}));
}

/// The totals and voters of the (one) revealed vote in the `votes` root.
fn totals(c: &MapClient) -> Option<(Value, Value)> {
    let txn = c.doc().transact();
    let votes = txn.get_map("votes")?;
    let (_, entry) = votes.iter(&txn).next()?;
    let Out::YMap(entry) = entry else { return None };
    let json = |key| match entry.get(&txn, key) {
        Some(Out::YMap(m)) => serde_json::to_value(m.to_json(&txn)).ok(),
        _ => None,
    };
    Some((json("totals")?, json("voters")?))
}

#[tokio::test]
async fn a_change_to_locked_content_is_undone_and_reaches_no_one_else() {
    let mut server = secured().await;
    let map = "ws-locks";
    let fay = join(&server, map, "fay", Role::Facilitator, false).await;
    let (_, _, cards) = board(&fay);
    // A stock client (no extension) editing, and one watching.
    let ana = join(&server, map, "ana", Role::Editor, true).await;
    let ben = join(&server, map, "ben", Role::Editor, true).await;
    for c in [&ana, &ben] {
        c.wait_for(WAIT, "the board", |c| c.map().map.cards.len() == 2)
            .await
            .unwrap();
    }
    fay.send_workshop(&w::lock(&w::card(&cards[0]))).unwrap();
    fay.send_workshop(&w::lock(&w::structure())).unwrap();
    state(&fay, "the locks", |s| {
        s["workshop"]["locks"]
            .as_array()
            .is_some_and(|l| l.len() == 2)
    })
    .await;

    ana.edit(|e| e.set_card_text(&cards[0], "LOCKED-EDIT by ana"))
        .unwrap();
    ana.wait_for(WAIT, "the refusal", |c| !c.denied().is_empty())
        .await
        .unwrap();
    assert!(
        ana.denied()[0].starts_with("locked: card"),
        "{:?}",
        ana.denied()
    );
    // Undone on ana's side.
    ana.wait_for(WAIT, "the undo", |c| {
        text_of(c, &cards[0]).as_deref() == Some("Slow checkout")
    })
    .await
    .unwrap();
    // A structure change is refused too; a change of an unlocked card goes through.
    ana.edit(|e| e.add_lane("opportunities", "Ideas", At::Last))
        .unwrap();
    ana.edit(|e| e.set_card_text(&cards[1], "Fees shown late"))
        .unwrap();
    ben.wait_for(WAIT, "the allowed edit", |c| {
        text_of(c, &cards[1]).as_deref() == Some("Fees shown late")
    })
    .await
    .unwrap();
    ana.wait_for(WAIT, "the lane's undo", |c| c.map().map.lanes.len() == 1)
        .await
        .unwrap();
    assert_eq!(text_of(&ben, &cards[0]).as_deref(), Some("Slow checkout"));
    assert_eq!(ben.map().map.lanes.len(), 1);
    assert!(
        !ever_received(&ben, "LOCKED-EDIT"),
        "another client saw the locked change"
    );
    assert!(!ever_received(&ben, "Ideas"));

    // The facilitator is not bound by locks.
    fay.edit(|e| e.set_card_text(&cards[0], "Checkout takes 4 minutes"))
        .unwrap();
    ben.wait_for(WAIT, "the facilitator's edit", |c| {
        text_of(c, &cards[0]).as_deref() == Some("Checkout takes 4 minutes")
    })
    .await
    .unwrap();

    // What was stored is what everyone saw: restart and read the map back.
    drop((fay, ana, ben));
    server.stop().await;
    let data = server.keep_data();
    let server = TestServer::start_in(data.path(), secured_config()).await;
    let reader = join(&server, map, "zed", Role::Viewer, true).await;
    let m = reader.map().map;
    assert_eq!(m.lanes.len(), 1);
    let texts: Vec<&str> = m.cards.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["Checkout takes 4 minutes", "Fees shown late"]);
    // The locks outlived the restart.
    let fay = join(&server, map, "fay", Role::Facilitator, false).await;
    state(&fay, "the stored locks", |s| {
        s["workshop"]["locks"]
            .as_array()
            .is_some_and(|l| l.len() == 2)
    })
    .await;
}

#[tokio::test]
async fn the_timer_is_the_servers_and_survives_a_restart() {
    let mut server = secured().await;
    let map = "ws-timer";
    let fay = join(&server, map, "fay", Role::Facilitator, false).await;
    board(&fay);
    fay.send_workshop(&w::session_start("Checkout journey"))
        .unwrap();
    fay.send_workshop(&w::timer_start(300, "Silent writing"))
        .unwrap();
    let s = state(&fay, "the timer", |s| !s["workshop"]["timer"].is_null()).await;
    let ends_at = s["workshop"]["timer"]["endsAt"].as_i64().unwrap();
    let now = s["now"].as_i64().unwrap();
    assert!((299_000..=300_000).contains(&(ends_at - now)), "{s}");
    // A participant cannot run the timer.
    let ana = join(&server, map, "ana", Role::Editor, false).await;
    ana.send_workshop(&w::timer_stop()).unwrap();
    ana.wait_for(WAIT, "the refusal", |c| !c.workshop_errors().is_empty())
        .await
        .unwrap();
    assert_eq!(ana.workshop_errors()[0]["code"], "forbidden");
    // A malformed command is refused without closing the connection.
    ana.send_workshop(&json!({"op": "timer.start", "seconds": "soon"}))
        .unwrap();
    ana.wait_for(WAIT, "the second refusal", |c| {
        c.workshop_errors().len() == 2
    })
    .await
    .unwrap();
    assert_eq!(ana.workshop_errors()[1]["code"], "invalid_command");
    assert!(ana.is_connected());

    drop((fay, ana));
    server.stop().await;
    let data = server.keep_data();
    let server = TestServer::start_in(data.path(), secured_config()).await;
    let ana = join(&server, map, "ana", Role::Editor, false).await;
    let s = state(&ana, "the timer after the restart", |s| {
        !s["workshop"]["timer"].is_null()
    })
    .await;
    assert_eq!(s["workshop"]["timer"]["endsAt"].as_i64(), Some(ends_at));
    assert_eq!(s["workshop"]["session"]["title"], "Checkout journey");
    // Paused, it keeps what remained.
    let fay = join(&server, map, "fay", Role::Facilitator, false).await;
    fay.send_workshop(&w::timer_pause()).unwrap();
    let paused = state(&ana, "the pause", |s| {
        s["workshop"]["timer"]["running"] == false
    })
    .await;
    let left = paused["workshop"]["timer"]["remaining"].as_i64().unwrap();
    assert!(left > 200_000 && left <= 300_000, "{paused}");
}

#[tokio::test]
async fn attendance_lists_who_was_there_as_json_and_csv() {
    let server = secured().await;
    let map = "ws-attend";
    let fay = join(&server, map, "fay", Role::Facilitator, false).await;
    board(&fay);
    fay.send_workshop(&w::session_start("Kick-off")).unwrap();
    state(&fay, "the session", |s| !s["workshop"]["session"].is_null()).await;
    let cards = fay.map().map.cards;
    let ana = join(&server, map, "ana", Role::Editor, false).await;
    let ben = join(&server, map, "ben", Role::Commenter, false).await;
    // Ana votes twice; the revealed vote counts for her attendance.
    fay.send_workshop(&w::vote_open("", &[&cards[0].id], 2, 2))
        .unwrap();
    state(&ana, "the vote", |s| !s["workshop"]["vote"].is_null()).await;
    ana.send_workshop(&w::vote_cast(&cards[0].id)).unwrap();
    ana.send_workshop(&w::vote_cast(&cards[0].id)).unwrap();
    state(&ana, "ana's votes", |s| s["you"]["votesLeft"] == 0).await;
    fay.send_workshop(&w::vote_reveal()).unwrap();
    ana.wait_for(WAIT, "the totals", |c| totals(c).is_some())
        .await
        .unwrap();
    ben.disconnect().await;
    drop(ben);
    let url = server.http(&format!("/api/v1/maps/{map}/attendance"));
    let auth = format!(
        "Bearer {}",
        token_for("fay", map, Role::Facilitator, now() + 3600)
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    let body = loop {
        let r = http_with("GET", &url, &[("Authorization", &auth)], None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let body = r.json();
        if body["attendance"].as_array().map_or(0, Vec::len) == 3 {
            break body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "attendance incomplete: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let by_user = |u: &str| {
        body["attendance"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["user"] == u)
            .cloned()
            .unwrap_or_else(|| panic!("{u} missing from {body}"))
    };
    assert!(by_user("ben name").get("lastLeft").is_some());
    assert!(by_user("ana name").get("lastLeft").is_none());
    assert_eq!(by_user("ana name")["votesCast"], 2);
    assert_eq!(by_user("ben name")["votesCast"], 0);
    assert_eq!(body["session"]["title"], "Kick-off");

    let r = http_with(
        "GET",
        &format!("{url}?format=csv"),
        &[("Authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .starts_with("user,first_joined,last_left,present_minutes,connections,votes_cast\n")
    );
    assert!(r.body.contains("\nana name,"), "{}", r.body);
    let r = http_with(
        "GET",
        &format!("{url}?format=pdf"),
        &[("Authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(r.status, 400);
    // Participants cannot read it.
    let editor = format!(
        "Bearer {}",
        token_for("ana", map, Role::Editor, now() + 3600)
    );
    let r = http_with("GET", &url, &[("Authorization", &editor)], None).await;
    assert_eq!(r.status, 403);
    drop(ana);
}
