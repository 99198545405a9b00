//! The PostgreSQL store against a real PostgreSQL server (see `common/pg.rs` for which one): the
//! round trip, compaction racing appends from another node, concurrent migrations, listings, and
//! failures that must come back as errors in bounded time.
//!
//! Length: about 840 lines, one backend's tests sharing the document helpers at the top;
//! splitting them would copy those helpers into a second file.

#[path = "common/pg.rs"]
mod pg;

use bytes::Bytes;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use waymark_protocol::MapId;
use waymark_server::store::{
    Activity, NewVersion, PostgresStore, Revocation, Revoked, Store, StoreError, StoredMap,
    VersionKind,
};
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, Map, ReadTxn, StateVector, Text, Transact, Update};

/// Upper bound for a failure to be reported: the store's connect/create timeouts are 5 s.
const FAILS_WITHIN: Duration = Duration::from_secs(15);

fn map(s: &str) -> MapId {
    MapId::parse(s).unwrap()
}

/// Inserts `s` at the end of the doc's text and returns the update that did it.
fn type_text(doc: &Doc, s: &str) -> Bytes {
    let text = doc.get_or_insert_text("content");
    let mut txn = doc.transact_mut();
    let end = text.len(&txn);
    text.insert(&mut txn, end, s);
    Bytes::from(txn.encode_update_v1())
}

/// Sets `key` in the doc's "cards" map and returns the update that did it.
fn set_card(doc: &Doc, key: &str) -> Bytes {
    let cards = doc.get_or_insert_map("cards");
    let mut txn = doc.transact_mut();
    cards.insert(&mut txn, key.to_owned(), key.to_owned());
    Bytes::from(txn.encode_update_v1())
}

fn snapshot(doc: &Doc) -> Vec<u8> {
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}

/// The document a node would build from what the store returned.
fn rebuild(stored: &StoredMap) -> Doc {
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        for bytes in stored.snapshot.iter().chain(&stored.updates) {
            txn.apply_update(Update::decode_v1(bytes).unwrap()).unwrap();
        }
    }
    doc
}

fn text_of(doc: &Doc) -> String {
    let text = doc.get_or_insert_text("content");
    text.get_string(&doc.transact())
}

fn cards_of(doc: &Doc) -> BTreeSet<String> {
    let cards = doc.get_or_insert_map("cards");
    let txn = doc.transact();
    cards.keys(&txn).map(str::to_owned).collect()
}

