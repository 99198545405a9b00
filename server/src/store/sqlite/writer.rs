//! The SQLite store's writing connection: the thread that serves the queue of requests
//! (consecutive appends committed together), the lock that lets a small append commit on its
//! caller's thread instead, and the checkpointer thread beside it.

use super::{QUERIES, unavailable};
use crate::clock::now_millis;
use crate::store::common::{next_version_number, review_outcome, stored_version};
use crate::store::rows;
use crate::store::{
    Activity, NewVersion, Revocation, Revoked, Seq, StoreError, VersionInfo, WorkshopEntry,
};
use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError, mpsc};
use std::time::Duration;
use tokio::sync::oneshot;
use waymark_protocol::MapId;

/// How often the checkpointer folds the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// A WAL this long (in pages, 4 KiB each) is copied back with writes held for a moment, so that it
/// starts over; a shorter one waits for a quiet moment.
const RESTART_FRAMES: i64 = 256;

/// Most appends committed in one transaction.
const MAX_GROUP: usize = 1024;

pub(super) type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// One caller's append: a map's updates, and the deletion the caller's load saw.
pub(super) struct Append {
    pub map: MapId,
    pub updates: Vec<Bytes>,
    pub deleted_at: Option<i64>,
}

/// What the store asks of the writer; each request carries the channel its answer goes back on.
pub(super) enum Request {
    Append(Append, Reply<Seq>),
    Summary(MapId, String, String, Option<String>, Reply<()>),
    Review(MapId, i64, Option<String>, String, Reply<Option<bool>>),
    Activity(MapId, Vec<Activity>, Reply<()>),
    Delete(MapId, Reply<bool>),
    Claim(MapId, Reply<bool>),
    Revoke(Revocation, Reply<()>),
    Workshop(MapId, Vec<WorkshopEntry>, Reply<()>),
    Compact(MapId, Vec<u8>, Seq, Reply<()>),
    AddVersion(MapId, NewVersion, bool, Reply<Option<VersionInfo>>),
    Check(Reply<()>),
    Close(Reply<()>),
}

/// Runs checkpoints until stopped or dropped. A passive checkpoint never waits for (or blocks) the
/// writer, but under steady writes it never catches up either: SQLite starts the WAL over only
/// once everything in it has been copied back, so the file grew by every commit (350 MB in 20 s of
/// the fanout load test) and each commit paid for new file blocks. When it falls behind, the
/// checkpointer therefore copies the rest (a few milliseconds' worth of commits) while holding the
/// writer, and the next commit starts the WAL from its beginning.
struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    fn start(conn: Connection, writer: Shared) -> Result<Self, StoreError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("waymark-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_EVERY)
                {
                    if let Err(e) = checkpoint(&conn, &writer) {
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

/// One round: a passive checkpoint, then, if the WAL is long, a second one with the writer held so
/// that nothing is left behind (about half a millisecond).
fn checkpoint(conn: &Connection, writer: &Shared) -> rusqlite::Result<()> {
    // `log` counts the frames as the checkpoint began: under steady writes more have arrived
    // since, even when it says it copied them all.
    let (log, _) = passive_checkpoint(conn)?;
    if log >= RESTART_FRAMES {
        let _held = writer.lock();
        passive_checkpoint(conn)?;
    }
    Ok(())
}

/// Runs a passive checkpoint: the frames in the WAL, and how many of them are now copied back.
fn passive_checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })
}

/// The writing connection. The writer thread holds its lock for one request (or one group of
/// appends) at a time; between them a caller may take it to commit a small append itself.
pub(super) struct Writer {
    conn: Connection,
    checkpointer: Option<Checkpointer>,
    /// Set once the store has closed: every later request is refused.
    closed: bool,
}

