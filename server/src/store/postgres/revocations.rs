//! The revocations table in PostgreSQL: recording one, and reading them all.

use super::connection::Failure;
use crate::store::Revocation;
use deadpool_postgres::Object;

/// Records `r`; a user already revoked keeps the later of the two `before`s.
pub(super) async fn record(client: &Object, r: &Revocation) -> Result<(), Failure> {
    client
        .execute(
            "INSERT INTO waymark_revocations AS v (\"user\", before, reason)
             VALUES ($1, $2, $3)
             ON CONFLICT (\"user\") DO UPDATE
               SET before = GREATEST(v.before, EXCLUDED.before), reason = EXCLUDED.reason",
            &[&r.user, &r.before, &r.reason],
        )
        .await?;
    Ok(())
}

/// Every revocation, by user.
pub(super) async fn all(client: &Object) -> Result<Vec<Revocation>, Failure> {
    let rows = client
        .query(
            "SELECT \"user\", before, reason FROM waymark_revocations ORDER BY 1",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Revocation {
                user: r.try_get(0)?,
                before: r.try_get(1)?,
                reason: r.try_get(2)?,
            })
        })
        .collect()
}
