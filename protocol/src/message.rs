//! The y-websocket message codec (y-protocols `sync`, `awareness`, `auth`, query-awareness).
//!
//! Decoding borrows from the frame so that a server can forward payloads without copying, and is
//! strict: a frame must hold exactly one message, so truncation, trailing bytes and unknown types are
//! told apart and answered with different close codes.

use crate::close::CloseCode;
use crate::ext::EXTENSION_TAGS;
use yrs::encoding::write::Write;

pub const MSG_SYNC: u8 = 0;
pub const MSG_AWARENESS: u8 = 1;
pub const MSG_AUTH: u8 = 2;
pub const MSG_QUERY_AWARENESS: u8 = 3;

pub const SYNC_STEP1: u8 = 0;
pub const SYNC_STEP2: u8 = 1;
pub const SYNC_UPDATE: u8 = 2;

/// An awareness update with no entries. Receivers apply it as a no-op, so the server uses it as the
/// keepalive that stops stock clients from reconnecting after 30 s without a message.
pub const KEEPALIVE: [u8; 3] = [MSG_AWARENESS, 1, 0];

/// One decoded message, borrowing its payload from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// `[0, 0, varUint8Array stateVector]`
    SyncStep1 { state_vector: &'a [u8] },
    /// `[0, 1, varUint8Array update]`
    SyncStep2 { update: &'a [u8] },
    /// `[0, 2, varUint8Array update]`
    Update { update: &'a [u8] },
    /// `[1, varUint8Array awarenessUpdate]`
    Awareness { update: &'a [u8] },
    /// `[2, varUint 0, varString reason]` (denied) or `[2, varUint 1]` (granted).
    Auth { denied: Option<&'a str> },
    /// `[3]`
    QueryAwareness,
    /// `[tag, ...]` with a tag in 100–127: a negotiated Waymark extension (see [`crate::ext`]).
    Extension { tag: u8, body: &'a [u8] },
}

/// Kinds of message, as used in metrics labels and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    SyncStep1,
    SyncStep2,
    Update,
    Awareness,
    Auth,
    QueryAwareness,
    Extension,
    Keepalive,
}

impl MessageKind {
    pub const ALL: [MessageKind; 8] = [
        MessageKind::SyncStep1,
        MessageKind::SyncStep2,
        MessageKind::Update,
        MessageKind::Awareness,
        MessageKind::Auth,
        MessageKind::QueryAwareness,
        MessageKind::Extension,
        MessageKind::Keepalive,
    ];

    /// Position in [`MessageKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn label(self) -> &'static str {
        match self {
            MessageKind::SyncStep1 => "sync_step1",
            MessageKind::SyncStep2 => "sync_step2",
            MessageKind::Update => "update",
            MessageKind::Awareness => "awareness",
            MessageKind::Auth => "auth",
            MessageKind::QueryAwareness => "query_awareness",
            MessageKind::Extension => "extension",
            MessageKind::Keepalive => "keepalive",
        }
    }
}

impl Message<'_> {
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::SyncStep1 { .. } => MessageKind::SyncStep1,
            Message::SyncStep2 { .. } => MessageKind::SyncStep2,
            Message::Update { .. } => MessageKind::Update,
            Message::Awareness { .. } => MessageKind::Awareness,
            Message::Auth { .. } => MessageKind::Auth,
            Message::QueryAwareness => MessageKind::QueryAwareness,
            Message::Extension { .. } => MessageKind::Extension,
        }
    }
}

/// Why a frame is not a valid message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty message")]
    Empty,
    #[error("message is truncated")]
    Truncated,
    #[error("message has {0} unexpected trailing bytes")]
    TrailingBytes(usize),
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("unknown message type {0}")]
    UnknownType(u64),
    #[error("unknown sync message type {0}")]
    UnknownSyncType(u64),
}

