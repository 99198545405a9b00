//! The PostgreSQL store: one database shared by every node of a cluster.
//!
//! This module owns the `waymark_*` tables (created and upgraded by the numbered migrations in
//! `migrations`), the connection pool (`connection`), and the rules that keep the stored state
//! complete when several nodes append to, load and compact the same map at the same time:
//!
//! - Every append first upserts the map's row in `waymark_maps`, which takes that row's lock, and
//!   only then inserts its log rows. Compaction takes the same lock (`SELECT ... FOR UPDATE`), so an
//!   append and a compaction of one map never overlap, and per map the log's `seq` grows in commit
//!   order.
//! - A compaction merges the stored snapshot, the caller's snapshot and every log row it read into a
//!   new snapshot, so an update another node appended, which the caller never saw, is never dropped.
//! - A load reads the snapshot and the log from one database snapshot (REPEATABLE READ).
//!
//! Every failure is reported as [`StoreError::Unavailable`], within bounded time: the pool, the TCP
//! connections and the server-side statements all have timeouts, and broken connections are
//! verified away before reuse, so the store works again as soon as PostgreSQL is back.

mod activity;
mod connection;
mod merge;
mod migrations;
mod revocations;
mod workshop;

use super::common::{Queries, next_version_number, review_outcome, stored_version};
use super::rows;
use super::{
    Activity, MapInfo, NewVersion, Revocation, Seq, Store, StoreError, StoredMap, VersionInfo,
    WorkshopEntry,
};
use async_trait::async_trait;
use bytes::Bytes;
use connection::Failure;
use deadpool_postgres::{Object, Pool};
use merge::{Part, merge};
use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;
use tokio_postgres::IsolationLevel;
use tokio_postgres::types::{ToSql, Type};
use waymark_protocol::MapId;

/// Backstop for a whole store operation, for failures the timeouts in `connection` cannot see (a
/// connection that stays open but never answers). Dropping the operation rolls its transaction back.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

/// PostgreSQL's spelling of the shared statements; its tables are prefixed because its database may
/// be shared with other applications.
static QUERIES: LazyLock<Queries> = LazyLock::new(|| Queries::new("waymark_", |n| format!("${n}")));

/// A [`Store`] on a PostgreSQL database shared by any number of nodes.
pub struct PostgresStore {
    pool: Pool,
    /// Run at the start of every transaction: the server-side limits (see `connection`).
    limits: String,
}

