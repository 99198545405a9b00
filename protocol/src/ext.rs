//! Extension negotiation: how Waymark adds message types without ever sending them to a client that
//! does not know them.
//!
//! A client asks for extensions with the `ext` query parameter of the WebSocket URL
//! (`/maps/{mapId}?ext=a,b`). A server that sees the parameter sends, as its very first message, an
//! [`MSG_EXTENSIONS`] message listing the extensions it accepted (possibly none). A client that did
//! not ask never receives a message type outside y-protocols' 0–3.

use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;

/// Message types 100–127 are reserved for Waymark extensions.
pub const EXTENSION_TAGS: std::ops::RangeInclusive<u8> = 100..=127;

/// Tag of the server's reply to an `ext` request.
pub const MSG_EXTENSIONS: u8 = 100;

/// The `events` extension: the server tells the client about versions and reviews of its map.
pub const EVENTS: &str = "events";

/// Tag of an event message (`events` extension): `[101, varString json]`.
pub const MSG_EVENT: u8 = 101;

/// The `workshop` extension: facilitation commands and each participant's view of the workshop.
pub const WORKSHOP: &str = "workshop";

/// Tag of a workshop command (`workshop` extension, client to server): `[102, varString json]`.
pub const MSG_WORKSHOP_COMMAND: u8 = 102;

/// Tag of a workshop state or refusal (`workshop` extension, server to client):
/// `[103, varString json]`.
pub const MSG_WORKSHOP_STATE: u8 = 103;

/// Extensions this version of the protocol defines.
pub const SUPPORTED: &[&str] = &[EVENTS, WORKSHOP];

/// Most extension names a client may request at once; further ones are ignored.
pub const MAX_REQUESTED: usize = 16;

/// Longest extension name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Parses the value of the `ext` query parameter: comma-separated names, duplicates and empty items
/// dropped, overlong names ignored.
pub fn parse_request(value: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in value.split(',').map(str::trim) {
        if name.is_empty() || name.len() > MAX_NAME_LEN || names.iter().any(|n| n == name) {
            continue;
        }
        if names.len() == MAX_REQUESTED {
            break;
        }
        names.push(name.to_owned());
    }
    names
}

/// Encodes the `extensions` message: `[100, varUint count, varString name...]`.
pub fn encode_accepted(names: &[&str]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(2 + names.iter().map(|n| n.len() + 1).sum::<usize>());
    buf.write_u8(MSG_EXTENSIONS);
    buf.write_var(names.len());
    for n in names {
        buf.write_string(n);
    }
    buf
}

/// Encodes an event message: `[101, varString json]`.
pub fn encode_event(json: &str) -> Vec<u8> {
    let mut buf = Vec::with_capacity(json.len() + 6);
    buf.write_u8(MSG_EVENT);
    buf.write_string(json);
    buf
}

/// Decodes an event message (for clients): its JSON text.
pub fn decode_event(msg: &[u8]) -> Option<String> {
    let mut c = Cursor::new(msg);
    if c.read_u8().ok()? != MSG_EVENT {
        return None;
    }
    let json = c.read_string().ok()?.to_owned();
    (!c.has_content()).then_some(json)
}

/// Encodes a message of one of the JSON-carrying extension types: `[tag, varString json]`.
pub fn encode_json(tag: u8, json: &str) -> Vec<u8> {
    let mut buf = Vec::with_capacity(json.len() + 6);
    buf.write_u8(tag);
    buf.write_string(json);
    buf
}

/// Decodes the body of a JSON-carrying extension message (what follows its tag): the JSON text,
/// or `None` if the body is not exactly one string.
pub fn decode_json_body(body: &[u8]) -> Option<&str> {
    let mut c = Cursor::new(body);
    let len: usize = c.read_var().ok()?;
    let rest = &body[c.next..];
    (rest.len() == len).then(|| std::str::from_utf8(rest).ok())?
}

/// Decodes a whole JSON-carrying message of type `tag` (for clients): its JSON text.
pub fn decode_json(tag: u8, msg: &[u8]) -> Option<&str> {
    match msg.split_first() {
        Some((&t, body)) if t == tag => decode_json_body(body),
        _ => None,
    }
}

/// Decodes an `extensions` message (for clients).
pub fn decode_accepted(msg: &[u8]) -> Option<Vec<String>> {
    let mut c = Cursor::new(msg);
    if c.read_u8().ok()? != MSG_EXTENSIONS {
        return None;
    }
    let n: usize = c.read_var().ok()?;
    let mut out = Vec::with_capacity(n.min(MAX_REQUESTED));
    for _ in 0..n {
        out.push(c.read_string().ok()?.to_owned());
    }
    (!c.has_content()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip() {
        let frame = encode_event(r#"{"type":"version.created"}"#);
        assert_eq!(frame[0], MSG_EVENT);
        assert_eq!(
            decode_event(&frame).as_deref(),
            Some(r#"{"type":"version.created"}"#)
        );
        assert_eq!(decode_event(&frame[..frame.len() - 1]), None);
        assert_eq!(decode_event(&encode_accepted(&[EVENTS])), None);
    }

    #[test]
    fn request_parsing_is_forgiving_but_bounded() {
        assert_eq!(parse_request("a, b,,a"), vec!["a", "b"]);
        assert!(parse_request("").is_empty());
        let many = (0..40)
            .map(|i| format!("x{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(parse_request(&many).len(), MAX_REQUESTED);
        assert!(parse_request(&"y".repeat(65)).is_empty());
    }

    #[test]
    fn json_messages_round_trip_and_trailing_bytes_are_refused() {
        let msg = encode_json(MSG_WORKSHOP_COMMAND, r#"{"op":"timer.stop"}"#);
        assert_eq!(
            decode_json(MSG_WORKSHOP_COMMAND, &msg),
            Some(r#"{"op":"timer.stop"}"#)
        );
        assert_eq!(decode_json(MSG_WORKSHOP_STATE, &msg), None);
        let mut longer = msg.clone();
        longer.push(0);
        assert_eq!(decode_json(MSG_WORKSHOP_COMMAND, &longer), None);
        assert_eq!(decode_json_body(&[5, b'a']), None);
        assert_eq!(decode_json_body(&[2, 0xff, 0xfe]), None);
    }

    #[test]
    fn accepted_round_trips() {
        assert_eq!(encode_accepted(&[]), vec![100, 0]);
        let m = encode_accepted(&["a", "bc"]);
        assert_eq!(m, vec![100, 2, 1, b'a', 2, b'b', b'c']);
        assert_eq!(decode_accepted(&m).unwrap(), vec!["a", "bc"]);
    }
}
