//! The store rules both SQL backends follow, and the text of the statements they share: how
//! versions are numbered and when one is skipped, what a review's compare-and-set reports, and
//! the listing and reading queries, written once and spelled in each backend's dialect.

use super::rows::{ACTIVITY_COLUMNS, MAP_COLUMNS, VERSION_COLUMNS};
use super::{NewVersion, VersionInfo};

/// Statements whose SQL is the same in both backends but for table names and placeholders.
pub(super) struct Queries {
    /// Every map, most recently changed first; ties in id order, so listings are stable.
    pub list_maps: String,
    /// `(map)`
    pub map_exists: String,
    /// `(map)`: the update log, oldest first.
    pub select_log: String,
    pub select_log_after: String,
    /// `(map, title, kind, review_due)`: a map with no row (nothing stored) gets no summary.
    pub set_summary: String,
    /// `(map, limit)`, newest first.
    pub activity: String,
    /// `(map)`, newest first.
    pub versions: String,
    /// `(map, number)`: a version and its state.
    pub version: String,
    /// `(map)`: number and state vector of the newest version, for [`next_version_number`].
    pub newest_version: String,
    /// `(map, number, expected, review)`: one statement, so two writers deciding at once cannot
    /// overwrite each other's review; `IS NOT DISTINCT FROM` makes "no review yet" (NULL) match.
    pub set_review: String,
    /// `(map, number)`: asked after [`Queries::set_review`] changed nothing, to tell a stale
    /// expectation from a missing version.
    pub version_exists: String,
    /// A map's workshop entries.
    pub workshop: String,
    /// Stores one workshop entry unless the stored one is newer (a last-writer-wins register),
    /// only for a stored map.
    pub save_workshop: String,
}

impl Queries {
    /// `prefix` starts each table name; `param(n)` spells the placeholder of the n-th parameter.
    pub(super) fn new(prefix: &str, param: fn(u8) -> String) -> Self {
        let (p1, p2, p3, p4, p5) = (param(1), param(2), param(3), param(4), param(5));
        let maps = format!("{prefix}maps");
        let versions = format!("{prefix}versions");
        Queries {
            list_maps: format!("SELECT {MAP_COLUMNS} FROM {maps} ORDER BY updated_at DESC, map_id"),
            map_exists: format!("SELECT EXISTS (SELECT 1 FROM {maps} WHERE map_id = {p1})"),
            select_log: format!(
                "SELECT seq, data FROM {prefix}updates WHERE map_id = {p1} ORDER BY seq"
            ),
            select_log_after: format!(
                "SELECT seq, data FROM {prefix}updates WHERE map_id = {p1} AND seq > {p2}
                 ORDER BY seq"
            ),
            set_summary: format!(
                "UPDATE {maps} SET title = {p2}, kind = {p3}, review_due = {p4} WHERE map_id = {p1}"
            ),
            activity: format!(
                "SELECT {ACTIVITY_COLUMNS} FROM {prefix}activity
                 WHERE map_id = {p1} ORDER BY seq DESC LIMIT {p2}"
            ),
            versions: format!(
                "SELECT {VERSION_COLUMNS} FROM {versions} WHERE map_id = {p1} ORDER BY number DESC"
            ),
            version: format!(
                "SELECT {VERSION_COLUMNS}, state FROM {versions}
                 WHERE map_id = {p1} AND number = {p2}"
            ),
            newest_version: format!(
                "SELECT number, state_vector FROM {versions} WHERE map_id = {p1}
                 ORDER BY number DESC LIMIT 1"
            ),
            set_review: format!(
                "UPDATE {versions} SET review = {p4}
                 WHERE map_id = {p1} AND number = {p2} AND review IS NOT DISTINCT FROM {p3}"
            ),
            version_exists: format!(
                "SELECT EXISTS (SELECT 1 FROM {versions} WHERE map_id = {p1} AND number = {p2})"
            ),
            workshop: format!(
                "SELECT key, stamp, node, value FROM {prefix}workshop WHERE map_id = {p1}"
            ),
            save_workshop: format!(
                "INSERT INTO {prefix}workshop (map_id, key, stamp, node, value)
                 SELECT {p1}, {p2}, {p3}, {p4}, {p5} WHERE EXISTS (SELECT 1 FROM {maps} WHERE map_id = {p1})
                 ON CONFLICT (map_id, key) DO UPDATE
                 SET stamp = excluded.stamp, node = excluded.node, value = excluded.value
                 WHERE (excluded.stamp, excluded.node) > ({prefix}workshop.stamp, {prefix}workshop.node)"
            ),
        }
    }
}

/// The number a new version gets after the map's `newest` (number, state vector), or `None` when
/// it is to be skipped: with `skip_if_unchanged`, a state vector equal to the newest version's
/// means nothing changed since, and an automatic version would only repeat it.
pub(super) fn next_version_number(
    newest: Option<(i64, Vec<u8>)>,
    version: &NewVersion,
    skip_if_unchanged: bool,
) -> Option<i64> {
    match newest {
        Some((_, sv)) if skip_if_unchanged && sv == version.state_vector => None,
        Some((number, _)) => Some(number + 1),
        None => Some(1),
    }
}

/// What is reported of a version once stored as `number` at `created_at`.
pub(super) fn stored_version(version: NewVersion, number: i64, created_at: i64) -> VersionInfo {
    VersionInfo {
        number,
        size: version.state.len() as u64,
        label: version.label,
        description: version.description,
        author: version.author,
        kind: version.kind,
        created_at,
        raw_size: version.raw_size,
        review: None,
    }
}

/// What `set_review` reports: whether [`Queries::set_review`] `updated` the version, or `None`
/// when no such version exists. `exists` matters only when nothing was updated, so a backend asks
/// for it only then (`updated || ...`), sparing the common case a second statement.
pub(super) fn review_outcome(updated: bool, exists: bool) -> Option<bool> {
    if updated {
        Some(true)
    } else {
        exists.then_some(false)
    }
}
