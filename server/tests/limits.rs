//! Each per-client limit: the client over it is refused (before the upgrade) or closed with its
//! documented code and a reason, the limit is counted, and the other clients of the map carry on
//! with nothing they wrote lost.

mod common;

use common::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use waymark_client::{ClientError, MapClient};
use waymark_protocol::CloseCode;
use waymark_server::Config;
use waymark_server::config::Limits;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn limit_hits(limit: &str) -> String {
    format!("waymark_limits_hit_total{{limit=\"{limit}\"}}")
}

async fn server_with(limits: Limits) -> TestServer {
    TestServer::start_with(Config {
        limits,
        ..Config::default()
    })
    .await
}

/// Two well-behaved clients of `map` that have exchanged an edit (card `kept`).
async fn bystanders(server: &TestServer, map: &str) -> (MapClient, MapClient) {
    let a = server.connect(map).await;
    let b = server.connect(map).await;
    set_card(&a, "kept", "yes");
    b.wait_for(WAIT, "a's edit", |c| card(c, "kept").is_some())
        .await
        .unwrap();
    (a, b)
}

/// Waits for the server to close `c`, checks the code and that the reason contains `says`.
async fn assert_closed(c: &MapClient, code: CloseCode, says: &str) {
    let closed = c
        .wait_closed(WAIT)
        .await
        .unwrap()
        .expect("the server sends a close frame");
    assert_eq!(closed.code, code.code(), "close reason: {}", closed.reason);
    assert!(
        closed.reason.contains(says),
        "the reason {:?} should say {says:?}",
        closed.reason
    );
}

/// The bystanders are still connected and still collaborate (card `tag` goes from b to a, and an
/// answer back), and a newcomer gets exactly the document they have. Everything the server had
/// accepted before `tag` has reached `a` once `tag` has: the room keeps the order.
async fn still_collaborating(
    server: &TestServer,
    map: &str,
    a: &MapClient,
    b: &MapClient,
    tag: &str,
) {
    assert!(a.is_connected() && b.is_connected());
    set_card(b, tag, "from b");
    a.wait_for(WAIT, "b's edit after the limit", |c| card(c, tag).is_some())
        .await
        .unwrap();
    let answer = format!("{tag}-answer");
    set_card(a, &answer, "from a");
    b.wait_for(WAIT, "a's answer", |c| card(c, &answer).is_some())
        .await
        .unwrap();
    let fresh = server.connect(map).await;
    assert_eq!(card(&fresh, "kept").as_deref(), Some("yes"));
    assert_eq!(content(&fresh), content(a));
    assert_eq!(content(b), content(a));
}

/// A refused WebSocket upgrade: the HTTP status and the JSON body.
fn refusal(result: Result<MapClient, ClientError>) -> (u16, serde_json::Value) {
    match result {
        Err(ClientError::Http { status, body }) => (
            status,
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}")),
        ),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected an HTTP refusal, the connection was accepted"),
    }
}

