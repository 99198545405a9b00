//! Checks a client's state vectors, updates and awareness updates before they reach a Yjs
//! decoder: every declared count must fit in the bytes that follow, nesting is bounded, client ids
//! fit in 53 bits (what JavaScript numbers hold), and only content types stock clients write are
//! accepted.
//!
//! Why: yrs sizes hash tables from declared counts before reading any entry, so a few bytes
//! declaring a billion entries cost a gigabyte; it recurses on nested values without a limit; and
//! it reads the legacy JSON content type (2) differently from how it writes it, so a document that
//! took one could no longer be loaded once compacted. The walk follows the v1 update encoding of
//! Yjs (`UpdateEncoderV1`, lib0's `writeAny`).

/// Deepest nesting of values (arrays and objects inside `Any` content) accepted.
pub const MAX_DEPTH: usize = 64;

/// Largest client id: 2^53 - 1, the largest integer a JavaScript number holds exactly.
pub const MAX_CLIENT: u64 = (1 << 53) - 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundsError {
    #[error("truncated")]
    Truncated,
    #[error("a count of {count} does not fit in the {remaining} bytes that follow")]
    Count { count: u64, remaining: usize },
    #[error("client id {0} is larger than 2^53 - 1")]
    Client(u64),
    #[error("clocks run past 2^32 - 1")]
    Clock,
    #[error("values nested deeper than {MAX_DEPTH}")]
    Depth,
    #[error("content type {0} is not accepted")]
    Content(u8),
    #[error("value type {0} is unknown")]
    Value(u8),
    #[error("{0} bytes left over")]
    Trailing(usize),
}

type Result<T> = std::result::Result<T, BoundsError>;

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn u8(&mut self) -> Result<u8> {
        let b = *self.buf.get(self.pos).ok_or(BoundsError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn skip(&mut self, n: usize) -> Result<()> {
        if n > self.remaining() {
            return Err(BoundsError::Truncated);
        }
        self.pos += n;
        Ok(())
    }

    /// An unsigned LEB128 number of at most 64 bits.
    fn var_uint(&mut self) -> Result<u64> {
        let mut n: u64 = 0;
        for shift in (0..70).step_by(7) {
            let b = self.u8()?;
            if shift < 64 {
                n |= u64::from(b & 0x7f) << shift;
            }
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(BoundsError::Truncated)
    }

    /// lib0's signed varint: sign in the first byte.
    fn var_int(&mut self) -> Result<()> {
        let mut b = self.u8()?;
        let mut bytes = 1;
        while b & 0x80 != 0 {
            b = self.u8()?;
            bytes += 1;
            if bytes > 10 {
                return Err(BoundsError::Truncated);
            }
        }
        Ok(())
    }

    /// A count of entries each taking at least `min_entry` bytes.
    fn count(&mut self, min_entry: usize) -> Result<usize> {
        let count = self.var_uint()?;
        let remaining = self.remaining();
        if count.saturating_mul(min_entry as u64) > remaining as u64 {
            return Err(BoundsError::Count { count, remaining });
        }
        Ok(count as usize)
    }

    fn client(&mut self) -> Result<u64> {
        let c = self.var_uint()?;
        if c > MAX_CLIENT {
            return Err(BoundsError::Client(c));
        }
        Ok(c)
    }

    /// A clock (or a length of clocks): 32 bits.
    fn clock(&mut self) -> Result<u64> {
        let c = self.var_uint()?;
        if c > u64::from(u32::MAX) {
            return Err(BoundsError::Clock);
        }
        Ok(c)
    }

    fn bytes(&mut self) -> Result<()> {
        self.bytes_len().map(|_| ())
    }

    /// Skips a length-prefixed byte string, returning its length.
    fn bytes_len(&mut self) -> Result<usize> {
        let n = self.count(1)?;
        self.skip(n)?;
        Ok(n)
    }

    fn end(&self) -> Result<()> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(BoundsError::Trailing(n)),
        }
    }
}

