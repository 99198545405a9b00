//! A short run of every scenario against a real Waymark server: the instrument works end to end and
//! the server loses no delivery. (Performance figures come from full runs, see BENCHMARKS.md.)

use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use waymark_loadtest::report::Report;
use waymark_loadtest::scenario::{self, Run};
use waymark_loadtest::target::Target;
use waymark_server::store::SqliteStore;

struct Server {
    addr: std::net::SocketAddr,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(waymark_server::run(
        listener,
        store,
        Default::default(),
        stop.clone(),
    ));
    Server {
        addr,
        stop,
        _dir: dir,
    }
}

fn run_for(server: &Server) -> Run {
    let mut run = Run::new(Target::waymark(server.addr), "waymark");
    // The server runs in this process: its figures are the generator's too.
    run.server_pids = vec![std::process::id()];
    run
}

fn assert_clean(r: &Report) {
    assert_eq!(r.errors, 0, "{:?}", r.error_samples);
    assert_eq!(r.missing, 0, "{}", r.table());
    assert_eq!(r.duplicates, 0, "{}", r.table());
    assert_eq!(r.delivered, r.expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_delivers_every_update_to_every_editor() {
    let server = start().await;
    let r = scenario::fanout(
        &run_for(&server),
        &scenario::FanoutParams {
            maps: 4,
            editors: 5,
            rate: 10.0,
            duration: Duration::from_secs(1),
        },
    )
    .await;
    assert_clean(&r);
    // 20 editors × 10 updates, each to the 4 other editors of its map.
    assert_eq!(r.sent, 200);
    assert_eq!(r.expected, 800);
    assert!(r.latency_ms.as_ref().unwrap().count == 800);
    assert!(r.server.as_ref().unwrap().cpu_seconds > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_node_alternates_between_targets() {
    // One node stands in for both until the cluster exists: the accounting is what is tested here.
    let server = start().await;
    let mut run = run_for(&server);
    run.targets.push(Arc::new(Target::waymark(server.addr)));
    let r = scenario::fanout(
        &run,
        &scenario::FanoutParams {
            maps: 2,
            editors: 4,
            rate: 10.0,
            duration: Duration::from_secs(1),
        },
    )
    .await;
    assert_eq!(r.scenario, "cross-node");
    assert_clean(&r);
    assert_eq!(r.expected, 8 * 10 * 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_steps_up_until_a_limit() {
    let server = start().await;
    let base = scenario::FanoutParams {
        maps: 2,
        editors: 3,
        rate: 5.0,
        duration: Duration::from_millis(500),
    };
    let (summary, steps) = scenario::overload(&run_for(&server), &base, 50.0, 2.0, 2).await;
    assert_eq!(steps.len(), 2);
    for s in &steps {
        assert_clean(s);
    }
    assert!(summary.extra["sustained deliveries/s"] > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awareness_delivers_every_cursor_move() {
    let server = start().await;
    let r = scenario::awareness(
        &run_for(&server),
        &scenario::AwarenessParams {
            clients: 20,
            rate: 5.0,
            duration: Duration::from_secs(1),
        },
    )
    .await;
    assert_clean(&r);
    assert_eq!(r.expected, 20 * 5 * 19);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workshop_participants_see_every_vote_and_cursor_move() {
    let server = start().await;
    let r = scenario::workshop(
        &run_for(&server),
        &scenario::WorkshopParams {
            participants: 6,
            rate: 4.0,
            duration: Duration::from_secs(1),
        },
    )
    .await;
    assert_clean(&r);
    // Each of 6 participants sent 4 times; the 5 others saw each cursor move and each vote.
    assert_eq!(r.sent, 24);
    assert_eq!(r.expected, 24 * 5 * 2);
    assert!(r.extra.contains_key("vote_p99_ms") && r.extra.contains_key("cursor_p99_ms"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_stay_open_and_are_costed() {
    let server = start().await;
    let r = scenario::idle(
        &run_for(&server),
        &scenario::IdleParams {
            connections: 100,
            maps: 5,
            hold: Duration::from_millis(500),
        },
    )
    .await;
    assert_eq!(r.errors, 0, "{:?}", r.error_samples);
    assert_eq!(r.clients, 100);
    assert!(r.extra.contains_key("server KiB per connection"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joiners_receive_the_whole_large_map() {
    let server = start().await;
    let r = scenario::join(
        &run_for(&server),
        &scenario::JoinParams {
            clients: 5,
            size_mib: 2,
        },
    )
    .await;
    assert_eq!(r.errors, 0, "{:?}", r.error_samples);
    assert_eq!(r.clients, 5);
    assert_eq!(r.sync_ms.as_ref().unwrap().count, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_storm_resyncs_everyone() {
    let server = start().await;
    let r = scenario::reconnect(
        &run_for(&server),
        &scenario::ReconnectParams {
            clients: 100,
            maps: 5,
        },
    )
    .await;
    assert_eq!(r.errors, 0, "{:?}", r.error_samples);
    assert_eq!(r.extra["resynced after the storm"], 100.0);
    assert_eq!(r.sync_ms.as_ref().unwrap().count, 100);
}
