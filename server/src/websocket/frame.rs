//! Frame headers: parsing what clients send (masked, RFC 6455 §5.2) and writing what the server
//! sends (unmasked), unmasking, and the close frame's payload.

use std::borrow::Cow;
use waymark_protocol::CloseCode;

pub const OP_CONTINUE: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// Longest server frame header: two bytes and a 64-bit length.
pub const MAX_HEADER: usize = 10;

/// A client frame's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub fin: bool,
    pub opcode: u8,
    pub mask: [u8; 4],
    pub len: u64,
    /// Bytes the header took.
    pub size: usize,
}

impl Header {
    pub fn is_control(&self) -> bool {
        self.opcode & 0x8 != 0
    }
}

/// A frame that breaks RFC 6455 before its payload is even read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

/// Parses the header at the start of `buf`: `Ok(None)` if more bytes are needed.
pub fn parse(buf: &[u8]) -> Result<Option<Header>, Malformed> {
    let [b0, b1, ..] = *buf else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(Malformed("reserved bits set without an extension"));
    }
    let opcode = b0 & 0x0F;
    if !matches!(
        opcode,
        OP_CONTINUE | OP_TEXT | OP_BINARY | OP_CLOSE | OP_PING | OP_PONG
    ) {
        return Err(Malformed("reserved opcode"));
    }
    let fin = b0 & 0x80 != 0;
    if b1 & 0x80 == 0 {
        return Err(Malformed("client frames must be masked"));
    }
    let (len, at) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => {
                let len = u64::from_be_bytes(b.try_into().expect("eight bytes"));
                if len >> 63 != 0 {
                    return Err(Malformed("frame length has its top bit set"));
                }
                (len, 10)
            }
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    let Some(mask) = buf.get(at..at + 4) else {
        return Ok(None);
    };
    let header = Header {
        fin,
        opcode,
        mask: mask.try_into().expect("four bytes"),
        len,
        size: at + 4,
    };
    if header.is_control() {
        if !fin {
            return Err(Malformed("fragmented control frame"));
        }
        if len > 125 {
            return Err(Malformed("control frame longer than 125 bytes"));
        }
    }
    Ok(Some(header))
}