/// A state vector (sync step 1's payload).
pub fn check_state_vector(buf: &[u8]) -> Result<()> {
    let mut c = Cursor { buf, pos: 0 };
    for _ in 0..c.count(2)? {
        c.client()?;
        c.clock()?;
    }
    c.end()
}

/// An awareness update: client id, clock and JSON state per entry.
pub fn check_awareness(buf: &[u8]) -> Result<()> {
    let mut c = Cursor { buf, pos: 0 };
    for _ in 0..c.count(3)? {
        c.client()?;
        c.clock()?;
        c.bytes()?;
    }
    c.end()
}

/// A v1 update (sync step 2's and update's payload).
pub fn check_update(buf: &[u8]) -> Result<()> {
    let mut c = Cursor { buf, pos: 0 };
    for _ in 0..c.count(3)? {
        let blocks = c.count(1)?;
        c.client()?;
        // Each block takes clocks from here on: they must all stay 32-bit (yrs adds them up
        // unchecked, and would wrap around).
        let mut clock = c.clock()?;
        for _ in 0..blocks {
            clock += block(&mut c)?;
            if clock > u64::from(u32::MAX) {
                return Err(BoundsError::Clock);
            }
        }
    }
    // The delete set.
    for _ in 0..c.count(2)? {
        c.client()?;
        for _ in 0..c.count(2)? {
            if c.clock()? + c.clock()? > u64::from(u32::MAX) {
                return Err(BoundsError::Clock);
            }
        }
    }
    c.end()
}

/// One block; returns how many clocks it takes at most (a string's UTF-16 length is at most its
/// UTF-8 length).
fn block(c: &mut Cursor) -> Result<u64> {
    let info = c.u8()?;
    let content = info & 0x1f;
    match content {
        // GC and Skip: a length.
        0 | 10 => return c.clock(),
        1 | 3..=9 => {}
        other => return Err(BoundsError::Content(other)),
    }
    let has_origin = info & 0x80 != 0;
    let has_right_origin = info & 0x40 != 0;
    if has_origin {
        c.client()?;
        c.clock()?;
    }
    if has_right_origin {
        c.client()?;
        c.clock()?;
    }
    if !has_origin && !has_right_origin {
        // The parent: a root's name, or the id of the item holding the type.
        if c.var_uint()? == 1 {
            c.bytes()?;
        } else {
            c.client()?;
            c.clock()?;
        }
        if info & 0x20 != 0 {
            c.bytes()?;
        }
    }
    Ok(match content {
        // Deleted: a length.
        1 => c.clock()?,
        // String: one clock per UTF-16 unit.
        4 => c.bytes_len()? as u64,
        // Binary, Embed.
        3 | 5 => {
            c.bytes()?;
            1
        }
        // Format: key and value.
        6 => {
            c.bytes()?;
            c.bytes()?;
            1
        }
        // Type: its kind (Yjs knows 0-6), and a name for XML elements and hooks.
        7 => {
            let kind = c.var_uint()?;
            if kind > 6 {
                return Err(BoundsError::Content(7));
            }
            if kind == 3 || kind == 5 {
                c.bytes()?;
            }
            1
        }
        // Any: values, one clock each.
        8 => {
            let n = c.count(1)?;
            for _ in 0..n {
                any(c, 0)?;
            }
            n as u64
        }
        // Doc: guid and options.
        9 => {
            c.bytes()?;
            any(c, 0)?;
            1
        }
        _ => unreachable!("filtered above"),
    })
}

