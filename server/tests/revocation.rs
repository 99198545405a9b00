//! Revoking a user's access with `waymark revoke`, against a running server: their open
//! connections close with 4003 within seconds, their earlier tokens are refused over WebSocket and
//! REST, tokens issued afterwards work, other users notice nothing, and it holds after a restart.

mod common;

use common::access::{SECRET, now};
use common::*;
use std::time::Duration;
use waymark_client::MapClient;
use waymark_server::auth::{Claims, Role, Signer};

fn token(user: &str, iat: u64) -> String {
    Signer::secret(SECRET.as_bytes())
        .unwrap()
        .sign(&Claims {
            sub: user.into(),
            name: None,
            maps: "*".into(),
            role: Role::Editor,
            exp: now() + 3600,
            iat: Some(iat),
            nbf: None,
        })
        .unwrap()
}

async fn revoke(data: &std::path::Path, user: &str) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args([
            "revoke",
            "--user",
            user,
            "--reason",
            "left the team",
            "--data",
        ])
        .arg(data)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("revoked {user}")), "{stdout}");
}

async fn start(data: &std::path::Path) -> ProcessServer {
    ProcessServer::start_with(data, &["--auth-secret", SECRET]).await
}

#[tokio::test]
async fn a_revoked_user_is_disconnected_and_refused_on_every_path() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path()).await;
    let (old_ana, bob) = (token("ana", now() - 60), token("bob", now() - 60));
    let ana = MapClient::connect(format!("{}?token={old_ana}", server.url("team")))
        .await
        .unwrap();
    ana.synced(WAIT).await.unwrap();
    let bob_client = MapClient::connect(format!("{}?token={bob}", server.url("team")))
        .await
        .unwrap();
    bob_client.synced(WAIT).await.unwrap();

    revoke(dir.path(), "ana").await;
    // Open connections notice at their next timer tick: within seconds, not at `exp`.
    let closed = ana
        .wait_closed(Duration::from_secs(15))
        .await
        .unwrap()
        .expect("a close frame");
    assert_eq!(closed.code, 4003, "{}", closed.reason);
    assert!(bob_client.is_connected(), "another user is not affected");

    // The old token is refused for a new connection and for REST.
    let (status, body) = access::refused(format!("{}?token={old_ana}", server.url("team"))).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "token_revoked");
    let rest = http_with(
        "GET",
        &server.http("/api/v1/maps"),
        &[("Authorization", &format!("Bearer {old_ana}"))],
        None,
    )
    .await;
    assert_eq!(rest.status, 401, "{}", rest.body);
    assert_eq!(rest.json()["error"], "token_revoked");
    // A token without `iat` cannot show it is newer: refused too.
    let undated = access::token_for("ana", "*", Role::Editor, now() + 3600);
    let (status, _) = access::refused(format!("{}?token={undated}", server.url("team"))).await;
    assert_eq!(status, 401);

    // A token issued after the revocation works.
    let new_ana = token("ana", now());
    let again = MapClient::connect(format!("{}?token={new_ana}", server.url("team")))
        .await
        .unwrap();
    again.synced(WAIT).await.unwrap();

    // It is stored: after a restart the old token is still refused.
    server.kill().await;
    let server = start(dir.path()).await;
    let (status, body) = access::refused(format!("{}?token={old_ana}", server.url("team"))).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "token_revoked");
}

/// `waymark revoke` against the database several nodes share reaches every node: a revoked user's
/// connection on any of them closes with 4003.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_reaches_every_node_sharing_the_store() {
    let db = common::pg::fresh_database().await;
    let disks = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mut nodes = Vec::new();
    for disk in &disks {
        let args = ["--database-url", &db.url, "--auth-secret", SECRET];
        nodes.push(ProcessServer::start_with(disk.path(), &args).await);
    }
    let (ana, bob) = (token("ana", now() - 60), token("bob", now() - 60));
    let on_node_1 = MapClient::connect(format!("{}?token={ana}", nodes[1].url("shared")))
        .await
        .unwrap();
    on_node_1.synced(WAIT).await.unwrap();
    let bob_on_0 = MapClient::connect(format!("{}?token={bob}", nodes[0].url("shared")))
        .await
        .unwrap();
    bob_on_0.synced(WAIT).await.unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["revoke", "--user", "ana", "--database-url", &db.url])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let closed = on_node_1
        .wait_closed(Duration::from_secs(15))
        .await
        .unwrap()
        .expect("a close frame");
    assert_eq!(closed.code, 4003, "{}", closed.reason);
    for node in &nodes {
        let (status, body) = access::refused(format!("{}?token={ana}", node.url("shared"))).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("token_revoked"))
        );
    }
    assert!(bob_on_0.is_connected());
}

#[tokio::test]
async fn revoking_in_a_directory_without_a_database_is_refused() {
    let empty = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["revoke", "--user", "ana", "--data"])
        .arg(empty.path().join("typo"))
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no Waymark database in"), "{stderr}");
    assert!(!empty.path().join("typo").exists(), "nothing was created");
}
