//! Clients that stop reading or stop answering: they are closed with a code telling them to
//! reconnect, and nobody else notices.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use waymark_protocol::CloseCode;
use waymark_server::Config;
use waymark_server::config::Limits;

/// Reads until the server's close frame and returns its code (None if the socket just ended).
async fn close_code<S>(ws: &mut S) -> Option<u16>
where
    S: futures_util::Stream<Item = Result<WsMessage, tokio_tungstenite::tungstenite::Error>>
        + Unpin,
{
    tokio::time::timeout(WAIT, async {
        while let Some(Ok(msg)) = ws.next().await {
            if let WsMessage::Close(frame) = msg {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await
    .expect("no close within the deadline")
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_and_others_are_unaffected() {
    let server = TestServer::start_with(Config {
        send_queue: 16,
        // The writer sends far more than a person would: lift its rate limit.
        limits: Limits {
            byte_rate: 1 << 30,
            message_rate: 100_000,
            ..Limits::default()
        },
        ..Config::default()
    })
    .await;
    let writer = server.connect("fanout").await;
    let reader = server.connect("fanout").await;
    // A raw socket that completes the handshake (updates only flow once its SyncStep1 was
    // answered) and then never reads.
    let (mut stuck, _) = tokio_tungstenite::connect_async(server.url("fanout"))
        .await
        .unwrap();
    stuck
        .send(WsMessage::Binary(
            waymark_protocol::message::encode_sync_step1(&[0]).into(),
        ))
        .await
        .unwrap();

    // Far more than the queue plus the kernel's socket buffers can hold, at a pace the healthy
    // reader keeps up with, until the server gives up on the stuck client. The stuck client then
    // reads at once: the server waits a bounded time (2 s) for a peer to take its close frame, and
    // drops one that never reads.
    let chunk = "x".repeat(32 << 10);
    let slow = "waymark_errors_total{kind=\"slow_consumer\"}";
    for batch in 0..60 {
        for i in 0..10 {
            set_card(&writer, &format!("c{batch}-{i}"), &chunk);
        }
        reader
            .wait_for(WAIT, "the batch", |c| card_count(c) == (batch + 1) * 10)
            .await
            .unwrap();
        if server.metric(slow).await >= 1.0 {
            break;
        }
    }
    assert_eq!(
        server.metric(slow).await,
        1.0,
        "the stuck client was closed"
    );
    assert!(reader.is_connected() && writer.is_connected());
    assert_eq!(
        close_code(&mut stuck).await,
        Some(CloseCode::TryAgainLater.code())
    );
}

#[tokio::test]
async fn a_peer_that_stops_answering_pings_is_closed() {
    let server = TestServer::start_with(Config {
        ping_interval: Duration::from_millis(100),
        ping_timeout: Duration::from_millis(400),
        ..Config::default()
    })
    .await;
    let healthy = server.connect("pings").await;
    // tungstenite answers pings only while the stream is polled: not polling it plays dead.
    let (mut dead, _) = tokio_tungstenite::connect_async(server.url("pings"))
        .await
        .unwrap();
    server
        .wait_metric("waymark_errors_total{kind=\"ping_timeout\"}", 1.0)
        .await;
    assert_eq!(
        close_code(&mut dead).await,
        Some(CloseCode::PingTimeout.code())
    );
    // A client that answers pings stays, well past the deadline.
    assert!(healthy.is_connected());
    set_card(&healthy, "still", "here");
    let other = server.connect("pings").await;
    assert_eq!(card(&other, "still").as_deref(), Some("here"));
}

#[tokio::test]
async fn an_idle_connection_hears_keepalives() {
    let server = TestServer::start_with(Config {
        keepalive_interval: Duration::from_millis(150),
        ..Config::default()
    })
    .await;
    let c = waymark_client::MapClient::connect_with(
        server.url("quiet"),
        waymark_client::Options {
            record_frames: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    c.synced(WAIT).await.unwrap();
    // Stock clients reconnect after 30 s without a message; an idle map must still say something.
    c.wait_for(WAIT, "a keepalive", |c| {
        c.frames()
            .iter()
            .any(|f| f.as_ref() == waymark_protocol::message::KEEPALIVE)
    })
    .await
    .unwrap();
}
