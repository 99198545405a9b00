//! Merging Yjs updates into one snapshot, for compactions that must keep what other nodes appended.

use crate::store::Seq;
use std::fmt;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

/// Where a part of a merged snapshot came from, to say which one could not be applied.
pub(super) enum Part {
    Stored,
    Caller,
    Log(Seq),
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Stored => f.write_str("the stored snapshot"),
            Part::Caller => f.write_str("the snapshot to store"),
            Part::Log(seq) => write!(f, "logged update {seq}"),
        }
    }
}

/// The union of Yjs updates, as one v1 update: applying them to a fresh document in any order gives
/// the same state (CRDT), and the encoding of the whole state covers all of them.
pub(super) fn merge(parts: Vec<(Part, Vec<u8>)>) -> Result<Vec<u8>, String> {
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        for (part, bytes) in parts {
            let update =
                Update::decode_v1(&bytes).map_err(|e| format!("{part} cannot be decoded: {e}"))?;
            txn.apply_update(update)
                .map_err(|e| format!("{part} cannot be applied: {e}"))?;
        }
    }
    Ok(doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_every_part_and_names_a_bad_one() {
        use yrs::{GetString, Text};
        let (a, b) = (Doc::with_client_id(1), Doc::with_client_id(2));
        let edit = |doc: &Doc, s: &str| {
            let text = doc.get_or_insert_text("t");
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, 0, s);
            txn.encode_update_v1()
        };
        let (ua, ub) = (edit(&a, "a"), edit(&b, "b"));
        let merged = merge(vec![(Part::Caller, ua.clone()), (Part::Log(7), ub)]).unwrap();
        let doc = Doc::new();
        let text = doc.get_or_insert_text("t");
        doc.transact_mut()
            .apply_update(Update::decode_v1(&merged).unwrap())
            .unwrap();
        let mut content: Vec<char> = text.get_string(&doc.transact()).chars().collect();
        content.sort_unstable();
        assert_eq!(content, ['a', 'b']);

        let err = merge(vec![
            (Part::Caller, ua),
            (Part::Log(9), vec![0xff, 0xff, 0xff]),
        ])
        .unwrap_err();
        assert!(err.contains("logged update 9"), "{err}");
    }
}
