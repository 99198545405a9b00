//! The command-line client (`waymark maps`, `versions`, `review`, `comments`, `insights`,
//! `check`, `watch`, `metrics push`, `completions`), run as the real binary against a real server
//! process with authentication on, over real sockets: what each command prints and how it exits,
//! for good input and bad.

mod common;

use common::access::{SECRET, now, token_for};
use common::*;
use std::process::Output;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use waymark_client::MapClient;
use waymark_server::auth::Role;

/// `waymark args…` against `url` with `token`, standard input from `stdin`.
async fn waymark(url: &str, token: Option<&str>, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_waymark"));
    command
        .args(args)
        .env("WAYMARK_URL", url)
        .env_remove("WAYMARK_TOKEN")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(token) = token {
        command.env("WAYMARK_TOKEN", token);
    }
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.unwrap();
    }
    drop(input);
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the command finished")
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Succeeded; its standard output.
fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Failed with `code`; its standard error.
fn failed(o: Output, code: i32) -> String {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    stderr(&o)
}

struct Setup {
    server: ProcessServer,
    url: String,
    owner: String,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let server = ProcessServer::start_with(dir.path(), &["--auth-secret", SECRET]).await;
    let url = server.http("");
    Setup {
        server,
        url,
        owner: token_for("olga", "*", Role::Owner, now() + 3600),
        _dir: dir,
    }
}

#[tokio::test]
async fn maps_versions_reviews_and_comments_from_the_command_line() {
    let s = setup().await;
    let run = |args: &'static [&'static str]| waymark(&s.url, Some(&s.owner), args, None);
    let id = ok(run(&[
        "maps",
        "create",
        "journey",
        "--title",
        "Checkout",
        "--template",
        "ecommerce-purchase",
    ])
    .await);
    assert_eq!(id.trim(), "journey");
    let listed = ok(run(&["maps", "list"]).await);
    assert!(listed.starts_with("ID "), "{listed}");
    assert!(
        listed.contains("journey") && listed.contains("Checkout"),
        "{listed}"
    );

    // Exports: to a file (JSON, then imported as a copy) and to standard output (CSV).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("journey.json");
    let file_arg = file.to_str().unwrap().to_owned();
    ok(waymark(
        &s.url,
        Some(&s.owner),
        &[
            "maps", "export", "journey", "--format", "json", "-o", &file_arg,
        ],
        None,
    )
    .await);
    let exported: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(exported["meta"]["title"], "Checkout");
    let csv = ok(run(&["maps", "export", "journey", "--format", "csv"]).await);
    assert!(csv.lines().count() > 5, "{csv}");
    let copy = ok(waymark(
        &s.url,
        Some(&s.owner),
        &["maps", "import", &file_arg, "--id", "copy"],
        None,
    )
    .await);
    assert_eq!(copy.trim(), "copy");
    let listed: serde_json::Value =
        serde_json::from_str(&ok(run(&["maps", "list", "--json"]).await)).unwrap();
    assert_eq!(listed["maps"].as_array().unwrap().len(), 2);

    // Versions and their review.
    let number = ok(run(&[
        "versions",
        "take",
        "journey",
        "--label",
        "Before the workshop",
    ])
    .await);
    assert_eq!(number.trim(), "1");
    ok(run(&["review", "submit", "journey", "1", "--reviewer", "olga"]).await);
    ok(run(&[
        "review",
        "decide",
        "journey",
        "1",
        "--approve",
        "--comment",
        "fine",
    ])
    .await);
    let versions = ok(run(&["versions", "list", "journey"]).await);
    assert!(
        versions.contains("Before the workshop") && versions.contains("approved"),
        "{versions}"
    );
    let compared = ok(run(&["versions", "compare", "journey", "1"]).await);
    assert!(!compared.trim().is_empty());
    let restored = waymark(
        &s.url,
        Some(&s.owner),
        &["versions", "restore", "journey", "1"],
        None,
    )
    .await;
    assert!(
        stderr(&restored).contains("restored version 1"),
        "{}",
        stderr(&restored)
    );

    // Comments.
    ok(run(&[
        "comments",
        "journey",
        "--add",
        "Shipping cost comes too late",
    ])
    .await);
    let comments = ok(run(&["comments", "journey"]).await);
    assert!(
        comments.contains("Shipping cost comes too late"),
        "{comments}"
    );
    assert!(comments.contains("olga"), "{comments}");

    // Deleted, it is gone for every command.
    ok(run(&["maps", "delete", "copy"]).await);
    let gone = failed(run(&["maps", "export", "copy"]).await, 2);
    assert!(gone.contains("no map with id \"copy\""), "{gone}");
    drop(s.server);
}

