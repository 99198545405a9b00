//! Durability: restarts, a killed process, compaction, unloading idle maps and storage failures.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use waymark_client::MapClient;
use waymark_protocol::CloseCode;
use waymark_server::Config;
use yrs::{Map, ReadTxn, Transact};

fn card_keys(c: &MapClient) -> BTreeSet<String> {
    let doc = c.doc();
    let txn = doc.transact();
    let Some(m) = txn.get_map("cards") else {
        return BTreeSet::new();
    };
    m.keys(&txn).map(str::to_owned).collect()
}

#[tokio::test]
async fn maps_survive_a_graceful_restart() {
    let mut server = TestServer::start().await;
    let dir = server.keep_data();
    let a = server.connect("persist").await;
    set_card(&a, "pain", "long forms");
    push_stage(&a, "Purchase");
    append_note(&a, "validated in interviews");
    let b = server.connect("persist").await;
    b.wait_for(WAIT, "a's edits", |c| content(c) == content(&a))
        .await
        .unwrap();
    let before = content(&a);

    let took = server.stop().await;
    // Connected clients are told to come back, and shutdown is bounded.
    for c in [&a, &b] {
        let closed = c.wait_closed(WAIT).await.unwrap().expect("close frame");
        assert_eq!(
            closed.code,
            CloseCode::GoingAway.code(),
            "{}",
            closed.reason
        );
    }
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");

    let server = TestServer::start_in(dir.path(), Config::default()).await;
    let fresh = server.connect("persist").await;
    assert_eq!(content(&fresh), before);
}

#[tokio::test]
async fn nothing_a_client_saw_is_lost_when_the_server_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ProcessServer::start(dir.path()).await;
    let url = server.url("crash");
    let observer = MapClient::connect(url.clone()).await.unwrap();
    observer.synced(WAIT).await.unwrap();

    // Three writers edit continuously; the observer's view is what "clients saw broadcast".
    let stop = tokio_util::sync::CancellationToken::new();
    let mut writers = Vec::new();
    for w in 0..3 {
        let client = Arc::new(MapClient::connect(url.clone()).await.unwrap());
        client.synced(WAIT).await.unwrap();
        let stop = stop.clone();
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.is_cancelled() && client.is_connected() {
                set_card(&client, &format!("w{w}-{n}"), "x");
                n += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    observer
        .wait_for(WAIT, "writes under way", |c| card_keys(c).len() >= 300)
        .await
        .unwrap();
    server.child.start_kill().unwrap(); // SIGKILL, mid-write
    server.child.wait().await.unwrap();
    observer.wait_closed(WAIT).await.unwrap();
    stop.cancel();
    for w in writers {
        w.await.unwrap();
    }
    let seen = card_keys(&observer);

    let server = ProcessServer::start(dir.path()).await;
    let after = MapClient::connect(server.url("crash")).await.unwrap();
    after.synced(WAIT).await.unwrap();
    let stored = card_keys(&after);
    let missing: Vec<_> = seen.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "{} of {} updates seen before the crash are gone: {:?}",
        missing.len(),
        seen.len(),
        missing.iter().take(10).collect::<Vec<_>>()
    );
}

/// A map's content as the REST API gives it (the typed journey map and what the reader warned
/// of), for comparing one map before and after a restart.
async fn stored_content(server: &ProcessServer, map: &str) -> serde_json::Value {
    let res = http("GET", &server.http(&format!("/api/v1/maps/{map}")), None).await;
    assert_eq!(res.status, 200, "{map}: {}", res.body);
    res.json()
}

#[tokio::test]
async fn a_sigterm_during_edits_keeps_every_map_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ProcessServer::start(dir.path()).await;
    // A bystander map, edited earlier and open but quiet during the shutdown.
    let bystander = MapClient::connect(server.url("bystander")).await.unwrap();
    bystander.synced(WAIT).await.unwrap();
    for i in 0..50 {
        set_card(&bystander, &format!("b{i}"), "still");
    }
    let bystander_watch = MapClient::connect(server.url("bystander")).await.unwrap();
    bystander_watch
        .wait_for(WAIT, "the bystander's cards", |c| card_keys(c).len() == 50)
        .await
        .unwrap();
    let bystander_before = stored_content(&server, "bystander").await;

    // Two busy maps, each with writers typing and a watcher.
    let stop = tokio_util::sync::CancellationToken::new();
    let (mut writers, mut watchers) = (Vec::new(), Vec::new());
    for m in ["busy-0", "busy-1"] {
        let watcher = MapClient::connect(server.url(m)).await.unwrap();
        watcher.synced(WAIT).await.unwrap();
        watchers.push((m, watcher));
        for w in 0..2 {
            let client = Arc::new(MapClient::connect(server.url(m)).await.unwrap());
            client.synced(WAIT).await.unwrap();
            let stop = stop.clone();
            writers.push(tokio::spawn(async move {
                let mut written = BTreeSet::new();
                let mut n = 0;
                while !stop.is_cancelled() && client.is_connected() {
                    let key = format!("w{w}-{n}");
                    set_card(&client, &key, "x");
                    written.insert(key);
                    n += 1;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                (m, written)
            }));
        }
    }
    for (_, w) in &watchers {
        w.wait_for(WAIT, "writes under way", |c| card_keys(c).len() >= 100)
            .await
            .unwrap();
    }
    server.terminate().await;
    stop.cancel();
    let mut written: std::collections::BTreeMap<&str, BTreeSet<String>> = Default::default();
    for w in writers {
        let (m, keys) = w.await.unwrap();
        written.entry(m).or_default().extend(keys);
    }

    let server = ProcessServer::start(dir.path()).await;
    assert_eq!(
        stored_content(&server, "bystander").await,
        bystander_before,
        "the bystander map changed across the restart"
    );
    for (m, watcher) in &watchers {
        let seen = card_keys(watcher);
        let after = MapClient::connect(server.url(m)).await.unwrap();
        after.synced(WAIT).await.unwrap();
        let stored = card_keys(&after);
        let lost: Vec<_> = seen.difference(&stored).take(10).collect();
        assert!(
            lost.is_empty(),
            "{m}: seen before the stop, gone after: {lost:?}"
        );
        let phantom: Vec<_> = stored.difference(&written[m]).take(10).collect();
        assert!(
            phantom.is_empty(),
            "{m}: stored but never written: {phantom:?}"
        );
    }
}

