//! The hardening catalogue replayed against one real server process with authentication on:
//! tokens that must not work (revoked, not yet valid, issued in the future), every frame RFC 6455
//! forbids, presence nested too deep, cross-origin calls and the headers of pages. Each case gets
//! its documented answer (PROTOCOL.md §1.3, §1.5, §8, §10) while a bystander map is being edited
//! and watched; then the server is stopped with SIGTERM and started again, and nothing stored is
//! lost or changed: the bystander and the probed map read the same, byte for byte, and the
//! revocation still holds.
//!
//! Cases that need a setup of their own are replayed where that setup lives:
//! - kill -9 during edits: `persistence::nothing_a_client_saw_is_lost_when_the_server_is_killed`,
//!   `cluster::clients_of_a_killed_node_reconnect_to_another_and_lose_nothing`; SIGTERM during
//!   edits: `persistence::a_sigterm_during_edits_keeps_every_map_as_it_was`;
//! - two nodes, Redis and PostgreSQL: `cluster::two_nodes_creating_the_same_map_at_once_create_it_once`,
//!   `cluster::edits_racing_a_delete_on_another_node_do_not_bring_the_map_back`,
//!   `cluster::a_resync_reads_only_what_was_stored_since_the_map_was_read`, and a revocation on
//!   every node, `revocation::a_revocation_reaches_every_node_sharing_the_store`;
//! - PgBouncer in transaction mode: `pgbouncer.rs`;
//! - IPv6 clients limited per /64: `throttle` unit tests (loopback has a single IPv6 address).

mod common;

use common::access::{SECRET, now, refused};
use common::raw::{Raw, card_message, frame};
use common::*;
use std::time::Duration;
use waymark_client::MapClient;
use waymark_protocol::CloseCode;
use waymark_server::auth::{Claims, Role, Signer};

const ORIGIN: &str = "https://board.example";

fn signed(claims: Claims) -> String {
    Signer::secret(SECRET.as_bytes())
        .unwrap()
        .sign(&claims)
        .unwrap()
}

/// An editor's token of `user` for every map, issued a minute ago, valid for an hour.
fn claims(user: &str) -> Claims {
    Claims {
        sub: user.into(),
        name: None,
        maps: "*".into(),
        role: Role::Editor,
        exp: now() + 3600,
        iat: Some(now() - 60),
        nbf: None,
        jti: None,
    }
}

/// A map being edited and watched by two well-behaved users throughout.
struct Bystander {
    editor: MapClient,
    watcher: MapClient,
}

impl Bystander {
    async fn join(server: &ProcessServer, token: &str) -> Bystander {
        let url = format!("{}?token={token}", server.url("bystander"));
        let editor = MapClient::connect(url.as_str()).await.unwrap();
        editor.synced(WAIT).await.unwrap();
        let watcher = MapClient::connect(url.as_str()).await.unwrap();
        watcher.synced(WAIT).await.unwrap();
        Bystander { editor, watcher }
    }

    /// Still connected, and an edit made now reaches the watcher.
    async fn unharmed(&self, after: &str) {
        assert!(
            self.editor.is_connected() && self.watcher.is_connected(),
            "{after}: a bystander was disconnected"
        );
        set_card(&self.editor, &format!("after {after}"), "ok");
        self.watcher
            .wait_for(WAIT, after, |c| {
                card(c, &format!("after {after}")).is_some()
            })
            .await
            .unwrap_or_else(|e| panic!("{after}: the bystander's edit did not arrive: {e}"));
    }
}

