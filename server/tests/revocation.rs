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
            jti: None,
        })
        .unwrap()
}

/// `waymark args…`: its exit status, standard output and standard error.
async fn waymark(args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(args)
        .output()
        .await
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// As [`waymark`], which must succeed: its standard output and standard error.
async fn succeeds(args: &[&str]) -> (String, String) {
    let (ok, stdout, stderr) = waymark(args).await;
    assert!(ok, "waymark {args:?}: {stderr}");
    (stdout, stderr)
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

async fn revoke(data: &std::path::Path, user: &str) {
    let args = [
        "revoke",
        "--user",
        user,
        "--reason",
        "left the team",
        "--data",
        path(data),
    ];
    let (stdout, _) = succeeds(&args).await;
    assert!(stdout.contains(&format!("revoked user {user}")), "{stdout}");
}

/// A client of the map at `url`, with `token`, once synced.
async fn joined(url: String, token: &str) -> MapClient {
    let client = MapClient::connect(format!("{url}?token={token}"))
        .await
        .unwrap();
    client.synced(WAIT).await.unwrap();
    client
}

async fn start(data: &std::path::Path) -> ProcessServer {
    ProcessServer::start_with(data, &["--auth-secret", SECRET]).await
}

#[tokio::test]
async fn a_revoked_user_is_disconnected_and_refused_on_every_path() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path()).await;
    let (old_ana, bob) = (token("ana", now() - 60), token("bob", now() - 60));
    let ana = joined(server.url("team"), &old_ana).await;
    let bob_client = joined(server.url("team"), &bob).await;

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
    joined(server.url("team"), &new_ana).await;

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
    let on_node_1 = joined(nodes[1].url("shared"), &ana).await;
    let bob_on_0 = joined(nodes[0].url("shared"), &bob).await;
    succeeds(&["revoke", "--user", "ana", "--database-url", &db.url]).await;
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
    let typo = empty.path().join("typo");
    let (ok, _, stderr) = waymark(&["revoke", "--user", "ana", "--data", path(&typo)]).await;
    assert!(!ok);
    assert!(stderr.contains("no Waymark database in"), "{stderr}");
    assert!(!empty.path().join("typo").exists(), "nothing was created");
}

/// Mints a token with `waymark token`, as an operator would: the token and the id it prints.
async fn minted(user: &str, maps: &str, role: &str) -> (String, String) {
    let args = [
        "token", "--user", user, "--map", maps, "--role", role, "--secret", SECRET,
    ];
    let (stdout, stderr) = succeeds(&args).await;
    let id = stderr
        .split_once("token id: ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no token id in {stderr:?}"))
        .to_owned();
    (stdout.trim().to_owned(), id)
}

async fn rest(
    server: &ProcessServer,
    token: &str,
    method: &str,
    body: Option<&str>,
) -> HttpResponse {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("Authorization", auth.as_str())];
    if body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    http_with(method, &server.http("/api/v1/revocations"), &headers, body).await
}

/// One leaked token is revoked, by its id or as a whole, and nothing else of its user's: the
/// user's other token keeps working.
#[tokio::test]
async fn revoking_one_token_leaves_the_users_other_tokens_working() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let (leaked, leaked_id) = minted("ana", "*", "editor").await;
    let (kept, kept_id) = minted("ana", "*", "editor").await;
    assert_ne!(leaked_id, kept_id, "each token gets its own id");
    let on_leaked = joined(server.url("team"), &leaked).await;
    let on_kept = joined(server.url("team"), &kept).await;

    // The whole token given on the command line: its id is read from it.
    let data = path(dir.path());
    let args = [
        "revoke",
        "--token",
        &leaked,
        "--reason",
        "pasted in a chat",
        "--data",
        data,
    ];
    let (stdout, _) = succeeds(&args).await;
    assert!(
        stdout.contains(&format!("revoked token {leaked_id}")),
        "{stdout}"
    );

    let closed = on_leaked
        .wait_closed(Duration::from_secs(15))
        .await
        .unwrap()
        .expect("a close frame");
    assert_eq!(closed.code, 4003, "{}", closed.reason);
    assert!(
        on_kept.is_connected(),
        "the user's other token is not revoked"
    );
    let (status, body) = access::refused(format!("{}?token={leaked}", server.url("team"))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_revoked"))
    );
    joined(server.url("team"), &kept).await;

    // A token without an id cannot be revoked alone: the command says what to do instead.
    let undated = access::token_for("ana", "*", Role::Editor, now() + 3600);
    let (ok, _, stderr) = waymark(&["revoke", "--token", &undated, "--data", data]).await;
    assert!(!ok);
    assert!(stderr.contains("revoke its user with --user"), "{stderr}");
}

/// Over REST, only an owner of every map may revoke or list; a revocation applies on the node that
/// took it at once and reaches the user's open connection.
#[tokio::test]
async fn an_operator_revokes_over_rest_and_nobody_else_may() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let operator = access::token_for("ops", "*", Role::Owner, now() + 3600);
    let (ana, ana_id) = minted("ana", "*", "editor").await;
    let bob = token("bob", now() - 60);
    let on_ana = joined(server.url("team"), &ana).await;

    // Not an owner of `*`: refused, and nothing is recorded.
    let prefix_owner = access::token_for("pat", "acme-*", Role::Owner, now() + 3600);
    let editor = access::token_for("ed", "*", Role::Editor, now() + 3600);
    let body = r#"{"user":"bob"}"#;
    for (who, reply) in [
        (
            "owner of acme-*",
            rest(&server, &prefix_owner, "POST", Some(body)).await,
        ),
        (
            "editor of *",
            rest(&server, &editor, "POST", Some(body)).await,
        ),
        ("editor listing", rest(&server, &editor, "GET", None).await),
    ] {
        assert_eq!(reply.status, 403, "{who}: {}", reply.body);
    }
    // Bad bodies get a clear 400.
    for bad in [
        r#"{}"#,
        r#"{"user":"bob","token":"x"}"#,
        r#"{"user":""}"#,
        r#"{"user":"bob","until":1}"#,
        "not json",
    ] {
        let reply = rest(&server, &operator, "POST", Some(bad)).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
        assert!(
            reply.json()["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let listed = rest(&server, &operator, "GET", None).await;
    assert_eq!(
        listed.json()["revocations"],
        serde_json::json!([]),
        "nothing recorded"
    );

    let body = format!(r#"{{"token":"{ana_id}","reason":"lost laptop"}}"#);
    let reply = rest(&server, &operator, "POST", Some(&body)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.json()["revocation"]["token"], ana_id.as_str());
    // This node refuses it at once, without waiting for its refresh.
    let (status, _) = access::refused(format!("{}?token={ana}", server.url("team"))).await;
    assert_eq!(status, 401);
    let closed = on_ana
        .wait_closed(Duration::from_secs(15))
        .await
        .unwrap()
        .expect("a close frame");
    assert_eq!(closed.code, 4003);

    let reply = rest(&server, &operator, "POST", Some(r#"{"user":"bob"}"#)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let (status, _) = access::refused(format!("{}?token={bob}", server.url("team"))).await;
    assert_eq!(status, 401);
    let listed = rest(&server, &operator, "GET", None).await.json();
    let listed = listed["revocations"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["user"], "bob");
    assert_eq!(listed[1]["token"], ana_id.as_str());
    assert_eq!(listed[1]["reason"], "lost laptop");
}
