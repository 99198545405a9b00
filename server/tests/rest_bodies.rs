//! REST request bodies under hostile input: one trickling in is cut at the deadline (408), one
//! too large is refused from its length or as it grows (413), and a date that is not on the
//! calendar is a 400. Live editing goes on meanwhile.

mod common;

use common::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use waymark_server::Config;
use waymark_server::config::Limits;

/// Sends `head` and then `body` a byte every `pause`, until the server answers; the answer.
async fn trickle(server: &TestServer, head: &str, body: &[u8], pause: Duration) -> String {
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    for b in body {
        let mut chunk = [0u8; 4096];
        tokio::select! {
            read = tcp.read(&mut chunk) => {
                let n = read.unwrap_or(0);
                answer.extend_from_slice(&chunk[..n]);
                break;
            }
            _ = tokio::time::sleep(pause) => {
                if tcp.write_all(&[*b]).await.is_err() {
                    break;
                }
            }
        }
    }
    // The rest of the answer, until the server closes.
    let _ = tokio::time::timeout(WAIT, tcp.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_body_trickling_in_is_cut_at_the_deadline() {
    let deadline = Duration::from_millis(800);
    let server = TestServer::start_with(Config {
        limits: Limits {
            handshake_timeout: deadline,
            ..Limits::default()
        },
        ..Config::default()
    })
    .await;
    let editor = server.connect("live").await;
    let watcher = server.connect("live").await;
    let body = br#"{"id": "slow", "title": "one byte at a time"}"#;
    let head = format!(
        "POST /api/v1/maps HTTP/1.1\r\nHost: waymark\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let started = Instant::now();
    // One byte every 200 ms would take 9 s.
    let answer = trickle(&server, &head, body, Duration::from_millis(200)).await;
    let took = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"body_timeout\""), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(
        took >= deadline && took < deadline * 4,
        "answered after {took:?}, the deadline is {deadline:?}"
    );
    // Nothing was created, and editing went on.
    let gone = http("GET", &server.http("/api/v1/maps/slow"), None).await;
    assert_eq!(gone.status, 404);
    set_card(&editor, "during", "yes");
    watcher
        .wait_for(WAIT, "the edit", |c| card(c, "during").is_some())
        .await
        .unwrap();
    assert_eq!(
        server
            .metric("waymark_limits_hit_total{limit=\"body_timeout\"}")
            .await,
        1.0
    );
}

#[tokio::test]
async fn a_body_too_large_is_refused_before_or_while_it_is_read() {
    let server = TestServer::start().await;
    // Declared too large: refused from the header, before a byte of it is read.
    let head = "POST /api/v1/maps/import HTTP/1.1\r\nHost: waymark\r\n\
                Content-Type: application/json\r\nContent-Length: 3000000\r\n\r\n";
    let answer = trickle(&server, head, b"{", Duration::from_millis(50)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("request bodies are limited to 2 MiB"),
        "{answer}"
    );
    // Sent in chunks without a length: refused once it passes the limit.
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(
        b"POST /api/v1/maps/import HTTP/1.1\r\nHost: waymark\r\nContent-Type: application/json\r\n\
          Transfer-Encoding: chunked\r\n\r\n",
    )
    .await
    .unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut answer = Vec::new();
    for _ in 0..40 {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        if tcp.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = tokio::time::timeout(WAIT, tcp.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"body_too_large\""), "{answer}");
}

#[tokio::test]
async fn a_date_that_is_not_on_the_calendar_is_a_400() {
    let server = TestServer::start().await;
    let created = http(
        "POST",
        &server.http("/api/v1/maps"),
        Some(r#"{"id": "dated"}"#),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let version = http(
        "POST",
        &server.http("/api/v1/maps/dated/versions"),
        Some(r#"{"label": "v1"}"#),
    )
    .await;
    assert_eq!(version.status, 201, "{}", version.body);
    let review = |due: &'static str| {
        let url = server.http("/api/v1/maps/dated/versions/1/review");
        async move {
            http(
                "POST",
                &url,
                Some(&format!(r#"{{"reviewers": ["ana"], "due": "{due}"}}"#)),
            )
            .await
        }
    };
    let refused = review("2026-02-30").await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("2026-02-30"), "{}", refused.body);
    let accepted = review("2028-02-29").await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
}
