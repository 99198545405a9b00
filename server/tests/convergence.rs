//! Property: whatever concurrent edits several clients make, online or offline, and however they
//! drop (closing handshake or abrupt abort) and come back, every client ends with the same document,
//! that document holds every edit anyone made, and the store returns exactly it after a restart.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;
use waymark_client::MapClient;
use waymark_server::Config;
use yrs::types::ToJson;
use yrs::updates::decoder::Decode;
use yrs::{
    Any, Array, Doc, GetString, Map, MapPrelim, Out, ReadTxn, StateVector, Text, Transact, Update,
};

const MAP: &str = "convergence";
/// Cases per run when PROPTEST_CASES is not set: small enough for CI on two cores.
const DEFAULT_CASES: u32 = 14;
/// Longest a scenario may take to converge once every client is back.
const CONVERGE: Duration = Duration::from_secs(15);

#[derive(Debug, Clone)]
struct Scenario {
    clients: usize,
    ops: Vec<Op>,
}

#[derive(Debug, Clone)]
enum Op {
    Edit {
        client: usize,
        edit: Edit,
    },
    /// `abrupt` drops the socket without a closing handshake, as a crash or lost network would.
    Disconnect {
        client: usize,
        abrupt: bool,
    },
    /// Reconnects; on a client that is still connected this is a quick close-and-reopen.
    Reconnect {
        client: usize,
    },
    /// Lets messages in flight land between two operations, to vary the interleavings. Nothing
    /// relies on it for correctness.
    Pause {
        ms: u64,
    },
    /// Waits (with a deadline) until the connected clients have received the same updates and,
    /// when every client is connected, hold the same document: without anyone reconnecting.
    Settle,
}

/// Edits on four root types: `cards` (a map of maps, like the journey-map schema's collections),
/// `meta` (a map of strings), `notes` (a text) and `log` (an array). Positions are taken modulo the
/// current length, so every edit applies to whatever state the client has.
#[derive(Debug, Clone)]
enum Edit {
    SetCardField { card: u8, field: u8 },
    DeleteCard { card: u8 },
    SetKey { key: u8 },
    DeleteKey { key: u8 },
    InsertText { at: u16 },
    DeleteText { at: u16, len: u32 },
    Push,
    RemoveItem { at: u16 },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (0u8..4, 0u8..3).prop_map(|(card, field)| Edit::SetCardField { card, field }),
        1 => (0u8..4).prop_map(|card| Edit::DeleteCard { card }),
        2 => (0u8..4).prop_map(|key| Edit::SetKey { key }),
        1 => (0u8..4).prop_map(|key| Edit::DeleteKey { key }),
        3 => any::<u16>().prop_map(|at| Edit::InsertText { at }),
        2 => (any::<u16>(), 1u32..8).prop_map(|(at, len)| Edit::DeleteText { at, len }),
        2 => Just(Edit::Push),
        1 => any::<u16>().prop_map(|at| Edit::RemoveItem { at }),
    ]
}

fn op(clients: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        14 => (0..clients, edit()).prop_map(|(client, edit)| Op::Edit { client, edit }),
        2 => (0..clients, any::<bool>())
            .prop_map(|(client, abrupt)| Op::Disconnect { client, abrupt }),
        2 => (0..clients).prop_map(|client| Op::Reconnect { client }),
        1 => (0u64..15).prop_map(|ms| Op::Pause { ms }),
        1 => Just(Op::Settle),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (2usize..=4).prop_flat_map(|clients| {
        prop::collection::vec(op(clients), 5..=40).prop_map(move |ops| Scenario { clients, ops })
    })
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        // A failing case can take a whole convergence deadline: bound the shrinking.
        max_shrink_iters: 200,
        max_shrink_time: 120_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_edits_and_disconnects_converge_everywhere_and_in_the_store(s in scenario()) {
        // A runtime (and a server, a data directory) per case: cases cannot leak into each other.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run(&s))?;
    }
}

