//! Markers: how a receiver recognises which scheduled send a delivery belongs to, without decoding
//! the document. A sender writes the text `~L<sender>.<seq>~` into the document or its presence
//! state; every server forwards strings verbatim (re-encoded updates and awareness JSON keep them), so
//! scanning the raw frame finds them even when a server merges or re-encodes updates.

use memchr::memmem;

pub fn marker(sender: u32, seq: u32) -> String {
    format!("~L{sender}.{seq}~")
}

/// Calls `f(sender, seq)` for every marker in `frame`.
pub fn scan(frame: &[u8], mut f: impl FnMut(u32, u32)) {
    for start in memmem::find_iter(frame, b"~L") {
        if let Some((sender, seq)) = parse(&frame[start + 2..]) {
            f(sender, seq);
        }
    }
}

fn parse(rest: &[u8]) -> Option<(u32, u32)> {
    let (sender, rest) = number(rest)?;
    let rest = rest.strip_prefix(b".")?;
    let (seq, rest) = number(rest)?;
    rest.starts_with(b"~").then_some((sender, seq))
}

fn number(s: &[u8]) -> Option<(u32, &[u8])> {
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let n = std::str::from_utf8(&s[..digits]).ok()?.parse().ok()?;
    Some((n, &s[digits..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_marker_and_ignores_look_alikes() {
        let frame = b"\x00\x02junk~L12.7~more~L3.0~~Lx.1~~L4.5";
        let mut found = vec![];
        scan(frame, |a, b| found.push((a, b)));
        assert_eq!(found, vec![(12, 7), (3, 0)]);
        assert_eq!(marker(12, 7), "~L12.7~");
    }
}
