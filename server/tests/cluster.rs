//! Several nodes of one cluster: real `waymark serve` processes sharing a fresh database in the
//! local PostgreSQL and a `redis-server` of the test's own (so it can be stopped and restarted).

mod common;

use common::pg::{FreshDatabase, fresh_database};
use common::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use waymark_client::{MapClient, Options};
use yrs::{Map, ReadTxn, Transact};

/// Longer than `WAIT`: resyncs after an outage include reconnect back-offs.
const CONVERGE: Duration = Duration::from_secs(20);

struct Cluster {
    redis: RedisServer,
    db: FreshDatabase,
    nodes: Vec<ProcessServer>,
    _disks: Vec<tempfile::TempDir>,
}

impl Cluster {
    async fn start(nodes: usize) -> Self {
        let mut c = Cluster {
            redis: RedisServer::start().await,
            db: fresh_database().await,
            nodes: Vec::new(),
            _disks: Vec::new(),
        };
        for _ in 0..nodes {
            c.add_node().await;
        }
        c
    }

    /// Starts one more node, on an empty local disk of its own.
    async fn add_node(&mut self) -> usize {
        let db = self.db.url.clone();
        self.add_node_on(&db).await
    }

    /// Starts one more node reaching the database through `database_url`.
    async fn add_node_on(&mut self, database_url: &str) -> usize {
        self.add_node_with(database_url, &[]).await
    }

    /// Starts one more node with more flags.
    async fn add_node_with(&mut self, database_url: &str, extra: &[&str]) -> usize {
        let disk = tempfile::tempdir().unwrap();
        let redis = self.redis.url();
        let mut args = vec!["--redis-url", &redis, "--database-url", database_url];
        args.extend_from_slice(extra);
        let node = ProcessServer::start_with(disk.path(), &args).await;
        self.nodes.push(node);
        self._disks.push(disk);
        self.nodes.len() - 1
    }

    async fn connect(&self, node: usize, map: &str) -> MapClient {
        let c = MapClient::connect(self.nodes[node].url(map)).await.unwrap();
        c.synced(WAIT).await.unwrap();
        c
    }
}