/// One lib0 `Any` value.
fn any(c: &mut Cursor, depth: usize) -> Result<()> {
    if depth >= MAX_DEPTH {
        return Err(BoundsError::Depth);
    }
    match c.u8()? {
        // undefined, null, false, true
        127 | 126 | 121 | 120 => Ok(()),
        125 => c.var_int(),
        124 => c.skip(4),
        123 | 122 => c.skip(8),
        119 | 116 => c.bytes(),
        118 => {
            for _ in 0..c.count(2)? {
                c.bytes()?;
                any(c, depth + 1)?;
            }
            Ok(())
        }
        117 => {
            for _ in 0..c.count(1)? {
                any(c, depth + 1)?;
            }
            Ok(())
        }
        other => Err(BoundsError::Value(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::encoder::Encode;
    use yrs::{Any, Array, Doc, GetString, Map, ReadTxn, StateVector, Text, Transact, WriteTxn};

    #[test]
    fn real_updates_pass() {
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            let m = txn.get_or_insert_map("cards");
            m.insert(&mut txn, "a", "text");
            m.insert(&mut txn, "n", 4.5);
            m.insert(&mut txn, "big", Any::Number(yrs::Number::Int(1 << 60)));
            m.insert(&mut txn, "small", Any::Number(yrs::Number::Int(-7)));
            m.insert(
                &mut txn,
                "nested",
                Any::from(std::collections::HashMap::from([(
                    "k".to_owned(),
                    Any::Array(vec![Any::Bool(true), Any::Null, Any::Undefined].into()),
                )])),
            );
            m.insert(&mut txn, "bytes", Any::Buffer(vec![1u8, 2, 3].into()));
            let inner = m.insert(&mut txn, "inner", yrs::MapPrelim::default());
            inner.insert(&mut txn, "x", 1);
            let t = txn.get_or_insert_text("notes");
            t.insert(&mut txn, 0, "hello");
            t.insert(&mut txn, 2, "XY");
            t.remove_range(&mut txn, 0, 3);
            let a = txn.get_or_insert_array("list");
            a.push_back(&mut txn, "one");
            a.push_back(&mut txn, yrs::ArrayPrelim::default());
            m.remove(&mut txn, "a");
        }
        let txn = doc.transact();
        assert_eq!(txn.get_text("notes").unwrap().get_string(&txn), "Yllo");
        let update = txn.encode_state_as_update_v1(&StateVector::default());
        assert_eq!(check_update(&update), Ok(()));
        assert_eq!(check_update(&[0, 0]), Ok(()));
        assert_eq!(check_state_vector(&txn.state_vector().encode_v1()), Ok(()));
        assert_eq!(check_state_vector(&[0]), Ok(()));
        // Every truncation is caught, never read past.
        for cut in 0..update.len() {
            assert!(check_update(&update[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn bombs_and_oddities_are_refused() {
        // A state vector declaring 2^29 entries in 8 bytes.
        assert!(matches!(
            check_state_vector(&[0x80, 0x80, 0x80, 0x80, 0x02]),
            Err(BoundsError::Count { .. })
        ));
        assert!(matches!(
            check_update(&[0x80, 0x80, 0x80, 0x80, 0x01]),
            Err(BoundsError::Count { .. })
        ));
        assert!(matches!(
            check_awareness(&[0x80, 0x80, 0x80, 0x80, 0x01]),
            Err(BoundsError::Count { .. })
        ));
        // A client id over 53 bits.
        assert_eq!(
            check_state_vector(&[1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0]),
            Err(BoundsError::Client(1 << 53))
        );
        // The legacy JSON content type.
        let json = [1, 1, 1, 0, 0x02, 1, 1, b'x', 1, 1, b'k', 0];
        assert_eq!(check_update(&json), Err(BoundsError::Content(2)));
        // Values nested deeper than the limit: [[[[...]]]].
        let mut deep = vec![1, 1, 1, 0, 0x08, 1, 1, b'x', 1];
        for _ in 0..100 {
            deep.extend([117, 1]);
        }
        deep.push(126);
        deep.push(0);
        assert_eq!(check_update(&deep), Err(BoundsError::Depth));
        assert_eq!(check_state_vector(&[0, 0]), Err(BoundsError::Trailing(1)));
        // Clocks that would wrap around: a string of 4 at clock 2^32 - 2.
        let wrap = [
            1, 1, 1, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0x04, 1, 1, b'x', 4, b'a', b'b', b'c', b'd', 0,
        ];
        assert_eq!(check_update(&wrap), Err(BoundsError::Clock));
        assert_eq!(
            check_update(&[0, 1, 1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 1]),
            Err(BoundsError::Clock)
        );
    }
}
