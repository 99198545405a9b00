//! WebSocket framing as RFC 6455 has it, driven from a raw TCP socket: an oversized message is
//! refused from its header, fragmented messages and pings between fragments work, frames sent
//! with the handshake are read, and a client's close is answered. Frames a client may not send
//! are replayed, with their close codes, by the catalogue (`catalogue.rs`).

mod common;

use common::raw::{Raw, card_message, frame};
use common::*;
use std::time::Duration;
use tokio::time::timeout;

#[tokio::test]
async fn an_oversized_message_is_refused_from_its_header() {
    let config = waymark_server::Config {
        max_message_size: 1024,
        ..Default::default()
    };
    let server = TestServer::start_with(config).await;
    let mut bad = Raw::connect(server.addr, "big").await;
    // Announces 1 GiB in two fragments' headers; the payload never comes.
    bad.send(&frame(0x02, &[0; 1000])).await;
    let mut header = vec![0x80, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 30).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    bad.send(&header).await;
    assert_eq!(
        bad.closed().await,
        (1009, "message larger than 1024 bytes".to_owned())
    );
}

#[tokio::test]
async fn fragments_with_a_ping_between_them_make_one_message() {
    let server = TestServer::start().await;
    let watcher = server.connect("fragments").await;
    let mut raw = Raw::connect(server.addr, "fragments").await;
    let message = card_message("fragmented", "arrived");
    let (first, rest) = message.split_at(3);
    let (second, third) = rest.split_at(rest.len() / 2);
    raw.send(&frame(0x02, first)).await;
    raw.send(&frame(0x89, b"are you there")).await;
    raw.send(&frame(0x00, second)).await;
    // The rest arrives a byte at a time.
    for b in frame(0x80, third) {
        raw.send(&[b]).await;
    }
    let pong = loop {
        let f = raw.next().await.expect("a pong");
        if f.opcode == 0xA {
            break f;
        }
    };
    assert!(pong.fin);
    assert_eq!(pong.payload, b"are you there");
    watcher
        .wait_for(WAIT, "the fragmented update", |c| {
            card(c, "fragmented").as_deref() == Some("arrived")
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn frames_sent_along_with_the_handshake_are_not_left_waiting() {
    let server = TestServer::start().await;
    let watcher = server.connect("eager").await;
    // Nothing follows these frames, so the socket never signals them again.
    let first = [
        frame(0x82, &waymark_protocol::message::encode_sync_step1(&[0])),
        frame(0x82, &card_message("eager", "on time")),
    ]
    .concat();
    let mut raw = Raw::connect_sending(server.addr, "eager", &first).await;
    watcher
        .wait_for(WAIT, "the update sent with the handshake", |c| {
            card(c, "eager").as_deref() == Some("on time")
        })
        .await
        .unwrap();
    // And the SyncStep1 was answered with a SyncStep2.
    loop {
        let f = raw.next().await.expect("the server's answer");
        if f.opcode == 0x2 && f.payload.starts_with(&[0, 1]) {
            break;
        }
    }
}

#[tokio::test]
async fn a_client_close_is_answered_and_tcp_closed() {
    let server = TestServer::start().await;
    let mut raw = Raw::connect(server.addr, "closing").await;
    raw.send(&frame(0x88, &[0x03, 0xE8, b'b', b'y', b'e']))
        .await;
    let (code, _) = timeout(Duration::from_secs(5), raw.closed()).await.unwrap();
    assert_eq!(code, 1000);
    assert!(raw.next().await.is_none(), "the server closed TCP");
    server.wait_metric("waymark_connections", 0.0).await;
}
