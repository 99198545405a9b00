//! The bytes nodes publish to each other on a map's Redis channel.
//!
//! ```text
//! version u8 (1) | kind u8 | node-id length u8 | node id (UTF-8) | incarnation u64 BE | seq u64 BE | payload
//! ```
//!
//! The channel names the map; the header names the sending node and the room (incarnation) that
//! sent it, so a message seen with `redis-cli subscribe` can be traced to both. `seq` counts the
//! messages one room incarnation published for its map, starting at 1: a receiver that sees it jump
//! knows it missed something (pub/sub is at-most-once) and re-reads the map from storage.

use bytes::{BufMut, Bytes, BytesMut};

const VERSION: u8 = 1;

/// Prefix of every map's channel; the map id follows.
pub const CHANNEL_PREFIX: &str = "waymark:map:";

pub fn channel(map: &str) -> String {
    format!("{CHANNEL_PREFIX}{map}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Yjs v1 update, already durable in the shared store.
    Update = 0,
    /// A y-protocols awareness update from the sender's own clients.
    Awareness = 1,
    /// "I have published up to `seq`": sent when a room loads, after it re-synchronised, and after
    /// publishes failed. Receivers behind `seq` re-read the map; every receiver answers with its own
    /// clients' presence. Carries no payload and does not consume a `seq`.
    Hello = 2,
    /// The map was deleted: close its editors and unload it.
    Deleted = 3,
    /// An event for clients of the `events` extension (JSON). Not sequence-tracked: an event
    /// missed is not a document change missed.
    Event = 4,
    /// Workshop state entries (JSON), already durable in the shared store. Sequence-tracked like
    /// updates: a gap makes the receiver re-read them.
    Workshop = 5,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            0 => Kind::Update,
            1 => Kind::Awareness,
            2 => Kind::Hello,
            3 => Kind::Deleted,
            4 => Kind::Event,
            5 => Kind::Workshop,
            _ => return None,
        })
    }
}

/// A decoded message; `payload` shares the received buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub kind: Kind,
    pub node: String,
    pub incarnation: u64,
    pub seq: u64,
    pub payload: Bytes,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("message too short")]
    Truncated,
    #[error("unsupported message version {0}")]
    Version(u8),
    #[error("unknown message kind {0}")]
    Kind(u8),
    #[error("node id is not UTF-8")]
    NodeId,
}

pub fn encode(kind: Kind, node: &str, incarnation: u64, seq: u64, payload: &[u8]) -> Bytes {
    debug_assert!(node.len() <= u8::MAX as usize);
    let mut b = BytesMut::with_capacity(3 + node.len() + 16 + payload.len());
    b.put_u8(VERSION);
    b.put_u8(kind as u8);
    b.put_u8(node.len() as u8);
    b.put_slice(node.as_bytes());
    b.put_u64(incarnation);
    b.put_u64(seq);
    b.put_slice(payload);
    b.freeze()
}

pub fn decode(msg: Bytes) -> Result<Envelope, WireError> {
    let [version, kind, len, ..] = msg[..] else {
        return Err(WireError::Truncated);
    };
    if version != VERSION {
        return Err(WireError::Version(version));
    }
    let kind = Kind::from_u8(kind).ok_or(WireError::Kind(kind))?;
    let node_end = 3 + len as usize;
    let header_end = node_end + 16;
    if msg.len() < header_end {
        return Err(WireError::Truncated);
    }
    let node = std::str::from_utf8(&msg[3..node_end])
        .map_err(|_| WireError::NodeId)?
        .to_owned();
    let number = |at: usize| {
        let mut n = [0; 8];
        n.copy_from_slice(&msg[at..at + 8]);
        u64::from_be_bytes(n)
    };
    Ok(Envelope {
        kind,
        node,
        incarnation: number(node_end),
        seq: number(node_end + 8),
        payload: msg.slice(header_end..),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let b = encode(Kind::Update, "node-a1", 7, 42, &[0, 1, 2]);
        assert_eq!(
            decode(b).unwrap(),
            Envelope {
                kind: Kind::Update,
                node: "node-a1".into(),
                incarnation: 7,
                seq: 42,
                payload: Bytes::from_static(&[0, 1, 2]),
            }
        );
        let hello = decode(encode(Kind::Hello, "n", 1, 0, &[])).unwrap();
        assert_eq!((hello.kind, hello.payload.len()), (Kind::Hello, 0));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(
            decode(Bytes::from_static(&[1, 0])),
            Err(WireError::Truncated)
        );
        assert_eq!(
            decode(Bytes::from_static(&[9, 0, 0])),
            Err(WireError::Version(9))
        );
        assert_eq!(
            decode(Bytes::from_static(&[1, 77, 0])),
            Err(WireError::Kind(77))
        );
        // Header claims a 5-byte node id but the message ends early.
        assert_eq!(
            decode(Bytes::from_static(&[1, 0, 5, b'a', b'b'])),
            Err(WireError::Truncated)
        );
        let mut bad = encode(Kind::Update, "ab", 1, 1, &[]).to_vec();
        bad[3] = 0xff;
        assert_eq!(decode(Bytes::from(bad)), Err(WireError::NodeId));
    }
}
