//! Durable storage of map documents: the [`Store`] trait every backend implements, and its types.
//!
//! A map is stored as an optional snapshot (a whole-document update) plus an append-only log of the
//! updates applied since. Appends are durable when they return; compaction replaces the snapshot and
//! drops the log entries it covers in one atomic step.

mod common;
pub mod postgres;
mod rows;
pub mod sqlite;

use async_trait::async_trait;
use bytes::Bytes;
use waymark_protocol::MapId;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Position of an update in a store's log. Increases with every append, across all maps.
pub type Seq = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be used right now (locked, disk full, I/O error); retrying later may work.
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    /// The backend has been shut down.
    #[error("storage is shut down")]
    Closed,
    /// The map was deleted after the caller loaded it: nothing was stored.
    #[error("the map was deleted")]
    Deleted,
}

/// Access that no longer grants anything (PROTOCOL.md §1.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub subject: Revoked,
    /// When it was recorded, seconds since the Unix epoch. A user's tokens issued before this
    /// time are refused.
    pub at: i64,
    pub reason: String,
}

/// Whose access a [`Revocation`] ends.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Revoked {
    /// Every token of this user (their `sub`) issued before the revocation.
    User(String),
    /// The one token with this id (its `jti`), whenever it was issued.
    Token(String),
}

impl std::fmt::Display for Revoked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Revoked::User(user) => write!(f, "user {user}"),
            Revoked::Token(id) => write!(f, "token {id}"),
        }
    }
}

/// Everything stored for one map.
#[derive(Debug, Default)]
pub struct StoredMap {
    /// The last compacted state, as a Yjs v1 update.
    pub snapshot: Option<Vec<u8>>,
    /// Updates appended since the snapshot, oldest first.
    pub updates: Vec<Vec<u8>>,
    /// Bytes in `updates`, to decide when to compact.
    pub log_bytes: usize,
    /// The newest sequence number covered by the snapshot or the log (0 for a new map).
    pub last_seq: Seq,
    /// When the map was last deleted, if it was and nothing has been stored since: passed back to
    /// [`Store::append_since`], it lets this caller start the map anew.
    pub deleted_at: Option<i64>,
}

/// A map as listed: what the store knows without loading it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MapInfo {
    pub id: String,
    pub title: String,
    pub kind: String,
    /// Milliseconds since the Unix epoch of the last stored change.
    pub updated_at: i64,
    /// Bytes stored for the map (snapshot and update log).
    pub size: u64,
    /// When the map is next due for review (`meta.reviewDue`, a date), if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_due: Option<String>,
}

/// Why a version of a map was taken.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum VersionKind {
    /// Saved by someone, with a label.
    Manual,
    /// Taken by the server after a quiet period following edits.
    Auto,
    /// The state just before a restore, so the restore can be undone.
    PreRestore,
}

impl VersionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionKind::Manual => "manual",
            VersionKind::Auto => "auto",
            VersionKind::PreRestore => "pre-restore",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Manual, Self::Auto, Self::PreRestore]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A version to store. Versions are immutable once stored.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub label: String,
    pub description: String,
    pub author: String,
    pub kind: VersionKind,
    /// The whole document as a Yjs v1 update, DEFLATE-compressed.
    pub state: Vec<u8>,
    /// The document's state vector (v1), to tell whether anything changed since a version.
    pub state_vector: Vec<u8>,
    /// Length of the uncompressed state.
    pub raw_size: u64,
}

/// A stored version, without its content.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    /// 1 for a map's first version, then counting up.
    pub number: i64,
    pub label: String,
    pub description: String,
    pub author: String,
    pub kind: VersionKind,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Bytes stored for the version (the compressed state).
    pub size: u64,
    /// Bytes of the uncompressed state.
    pub raw_size: u64,
    /// The version's review, once it was submitted for one (see the API's review endpoints).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<serde_json::Value>,
}

/// Something that happened to a map: a connection opened or closed, or edits accepted from one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// `connected`, `disconnected`, `edited`, or `restored` (a version restored through the API).
    pub kind: String,
    /// The connection (`<node>-<number>`): entries of one editing session share it.
    pub session: String,
    /// Who, if known: the `user.name` the client published in its presence state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// For `edited`: updates accepted from the session in one batch (0 otherwise).
    pub updates: u64,
    /// For `edited`: their size in bytes.
    pub bytes: u64,
}