async fn run(s: &Scenario) -> Result<(), TestCaseError> {
    let mut server = TestServer::start().await;
    let dir = server.keep_data();
    let mut clients = Vec::new();
    for _ in 0..s.clients {
        clients.push(server.connect(MAP).await);
    }

    for (n, op) in s.ops.iter().enumerate() {
        match *op {
            Op::Edit { client, ref edit } => apply(&clients[client], client, n, edit),
            Op::Disconnect {
                client,
                abrupt: true,
            } => clients[client].abort(),
            Op::Disconnect {
                client,
                abrupt: false,
            } => clients[client].disconnect().await,
            Op::Reconnect { client } => clients[client]
                .reconnect()
                .await
                .map_err(|e| fail(format!("op {n}: client {client} cannot reconnect: {e}")))?,
            Op::Pause { ms } => tokio::time::sleep(Duration::from_millis(ms)).await,
            Op::Settle => {
                let online: Vec<&MapClient> = clients.iter().filter(|c| c.is_connected()).collect();
                // Even with a client away, the others agree on content: an update of the away
                // client's that depends on edits the server never got is held back (see
                // `an_update_with_a_gap_is_held_until_the_gap_is_filled`).
                if let Err(report) =
                    converge(&online, &format!("connected clients at op {n}"), true).await
                {
                    return Err(diagnose(report, &server, &clients).await);
                }
            }
        }
    }

    // Every change anyone made, merged without the server: what everyone must end up with.
    let expected = merged(&clients);

    for (i, c) in clients.iter().enumerate() {
        c.reconnect()
            .await
            .map_err(|e| fail(format!("client {i} cannot reconnect at the end: {e}")))?;
        c.synced(WAIT)
            .await
            .map_err(|e| fail(format!("client {i} never synced at the end: {e}")))?;
    }
    let all: Vec<&MapClient> = clients.iter().collect();
    let converged = match converge(&all, "all clients after reconnecting", true).await {
        Ok(state) => state,
        Err(report) => return Err(diagnose(report, &server, &clients).await),
    };
    for (i, c) in clients.iter().enumerate() {
        prop_assert!(
            c.is_connected(),
            "the server closed client {i}'s connection: {:?}",
            c.closed()
        );
    }
    prop_assert_eq!(
        &converged.content,
        &expected.content,
        "the clients agree on a document that is not the merge of everyone's edits"
    );
    prop_assert_eq!(
        &converged.state_vector,
        &expected.state_vector,
        "the clients agree on a state vector that is not the merge of everyone's"
    );

    // The store: a graceful stop flushes; a new server on the same data must serve the same map.
    server.stop().await;
    drop(clients);
    let mut restarted = TestServer::start_in(dir.path(), Config::default()).await;
    let fresh = restarted.connect(MAP).await;
    let stored = snapshot(fresh.doc());
    prop_assert!(
        !stored.missing_updates,
        "the stored map has unapplied updates"
    );
    prop_assert_eq!(
        &stored.content,
        &converged.content,
        "after a restart the store serves a different map than the clients converged on"
    );
    prop_assert_eq!(
        &stored.state_vector,
        &converged.state_vector,
        "after a restart the store holds other updates than the clients converged on"
    );
    drop(fresh);
    restarted.stop().await;
    Ok(())
}

/// Adds what every client (connected or not) and the server hold to a convergence failure.
async fn diagnose(report: String, server: &TestServer, clients: &[MapClient]) -> TestCaseError {
    let mut report = report;
    for (i, c) in clients.iter().enumerate() {
        let s = snapshot(c.doc());
        let _ = writeln!(
            report,
            "=== client #{i} = {} (connected: {}, closed: {:?}, updates received: {}, \
             missing updates: {})\nstate vector: {:?}\n{}",
            c.client_id(),
            c.is_connected(),
            c.closed(),
            c.updates_received(),
            s.missing_updates,
            s.state_vector,
            s.content
        );
    }
    let observer = server.connect(MAP).await;
    let s = snapshot(observer.doc());
    let _ = writeln!(
        report,
        "=== the server, as a new client reads it (missing updates: {})\nstate vector: {:?}\n{}",
        s.missing_updates, s.state_vector, s.content
    );
    fail(report)
}

