//! A connection's incoming bytes turned into messages: frames parsed and unmasked, fragments
//! joined, control frames passed through, and every RFC 6455 violation answered with the close
//! code it earns (1002, 1007, 1009).
//!
//! The buffer exists only while bytes are in flight: once every complete frame is taken it is
//! released, so an idle connection costs no read buffer. Payloads are sliced from the buffer, not
//! copied.

use super::frame::{self, OP_BINARY, OP_CLOSE, OP_CONTINUE, OP_PING, OP_PONG, OP_TEXT};
use bytes::{Bytes, BytesMut};
use std::borrow::Cow;
use std::io;
use tokio::net::TcpStream;
use waymark_protocol::CloseCode;

/// What a read of an empty buffer takes at most: messages are mostly small updates.
const FIRST_READ: usize = 4 << 10;
/// Most a single read reserves for the rest of a large frame.
const MAX_READ: usize = 1 << 20;

/// One thing the client sent.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A whole data message; `text` if it was a text message (its UTF-8 checked).
    Message {
        text: bool,
        data: Bytes,
    },
    Ping(Bytes),
    Pong,
    /// The client's closing handshake, with its code if it gave one.
    Close(Option<u16>),
}

/// Why the connection must be closed, with the code and reason it is closed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub code: CloseCode,
    pub reason: Cow<'static, str>,
    /// The metric label.
    pub kind: &'static str,
}

impl Violation {
    fn protocol(reason: impl Into<Cow<'static, str>>) -> Self {
        Violation {
            code: CloseCode::ProtocolError,
            reason: reason.into(),
            kind: "bad_frame",
        }
    }
}

pub struct Reader {
    buf: BytesMut,
    /// A fragmented message being joined: its opcode and what arrived so far.
    partial: Option<(u8, BytesMut)>,
    max_message: usize,
}

impl Reader {
    /// `seed`: bytes read past the HTTP request, which belong to the WebSocket. It is copied:
    /// it slices the HTTP connection's whole read buffer, which it would otherwise keep alive.
    pub fn new(max_message: usize, seed: Bytes) -> Self {
        Reader {
            buf: BytesMut::from(&seed[..]),
            partial: None,
            max_message,
        }
    }

    /// Reads what the socket holds without waiting: `Ok(0)` at end of stream, `WouldBlock` when
    /// there was nothing (the caller then waits for readiness).
    pub fn read_from(&mut self, io: &TcpStream) -> io::Result<usize> {
        if self.buf.is_empty() {
            // Read into the stack and keep an exactly sized copy: an idle connection then holds
            // no buffer, and a small message's memory is the size of what arrived.
            let mut chunk = [0u8; FIRST_READ];
            let n = io.try_read(&mut chunk)?;
            self.buf.extend_from_slice(&chunk[..n]);
            return Ok(n);
        }
        let missing = match frame::parse(&self.buf) {
            Ok(Some(h)) => (h.size as u64 + h.len).saturating_sub(self.buf.len() as u64),
            _ => 0,
        };
        self.buf
            .reserve((missing as usize).clamp(FIRST_READ, MAX_READ));
        io.try_read_buf(&mut self.buf)
    }

    /// Whether bytes of an unfinished frame or message are waiting.
    #[cfg(test)]
    fn is_mid_message(&self) -> bool {
        !self.buf.is_empty() || self.partial.is_some()
    }