/// One entry of a map's workshop state (see `crate::workshop`): a key and its latest value. Entries
/// are last-writer-wins registers, so nodes writing concurrently converge on the same state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkshopEntry {
    pub key: String,
    /// Orders writes of one key: the newer stamp wins, ties broken by `node`.
    pub stamp: i64,
    pub node: String,
    /// The value as JSON; `None` once removed (kept, so an older write cannot bring it back).
    pub value: Option<String>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Reads a map's snapshot and update log.
    async fn load(&self, map: &MapId) -> Result<StoredMap, StoreError>;

    /// What was stored for a map after `after` (a `last_seq` this caller has already read): the
    /// log entries with a higher sequence number, without the snapshot, unless a compaction has
    /// folded entries past `after` into the snapshot since, in which case everything, as
    /// [`Store::load`] does.
    async fn load_after(&self, map: &MapId, after: Seq) -> Result<StoredMap, StoreError>;

    /// Appends updates to a map's log, durably, in order; returns the sequence number of the last.
    /// A map deleted since the caller loaded it stays deleted: the append is refused with
    /// [`StoreError::Deleted`]. `deleted_at` is what the caller's load said
    /// ([`StoredMap::deleted_at`]): a caller that loaded the map after its deletion starts it anew.
    async fn append_since(
        &self,
        map: &MapId,
        updates: Vec<Bytes>,
        deleted_at: Option<i64>,
    ) -> Result<Seq, StoreError>;

    /// [`Store::append_since`] for a caller that saw no deletion.
    async fn append(&self, map: &MapId, updates: Vec<Bytes>) -> Result<Seq, StoreError> {
        self.append_since(map, updates, None).await
    }

    /// Atomically replaces the map's stored state with one that covers `snapshot` (the caller's
    /// whole document, which includes every update up to `through`) and drops the log entries it
    /// covers. Nothing stored may be lost: a backend shared by several nodes merges in whatever
    /// other nodes appended that the caller may not have applied yet. A snapshot older than the
    /// stored one is ignored.
    async fn compact(&self, map: &MapId, snapshot: Vec<u8>, through: Seq)
    -> Result<(), StoreError>;

    /// Records a map's title, kind and review due date, for listings.
    async fn set_summary(
        &self,
        map: &MapId,
        title: &str,
        kind: &str,
        review_due: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Deletes everything stored for a map, its versions included; returns whether there was
    /// anything.
    async fn delete(&self, map: &MapId) -> Result<bool, StoreError>;

    /// Every stored map, most recently changed first.
    async fn list(&self) -> Result<Vec<MapInfo>, StoreError>;

    /// Whether anything is stored for a map.
    async fn exists(&self, map: &MapId) -> Result<bool, StoreError>;

    /// Records a new, empty map unless one with this id is stored; whether it was new. Atomic for
    /// every node sharing the store, so of two nodes creating the same map only one succeeds. A
    /// deleted map's id may be claimed again.
    async fn claim(&self, map: &MapId) -> Result<bool, StoreError>;

    /// Stores a version of a map and numbers it. With `skip_if_unchanged`, nothing is stored (and
    /// `None` returned) when the map's newest version has the same state vector.
    async fn add_version(
        &self,
        map: &MapId,
        version: NewVersion,
        skip_if_unchanged: bool,
    ) -> Result<Option<VersionInfo>, StoreError>;

    /// Replaces a version's review (JSON) if it is still `expected` (`None`: no review yet);
    /// returns whether it did, or `None` if there is no such version.
    async fn set_review(
        &self,
        map: &MapId,
        number: i64,
        expected: Option<String>,
        review: String,
    ) -> Result<Option<bool>, StoreError>;

    /// Records what happened to a map.
    async fn record_activity(&self, map: &MapId, entries: Vec<Activity>) -> Result<(), StoreError>;

    /// A map's activity, newest first, at most `limit` entries.
    async fn activity(&self, map: &MapId, limit: usize) -> Result<Vec<Activity>, StoreError>;

    /// A map's versions, newest first.
    async fn versions(&self, map: &MapId) -> Result<Vec<VersionInfo>, StoreError>;

    /// One version and its compressed state.
    async fn version(
        &self,
        map: &MapId,
        number: i64,
    ) -> Result<Option<(VersionInfo, Vec<u8>)>, StoreError>;

    /// A map's workshop state: every entry stored for it.
    async fn workshop(&self, map: &MapId) -> Result<Vec<WorkshopEntry>, StoreError>;

    /// Stores workshop entries, each only if it is newer than the one stored for its key.
    async fn save_workshop(
        &self,
        map: &MapId,
        entries: Vec<WorkshopEntry>,
    ) -> Result<(), StoreError>;

    /// Records a revocation; one for a user already revoked moves their time later, never
    /// earlier.
    async fn revoke(&self, revocation: &Revocation) -> Result<(), StoreError>;

    /// Every revocation recorded.
    async fn revocations(&self) -> Result<Vec<Revocation>, StoreError>;

    /// Succeeds when the store can take writes now.
    async fn check(&self) -> Result<(), StoreError>;

    /// Finishes outstanding work and releases the backend.
    async fn close(&self) -> Result<(), StoreError>;
}