fn fail(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

fn apply(c: &MapClient, client: usize, n: usize, edit: &Edit) {
    // Values name their author and operation, so a failure shows where content came from.
    let value = format!("{}{n}", char::from(b'a' + client as u8));
    let doc = c.doc();
    let cards = doc.get_or_insert_map("cards");
    let meta = doc.get_or_insert_map("meta");
    let notes = doc.get_or_insert_text("notes");
    let log = doc.get_or_insert_array("log");
    let mut txn = doc.transact_mut();
    match *edit {
        Edit::SetCardField { card, field } => {
            let (card, field) = (format!("card{card}"), format!("f{field}"));
            match cards.get(&txn, &card) {
                Some(Out::YMap(fields)) => {
                    fields.insert(&mut txn, field, value);
                }
                _ => {
                    cards.insert(&mut txn, card, MapPrelim::from([(field, value)]));
                }
            }
        }
        Edit::DeleteCard { card } => {
            cards.remove(&mut txn, &format!("card{card}"));
        }
        Edit::SetKey { key } => {
            meta.insert(&mut txn, format!("k{key}"), value);
        }
        Edit::DeleteKey { key } => {
            meta.remove(&mut txn, &format!("k{key}"));
        }
        Edit::InsertText { at } => {
            let at = u32::from(at) % (notes.len(&txn) + 1);
            notes.insert(&mut txn, at, &format!("[{value}]"));
        }
        Edit::DeleteText { at, len } => {
            let total = notes.len(&txn);
            if total > 0 {
                let at = u32::from(at) % total;
                notes.remove_range(&mut txn, at, len.min(total - at));
            }
        }
        Edit::Push => {
            log.push_back(&mut txn, value);
        }
        Edit::RemoveItem { at } => {
            let total = log.len(&txn);
            if total > 0 {
                log.remove(&mut txn, u32::from(at) % total);
            }
        }
    }
}

/// What a document holds, in a form two documents can be compared by.
#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    /// Canonical JSON of every root type (map keys sorted).
    content: String,
    state_vector: BTreeMap<u64, u32>,
    missing_updates: bool,
}

fn snapshot(doc: &Doc) -> Snapshot {
    let txn = doc.transact();
    let mut roots: BTreeMap<String, Any> = BTreeMap::new();
    // The roots this test writes, read as their types even when a document has only seen them in
    // a remote update (an untyped root), and present even when empty.
    roots.insert(
        "cards".into(),
        txn.get_map("cards")
            .map_or(Any::Map(Default::default()), |m| m.to_json(&txn)),
    );
    roots.insert(
        "meta".into(),
        txn.get_map("meta")
            .map_or(Any::Map(Default::default()), |m| m.to_json(&txn)),
    );
    roots.insert(
        "notes".into(),
        Any::from(
            txn.get_text("notes")
                .map(|t| t.get_string(&txn))
                .unwrap_or_default(),
        ),
    );
    roots.insert(
        "log".into(),
        txn.get_array("log")
            .map_or(Any::Array(Default::default()), |a| a.to_json(&txn)),
    );
    // Any other root is a surprise worth seeing.
    for (name, value) in txn.root_refs() {
        if !roots.contains_key(name) {
            roots.insert(name.to_owned(), value.to_json(&txn));
        }
    }
    let mut content = String::new();
    for (name, value) in &roots {
        let _ = write!(content, "{name}: ");
        canonical(value, &mut content);
        content.push('\n');
    }
    Snapshot {
        content,
        // yrs lists a client at clock 0 when it holds that client's blocks only after a gap.
        state_vector: txn
            .state_vector()
            .iter()
            .filter(|(_, clock)| **clock > 0)
            .map(|(id, clock)| (id.get(), *clock))
            .collect(),
        missing_updates: txn.has_missing_updates(),
    }
}

fn canonical(v: &Any, out: &mut String) {
    match v {
        Any::Map(m) => {
            let sorted: BTreeMap<_, _> = m.iter().collect();
            out.push('{');
            for (i, (k, v)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{k:?}:");
                canonical(v, out);
            }
            out.push('}');
        }
        Any::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        // Not `Any::to_json`: in yrs 0.28 it writes from the start of the buffer, over what is there.
        other => out.push_str(&serde_json::to_string(other).expect("JSON")),
    }
}

/// The merge of every client's whole document, done offline with yrs alone.
fn merged(clients: &[MapClient]) -> Snapshot {
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        for c in clients {
            let update = c
                .doc()
                .transact()
                .encode_state_as_update_v1(&StateVector::default());
            txn.apply_update(Update::decode_v1(&update).unwrap())
                .unwrap();
        }
    }
    snapshot(&doc)
}