/// The writer, shared between its thread and the callers that commit inline.
#[derive(Clone)]
pub(super) struct Shared(Arc<Mutex<Writer>>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Writer> {
        // A panic mid-request leaves nothing half-done that SQLite has not rolled back.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The writer if nobody holds it now; never waits, so an async caller never blocks on a commit
    /// that is not its own.
    pub(super) fn try_lock(&self) -> Option<MutexGuard<'_, Writer>> {
        match self.0.try_lock() {
            Ok(w) => Some(w),
            Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }
}

/// Starts the writer on `conn` (and the checkpointer on `checkpoints`); its thread runs until it is
/// sent [`Request::Close`] or every sender is dropped.
pub(super) fn spawn(
    conn: Connection,
    checkpoints: Connection,
) -> Result<(Shared, mpsc::Sender<Request>, std::thread::JoinHandle<()>), StoreError> {
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(unavailable)?;
    let shared = Shared(Arc::new(Mutex::new(Writer {
        conn,
        checkpointer: None,
        closed: false,
    })));
    let checkpointer = Checkpointer::start(checkpoints, shared.clone())?;
    shared.lock().checkpointer = Some(checkpointer);
    let (tx, rx) = mpsc::channel();
    let served = shared.clone();
    let thread = std::thread::Builder::new()
        .name("waymark-sqlite".into())
        .spawn(move || run(&served, rx))
        .map_err(|e| StoreError::Unavailable(format!("cannot start storage thread: {e}")))?;
    Ok((shared, tx, thread))
}

/// Serves requests in arrival order until [`Request::Close`]; appends waiting together share one
/// commit.
fn run(shared: &Shared, rx: mpsc::Receiver<Request>) {
    let mut next = None;
    loop {
        let req = match next.take() {
            Some(r) => r,
            None => match rx.recv() {
                Ok(r) => r,
                Err(_) => break,
            },
        };
        if let Request::Close(reply) = req {
            stop_checkpoints(shared);
            let _ = reply.send(shared.lock().close());
            return;
        }
        if let Request::Append(append, reply) = req {
            let mut group = vec![(append, reply)];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(Request::Append(a, r)) => group.push((a, r)),
                    Ok(other) => {
                        next = Some(other);
                        break;
                    }
                    Err(_) => break,
                }
            }
            shared.lock().append_group(group);
            continue;
        }
        let mut writer = shared.lock();
        if writer.closed {
            refuse(req);
            continue;
        }
        writer.serve(req);
    }
    // The store was dropped without being closed.
    stop_checkpoints(shared);
}

/// Stops the checkpointer, which may be waiting for the writer: never while holding it.
fn stop_checkpoints(shared: &Shared) {
    let checkpointer = shared.lock().checkpointer.take();
    if let Some(c) = checkpointer {
        c.stop();
    }
}

/// Answers a request that arrived after the store closed.
fn refuse(req: Request) {
    fn closed<T>(reply: Reply<T>) {
        let _ = reply.send(Err(StoreError::Closed));
    }
    match req {
        Request::Append(.., r) => closed(r),
        Request::Summary(.., r) => closed(r),
        Request::Review(.., r) => closed(r),
        Request::Activity(.., r) => closed(r),
        Request::Delete(_, r) | Request::Claim(_, r) => closed(r),
        Request::Revoke(_, r) => closed(r),
        Request::Workshop(.., r) => closed(r),
        Request::Compact(.., r) => closed(r),
        Request::AddVersion(.., r) => closed(r),
        Request::Check(r) | Request::Close(r) => closed(r),
    }
}

impl Writer {
    /// Serves one request.
    fn serve(&mut self, req: Request) {
        match req {
            Request::Append(append, reply) => {
                let _ = reply.send(self.append(&append));
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
            Request::Claim(map, reply) => {
                let _ = reply.send(self.claim(&map));
            }
            Request::Revoke(revocation, reply) => {
                let _ = reply.send(self.revoke(&revocation));
            }
            Request::Workshop(map, entries, reply) => {
                let _ = reply.send(self.save_workshop(&map, &entries));
            }
            Request::AddVersion(map, version, skip, reply) => {
                let _ = reply.send(self.add_version(&map, version, skip));
            }
            Request::Check(reply) => {
                let _ = reply.send(self.check());
            }
            Request::Close(reply) => {
                let _ = reply.send(self.close());
            }
        }
    }

    /// Folds the whole WAL back into the database; every later request is refused.
    fn close(&mut self) -> Result<(), StoreError> {
        if std::mem::replace(&mut self.closed, true) {
            return Ok(());
        }
        self.conn
            .pragma_update(None, "wal_checkpoint", "TRUNCATE")
            .map_err(unavailable)
    }

    /// Commits one map's updates; the sequence number of the last.
    pub(super) fn append(&mut self, append: &Append) -> Result<Seq, StoreError> {
        if self.closed {
            return Err(StoreError::Closed);
        }
        let lasts = self.commit_appends(&[append]).map_err(unavailable)?;
        lasts[0].ok_or(StoreError::Deleted)
    }

    /// Commits every map's updates in one transaction; the last sequence number of each, or
    /// `None` for a map deleted since its caller loaded it (nothing of it is stored).
    fn commit_appends(&mut self, group: &[&Append]) -> rusqlite::Result<Vec<Option<Seq>>> {
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
            let mut deleted =
                tx.prepare_cached("SELECT deleted_at FROM deleted_maps WHERE map_id = ?1")?;
            let mut undelete = tx.prepare_cached("DELETE FROM deleted_maps WHERE map_id = ?1")?;
            let now = now_millis();
            for a in group {
                let map = a.map.as_str();
                match deleted
                    .query_row([map], |r| r.get::<_, i64>(0))
                    .optional()?
                {
                    None => {}
                    // Loaded after that deletion: this is the map's new life.
                    Some(at) if a.deleted_at == Some(at) => {
                        undelete.execute([map])?;
                    }
                    Some(_) => {
                        lasts.push(None);
                        continue;
                    }
                }
                let mut last = 0;
                for u in &a.updates {
                    stmt.execute(params![map, u.as_ref()])?;
                    last = tx.last_insert_rowid();
                }
                let bytes: usize = a.updates.iter().map(Bytes::len).sum();
                touch.execute(params![map, now, bytes as i64])?;
                lasts.push(Some(last));
            }
        }
        tx.commit()?;
        Ok(lasts)
    }