#[tokio::test]
async fn append_load_compact_round_trip() {
    let db = pg::fresh_database().await;
    let store = PostgresStore::connect(&db.url).await.unwrap();
    let a = map("a");

    let empty = store.load(&a).await.unwrap();
    assert!(empty.snapshot.is_none());
    assert!(empty.updates.is_empty());
    assert_eq!((empty.last_seq, empty.log_bytes), (0, 0));
    assert!(!store.exists(&a).await.unwrap());

    let doc = Doc::with_client_id(1);
    let (u1, u2, u3) = (
        type_text(&doc, "Hello"),
        type_text(&doc, ", world"),
        type_text(&doc, "!"),
    );
    let s1 = store
        .append(&a, vec![u1.clone(), u2.clone()])
        .await
        .unwrap();
    let s2 = store.append(&a, vec![u3.clone()]).await.unwrap();
    assert!(s2 > s1, "seq must grow: {s1} then {s2}");
    let other = Doc::with_client_id(2);
    store
        .append(&map("b"), vec![type_text(&other, "elsewhere")])
        .await
        .unwrap();

    let loaded = store.load(&a).await.unwrap();
    assert!(loaded.snapshot.is_none());
    assert_eq!(
        loaded.updates,
        vec![u1.to_vec(), u2.to_vec(), u3.to_vec()],
        "the log keeps the appended updates, in order, and only this map's"
    );
    assert_eq!(loaded.last_seq, s2);
    assert_eq!(loaded.log_bytes, u1.len() + u2.len() + u3.len());
    assert_eq!(text_of(&rebuild(&loaded)), "Hello, world!");

    store.compact(&a, snapshot(&doc), s2).await.unwrap();
    let compacted = store.load(&a).await.unwrap();
    assert!(compacted.updates.is_empty(), "compaction empties the log");
    assert_eq!(compacted.log_bytes, 0);
    assert_eq!(compacted.last_seq, s2, "the snapshot still covers seq {s2}");
    let stored_snapshot = compacted.snapshot.clone().expect("a snapshot");
    assert_eq!(text_of(&rebuild(&compacted)), "Hello, world!");
    let listed = store.list().await.unwrap();
    let info = listed.iter().find(|m| m.id == "a").unwrap();
    assert_eq!(info.size, stored_snapshot.len() as u64);

    // Appends after a compaction land in the log, after the snapshot.
    let before_u4 = snapshot(&doc);
    let u4 = type_text(&doc, " Bye.");
    let s4 = store.append(&a, vec![u4.clone()]).await.unwrap();
    assert!(s4 > s2);
    let loaded = store.load(&a).await.unwrap();
    assert_eq!(loaded.updates, vec![u4.to_vec()]);
    assert_eq!(loaded.last_seq, s4);
    assert_eq!(text_of(&rebuild(&loaded)), "Hello, world! Bye.");

    // An older snapshot loses nothing: the logged update is merged in, not dropped.
    store.compact(&a, before_u4, s1).await.unwrap();
    let loaded = store.load(&a).await.unwrap();
    assert!(loaded.updates.is_empty());
    assert_eq!(text_of(&rebuild(&loaded)), "Hello, world! Bye.");

    // Another map is untouched by all this.
    let b = store.load(&map("b")).await.unwrap();
    assert_eq!(text_of(&rebuild(&b)), "elsewhere");

    store.check().await.unwrap();
    store.close().await.unwrap();
    assert!(matches!(store.load(&a).await, Err(StoreError::Closed)));

    // Everything is in the database, not in the store instance.
    let reopened = PostgresStore::connect(&db.url).await.unwrap();
    let loaded = reopened.load(&a).await.unwrap();
    assert_eq!(text_of(&rebuild(&loaded)), "Hello, world! Bye.");
    reopened.close().await.unwrap();
    db.drop_database().await;
}

