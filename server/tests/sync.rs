//! Real clients editing maps through a real server: convergence, late joiners, presence, reconnects
//! and the handshake order third-party clients rely on.

mod common;

use common::*;
use std::time::Duration;
use waymark_client::{MapClient, Options};
use waymark_protocol::message::{self, Message};
use waymark_server::Config;

#[tokio::test]
async fn concurrent_edits_from_several_clients_converge() {
    let server = TestServer::start().await;
    let clients = [
        server.connect("workshop").await,
        server.connect("workshop").await,
        server.connect("workshop").await,
    ];
    // Everyone edits at once: map entries, array items and text, including the same keys.
    for (i, c) in clients.iter().enumerate() {
        set_card(c, &format!("pain-{i}"), &format!("slow checkout {i}"));
        set_card(c, "title", &format!("title from {i}"));
        push_stage(c, &format!("stage-{i}"));
        append_note(c, &format!("[note {i}]"));
    }
    let expected_cards = 4; // pain-0..2 + title
    for c in &clients {
        c.wait_for(WAIT, "all edits", |c| {
            card_count(c) == expected_cards && content(c).matches("stage-").count() == 3
        })
        .await
        .unwrap();
    }
    let first = content(&clients[0]);
    for c in &clients[1..] {
        c.wait_for(WAIT, "identical content", |c| content(c) == first)
            .await
            .unwrap();
    }
    for i in 0..3 {
        assert!(
            first.contains(&format!("pain-{i}=slow checkout {i}")),
            "{first}"
        );
        assert!(first.contains(&format!("[note {i}]")), "{first}");
    }
}

#[tokio::test]
async fn a_late_joiner_receives_the_full_state() {
    let server = TestServer::start().await;
    let a = server.connect("onboarding").await;
    for i in 0..50 {
        set_card(&a, &format!("card-{i}"), "x");
    }
    push_stage(&a, "Awareness");
    append_note(&a, "first workshop");
    // `a` does not see its own updates echoed, so wait until the server has them through a peer.
    let b = server.connect("onboarding").await;
    b.wait_for(WAIT, "a's edits", |c| card_count(c) == 50)
        .await
        .unwrap();

    let late = server.connect("onboarding").await;
    // Synced means the server's full state has arrived: no further waiting.
    assert_eq!(content(&late), content(&a));
    assert_eq!(card_count(&late), 50);
}

#[tokio::test]
async fn maps_are_isolated_from_each_other() {
    let server = TestServer::start().await;
    let a = server.connect("map-a").await;
    let b = server.connect("map-b").await;
    let a2 = server.connect("map-a").await;
    set_card(&a, "k", "only in a");
    a2.wait_for(WAIT, "edit on map-a", |c| card(c, "k").is_some())
        .await
        .unwrap();
    let b2 = server.connect("map-b").await;
    assert_eq!(card(&b, "k"), None);
    assert_eq!(card(&b2, "k"), None);
}

