//! Opening a connection to the SQLite database: its settings, the schema, and the in-place upgrade
//! of a database an older build wrote.

use super::unavailable;
use crate::store::StoreError;
use rusqlite::{Connection, OptionalExtension};
use std::path::Path;
use std::time::Duration;

/// How long a write waits for a lock held by another process before the store reports itself
/// unavailable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(1);

/// Version 2 added `versions` and `maps.review_due`; a version-1 database is upgraded in place.
/// The `workshop`, `deleted_maps`, `revocations` and `revoked_tokens` tables came later without a new version: they are only ever
/// added (`IF NOT EXISTS`), and a build without them ignores them.
pub(super) const SCHEMA_VERSION: i64 = 2;

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
CREATE TABLE IF NOT EXISTS workshop (
    map_id TEXT NOT NULL,
    key    TEXT NOT NULL,
    stamp  INTEGER NOT NULL,
    node   TEXT NOT NULL,
    value  TEXT,
    PRIMARY KEY (map_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revocations (
    user   TEXT PRIMARY KEY,
    before INTEGER NOT NULL,
    reason TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revoked_tokens (
    token_id   TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL,
    reason     TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deleted_maps (
    map_id     TEXT PRIMARY KEY,
    deleted_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO maps (map_id, updated_at)
    SELECT map_id, 0 FROM (SELECT map_id FROM updates UNION SELECT map_id FROM snapshots);
";

/// Opens the database with the settings every connection of the store relies on, creating or
/// upgrading its schema first: whichever connection opens first finds the file as an older build
/// may have left it.
pub(super) fn open_connection(path: &Path) -> Result<Connection, StoreError> {
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