#[tokio::test]
async fn the_update_log_is_compacted_into_a_snapshot() {
    let mut server = TestServer::start_with(Config {
        compact_after_updates: 20,
        ..Config::default()
    })
    .await;
    let dir = server.keep_data();
    let a = server.connect("compact").await;
    let b = server.connect("compact").await;
    for i in 0..100 {
        set_card(&a, &format!("c{i}"), "v");
    }
    b.wait_for(WAIT, "100 cards", |c| card_count(c) == 100)
        .await
        .unwrap();

    // Compaction follows delivery, so poll the database until it shows.
    let db = rusqlite::Connection::open(dir.path().join("waymark.db")).unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (log, snapshots): (i64, i64) = db
            .query_row(
                "SELECT (SELECT count(*) FROM updates WHERE map_id = 'compact'),
                        (SELECT count(*) FROM snapshots WHERE map_id = 'compact')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        if log < 20 && snapshots == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "log holds {log} updates and {snapshots} snapshots after 100 updates"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(db);

    server.stop().await;
    let server = TestServer::start_in(dir.path(), Config::default()).await;
    let c = server.connect("compact").await;
    assert_eq!(card_count(&c), 100);
}

#[tokio::test]
async fn idle_maps_unload_and_reload_with_their_content() {
    let server = TestServer::start_with(Config {
        unload_after: Duration::from_millis(100),
        ..Config::default()
    })
    .await;
    let a = server.connect("idle").await;
    set_card(&a, "k", "v");
    let b = server.connect("idle").await;
    b.wait_for(WAIT, "a's edit", |c| card(c, "k").is_some())
        .await
        .unwrap();
    server.wait_metric("waymark_maps_loaded", 1.0).await;
    a.disconnect().await;
    b.disconnect().await;
    server.wait_metric("waymark_maps_loaded", 0.0).await;
    let c = server.connect("idle").await;
    assert_eq!(card(&c, "k").as_deref(), Some("v"));
}

#[tokio::test]
async fn joining_while_a_map_unloads_loses_nothing() {
    // Unloading as soon as a map is idle makes joins race with unloads all the time.
    let server = Arc::new(
        TestServer::start_with(Config {
            unload_after: Duration::from_millis(1),
            ..Config::default()
        })
        .await,
    );
    let mut tasks = Vec::new();
    for w in 0..4 {
        let server = Arc::clone(&server);
        tasks.push(tokio::spawn(async move {
            for n in 0..15 {
                let c = server.connect("churn").await;
                set_card(&c, &format!("w{w}-{n}"), "x");
                // Leave only once the server has the edit: a peer sees it.
                let check = server.connect("churn").await;
                check
                    .wait_for(WAIT, "own edit stored", |c| {
                        card(c, &format!("w{w}-{n}")).is_some()
                    })
                    .await
                    .unwrap();
                c.disconnect().await;
                check.disconnect().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let last = server.connect("churn").await;
    assert_eq!(card_count(&last), 60);
}

#[tokio::test]
async fn storage_failure_closes_connections_and_recovers_without_loss() {
    let server = TestServer::start().await;
    let a = server.connect("locked").await;
    let b = server.connect("locked").await;
    set_card(&a, "before", "1");
    b.wait_for(WAIT, "first edit", |c| card(c, "before").is_some())
        .await
        .unwrap();
    assert_eq!(get(&server.http("/readyz")).await.0, 200);

    // Another process takes the database's write lock and holds it.
    let db = rusqlite::Connection::open(server.data.join("waymark.db")).unwrap();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (status, body) = get(&server.http("/readyz")).await;
    assert_eq!(status, 503, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["reason"].as_str().unwrap().contains("locked"), "{body}");

    set_card(&a, "during", "2");
    for c in [&a, &b] {
        let closed = c.wait_closed(WAIT).await.unwrap().expect("close frame");
        assert_eq!(
            closed.code,
            CloseCode::InternalError.code(),
            "{}",
            closed.reason
        );
    }
    // The update was never broadcast: nobody saw something that was not stored.
    assert_eq!(card(&b, "during"), None);
    server
        .wait_metric("waymark_errors_total{kind=\"store\"}", 1.0)
        .await;

    db.execute_batch("ROLLBACK").unwrap();
    assert_eq!(get(&server.http("/readyz")).await.0, 200);
    // Clients reconnect as told; the handshake carries a's unsaved edit to the server.
    a.reconnect().await.unwrap();
    a.synced(WAIT).await.unwrap();
    b.reconnect().await.unwrap();
    b.wait_for(WAIT, "the edit made during the outage", |c| {
        card(c, "during").is_some()
    })
    .await
    .unwrap();
    let fresh = server.connect("locked").await;
    fresh
        .wait_for(WAIT, "both edits", |c| card_count(c) == 2)
        .await
        .unwrap();
}
