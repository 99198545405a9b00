//! Comments (the `comments` root, `SCHEMA.md` §5.13): notes on a map or one of its entities,
//! written by anyone who may read it with at least the commenter role.

use serde::{Deserialize, Serialize};
use yrs::{Any, Map, MapPrelim, Number, Out, ReadTxn, TransactionMut, WriteTxn};

pub const ROOT: &str = "comments";

/// Longest comment text, in bytes.
pub const MAX_TEXT: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub id: String,
    /// What it is about: `<collection>/<entityId>` (e.g. `cards/c1`), or absent for the whole map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub text: String,
    /// Who wrote it (a display name or user id).
    pub author: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub resolved: bool,
}

/// Why a comment cannot be written.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CommentError {
    #[error("a comment needs a text of 1 to {MAX_TEXT} bytes")]
    Text,
    #[error("target must be `<collection>/<entityId>` of one of the map's collections, not {0:?}")]
    Target(String),
}

/// Checks a comment's target: a known collection and a valid entity id.
pub fn check_target(target: &str) -> Result<(), CommentError> {
    let bad = || CommentError::Target(target.chars().take(100).collect());
    let (collection, id) = target.split_once('/').ok_or_else(bad)?;
    let known = super::Collection::ALL
        .iter()
        .any(|c| c.root() == collection);
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if known && id_ok { Ok(()) } else { Err(bad()) }
}

/// Adds a comment under `id` (new and unique) in the caller's transaction.
pub fn add(
    txn: &mut TransactionMut,
    id: &str,
    target: Option<&str>,
    text: &str,
    author: &str,
    created_at: i64,
) -> Result<Comment, CommentError> {
    if text.trim().is_empty() || text.len() > MAX_TEXT {
        return Err(CommentError::Text);
    }
    if let Some(t) = target {
        check_target(t)?;
    }
    let mut fields: Vec<(&str, Any)> = vec![
        ("text", Any::from(text)),
        ("author", Any::from(author)),
        ("createdAt", Any::from(created_at as f64)),
        ("resolved", Any::Bool(false)),
    ];
    if let Some(t) = target {
        fields.push(("target", Any::from(t)));
    }
    let root = txn.get_or_insert_map(ROOT);
    root.insert(
        txn,
        id,
        MapPrelim::from_iter(fields.into_iter().map(|(k, v)| (k.to_owned(), v))),
    );
    Ok(Comment {
        id: id.to_owned(),
        target: target.map(str::to_owned),
        text: text.to_owned(),
        author: author.to_owned(),
        created_at,
        resolved: false,
    })
}

/// Every comment, oldest first; entries that are not maps are skipped, missing fields read as
/// empty.
pub fn read<T: ReadTxn>(txn: &T) -> Vec<Comment> {
    let Some(root) = txn.get_map(ROOT) else {
        return Vec::new();
    };
    let mut comments: Vec<Comment> = root
        .iter(txn)
        .filter_map(|(id, value)| {
            let Out::YMap(entry) = value else {
                return None;
            };
            let text = |key: &str| match entry.get(txn, key) {
                Some(Out::Any(Any::String(s))) => Some(s.to_string()),
                Some(Out::YText(t)) => Some(yrs::GetString::get_string(&t, txn)),
                _ => None,
            };
            Some(Comment {
                id: id.to_owned(),
                target: text("target"),
                text: text("text").unwrap_or_default(),
                author: text("author").unwrap_or_default(),
                created_at: match entry.get(txn, "createdAt") {
                    Some(Out::Any(Any::Number(Number::Float(n)))) => n as i64,
                    Some(Out::Any(Any::Number(Number::Int(n)))) => n,
                    _ => 0,
                },
                resolved: matches!(entry.get(txn, "resolved"), Some(Out::Any(Any::Bool(true)))),
            })
        })
        .collect();
    comments.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    comments
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Doc, Transact};

    #[test]
    fn add_and_read() {
        let doc = Doc::new();
        let mut txn = doc.transact_mut();
        add(
            &mut txn,
            "k2",
            Some("cards/c1"),
            "Is this right?",
            "Ana",
            20,
        )
        .unwrap();
        add(&mut txn, "k1", None, "Looks good", "Bo", 10).unwrap();
        let all = read(&txn);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].text, "Looks good");
        assert_eq!(all[1].target.as_deref(), Some("cards/c1"));
        assert_eq!(
            add(&mut txn, "k3", Some("nowhere/x"), "t", "a", 0),
            Err(CommentError::Target("nowhere/x".into()))
        );
        assert_eq!(
            add(&mut txn, "k3", None, "  ", "a", 0),
            Err(CommentError::Text)
        );
    }
}
