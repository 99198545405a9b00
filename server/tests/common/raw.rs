//! A WebSocket client written by hand over TCP, for tests that send what no library would: frames
//! RFC 6455 forbids, fragments split anywhere, bytes along with the handshake.

use super::WAIT;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// A client speaking WebSocket by hand.
pub struct Raw {
    tcp: TcpStream,
    buf: Vec<u8>,
}

/// A frame the server sent.
#[derive(Debug)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl Raw {
    /// Opens `/maps/{target}` (`target` may carry a query, e.g. `?token=…`).
    pub async fn connect(addr: SocketAddr, target: &str) -> Raw {
        Self::connect_sending(addr, target, &[]).await
    }

    /// Connects, sending `first` in the same write as the handshake request (a client may send
    /// frames before it has read the answer).
    pub async fn connect_sending(addr: SocketAddr, target: &str, first: &[u8]) -> Raw {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET /maps/{target} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            addr
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

    pub async fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 4096];
        let n = timeout(WAIT, self.tcp.read(&mut chunk))
            .await
            .expect("the server answers in time")
            .unwrap_or(0);
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }

    /// The next frame from the server, `None` once the server closed TCP.
    pub async fn next(&mut self) -> Option<Frame> {
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
    pub async fn closed(&mut self) -> (u16, String) {
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

    pub async fn send(&mut self, bytes: &[u8]) {
        self.tcp.write_all(bytes).await.unwrap();
    }
}

/// A client frame: `b0` is FIN, RSV and opcode; the payload is masked.
pub fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
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
pub fn card_message(key: &str, value: &str) -> Vec<u8> {
    let update = super::access::card_update(key, value);
    waymark_protocol::message::encode_update(&update)
}