/// Every card of a client's document.
fn cards(c: &MapClient) -> BTreeMap<String, String> {
    let doc = c.doc();
    let txn = doc.transact();
    txn.get_map("cards")
        .map(|m| {
            m.iter(&txn)
                .map(|(k, v)| (k.to_string(), v.to_string(&txn)))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until every client holds exactly `want`.
async fn converge(clients: &[&MapClient], want: &BTreeMap<String, String>, timeout: Duration) {
    for (i, c) in clients.iter().enumerate() {
        let waited = c
            .wait_for(timeout, "every card", |c| &cards(c) == want)
            .await;
        if waited.is_err() {
            let have = cards(c);
            let missing: Vec<_> = want.keys().filter(|k| !have.contains_key(*k)).collect();
            let extra: Vec<_> = have.keys().filter(|k| !want.contains_key(*k)).collect();
            panic!(
                "client {i} did not converge: {} of {} cards, missing {missing:?}, unexpected {extra:?}",
                have.len(),
                want.len()
            );
        }
    }
}

fn union(clients: &[&MapClient]) -> BTreeMap<String, String> {
    clients.iter().flat_map(|c| cards(c)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_on_two_and_three_nodes_converge_and_see_each_others_presence() {
    let cluster = Cluster::start(3).await;
    for nodes in [2, 3] {
        let map = format!("converge-{nodes}");
        let mut clients = Vec::new();
        for n in 0..nodes {
            clients.push(cluster.connect(n, &map).await);
        }
        // Everyone writes at once: 30 cards each, each its own update.
        for k in 0..30 {
            for (n, c) in clients.iter().enumerate() {
                set_card(c, &format!("n{n}-{k}"), &format!("from node {n}, #{k}"));
            }
        }
        let refs: Vec<&MapClient> = clients.iter().collect();
        let want = union(&refs);
        assert_eq!(want.len(), nodes * 30);
        converge(&refs, &want, WAIT).await;

        // Presence crosses nodes, and so does its removal when the client leaves.
        let ana = &clients[0];
        ana.set_awareness(r#"{"user":{"name":"Ana"}}"#);
        let id = ana.client_id();
        for c in &clients[1..] {
            c.wait_for(WAIT, "Ana's presence", |c| {
                c.peers().get(&id).is_some_and(|s| s.contains("Ana"))
            })
            .await
            .unwrap();
        }
        ana.disconnect().await;
        for c in &clients[1..] {
            c.wait_for(WAIT, "Ana's presence removed", |c| {
                !c.peers().contains_key(&id)
            })
            .await
            .unwrap();
        }
    }
    // A client joining later on any node sees the others' presence at once (they answer its
    // node's hello), not only after their next renewal.
    let map = "presence-join";
    let bo = cluster.connect(1, map).await;
    bo.set_awareness(r#"{"user":{"name":"Bo"}}"#);
    let cy = cluster.connect(1, map).await;
    cy.wait_for(WAIT, "Bo on the same node", |c| {
        c.peers().contains_key(&bo.client_id())
    })
    .await
    .unwrap();
    let late = cluster.connect(2, map).await;
    late.wait_for(WAIT, "Bo's presence from another node", |c| {
        c.peers().contains_key(&bo.client_id())
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_loading_a_map_while_another_edits_it_misses_nothing() {
    let cluster = Cluster::start(2).await;
    const CARDS: usize = 60;
    for round in 0..30 {
        let map = format!("race-{round}");
        let writer = Arc::new(cluster.connect(0, &map).await);
        // The second node loads the map at a different point of the writing in each round.
        let head_start = round % 6 * 10;
        for k in 0..head_start {
            set_card(&writer, &format!("c{k}"), "x");
        }
        let w = Arc::clone(&writer);
        let writing = tokio::spawn(async move {
            for k in head_start..CARDS {
                set_card(&w, &format!("c{k}"), "x");
                tokio::task::yield_now().await;
            }
        });
        let reader = cluster.connect(1, &map).await;
        writing.await.unwrap();
        let want = cards(&writer);
        assert_eq!(want.len(), CARDS);
        converge(&[&reader], &want, WAIT).await;
        // And the other way: the node that loaded late is fully part of the map.
        set_card(&reader, "from-reader", "y");
        writer
            .wait_for(WAIT, "the reader's card", |c| {
                card(c, "from-reader").is_some()
            })
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_converge_after_redis_was_down_for_seconds() {
    let mut cluster = Cluster::start(2).await;
    let map = "redis-outage";
    let a = cluster.connect(0, map).await;
    let a2 = cluster.connect(0, map).await;
    let b = cluster.connect(1, map).await;
    set_card(&a, "before-a", "1");
    set_card(&b, "before-b", "1");
    let want = union(&[&a, &b]);
    converge(&[&a, &a2, &b], &want, WAIT).await;

    cluster.redis.stop().await;
    // Both nodes keep editing for three seconds without Redis.
    let outage = tokio::time::Instant::now() + Duration::from_secs(3);
    // A map first loaded during the outage, on both nodes, is served locally meanwhile.
    let c = cluster.connect(0, "loaded-during-outage").await;
    let d = cluster.connect(1, "loaded-during-outage").await;
    set_card(&c, "c", "1");
    set_card(&d, "d", "1");
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let mut k = 0;
    while tokio::time::Instant::now() < outage {
        tick.tick().await;
        set_card(&a, &format!("outage-a{k}"), "2");
        set_card(&b, &format!("outage-b{k}"), "2");
        k += 1;
    }
    // Meanwhile each node kept serving its own clients.
    a2.wait_for(WAIT, "a's outage edits on the same node", |c| {
        card(c, &format!("outage-a{}", k - 1)).is_some()
    })
    .await
    .unwrap();
    assert!(
        card(&b, "outage-a0").is_none(),
        "an edit crossed nodes without Redis"
    );

    cluster.redis.restart().await;
    let want = union(&[&a, &b]);
    assert_eq!(want.len(), 2 + 2 * k);
    converge(&[&a, &a2, &b], &want, CONVERGE).await;
    let want_new = union(&[&c, &d]);
    assert_eq!(want_new.len(), 2);
    converge(&[&c, &d], &want_new, CONVERGE).await;
    // Nobody reconnected: the nodes re-read the maps from the store by themselves.
    assert!(a.is_connected() && a2.is_connected() && b.is_connected());
    assert!(c.is_connected() && d.is_connected());
    for node in &cluster.nodes {
        assert!(
            node.metric("waymark_map_resyncs_total{kind=\"resubscribed\"}")
                .await
                >= 1.0
        );
    }
    // And live fan-out works again.
    set_card(&b, "after", "3");
    a.wait_for(WAIT, "an edit after the outage", |c| {
        card(c, "after").is_some()
    })
    .await
    .unwrap();
}

/// A node that missed messages reads back only what was stored since it last read the map, not
/// the whole map again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_reads_only_what_was_stored_since_the_map_was_read() {
    let mut cluster = Cluster::start(2).await;
    let map = "large-resync";
    let a = cluster.connect(0, map).await;
    // Half a megabyte in ten updates: below the compaction thresholds, so it stays in the log.
    let large = "x".repeat(50_000);
    for i in 0..10 {
        set_card(&a, &format!("large-{i}"), &large);
    }
    let a2 = cluster.connect(0, map).await;
    a2.wait_for(WAIT, "the large cards", |c| card(c, "large-9").is_some())
        .await
        .unwrap();
    // Node 1 loads the map now, all of it.
    let b = cluster.connect(1, map).await;
    assert!(card(&b, "large-9").is_some());
    let read_before = cluster.nodes[1]
        .metric("waymark_map_resync_bytes_total")
        .await;

    cluster.redis.stop().await;
    for i in 0..5 {
        set_card(&a, &format!("small-{i}"), "1");
    }
    a2.wait_for(WAIT, "the small cards", |c| card(c, "small-4").is_some())
        .await
        .unwrap();
    cluster.redis.restart().await;
    b.wait_for(CONVERGE, "the cards written while Redis was down", |c| {
        card(c, "small-4").is_some()
    })
    .await
    .unwrap();
    let read = cluster.nodes[1]
        .metric("waymark_map_resync_bytes_total")
        .await
        - read_before;
    assert!(read > 0.0, "node 1 resynced from the store");
    assert!(
        read < 50_000.0,
        "node 1 read {read} bytes to catch up on five small cards"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_of_a_killed_node_reconnect_to_another_and_lose_nothing() {
    let mut cluster = Cluster::start(2).await;
    let map = "kill-9";
    let a = cluster.connect(0, map).await;
    let b = cluster.connect(1, map).await;
    for k in 0..20 {
        set_card(&a, &format!("a{k}"), "1");
        set_card(&b, &format!("b{k}"), "1");
    }
    // What b has seen of a's edits when the node dies must survive.
    b.wait_for(WAIT, "some of a's cards", |c| card(c, "a5").is_some())
        .await
        .unwrap();
    cluster.nodes[0].kill().await;
    let seen_by_b = cards(&b);
    a.wait_for(WAIT, "the connection to drop", |c| !c.is_connected())
        .await
        .unwrap();
    // a keeps editing offline, then reconnects to the surviving node with its document.
    set_card(&a, "offline", "2");
    let a = MapClient::connect_with(
        cluster.nodes[1].url(map),
        Options {
            doc: Some(a.doc().clone()),
            ..Options::default()
        },
    )
    .await
    .unwrap();
    a.synced(WAIT).await.unwrap();
    let want = union(&[&a, &b]);
    assert_eq!(want.len(), 41);
    assert!(seen_by_b.iter().all(|(k, v)| want.get(k) == Some(v)));
    converge(&[&a, &b], &want, WAIT).await;
    // A newcomer on a replacement node reads it all from the shared store.
    let n = cluster.add_node().await;
    let fresh = cluster.connect(n, map).await;
    converge(&[&fresh], &want, WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restarted_with_an_empty_disk_loses_nothing() {
    let mut cluster = Cluster::start(1).await;
    let map = "empty-disk";
    let a = cluster.connect(0, map).await;
    for k in 0..50 {
        set_card(&a, &format!("c{k}"), &format!("card {k}"));
    }
    // A second client seeing the last card proves the server stored everything before it.
    let witness = cluster.connect(0, map).await;
    witness
        .wait_for(WAIT, "the last card", |c| card(c, "c49").is_some())
        .await
        .unwrap();
    let want = cards(&a);
    drop((a, witness));
    cluster.nodes[0].kill().await;
    // The node's local disk is gone with it; a new node on a new, empty disk takes over.
    let n = cluster.add_node().await;
    let c = cluster.connect(n, map).await;
    assert_eq!(cards(&c), want);
    // And the map is listed by the REST API from the shared store.
    let (status, body) = get(&cluster.nodes[n].http("/api/v1/maps")).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"empty-disk\""), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_map_on_one_node_closes_its_editors_on_every_node() {
    let cluster = Cluster::start(2).await;
    let map = "to-delete";
    let a = cluster.connect(0, map).await;
    let b = cluster.connect(1, map).await;
    set_card(&a, "x", "1");
    b.wait_for(WAIT, "the card", |c| card(c, "x").is_some())
        .await
        .unwrap();
    let res = http(
        "DELETE",
        &cluster.nodes[0].http("/api/v1/maps/to-delete"),
        None,
    )
    .await;
    assert_eq!(res.status, 204, "{}", res.body);
    for c in [&a, &b] {
        let closed = c.wait_closed(WAIT).await.unwrap().expect("closed");
        assert_eq!(closed.code, 4004);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_creating_the_same_map_at_once_create_it_once() {
    let cluster = Cluster::start(2).await;
    for round in 0..4 {
        let map = format!("contested-{round}");
        // Viewers on both nodes load the (empty) map first, so each node's room finds it empty
        // when the creations arrive at the same moment.
        let a = cluster.connect(0, &map).await;
        let b = cluster.connect(1, &map).await;
        a.synced(WAIT).await.unwrap();
        b.synced(WAIT).await.unwrap();
        let create = |node: usize, title: &'static str| {
            let url = cluster.nodes[node].http("/api/v1/maps");
            let body = format!(r#"{{"id":"{map}","title":"{title}"}}"#);
            async move { http("POST", &url, Some(&body)).await }
        };
        let (first, second) = tokio::join!(create(0, "From node 0"), create(1, "From node 1"));
        let mut statuses = [first.status, second.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [201, 409],
            "{map}: {} {} / {} {}",
            first.status,
            first.body,
            second.status,
            second.body
        );
        let refused = if first.status == 409 { &first } else { &second };
        assert_eq!(refused.json()["error"], "map_exists");
        // Both viewers see the one map that was created, with the winner's title.
        let winner = if first.status == 201 {
            "From node 0"
        } else {
            "From node 1"
        };
        for c in [&a, &b] {
            c.wait_for(CONVERGE, "the created map", |c| {
                c.map().map.meta.title == winner
            })
            .await
            .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_racing_a_delete_on_another_node_do_not_bring_the_map_back() {
    let cluster = Cluster::start(2).await;
    for round in 0..3 {
        let map = format!("raced-{round}");
        let a = cluster.connect(0, &map).await;
        let b = cluster.connect(1, &map).await;
        set_card(&a, "first", "1");
        b.wait_for(WAIT, "the first card", |c| card(c, "first").is_some())
            .await
            .unwrap();
        // Node 1's editor keeps typing while node 0 deletes the map.
        let typing = async {
            let mut k = 0;
            while b.is_connected() && k < 2000 {
                set_card(&b, &format!("late-{k}"), "2");
                k += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        };
        let delete = async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            http(
                "DELETE",
                &cluster.nodes[0].http(&format!("/api/v1/maps/{map}")),
                None,
            )
            .await
        };
        let ((), res) = tokio::join!(typing, delete);
        assert_eq!(res.status, 204, "{}", res.body);
        let closed = b.wait_closed(WAIT).await.unwrap().expect("closed");
        assert_eq!(closed.code, 4004);
        // Whatever node 1 was storing when the delete came, the map stays deleted everywhere.
        for node in &cluster.nodes {
            let res = http("GET", &node.http(&format!("/api/v1/maps/{map}")), None).await;
            assert_eq!(res.status, 404, "{map} came back: {}", res.body);
            let (_, list) = get(&node.http("/api/v1/maps")).await;
            assert!(!list.contains(&format!("\"{map}\"")), "{list}");
        }
    }
}

/// Polls `/readyz` until it answers `status`.
async fn wait_ready(node: &ProcessServer, status: u16) -> String {
    let deadline = tokio::time::Instant::now() + CONVERGE;
    loop {
        let (got, body) = get(&node.http("/readyz")).await;
        if got == status {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz stayed {got} ({body}), expected {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_acknowledges_nothing_and_loses_nothing() {
    let mut cluster = Cluster::start(0).await;
    // The node reaches PostgreSQL through a proxy the test can cut, as a network failure would.
    let proxy = pg::Proxy::start(pg::server_address()).await;
    let via_proxy = format!("postgres://postgres@{}/{}", proxy.addr, cluster.db.name);
    let n = cluster.add_node_on(&via_proxy).await;
    let map = "db-outage";
    let a = cluster.connect(n, map).await;
    let witness = cluster.connect(n, map).await;
    set_card(&a, "before", "1");
    witness
        .wait_for(WAIT, "the first card", |c| card(c, "before").is_some())
        .await
        .unwrap();
    assert!(wait_ready(&cluster.nodes[n], 200).await.contains("ready"));

    proxy.cut();
    let reason = wait_ready(&cluster.nodes[n], 503).await;
    assert!(reason.contains("unavailable"), "{reason}");
    // An edit made now cannot be stored: it is not passed on, and the map's editors are told to
    // come back later.
    set_card(&a, "during", "2");
    for c in [&a, &witness] {
        let closed = c.wait_closed(CONVERGE).await.unwrap().expect("closed");
        assert_eq!(closed.code, 1011, "{}", closed.reason);
    }
    assert!(
        card(&witness, "during").is_none(),
        "an unstored edit was delivered"
    );

    proxy.restore();
    wait_ready(&cluster.nodes[n], 200).await;
    // The editor reconnects with its document: its unsaved edit is sent again in the handshake.
    let a = MapClient::connect_with(
        cluster.nodes[n].url(map),
        Options {
            doc: Some(a.doc().clone()),
            ..Options::default()
        },
    )
    .await
    .unwrap();
    a.synced(WAIT).await.unwrap();
    let want = cards(&a);
    assert_eq!(want.len(), 2);
    let fresh = cluster.connect(n, map).await;
    converge(&[&fresh], &want, WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_taken_on_one_node_are_announced_to_opted_in_clients_on_another() {
    let cluster = Cluster::start(2).await;
    let create = http(
        "POST",
        &cluster.nodes[0].http("/api/v1/maps"),
        Some(r#"{"id":"announced","template":"saas-onboarding"}"#),
    )
    .await;
    assert_eq!(create.status, 201, "{}", create.body);
    let opted = MapClient::connect(format!("{}?ext=events", cluster.nodes[1].url("announced")))
        .await
        .unwrap();
    opted.synced(WAIT).await.unwrap();
    let res = http(
        "POST",
        &cluster.nodes[0].http("/api/v1/maps/announced/versions"),
        Some(r#"{"label":"Cross-node"}"#),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    opted
        .wait_for(WAIT, "the event from the other node", |c| {
            c.events().iter().any(|e| e.contains("Cross-node"))
        })
        .await
        .unwrap();
    // And the version is there for every node (one shared store).
    let (status, body) = get(&cluster.nodes[1].http("/api/v1/maps/announced/versions")).await;
    assert_eq!(status, 200);
    assert!(body.contains("Cross-node"), "{body}");
}

/// Workshop mode across nodes: a facilitator on one node, participants on the other; locks, votes
/// and the timer hold the same everywhere.
#[tokio::test]
async fn a_workshop_runs_the_same_for_participants_on_another_node() {
    use common::access::{SECRET, now, token_for};
    use waymark_client::workshop as w;
    use waymark_protocol::schema::At;
    use waymark_server::auth::Role;
    let mut cluster = Cluster::start(0).await;
    let db = cluster.db.url.clone();
    for _ in 0..2 {
        cluster.add_node_with(&db, &["--auth-secret", SECRET]).await;
    }
    let map = "ws-cluster";
    let join = |node: usize, user: &str, role: Role, ext: bool| {
        let token = token_for(user, map, role, now() + 3600);
        let url = format!(
            "{}?token={token}{}",
            cluster.nodes[node].url(map),
            if ext { "&ext=workshop" } else { "" }
        );
        async move {
            let c = MapClient::connect(url).await.unwrap();
            c.synced(WAIT).await.unwrap();
            c
        }
    };
    let fay = join(0, "fay", Role::Facilitator, true).await;
    let card = fay.edit(|e| {
        let stage = e.add_stage("Buy", At::Last).unwrap();
        let step = e.add_step(&stage, "Pay", At::Last).unwrap();
        let lane = e.add_lane("pain-points", "Pains", At::Last).unwrap();
        e.add_card(&lane, &step, "Slow checkout", At::Last).unwrap()
    });
    let ana = join(1, "ana", Role::Editor, false).await;
    let ben = join(1, "ben", Role::Editor, true).await;
    ana.wait_for(WAIT, "the board", |c| c.map().map.cards.len() == 1)
        .await
        .unwrap();

    fay.send_workshop(&w::lock(&w::structure())).unwrap();
    fay.send_workshop(&w::timer_start(120, "Vote")).unwrap();
    fay.send_workshop(&w::vote_open("Pain", &[&card], 2, 2))
        .unwrap();
    let theirs = ben
        .wait_for_workshop(WAIT, "the other node's workshop", |s| {
            !s["workshop"]["vote"].is_null() && !s["workshop"]["timer"].is_null()
        })
        .await
        .unwrap();
    let ours = fay
        .wait_for_workshop(WAIT, "this node's workshop", |s| {
            !s["workshop"]["vote"].is_null() && !s["workshop"]["timer"].is_null()
        })
        .await
        .unwrap();
    assert_eq!(
        theirs["workshop"]["timer"]["endsAt"],
        ours["workshop"]["timer"]["endsAt"]
    );
    assert_eq!(theirs["workshop"]["locks"][0]["target"], "structure");

    // The lock set on node 0 binds an editor on node 1.
    ana.edit(|e| e.add_lane("opportunities", "Ideas", At::Last))
        .unwrap();
    ana.wait_for(WAIT, "the refusal", |c| !c.denied().is_empty())
        .await
        .unwrap();
    ana.wait_for(WAIT, "the undo", |c| c.map().map.lanes.len() == 1)
        .await
        .unwrap();
    assert_eq!(fay.map().map.lanes.len(), 1);

    // A vote cast on node 1 counts on node 0, and the reveal reaches node 1's stock client.
    ben.send_workshop(&w::vote_cast(&card)).unwrap();
    fay.wait_for_workshop(WAIT, "the vote from the other node", |s| {
        s["workshop"]["vote"]["votesCast"]["ben name"] == 1
    })
    .await
    .unwrap();
    fay.send_workshop(&w::vote_reveal()).unwrap();
    ana.wait_for(WAIT, "the revealed totals", |c| {
        let txn = c.doc().transact();
        txn.get_map("votes").is_some_and(|v| v.len(&txn) == 1)
    })
    .await
    .unwrap();
}
