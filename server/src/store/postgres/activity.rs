//! The activity log in PostgreSQL: recording a batch of a map's activity.

use super::connection::Failure;
use crate::store::Activity;
use deadpool_postgres::Object;
use tokio_postgres::types::Type;
use waymark_protocol::MapId;

/// Inserts `entries` in order, unless the map is not stored (deleted meanwhile).
pub(super) async fn record(
    client: &Object,
    map: &MapId,
    entries: &[Activity],
) -> Result<(), Failure> {
    let mut at = Vec::with_capacity(entries.len());
    let (mut kind, mut session, mut user) = (Vec::new(), Vec::new(), Vec::new());
    let (mut updates, mut bytes) = (Vec::new(), Vec::new());
    for a in entries {
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
        .execute_typed(
            "INSERT INTO waymark_activity (map_id, at, kind, session, \"user\", updates, bytes)
             SELECT $1, a.at, a.kind, a.session, a.usr, a.updates, a.bytes
             FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                         $7::bigint[]) WITH ORDINALITY
                  AS a(at, kind, session, usr, updates, bytes, n)
             WHERE EXISTS (SELECT 1 FROM waymark_maps WHERE map_id = $1)
             ORDER BY a.n",
            &[
                (&map.as_str(), Type::TEXT),
                (&at, Type::INT8_ARRAY),
                (&kind, Type::TEXT_ARRAY),
                (&session, Type::TEXT_ARRAY),
                (&user, Type::TEXT_ARRAY),
                (&updates, Type::INT8_ARRAY),
                (&bytes, Type::INT8_ARRAY),
            ],
        )
        .await?;
    Ok(())
}