#[tokio::test]
async fn compaction_keeps_an_update_the_compacting_node_never_saw() {
    let db = pg::fresh_database().await;
    let node_a = PostgresStore::connect(&db.url).await.unwrap();
    let node_b = PostgresStore::connect(&db.url).await.unwrap();
    let m = map("shared");

    let doc_a = Doc::with_client_id(10);
    node_a
        .append(&m, vec![type_text(&doc_a, "from A. ")])
        .await
        .unwrap();

    // Node B loads the map, edits it and appends; node A never applies that update.
    let doc_b = rebuild(&node_b.load(&m).await.unwrap());
    let seq_b = node_b
        .append(&m, vec![type_text(&doc_b, "from B.")])
        .await
        .unwrap();

    // A compacts its own document and claims (wrongly) to cover far more than B's update.
    node_a
        .compact(&m, snapshot(&doc_a), seq_b + 1_000)
        .await
        .unwrap();

    let loaded = node_a.load(&m).await.unwrap();
    assert!(loaded.updates.is_empty());
    assert_eq!(text_of(&rebuild(&loaded)), "from A. from B.");
    // B's view through its own store agrees.
    assert_eq!(
        text_of(&rebuild(&node_b.load(&m).await.unwrap())),
        "from A. from B."
    );

    node_a.close().await.unwrap();
    node_b.close().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn compactions_racing_appends_from_another_node_lose_nothing() {
    const WRITERS: u64 = 4;
    const UPDATES_PER_WRITER: usize = 40;
    let db = pg::fresh_database().await;
    let node_a = Arc::new(PostgresStore::connect(&db.url).await.unwrap());
    let node_b = Arc::new(PostgresStore::connect(&db.url).await.unwrap());
    let m = map("busy");

    // Node A's own document; it never applies anything node B writes.
    let doc_a = Doc::with_client_id(100);
    node_a
        .append(&m, vec![set_card(&doc_a, "a-0")])
        .await
        .unwrap();

    // Node B: several writers (clients), each appending its own edits as fast as it can, and
    // counting the appends the store acknowledged.
    let acked: Arc<Vec<AtomicUsize>> =
        Arc::new((0..WRITERS).map(|_| AtomicUsize::new(0)).collect());
    let mut writers = JoinSet::new();
    for w in 0..WRITERS {
        let (store, m, acked) = (Arc::clone(&node_b), m.clone(), Arc::clone(&acked));
        writers.spawn(async move {
            let doc = Doc::with_client_id(200 + w);
            for i in 0..UPDATES_PER_WRITER {
                let mut batch = vec![set_card(&doc, &format!("b{w}-{i}"))];
                if i % 3 == 0 {
                    batch.push(set_card(&doc, &format!("b{w}-{i}-extra")));
                }
                store.append(&m, batch).await.unwrap();
                acked[w as usize].store(i + 1, Ordering::Release);
            }
        });
    }

    // Node A meanwhile keeps editing and compacting with its own snapshot, claiming to cover
    // everything ever appended.
    let done = Arc::new(AtomicBool::new(false));
    let compactions = Arc::new(AtomicUsize::new(0));
    let compactor = {
        let (store, m, done, compactions) = (
            Arc::clone(&node_a),
            m.clone(),
            Arc::clone(&done),
            Arc::clone(&compactions),
        );
        tokio::spawn(async move {
            let mut n = 1;
            while !done.load(Ordering::Acquire) || n < 4 {
                let update = set_card(&doc_a, &format!("a-{n}"));
                store.append(&m, vec![update]).await.unwrap();
                store.compact(&m, snapshot(&doc_a), i64::MAX).await.unwrap();
                compactions.fetch_add(1, Ordering::Relaxed);
                n += 1;
                tokio::task::yield_now().await;
            }
            n
        })
    };
    // Node C loads the map over and over meanwhile: every load must hold every update whose
    // append was acknowledged before the load began, however the compactions interleave.
    let node_c = PostgresStore::connect(&db.url).await.unwrap();
    let reader = {
        let (m, done, acked) = (m.clone(), Arc::clone(&done), Arc::clone(&acked));
        tokio::spawn(async move {
            let mut loads = 0;
            while !done.load(Ordering::Acquire) {
                let before: Vec<usize> = acked.iter().map(|a| a.load(Ordering::Acquire)).collect();
                let cards = cards_of(&rebuild(&node_c.load(&m).await.unwrap()));
                for (w, &count) in before.iter().enumerate() {
                    for i in 0..count {
                        let card = format!("b{w}-{i}");
                        assert!(cards.contains(&card), "load {loads} lost {card}");
                    }
                }
                loads += 1;
            }
            node_c.close().await.unwrap();
            loads
        })
    };
    while let Some(result) = writers.join_next().await {
        result.unwrap();
    }
    done.store(true, Ordering::Release);
    let a_cards = compactor.await.unwrap();
    assert!(compactions.load(Ordering::Relaxed) >= 4);
    assert!(reader.await.unwrap() > 0);

    let mut expected: BTreeSet<String> = (0..a_cards).map(|n| format!("a-{n}")).collect();
    for w in 0..WRITERS {
        for i in 0..UPDATES_PER_WRITER {
            expected.insert(format!("b{w}-{i}"));
            if i % 3 == 0 {
                expected.insert(format!("b{w}-{i}-extra"));
            }
        }
    }
    let loaded = node_b.load(&m).await.unwrap();
    assert_eq!(cards_of(&rebuild(&loaded)), expected);

    // A last compaction by the node that saw nothing of B's still keeps everything.
    node_a
        .compact(&m, snapshot(&Doc::with_client_id(999)), i64::MAX)
        .await
        .unwrap();
    let loaded = node_a.load(&m).await.unwrap();
    assert!(loaded.updates.is_empty());
    assert_eq!(cards_of(&rebuild(&loaded)), expected);

    node_a.close().await.unwrap();
    node_b.close().await.unwrap();
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_starting_together_migrate_once() {
    let db = pg::fresh_database().await;
    let mut starting = JoinSet::new();
    for _ in 0..8 {
        let url = db.url.clone();
        starting.spawn(async move { PostgresStore::connect(&url).await });
    }
    let mut stores = Vec::new();
    while let Some(result) = starting.join_next().await {
        stores.push(result.unwrap().expect("every node starts"));
    }

    let client = pg::client(&db.url).await;
    let versions: Vec<i32> = client
        .query(
            "SELECT version FROM waymark_schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        versions,
        vec![1, 2, 3, 4, 5, 6],
        "each migration is recorded exactly once"
    );
    let tables: Vec<String> = client
        .query(
            "SELECT tablename::text FROM pg_tables WHERE tablename LIKE 'waymark%' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        tables,
        [
            "waymark_activity",
            "waymark_deleted_maps",
            "waymark_maps",
            "waymark_revocations",
            "waymark_revoked_tokens",
            "waymark_schema_migrations",
            "waymark_updates",
            "waymark_versions",
            "waymark_workshop"
        ]
    );

    // Every node works on the one schema: each appends, all see all.
    let m = map("together");
    for (i, store) in stores.iter().enumerate() {
        let doc = Doc::with_client_id(300 + i as u64);
        store
            .append(&m, vec![set_card(&doc, &format!("node-{i}"))])
            .await
            .unwrap();
    }
    let seen = cards_of(&rebuild(&stores[0].load(&m).await.unwrap()));
    assert_eq!(seen.len(), stores.len());

    // Starting again later is a no-op.
    let late = PostgresStore::connect(&db.url).await.unwrap();
    let count: i64 = client
        .query_one("SELECT count(*) FROM waymark_schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 6);
    late.close().await.unwrap();
    for store in stores {
        store.close().await.unwrap();
    }
    drop(client);
    db.drop_database().await;
}

#[tokio::test]
async fn maps_are_listed_summarised_and_deleted() {
    let db = pg::fresh_database().await;
    let store = PostgresStore::connect(&db.url).await.unwrap();
    let (a, b) = (map("alpha"), map("beta"));
    let (doc_a, doc_b) = (Doc::with_client_id(1), Doc::with_client_id(2));
    let (a1, b1, a2) = (
        type_text(&doc_a, "12345"),
        type_text(&doc_b, "xy"),
        type_text(&doc_a, "678"),
    );
    store.append(&a, vec![a1.clone()]).await.unwrap();
    store.append(&b, vec![b1.clone()]).await.unwrap();
    store.append(&a, vec![a2.clone()]).await.unwrap();
    store
        .set_summary(&a, "Checkout", "journey-map", Some("2027-01-31"))
        .await
        .unwrap();
    // A summary for a map with nothing stored creates nothing.
    store
        .set_summary(&map("ghost"), "Ghost", "journey-map", None)
        .await
        .unwrap();
    assert!(!store.exists(&map("ghost")).await.unwrap());

    let list = store.list().await.unwrap();
    assert_eq!(list.len(), 2);
    let alpha = list.iter().find(|m| m.id == "alpha").unwrap();
    let beta = list.iter().find(|m| m.id == "beta").unwrap();
    assert_eq!(
        (alpha.title.as_str(), alpha.kind.as_str(), alpha.size),
        ("Checkout", "journey-map", (a1.len() + a2.len()) as u64)
    );
    assert_eq!(
        (beta.title.as_str(), beta.kind.as_str(), beta.size),
        ("", "", b1.len() as u64)
    );
    assert_eq!(
        (alpha.review_due.as_deref(), beta.review_due.as_deref()),
        (Some("2027-01-31"), None)
    );
    assert!(beta.updated_at > 0);
    assert!(
        alpha.updated_at >= beta.updated_at,
        "alpha changed last: {} vs {}",
        alpha.updated_at,
        beta.updated_at
    );
    // Most recently changed first, then by id.
    let order: Vec<(i64, &str)> = list
        .iter()
        .map(|m| (-m.updated_at, m.id.as_str()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);

    // Compaction recomputes the size from what is left: the snapshot.
    let last = store
        .append(&a, vec![type_text(&doc_a, "9")])
        .await
        .unwrap();
    store.compact(&a, snapshot(&doc_a), last).await.unwrap();
    let snapshot_len = store.load(&a).await.unwrap().snapshot.unwrap().len();
    let alpha = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.id == "alpha")
        .unwrap();
    assert_eq!(alpha.size, snapshot_len as u64);
    assert_eq!(alpha.title, "Checkout", "compaction keeps the summary");

    assert!(store.exists(&a).await.unwrap());
    assert!(store.delete(&a).await.unwrap());
    assert!(!store.exists(&a).await.unwrap());
    assert!(!store.delete(&a).await.unwrap());
    let gone = store.load(&a).await.unwrap();
    assert!(gone.snapshot.is_none() && gone.updates.is_empty());
    assert_eq!(gone.last_seq, 0);
    // Compacting a deleted map (a node that had it loaded) does not bring it back.
    store.compact(&a, snapshot(&doc_a), last).await.unwrap();
    assert!(!store.exists(&a).await.unwrap());
    let list = store.list().await.unwrap();
    assert_eq!(
        list.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["beta"]
    );

    // Deleting b removes its log too.
    assert!(store.delete(&b).await.unwrap());
    let client = pg::client(&db.url).await;
    let rows: i64 = client
        .query_one("SELECT count(*) FROM waymark_updates", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 0);
    drop(client);
    store.close().await.unwrap();
    db.drop_database().await;
}

#[tokio::test]
async fn an_unreachable_database_is_reported_promptly() {
    // A closed port: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let started = Instant::now();
    let result = PostgresStore::connect(&format!("postgres://postgres@127.0.0.1:{port}/x")).await;
    let Err(StoreError::Unavailable(message)) = result else {
        panic!("connecting to a closed port must fail as unavailable");
    };
    assert!(
        started.elapsed() < FAILS_WITHIN,
        "took {:?}",
        started.elapsed()
    );
    assert!(message.contains("PostgreSQL"), "{message}");

    // A server that accepts connections and then never answers (a hung host).
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    let holder = {
        let held = Arc::clone(&held);
        tokio::spawn(async move {
            while let Ok((socket, _)) = silent.accept().await {
                held.lock().unwrap().push(socket);
            }
        })
    };
    let started = Instant::now();
    let result = PostgresStore::connect(&format!("postgres://postgres@{addr}/x")).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "a silent server must fail as unavailable"
    );
    assert!(
        started.elapsed() < FAILS_WITHIN,
        "took {:?}",
        started.elapsed()
    );
    holder.abort();

    // Not a URL at all.
    assert!(matches!(
        PostgresStore::connect("postgres://[nonsense").await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn an_outage_fails_promptly_and_the_store_recovers_after_it() {
    let db = pg::fresh_database().await;
    let proxy = pg::Proxy::start(pg::server_address()).await;
    let via_proxy = format!("postgres://postgres@{}/{}", proxy.addr, db.name);
    let store = PostgresStore::connect(&via_proxy).await.unwrap();
    let m = map("outage");
    let doc = Doc::with_client_id(7);
    store
        .append(&m, vec![type_text(&doc, "before ")])
        .await
        .unwrap();

    proxy.cut();
    let during = type_text(&doc, "during ");
    let started = Instant::now();
    let result = store.append(&m, vec![during.clone()]).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "an append during the outage must fail, got {result:?}"
    );
    assert!(store.check().await.is_err());
    assert!(matches!(
        store.load(&m).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < FAILS_WITHIN,
        "took {:?}",
        started.elapsed()
    );

    // Once the database is reachable again, the very next operations work: no broken pooled
    // connection is handed out.
    proxy.restore();
    store.check().await.unwrap();
    store
        .append(&m, vec![during, type_text(&doc, "after")])
        .await
        .unwrap();
    let loaded = store.load(&m).await.unwrap();
    assert_eq!(text_of(&rebuild(&loaded)), "before during after");

    store.close().await.unwrap();
    drop(proxy);
    db.drop_database().await;
}

fn version(kind: VersionKind, sv: &[u8]) -> NewVersion {
    NewVersion {
        label: "label".into(),
        description: "why".into(),
        author: "ana".into(),
        kind,
        state: b"compressed".to_vec(),
        state_vector: sv.to_vec(),
        raw_size: 100,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn versions_are_numbered_once_across_nodes_and_go_with_their_map() {
    let db = pg::fresh_database().await;
    let (a, b) = (
        PostgresStore::connect(&db.url).await.unwrap(),
        PostgresStore::connect(&db.url).await.unwrap(),
    );
    let m = map("versioned");
    a.append(&m, vec![type_text(&Doc::with_client_id(1), "x")])
        .await
        .unwrap();
    // Two nodes taking versions at once never hand out the same number.
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut tasks = JoinSet::new();
    for i in 0..10u8 {
        let store = Arc::clone(if i % 2 == 0 { &a } else { &b });
        let m = m.clone();
        tasks.spawn(async move {
            store
                .add_version(&m, version(VersionKind::Manual, &[i]), false)
                .await
                .unwrap()
                .unwrap()
                .number
        });
    }
    let mut numbers = tasks.join_all().await;
    numbers.sort();
    assert_eq!(numbers, (1..=10).collect::<Vec<i64>>());
    // An automatic version of an unchanged map is skipped.
    let newest = a.versions(&m).await.unwrap()[0].number;
    let (_, state) = a.version(&m, newest).await.unwrap().unwrap();
    assert_eq!(state, b"compressed");
    let listed = a.versions(&m).await.unwrap();
    assert_eq!(listed.len(), 10);
    assert!(
        listed.windows(2).all(|w| w[0].number > w[1].number),
        "newest first"
    );
    let newest_sv = {
        let client = pg::client(&db.url).await;
        let row = client
            .query_one(
                "SELECT state_vector FROM waymark_versions WHERE map_id = $1 AND number = $2",
                &[&m.as_str(), &newest],
            )
            .await
            .unwrap();
        row.get::<_, Vec<u8>>(0)
    };
    assert_eq!(
        b.add_version(&m, version(VersionKind::Auto, &newest_sv), true)
            .await
            .unwrap(),
        None
    );
    assert!(a.version(&m, 99).await.unwrap().is_none());
    // Reviews change compare-and-set: of two nodes recording over the same state, one wins.
    assert_eq!(
        a.set_review(&m, 1, None, r#"{"r":"a"}"#.into())
            .await
            .unwrap(),
        Some(true)
    );
    assert_eq!(
        b.set_review(&m, 1, None, r#"{"r":"b"}"#.into())
            .await
            .unwrap(),
        Some(false)
    );
    assert_eq!(
        b.set_review(&m, 1, Some(r#"{"r":"a"}"#.into()), r#"{"r":"b"}"#.into())
            .await
            .unwrap(),
        Some(true)
    );
    assert_eq!(b.set_review(&m, 99, None, "{}".into()).await.unwrap(), None);
    let v1 = a.versions(&m).await.unwrap().pop().unwrap();
    assert_eq!(v1.review, Some(serde_json::json!({"r": "b"})));
    // Activity: newest first; none kept for a map that is not stored.
    let entry = |kind: &str, at: i64| Activity {
        at,
        kind: kind.into(),
        session: "n1-7".into(),
        user: Some("Ana".into()),
        updates: 2,
        bytes: 40,
    };
    a.record_activity(&m, vec![entry("connected", 1), entry("edited", 2)])
        .await
        .unwrap();
    b.record_activity(&map("ghost"), vec![entry("connected", 3)])
        .await
        .unwrap();
    assert_eq!(
        b.activity(&m, 10).await.unwrap(),
        vec![entry("edited", 2), entry("connected", 1)]
    );
    assert_eq!(b.activity(&m, 1).await.unwrap().len(), 1);
    assert!(a.activity(&map("ghost"), 10).await.unwrap().is_empty());
    assert!(a.delete(&m).await.unwrap());
    assert!(b.versions(&m).await.unwrap().is_empty());
    assert!(b.activity(&m, 10).await.unwrap().is_empty());
    for s in [a, b] {
        s.close().await.unwrap();
    }
    db.drop_database().await;
}

#[tokio::test]
async fn a_map_is_claimed_by_one_store_of_those_sharing_the_database() {
    let db = pg::fresh_database().await;
    let (one, other) = (
        PostgresStore::connect(&db.url).await.unwrap(),
        PostgresStore::connect(&db.url).await.unwrap(),
    );
    let m = map("contested");
    let (a, b) = tokio::join!(one.claim(&m), other.claim(&m));
    let mut won = [a.unwrap(), b.unwrap()];
    won.sort();
    assert_eq!(won, [false, true], "exactly one store creates the map");
    assert!(one.exists(&m).await.unwrap());
    // A map with content cannot be claimed either; a deleted one can be created again.
    store_text(&other, &m).await;
    assert!(!one.claim(&m).await.unwrap());
    assert!(one.delete(&m).await.unwrap());
    assert!(other.claim(&m).await.unwrap());
}

async fn store_text(store: &PostgresStore, m: &MapId) {
    store
        .append(m, vec![type_text(&Doc::with_client_id(9), "x")])
        .await
        .unwrap();
}

#[tokio::test]
async fn load_after_reads_the_log_past_a_point_and_the_snapshot_only_if_newer() {
    let db = pg::fresh_database().await;
    let store = PostgresStore::connect(&db.url).await.unwrap();
    let m = map("tail");
    let doc = Doc::with_client_id(1);
    let (u1, u2) = (type_text(&doc, "ab"), type_text(&doc, "cd"));
    let first = store.append(&m, vec![u1]).await.unwrap();
    let last = store.append(&m, vec![u2.clone()]).await.unwrap();
    let tail = store.load_after(&m, first).await.unwrap();
    assert_eq!(tail.snapshot, None);
    assert_eq!(tail.updates, vec![u2.to_vec()]);
    assert_eq!(tail.last_seq, last);
    let snapshot = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    store.compact(&m, snapshot, last).await.unwrap();
    let after_compaction = store.load_after(&m, first).await.unwrap();
    assert!(after_compaction.snapshot.is_some());
    assert_eq!(after_compaction.last_seq, last);
    let up_to_date = store.load_after(&m, last).await.unwrap();
    assert!(up_to_date.snapshot.is_none() && up_to_date.updates.is_empty());
}

#[tokio::test]
async fn an_append_from_before_a_delete_cannot_bring_the_map_back() {
    let db = pg::fresh_database().await;
    let (deleter, late) = (
        PostgresStore::connect(&db.url).await.unwrap(),
        PostgresStore::connect(&db.url).await.unwrap(),
    );
    let m = map("deleted");
    let doc = Doc::with_client_id(4);
    late.append(&m, vec![type_text(&doc, "before")])
        .await
        .unwrap();
    let loaded = late.load(&m).await.unwrap();
    assert_eq!(loaded.deleted_at, None);
    assert!(deleter.delete(&m).await.unwrap());
    // The node that loaded it before the delete appends late: refused, nothing comes back.
    let refused = late
        .append_since(&m, vec![type_text(&doc, "late")], loaded.deleted_at)
        .await;
    assert!(matches!(refused, Err(StoreError::Deleted)), "{refused:?}");
    assert!(!deleter.exists(&m).await.unwrap());
    assert!(deleter.list().await.unwrap().is_empty());
    // A load after the delete knows of it, and may start the map anew.
    let fresh = late.load(&m).await.unwrap();
    assert!(fresh.deleted_at.is_some() && fresh.updates.is_empty());
    late.append_since(
        &m,
        vec![type_text(&Doc::with_client_id(5), "anew")],
        fresh.deleted_at,
    )
    .await
    .unwrap();
    assert!(deleter.exists(&m).await.unwrap());
    assert_eq!(late.load(&m).await.unwrap().deleted_at, None);
}

#[tokio::test]
async fn revocations_are_shared_and_a_users_only_ever_reaches_further() {
    let db = pg::fresh_database().await;
    let (one, other) = (
        PostgresStore::connect(&db.url).await.unwrap(),
        PostgresStore::connect(&db.url).await.unwrap(),
    );
    let user = |at: i64, reason: &str| Revocation {
        subject: Revoked::User("ana".into()),
        at,
        reason: reason.into(),
    };
    let token = Revocation {
        subject: Revoked::Token("t-1".into()),
        at: 50,
        reason: "leaked".into(),
    };
    one.revoke(&user(200, "left")).await.unwrap();
    other.revoke(&user(100, "stale")).await.unwrap();
    other.revoke(&token).await.unwrap();
    assert_eq!(
        one.revocations().await.unwrap(),
        vec![user(200, "stale"), token],
        "users first, then single tokens; a user's time never moves back"
    );
}