#[tokio::test]
async fn presence_is_relayed_updated_and_removed_on_disconnect() {
    let server = TestServer::start().await;
    let ana = server.connect("retro").await;
    let ben = server.connect("retro").await;
    ana.set_awareness(r#"{"user":{"name":"Ana"},"cursor":null}"#);
    let ana_id = ana.client_id();
    ben.wait_for(WAIT, "Ana's presence", |c| c.peers().contains_key(&ana_id))
        .await
        .unwrap();

    ana.set_awareness(r#"{"user":{"name":"Ana"},"cursor":{"step":"s1"}}"#);
    ben.wait_for(WAIT, "Ana's cursor", |c| {
        c.peers().get(&ana_id).is_some_and(|s| s.contains("s1"))
    })
    .await
    .unwrap();

    // A newcomer gets current presence in the handshake.
    let cleo = server.connect("retro").await;
    cleo.wait_for(WAIT, "presence on join", |c| {
        c.peers().contains_key(&ana_id)
    })
    .await
    .unwrap();

    // Without a goodbye: the server notices the closed socket and tells the others.
    ana.abort();
    for c in [&ben, &cleo] {
        c.wait_for(WAIT, "Ana's removal", |c| !c.peers().contains_key(&ana_id))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn presence_not_renewed_expires() {
    let server = TestServer::start_with(Config {
        awareness_timeout: Duration::from_millis(600),
        ..Config::default()
    })
    .await;
    let quiet = server.connect("expiry").await;
    let watcher = server.connect("expiry").await;
    quiet.set_awareness(r#"{"user":{"name":"Quiet"}}"#);
    let id = quiet.client_id();
    watcher
        .wait_for(WAIT, "presence", |c| c.peers().contains_key(&id))
        .await
        .unwrap();
    // `quiet` never renews its state (stock clients renew every 15 s); it stays connected.
    watcher
        .wait_for(WAIT, "expiry", |c| !c.peers().contains_key(&id))
        .await
        .unwrap();
    assert!(quiet.is_connected());
}

#[tokio::test]
async fn a_client_that_reconnects_catches_up_both_ways() {
    let server = TestServer::start().await;
    let a = server.connect("reconnect").await;
    let b = server.connect("reconnect").await;
    let observer = server.connect("reconnect").await;
    set_card(&a, "before", "1");
    b.wait_for(WAIT, "first edit", |c| card(c, "before").is_some())
        .await
        .unwrap();

    b.disconnect().await;
    set_card(&a, "while-away", "2"); // b misses this broadcast...
    observer
        .wait_for(WAIT, "the edit made while b was away", |c| {
            card(c, "while-away").is_some()
        })
        .await
        .unwrap();
    set_card(&b, "offline", "3"); // b's offline edit
    b.reconnect().await.unwrap();
    b.synced(WAIT).await.unwrap();
    // ...and gets it in the handshake.
    assert_eq!(card(&b, "while-away").as_deref(), Some("2"));
    a.wait_for(WAIT, "b's offline edit", |c| card(c, "offline").is_some())
        .await
        .unwrap();
    assert_eq!(content(&a), content(&b));
}

#[tokio::test]
async fn the_server_speaks_first_with_sync_step1_and_never_echoes() {
    let server = TestServer::start().await;
    let writer = server.connect("order").await;
    set_card(&writer, "a", "1");
    let watcher = MapClient::connect_with(
        server.url("order"),
        Options {
            record_frames: true,
            ..Options::default()
        },
    )
    .await
    .unwrap();
    watcher.synced(WAIT).await.unwrap();
    for i in 0..20 {
        set_card(&writer, &format!("k{i}"), "v");
    }
    watcher
        .wait_for(WAIT, "20 updates", |c| card_count(c) == 21)
        .await
        .unwrap();
    let frames = watcher.frames();
    assert!(
        matches!(message::decode(&frames[0]), Ok(Message::SyncStep1 { .. })),
        "first frame must be SyncStep1, got {:?}",
        &frames[0]
    );
    // Only y-protocols message types reach a client that did not negotiate extensions.
    for f in &frames {
        assert!(f[0] <= 3, "unexpected message type {}", f[0]);
    }
    assert!(watcher.undecodable().is_empty());
    // The writer's own changes are not sent back to it.
    assert_eq!(writer.updates_received(), 1, "only the SyncStep2 answer");
}

#[tokio::test]
async fn extensions_are_only_sent_to_clients_that_ask() {
    let server = TestServer::start().await;
    let asked = MapClient::connect_with(
        format!("{}?ext=waymark.future,other", server.url("ext")),
        Options {
            record_frames: true,
            ..Options::default()
        },
    )
    .await
    .unwrap();
    asked.synced(WAIT).await.unwrap();
    // The reply comes first, and lists what was accepted: nothing is defined yet.
    assert_eq!(asked.frames()[0].as_ref(), &[100, 0]);
    assert_eq!(asked.extensions(), Some(vec![]));
    assert!(matches!(
        message::decode(&asked.frames()[1]),
        Ok(Message::SyncStep1 { .. })
    ));

    let stock = server.connect("ext").await;
    assert_eq!(stock.extensions(), None);
}

#[tokio::test]
async fn a_query_awareness_returns_everyone_present() {
    let server = TestServer::start().await;
    let a = server.connect("query").await;
    a.set_awareness(r#"{"user":"a"}"#);
    let b = MapClient::connect_with(
        server.url("query"),
        Options {
            record_frames: true,
            ..Options::default()
        },
    )
    .await
    .unwrap();
    b.synced(WAIT).await.unwrap();
    let id = a.client_id();
    b.wait_for(WAIT, "a's presence", |c| c.peers().contains_key(&id))
        .await
        .unwrap();
    let before = b.frames().len();
    b.send_raw(waymark_client::RawFrame::Binary(
        message::encode_query_awareness(),
    ))
    .unwrap();
    b.wait_for(WAIT, "awareness answer", |c| {
        c.frames()[before..].iter().any(
            |f| matches!(message::decode(f), Ok(Message::Awareness { update }) if update.len() > 1),
        )
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn large_updates_and_large_maps_arrive_intact() {
    // Both are sent as many WebSocket fragments; clients must see one whole message each.
    let server = TestServer::start().await;
    let a = server.connect("large").await;
    let b = server.connect("large").await;
    let big: String = (0..300_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    append_note(&a, &big);
    b.wait_for(WAIT, "the 300 KB edit", |c| content(c).len() > 300_000)
        .await
        .unwrap();
    for i in 0..10 {
        set_card(&a, &format!("bulk-{i}"), &big);
    }
    b.wait_for(WAIT, "ten 300 KB updates", |c| card_count(c) == 10)
        .await
        .unwrap();
    let late = server.connect("large").await;
    assert_eq!(card_count(&late), 10);
    assert_eq!(content(&late), content(&a));
    assert_eq!(card(&late, "bulk-9").as_deref(), Some(big.as_str()));
}
