//! The embedded SQLite store: one database file in the data directory, written by one thread.
//!
//! SQLite allows one writer at a time, so a dedicated thread owns the writing connection and commits
//! every append waiting in its queue in a single transaction (group commit). Loads use a second
//! connection on a blocking thread: in WAL mode readers never wait for the writer, so loading a large
//! map does not delay commits for the others. WAL with `synchronous=NORMAL` makes a committed
//! transaction survive a killed process; only a power loss can take the last commits. Checkpoints
//! (copying the WAL back into the database, with an fsync) run on a third thread: done by the writer,
//! as SQLite does by default, each one would stall every map's commits for its duration.

use super::{
    Activity, MapInfo, NewVersion, Seq, Store, StoreError, StoredMap, VersionInfo, VersionKind,
};
use crate::now_millis;
use async_trait::async_trait;
use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use tokio::sync::oneshot;
use waymark_protocol::MapId;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "waymark.db";

/// How long a write waits for a lock held by another process before the store reports itself
/// unavailable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(1);

/// How often the checkpointer folds the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Most appends committed in one transaction.
const MAX_GROUP: usize = 1024;

/// Version 2 added `versions` and `maps.review_due`; a version-1 database is upgraded in place.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS updates (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    map_id TEXT NOT NULL,
    data   BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS updates_by_map ON updates (map_id, seq);