/// Opens a raw WebSocket, sending `X-Forwarded-For: forwarded_for` if given; `Err` is the HTTP
/// refusal (status and JSON body).
async fn open_forwarded(
    url: &str,
    forwarded_for: Option<&str>,
) -> Result<Ws, (u16, serde_json::Value)> {
    use tokio_tungstenite::tungstenite::Error;
    let mut request = url.into_client_request().unwrap();
    if let Some(xff) = forwarded_for {
        request
            .headers_mut()
            .insert("x-forwarded-for", xff.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(ws),
        Err(Error::Http(res)) => {
            let status = res.status().as_u16();
            let body = res.into_body().unwrap_or_default();
            Err((status, serde_json::from_slice(&body).unwrap()))
        }
        Err(e) => panic!("cannot connect: {e}"),
    }
}

/// As [`open_forwarded`], for a connection that must be refused.
async fn refused_forwarded(url: &str, forwarded_for: Option<&str>) -> (u16, serde_json::Value) {
    match open_forwarded(url, forwarded_for).await {
        Ok(_) => panic!("a connection forwarded for {forwarded_for:?} was accepted"),
        Err(refusal) => refusal,
    }
}

/// Connects once the server admits a connection again: a closed connection's place is freed
/// only after its closing handshake.
async fn connect_when_admitted(url: &str) -> MapClient {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match MapClient::connect(url).await {
            Ok(c) => {
                c.synced(WAIT).await.unwrap();
                return c;
            }
            Err(ClientError::Http {
                status: 429 | 503, ..
            }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("not admitted again: {e}"),
        }
    }
}

#[tokio::test]
async fn a_connection_beyond_the_node_limit_is_refused_with_503() {
    let server = server_with(Limits {
        max_connections: 3,
        ..Limits::default()
    })
    .await;
    let (a, b) = bystanders(&server, "full").await;
    let third = server.connect("full").await;

    let (status, body) = refusal(MapClient::connect(server.url("full")).await);
    assert_eq!(status, 503);
    assert_eq!(body["error"], "server_full");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("maximum of 3 connections"), "{message}");
    server.wait_metric(&limit_hits("connections"), 1.0).await;
    assert_eq!(
        server.metric(&limit_hits("connections_per_address")).await,
        0.0
    );

    // The admitted keep working; once one leaves, its place is free again and the newcomer gets
    // everything.
    assert!(a.is_connected() && b.is_connected() && third.is_connected());
    set_card(&b, "after", "from b");
    a.wait_for(WAIT, "b's edit", |c| card(c, "after").is_some())
        .await
        .unwrap();
    third.disconnect().await;
    let newcomer = connect_when_admitted(&server.url("full")).await;
    assert_eq!(card(&newcomer, "kept").as_deref(), Some("yes"));
    assert_eq!(content(&newcomer), content(&a));
}

#[tokio::test]
async fn a_connection_beyond_the_per_address_limit_is_refused_with_429() {
    let server = server_with(Limits {
        max_connections_per_address: 3,
        ..Limits::default()
    })
    .await;
    let (a, b) = bystanders(&server, "crowd").await;
    let third = server.connect("crowd").await;

    let (status, body) = refusal(MapClient::connect(server.url("crowd")).await);
    assert_eq!(status, 429);
    assert_eq!(body["error"], "too_many_connections");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("127.0.0.1") && message.contains("maximum of 3"),
        "{message}"
    );
    server
        .wait_metric(&limit_hits("connections_per_address"), 1.0)
        .await;
    assert_eq!(server.metric(&limit_hits("connections")).await, 0.0);

    // The admitted keep collaborating; once one leaves, the address may connect again.
    assert!(third.is_connected());
    set_card(&b, "after", "from b");
    a.wait_for(WAIT, "b's edit", |c| card(c, "after").is_some())
        .await
        .unwrap();
    third.disconnect().await;
    let newcomer = connect_when_admitted(&server.url("crowd")).await;
    assert_eq!(card(&newcomer, "kept").as_deref(), Some("yes"));
    assert_eq!(content(&newcomer), content(&a));
}

#[tokio::test]
async fn addresses_forwarded_by_a_trusted_proxy_each_get_their_own_quota() {
    let server = server_with(Limits {
        max_connections_per_address: 2,
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..Limits::default()
    })
    .await;
    let url = server.url("proxied");
    let mut open = Vec::new();
    for xff in ["203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.2"] {
        open.push(open_forwarded(&url, Some(xff)).await.expect(xff));
    }
    // The proxy's own address (no header) has its own quota too.
    let direct = server.connect("proxied").await;

    for xff in [
        "203.0.113.1",
        // The rightmost address that is not a trusted proxy is the client...
        "203.0.113.2, 127.0.0.1",
        // ...and what the client wrote itself further left cannot buy it a new quota.
        "198.51.100.9, 203.0.113.1",
    ] {
        let (status, body) = refused_forwarded(&url, Some(xff)).await;
        assert_eq!(status, 429, "{xff}");
        assert_eq!(body["error"], "too_many_connections");
        let refused = xff
            .rsplit(',')
            .map(str::trim)
            .find(|a| *a != "127.0.0.1")
            .unwrap();
        assert!(
            body["message"].as_str().unwrap().contains(refused),
            "{body}"
        );
    }
    server
        .wait_metric(&limit_hits("connections_per_address"), 3.0)
        .await;
    // A third address, forwarded through a chain of trusted hops, still gets in.
    open.push(
        open_forwarded(&url, Some("203.0.113.3, 127.0.0.1"))
            .await
            .unwrap(),
    );
    assert!(direct.is_connected());
    server.wait_metric("waymark_connections", 6.0).await;
}

