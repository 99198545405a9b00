//! What operators see: health, readiness, metrics, signals and the command line.

mod common;

use common::*;
use std::process::Command;
use std::time::{Duration, Instant};
use waymark_protocol::CloseCode;

#[tokio::test]
async fn health_and_metrics_reflect_activity() {
    let server = TestServer::start().await;
    let (status, body) = get(&server.http("/healthz")).await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, body) = get(&server.http("/readyz")).await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ready"}"#));

    let a = server.connect("metrics").await;
    let b = server.connect("metrics").await;
    set_card(&a, "k", "v");
    b.wait_for(WAIT, "edit", |c| card(c, "k").is_some())
        .await
        .unwrap();
    a.set_awareness(r#"{"user":"a"}"#);
    let id = a.client_id();
    b.wait_for(WAIT, "presence", |c| c.peers().contains_key(&id))
        .await
        .unwrap();

    let (_, text) = get(&server.http("/metrics")).await;
    let m = |name: &str| metric_value(&text, name);
    assert_eq!(m("waymark_connections"), 2.0);
    assert_eq!(m("waymark_maps_loaded"), 1.0);
    assert_eq!(m("waymark_messages_in_total{type=\"update\"}"), 1.0);
    assert_eq!(m("waymark_messages_in_total{type=\"sync_step1\"}"), 2.0);
    assert!(m("waymark_bytes_in_total{type=\"update\"}") > 0.0);
    assert!(m("waymark_messages_out_total{type=\"update\"}") >= 1.0);
    assert!(m("waymark_messages_out_total{type=\"awareness\"}") >= 1.0);
    assert!(m("waymark_update_apply_seconds_count") >= 1.0);
    assert!(m("waymark_store_commit_seconds_count") >= 1.0);
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test]
async fn sigterm_closes_clients_with_going_away_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ProcessServer::start(dir.path()).await;
    let a = waymark_client::MapClient::connect(server.url("term"))
        .await
        .unwrap();
    a.synced(WAIT).await.unwrap();
    set_card(&a, "k", "v");
    let b = waymark_client::MapClient::connect(server.url("term"))
        .await
        .unwrap();
    b.wait_for(WAIT, "edit", |c| card(c, "k").is_some())
        .await
        .unwrap();

    let pid = server.child.id().unwrap();
    let started = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(15), server.child.wait())
        .await
        .expect("server did not exit after SIGTERM")
        .unwrap();
    assert!(status.success(), "exit status {status}");
    assert!(started.elapsed() < Duration::from_secs(10));
    for c in [&a, &b] {
        let closed = c.wait_closed(WAIT).await.unwrap().expect("close frame");
        assert_eq!(closed.code, CloseCode::GoingAway.code());
    }
    let server = ProcessServer::start(dir.path()).await;
    let c = waymark_client::MapClient::connect(server.url("term"))
        .await
        .unwrap();
    c.synced(WAIT).await.unwrap();
    assert_eq!(card(&c, "k").as_deref(), Some("v"));
}

fn waymark(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(args)
        .env_remove("WAYMARK_LISTEN")
        .env_remove("WAYMARK_DATA")
        .output()
        .unwrap()
}

#[test]
fn help_documents_every_setting_and_its_environment_variable() {
    let top = waymark(&["--help"]);
    assert!(top.status.success());
    let top = String::from_utf8(top.stdout).unwrap();
    assert!(top.contains("serve"), "{top}");
    let serve = String::from_utf8(waymark(&["serve", "--help"]).stdout).unwrap();
    for flag in [
        "--listen",
        "WAYMARK_LISTEN",
        "127.0.0.1:8080",
        "--data",
        "WAYMARK_DATA",
        "./waymark-data",
        "--log-format",
        "--max-message-size",
        "8MiB",
        "--send-queue",
        "--unload-after",
        "--shutdown-timeout",
        "--threads",
        "WAYMARK_THREADS",
    ] {
        assert!(serve.contains(flag), "serve --help lacks {flag}:\n{serve}");
    }
}

#[test]
fn bad_settings_are_refused_with_a_clear_message() {
    for (args, expect) in [
        (vec!["serve", "--listen", "not-an-address"], "--listen"),
        (vec!["serve", "--max-message-size", "lots"], "not a size"),
        (vec!["serve", "--unload-after", "soon"], "--unload-after"),
        (vec!["serve", "--send-queue", "1"], "--send-queue"),
        (vec!["serve", "--threads", "0"], "--threads"),
        (vec!["serve", "--log-format", "xml"], "pretty"),
        (vec!["launch"], "unrecognized subcommand"),
    ] {
        let out = waymark(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(expect), "{args:?}: {err}");
    }
}

#[test]
fn an_unusable_data_directory_is_reported() {
    let file = tempfile::NamedTempFile::new().unwrap();
    // A regular file where the data directory should be.
    let out = waymark(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data",
        file.path().to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("cannot open storage"), "{err}");
}