CREATE TABLE IF NOT EXISTS snapshots (
    map_id      TEXT PRIMARY KEY,
    data        BLOB NOT NULL,
    through_seq INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS maps (
    map_id     TEXT PRIMARY KEY,
    title      TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL,
    size       INTEGER NOT NULL DEFAULT 0,
    review_due TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS versions (
    map_id       TEXT NOT NULL,
    number       INTEGER NOT NULL,
    label        TEXT NOT NULL,
    description  TEXT NOT NULL,
    author       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    state        BLOB NOT NULL,
    state_vector BLOB NOT NULL,
    raw_size     INTEGER NOT NULL,
    review       TEXT,
    PRIMARY KEY (map_id, number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS activity (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    map_id  TEXT NOT NULL,
    at      INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    session TEXT NOT NULL,
    user    TEXT,
    updates INTEGER NOT NULL,
    bytes   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS activity_by_map ON activity (map_id, seq);
INSERT OR IGNORE INTO maps (map_id, updated_at)
    SELECT map_id, 0 FROM (SELECT map_id FROM updates UNION SELECT map_id FROM snapshots);
";

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Request {
    Append(MapId, Vec<Bytes>, Reply<Seq>),
    Summary(MapId, String, String, Option<String>, Reply<()>),
    Review(MapId, i64, Option<String>, String, Reply<Option<bool>>),
    Activity(MapId, Vec<Activity>, Reply<()>),
    Delete(MapId, Reply<bool>),
    Compact(MapId, Vec<u8>, Seq, Reply<()>),
    AddVersion(MapId, NewVersion, bool, Reply<Option<VersionInfo>>),
    Check(Reply<()>),
    Close(Reply<()>),
}

pub struct SqliteStore {
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
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(unavailable)?;
        let reader = Arc::new(Mutex::new(open_connection(&path)?));
        let checkpointer = Checkpointer::start(open_connection(&path)?)?;
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("waymark-sqlite".into())
            .spawn(move || {
                Writer {
                    conn,
                    checkpointer: Some(checkpointer),
                }
                .run(rx)
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start storage thread: {e}")))?;
        Ok(SqliteStore {
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

const VERSION_COLUMNS: &str =
    "number, label, description, author, kind, created_at, length(state), raw_size, review";

fn version_info(r: &rusqlite::Row<'_>) -> rusqlite::Result<VersionInfo> {
    let kind: String = r.get(4)?;
    Ok(VersionInfo {
        number: r.get(0)?,
        label: r.get(1)?,
        description: r.get(2)?,
        author: r.get(3)?,
        kind: VersionKind::parse(&kind).unwrap_or(VersionKind::Manual),
        created_at: r.get(5)?,
        size: r.get::<_, i64>(6)?.max(0) as u64,
        raw_size: r.get::<_, i64>(7)?.max(0) as u64,
        review: r
            .get::<_, Option<String>>(8)?
            .and_then(|j| serde_json::from_str(&j).ok()),
    })
}

fn unavailable(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| {
        StoreError::Unavailable(format!("cannot open database {}: {e}", path.display()))
    })?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(unavailable)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(unavailable)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(unavailable)?;
    conn.execute_batch(SCHEMA).map_err(unavailable)?;
    let version: Option<i64> = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .optional()
        .map_err(unavailable)?;
    match version {
        None => {
            conn.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [SCHEMA_VERSION],
            )
            .map_err(unavailable)?;
        }
        Some(SCHEMA_VERSION) => {}
        // The schema above has just created the table version 2 added; the column is added here.
        Some(1) => {
            // Checked first, so an upgrade interrupted before recording the version can be rerun.
            let has_column: bool = conn
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM pragma_table_info('maps') WHERE name = 'review_due')",
                    [],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            if !has_column {
                conn.execute_batch("ALTER TABLE maps ADD COLUMN review_due TEXT")
                    .map_err(unavailable)?;
            }
            conn.execute("UPDATE schema_version SET version = ?1", [SCHEMA_VERSION])
                .map_err(unavailable)?;
        }
        Some(other) => {
            return Err(StoreError::Unavailable(format!(
                "database {} has schema version {other}; this build reads version {SCHEMA_VERSION}",
                path.display()
            )));
        }
    }
    Ok(conn)
}

fn load(conn: &mut Connection, map: &MapId) -> Result<StoredMap, StoreError> {
    let tx = conn.transaction().map_err(unavailable)?;
    let snapshot: Option<(Vec<u8>, Seq)> = tx
        .query_row(
            "SELECT data, through_seq FROM snapshots WHERE map_id = ?1",
            [map.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(unavailable)?;
    let mut out = StoredMap::default();
    if let Some((data, through)) = snapshot {
        out.snapshot = Some(data);
        out.last_seq = through;
    }
    {
        let mut stmt = tx
            .prepare_cached("SELECT seq, data FROM updates WHERE map_id = ?1 ORDER BY seq")
            .map_err(unavailable)?;
        let rows = stmt
            .query_map([map.as_str()], |r| {
                Ok((r.get::<_, Seq>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(unavailable)?;
        for row in rows {
            let (seq, data) = row.map_err(unavailable)?;
            out.log_bytes += data.len();
            out.updates.push(data);
            out.last_seq = out.last_seq.max(seq);
        }
    }
    tx.commit().map_err(unavailable)?;
    Ok(out)
}

/// Runs passive checkpoints until dropped. Passive checkpoints never wait for (or block) the writer.
struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    fn start(conn: Connection) -> Result<Self, StoreError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("waymark-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_EVERY)
                {
                    if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
                        tracing::warn!(error = %e, "checkpoint failed; will retry");
                    }
                }
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start checkpoint thread: {e}")))?;
        Ok(Checkpointer { stop, thread })
    }

    fn stop(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

struct Writer {
    conn: Connection,
    checkpointer: Option<Checkpointer>,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Request>) {
        let mut next = None;
        loop {
            let req = match next.take() {
                Some(r) => r,
                None => match rx.recv() {
                    Ok(r) => r,
                    Err(_) => return,
                },
            };
            match req {
                Request::Append(map, updates, reply) => {
                    let mut group = vec![(map, updates, reply)];
                    while group.len() < MAX_GROUP {
                        match rx.try_recv() {
                            Ok(Request::Append(m, u, r)) => group.push((m, u, r)),
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.append_group(group);
                }
                Request::Compact(map, snapshot, through, reply) => {
                    let _ = reply.send(self.compact(&map, &snapshot, through));
                }
                Request::Activity(map, entries, reply) => {
                    let _ = reply.send(self.record_activity(&map, &entries));
                }
                Request::Review(map, number, expected, review, reply) => {
                    let _ = reply.send(self.review(&map, number, expected, &review));
                }
                Request::Summary(map, title, kind, due, reply) => {
                    let _ = reply.send(self.summary(&map, &title, &kind, due.as_deref()));
                }
                Request::Delete(map, reply) => {
                    let _ = reply.send(self.delete(&map));
                }
                Request::AddVersion(map, version, skip, reply) => {
                    let _ = reply.send(self.add_version(&map, version, skip));
                }
                Request::Check(reply) => {
                    let _ = reply.send(self.check());
                }
                Request::Close(reply) => {
                    if let Some(c) = self.checkpointer.take() {
                        c.stop();
                    }
                    let result = self
                        .conn
                        .pragma_update(None, "wal_checkpoint", "TRUNCATE")
                        .map_err(unavailable);
                    let _ = reply.send(result);
                    return;
                }
            }
        }
    }

    fn append_group(&mut self, group: Vec<(MapId, Vec<Bytes>, Reply<Seq>)>) {
        let result = (|| {
            let tx = self.conn.transaction()?;
            let mut lasts = Vec::with_capacity(group.len());
            {
                let mut stmt =
                    tx.prepare_cached("INSERT INTO updates (map_id, data) VALUES (?1, ?2)")?;
                let mut touch = tx.prepare_cached(
                    "INSERT INTO maps (map_id, updated_at, size) VALUES (?1, ?2, ?3)
                     ON CONFLICT (map_id) DO UPDATE
                       SET updated_at = excluded.updated_at, size = maps.size + excluded.size",
                )?;
                let now = now_millis();
                for (map, updates, _) in &group {
                    let mut last = 0;
                    for u in updates {
                        stmt.execute(params![map.as_str(), u.as_ref()])?;
                        last = tx.last_insert_rowid();
                    }
                    let bytes: usize = updates.iter().map(Bytes::len).sum();
                    touch.execute(params![map.as_str(), now, bytes as i64])?;
                    lasts.push(last);
                }
            }
            tx.commit()?;
            Ok::<_, rusqlite::Error>(lasts)
        })();
        match result {
            Ok(lasts) => {
                for ((_, _, reply), last) in group.into_iter().zip(lasts) {
                    let _ = reply.send(Ok(last));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for (_, _, reply) in group {
                    let _ = reply.send(Err(StoreError::Unavailable(msg.clone())));
                }
            }
        }
    }

    fn compact(&mut self, map: &MapId, snapshot: &[u8], through: Seq) -> Result<(), StoreError> {
        let now = now_millis();
        let tx = self.conn.transaction().map_err(unavailable)?;
        tx.execute(
            "INSERT INTO snapshots (map_id, data, through_seq, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (map_id) DO UPDATE
               SET data = excluded.data, through_seq = excluded.through_seq,
                   updated_at = excluded.updated_at
             WHERE excluded.through_seq > snapshots.through_seq",
            params![map.as_str(), snapshot, through, now],
        )
        .map_err(unavailable)?;
        tx.execute(
            "DELETE FROM updates WHERE map_id = ?1 AND seq <= ?2",
            params![map.as_str(), through],
        )
        .map_err(unavailable)?;
        tx.execute(
            "UPDATE maps SET size =
                 (SELECT COALESCE(SUM(length(data)), 0) FROM snapshots WHERE map_id = ?1)
               + (SELECT COALESCE(SUM(length(data)), 0) FROM updates WHERE map_id = ?1)
             WHERE map_id = ?1",
            [map.as_str()],
        )
        .map_err(unavailable)?;
        tx.commit().map_err(unavailable)
    }

    fn summary(
        &mut self,
        map: &MapId,
        title: &str,
        kind: &str,
        review_due: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE maps SET title = ?2, kind = ?3, review_due = ?4 WHERE map_id = ?1",
                params![map.as_str(), title, kind, review_due],
            )
            .map(drop)
            .map_err(unavailable)
    }

    fn record_activity(&mut self, map: &MapId, entries: &[Activity]) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(unavailable)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    // Only for maps that are stored: a connection to an unused id leaves nothing.
                    "INSERT INTO activity (map_id, at, kind, session, user, updates, bytes)
                     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
                     WHERE EXISTS (SELECT 1 FROM maps WHERE map_id = ?1)",
                )
                .map_err(unavailable)?;
            for a in entries {
                stmt.execute(params![
                    map.as_str(),
                    a.at,
                    a.kind,
                    a.session,
                    a.user,
                    a.updates as i64,
                    a.bytes as i64
                ])
                .map_err(unavailable)?;
            }
        }
        tx.commit().map_err(unavailable)
    }

    fn review(
        &mut self,
        map: &MapId,
        number: i64,
        expected: Option<String>,
        review: &str,
    ) -> Result<Option<bool>, StoreError> {
        let tx = self.conn.transaction().map_err(unavailable)?;
        let current: Option<Option<String>> = tx
            .query_row(
                "SELECT review FROM versions WHERE map_id = ?1 AND number = ?2",
                params![map.as_str(), number],
                |r| r.get(0),
            )
            .optional()
            .map_err(unavailable)?;
        let Some(current) = current else {
            return Ok(None);
        };
        if current != expected {
            return Ok(Some(false));
        }
        tx.execute(
            "UPDATE versions SET review = ?3 WHERE map_id = ?1 AND number = ?2",
            params![map.as_str(), number, review],
        )
        .map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        Ok(Some(true))
    }

    fn delete(&mut self, map: &MapId) -> Result<bool, StoreError> {
        let tx = self.conn.transaction().map_err(unavailable)?;
        let existed = tx
            .execute("DELETE FROM maps WHERE map_id = ?1", [map.as_str()])
            .map_err(unavailable)?
            > 0;
        for table in ["updates", "snapshots", "versions", "activity"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE map_id = ?1"),
                [map.as_str()],
            )
            .map_err(unavailable)?;
        }
        tx.commit().map_err(unavailable)?;
        Ok(existed)
    }

    fn add_version(
        &mut self,
        map: &MapId,
        v: NewVersion,
        skip_if_unchanged: bool,
    ) -> Result<Option<VersionInfo>, StoreError> {
        let tx = self.conn.transaction().map_err(unavailable)?;
        let newest: Option<(i64, Vec<u8>)> = tx
            .query_row(
                "SELECT number, state_vector FROM versions WHERE map_id = ?1
                 ORDER BY number DESC LIMIT 1",
                [map.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(unavailable)?;
        if skip_if_unchanged && newest.as_ref().is_some_and(|(_, sv)| *sv == v.state_vector) {
            return Ok(None);
        }
        let info = VersionInfo {
            number: newest.map_or(1, |(n, _)| n + 1),
            label: v.label,
            description: v.description,
            author: v.author,
            kind: v.kind,
            created_at: now_millis(),
            size: v.state.len() as u64,
            raw_size: v.raw_size,
            review: None,
        };
        tx.execute(
            "INSERT INTO versions (map_id, number, label, description, author, kind, created_at,
                                   state, state_vector, raw_size)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                map.as_str(),
                info.number,
                info.label,
                info.description,
                info.author,
                info.kind.as_str(),
                info.created_at,
                v.state,
                v.state_vector,
                info.raw_size as i64
            ],
        )
        .map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        Ok(Some(info))
    }

    fn check(&mut self) -> Result<(), StoreError> {
        // Taking the write lock proves writes can proceed, not merely that the file opens.
        self.conn
            .execute_batch("BEGIN IMMEDIATE; ROLLBACK;")
            .map_err(unavailable)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn load(&self, map: &MapId) -> Result<StoredMap, StoreError> {
        let map = map.clone();
        self.read(move |conn| load(conn, &map)).await
    }

    async fn append(&self, map: &MapId, updates: Vec<Bytes>) -> Result<Seq, StoreError> {
        self.call(|r| Request::Append(map.clone(), updates, r))
            .await
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
            let mut stmt = conn
                .prepare_cached(
                    "SELECT at, kind, session, user, updates, bytes FROM activity
                     WHERE map_id = ?1 ORDER BY seq DESC LIMIT ?2",
                )
                .map_err(unavailable)?;
            let rows = stmt
                .query_map(params![map.as_str(), limit as i64], |r| {
                    Ok(Activity {
                        at: r.get(0)?,
                        kind: r.get(1)?,
                        session: r.get(2)?,
                        user: r.get(3)?,
                        updates: r.get::<_, i64>(4)?.max(0) as u64,
                        bytes: r.get::<_, i64>(5)?.max(0) as u64,
                    })
                })
                .map_err(unavailable)?;
            rows.collect::<Result<_, _>>().map_err(unavailable)
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
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {VERSION_COLUMNS} FROM versions WHERE map_id = ?1 ORDER BY number DESC"
                ))
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([map.as_str()], version_info)
                .map_err(unavailable)?;
            rows.collect::<Result<_, _>>().map_err(unavailable)
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
            conn.query_row(
                &format!(
                    "SELECT {VERSION_COLUMNS}, state FROM versions WHERE map_id = ?1 AND number = ?2"
                ),
                params![map.as_str(), number],
                |r| Ok((version_info(r)?, r.get(9)?)),
            )
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

    async fn list(&self) -> Result<Vec<MapInfo>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT map_id, title, kind, updated_at, size, review_due FROM maps
                     ORDER BY updated_at DESC, map_id",
                )
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(MapInfo {
                        id: r.get(0)?,
                        title: r.get(1)?,
                        kind: r.get(2)?,
                        updated_at: r.get(3)?,
                        size: r.get::<_, i64>(4)?.max(0) as u64,
                        review_due: r.get(5)?,
                    })
                })
                .map_err(unavailable)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(unavailable)
        })
        .await
    }

    async fn exists(&self, map: &MapId) -> Result<bool, StoreError> {
        let map = map.clone();
        self.read(move |conn| {
            conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM maps WHERE map_id = ?1)",
                [map.as_str()],
                |r| r.get(0),
            )
            .map_err(unavailable)
        })
        .await
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

#[cfg(test)]
mod tests {
    use super::*;

    fn map(s: &str) -> MapId {
        MapId::parse(s).unwrap()
    }

    #[tokio::test]
    async fn append_load_compact_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let store = SqliteStore::open(dir).unwrap();
        let a = map("a");
        assert!(store.load(&a).await.unwrap().snapshot.is_none());
        let s1 = store
            .append(
                &a,
                vec![Bytes::from_static(b"u1"), Bytes::from_static(b"u2")],
            )
            .await
            .unwrap();
        store
            .append(&map("b"), vec![Bytes::from_static(b"other")])
            .await
            .unwrap();
        let loaded = store.load(&a).await.unwrap();
        assert_eq!(loaded.updates, vec![b"u1".to_vec(), b"u2".to_vec()]);
        assert_eq!(loaded.last_seq, s1);

        store.compact(&a, b"snap".to_vec(), s1).await.unwrap();
        let s3 = store
            .append(&a, vec![Bytes::from_static(b"u3")])
            .await
            .unwrap();
        assert!(s3 > s1);
        // An older snapshot never replaces a newer one.
        store.compact(&a, b"stale".to_vec(), s1 - 1).await.unwrap();
        let loaded = store.load(&a).await.unwrap();
        assert_eq!(loaded.snapshot.as_deref(), Some(&b"snap"[..]));
        assert_eq!(loaded.updates, vec![b"u3".to_vec()]);
        assert_eq!(loaded.last_seq, s3);
        store.check().await.unwrap();
        store.close().await.unwrap();

        let reopened = SqliteStore::open(dir).unwrap();
        assert_eq!(
            reopened.load(&a).await.unwrap().updates,
            vec![b"u3".to_vec()]
        );
        reopened.close().await.unwrap();
    }

    #[tokio::test]
    async fn maps_are_listed_summarised_and_deleted() {
        let tmp = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(tmp.path()).unwrap();
        let (a, b) = (map("alpha"), map("beta"));
        store
            .append(&a, vec![Bytes::from_static(b"12345")])
            .await
            .unwrap();
        store
            .append(&b, vec![Bytes::from_static(b"xy")])
            .await
            .unwrap();
        store
            .append(&a, vec![Bytes::from_static(b"678")])
            .await
            .unwrap();
        store
            .set_summary(&a, "Checkout", "journey-map", None)
            .await
            .unwrap();
        let list = store.list().await.unwrap();
        let alpha = list.iter().find(|m| m.id == "alpha").unwrap();
        assert_eq!(
            (alpha.title.as_str(), alpha.kind.as_str(), alpha.size),
            ("Checkout", "journey-map", 8)
        );
        assert!(alpha.updated_at > 0);
        assert_eq!(list.len(), 2);
        // Compaction recomputes the size from what is left.
        let last = store
            .append(&a, vec![Bytes::from_static(b"9")])
            .await
            .unwrap();
        store.compact(&a, b"SNAP".to_vec(), last).await.unwrap();
        let alpha = store
            .list()
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.id == "alpha")
            .unwrap();
        assert_eq!(alpha.size, 4);
        assert!(store.exists(&a).await.unwrap());
        assert!(store.delete(&a).await.unwrap());
        assert!(!store.exists(&a).await.unwrap());
        assert!(!store.delete(&a).await.unwrap());
        assert!(store.load(&a).await.unwrap().snapshot.is_none());
        assert_eq!(store.list().await.unwrap().len(), 1);
        store.close().await.unwrap();
    }

    fn version(label: &str, sv: &[u8]) -> NewVersion {
        NewVersion {
            label: label.into(),
            description: String::new(),
            author: "ana".into(),
            kind: VersionKind::Manual,
            state: b"compressed".to_vec(),
            state_vector: sv.to_vec(),
            raw_size: 100,
        }
    }

    #[tokio::test]
    async fn versions_are_numbered_listed_read_and_deleted_with_their_map() {
        let tmp = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(tmp.path()).unwrap();
        let m = map("versioned");
        store
            .append(&m, vec![Bytes::from_static(b"u")])
            .await
            .unwrap();
        let v1 = store
            .add_version(&m, version("one", b"sv1"), false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((v1.number, v1.size, v1.raw_size), (1, 10, 100));
        // A review is replaced only if it is still what the caller last saw.
        assert_eq!(
            store
                .set_review(&m, 1, None, "{\"a\":1}".into())
                .await
                .unwrap(),
            Some(true)
        );
        assert_eq!(
            store
                .set_review(&m, 1, None, "{\"a\":2}".into())
                .await
                .unwrap(),
            Some(false)
        );
        assert_eq!(
            store.set_review(&m, 9, None, "{}".into()).await.unwrap(),
            None
        );
        let v1 = VersionInfo {
            review: Some(serde_json::json!({"a": 1})),
            ..v1
        };
        // An automatic version of an unchanged map is skipped; a changed one is numbered on.
        let auto = NewVersion {
            kind: VersionKind::Auto,
            ..version("auto", b"sv1")
        };
        assert_eq!(
            store.add_version(&m, auto.clone(), true).await.unwrap(),
            None
        );
        let changed = NewVersion {
            state_vector: b"sv2".to_vec(),
            ..auto
        };
        let v2 = store.add_version(&m, changed, true).await.unwrap().unwrap();
        assert_eq!((v2.number, v2.kind), (2, VersionKind::Auto));
        let listed: Vec<i64> = store
            .versions(&m)
            .await
            .unwrap()
            .iter()
            .map(|v| v.number)
            .collect();
        assert_eq!(listed, [2, 1]);
        let (info, state) = store.version(&m, 1).await.unwrap().unwrap();
        assert_eq!((info, state), (v1, b"compressed".to_vec()));
        assert!(store.version(&m, 3).await.unwrap().is_none());
        let entry = |kind: &str| Activity {
            at: 5,
            kind: kind.into(),
            session: "n-1".into(),
            user: None,
            updates: 0,
            bytes: 0,
        };
        store
            .record_activity(&m, vec![entry("connected"), entry("disconnected")])
            .await
            .unwrap();
        store
            .record_activity(&map("ghost"), vec![entry("connected")])
            .await
            .unwrap();
        assert_eq!(
            store.activity(&m, 10).await.unwrap(),
            vec![entry("disconnected"), entry("connected")]
        );
        assert!(store.activity(&map("ghost"), 10).await.unwrap().is_empty());
        assert!(store.delete(&m).await.unwrap());
        assert!(store.versions(&m).await.unwrap().is_empty());
        assert!(store.activity(&m, 10).await.unwrap().is_empty());
        store.close().await.unwrap();
    }

    #[tokio::test]
    async fn a_version_1_database_is_upgraded_in_place() {
        let tmp = tempfile::tempdir().unwrap();
        let m = map("old");
        {
            let store = SqliteStore::open(tmp.path()).unwrap();
            store
                .append(&m, vec![Bytes::from_static(b"kept")])
                .await
                .unwrap();
            store.close().await.unwrap();
        }
        // What a database written before versions existed looks like.
        let conn = Connection::open(tmp.path().join(DB_FILE)).unwrap();
        conn.execute_batch(
            "DROP TABLE versions; ALTER TABLE maps DROP COLUMN review_due;
             UPDATE schema_version SET version = 1;",
        )
        .unwrap();
        drop(conn);
        let store = SqliteStore::open(tmp.path()).unwrap();
        assert_eq!(
            store.load(&m).await.unwrap().updates,
            vec![b"kept".to_vec()]
        );
        assert!(
            store
                .add_version(&m, version("v", b"sv"), false)
                .await
                .unwrap()
                .is_some()
        );
        store.close().await.unwrap();
        let conn = Connection::open(tmp.path().join(DB_FILE)).unwrap();
        let v: i64 = conn
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }
}