impl PostgresStore {
    /// Everything stored for `map`; with `after`, only the log past it unless the snapshot covers
    /// more (see [`Store::load_after`]).
    async fn load_from(&self, map: &MapId, after: Option<Seq>) -> Result<StoredMap, StoreError> {
        self.run(|| format!("cannot load map {map}"), async {
            let mut client = self.client().await?;
            // Snapshot and log MUST come from one database snapshot. Read separately (READ
            // COMMITTED), a compaction committed by another node in between could be seen half:
            // the old snapshot, then a log whose rows that compaction already deleted because it
            // folded them into the new snapshot we did not read — those updates would be lost.
            let tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let id = map.as_str();
            let params: [(&(dyn ToSql + Sync), Type); 1] = [(&id, Type::TEXT)];
            let (_, through) = tokio::try_join!(
                tx.batch_execute(&self.limits),
                tx.query_typed_opt(
                    "SELECT compacted_through FROM waymark_maps WHERE map_id = $1",
                    &params
                )
            )?;
            let through: Option<Seq> = through.map(|r| r.try_get(0)).transpose()?;
            // The snapshot is read only if it holds something past `after`.
            let after = after.filter(|after| through.is_none_or(|through| through <= *after));
            let mut out = StoredMap::default();
            let log = match after {
                Some(after) => {
                    out.last_seq = after;
                    tx.query_typed(
                        &QUERIES.select_log_after,
                        &[(&map.as_str(), Type::TEXT), (&after, Type::INT8)],
                    )
                    .await?
                }
                None => {
                    let head = tx
                        .query_typed_opt(
                            "SELECT snapshot, compacted_through FROM waymark_maps WHERE map_id = $1",
                            &[(&map.as_str(), Type::TEXT)],
                        )
                        .await?;
                    if let Some(row) = head {
                        out.snapshot = row.try_get(0)?;
                        out.last_seq = row.try_get(1)?;
                    }
                    tx.query_typed(&QUERIES.select_log, &[(&map.as_str(), Type::TEXT)])
                        .await?
                }
            };
            for row in log {
                rows::push_logged(&mut out, &row)?;
            }
            let tombstone = tx
                .query_typed_opt(DELETED_AT, &[(&map.as_str(), Type::TEXT)])
                .await?;
            if let Some(row) = tombstone {
                out.deleted_at = Some(row.try_get(0)?);
            }
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    /// Connects to the database at `url` (`postgres://user:password@host:port/dbname?options`,
    /// without TLS), checks that it answers, and brings its schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let (pool, limits) = connection::pool(url)?;
        let store = PostgresStore { pool, limits };
        store
            .run(
                || "cannot prepare the PostgreSQL database".to_owned(),
                async { migrations::migrate(&mut store.client().await?, &store.limits).await },
            )
            .await?;
        Ok(store)
    }

    async fn client(&self) -> Result<Object, Failure> {
        Ok(self.pool.get().await?)
    }

    /// Runs one store operation with the backstop timeout, and turns its failure into a
    /// [`StoreError`] that says what was being done.
    async fn run<T>(
        &self,
        what: impl FnOnce() -> String,
        op: impl Future<Output = Result<T, Failure>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(OPERATION_TIMEOUT, op).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(Failure::Closed)) => Err(StoreError::Closed),
            Ok(Err(failure)) => Err(StoreError::Unavailable(format!("{}: {failure}", what()))),
            Err(_) => Err(StoreError::Unavailable(format!(
                "{}: PostgreSQL did not answer within {} s",
                what(),
                OPERATION_TIMEOUT.as_secs()
            ))),
        }
    }
}

/// Every row `sql` returns, decoded.
async fn query_all<T>(
    client: &Object,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
    decode: fn(&tokio_postgres::Row) -> Result<T, tokio_postgres::Error>,
) -> Result<Vec<T>, Failure> {
    let found = client.query_typed(sql, params).await?;
    Ok(found.iter().map(decode).collect::<Result<_, _>>()?)
}

fn len_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// When the map was deleted, if it was and has not been created again since.
const DELETED_AT: &str = "SELECT deleted_at FROM waymark_deleted_maps WHERE map_id = $1";

const TOUCH_MAP: &str = "
    INSERT INTO waymark_maps AS m (map_id, updated_at, size)
    VALUES ($1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint, $2)
    ON CONFLICT (map_id) DO UPDATE
       SET updated_at = GREATEST(m.updated_at, EXCLUDED.updated_at),
           size = m.size + EXCLUDED.size";

/// `WITH ORDINALITY ... ORDER BY` makes the rows, and so the identity values, follow the order of
/// the array.
const INSERT_UPDATES: &str = "
    WITH inserted AS (
        INSERT INTO waymark_updates (map_id, data)
        SELECT $1::text, u.data FROM unnest($2::bytea[]) WITH ORDINALITY AS u (data, n)
        ORDER BY u.n
        RETURNING seq
    )
    SELECT max(seq) FROM inserted";

const LAST_SEQ: &str = "
    SELECT GREATEST(m.compacted_through,
                    COALESCE((SELECT max(u.seq) FROM waymark_updates u WHERE u.map_id = m.map_id), 0))
    FROM waymark_maps m WHERE m.map_id = $1";

#[async_trait]
impl Store for PostgresStore {
    async fn load(&self, map: &MapId) -> Result<StoredMap, StoreError> {
        self.load_from(map, None).await
    }

    async fn load_after(&self, map: &MapId, after: Seq) -> Result<StoredMap, StoreError> {
        self.load_from(map, Some(after)).await
    }

