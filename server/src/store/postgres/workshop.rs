//! A map's workshop registers in PostgreSQL: storing a batch of entries in one transaction.

use super::QUERIES;
use super::connection::Failure;
use crate::store::WorkshopEntry;
use deadpool_postgres::Object;
use tokio_postgres::types::Type;
use waymark_protocol::MapId;

/// Stores `entries`, each only if newer than the one stored for its key (see
/// `Queries::save_workshop`).
pub(super) async fn save(
    client: &mut Object,
    limits: &str,
    map: &MapId,
    entries: &[WorkshopEntry],
) -> Result<(), Failure> {
    let tx = client.transaction().await?;
    tx.batch_execute(limits).await?;
    for e in entries {
        tx.execute_typed(
            &QUERIES.save_workshop,
            &[
                (&map.as_str(), Type::TEXT),
                (&e.key, Type::TEXT),
                (&e.stamp, Type::INT8),
                (&e.node, Type::TEXT),
                (&e.value, Type::TEXT),
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
