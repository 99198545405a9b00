//! The embedded SQLite store: one database file in the data directory, written by one thread.
//!
//! SQLite allows one writer at a time, so one connection writes, behind a lock. A small append
//! commits on its caller's thread when the lock is free: handing it to another thread and waking
//! back costs more than the commit itself. Everything else, and an append that finds the lock
//! taken, goes to the writer's thread, which commits every append waiting in its queue in a single
//! transaction (group commit). Loads use a second
//! connection on a blocking thread: in WAL mode readers never wait for the writer, so loading a large
//! map does not delay commits for the others. WAL with `synchronous=NORMAL` makes a committed
//! transaction survive a killed process; only a power loss can take the last commits. Checkpoints
//! (copying the WAL back into the database, with an fsync) run on a third thread: done by the writer,
//! as SQLite does by default, each one would stall every map's commits for its duration.
//!
//! The writing side is in `writer`, the schema and its upgrades in `schema`; the reads are here.

mod schema;
#[cfg(test)]
mod tests;
mod writer;

use super::common::Queries;
use super::rows;
use super::{
    Activity, MapInfo, NewVersion, Revocation, Revoked, Seq, Store, StoreError, StoredMap,
    VersionInfo, WorkshopEntry,
};
use async_trait::async_trait;
use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, params};
use schema::open_connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, mpsc};
use tokio::sync::oneshot;
use waymark_protocol::MapId;
use writer::{Reply, Request};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "waymark.db";

/// SQLite's spelling of the shared statements.
static QUERIES: LazyLock<Queries> = LazyLock::new(|| Queries::new("", |n| format!("?{n}")));

/// Largest append (in bytes) committed on the caller's thread; a larger one could hold the room's
/// thread, and every connection on it, for a noticeable time.
const INLINE_APPEND_BYTES: usize = 64 * 1024;

