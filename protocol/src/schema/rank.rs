//! Fractional ranks: the order of stages, steps, lanes, cards and other entities.
//!
//! A rank is a non-empty string of base-62 digits (`0-9`, `A-Z`, `a-z`, in ASCII order) that does not
//! end in `0`. Entities sort by rank, then by id. A new rank can always be made between two others,
//! so moving an entity rewrites only its own `rank` field: concurrent moves never duplicate or lose an
//! entity (the last write to that one field wins) and never disturb the others.

const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE: u32 = 62;

fn digit(c: u8) -> Option<u32> {
    DIGITS.iter().position(|&d| d == c).map(|p| p as u32)
}

/// Whether `rank` is well-formed.
pub fn is_valid(rank: &str) -> bool {
    !rank.is_empty() && !rank.ends_with('0') && rank.bytes().all(|c| digit(c).is_some())
}

/// A rank strictly between `before` and `after` (either may be absent: the start or the end).
/// Invalid inputs are treated as absent, and `before >= after` as if `after` were absent, so the
/// result is always a valid rank greater than `before`.
pub fn between(before: Option<&str>, after: Option<&str>) -> String {
    let parse = |r: &str| r.bytes().filter_map(digit).collect::<Vec<u32>>();
    let lo = before
        .filter(|r| is_valid(r))
        .map(parse)
        .unwrap_or_default();
    let hi = after
        .filter(|r| is_valid(r))
        .map(parse)
        .filter(|hi| lo.is_empty() || lo < *hi);
    render(&midpoint(&lo, hi.as_deref()))
}

/// Digits strictly between `lo` (read as padded with zeros) and `hi` (absent: no upper bound).
/// `hi`, when given, is greater than `lo` and does not end in zero.
fn midpoint(lo: &[u32], hi: Option<&[u32]>) -> Vec<u32> {
    let d_lo = lo.first().copied().unwrap_or(0);
    let rest = lo.get(1..).unwrap_or(&[]);
    let Some(hi) = hi else {
        if lo.is_empty() {
            // The first rank sits in the middle, leaving room on both sides.
            return vec![BASE / 2];
        }
        // Appending steps by one digit, so ranks grow by a digit only every ~60 appends.
        if d_lo + 1 < BASE {
            return vec![d_lo + 1];
        }
        let mut out = vec![d_lo];
        out.extend(midpoint(rest, None));
        return out;
    };
    let d_hi = hi[0];
    if d_lo == d_hi {
        // Common leading digit: the answer shares it.
        let mut out = vec![d_lo];
        out.extend(midpoint(rest, Some(&hi[1..])));
        return out;
    }
    if d_hi > d_lo + 1 {
        // Prepending steps by one digit too; elsewhere, split the gap.
        return vec![if lo.is_empty() {
            d_hi - 1
        } else {
            (d_lo + d_hi) / 2
        }];
    }
    // Adjacent digits: a prefix of `hi` is above `lo`, or go deeper below the ceiling.
    if hi.len() > 1 {
        return vec![d_hi];
    }
    let mut out = vec![d_lo];
    out.extend(midpoint(rest, None));
    out
}

fn render(digits: &[u32]) -> String {
    let mut s: String = digits.iter().map(|&d| DIGITS[d as usize] as char).collect();
    while s.ends_with('0') {
        s.pop();
    }
    s
}

/// `n` ranks in increasing order, evenly spread, for building a map from scratch.
pub fn spread(n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    let mut prev: Option<String> = None;
    for _ in 0..n {
        let next = between(prev.as_deref(), None);
        prev = Some(next.clone());
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(a: Option<&str>, b: Option<&str>) -> String {
        let m = between(a, b);
        assert!(is_valid(&m), "{m:?} between {a:?} and {b:?}");
        if let Some(a) = a {
            assert!(a < m.as_str(), "{a:?} < {m:?}");
        }
        if let Some(b) = b {
            assert!(m.as_str() < b, "{m:?} < {b:?}");
        }
        m
    }

    #[test]
    fn always_finds_room() {
        check(None, None);
        check(Some("V"), None);
        check(None, Some("V"));
        check(Some("V"), Some("W"));
        check(Some("V"), Some("V1"));
        check(Some("Vz"), Some("W"));
        check(Some("1"), Some("11"));
        check(None, Some("1"));
        check(None, Some("01"));
        check(Some("zzz"), None);
    }

    #[test]
    fn repeated_insertion_at_one_place_stays_ordered() {
        // Always inserting right after the first item (the worst case for rank length).
        let first = check(None, None);
        let mut upper = check(Some(&first), None);
        for _ in 0..500 {
            upper = check(Some(&first), Some(&upper));
        }
        assert!(upper.len() < 120, "rank grew to {} digits", upper.len());
        // And always appending at the end stays short.
        let ranks = spread(1000);
        assert!(ranks.windows(2).all(|w| w[0] < w[1]));
        assert!(ranks.last().unwrap().len() < 40);
    }

    #[test]
    fn random_insertions_keep_a_strict_order() {
        let mut seed: u64 = 0x5eed;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        let mut ranks: Vec<String> = Vec::new();
        for _ in 0..3000 {
            let at = next(ranks.len() + 1);
            let before = at.checked_sub(1).map(|i| ranks[i].as_str());
            let after = ranks.get(at).map(String::as_str);
            let r = check(before, after);
            ranks.insert(at, r);
        }
        assert!(ranks.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn bad_bounds_are_ignored_not_trusted() {
        assert!(is_valid(&between(Some("not a rank!"), None)));
        let m = between(Some("W"), Some("V")); // reversed: treated as "after W"
        assert!(m.as_str() > "W");
        assert!(!is_valid("V0") && !is_valid("") && is_valid("V1"));
    }
}
