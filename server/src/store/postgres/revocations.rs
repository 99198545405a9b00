//! The revocation tables in PostgreSQL: recording a revocation, and reading them all.

use super::connection::Failure;
use crate::store::{Revocation, Revoked};
use deadpool_postgres::Object;
use tokio_postgres::types::Type;

/// Records `r`; a user already revoked keeps the later of the two times.
pub(super) async fn record(client: &Object, r: &Revocation) -> Result<(), Failure> {
    let (sql, subject) = match &r.subject {
        Revoked::User(user) => (
            "INSERT INTO waymark_revocations AS v (\"user\", before, reason)
             VALUES ($1, $2, $3)
             ON CONFLICT (\"user\") DO UPDATE
               SET before = GREATEST(v.before, EXCLUDED.before), reason = EXCLUDED.reason",
            user,
        ),
        Revoked::Token(id) => (
            "INSERT INTO waymark_revoked_tokens (token_id, revoked_at, reason)
             VALUES ($1, $2, $3)
             ON CONFLICT (token_id) DO UPDATE SET reason = EXCLUDED.reason",
            id,
        ),
    };
    client
        .execute_typed(
            sql,
            &[
                (subject, Type::TEXT),
                (&r.at, Type::INT8),
                (&r.reason, Type::TEXT),
            ],
        )
        .await?;
    Ok(())
}

/// Every revocation: users, then single tokens.
pub(super) async fn all(client: &Object) -> Result<Vec<Revocation>, Failure> {
    let rows = client
        .query_typed(
            "SELECT 0, \"user\", before, reason FROM waymark_revocations
             UNION ALL SELECT 1, token_id, revoked_at, reason FROM waymark_revoked_tokens
             ORDER BY 1, 2",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let kind: i32 = r.try_get(0)?;
            let subject: String = r.try_get(1)?;
            Ok(Revocation {
                subject: match kind {
                    0 => Revoked::User(subject),
                    _ => Revoked::Token(subject),
                },
                at: r.try_get(2)?,
                reason: r.try_get(3)?,
            })
        })
        .collect()
}