pub struct SqliteStore {
    writer: writer::Shared,
    tx: mpsc::Sender<Request>,
    /// The connection loads read through; a read transaction sees a consistent snapshot.
    reader: Arc<Mutex<Connection>>,
    path: PathBuf,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join(DB_FILE);
        let conn = open_connection(&path)?;
        let reader = Arc::new(Mutex::new(open_connection(&path)?));
        let (writer, tx, thread) = writer::spawn(conn, open_connection(&path)?)?;
        Ok(SqliteStore {
            writer,
            tx,
            reader,
            path,
            thread: Mutex::new(Some(thread)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a read on the read connection, off the async runtime.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || {
            let mut conn = reader.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut conn)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

/// Every row `sql` returns, decoded.
fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    decode: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(unavailable)?;
    let found = stmt.query_map(params, decode).map_err(unavailable)?;
    found.collect::<Result<_, _>>().map_err(unavailable)
}

fn unavailable(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Everything stored for `map`; with `after`, only the log past it unless the snapshot covers
/// more (see [`Store::load_after`]).
fn load(conn: &mut Connection, map: &MapId, after: Option<Seq>) -> Result<StoredMap, StoreError> {
    let tx = conn.transaction().map_err(unavailable)?;
    let through: Option<Seq> = tx
        .query_row(
            "SELECT through_seq FROM snapshots WHERE map_id = ?1",
            [map.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(unavailable)?;
    let mut out = StoredMap::default();
    // The snapshot is read only if it holds something past `after`.
    let after = after.filter(|after| through.is_none_or(|through| through <= *after));
    match (after, through) {
        (Some(after), _) => out.last_seq = after,
        (None, Some(through)) => {
            out.snapshot = Some(
                tx.query_row(
                    "SELECT data FROM snapshots WHERE map_id = ?1",
                    [map.as_str()],
                    |r| r.get(0),
                )
                .map_err(unavailable)?,
            );
            out.last_seq = through;
        }
        (None, None) => {}
    }
    {
        let mut stmt = tx
            .prepare_cached(if after.is_some() {
                &QUERIES.select_log_after
            } else {
                &QUERIES.select_log
            })
            .map_err(unavailable)?;
        let mut log = match after {
            Some(after) => stmt.query(params![map.as_str(), after]),
            None => stmt.query(params![map.as_str()]),
        }
        .map_err(unavailable)?;
        while let Some(row) = log.next().map_err(unavailable)? {
            rows::push_logged(&mut out, row).map_err(unavailable)?;
        }
    }
    out.deleted_at = tx
        .query_row(
            "SELECT deleted_at FROM deleted_maps WHERE map_id = ?1",
            [map.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(unavailable)?;
    tx.commit().map_err(unavailable)?;
    Ok(out)
}

#[async_trait]
impl Store for SqliteStore {
    async fn load(&self, map: &MapId) -> Result<StoredMap, StoreError> {
        let map = map.clone();
        self.read(move |conn| load(conn, &map, None)).await
    }

    async fn load_after(&self, map: &MapId, after: Seq) -> Result<StoredMap, StoreError> {
        let map = map.clone();
        self.read(move |conn| load(conn, &map, Some(after))).await
    }

    async fn append_since(
        &self,
        map: &MapId,
        updates: Vec<Bytes>,
        deleted_at: Option<i64>,
    ) -> Result<Seq, StoreError> {
        let small = updates.iter().map(Bytes::len).sum::<usize>() <= INLINE_APPEND_BYTES;
        let append = writer::Append {
            map: map.clone(),
            updates,
            deleted_at,
        };
        if small && let Some(mut writer) = self.writer.try_lock() {
            return writer.append(&append);
        }
        self.call(|r| Request::Append(append, r)).await
    }

    async fn compact(
        &self,
        map: &MapId,
        snapshot: Vec<u8>,
        through: Seq,
    ) -> Result<(), StoreError> {
        self.call(|r| Request::Compact(map.clone(), snapshot, through, r))
            .await
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.call(Request::Check).await
    }

    async fn add_version(
        &self,
        map: &MapId,
        version: NewVersion,
        skip_if_unchanged: bool,
    ) -> Result<Option<VersionInfo>, StoreError> {
        self.call(|r| Request::AddVersion(map.clone(), version, skip_if_unchanged, r))
            .await
    }

    async fn record_activity(&self, map: &MapId, entries: Vec<Activity>) -> Result<(), StoreError> {
        self.call(|r| Request::Activity(map.clone(), entries, r))
            .await
    }

    async fn activity(&self, map: &MapId, limit: usize) -> Result<Vec<Activity>, StoreError> {
        let map = map.clone();
        self.read(move |conn| {
            query_all(
                conn,
                &QUERIES.activity,
                params![map.as_str(), limit as i64],
                |r| rows::activity(r),
            )
        })
        .await
    }

    async fn set_review(
        &self,
        map: &MapId,
        number: i64,
        expected: Option<String>,
        review: String,
    ) -> Result<Option<bool>, StoreError> {
        self.call(|r| Request::Review(map.clone(), number, expected, review, r))
            .await
    }

    async fn versions(&self, map: &MapId) -> Result<Vec<VersionInfo>, StoreError> {
        let map = map.clone();
        self.read(move |conn| {
            query_all(conn, &QUERIES.versions, [map.as_str()], |r| {
                rows::version_info(r)
            })
        })
        .await
    }

    async fn version(
        &self,
        map: &MapId,
        number: i64,
    ) -> Result<Option<(VersionInfo, Vec<u8>)>, StoreError> {
        let map = map.clone();
        self.read(move |conn| {
            conn.query_row(&QUERIES.version, params![map.as_str(), number], |r| {
                rows::version_with_state(r)
            })
            .optional()
            .map_err(unavailable)
        })
        .await
    }

    async fn set_summary(
        &self,
        map: &MapId,
        title: &str,
        kind: &str,
        review_due: Option<&str>,
    ) -> Result<(), StoreError> {
        self.call(|r| {
            Request::Summary(
                map.clone(),
                title.to_owned(),
                kind.to_owned(),
                review_due.map(str::to_owned),
                r,
            )
        })
        .await
    }

    async fn delete(&self, map: &MapId) -> Result<bool, StoreError> {
        self.call(|r| Request::Delete(map.clone(), r)).await
    }

    async fn workshop(&self, map: &MapId) -> Result<Vec<WorkshopEntry>, StoreError> {
        let map = map.clone();
        self.read(move |conn| {
            query_all(conn, &QUERIES.workshop, [map.as_str()], |r| {
                rows::workshop_entry(r)
            })
        })
        .await
    }

    async fn save_workshop(
        &self,
        map: &MapId,
        entries: Vec<WorkshopEntry>,
    ) -> Result<(), StoreError> {
        self.call(|r| Request::Workshop(map.clone(), entries, r))
            .await
    }

    async fn list(&self) -> Result<Vec<MapInfo>, StoreError> {
        self.read(|conn| query_all(conn, &QUERIES.list_maps, [], |r| rows::map_info(r)))
            .await
    }

    async fn exists(&self, map: &MapId) -> Result<bool, StoreError> {
        let map = map.clone();
        self.read(move |conn| {
            conn.query_row(&QUERIES.map_exists, [map.as_str()], |r| r.get(0))
                .map_err(unavailable)
        })
        .await
    }

    async fn revoke(&self, revocation: &Revocation) -> Result<(), StoreError> {
        self.call(|r| Request::Revoke(revocation.clone(), r)).await
    }

    async fn revocations(&self) -> Result<Vec<Revocation>, StoreError> {
        self.read(|conn| {
            query_all(
                conn,
                "SELECT 0, user, before, reason FROM revocations
                 UNION ALL SELECT 1, token_id, revoked_at, reason FROM revoked_tokens
                 ORDER BY 1, 2",
                [],
                |r| {
                    let subject = match r.get::<_, i64>(0)? {
                        0 => Revoked::User(r.get(1)?),
                        _ => Revoked::Token(r.get(1)?),
                    };
                    Ok(Revocation {
                        subject,
                        at: r.get(2)?,
                        reason: r.get(3)?,
                    })
                },
            )
        })
        .await
    }

    async fn claim(&self, map: &MapId) -> Result<bool, StoreError> {
        self.call(|r| Request::Claim(map.clone(), r)).await
    }

    async fn close(&self) -> Result<(), StoreError> {
        let result = self.call(Request::Close).await;
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
        result
    }
}
