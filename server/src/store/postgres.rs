//! The PostgreSQL store: one database shared by every node of a cluster.
//!
//! This module owns the `waymark_*` tables (created and upgraded by the numbered migrations under
//! `migrations/postgres/`), the connection pool, and the rules that keep the stored state complete
//! when several nodes append to, load and compact the same map at the same time:
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

use super::{
    Activity, MapInfo, NewVersion, Seq, Store, StoreError, StoredMap, VersionInfo, VersionKind,
};
use async_trait::async_trait;
use bytes::Bytes;
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime, TimeoutType,
};
use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::{IsolationLevel, NoTls};
use waymark_protocol::MapId;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

/// Schema migrations, in order: `(version, sql)`. A migration runs once per database, in the same
/// transaction that records it, so a failed one leaves nothing half-applied. Never edit a released
/// migration; add the next number instead. Migrations run under [`STATEMENT_TIMEOUT`] and
/// [`OPERATION_TIMEOUT`]; one that rewrites large tables needs its own plan.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("migrations/postgres/0001_init.sql")),
    (2, include_str!("migrations/postgres/0002_versions.sql")),
];

/// Key of the transaction-scoped advisory lock that serialises migrations between nodes starting at
/// the same time ("Waymark1" in ASCII). Advisory locks are per database, so unrelated databases on
/// the same server do not contend.
const MIGRATION_LOCK: i64 = 0x5761_796d_6172_6b31;

/// Most connections one node keeps open. Appends to different maps run in parallel, each on its own
/// connection; this bounds what one node takes from the server's `max_connections`.
const POOL_SIZE: usize = 16;

/// How long an operation waits for a free connection when all are busy.
const WAIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long opening a connection (TCP, startup, authentication) may take.
const CREATE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long checking an idle connection before reuse may take; a connection that does not answer
/// is discarded and a fresh one is opened.
const RECYCLE_TIMEOUT: Duration = Duration::from_secs(5);
/// TCP connect timeout, unless the URL sets one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// TCP keepalives find a peer that vanished without closing the connection (a crashed host, a
/// dropped network path) while we wait for an answer: after idle + interval × retries (~25 s).
const KEEPALIVE_IDLE: Duration = Duration::from_secs(10);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
const KEEPALIVE_RETRIES: u32 = 3;
/// How long sent data may stay unacknowledged before the kernel drops the connection (Linux).
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(30);
/// Server-side limit for one statement, lock waits included: a map row locked by a stuck node
/// makes its appends fail instead of hanging.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Server-side limit for a transaction left open and idle: a node frozen while holding a map's row
/// lock (a compaction mid-way) would otherwise block every append to that map.
const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);
/// Backstop for a whole store operation, for failures the timeouts above cannot see (a connection
/// that stays open but never answers). Dropping the operation rolls its transaction back.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