#[tokio::test]
async fn an_ipv6_client_is_limited_per_64() {
    let server = server_with(Limits {
        max_connections_per_address: 2,
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..Limits::default()
    })
    .await;
    let url = server.url("six");
    // A host picks its addresses within its /64 freely: new addresses buy it nothing.
    let _first = open_forwarded(&url, Some("2001:db8:5:6::1")).await.unwrap();
    let _second = open_forwarded(&url, Some("2001:db8:5:6:a:b:c:d"))
        .await
        .unwrap();
    let (status, body) = refused_forwarded(&url, Some("2001:db8:5:6::99")).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"], "too_many_connections");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("2001:db8:5:6::/64"),
        "{body}"
    );
    // The neighbouring /64 is another client.
    let _other = open_forwarded(&url, Some("2001:db8:5:7::1")).await.unwrap();
    server.wait_metric("waymark_connections", 3.0).await;
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let server = server_with(Limits {
        max_connections_per_address: 2,
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        ..Limits::default()
    })
    .await;
    let url = server.url("spoofed");
    let _first = open_forwarded(&url, Some("203.0.113.1")).await.unwrap();
    let _second = open_forwarded(&url, Some("203.0.113.2")).await.unwrap();
    // Both counted against the peer's own address, whatever they claimed.
    let (status, body) = refused_forwarded(&url, Some("203.0.113.3")).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"], "too_many_connections");
    assert!(
        body["message"].as_str().unwrap().contains("127.0.0.1"),
        "{body}"
    );
    let (status, _) = refused_forwarded(&url, None).await;
    assert_eq!(status, 429);
    server
        .wait_metric(&limit_hits("connections_per_address"), 2.0)
        .await;
}

#[tokio::test]
async fn a_client_over_the_message_rate_is_closed_with_4029() {
    let server = server_with(Limits {
        message_rate: 20,
        ..Limits::default()
    })
    .await;
    let (a, b) = bystanders(&server, "chatty").await;
    let flood = server.connect("chatty").await;
    // 5 s worth is 100 messages; each card is one update message.
    for i in 0..150 {
        set_card(&flood, &format!("m{i:03}"), "x");
    }
    assert_closed(
        &flood,
        CloseCode::RateLimited,
        "more than 20 messages a second",
    )
    .await;
    server.wait_metric(&limit_hits("message_rate"), 1.0).await;
    still_collaborating(&server, "chatty", &a, &b, "after").await;

    // What was accepted before the limit is all there, in order: a prefix of what was sent.
    let accepted = (0..150)
        .take_while(|i| card(&a, &format!("m{i:03}")).is_some())
        .count();
    assert!((90..150).contains(&accepted), "{accepted} accepted");
    assert_eq!(card_count(&a), accepted as u32 + 3, "{}", content(&a));
}

#[tokio::test]
async fn a_client_over_the_byte_rate_is_closed_with_4029() {
    let server = TestServer::start_with(Config {
        max_message_size: 16 << 10,
        limits: Limits {
            byte_rate: 1 << 10,
            ..Limits::default()
        },
        ..Config::default()
    })
    .await;
    let (a, b) = bystanders(&server, "heavy").await;
    let heavy = server.connect("heavy").await;
    // 5 s worth is 5 KiB, but the bucket holds one message of the largest size.
    let big = "x".repeat(12 << 10);
    set_card(&heavy, "big1", &big);
    a.wait_for(WAIT, "the first large update", |c| {
        card(c, "big1").is_some()
    })
    .await
    .unwrap();
    assert!(heavy.is_connected());
    set_card(&heavy, "big2", &big);
    assert_closed(
        &heavy,
        CloseCode::RateLimited,
        "more than 1024 bytes a second",
    )
    .await;
    server.wait_metric(&limit_hits("byte_rate"), 1.0).await;
    still_collaborating(&server, "heavy", &a, &b, "after").await;
    assert_eq!(card(&a, "big1").as_deref(), Some(big.as_str()));
    assert_eq!(card(&a, "big2"), None);
    assert_eq!(server.metric(&limit_hits("message_rate")).await, 0.0);
}

