//! Decoding result rows into the store's types, once for both SQL backends: the column lists the
//! queries select and the functions that read them, over a row-access trait both drivers implement.

use super::{Activity, MapInfo, Seq, StoredMap, VersionInfo, VersionKind, WorkshopEntry};

/// A column value both drivers can decode.
pub(super) trait Value:
    rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a>
{
}

impl<T> Value for T where T: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a> {}

/// Reads a column of a result row by its index.
pub(super) trait SqlRow {
    type Error;
    // Not `get`: `tokio_postgres::Row::get` is an inherent method that panics on a bad column.
    fn read<T: Value>(&self, index: usize) -> Result<T, Self::Error>;
}

impl SqlRow for rusqlite::Row<'_> {
    type Error = rusqlite::Error;

    fn read<T: Value>(&self, index: usize) -> Result<T, rusqlite::Error> {
        self.get(index)
    }
}

impl SqlRow for tokio_postgres::Row {
    type Error = tokio_postgres::Error;

    fn read<T: Value>(&self, index: usize) -> Result<T, tokio_postgres::Error> {
        self.try_get(index)
    }
}

/// What [`version_info`] reads, in its order. The size is cast because PostgreSQL's `length` is a
/// 32-bit integer, and the decoder reads every integer as 64 bits.
pub(super) const VERSION_COLUMNS: &str = "number, label, description, author, kind, created_at, \
     CAST(length(state) AS BIGINT), raw_size, review";

/// What [`activity`] reads. `user` is quoted: it is a reserved word in PostgreSQL.
pub(super) const ACTIVITY_COLUMNS: &str = "at, kind, session, \"user\", updates, bytes";

/// What [`map_info`] reads.
pub(super) const MAP_COLUMNS: &str = "map_id, title, kind, updated_at, size, review_due";

pub(super) fn version_info<R: SqlRow>(r: &R) -> Result<VersionInfo, R::Error> {
    let kind: String = r.read(4)?;
    Ok(VersionInfo {
        number: r.read(0)?,
        label: r.read(1)?,
        description: r.read(2)?,
        author: r.read(3)?,
        // A kind written by a newer build still lists, as the kind every version can be.
        kind: VersionKind::parse(&kind).unwrap_or(VersionKind::Manual),
        created_at: r.read(5)?,
        size: count(r.read(6)?),
        raw_size: count(r.read(7)?),
        // A review that is not valid JSON is shown as none rather than failing the whole list.
        review: r
            .read::<Option<String>>(8)?
            .and_then(|j| serde_json::from_str(&j).ok()),
    })
}

/// A version and its state, from a row of [`VERSION_COLUMNS`] followed by `state`.
pub(super) fn version_with_state<R: SqlRow>(r: &R) -> Result<(VersionInfo, Vec<u8>), R::Error> {
    Ok((version_info(r)?, r.read(9)?))
}

pub(super) fn activity<R: SqlRow>(r: &R) -> Result<Activity, R::Error> {
    Ok(Activity {
        at: r.read(0)?,
        kind: r.read(1)?,
        session: r.read(2)?,
        user: r.read(3)?,
        updates: count(r.read(4)?),
        bytes: count(r.read(5)?),
    })
}

pub(super) fn map_info<R: SqlRow>(r: &R) -> Result<MapInfo, R::Error> {
    Ok(MapInfo {
        id: r.read(0)?,
        title: r.read(1)?,
        kind: r.read(2)?,
        updated_at: r.read(3)?,
        size: count(r.read(4)?),
        review_due: r.read(5)?,
    })
}

/// The number and state vector of a map's newest version, from [`Queries::newest_version`].
///
/// [`Queries::newest_version`]: super::common::Queries::newest_version
/// A row of [`super::common::Queries::workshop`].
pub(super) fn workshop_entry<R: SqlRow>(r: &R) -> Result<WorkshopEntry, R::Error> {
    Ok(WorkshopEntry {
        key: r.read(0)?,
        stamp: r.read(1)?,
        node: r.read(2)?,
        value: r.read(3)?,
    })
}

pub(super) fn numbered_state_vector<R: SqlRow>(r: &R) -> Result<(i64, Vec<u8>), R::Error> {
    Ok((r.read(0)?, r.read(1)?))
}

/// Adds a row of a map's update log (`seq, data`, in `seq` order) to what a load returns.
pub(super) fn push_logged<R: SqlRow>(out: &mut StoredMap, r: &R) -> Result<(), R::Error> {
    let (seq, data): (Seq, Vec<u8>) = (r.read(0)?, r.read(1)?);
    out.log_bytes += data.len();
    out.updates.push(data);
    out.last_seq = out.last_seq.max(seq);
    Ok(())
}

/// Both databases store sizes and counts as signed integers; a negative one can only be damage,
/// and reads as nothing.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
