//! The PostgreSQL schema: the numbered migrations under `store/migrations/postgres/`, and applying
//! those a database has not had yet.

use super::connection::{Failure, describe};
use deadpool_postgres::Object;
use tokio_postgres::types::Type;

/// Schema migrations, in order: `(version, sql)`. A migration runs once per database, in the same
/// transaction that records it, so a failed one leaves nothing half-applied. Never edit a released
/// migration; add the next number instead. Migrations run under [`STATEMENT_TIMEOUT`] and
/// [`OPERATION_TIMEOUT`]; one that rewrites large tables needs its own plan.
///
/// [`STATEMENT_TIMEOUT`]: super::connection::STATEMENT_TIMEOUT
/// [`OPERATION_TIMEOUT`]: super::OPERATION_TIMEOUT
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_versions.sql")),
    (3, include_str!("../migrations/postgres/0003_workshop.sql")),
    (
        4,
        include_str!("../migrations/postgres/0004_deleted_maps.sql"),
    ),
    (
        5,
        include_str!("../migrations/postgres/0005_revocations.sql"),
    ),
    (
        6,
        include_str!("../migrations/postgres/0006_revoked_tokens.sql"),
    ),
];

/// Key of the transaction-scoped advisory lock that serialises migrations between nodes starting at
/// the same time ("Waymark1" in ASCII). Advisory locks are per database, so unrelated databases on
/// the same server do not contend.
const MIGRATION_LOCK: i64 = 0x5761_796d_6172_6b31;

/// Applies the migrations this database has not had yet. Safe when several nodes start at once:
/// the advisory lock makes them take turns, and each sees what the previous one recorded.
pub(super) async fn migrate(client: &mut Object, limits: &str) -> Result<(), Failure> {
    let tx = client.transaction().await?;
    tx.batch_execute(limits).await?;
    // Held until commit or rollback; released by the server even if this node dies.
    tx.execute_typed(
        "SELECT pg_advisory_xact_lock($1)",
        &[(&MIGRATION_LOCK, Type::INT8)],
    )
    .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS waymark_schema_migrations (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let applied = tx
        .query_typed("SELECT version FROM waymark_schema_migrations", &[])
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
        tx.batch_execute(sql)
            .await
            .map_err(|e| Failure::Other(format!("migration {version} failed: {}", describe(&e))))?;
        tx.execute_typed(
            "INSERT INTO waymark_schema_migrations (version, applied_at) VALUES ($1, now())",
            &[(&version, Type::INT4)],
        )
        .await?;
        tracing::info!(version, "applied PostgreSQL schema migration");
    }
    tx.commit().await?;
    Ok(())
}