    /// The next complete event in what was read, `Ok(None)` when more bytes are needed.
    pub fn next(&mut self) -> Result<Option<Event>, Violation> {
        loop {
            let header = match frame::parse(&self.buf) {
                Ok(Some(h)) => h,
                Ok(None) => {
                    if self.buf.is_empty() && self.buf.capacity() > 0 {
                        self.buf = BytesMut::new();
                    }
                    return Ok(None);
                }
                Err(frame::Malformed(why)) => return Err(Violation::protocol(why)),
            };
            match (header.opcode, &self.partial) {
                (OP_CONTINUE, None) => {
                    return Err(Violation::protocol(
                        "continuation frame without a message to continue",
                    ));
                }
                (OP_TEXT | OP_BINARY, Some(_)) => {
                    return Err(Violation::protocol(
                        "new message before the previous one ended",
                    ));
                }
                _ => {}
            }
            if !header.is_control() {
                let so_far = self.partial.as_ref().map_or(0, |(_, b)| b.len()) as u64;
                if so_far + header.len > self.max_message as u64 {
                    return Err(Violation {
                        code: CloseCode::MessageTooBig,
                        reason: format!("message larger than {} bytes", self.max_message).into(),
                        kind: "message_too_big",
                    });
                }
            }
            let total = header.size + header.len as usize;
            if self.buf.len() < total {
                return Ok(None);
            }
            let mut payload = self.buf.split_to(total).split_off(header.size);
            frame::unmask(&mut payload, header.mask, 0);
            let data = match header.opcode {
                OP_PING => return Ok(Some(Event::Ping(payload.freeze()))),
                OP_PONG => return Ok(Some(Event::Pong)),
                OP_CLOSE => {
                    return match frame::parse_close(&payload) {
                        Ok(code) => Ok(Some(Event::Close(code))),
                        Err((code, reason)) => Err(Violation {
                            code,
                            reason,
                            kind: "bad_close",
                        }),
                    };
                }
                OP_CONTINUE => {
                    let (_, joined) = self.partial.as_mut().expect("checked above");
                    joined.extend_from_slice(&payload);
                    if !header.fin {
                        continue;
                    }
                    self.partial.take().expect("checked above")
                }
                op => {
                    if !header.fin {
                        self.partial = Some((op, payload));
                        continue;
                    }
                    (op, payload)
                }
            };
            let (op, data) = data;
            let text = op == OP_TEXT;
            if text && std::str::from_utf8(&data).is_err() {
                return Err(Violation {
                    code: CloseCode::InvalidPayload,
                    reason: "text message is not UTF-8".into(),
                    kind: "bad_text",
                });
            }
            return Ok(Some(Event::Message {
                text,
                data: data.freeze(),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        frame::masked(b0, payload, [9, 8, 7, 6])
    }

    fn events(bytes: &[u8], step: usize) -> Result<Vec<Event>, Violation> {
        let mut reader = Reader::new(1 << 20, Bytes::new());
        let mut out = Vec::new();
        for piece in bytes.chunks(step.max(1)) {
            reader.buf.extend_from_slice(piece);
            while let Some(e) = reader.next()? {
                out.push(e);
            }
        }
        assert!(!reader.is_mid_message() || bytes.is_empty());
        Ok(out)
    }

    fn binary(data: &[u8]) -> Event {
        Event::Message {
            text: false,
            data: Bytes::copy_from_slice(data),
        }
    }

    #[test]
    fn joins_fragments_around_control_frames_however_the_bytes_arrive() {
        let big = vec![42u8; 70_000];
        let mut bytes = frame(0x02, b"hel");
        bytes.extend(frame(0x89, b"p"));
        bytes.extend(frame(0x80, b"lo"));
        bytes.extend(frame(0x82, &big));
        bytes.extend(frame(0x8A, b""));
        bytes.extend(frame(0x88, &[0x03, 0xE8]));
        let expected = vec![
            Event::Ping(Bytes::from_static(b"p")),
            binary(b"hello"),
            binary(&big),
            Event::Pong,
            Event::Close(Some(1000)),
        ];
        for step in [1, 2, 3, 7, 1000, bytes.len()] {
            assert_eq!(events(&bytes, step).unwrap(), expected, "step {step}");
        }
    }

    #[test]
    fn answers_each_violation_with_its_code() {
        let cases: Vec<(Vec<u8>, CloseCode, &str)> = vec![
            (
                frame(0x80, b"x"),
                CloseCode::ProtocolError,
                "continuation frame without a message to continue",
            ),
            (
                [frame(0x02, b"a"), frame(0x82, b"b")].concat(),
                CloseCode::ProtocolError,
                "new message before the previous one ended",
            ),
            (
                frame(0x81, &[0xC3, 0x28]),
                CloseCode::InvalidPayload,
                "text message is not UTF-8",
            ),
            (
                frame(0x88, &[0x03, 0xED]),
                CloseCode::ProtocolError,
                "close code 1005 may not be sent",
            ),
            (
                frame(0x88, &[0x03, 0xE8, 0xFF]),
                CloseCode::InvalidPayload,
                "close reason is not UTF-8",
            ),
            (
                frame(0xA2, b"x"),
                CloseCode::ProtocolError,
                "reserved bits set without an extension",
            ),
        ];
        for (bytes, code, reason) in cases {
            let v = events(&bytes, 1).unwrap_err();
            assert_eq!((v.code, v.reason.as_ref()), (code, reason));
        }
    }

    #[test]
    fn refuses_an_oversized_message_from_its_header_alone() {
        let mut reader = Reader::new(100, Bytes::new());
        // Two fragments of 60: the second makes the message too big.
        reader.buf.extend_from_slice(&frame(0x02, &[0; 60]));
        assert_eq!(reader.next(), Ok(None));
        let second = frame(0x80, &[0; 60]);
        reader.buf.extend_from_slice(&second[..8]);
        let v = reader.next().unwrap_err();
        assert_eq!(v.code, CloseCode::MessageTooBig);
        assert_eq!(v.reason, "message larger than 100 bytes");
    }

    #[test]
    fn holds_no_buffer_once_everything_is_taken() {
        let mut reader = Reader::new(1 << 20, frame(0x82, b"abc").into());
        assert_eq!(reader.next(), Ok(Some(binary(b"abc"))));
        assert_eq!(reader.next(), Ok(None));
        assert_eq!(reader.buf.capacity(), 0);
        assert!(!reader.is_mid_message());
    }
}