    async fn append_since(
        &self,
        map: &MapId,
        updates: Vec<Bytes>,
        deleted_at: Option<i64>,
    ) -> Result<Seq, StoreError> {
        let stored = self
            .run(|| format!("cannot append updates to map {map}"), async {
                let mut client = self.client().await?;
                if updates.is_empty() {
                    // Nothing to store: report the newest seq the map already has, without a write.
                    let row = client
                        .query_typed_opt(LAST_SEQ, &[(&map.as_str(), Type::TEXT)])
                        .await?;
                    return Ok(Some(row.map(|r| r.try_get(0)).transpose()?.unwrap_or(0)));
                }
                let bytes = len_i64(updates.iter().map(Bytes::len).sum());
                let data: Vec<&[u8]> = updates.iter().map(Bytes::as_ref).collect();
                let tx = client.transaction().await?;
                // The upsert comes first: it takes the map row's lock (waiting for a compaction of this
                // map to finish), so the seqs below are assigned, and committed, while no compaction can
                // read the log — see `compact`. The limits go in the same round trip, before it.
                let id = map.as_str();
                let params: [(&(dyn ToSql + Sync), Type); 2] =
                    [(&id, Type::TEXT), (&bytes, Type::INT8)];
                tokio::try_join!(
                    tx.batch_execute(&self.limits),
                    tx.execute_typed(TOUCH_MAP, &params)
                )?;
                // After the upsert: a delete racing this append has committed by now (the upsert
                // waited for the row it deleted), so its tombstone is seen.
                let tombstone = tx
                    .query_typed_opt(DELETED_AT, &[(&map.as_str(), Type::TEXT)])
                    .await?;
                match tombstone {
                    None => {}
                    Some(row) => {
                        let at: i64 = row.try_get(0)?;
                        if deleted_at != Some(at) {
                            // Deleted since the caller loaded it: store nothing (rolled back on drop).
                            return Ok(None);
                        }
                        // Loaded after that deletion: this is the map's new life.
                        tx.execute_typed(
                            "DELETE FROM waymark_deleted_maps WHERE map_id = $1",
                            &[(&map.as_str(), Type::TEXT)],
                        )
                        .await?;
                    }
                }
                let last: Option<Seq> = tx
                    .query_typed_one(
                        INSERT_UPDATES,
                        &[(&map.as_str(), Type::TEXT), (&data, Type::BYTEA_ARRAY)],
                    )
                    .await?
                    .try_get(0)?;
                // Durable on return: synchronous_commit is the server's (default `on`).
                tx.commit().await?;
                last.map(Some)
                    .ok_or_else(|| Failure::Other("no sequence number was assigned".to_owned()))
            })
            .await?;
        stored.ok_or(StoreError::Deleted)
    }