    fn append_group(&mut self, group: Vec<(Append, Reply<Seq>)>) {
        if self.closed {
            for (_, reply) in group {
                let _ = reply.send(Err(StoreError::Closed));
            }
            return;
        }
        let appends: Vec<&Append> = group.iter().map(|(a, _)| a).collect();
        let result = self.commit_appends(&appends);
        drop(appends);
        match result {
            Ok(lasts) => {
                for ((_, reply), last) in group.into_iter().zip(lasts) {
                    let _ = reply.send(last.ok_or(StoreError::Deleted));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for (_, reply) in group {
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
                &QUERIES.set_summary,
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
        let updated = self
            .conn
            .execute(
                &QUERIES.set_review,
                params![map.as_str(), number, expected, review],
            )
            .map_err(unavailable)?
            > 0;
        let exists = updated
            || self
                .conn
                .query_row(
                    &QUERIES.version_exists,
                    params![map.as_str(), number],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
        Ok(review_outcome(updated, exists))
    }

    fn save_workshop(&mut self, map: &MapId, entries: &[WorkshopEntry]) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(unavailable)?;
        {
            let mut stmt = tx
                .prepare_cached(&QUERIES.save_workshop)
                .map_err(unavailable)?;
            for e in entries {
                stmt.execute(params![map.as_str(), e.key, e.stamp, e.node, e.value])
                    .map_err(unavailable)?;
            }
        }
        tx.commit().map_err(unavailable)
    }

    fn revoke(&mut self, r: &Revocation) -> Result<(), StoreError> {
        let (sql, subject) = match &r.subject {
            Revoked::User(user) => (
                "INSERT INTO revocations (user, before, reason) VALUES (?1, ?2, ?3)
                 ON CONFLICT (user) DO UPDATE
                   SET before = max(before, excluded.before), reason = excluded.reason",
                user,
            ),
            Revoked::Token(id) => (
                "INSERT INTO revoked_tokens (token_id, revoked_at, reason) VALUES (?1, ?2, ?3)
                 ON CONFLICT (token_id) DO UPDATE SET reason = excluded.reason",
                id,
            ),
        };
        self.conn
            .execute(sql, params![subject, r.at, r.reason])
            .map(drop)
            .map_err(unavailable)
    }

    fn claim(&mut self, map: &MapId) -> Result<bool, StoreError> {
        let tx = self.conn.transaction().map_err(unavailable)?;
        let inserted = tx
            .execute(
                "INSERT INTO maps (map_id, updated_at) VALUES (?1, ?2)
                 ON CONFLICT (map_id) DO NOTHING",
                params![map.as_str(), now_millis()],
            )
            .map_err(unavailable)?
            == 1;
        if inserted {
            tx.execute("DELETE FROM deleted_maps WHERE map_id = ?1", [map.as_str()])
                .map_err(unavailable)?;
        }
        tx.commit().map_err(unavailable)?;
        Ok(inserted)
    }

    fn delete(&mut self, map: &MapId) -> Result<bool, StoreError> {
        let tx = self.conn.transaction().map_err(unavailable)?;
        let existed = tx
            .execute("DELETE FROM maps WHERE map_id = ?1", [map.as_str()])
            .map_err(unavailable)?
            > 0;
        for table in ["updates", "snapshots", "versions", "activity", "workshop"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE map_id = ?1"),
                [map.as_str()],
            )
            .map_err(unavailable)?;
        }
        if existed {
            // So that a room that loaded the map before cannot bring it back (see `append`).
            tx.execute(
                "INSERT INTO deleted_maps (map_id, deleted_at) VALUES (?1, ?2)
                 ON CONFLICT (map_id) DO UPDATE
                   SET deleted_at = max(excluded.deleted_at, deleted_maps.deleted_at + 1)",
                params![map.as_str(), now_millis()],
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
            .query_row(&QUERIES.newest_version, [map.as_str()], |r| {
                rows::numbered_state_vector(r)
            })
            .optional()
            .map_err(unavailable)?;
        let Some(number) = next_version_number(newest, &v, skip_if_unchanged) else {
            return Ok(None);
        };
        let created_at = now_millis();
        tx.execute(
            "INSERT INTO versions (map_id, number, label, description, author, kind, created_at,
                                   state, state_vector, raw_size)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                map.as_str(),
                number,
                v.label,
                v.description,
                v.author,
                v.kind.as_str(),
                created_at,
                v.state,
                v.state_vector,
                v.raw_size as i64
            ],
        )
        .map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        Ok(Some(stored_version(v, number, created_at)))
    }

    fn check(&mut self) -> Result<(), StoreError> {
        // Taking the write lock proves writes can proceed, not merely that the file opens.
        self.conn
            .execute_batch("BEGIN IMMEDIATE; ROLLBACK;")
            .map_err(unavailable)
    }
}
