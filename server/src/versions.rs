//! Named versions of a map: take one of the map as it is now, read one back, and restore one in
//! place. The REST API's version endpoints are thin over this.
//!
//! A version stores the whole document, DEFLATE-compressed (see `archive`), so it costs no more
//! than a compressed full state and reads back without any history.

use crate::events;
use crate::refusal::Refusal;
use crate::registry::Registry;
use crate::room::{ApplyError, Command};
use crate::store::{Activity, NewVersion, VersionInfo, VersionKind};
use serde_json::json;
use waymark_protocol::MapId;
use waymark_protocol::schema::{self, JourneyMap, diff};

/// Takes a version of the map as it is now (everything applied so far, durable), and tells the
/// map's clients.
pub async fn take(
    rooms: &Registry,
    map: &MapId,
    label: String,
    description: String,
    author: String,
    kind: VersionKind,
) -> Result<VersionInfo, Refusal> {
    let (state, state_vector) = rooms.request(map, |reply| Command::State { reply }).await?;
    let version = NewVersion {
        label,
        description,
        author,
        kind,
        state: Vec::new(),
        state_vector,
        raw_size: 0,
    };
    let info = crate::archive::store_version(rooms.services(), map, state, version)
        .await
        .map_err(Refusal::storage)?
        // Only automatic versions are ever skipped.
        .ok_or_else(|| Refusal::internal("internal", "the version was not stored"))?;
    events::emit(
        rooms,
        map,
        json!({ "type": "version.created", "version": info }),
    );
    Ok(info)
}

/// A stored version and its compressed state, or the refusal that there is no such version.
pub async fn stored(
    rooms: &Registry,
    map: &MapId,
    number: i64,
) -> Result<(VersionInfo, Vec<u8>), Refusal> {
    rooms
        .services()
        .store
        .version(map, number)
        .await
        .map_err(Refusal::storage)?
        .ok_or_else(|| {
            Refusal::not_found(
                "version_not_found",
                format!("map {:?} has no version {number}", map.as_str()),
            )
        })
}

/// A stored version, read back as a map.
pub async fn load(
    rooms: &Registry,
    map: &MapId,
    number: i64,
) -> Result<(VersionInfo, schema::Read), Refusal> {
    let (info, compressed) = stored(rooms, map, number).await?;
    let read = crate::archive::read_back(compressed)
        .await
        .map_err(|e| Refusal::internal("corrupt_version", e))?;
    Ok((info, read))
}

/// The map as it is now (everything applied so far, durable).
pub async fn current(rooms: &Registry, map: &MapId) -> Result<schema::Read, Refusal> {
    Ok(rooms.request(map, |reply| Command::Read { reply }).await?)
}

/// What a restore did.
pub struct Restored {
    /// The version restored.
    pub restored: VersionInfo,
    /// The map as it was just before, kept so the restore can be undone.
    pub safety: VersionInfo,
    pub changes: diff::Summary,
}

/// Restores a version in place: a safety version of the map as it is now is taken first, then the
/// map is turned into the version with ordinary edits, so connected editors see it change and keep
/// editing, and whatever they do afterwards is kept.
pub async fn restore(
    rooms: &Registry,
    map: &MapId,
    number: i64,
    author: String,
) -> Result<Restored, Refusal> {
    let (info, read) = load(rooms, map, number).await?;
    let safety = take(
        rooms,
        map,
        format!("Before restoring version {number}"),
        format!(
            "The map as it was just before version {number} ({}) was restored",
            info.label
        ),
        author,
        VersionKind::PreRestore,
    )
    .await?;
    let target: Box<JourneyMap> = Box::new(read.map);
    let changes = rooms
        .request(map, |reply| Command::Restore {
            target: target.clone(),
            reply,
        })
        .await?
        .map_err(|e| match e {
            ApplyError::Invalid(r) => Refusal::conflict("cannot_restore", r.error),
            other => other.into(),
        })?;
    events::emit(
        rooms,
        map,
        json!({ "type": "version.restored", "version": info, "safetyVersion": safety.number }),
    );
    // The restore is an edit like any other in the map's record; it came through the API.
    let entry = Activity {
        at: safety.created_at,
        kind: "restored".into(),
        session: "api".into(),
        user: (!safety.author.is_empty()).then(|| safety.author.clone()),
        updates: 1,
        bytes: 0,
    };
    if let Err(e) = rooms
        .services()
        .store
        .record_activity(map, vec![entry])
        .await
    {
        tracing::warn!(error = %e, map_id = %map, "cannot record the restore in the map's activity");
    }
    Ok(Restored {
        restored: info,
        safety,
        changes,
    })
}
