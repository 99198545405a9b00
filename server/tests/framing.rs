//! WebSocket framing as RFC 6455 has it, driven from a raw TCP socket: every frame a client may
//! not send gets its close code (PROTOCOL.md §10) and leaves the map's other clients and the
//! document untouched; fragmented messages, pings between fragments and the closing handshake
//! work as the RFC says.

mod common;

use common::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use waymark_protocol::CloseCode;

/// A client speaking WebSocket by hand.
struct Raw {
    tcp: TcpStream,
    buf: Vec<u8>,
}

/// A frame the server sent.
#[derive(Debug)]
struct Frame {
    fin: bool,
    opcode: u8,
    payload: Vec<u8>,
}

impl Raw {
    async fn connect(server: &TestServer, map: &str) -> Raw {
        Self::connect_sending(server, map, &[]).await
    }

    /// Connects, sending `first` in the same write as the handshake request (a client may send
    /// frames before it has read the answer).
    async fn connect_sending(server: &TestServer, map: &str, first: &[u8]) -> Raw {
        let mut tcp = TcpStream::connect(server.addr).await.unwrap();
        let request = format!(
            "GET /maps/{map} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            server.addr
        );
        tcp.write_all(&[request.as_bytes(), first].concat())
            .await
            .unwrap();
        let mut raw = Raw {
            tcp,
            buf: Vec::new(),
        };
        let end = loop {
            if let Some(at) = raw.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            raw.fill().await;
        };
        let response = String::from_utf8_lossy(&raw.buf[..end]).to_string();
        assert!(response.starts_with("HTTP/1.1 101"), "{response}");
        assert!(
            response.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            "{response}"
        );
        raw.buf.drain(..end);
        raw
    }

    async fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 4096];
        let n = timeout(WAIT, self.tcp.read(&mut chunk))
            .await
            .expect("the server answers in time")
            .unwrap_or(0);
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }

    /// The next frame from the server, `None` once the server closed TCP.
    async fn next(&mut self) -> Option<Frame> {
        loop {
            if self.buf.len() >= 2 {
                let (b0, b1) = (self.buf[0], self.buf[1]);
                assert_eq!(b1 & 0x80, 0, "server frames are not masked");
                let (len, at) = match b1 & 0x7F {
                    126 if self.buf.len() >= 4 => (
                        usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]])),
                        4,
                    ),
                    127 if self.buf.len() >= 10 => (
                        u64::from_be_bytes(self.buf[2..10].try_into().unwrap()) as usize,
                        10,
                    ),
                    126 | 127 => (usize::MAX, 0),
                    n => (usize::from(n), 2),
                };
                if len != usize::MAX && self.buf.len() >= at + len {
                    let payload = self.buf[at..at + len].to_vec();
                    self.buf.drain(..at + len);
                    return Some(Frame {
                        fin: b0 & 0x80 != 0,
                        opcode: b0 & 0x0F,
                        payload,
                    });
                }
            }
            if self.fill().await == 0 {
                return None;
            }
        }
    }

    /// Skips data frames until the server's close frame: its code and reason. Answers it as a
    /// client does, and ends its side of the TCP stream.
    async fn closed(&mut self) -> (u16, String) {
        while let Some(f) = self.next().await {
            if f.opcode == 0x8 {
                let code = u16::from_be_bytes([f.payload[0], f.payload[1]]);
                let _ = self.tcp.write_all(&frame(0x88, &f.payload[..2])).await;
                let _ = self.tcp.shutdown().await;
                return (code, String::from_utf8(f.payload[2..].to_vec()).unwrap());
            }
        }
        panic!("the server closed TCP without a close frame");
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.tcp.write_all(bytes).await.unwrap();
    }
}

/// A client frame: `b0` is FIN, RSV and opcode; the payload is masked.
fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xFA, 0x21, 0x3D];
    let mut out = vec![b0];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n < 65536 => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// An update message `[0, 2, update]` setting card `key` to `value`, made by a scratch client.
fn card_message(key: &str, value: &str) -> Vec<u8> {
    let update = common::access::card_update(key, value);
    waymark_protocol::message::encode_update(&update)
}

#[tokio::test]
async fn frames_rfc_6455_forbids_close_with_their_code_and_harm_nobody() {
    let server = TestServer::start().await;
    let a = server.connect("framing").await;
    set_card(&a, "kept", "yes");
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
    for (name, bytes, code, reason) in cases {
        let mut bad = Raw::connect(&server, "framing").await;
        bad.send(&bytes).await;
        assert_eq!(
            bad.closed().await,
            (code.code(), reason.to_owned()),
            "{name}"
        );
        // The server closes TCP after its close frame once the client has nothing more to say.
        assert!(
            bad.next().await.is_none(),
            "{name}: TCP closed after the close frame"
        );
    }
    // Nothing a bad client sent reached the map; its other client kept editing throughout.
    assert!(a.is_connected());
    set_card(&a, "after", "still works");
    let fresh = server.connect("framing").await;
    fresh
        .wait_for(WAIT, "a's edit", |c| card(c, "after").is_some())
        .await
        .unwrap();
    assert_eq!(card(&fresh, "kept").as_deref(), Some("yes"));
    assert_eq!(card(&fresh, "x"), None);
    assert_eq!(content(&fresh), content(&a));
    assert!(
        server
            .metric("waymark_errors_total{kind=\"bad_frame\"}")
            .await
            >= 8.0
    );
}

#[tokio::test]
async fn an_oversized_message_is_refused_from_its_header() {
    let config = waymark_server::Config {
        max_message_size: 1024,
        ..Default::default()
    };
    let server = TestServer::start_with(config).await;
    let mut bad = Raw::connect(&server, "big").await;
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
    let mut raw = Raw::connect(&server, "fragments").await;
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
    let mut raw = Raw::connect_sending(&server, "eager", &first).await;
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
    let mut raw = Raw::connect(&server, "closing").await;
    raw.send(&frame(0x88, &[0x03, 0xE8, b'b', b'y', b'e']))
        .await;
    let (code, _) = timeout(Duration::from_secs(5), raw.closed()).await.unwrap();
    assert_eq!(code, 1000);
    assert!(raw.next().await.is_none(), "the server closed TCP");
    server.wait_metric("waymark_connections", 0.0).await;
}