impl DecodeError {
    /// The close code a server answers this error with.
    pub fn close_code(&self) -> CloseCode {
        match self {
            DecodeError::UnknownType(_) => CloseCode::UnsupportedData,
            _ => CloseCode::ProtocolError,
        }
    }

    /// A short, stable label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            DecodeError::Empty => "empty",
            DecodeError::Truncated => "truncated",
            DecodeError::TrailingBytes(_) => "trailing_bytes",
            DecodeError::Malformed(_) => "malformed",
            DecodeError::UnknownType(_) => "unknown_type",
            DecodeError::UnknownSyncType(_) => "unknown_sync_type",
        }
    }
}

/// A lib0 reader whose slices borrow from the frame rather than from the reader.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn var_uint(&mut self) -> Result<u64, DecodeError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self.buf.get(self.pos).ok_or(DecodeError::Truncated)?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::Malformed("varUint longer than 64 bits".into()))
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.var_uint()?;
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| self.pos.checked_add(len))
            .filter(|&end| end <= self.buf.len())
            .ok_or(DecodeError::Truncated)?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn string(&mut self) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes()?)
            .map_err(|_| DecodeError::Malformed("string is not UTF-8".into()))
    }
}

/// The kind of a well-formed message from its first bytes, without decoding the payload.
pub fn peek_kind(frame: &[u8]) -> Option<MessageKind> {
    if frame == KEEPALIVE {
        return Some(MessageKind::Keepalive);
    }
    Some(match *frame.first()? {
        MSG_SYNC => match *frame.get(1)? {
            SYNC_STEP1 => MessageKind::SyncStep1,
            SYNC_STEP2 => MessageKind::SyncStep2,
            SYNC_UPDATE => MessageKind::Update,
            _ => return None,
        },
        MSG_AWARENESS => MessageKind::Awareness,
        MSG_AUTH => MessageKind::Auth,
        MSG_QUERY_AWARENESS => MessageKind::QueryAwareness,
        t if EXTENSION_TAGS.contains(&t) => MessageKind::Extension,
        _ => return None,
    })
}

/// Decodes one message occupying the whole of `frame`.
pub fn decode(frame: &[u8]) -> Result<Message<'_>, DecodeError> {
    if frame.is_empty() {
        return Err(DecodeError::Empty);
    }
    let mut c = Reader { buf: frame, pos: 0 };
    let tag = c.var_uint()?;
    let msg = match tag {
        t if t == MSG_SYNC as u64 => {
            let sub = c.var_uint()?;
            let payload = c.bytes()?;
            match sub {
                s if s == SYNC_STEP1 as u64 => Message::SyncStep1 {
                    state_vector: payload,
                },
                s if s == SYNC_STEP2 as u64 => Message::SyncStep2 { update: payload },
                s if s == SYNC_UPDATE as u64 => Message::Update { update: payload },
                other => return Err(DecodeError::UnknownSyncType(other)),
            }
        }
        t if t == MSG_AWARENESS as u64 => Message::Awareness { update: c.bytes()? },
        t if t == MSG_AUTH as u64 => {
            let permission = c.var_uint()?;
            let denied = if permission == 0 {
                Some(c.string()?)
            } else {
                None
            };
            Message::Auth { denied }
        }
        t if t == MSG_QUERY_AWARENESS as u64 => Message::QueryAwareness,
        t if t <= u8::MAX as u64 && EXTENSION_TAGS.contains(&(t as u8)) => {
            let body = &frame[c.pos..];
            c.pos = frame.len();
            Message::Extension { tag: t as u8, body }
        }
        other => return Err(DecodeError::UnknownType(other)),
    };
    let rest = frame.len() - c.pos;
    if rest != 0 {
        return Err(DecodeError::TrailingBytes(rest));
    }
    Ok(msg)
}

fn sync(sub: u8, payload: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(payload.len() + 7);
    buf.write_u8(MSG_SYNC);
    buf.write_u8(sub);
    buf.write_buf(payload);
    buf
}

