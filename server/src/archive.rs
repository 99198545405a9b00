//! Stored versions of a map as bytes: a whole document DEFLATE-compressed on the way into the
//! store, and read back into a map on the way out, both off the async workers.

use crate::services::Services;
use crate::store::{NewVersion, StoreError, VersionInfo, VersionKind};
use waymark_protocol::MapId;
use waymark_protocol::schema;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Transact, Update};

/// Most bytes a stored version may inflate to (a guard against a corrupt row).
const MAX_STATE: usize = 1 << 30;

/// Compresses a document's state (a v1 update) into `version` and stores it. Automatic versions
/// of a map that has not changed since its newest version are skipped (`None`).
pub async fn store_version(
    services: &Services,
    map: &MapId,
    state: Vec<u8>,
    mut version: NewVersion,
) -> Result<Option<VersionInfo>, StoreError> {
    version.raw_size = state.len() as u64;
    // Compressing a large map takes a while: keep it off the async workers.
    version.state =
        tokio::task::spawn_blocking(move || miniz_oxide::deflate::compress_to_vec(&state, 6))
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let skip_if_unchanged = version.kind == VersionKind::Auto;
    services
        .store
        .add_version(map, version, skip_if_unchanged)
        .await
}

/// A stored version's compressed state read back as a map.
pub async fn read_back(compressed: Vec<u8>) -> Result<schema::Read, String> {
    tokio::task::spawn_blocking(move || {
        let state = miniz_oxide::inflate::decompress_to_vec_with_limit(&compressed, MAX_STATE)
            .map_err(|e| format!("cannot inflate the stored version: {e:?}"))?;
        let update = Update::decode_v1(&state).map_err(|e| e.to_string())?;
        let doc = Doc::new();
        let mut txn = doc.transact_mut();
        txn.apply_update(update).map_err(|e| e.to_string())?;
        Ok(schema::read(&txn))
    })
    .await
    .map_err(|e| e.to_string())?
}