/// Unmasks (or masks) `data` in place; `offset` is where `data` starts in the frame's payload.
pub fn unmask(data: &mut [u8], mask: [u8; 4], offset: usize) {
    let mut key = mask;
    key.rotate_left(offset % 4);
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let v = u64::from_ne_bytes((&*chunk).try_into().expect("eight bytes")) ^ wide;
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

/// The header of a server frame (final, unmasked) carrying `len` bytes; returns its length.
pub fn encode(opcode: u8, len: usize, out: &mut [u8; MAX_HEADER]) -> usize {
    out[0] = 0x80 | opcode;
    if len < 126 {
        out[1] = len as u8;
        2
    } else if let Ok(short) = u16::try_from(len) {
        out[1] = 126;
        out[2..4].copy_from_slice(&short.to_be_bytes());
        4
    } else {
        out[1] = 127;
        out[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    }
}

/// The payload of a close frame the server sends.
pub fn close_payload(code: CloseCode, reason: &str) -> Vec<u8> {
    let reason = truncate(reason, 123);
    let mut out = Vec::with_capacity(2 + reason.len());
    out.extend_from_slice(&code.code().to_be_bytes());
    out.extend_from_slice(reason.as_bytes());
    out
}

/// Close reasons are limited to 123 bytes (a control frame's 125 less the code).
fn truncate(reason: &str, max: usize) -> &str {
    if reason.len() <= max {
        return reason;
    }
    let mut cut = max;
    while !reason.is_char_boundary(cut) {
        cut -= 1;
    }
    &reason[..cut]
}

/// A client's close frame, checked: its code, if it sent one.
pub fn parse_close(payload: &[u8]) -> Result<Option<u16>, (CloseCode, Cow<'static, str>)> {
    match payload {
        [] => Ok(None),
        [_] => Err((
            CloseCode::ProtocolError,
            "close frame with a one-byte payload".into(),
        )),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            // RFC 6455 §7.4: 1000–1003 and 1007–1014 are defined for endpoints to send,
            // 3000–4999 are for libraries and applications; 1004–1006 and 1015 must not be sent.
            let valid = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            if !valid {
                return Err((
                    CloseCode::ProtocolError,
                    format!("close code {code} may not be sent").into(),
                ));
            }
            if std::str::from_utf8(reason).is_err() {
                return Err((
                    CloseCode::InvalidPayload,
                    "close reason is not UTF-8".into(),
                ));
            }
            Ok(Some(code))
        }
    }
}

/// A client frame as a client would send it (for tests): `b0` is FIN, RSV and opcode.
#[cfg(test)]
pub(crate) fn masked(b0: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
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
    let mut body = payload.to_vec();
    unmask(&mut body, mask, 0);
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_length_forms_and_waits_for_missing_bytes() {
        for len in [0usize, 125, 126, 65535, 65536] {
            let frame = masked(0x82, &vec![7; len], [1, 2, 3, 4]);
            let header = parse(&frame).unwrap().unwrap();
            assert_eq!(header.len, len as u64);
            assert_eq!(header.opcode, OP_BINARY);
            assert!(header.fin);
            assert_eq!(header.size + len, frame.len());
            for cut in 0..header.size {
                assert_eq!(parse(&frame[..cut]), Ok(None), "len {len}, cut {cut}");
            }
        }
    }

    #[test]
    fn refuses_what_rfc_6455_forbids() {
        let cases: [(&[u8], &str); 6] = [
            (
                &[0xC2, 0x80, 0, 0, 0, 0],
                "reserved bits set without an extension",
            ),
            (&[0x83, 0x80, 0, 0, 0, 0], "reserved opcode"),
            (&[0x8B, 0x80, 0, 0, 0, 0], "reserved opcode"),
            (&[0x82, 0x00], "client frames must be masked"),
            (&[0x09, 0x80, 0, 0, 0, 0], "fragmented control frame"),
            (
                &[0x89, 0xFE, 0, 126, 0, 0, 0, 0],
                "control frame longer than 125 bytes",
            ),
        ];
        for (bytes, why) in cases {
            assert_eq!(parse(bytes), Err(Malformed(why)), "{bytes:02x?}");
        }
        let huge = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(parse(&huge).is_err());
    }

    #[test]
    fn unmasking_from_any_offset_matches_byte_by_byte() {
        let mask = [0x12, 0x34, 0x56, 0x78];
        let data: Vec<u8> = (0..=255).collect();
        let expected: Vec<u8> = data
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect();
        for split in [0, 1, 3, 7, 8, 13, 100] {
            let mut got = data.clone();
            let (a, b) = got.split_at_mut(split);
            unmask(a, mask, 0);
            unmask(b, mask, split);
            assert_eq!(got, expected, "split at {split}");
        }
    }

    #[test]
    fn encodes_server_headers() {
        let header = |op, len| {
            let mut h = [0; MAX_HEADER];
            let n = encode(op, len, &mut h);
            h[..n].to_vec()
        };
        assert_eq!(header(OP_BINARY, 3), [0x82, 3]);
        assert_eq!(header(OP_BINARY, 300), [0x82, 126, 1, 44]);
        assert_eq!(
            header(OP_PING, 70000),
            [0x89, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]
        );
    }

    #[test]
    fn checks_close_frames() {
        assert_eq!(parse_close(&[]), Ok(None));
        assert_eq!(parse_close(&[0x03, 0xE8, b'o', b'k']), Ok(Some(1000)));
        assert_eq!(parse_close(&[0x0F, 0xA0]), Ok(Some(4000)));
        assert_eq!(parse_close(&[3]).unwrap_err().0, CloseCode::ProtocolError);
        for bad in [999u16, 1004, 1005, 1006, 1015, 2999, 5000] {
            let b = bad.to_be_bytes();
            assert_eq!(
                parse_close(&b).unwrap_err().0,
                CloseCode::ProtocolError,
                "{bad}"
            );
        }
        assert_eq!(
            parse_close(&[0x03, 0xE8, 0xFF]).unwrap_err().0,
            CloseCode::InvalidPayload
        );
        let long = "é".repeat(100);
        let payload = close_payload(CloseCode::Normal, &long);
        assert!(payload.len() <= 125);
        assert!(std::str::from_utf8(&payload[2..]).is_ok());
    }
}