#[tokio::test]
async fn every_failure_is_said_clearly_and_exits_2() {
    let s = setup().await;
    // Nothing listens on port 1.
    let err = failed(
        waymark(
            "http://127.0.0.1:1",
            Some(&s.owner),
            &["maps", "list"],
            None,
        )
        .await,
        2,
    );
    assert!(
        err.contains("cannot reach the Waymark server at http://127.0.0.1:1"),
        "{err}"
    );
    assert!(err.contains("--url or WAYMARK_URL"), "{err}");
    let err = failed(
        waymark("ftp://example", None, &["maps", "list"], None).await,
        2,
    );
    assert!(
        err.contains("is not an http:// or https:// address"),
        "{err}"
    );
    let err = failed(waymark(&s.url, None, &["maps", "list"], None).await, 2);
    assert!(
        err.contains("give a token with --token or WAYMARK_TOKEN"),
        "{err}"
    );
    let expired = token_for("olga", "*", Role::Owner, now() - 3600);
    let err = failed(
        waymark(&s.url, Some(&expired), &["maps", "list"], None).await,
        2,
    );
    assert!(err.contains("expired"), "{err}");
    let viewer = token_for("vic", "*", Role::Viewer, now() + 3600);
    ok(waymark(&s.url, Some(&s.owner), &["maps", "create", "kept"], None).await);
    let err = failed(
        waymark(&s.url, Some(&viewer), &["maps", "delete", "kept"], None).await,
        2,
    );
    assert!(err.contains("owner"), "{err}");
    let err = failed(
        waymark(&s.url, Some(&s.owner), &["insights", "nowhere"], None).await,
        2,
    );
    assert!(err.contains("no map with id \"nowhere\""), "{err}");
    let err = failed(
        waymark(
            &s.url,
            Some(&s.owner),
            &["maps", "import", "-"],
            Some("not json"),
        )
        .await,
        2,
    );
    assert!(err.contains("is not JSON"), "{err}");
    let err = failed(
        waymark(
            &s.url,
            Some(&s.owner),
            &["maps", "export", "kept", "--format", "tiff"],
            None,
        )
        .await,
        2,
    );
    assert!(err.contains("invalid value 'tiff'"), "{err}");
    // The refused delete deleted nothing.
    let listed = ok(waymark(&s.url, Some(&s.owner), &["maps", "list"], None).await);
    assert!(listed.contains("kept"), "{listed}");
}

