//! Waymark's PostgreSQL store behind a real PgBouncer in transaction pooling mode
//! (`pool_mode = transaction`), with fewer server connections than a node opens, so that one
//! node connection's consecutive transactions run on different server connections.

mod common;

use common::pgbouncer::PgBouncer;
use common::*;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use waymark_client::MapClient;
use waymark_protocol::MapId;
use waymark_server::store::{PostgresStore, Revocation, Revoked, Store};
use yrs::{Doc, Map, ReadTxn, Transact};

fn map(s: &str) -> MapId {
    MapId::parse(s).unwrap()
}

/// Sets `key` in the doc's "cards" map and returns the update that did it.
fn card_update(doc: &Doc, key: &str) -> bytes::Bytes {
    let cards = doc.get_or_insert_map("cards");
    let mut txn = doc.transact_mut();
    cards.insert(&mut txn, key.to_owned(), key.to_owned());
    bytes::Bytes::from(txn.encode_update_v1())
}

fn cards_in(stored: &waymark_server::store::StoredMap) -> usize {
    use yrs::updates::decoder::Decode;
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        for bytes in stored.snapshot.iter().chain(&stored.updates) {
            txn.apply_update(yrs::Update::decode_v1(bytes).unwrap())
                .unwrap();
        }
    }
    let cards = doc.get_or_insert_map("cards");
    cards.len(&doc.transact()) as usize
}

/// Many concurrent appends, loads, compactions, versions and revocations through two
/// server connections: every statement answers, and the database holds all of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_works_through_pgbouncer_in_transaction_mode() {
    let db = pg::fresh_database().await;
    let bouncer = PgBouncer::start(2).await;
    let url = bouncer.url(&db.url);
    // Two nodes migrating at once through the pooler.
    let (a, b) = tokio::join!(PostgresStore::connect(&url), PostgresStore::connect(&url));
    let stores = [
        std::sync::Arc::new(a.expect("connects through pgbouncer")),
        std::sync::Arc::new(b.expect("connects through pgbouncer")),
    ];
    let mut work = JoinSet::new();
    for task in 0..16u64 {
        let store = std::sync::Arc::clone(&stores[task as usize % 2]);
        work.spawn(async move {
            let m = map(&format!("m{}", task % 8));
            let doc = Doc::with_client_id(100 + task);
            for i in 0..25 {
                store
                    .append(&m, vec![card_update(&doc, &format!("t{task}-{i}"))])
                    .await
                    .expect("append");
                if i % 5 == 0 {
                    store.load(&m).await.expect("load");
                    store.list().await.expect("list");
                }
                if i == 12 {
                    let whole = store.load(&m).await.expect("load");
                    let snapshot = doc
                        .transact()
                        .encode_state_as_update_v1(&yrs::StateVector::default());
                    store
                        .compact(&m, snapshot, whole.last_seq)
                        .await
                        .expect("compact");
                }
            }
        });
    }
    while let Some(done) = work.join_next().await {
        done.unwrap();
    }
    stores[0]
        .revoke(&Revocation {
            subject: Revoked::Token("t-1".into()),
            at: 1,
            reason: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(stores[1].revocations().await.unwrap().len(), 1);

    // Read back directly, without the pooler: nothing is missing.
    let direct = PostgresStore::connect(&db.url).await.unwrap();
    for m in 0..8 {
        let stored = direct.load(&map(&format!("m{m}"))).await.unwrap();
        assert_eq!(cards_in(&stored), 2 * 25, "map m{m}");
    }
    assert_eq!(direct.list().await.unwrap().len(), 8);
    bouncer.stop().await;
}

/// The server-side statement timeout holds through the pooler (it is set per transaction): an
/// append waiting on a map row another session has locked fails after it, instead of waiting for
/// the store's own, longer backstop.
#[tokio::test]
async fn a_lock_wait_through_pgbouncer_ends_at_the_statement_timeout() {
    let db = pg::fresh_database().await;
    let bouncer = PgBouncer::start(2).await;
    let store = PostgresStore::connect(&bouncer.url(&db.url)).await.unwrap();
    let m = map("locked");
    let doc = Doc::with_client_id(7);
    store
        .append(&m, vec![card_update(&doc, "a")])
        .await
        .unwrap();
    // A stuck node: holds the map's row lock and does nothing.
    let stuck = pg::client(&db.url).await;
    stuck
        .batch_execute("BEGIN; SELECT 1 FROM waymark_maps WHERE map_id = 'locked' FOR UPDATE")
        .await
        .unwrap();
    let started = Instant::now();
    let refused = store.append(&m, vec![card_update(&doc, "b")]).await;
    let waited = started.elapsed();
    let message = format!(
        "{:?}",
        refused.expect_err("the append cannot take the lock")
    );
    assert!(message.contains("statement timeout"), "{message}");
    assert!(
        (Duration::from_secs(25)..Duration::from_secs(55)).contains(&waited),
        "gave up after {waited:?}: the 30 s statement timeout, not the 60 s backstop"
    );
    stuck.batch_execute("ROLLBACK").await.unwrap();
    store
        .append(&m, vec![card_update(&doc, "c")])
        .await
        .unwrap();
    bouncer.stop().await;
}

/// A node serving editors through the pooler, restarted: every card is still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_behind_pgbouncer_serves_editors_and_keeps_their_work() {
    let db = pg::fresh_database().await;
    let bouncer = PgBouncer::start(2).await;
    let url = bouncer.url(&db.url);
    let disk = tempfile::tempdir().unwrap();
    let mut node = ProcessServer::start_with(disk.path(), &["--database-url", &url]).await;
    let mut editors = Vec::new();
    for m in 0..4 {
        let c = MapClient::connect(node.url(&format!("bounced-{m}")))
            .await
            .unwrap();
        c.synced(WAIT).await.unwrap();
        editors.push(c);
    }
    for k in 0..30 {
        for c in &editors {
            set_card(c, &format!("c{k}"), "x");
        }
    }
    // A second client seeing the last card proves the server stored everything before it.
    for m in 0..4 {
        let witness = MapClient::connect(node.url(&format!("bounced-{m}")))
            .await
            .unwrap();
        witness
            .wait_for(WAIT, "the last card", |c| card_count(c) == 30)
            .await
            .unwrap();
    }
    let reply = http(
        "POST",
        &node.http("/api/v1/maps/bounced-0/versions"),
        Some(r#"{"label":"through the pooler"}"#),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    drop(editors);
    node.kill().await;
    let node = ProcessServer::start_with(disk.path(), &["--database-url", &url]).await;
    for m in 0..4 {
        let c = MapClient::connect(node.url(&format!("bounced-{m}")))
            .await
            .unwrap();
        c.synced(WAIT).await.unwrap();
        assert_eq!(card_count(&c), 30, "map bounced-{m} after a restart");
    }
    let versions = http("GET", &node.http("/api/v1/maps/bounced-0/versions"), None).await;
    assert!(
        versions.body.contains("through the pooler"),
        "{}",
        versions.body
    );
    bouncer.stop().await;
}