#[tokio::test]
async fn an_oversized_presence_update_is_closed_with_1008() {
    let server = server_with(Limits {
        max_awareness_size: 1024,
        ..Limits::default()
    })
    .await;
    let (a, b) = bystanders(&server, "presence").await;
    a.set_awareness(r#"{"name":"Ada"}"#);
    b.wait_for(WAIT, "a's presence", |c| c.peers().len() == 1)
        .await
        .unwrap();
    let loud = server.connect("presence").await;
    loud.set_awareness(&format!(r#"{{"name":"{}"}}"#, "x".repeat(2000)));
    assert_closed(
        &loud,
        CloseCode::PolicyViolation,
        "presence update larger than 1024 bytes",
    )
    .await;
    server.wait_metric(&limit_hits("awareness_size"), 1.0).await;

    // Presence still flows between the others, and the oversized state reached nobody.
    a.set_awareness(r#"{"name":"Ada","stage":2}"#);
    b.wait_for(WAIT, "a's new presence", |c| {
        c.peers().values().any(|s| s.contains("stage"))
    })
    .await
    .unwrap();
    assert!(!b.peers().contains_key(&loud.client_id()));
    assert!(!a.peers().contains_key(&loud.client_id()));
    still_collaborating(&server, "presence", &a, &b, "after").await;
}

#[tokio::test]
async fn a_presence_state_nested_too_deep_is_closed_with_1008() {
    let server = server_with(Limits::default()).await;
    let (a, b) = bystanders(&server, "deep").await;
    a.set_awareness(r#"{"user":{"name":"Ada","cursor":{"anchor":[1,2]}}}"#);
    b.wait_for(WAIT, "a's presence", |c| c.peers().len() == 1)
        .await
        .unwrap();
    // 5 000 levels in 10 KB: small enough for the size limit, deep enough to crash a parser
    // that recurses.
    let deep = server.connect("deep").await;
    deep.set_awareness(&format!("{}{}", "[".repeat(5000), "]".repeat(5000)));
    assert_closed(
        &deep,
        CloseCode::PolicyViolation,
        "presence state nested deeper than 32 levels",
    )
    .await;
    server
        .wait_metric(&limit_hits("awareness_depth"), 1.0)
        .await;
    assert!(!b.peers().contains_key(&deep.client_id()));
    still_collaborating(&server, "deep", &a, &b, "after").await;
}

#[tokio::test]
async fn a_client_over_the_presence_rate_is_closed_with_4029() {
    let server = server_with(Limits {
        awareness_rate: 5,
        ..Limits::default()
    })
    .await;
    let (a, b) = bystanders(&server, "fidget").await;
    let fidget = server.connect("fidget").await;
    // 5 s worth is 25 presence updates.
    for i in 0..40 {
        fidget.set_awareness(&format!(r#"{{"cursor":{i}}}"#));
    }
    assert_closed(
        &fidget,
        CloseCode::RateLimited,
        "more than 5 presence updates a second",
    )
    .await;
    server.wait_metric(&limit_hits("awareness_rate"), 1.0).await;
    assert_eq!(server.metric(&limit_hits("message_rate")).await, 0.0);

    // Its presence is withdrawn; the others' presence and edits still flow.
    b.wait_for(WAIT, "the closed client's presence to go", |c| {
        !c.peers().contains_key(&fidget.client_id())
    })
    .await
    .unwrap();
    a.set_awareness(r#"{"name":"Ada"}"#);
    b.wait_for(WAIT, "a's presence", |c| {
        c.peers()
            .get(&a.client_id())
            .is_some_and(|s| s.contains("Ada"))
    })
    .await
    .unwrap();
    still_collaborating(&server, "fidget", &a, &b, "after").await;
}

#[tokio::test]
async fn an_update_that_would_make_the_map_too_large_is_not_applied() {
    let config = Config {
        limits: Limits {
            max_map_size: 8 << 10,
            ..Limits::default()
        },
        ..Config::default()
    };
    let mut server = TestServer::start_with(config.clone()).await;
    let (a, b) = bystanders(&server, "bulky").await;
    let bulky = server.connect("bulky").await;
    set_card(&bulky, "big", &"x".repeat(10 << 10));
    assert_closed(&bulky, CloseCode::MapTooLarge, "the update was not applied").await;
    server.wait_metric(&limit_hits("map_size"), 1.0).await;

    // Smaller edits still fit; the refused one reached nobody and is not stored.
    still_collaborating(&server, "bulky", &a, &b, "after").await;
    assert_eq!(card(&a, "big"), None);
    assert_eq!(card(&b, "big"), None);
    let expected = content(&a);
    drop((a, b, bulky));
    let data = server.keep_data();
    server.stop().await;
    let server = TestServer::start_in(data.path(), config).await;
    let reloaded = server.connect("bulky").await;
    assert_eq!(content(&reloaded), expected);
    assert_eq!(card(&reloaded, "kept").as_deref(), Some("yes"));
    assert_eq!(card(&reloaded, "big"), None);
}

/// The API's writes (comments, imports, restores) count against the same limit: a commenter cannot
/// grow a map past it, and editors keep working.
#[tokio::test]
async fn changes_through_the_api_cannot_make_the_map_too_large() {
    let server = TestServer::start_with(Config {
        limits: Limits {
            max_map_size: 8 << 10,
            ..Limits::default()
        },
        ..Config::default()
    })
    .await;
    let editor = server.connect("commented").await;
    let other = server.connect("commented").await;
    set_card(&editor, "c1", "first");
    other
        .wait_for(WAIT, "the first edit, stored", |c| card(c, "c1").is_some())
        .await
        .unwrap();
    let comment = format!(r#"{{"text": "{}", "author": "c"}}"#, "y".repeat(3000));
    let url = server.http("/api/v1/maps/commented/comments");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(http("POST", &url, Some(&comment)).await);
    }
    assert_eq!(statuses[0].status, 201, "{}", statuses[0].body);
    let refused = statuses.last().unwrap();
    assert_eq!(refused.status, 413, "{}", refused.body);
    assert_eq!(refused.json()["error"], "map_too_large");
    let refusals = statuses.iter().filter(|r| r.status == 413).count();
    server
        .wait_metric(&limit_hits("map_size"), refusals as f64)
        .await;
    // What fitted is there, and an editor's small edit still goes through.
    let comments = http("GET", &url, None).await.json();
    let kept = comments["comments"].as_array().unwrap().len();
    assert!((1..4).contains(&kept), "{kept} comments kept");
    set_card(&editor, "c2", "second");
    other
        .wait_for(WAIT, "the editor's edit", |c| card(c, "c2").is_some())
        .await
        .unwrap();
    assert!(editor.is_connected(), "{:?}", editor.closed());
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_as_idle() {
    let idle_timeout = Duration::from_millis(500);
    let server = TestServer::start_with(Config {
        // The idle client answers these; pongs must not count as activity.
        ping_interval: Duration::from_millis(100),
        limits: Limits {
            idle_timeout: Some(idle_timeout),
            ..Limits::default()
        },
        ..Config::default()
    })
    .await;
    let busy = server.connect("quiet").await;
    let started = Instant::now();
    let idle = server.connect("quiet").await;
    // Time passing is the subject: the busy client renews its presence every 100 ms until the
    // idle one is closed and twice the timeout has passed.
    let mut ticks = 0;
    let mut idle_closed_after = None;
    while idle_closed_after.is_none() || started.elapsed() < 2 * idle_timeout {
        assert!(started.elapsed() < WAIT, "the idle client was never closed");
        busy.set_awareness(&format!(r#"{{"tick":{ticks}}}"#));
        ticks += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
        if !idle.is_connected() {
            idle_closed_after.get_or_insert(started.elapsed());
        }
    }
    assert!(idle_closed_after.unwrap() >= idle_timeout);
    assert!(busy.is_connected(), "a client that keeps sending stays");
    assert_closed(&idle, CloseCode::Idle, "nothing received for 500ms").await;
    server.wait_metric(&limit_hits("idle"), 1.0).await;

    set_card(&busy, "awake", "yes");
    let other = server.connect("quiet").await;
    other
        .wait_for(WAIT, "the busy client's edit", |c| {
            card(c, "awake").is_some()
        })
        .await
        .unwrap();
    assert_eq!(server.metric(&limit_hits("idle")).await, 1.0);
}

#[tokio::test]
async fn a_client_that_does_not_finish_its_request_is_disconnected() {
    let handshake_timeout = Duration::from_millis(300);
    let server = server_with(Limits {
        handshake_timeout,
        ..Limits::default()
    })
    .await;
    let started = Instant::now();
    let mut partial = TcpStream::connect(server.addr).await.unwrap();
    partial
        .write_all(b"GET /maps/slow HTTP/1.1\r\nHost: waymark\r\nUpgrade: websocket\r\n")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    // A normal client connecting meanwhile is unaffected, and stays past the timeout.
    let (a, b) = bystanders(&server, "slow").await;

    for (what, socket) in [("partial request", &mut partial), ("nothing", &mut silent)] {
        let mut answer = Vec::new();
        let ended = tokio::time::timeout(WAIT, socket.read_to_end(&mut answer))
            .await
            .unwrap_or_else(|_| panic!("a client that sent {what} is still connected"));
        // A reset is as good as an end of file; nothing but a timeout answer may come back.
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{what}: {ended:?} {answer}"
        );
    }
    assert!(started.elapsed() >= handshake_timeout);
    server
        .wait_metric(&limit_hits("handshake_timeout"), 2.0)
        .await;
    still_collaborating(&server, "slow", &a, &b, "after").await;
}

#[tokio::test]
async fn limits_set_by_serve_flags_take_effect() {
    let dir = tempfile::tempdir().unwrap();
    let server = ProcessServer::start_with(
        dir.path(),
        &[
            "--max-connections-per-address",
            "2",
            "--trusted-proxies",
            "127.0.0.1",
            "--max-map-size",
            "4KiB",
        ],
    )
    .await;
    let a = MapClient::connect(server.url("cli")).await.unwrap();
    a.synced(WAIT).await.unwrap();
    let b = MapClient::connect(server.url("cli")).await.unwrap();
    b.synced(WAIT).await.unwrap();
    let (status, body) = refusal(MapClient::connect(server.url("cli")).await);
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("too_many_connections"))
    );
    // Through the trusted proxy, another address has its own quota.
    let _forwarded = open_forwarded(&server.url("cli"), Some("203.0.113.1"))
        .await
        .unwrap();

    set_card(&a, "kept", "yes");
    b.wait_for(WAIT, "a's edit", |c| card(c, "kept").is_some())
        .await
        .unwrap();
    set_card(&b, "big", &"x".repeat(5 << 10));
    assert_closed(&b, CloseCode::MapTooLarge, "4096 bytes").await;
    assert_eq!(
        server.metric(&limit_hits("connections_per_address")).await,
        1.0
    );
    assert_eq!(server.metric(&limit_hits("map_size")).await, 1.0);
    set_card(&a, "after", "yes");
    let c = connect_when_admitted(&server.url("cli")).await;
    c.wait_for(WAIT, "a's edits", |c| card(c, "after").is_some())
        .await
        .unwrap();
    assert_eq!(card(&c, "kept").as_deref(), Some("yes"));
    assert_eq!(card(&c, "big"), None);
}