#[tokio::test]
async fn check_fails_on_findings_and_metrics_push_feeds_the_metrics_once() {
    let s = setup().await;
    let owner = Some(s.owner.as_str());
    ok(waymark(
        &s.url,
        owner,
        &["maps", "create", "shop", "--template", "ecommerce-purchase"],
        None,
    )
    .await);
    let measurements = || async {
        let reply = http_with(
            "GET",
            &s.server.http("/api/v1/maps/shop"),
            &[("Authorization", &format!("Bearer {}", s.owner))],
            None,
        )
        .await;
        reply.json()["map"]["measurements"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = measurements().await;

    // The template's conversion and abandonment miss their targets.
    let found = waymark(&s.url, owner, &["check", "shop"], None).await;
    assert_eq!(found.status.code(), Some(1), "{}", stderr(&found));
    let out = stdout(&found);
    assert!(
        out.contains("metric \"Checkout conversion\" is 61.5"),
        "{out}"
    );
    assert!(out.contains("metric \"Cart abandonment\" is 27"), "{out}");

    let csv =
        "metric,date,value\nCheckout conversion,2026-11-01,66\nCart abandonment,2026-11-01,19\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("november.csv");
    std::fs::write(&file, csv).unwrap();
    let file = file.to_str().unwrap();
    let dry = waymark(
        &s.url,
        owner,
        &["metrics", "push", "shop", "--from", file, "--dry-run"],
        None,
    )
    .await;
    assert!(
        stdout(&dry).contains("would add Checkout conversion 2026-11-01 66"),
        "{}",
        stdout(&dry)
    );
    assert_eq!(measurements().await, before, "a dry run changes nothing");
    ok(waymark(
        &s.url,
        owner,
        &["metrics", "push", "shop", "--from", file],
        None,
    )
    .await);
    assert_eq!(measurements().await, before + 2);
    let again = waymark(
        &s.url,
        owner,
        &["metrics", "push", "shop", "--from", file],
        None,
    )
    .await;
    assert!(
        stderr(&again).contains("already recorded 2"),
        "{}",
        stderr(&again)
    );
    assert_eq!(measurements().await, before + 2, "a re-run adds nothing");
    ok(waymark(&s.url, owner, &["check", "shop"], None).await);

    // Bad rows are named by line, unknown metrics are not created, and nothing is written.
    let bad = "Checkout conversion,2026-02-30,1\nChurn,2026-12-01,3\n";
    let err = failed(
        waymark(
            &s.url,
            owner,
            &["metrics", "push", "shop", "--from", "-"],
            Some(bad),
        )
        .await,
        2,
    );
    assert!(
        err.contains("line 1: \"2026-02-30\" is not a YYYY-MM-DD date"),
        "{err}"
    );
    let err = failed(
        waymark(
            &s.url,
            owner,
            &["metrics", "push", "shop", "--from", "-"],
            Some("Churn,2026-12-01,3\n"),
        )
        .await,
        2,
    );
    assert!(
        err.contains("line 1: the map has no metric named \"Churn\""),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    let err = failed(
        waymark(
            &s.url,
            owner,
            &["metrics", "push", "shop", "--from", "-"],
            Some("Checkout conversion,2026-11-01,70\n"),
        )
        .await,
        2,
    );
    assert!(err.contains("already has 66 on 2026-11-01"), "{err}");
    let viewer = token_for("vic", "*", Role::Viewer, now() + 3600);
    let err = failed(
        waymark(
            &s.url,
            Some(&viewer),
            &["metrics", "push", "shop", "--from", "-"],
            Some("Checkout conversion,2026-12-01,70\n"),
        )
        .await,
        2,
    );
    assert!(err.contains("did not accept"), "{err}");
    assert_eq!(measurements().await, before + 2);

    // A review date in the past fails the check once the server has stored it.
    let editor = MapClient::connect(format!("{}?token={}", s.server.url("shop"), s.owner))
        .await
        .unwrap();
    editor.synced(WAIT).await.unwrap();
    editor.edit(|ed| ed.set_meta("reviewDue", Some("2020-01-01")));
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let checked = waymark(&s.url, owner, &["check", "shop", "--json"], None).await;
        if checked.status.code() == Some(1) {
            let report: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap();
            assert_eq!(report["findings"][0]["finding"], "review-overdue");
            assert_eq!(report["ok"], false);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            stdout(&checked)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ignored = waymark(
        &s.url,
        owner,
        &["check", "shop", "--ignore", "review-overdue"],
        None,
    )
    .await;
    assert_eq!(ignored.status.code(), Some(0), "{}", stderr(&ignored));
}

#[tokio::test]
async fn watch_prints_who_changed_what() {
    let s = setup().await;
    let mut watch = tokio::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["watch", "board", "--count", "1"])
        .env("WAYMARK_URL", &s.url)
        .env("WAYMARK_TOKEN", &s.owner)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut err = tokio::io::BufReader::new(watch.stderr.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(
        WAIT,
        tokio::io::AsyncBufReadExt::read_line(&mut err, &mut line),
    )
    .await
    .expect("watch starts")
    .unwrap();
    assert!(line.starts_with("following board"), "{line}");

    let bea = MapClient::connect(format!("{}?token={}", s.server.url("board"), s.owner))
        .await
        .unwrap();
    bea.synced(WAIT).await.unwrap();
    bea.set_awareness(r#"{"user":{"name":"Bea"}}"#);
    // Once another client has Bea's presence, the watcher has it too, ahead of her edit.
    let other = MapClient::connect(format!("{}?token={}", s.server.url("board"), s.owner))
        .await
        .unwrap();
    other
        .wait_for(WAIT, "Bea's presence", |c| {
            c.peers().values().any(|p| p.contains("Bea"))
        })
        .await
        .unwrap();
    bea.edit(|ed| ed.add_stage("Discover", waymark_protocol::schema::At::Last))
        .unwrap();
    let out = tokio::time::timeout(WAIT, watch.wait_with_output())
        .await
        .expect("watch stops after one change")
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(
        printed.contains("  Bea  added stage \"Discover\""),
        "{printed}"
    );
}

#[tokio::test]
async fn every_command_has_help_and_completions_are_printed() {
    let commands: &[&[&str]] = &[
        &["maps"],
        &["maps", "list"],
        &["maps", "create"],
        &["maps", "delete"],
        &["maps", "import"],
        &["maps", "export"],
        &["versions"],
        &["versions", "list"],
        &["versions", "take"],
        &["versions", "compare"],
        &["versions", "restore"],
        &["review", "submit"],
        &["review", "decide"],
        &["comments"],
        &["insights"],
        &["check"],
        &["watch"],
        &["metrics", "push"],
        &["completions"],
    ];
    for command in commands {
        let args: Vec<&str> = command.iter().copied().chain(["--help"]).collect();
        let help = ok(waymark("http://127.0.0.1:1", None, &args, None).await);
        assert!(help.contains("Usage: waymark"), "{command:?}: {help}");
        if command.len() == 2 || ["comments", "insights", "check", "watch"].contains(&command[0]) {
            assert!(help.contains("--url"), "{command:?} takes --url: {help}");
        }
    }
    let bash = ok(waymark("http://127.0.0.1:1", None, &["completions", "bash"], None).await);
    assert!(
        bash.contains("_waymark") && bash.contains("metrics"),
        "{bash}"
    );
}