/// A [`Store`] on a PostgreSQL database shared by any number of nodes.
pub struct PostgresStore {
    pool: Pool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/dbname?options`,
    /// without TLS), checks that it answers, and brings its schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        // The URL may hold a password: errors describe it without repeating it.
        let mut config = tokio_postgres::Config::from_str(url).map_err(|e| {
            StoreError::Unavailable(format!("invalid PostgreSQL URL: {}", describe(&e)))
        })?;
        bound_waits(&mut config);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // Runs an empty query on an idle connection before handing it out: a connection
                // broken while idle (server restart, failover, network cut) is discarded instead of
                // failing the next operation, so the pool recovers by itself when the server does.
                recycling_method: RecyclingMethod::Verified,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(WAIT_TIMEOUT))
            .create_timeout(Some(CREATE_TIMEOUT))
            .recycle_timeout(Some(RECYCLE_TIMEOUT))
            .build()
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot create PostgreSQL pool: {}", describe(&e)))
            })?;
        let store = PostgresStore { pool };
        store
            .run(
                || "cannot prepare the PostgreSQL database".to_owned(),
                store.migrate(),
            )
            .await?;
        Ok(store)
    }

    /// Applies the migrations this database has not had yet. Safe when several nodes start at once:
    /// the advisory lock makes them take turns, and each sees what the previous one recorded.
    async fn migrate(&self) -> Result<(), Failure> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Held until commit or rollback; released by the server even if this node dies.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS waymark_schema_migrations (
                 version    integer PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await?;
        let applied = tx
            .query("SELECT version FROM waymark_schema_migrations", &[])
            .await?
            .iter()
            .map(|row| row.try_get::<_, i32>(0))
            .collect::<Result<Vec<_>, _>>()?;
        let known = MIGRATIONS.last().map_or(0, |&(v, _)| v);
        if let Some(&newer) = applied.iter().find(|&&v| v > known) {
            // A newer build migrated this database; writing with an older idea of the schema could
            // lose data, so refuse, as the SQLite store does.
            return Err(Failure::Other(format!(
                "the database has schema version {newer}; this build knows versions up to {known}"
            )));
        }
        for &(version, sql) in MIGRATIONS {
            if applied.contains(&version) {
                continue;
            }
            tx.batch_execute(sql).await.map_err(|e| {
                Failure::Other(format!("migration {version} failed: {}", describe(&e)))
            })?;
            tx.execute(
                "INSERT INTO waymark_schema_migrations (version, applied_at) VALUES ($1, now())",
                &[&version],
            )
            .await?;
            tracing::info!(version, "applied PostgreSQL schema migration");
        }
        tx.commit().await?;
        Ok(())
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

const VERSION_COLUMNS: &str =
    "number, label, description, author, kind, created_at, octet_length(state), raw_size, review";

fn version_info(row: &tokio_postgres::Row) -> Result<VersionInfo, Failure> {
    let kind: String = row.try_get(4)?;
    Ok(VersionInfo {
        number: row.try_get(0)?,
        label: row.try_get(1)?,
        description: row.try_get(2)?,
        author: row.try_get(3)?,
        kind: VersionKind::parse(&kind).unwrap_or(VersionKind::Manual),
        created_at: row.try_get(5)?,
        size: row.try_get::<_, i32>(6)?.max(0) as u64,
        raw_size: row.try_get::<_, i64>(7)?.max(0) as u64,
        review: row
            .try_get::<_, Option<String>>(8)?
            .and_then(|j| serde_json::from_str(&j).ok()),
    })
}

/// Makes every wait on the server end in bounded time, keeping whatever the URL chose itself.
fn bound_waits(config: &mut tokio_postgres::Config) {
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(TCP_USER_TIMEOUT);
    }
    // `keepalives=0` in the URL turns them off, and is respected; settings the URL left at the
    // defaults (2 h idle, the kernel's interval and retries) would notice a dead peer far too late.
    if config.get_keepalives() {
        if config.get_keepalives_idle() == tokio_postgres::Config::new().get_keepalives_idle() {
            config.keepalives_idle(KEEPALIVE_IDLE);
        }
        if config.get_keepalives_interval().is_none() {
            config.keepalives_interval(KEEPALIVE_INTERVAL);
        }
        if config.get_keepalives_retries().is_none() {
            config.keepalives_retries(KEEPALIVE_RETRIES);
        }
    }
    // Startup options apply from the first statement of every connection, without a round trip.
    let mut options = config.get_options().unwrap_or_default().to_owned();
    for (name, value) in [
        ("statement_timeout", STATEMENT_TIMEOUT),
        (
            "idle_in_transaction_session_timeout",
            IDLE_IN_TRANSACTION_TIMEOUT,
        ),
    ] {
        if !options.contains(name) {
            if !options.is_empty() {
                options.push(' ');
            }
            options.push_str(&format!("-c {name}={}", value.as_millis()));
        }
    }
    config.options(options);
    if config.get_application_name().is_none() {
        config.application_name("waymark");
    }
}

/// Why an operation failed, before it is given its context.
enum Failure {
    Pool(PoolError),
    Db(tokio_postgres::Error),
    Other(String),
    /// The store was closed.
    Closed,
}

impl From<PoolError> for Failure {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Closed => Failure::Closed,
            e => Failure::Pool(e),
        }
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Failure::Db(e)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Pool(PoolError::Backend(e)) => {
                write!(f, "cannot connect to PostgreSQL: {}", describe(e))
            }
            Failure::Pool(PoolError::Timeout(TimeoutType::Create)) => write!(
                f,
                "connecting to PostgreSQL took longer than {} s",
                CREATE_TIMEOUT.as_secs()
            ),
            Failure::Pool(PoolError::Timeout(TimeoutType::Wait)) => write!(
                f,
                "no PostgreSQL connection became free within {} s (all {POOL_SIZE} busy)",
                WAIT_TIMEOUT.as_secs()
            ),
            Failure::Pool(PoolError::Timeout(TimeoutType::Recycle)) => write!(
                f,
                "checking a pooled PostgreSQL connection took longer than {} s",
                RECYCLE_TIMEOUT.as_secs()
            ),
            Failure::Pool(e) => f.write_str(&describe(e)),
            Failure::Db(e) => f.write_str(&describe(e)),
            Failure::Other(message) => f.write_str(message),
            Failure::Closed => f.write_str("the store is closed"),
        }
    }
}

/// An error with its causes: tokio-postgres and deadpool put the useful part (the server's message,
/// the I/O error) in the source chain, not in the top-level message.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

fn len_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Where a part of a merged snapshot came from, to say which one could not be applied.
enum Part {
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
fn merge(parts: Vec<(Part, Vec<u8>)>) -> Result<Vec<u8>, String> {
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

const SELECT_LOG: &str = "SELECT seq, data FROM waymark_updates WHERE map_id = $1 ORDER BY seq";

#[async_trait]
impl Store for PostgresStore {
    async fn load(&self, map: &MapId) -> Result<StoredMap, StoreError> {
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
            let head = tx
                .prepare_cached(
                    "SELECT snapshot, compacted_through FROM waymark_maps WHERE map_id = $1",
                )
                .await?;
            let log = tx.prepare_cached(SELECT_LOG).await?;
            let mut out = StoredMap::default();
            if let Some(row) = tx.query_opt(&head, &[&map.as_str()]).await? {
                out.snapshot = row.try_get(0)?;
                out.last_seq = row.try_get(1)?;
            }
            for row in tx.query(&log, &[&map.as_str()]).await? {
                let (seq, data): (Seq, Vec<u8>) = (row.try_get(0)?, row.try_get(1)?);
                out.log_bytes += data.len();
                out.updates.push(data);
                out.last_seq = out.last_seq.max(seq);
            }
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    async fn append(&self, map: &MapId, updates: Vec<Bytes>) -> Result<Seq, StoreError> {
        self.run(|| format!("cannot append updates to map {map}"), async {
            let mut client = self.client().await?;
            if updates.is_empty() {
                // Nothing to store: report the newest seq the map already has, without a write.
                let stmt = client.prepare_cached(LAST_SEQ).await?;
                let row = client.query_opt(&stmt, &[&map.as_str()]).await?;
                return Ok(row.map(|r| r.try_get(0)).transpose()?.unwrap_or(0));
            }
            let bytes = len_i64(updates.iter().map(Bytes::len).sum());
            let data: Vec<&[u8]> = updates.iter().map(Bytes::as_ref).collect();
            let tx = client.transaction().await?;
            let touch = tx.prepare_cached(TOUCH_MAP).await?;
            let insert = tx.prepare_cached(INSERT_UPDATES).await?;
            // The upsert comes first: it takes the map row's lock (waiting for a compaction of this
            // map to finish), so the seqs below are assigned, and committed, while no compaction can
            // read the log — see `compact`.
            tx.execute(&touch, &[&map.as_str(), &bytes]).await?;
            let last: Option<Seq> = tx
                .query_one(&insert, &[&map.as_str(), &data])
                .await?
                .try_get(0)?;
            // Durable on return: synchronous_commit is the server's (default `on`).
            tx.commit().await?;
            last.ok_or_else(|| Failure::Other("no sequence number was assigned".to_owned()))
        })
        .await
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
            // Ordering argument. Every append upserts the map row (taking its lock) before it
            // inserts log rows, and holds that lock until it commits. Once this FOR UPDATE returns:
            // - an append that committed before is visible to the next statement (READ COMMITTED
            //   takes a fresh snapshot per statement), so its rows are read and merged;
            // - an append not yet committed is blocked on the upsert, before it has inserted
            //   anything or drawn a seq, and will insert after this transaction commits.
            // So the rows read are the map's whole log until commit, and deleting `seq <= max read`
            // deletes exactly those rows: nothing unread is dropped, whatever `through` says.
            let row = tx
                .query_opt(
                    "SELECT snapshot FROM waymark_maps WHERE map_id = $1 FOR UPDATE",
                    &[&map.as_str()],
                )
                .await?;
            let Some(row) = row else {
                // Deleted meanwhile (by any node): there is nothing left to compact into.
                tx.rollback().await?;
                return Ok(());
            };
            let stored: Option<Vec<u8>> = row.try_get(0)?;
            let log = tx.prepare_cached(SELECT_LOG).await?;
            let mut parts = Vec::new();
            // The caller's document first: it usually holds nearly everything, so the rest mostly
            // integrate as no-ops.
            parts.push((Part::Caller, snapshot));
            parts.extend(stored.map(|s| (Part::Stored, s)));
            let mut max_read: Option<Seq> = None;
            for row in tx.query(&log, &[&map.as_str()]).await? {
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
            tx.execute(
                "UPDATE waymark_maps
                    SET snapshot = $2, size = $3,
                        compacted_through = GREATEST(compacted_through, $4)
                  WHERE map_id = $1",
                &[
                    &map.as_str(),
                    &merged,
                    &len_i64(merged.len()),
                    &max_read.unwrap_or(0),
                ],
            )
            .await?;
            if let Some(max_read) = max_read {
                tx.execute(
                    "DELETE FROM waymark_updates WHERE map_id = $1 AND seq <= $2",
                    &[&map.as_str(), &max_read],
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
                // Like the SQLite store: a map that has no row (nothing stored) gets no summary.
                client
                    .execute(
                        "UPDATE waymark_maps SET title = $2, kind = $3, review_due = $4
                         WHERE map_id = $1",
                        &[&map.as_str(), &title, &kind, &review_due],
                    )
                    .await?;
                Ok(())
            },
        )
        .await
    }

    async fn delete(&self, map: &MapId) -> Result<bool, StoreError> {
        self.run(|| format!("cannot delete map {map}"), async {
            let client = self.client().await?;
            // The log goes with the row (ON DELETE CASCADE), in the same statement.
            let deleted = client
                .execute(
                    "DELETE FROM waymark_maps WHERE map_id = $1",
                    &[&map.as_str()],
                )
                .await?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn list(&self) -> Result<Vec<MapInfo>, StoreError> {
        self.run(|| "cannot list maps".to_owned(), async {
            let client = self.client().await?;
            let stmt = client
                .prepare_cached(
                    "SELECT map_id, title, kind, updated_at, size, review_due FROM waymark_maps
                     ORDER BY updated_at DESC, map_id",
                )
                .await?;
            let mut maps = Vec::new();
            for row in client.query(&stmt, &[]).await? {
                maps.push(MapInfo {
                    id: row.try_get(0)?,
                    title: row.try_get(1)?,
                    kind: row.try_get(2)?,
                    updated_at: row.try_get(3)?,
                    size: u64::try_from(row.try_get::<_, i64>(4)?).unwrap_or(0),
                    review_due: row.try_get(5)?,
                });
            }
            Ok(maps)
        })
        .await
    }

    async fn exists(&self, map: &MapId) -> Result<bool, StoreError> {
        self.run(|| format!("cannot look up map {map}"), async {
            let client = self.client().await?;
            let row = client
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM waymark_maps WHERE map_id = $1)",
                    &[&map.as_str()],
                )
                .await?;
            Ok(row.try_get(0)?)
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
            let locked = tx
                .query_opt(
                    "SELECT 1 FROM waymark_maps WHERE map_id = $1 FOR UPDATE",
                    &[&map.as_str()],
                )
                .await?;
            if locked.is_none() {
                return Err(Failure::Other("the map is not stored".to_owned()));
            }
            let newest = tx
                .query_opt(
                    "SELECT number, state_vector FROM waymark_versions WHERE map_id = $1
                     ORDER BY number DESC LIMIT 1",
                    &[&map.as_str()],
                )
                .await?;
            let newest: Option<(i64, Vec<u8>)> = match newest {
                Some(row) => Some((row.try_get(0)?, row.try_get(1)?)),
                None => None,
            };
            if skip_if_unchanged && newest.as_ref().is_some_and(|(_, sv)| *sv == v.state_vector) {
                return Ok(None);
            }
            let number = newest.map_or(1, |(n, _)| n + 1);
            let row = tx
                .query_one(
                    "INSERT INTO waymark_versions (map_id, number, label, description, author, kind,
                                                   created_at, state, state_vector, raw_size)
                     VALUES ($1, $2, $3, $4, $5, $6,
                             (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint, $7, $8, $9)
                     RETURNING created_at",
                    &[
                        &map.as_str(),
                        &number,
                        &v.label,
                        &v.description,
                        &v.author,
                        &v.kind.as_str(),
                        &v.state,
                        &v.state_vector,
                        &(v.raw_size as i64),
                    ],
                )
                .await?;
            let created_at: i64 = row.try_get(0)?;
            tx.commit().await?;
            Ok(Some(VersionInfo {
                number,
                label: v.label,
                description: v.description,
                author: v.author,
                kind: v.kind,
                created_at,
                size: v.state.len() as u64,
                raw_size: v.raw_size,
                review: None,
            }))
        })
        .await
    }

    async fn record_activity(&self, map: &MapId, entries: Vec<Activity>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.run(|| format!("cannot record activity of map {map}"), async {
            let client = self.client().await?;
            let mut at = Vec::with_capacity(entries.len());
            let (mut kind, mut session, mut user) = (Vec::new(), Vec::new(), Vec::new());
            let (mut updates, mut bytes) = (Vec::new(), Vec::new());
            for a in &entries {
                at.push(a.at);
                kind.push(a.kind.as_str());
                session.push(a.session.as_str());
                user.push(a.user.as_deref());
                updates.push(a.updates as i64);
                bytes.push(a.bytes as i64);
            }
            // A map that is not stored (deleted meanwhile) keeps no activity: the row is the
            // foreign key's parent, so only rows of stored maps are inserted.
            client
                .execute(
                    "INSERT INTO waymark_activity (map_id, at, kind, session, \"user\", updates, bytes)
                     SELECT $1, a.at, a.kind, a.session, a.usr, a.updates, a.bytes
                     FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                                 $7::bigint[]) WITH ORDINALITY
                          AS a(at, kind, session, usr, updates, bytes, n)
                     WHERE EXISTS (SELECT 1 FROM waymark_maps WHERE map_id = $1)
                     ORDER BY a.n",
                    &[&map.as_str(), &at, &kind, &session, &user, &updates, &bytes],
                )
                .await?;
            Ok(())
        })
        .await
    }

    async fn activity(&self, map: &MapId, limit: usize) -> Result<Vec<Activity>, StoreError> {
        self.run(|| format!("cannot read activity of map {map}"), async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT at, kind, session, \"user\", updates, bytes FROM waymark_activity
                     WHERE map_id = $1 ORDER BY seq DESC LIMIT $2",
                    &[&map.as_str(), &(limit as i64)],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(Activity {
                        at: r.try_get(0)?,
                        kind: r.try_get(1)?,
                        session: r.try_get(2)?,
                        user: r.try_get(3)?,
                        updates: r.try_get::<_, i64>(4)?.max(0) as u64,
                        bytes: r.try_get::<_, i64>(5)?.max(0) as u64,
                    })
                })
                .collect()
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
                // Compare-and-set in one statement: two nodes recording decisions at once cannot
                // overwrite each other's.
                let updated = client
                    .execute(
                        "UPDATE waymark_versions SET review = $4
                     WHERE map_id = $1 AND number = $2 AND review IS NOT DISTINCT FROM $3",
                        &[&map.as_str(), &number, &expected, &review],
                    )
                    .await?;
                if updated > 0 {
                    return Ok(Some(true));
                }
                let exists = client
                    .query_opt(
                        "SELECT 1 FROM waymark_versions WHERE map_id = $1 AND number = $2",
                        &[&map.as_str(), &number],
                    )
                    .await?;
                Ok(exists.map(|_| false))
            },
        )
        .await
    }

    async fn versions(&self, map: &MapId) -> Result<Vec<VersionInfo>, StoreError> {
        self.run(|| format!("cannot list the versions of map {map}"), async {
            let client = self.client().await?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {VERSION_COLUMNS} FROM waymark_versions WHERE map_id = $1
                         ORDER BY number DESC"
                    ),
                    &[&map.as_str()],
                )
                .await?;
            rows.iter().map(version_info).collect()
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
                    .query_opt(
                        &format!(
                            "SELECT {VERSION_COLUMNS}, state FROM waymark_versions
                         WHERE map_id = $1 AND number = $2"
                        ),
                        &[&map.as_str(), &number],
                    )
                    .await?;
                match row {
                    Some(row) => Ok(Some((version_info(&row)?, row.try_get(9)?))),
                    None => Ok(None),
                }
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
                .query_one(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wait_is_bounded_unless_the_url_says_otherwise() {
        let mut config = tokio_postgres::Config::from_str("postgres://u@h/db").unwrap();
        bound_waits(&mut config);
        assert_eq!(config.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        assert_eq!(config.get_tcp_user_timeout(), Some(&TCP_USER_TIMEOUT));
        assert_eq!(config.get_keepalives_idle(), KEEPALIVE_IDLE);
        assert_eq!(config.get_keepalives_interval(), Some(KEEPALIVE_INTERVAL));
        assert_eq!(config.get_keepalives_retries(), Some(KEEPALIVE_RETRIES));
        assert_eq!(
            config.get_options(),
            Some("-c statement_timeout=30000 -c idle_in_transaction_session_timeout=60000")
        );
        assert_eq!(config.get_application_name(), Some("waymark"));

        let mut config = tokio_postgres::Config::from_str(
            "postgres://u@h/db?connect_timeout=2&keepalives_idle=60\
             &options=-c%20statement_timeout%3D5s&application_name=mine",
        )
        .unwrap();
        bound_waits(&mut config);
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(2)));
        assert_eq!(config.get_keepalives_idle(), Duration::from_secs(60));
        assert_eq!(
            config.get_options(),
            Some("-c statement_timeout=5s -c idle_in_transaction_session_timeout=60000")
        );
        assert_eq!(config.get_application_name(), Some("mine"));
    }

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