/// Polls until every client holds the same state vector and, when `complete`, also the same content
/// and no update it cannot apply yet; returns the first client's state. Fails with every client's
/// state when the deadline passes first.
async fn converge(clients: &[&MapClient], what: &str, complete: bool) -> Result<Snapshot, String> {
    let deadline = tokio::time::Instant::now() + CONVERGE;
    loop {
        let states: Vec<Snapshot> = clients.iter().map(|c| snapshot(c.doc())).collect();
        let agreed = states.iter().all(|s| {
            s.state_vector == states[0].state_vector
                && (!complete || (s.content == states[0].content && !s.missing_updates))
        });
        if agreed {
            return Ok(states
                .into_iter()
                .next()
                .unwrap_or_else(|| snapshot(&Doc::new())));
        }
        if tokio::time::Instant::now() >= deadline {
            let mut report = format!("{what} did not converge within {CONVERGE:?}:\n");
            for (c, s) in clients.iter().zip(&states) {
                let _ = writeln!(
                    report,
                    "--- client {} (connected: {}, closed: {:?}, missing updates: {})\n\
                     state vector: {:?}\n{}",
                    c.client_id(),
                    c.is_connected(),
                    c.closed(),
                    s.missing_updates,
                    s.state_vector,
                    s.content
                );
            }
            return Err(report);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A bug the property above found, reproduced deterministically.
///
/// A client that edits right after reconnecting and leaves before answering the server's
/// SyncStep1 has sent an update whose base (its offline edits) the server does not have; stock
/// y-websocket providers do the same. yrs 0.28 integrates such an update behind a hole instead of
/// keeping it pending: the server then settled a concurrent write to the same key against content
/// no connected client had, and three clients saw three different maps. The room now holds such an
/// update until what it depends on arrives (or drops it with its sender, who sends it again on
/// reconnecting).
#[tokio::test]
async fn an_update_with_a_gap_is_held_until_the_gap_is_filled() {
    use futures_util::{SinkExt, StreamExt};
    use waymark_client::Options;
    use waymark_protocol::message;

    let server = TestServer::start().await;
    let doc = |id| {
        Doc::with_options(yrs::Options {
            client_id: yrs::ClientID::new(id),
            ..yrs::Options::default()
        })
    };
    // Of concurrent writes to one key, the highest client id wins: the away client's here.
    let writer = MapClient::connect_with(
        server.url(MAP),
        Options {
            doc: Some(doc(2)),
            ..Options::default()
        },
    )
    .await
    .unwrap();
    writer.synced(WAIT).await.unwrap();
    let reader = server.connect(MAP).await;

    let away = doc(1 << 40);
    let notes = away.get_or_insert_text("notes");
    notes.insert(&mut away.transact_mut(), 0, "written offline");
    let offline = away.transact().state_vector();
    let cards = away.get_or_insert_map("cards");
    cards.insert(
        &mut away.transact_mut(),
        "card0",
        MapPrelim::from([("title", "away")]),
    );
    let gapped = away.transact().encode_state_as_update_v1(&offline);
    let (mut ws, _) = tokio_tungstenite::connect_async(server.url(MAP))
        .await
        .unwrap();
    ws.send(message::encode_update(&gapped).into())
        .await
        .unwrap();
    ws.close(None).await.unwrap();
    while let Some(Ok(_)) = ws.next().await {}

    let cards = writer.doc().get_or_insert_map("cards");
    cards.insert(
        &mut writer.doc().transact_mut(),
        "card0",
        MapPrelim::from([("title", "writer")]),
    );
    let want = snapshot(writer.doc()).state_vector;
    reader
        .wait_for(WAIT, "the writer's update", |c| {
            snapshot(c.doc()).state_vector == want
        })
        .await
        .unwrap();
    let newcomer = server.connect(MAP).await;

    let (w, r, n) = (
        snapshot(writer.doc()).content,
        snapshot(reader.doc()).content,
        snapshot(newcomer.doc()).content,
    );
    assert!(
        w == r && w == n,
        "same updates, different maps:\n--- writer\n{w}--- reader\n{r}--- newcomer\n{n}"
    );
}
