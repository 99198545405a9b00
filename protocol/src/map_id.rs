//! Map identifiers: the `{mapId}` path segment of `/maps/{mapId}`.

use std::fmt;

/// Longest accepted map id, in bytes.
pub const MAX_MAP_ID_LEN: usize = 128;

/// A validated map id: `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`.
///
/// The alphabet is safe in URLs, file names, Redis channel names and SQL without escaping, which is
/// why it is strict rather than "anything but a slash".
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MapId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapIdError {
    #[error("map id is empty")]
    Empty,
    #[error("map id is {0} bytes long; at most {MAX_MAP_ID_LEN} are allowed")]
    TooLong(usize),
    #[error("map id must start with a letter or digit")]
    BadFirst,
    #[error("map id may only contain letters, digits, '.', '_' and '-' (found {0:?})")]
    BadChar(char),
}

impl MapId {
    pub fn parse(s: &str) -> Result<Self, MapIdError> {
        let first = s.chars().next().ok_or(MapIdError::Empty)?;
        if s.len() > MAX_MAP_ID_LEN {
            return Err(MapIdError::TooLong(s.len()));
        }
        if !first.is_ascii_alphanumeric() {
            return Err(MapIdError::BadFirst);
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(MapIdError::BadChar(c));
        }
        Ok(MapId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MapId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for MapId {
    type Err = MapIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MapId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for ok in ["a", "Z9", "q3-roadmap_v2.1", &"x".repeat(128)] {
            assert_eq!(MapId::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_everything_else_with_a_reason() {
        assert_eq!(MapId::parse(""), Err(MapIdError::Empty));
        assert_eq!(MapId::parse(".hidden"), Err(MapIdError::BadFirst));
        assert_eq!(MapId::parse("-x"), Err(MapIdError::BadFirst));
        assert_eq!(MapId::parse("a/b"), Err(MapIdError::BadChar('/')));
        assert_eq!(MapId::parse("a b"), Err(MapIdError::BadChar(' ')));
        assert_eq!(MapId::parse("café"), Err(MapIdError::BadChar('é')));
        assert_eq!(
            MapId::parse(&"x".repeat(129)),
            Err(MapIdError::TooLong(129))
        );
    }
}