async fn stored(server: &ProcessServer, token: &str, map: &str) -> String {
    let reply = http_with(
        "GET",
        &server.http(&format!("/api/v1/maps/{map}")),
        &[("Authorization", &format!("Bearer {token}"))],
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{map}: {}", reply.body);
    reply.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_gets_its_answer_harms_nobody_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--auth-secret", SECRET, "--allowed-origins", ORIGIN];
    let mut server = ProcessServer::start_with(dir.path(), &args).await;
    let editor = signed(claims("bea"));
    let operator = signed(Claims {
        role: Role::Owner,
        ..claims("ops")
    });
    let bystander = Bystander::join(&server, &editor).await;
    for i in 0..20 {
        set_card(&bystander.editor, &format!("b{i}"), "before");
    }
    let probed_url = format!("{}?token={editor}", server.url("probed"));
    let owner = MapClient::connect(probed_url.as_str()).await.unwrap();
    owner.synced(WAIT).await.unwrap();
    set_card(&owner, "kept", "yes");
    bystander.unharmed("setup").await;

    // Tokens. A token valid for a century is revoked; its open connection is closed with 4003
    // and it is refused from then on.
    let century = signed(Claims {
        exp: now() + 100 * 365 * 86_400,
        ..claims("mallory")
    });
    let mallory = MapClient::connect(format!("{}?token={century}", server.url("probed")))
        .await
        .unwrap();
    mallory.synced(WAIT).await.unwrap();
    let revoked = http_with(
        "POST",
        &server.http("/api/v1/revocations"),
        &[
            ("Authorization", &format!("Bearer {operator}")),
            ("Content-Type", "application/json"),
        ],
        Some(r#"{"user":"mallory","reason":"left"}"#),
    )
    .await;
    assert_eq!(revoked.status, 201, "{}", revoked.body);
    let closed = mallory
        .wait_closed(Duration::from_secs(15))
        .await
        .unwrap()
        .expect("a close frame");
    assert_eq!(
        closed.code,
        CloseCode::AccessRevoked.code(),
        "{}",
        closed.reason
    );
    let not_yet = signed(Claims {
        nbf: Some(now() + 3600),
        ..claims("nina")
    });
    let from_the_future = signed(Claims {
        iat: Some(now() + 3600),
        ..claims("fred")
    });
    for (name, token, code) in [
        ("revoked", &century, "token_revoked"),
        ("nbf in an hour", &not_yet, "token_invalid"),
        ("iat in an hour", &from_the_future, "token_invalid"),
    ] {
        let (status, body) = refused(format!("{}?token={token}", server.url("probed"))).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some(code)),
            "{name}"
        );
    }
    bystander.unharmed("tokens").await;

    // Frames RFC 6455 forbids: each closes its sender with its code and reason.
    let cases: Vec<(&str, Vec<u8>, CloseCode, &str)> = vec![
        (
            "unmasked",
            vec![0x82, 0x03, 0, 0, 1],
            CloseCode::ProtocolError,
            "client frames must be masked",
        ),
        (
            "rsv1",
            frame(0xC2, &card_message("x", "1")),
            CloseCode::ProtocolError,
            "reserved bits set without an extension",
        ),
        (
            "reserved data opcode",
            frame(0x83, b"x"),
            CloseCode::ProtocolError,
            "reserved opcode",
        ),
        (
            "reserved control opcode",
            frame(0x8B, b""),
            CloseCode::ProtocolError,
            "reserved opcode",
        ),
        (
            "fragmented ping",
            frame(0x09, b"p"),
            CloseCode::ProtocolError,
            "fragmented control frame",
        ),
        (
            "oversized ping",
            frame(0x89, &[7; 126]),
            CloseCode::ProtocolError,
            "control frame longer than 125 bytes",
        ),
        (
            "continuation first",
            frame(0x80, b"x"),
            CloseCode::ProtocolError,
            "continuation frame without a message to continue",
        ),
        (
            "new message mid-fragment",
            [frame(0x02, &[0, 2]), frame(0x82, &[0, 2, 0])].concat(),
            CloseCode::ProtocolError,
            "new message before the previous one ended",
        ),
        (
            "text not UTF-8",
            frame(0x81, &[0xC3, 0x28]),
            CloseCode::InvalidPayload,
            "text message is not UTF-8",
        ),
        (
            "close code 1005",
            frame(0x88, &1005u16.to_be_bytes()),
            CloseCode::ProtocolError,
            "close code 1005 may not be sent",
        ),
        (
            "close reason not UTF-8",
            frame(0x88, &[0x03, 0xE8, 0xFF, 0xFE]),
            CloseCode::InvalidPayload,
            "close reason is not UTF-8",
        ),
        (
            "one-byte close",
            frame(0x88, &[3]),
            CloseCode::ProtocolError,
            "close frame with a one-byte payload",
        ),
    ];
    let target = format!("probed?token={editor}");
    for (name, bytes, code, reason) in cases {
        let mut bad = Raw::connect(server.addr, &target).await;
        bad.send(&bytes).await;
        assert_eq!(
            bad.closed().await,
            (code.code(), reason.to_owned()),
            "{name}"
        );
        assert!(
            bad.next().await.is_none(),
            "{name}: TCP closed after the close frame"
        );
    }
    bystander.unharmed("bad frames").await;

    // Presence nested 5 000 levels deep (10 KB: under the size limit) reaches nobody.
    let deep = MapClient::connect(probed_url.as_str()).await.unwrap();
    deep.synced(WAIT).await.unwrap();
    deep.set_awareness(&format!("{}{}", "[".repeat(5000), "]".repeat(5000)));
    let closed = deep
        .wait_closed(WAIT)
        .await
        .unwrap()
        .expect("a close frame");
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (
            CloseCode::PolicyViolation.code(),
            "presence state nested deeper than 32 levels"
        )
    );
    assert!(!owner.peers().contains_key(&deep.client_id()));
    bystander.unharmed("deep presence").await;

    // Cross-origin REST calls: the allowed origin is told it may, another is not.
    let preflight = |origin: &'static str| {
        let url = server.http("/api/v1/maps");
        async move {
            let headers = [
                ("Origin", origin),
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "authorization"),
            ];
            http_with("OPTIONS", &url, &headers, None).await
        }
    };
    let allowed = preflight(ORIGIN).await;
    assert_eq!(
        allowed.header("access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    let other = preflight("https://evil.example").await;
    assert_eq!(other.header("access-control-allow-origin"), None);
    // Pages carry their security headers.
    let page = http("GET", &server.http("/"), None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-security-policy").is_some(),
        "{}",
        page.headers
    );
    assert_eq!(page.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        page.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    bystander.unharmed("http").await;

    // Nothing a probe sent reached the probed map.
    let fresh = MapClient::connect(probed_url.as_str()).await.unwrap();
    fresh.synced(WAIT).await.unwrap();
    assert_eq!(card(&fresh, "kept").as_deref(), Some("yes"));
    assert_eq!(
        card(&fresh, "x"),
        None,
        "a refused frame's update was applied"
    );

    // Stopped and started again: everything stored reads the same, and the revocation holds.
    let before = (
        stored(&server, &operator, "bystander").await,
        stored(&server, &operator, "probed").await,
    );
    drop((bystander, owner, fresh, deep, mallory));
    server.terminate().await;
    let server = ProcessServer::start_with(dir.path(), &args).await;
    let after = (
        stored(&server, &operator, "bystander").await,
        stored(&server, &operator, "probed").await,
    );
    assert_eq!(after, before, "a map changed across the restart");
    assert!(
        after.0.contains("after http"),
        "the bystander's last edit was kept"
    );
    let (status, body) = refused(format!("{}?token={century}", server.url("probed"))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_revoked"))
    );
}