/// `[0, 0, varUint8Array stateVector]`
pub fn encode_sync_step1(state_vector: &[u8]) -> Vec<u8> {
    sync(SYNC_STEP1, state_vector)
}

/// `[0, 1, varUint8Array update]`
pub fn encode_sync_step2(update: &[u8]) -> Vec<u8> {
    sync(SYNC_STEP2, update)
}

/// `[0, 2, varUint8Array update]`
pub fn encode_update(update: &[u8]) -> Vec<u8> {
    sync(SYNC_UPDATE, update)
}

/// `[1, varUint8Array awarenessUpdate]`
pub fn encode_awareness(update: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(update.len() + 6);
    buf.write_u8(MSG_AWARENESS);
    buf.write_buf(update);
    buf
}

/// `[3]`
pub fn encode_query_awareness() -> Vec<u8> {
    vec![MSG_QUERY_AWARENESS]
}

/// `[2, 0, varString reason]`
pub fn encode_auth_denied(reason: &str) -> Vec<u8> {
    let mut buf = vec![MSG_AUTH, 0];
    buf.write_string(reason);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_message() {
        let sv = [1, 5, 3];
        let up = [0, 0];
        assert_eq!(
            decode(&encode_sync_step1(&sv)).unwrap(),
            Message::SyncStep1 { state_vector: &sv }
        );
        assert_eq!(
            decode(&encode_sync_step2(&up)).unwrap(),
            Message::SyncStep2 { update: &up }
        );
        assert_eq!(
            decode(&encode_update(&up)).unwrap(),
            Message::Update { update: &up }
        );
        assert_eq!(
            decode(&encode_awareness(&[0])).unwrap(),
            Message::Awareness { update: &[0] }
        );
        assert_eq!(
            decode(&encode_query_awareness()).unwrap(),
            Message::QueryAwareness
        );
        assert_eq!(
            decode(&encode_auth_denied("no")).unwrap(),
            Message::Auth { denied: Some("no") }
        );
        assert_eq!(
            decode(&KEEPALIVE).unwrap(),
            Message::Awareness { update: &[0] }
        );
    }

    #[test]
    fn documented_hex_examples() {
        // PROTOCOL.md: an empty document's SyncStep1 is 00 00 01 00.
        assert_eq!(encode_sync_step1(&[0]), vec![0x00, 0x00, 0x01, 0x00]);
        assert_eq!(encode_update(&[0, 0]), vec![0x00, 0x02, 0x02, 0x00, 0x00]);
    }

    #[test]
    fn tells_bad_frames_apart() {
        assert_eq!(decode(&[]), Err(DecodeError::Empty));
        assert_eq!(decode(&[0]), Err(DecodeError::Truncated));
        assert_eq!(decode(&[0, 2, 5, 1]), Err(DecodeError::Truncated));
        assert_eq!(decode(&[0, 2, 1, 0, 9]), Err(DecodeError::TrailingBytes(1)));
        assert_eq!(decode(&[0, 7, 0]), Err(DecodeError::UnknownSyncType(7)));
        assert_eq!(decode(&[9]), Err(DecodeError::UnknownType(9)));
        assert_eq!(decode(&[3, 3]), Err(DecodeError::TrailingBytes(1)));
        // an unterminated varint
        assert_eq!(decode(&[0x80]), Err(DecodeError::Truncated));
        assert_eq!(
            DecodeError::UnknownType(9).close_code(),
            CloseCode::UnsupportedData
        );
        assert_eq!(
            DecodeError::Truncated.close_code(),
            CloseCode::ProtocolError
        );
    }

    #[test]
    fn extension_tags_are_recognised() {
        assert_eq!(
            decode(&[100, 1, 2]).unwrap(),
            Message::Extension {
                tag: 100,
                body: &[1, 2]
            }
        );
    }
}