    /// Folds the log into the snapshot without ever losing an update another node appended.
    ///
    /// `through` is not needed: the new snapshot is the union of the stored snapshot, `snapshot`
    /// and every log row read under the map's row lock, and exactly those rows are deleted, so
    /// whatever the caller has or has not applied is kept. A `snapshot` older than the stored one
    /// only adds nothing.
    async fn compact(
        &self,
        map: &MapId,
        snapshot: Vec<u8>,
        _through: Seq,
    ) -> Result<(), StoreError> {
        self.run(|| format!("cannot compact map {map}"), async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.batch_execute(&self.limits).await?;
            // Ordering argument. Every append upserts the map row (taking its lock) before it
            // inserts log rows, and holds that lock until it commits. Once this FOR UPDATE returns:
            // - an append that committed before is visible to the next statement (READ COMMITTED
            //   takes a fresh snapshot per statement), so its rows are read and merged;
            // - an append not yet committed is blocked on the upsert, before it has inserted
            //   anything or drawn a seq, and will insert after this transaction commits.
            // So the rows read are the map's whole log until commit, and deleting `seq <= max read`
            // deletes exactly those rows: nothing unread is dropped, whatever `through` says.
            let row = tx
                .query_typed_opt(
                    "SELECT snapshot FROM waymark_maps WHERE map_id = $1 FOR UPDATE",
                    &[(&map.as_str(), Type::TEXT)],
                )
                .await?;
            let Some(row) = row else {
                // Deleted meanwhile (by any node): there is nothing left to compact into.
                tx.rollback().await?;
                return Ok(());
            };
            let stored: Option<Vec<u8>> = row.try_get(0)?;
            let mut parts = Vec::new();
            // The caller's document first: it usually holds nearly everything, so the rest mostly
            // integrate as no-ops.
            parts.push((Part::Caller, snapshot));
            parts.extend(stored.map(|s| (Part::Stored, s)));
            let mut max_read: Option<Seq> = None;
            for row in tx
                .query_typed(&QUERIES.select_log, &[(&map.as_str(), Type::TEXT)])
                .await?
            {
                let (seq, data): (Seq, Vec<u8>) = (row.try_get(0)?, row.try_get(1)?);
                max_read = max_read.max(Some(seq));
                parts.push((Part::Log(seq), data));
            }
            // Decoding and re-encoding a multi-megabyte document is CPU work: keep it off the async
            // runtime. The row lock stays held meanwhile, which only delays appends to this map.
            let merged = tokio::task::spawn_blocking(move || merge(parts))
                .await
                .map_err(|e| Failure::Other(format!("merging the snapshot failed: {e}")))?
                .map_err(Failure::Other)?;
            tx.execute_typed(
                "UPDATE waymark_maps
                    SET snapshot = $2, size = $3,
                        compacted_through = GREATEST(compacted_through, $4)
                  WHERE map_id = $1",
                &[
                    (&map.as_str(), Type::TEXT),
                    (&merged, Type::BYTEA),
                    (&len_i64(merged.len()), Type::INT8),
                    (&max_read.unwrap_or(0), Type::INT8),
                ],
            )
            .await?;
            if let Some(max_read) = max_read {
                tx.execute_typed(
                    "DELETE FROM waymark_updates WHERE map_id = $1 AND seq <= $2",
                    &[(&map.as_str(), Type::TEXT), (&max_read, Type::INT8)],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(())
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
        self.run(
            || format!("cannot record the summary of map {map}"),
            async {
                let client = self.client().await?;
                client
                    .execute_typed(
                        QUERIES.set_summary.as_str(),
                        &[
                            (&map.as_str(), Type::TEXT),
                            (&title, Type::TEXT),
                            (&kind, Type::TEXT),
                            (&review_due, Type::TEXT),
                        ],
                    )
                    .await?;
                Ok(())
            },
        )
        .await
    }

    async fn delete(&self, map: &MapId) -> Result<bool, StoreError> {
        self.run(|| format!("cannot delete map {map}"), async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // The log goes with the row (ON DELETE CASCADE), in the same statement.
            let id = map.as_str();
            let params: [(&(dyn ToSql + Sync), Type); 1] = [(&id, Type::TEXT)];
            let (_, deleted) = tokio::try_join!(
                tx.batch_execute(&self.limits),
                tx.execute_typed("DELETE FROM waymark_maps WHERE map_id = $1", &params)
            )?;
            if deleted > 0 {
                // So that a node that loaded the map before cannot bring it back (see `append`).
                tx.execute_typed(
                    "INSERT INTO waymark_deleted_maps AS d (map_id, deleted_at)
                     VALUES ($1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                     ON CONFLICT (map_id) DO UPDATE
                       SET deleted_at = GREATEST(EXCLUDED.deleted_at, d.deleted_at + 1)",
                    &[(&map.as_str(), Type::TEXT)],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn list(&self) -> Result<Vec<MapInfo>, StoreError> {
        self.run(|| "cannot list maps".to_owned(), async {
            let client = self.client().await?;
            query_all(&client, &QUERIES.list_maps, &[], rows::map_info).await
        })
        .await
    }

    async fn exists(&self, map: &MapId) -> Result<bool, StoreError> {
        self.run(|| format!("cannot look up map {map}"), async {
            let client = self.client().await?;
            let row = client
                .query_typed_one(QUERIES.map_exists.as_str(), &[(&map.as_str(), Type::TEXT)])
                .await?;
            Ok(row.try_get(0)?)
        })
        .await
    }

    async fn revoke(&self, r: &Revocation) -> Result<(), StoreError> {
        self.run(
            || format!("cannot revoke the access of {}", r.subject),
            async { revocations::record(&self.client().await?, r).await },
        )
        .await
    }

    async fn revocations(&self) -> Result<Vec<Revocation>, StoreError> {
        self.run(|| "cannot read revocations".to_owned(), async {
            revocations::all(&self.client().await?).await
        })
        .await
    }

    async fn claim(&self, map: &MapId) -> Result<bool, StoreError> {
        self.run(|| format!("cannot create map {map}"), async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let id = map.as_str();
            let params: [(&(dyn ToSql + Sync), Type); 1] = [(&id, Type::TEXT)];
            let (_, inserted) = tokio::try_join!(
                tx.batch_execute(&self.limits),
                tx.execute_typed(
                    "INSERT INTO waymark_maps (map_id, updated_at, size)
                     VALUES ($1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint, 0)
                     ON CONFLICT (map_id) DO NOTHING",
                    &params,
                )
            )?;
            let inserted = inserted == 1;
            if inserted {
                tx.execute_typed(
                    "DELETE FROM waymark_deleted_maps WHERE map_id = $1",
                    &[(&map.as_str(), Type::TEXT)],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(inserted)
        })
        .await
    }

    async fn add_version(
        &self,
        map: &MapId,
        v: NewVersion,
        skip_if_unchanged: bool,
    ) -> Result<Option<VersionInfo>, StoreError> {
        self.run(|| format!("cannot store a version of map {map}"), async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // The map row's lock numbers versions one at a time, whichever node takes them.
            let id = map.as_str();
            let params: [(&(dyn ToSql + Sync), Type); 1] = [(&id, Type::TEXT)];
            let (_, locked) = tokio::try_join!(
                tx.batch_execute(&self.limits),
                tx.query_typed_opt(
                    "SELECT 1 FROM waymark_maps WHERE map_id = $1 FOR UPDATE",
                    &params
                )
            )?;
            if locked.is_none() {
                return Err(Failure::Other("the map is not stored".to_owned()));
            }
            let newest = tx
                .query_typed_opt(
                    QUERIES.newest_version.as_str(),
                    &[(&map.as_str(), Type::TEXT)],
                )
                .await?;
            let newest = newest
                .as_ref()
                .map(rows::numbered_state_vector)
                .transpose()?;
            let Some(number) = next_version_number(newest, &v, skip_if_unchanged) else {
                return Ok(None);
            };
            let row = tx
                .query_typed_one(
                    "INSERT INTO waymark_versions (map_id, number, label, description, author, kind,
                                                   created_at, state, state_vector, raw_size)
                     VALUES ($1, $2, $3, $4, $5, $6,
                             (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint, $7, $8, $9)
                     RETURNING created_at",
                    &[
                        (&map.as_str(), Type::TEXT),
                        (&number, Type::INT8),
                        (&v.label, Type::TEXT),
                        (&v.description, Type::TEXT),
                        (&v.author, Type::TEXT),
                        (&v.kind.as_str(), Type::TEXT),
                        (&v.state, Type::BYTEA),
                        (&v.state_vector, Type::BYTEA),
                        (&(v.raw_size as i64), Type::INT8),
                    ],
                )
                .await?;
            let created_at: i64 = row.try_get(0)?;
            tx.commit().await?;
            Ok(Some(stored_version(v, number, created_at)))
        })
        .await
    }

    async fn record_activity(&self, map: &MapId, entries: Vec<Activity>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.run(|| format!("cannot record activity of map {map}"), async {
            activity::record(&self.client().await?, map, &entries).await
        })
        .await
    }

    async fn workshop(&self, map: &MapId) -> Result<Vec<WorkshopEntry>, StoreError> {
        self.run(|| format!("cannot read the workshop of map {map}"), async {
            let client = self.client().await?;
            let params: [(&(dyn ToSql + Sync), Type); 1] = [(&map.as_str(), Type::TEXT)];
            query_all(&client, &QUERIES.workshop, &params, rows::workshop_entry).await
        })
        .await
    }

    async fn save_workshop(
        &self,
        map: &MapId,
        entries: Vec<WorkshopEntry>,
    ) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.run(
            || format!("cannot store the workshop of map {map}"),
            async { workshop::save(&mut self.client().await?, &self.limits, map, &entries).await },
        )
        .await
    }

    async fn activity(&self, map: &MapId, limit: usize) -> Result<Vec<Activity>, StoreError> {
        self.run(|| format!("cannot read activity of map {map}"), async {
            let client = self.client().await?;
            let params: [(&(dyn ToSql + Sync), Type); 2] =
                [(&map.as_str(), Type::TEXT), (&(limit as i64), Type::INT8)];
            query_all(&client, &QUERIES.activity, &params, rows::activity).await
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
        self.run(
            || format!("cannot record the review of version {number} of map {map}"),
            async {
                let client = self.client().await?;
                let updated = client
                    .execute_typed(
                        QUERIES.set_review.as_str(),
                        &[
                            (&map.as_str(), Type::TEXT),
                            (&number, Type::INT8),
                            (&expected, Type::TEXT),
                            (&review, Type::TEXT),
                        ],
                    )
                    .await?
                    > 0;
                let exists = updated
                    || client
                        .query_typed_one(
                            QUERIES.version_exists.as_str(),
                            &[(&map.as_str(), Type::TEXT), (&number, Type::INT8)],
                        )
                        .await?
                        .try_get(0)?;
                Ok(review_outcome(updated, exists))
            },
        )
        .await
    }

    async fn versions(&self, map: &MapId) -> Result<Vec<VersionInfo>, StoreError> {
        self.run(|| format!("cannot list the versions of map {map}"), async {
            let client = self.client().await?;
            query_all(
                &client,
                &QUERIES.versions,
                &[(&map.as_str(), Type::TEXT)],
                rows::version_info,
            )
            .await
        })
        .await
    }

    async fn version(
        &self,
        map: &MapId,
        number: i64,
    ) -> Result<Option<(VersionInfo, Vec<u8>)>, StoreError> {
        self.run(
            || format!("cannot read version {number} of map {map}"),
            async {
                let client = self.client().await?;
                let row = client
                    .query_typed_opt(
                        QUERIES.version.as_str(),
                        &[(&map.as_str(), Type::TEXT), (&number, Type::INT8)],
                    )
                    .await?;
                Ok(row.as_ref().map(rows::version_with_state).transpose()?)
            },
        )
        .await
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.run(|| "PostgreSQL cannot take writes".to_owned(), async {
            // Getting a connection proves the server answers (the pool verifies idle ones); a
            // standby (during a failover) or a read-only database answers too but takes no writes.
            let client = self.client().await?;
            let row = client
                .query_typed_one(
                    "SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'",
                    &[],
                )
                .await?;
            let (standby, read_only): (bool, bool) = (row.try_get(0)?, row.try_get(1)?);
            if standby {
                return Err(Failure::Other(
                    "the server is a standby (in recovery)".to_owned(),
                ));
            }
            if read_only {
                return Err(Failure::Other("transactions are read-only".to_owned()));
            }
            Ok(())
        })
        .await
    }

    async fn close(&self) -> Result<(), StoreError> {
        // Operations under way finish with the connections they hold (which are then dropped);
        // later ones fail with `StoreError::Closed`.
        self.pool.close();
        Ok(())
    }
}
