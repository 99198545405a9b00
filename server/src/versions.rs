//! Named versions of a map over REST: take one, list them, read or export any of them, compare two
//! versions (or a version with the map as it is now), and restore one in place.
//!
//! A version stores the whole document, DEFLATE-compressed, so it costs no more than a compressed
//! full state and reads back without any history.

use crate::api::{self, ApiError, ApiResult};
use crate::auth::Access;
use crate::registry::Registry;
use crate::room::Command;
use crate::state::Shared;
use crate::store::{NewVersion, VersionInfo, VersionKind};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use waymark_protocol::MapId;
use waymark_protocol::schema::{self, JourneyMap};
use yrs::updates::decoder::Decode;
use yrs::{Doc, Transact, Update};

/// Longest label accepted.
const MAX_LABEL: usize = 200;
/// Longest description or author accepted.
const MAX_TEXT: usize = 10_000;
/// Most bytes a stored version may inflate to (a guard against a corrupt row).
const MAX_STATE: usize = 1 << 30;

pub fn router() -> Router<Arc<Shared>> {
    use axum::routing::get;
    Router::new()
        .route(
            api::paths::VERSIONS,
            get(list_versions).post(create_version),
        )
        .route(api::paths::VERSION, get(read_version))
        .route(api::paths::VERSION_EXPORT, get(export_version))
        .route(
            api::paths::VERSION_RESTORE,
            axum::routing::post(restore_version),
        )
        .route(api::paths::COMPARE, get(compare))
        .route(
            api::paths::REVIEW,
            axum::routing::post(crate::review::submit),
        )
        .route(
            api::paths::DECISIONS,
            axum::routing::post(crate::review::decide),
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateVersion {
    label: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    author: String,
}

/// Takes a version of the map as it is now (everything applied so far, durable).
pub(crate) async fn take(
    shared: &Arc<Shared>,
    map: &MapId,
    label: String,
    description: String,
    author: String,
    kind: VersionKind,
) -> ApiResult<Option<VersionInfo>> {
    let (state, state_vector) =
        Registry::request(shared, map, |reply| Command::State { reply }).await?;
    let version = NewVersion {
        label,
        description,
        author,
        kind,
        state: Vec::new(),
        state_vector,
        raw_size: 0,
    };
    store_version(shared, map, state, version)
        .await
        .map_err(ApiError::storage)
}

/// Compresses a document's state into `version` and stores it. Automatic versions of a map that
/// has not changed since its newest version are skipped (`None`).
pub(crate) async fn store_version(
    shared: &Shared,
    map: &MapId,
    state: Vec<u8>,
    mut version: NewVersion,
) -> Result<Option<VersionInfo>, crate::store::StoreError> {
    version.raw_size = state.len() as u64;
    // Compressing a large map takes a while: keep it off the async workers.
    version.state =
        tokio::task::spawn_blocking(move || miniz_oxide::deflate::compress_to_vec(&state, 6))
            .await
            .map_err(|e| crate::store::StoreError::Unavailable(e.to_string()))?;
    let skip_if_unchanged = version.kind == VersionKind::Auto;
    let stored = shared
        .store
        .add_version(map, version, skip_if_unchanged)
        .await?;
    if let Some(info) = &stored {
        crate::events::emit(
            shared,
            map,
            json!({ "type": "version.created", "version": info }),
        );
    }
    Ok(stored)
}

async fn create_version(
    State(shared): State<Arc<Shared>>,
    Extension(access): Extension<Access>,
    Path(raw): Path<String>,
    body: Result<Json<CreateVersion>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(mut req) = body?;
    // With authentication, the author is whoever the token names.
    if let Some(author) = access.author() {
        req.author = author;
    }
    let label = req.label.trim().to_owned();
    if label.is_empty() || label.chars().count() > MAX_LABEL {
        return Err(ApiError::bad_request(
            "invalid_label",
            format!("a version needs a label of 1 to {MAX_LABEL} characters"),
        ));
    }
    if req.description.len() > MAX_TEXT || req.author.len() > MAX_TEXT {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("description and author are limited to {MAX_TEXT} bytes"),
        ));
    }
    let id = api::existing(&shared, &raw).await?;
    let info = take(
        &shared,
        &id,
        label,
        req.description,
        req.author,
        VersionKind::Manual,
    )
    .await?
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the version was not stored",
        )
    })?;
    let location = format!("/api/v1/maps/{id}/versions/{}", info.number);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(info),
    )
        .into_response())
}

async fn list_versions(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = api::existing(&shared, &raw).await?;
    let versions = shared
        .store
        .versions(&id)
        .await
        .map_err(ApiError::storage)?;
    // Whether the map has moved on since the newest approved version.
    let approved = versions.iter().find(|v| {
        crate::review::review_of(v).is_some_and(|r| r.state == crate::review::ReviewState::Approved)
    });
    let (last_approved, changed_since) = match approved {
        Some(v) => {
            let (_, then) = load_version(&shared, &id, v.number).await?;
            let now = Registry::request(&shared, &id, |reply| Command::Read { reply }).await?;
            (
                Some(v.number),
                Some(!schema::diff(&then.map, &now.map).is_empty()),
            )
        }
        None => (None, None),
    };
    Ok(Json(json!({
        "id": id.as_str(),
        "versions": versions,
        "lastApproved": last_approved,
        "changedSinceApproved": changed_since,
    })))
}

pub(crate) fn parse_number(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_version",
            format!("{raw:?} is not a version number (1, 2, ...)"),
        )
    })
}

/// A stored version and its compressed state, or the answer that there is no such version.
pub(crate) async fn stored_version(
    shared: &Shared,
    id: &MapId,
    number: i64,
) -> ApiResult<(VersionInfo, Vec<u8>)> {
    shared
        .store
        .version(id, number)
        .await
        .map_err(ApiError::storage)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "version_not_found",
                format!("map {:?} has no version {number}", id.as_str()),
            )
        })
}

/// A stored version, read back as a map.
async fn load_version(
    shared: &Arc<Shared>,
    id: &MapId,
    number: i64,
) -> ApiResult<(VersionInfo, schema::Read)> {
    let (info, compressed) = stored_version(shared, id, number).await?;
    let read = tokio::task::spawn_blocking(move || {
        let state = miniz_oxide::inflate::decompress_to_vec_with_limit(&compressed, MAX_STATE)
            .map_err(|e| format!("cannot inflate the stored version: {e:?}"))?;
        let update = Update::decode_v1(&state).map_err(|e| e.to_string())?;
        let doc = Doc::new();
        let mut txn = doc.transact_mut();
        txn.apply_update(update).map_err(|e| e.to_string())?;
        Ok::<_, String>(schema::read(&txn))
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "corrupt_version", e))?;
    Ok((info, read))
}

async fn read_version(
    State(shared): State<Arc<Shared>>,
    Path((raw, number)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = api::existing(&shared, &raw).await?;
    let (info, read) = load_version(&shared, &id, parse_number(&number)?).await?;
    Ok(Json(json!({
        "id": id.as_str(),
        "version": info,
        "map": read.map,
        "warnings": read.warnings,
    })))
}

async fn export_version(
    State(shared): State<Arc<Shared>>,
    Path((raw, number, format)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let format = api::export_format(&format)?;
    let id = api::existing(&shared, &raw).await?;
    let number = parse_number(&number)?;
    let (_, read) = load_version(&shared, &id, number).await?;
    api::render(format, &read.map, &format!("{id}-v{number}")).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompareQuery {
    from: String,
    #[serde(default = "current")]
    to: String,
    #[serde(default = "json_format")]
    format: String,
}

fn current() -> String {
    "current".into()
}

fn json_format() -> String {
    "json".into()
}

/// One side of a comparison: a version number or `current`; returns its label and map.
async fn side(shared: &Arc<Shared>, id: &MapId, which: &str) -> ApiResult<(String, JourneyMap)> {
    if which == "current" {
        let read = Registry::request(shared, id, |reply| Command::Read { reply }).await?;
        return Ok(("the current map".into(), read.map));
    }
    let (info, read) = load_version(shared, id, parse_number(which)?).await?;
    Ok((
        format!("version {} ({})", info.number, info.label),
        read.map,
    ))
}

async fn compare(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
    query: Result<Query<CompareQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    if q.format != "json" && q.format != "markdown" {
        return Err(ApiError::bad_request(
            "unknown_format",
            format!(
                "no comparison format {:?}; formats: json, markdown",
                q.format
            ),
        ));
    }
    let id = api::existing(&shared, &raw).await?;
    let (from_label, from) = side(&shared, &id, &q.from).await?;
    let (to_label, to) = side(&shared, &id, &q.to).await?;
    let changes = schema::diff(&from, &to);
    if q.format == "markdown" {
        return Ok((
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            changes.to_markdown(&from_label, &to_label),
        )
            .into_response());
    }
    Ok(Json(json!({
        "id": id.as_str(),
        "from": q.from,
        "to": q.to,
        "changes": changes,
    }))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RestoreVersion {
    #[serde(default)]
    author: String,
}

/// Restores a version in place: a safety version of the map as it is now is taken first, then the
/// map is turned into the version with ordinary edits, so connected editors see it change and keep
/// editing, and whatever they do afterwards is kept.
async fn restore_version(
    State(shared): State<Arc<Shared>>,
    Extension(access): Extension<Access>,
    Path((raw, number)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    // The body is optional: an empty one restores anonymously.
    let mut req: RestoreVersion = if body.iter().all(u8::is_ascii_whitespace) {
        RestoreVersion::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))?
    };
    if let Some(author) = access.author() {
        req.author = author;
    }
    if req.author.len() > MAX_TEXT {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("author is limited to {MAX_TEXT} bytes"),
        ));
    }
    let id = api::existing(&shared, &raw).await?;
    let number = parse_number(&number)?;
    let (info, read) = load_version(&shared, &id, number).await?;
    let safety = take(
        &shared,
        &id,
        format!("Before restoring version {number}"),
        format!(
            "The map as it was just before version {number} ({}) was restored",
            info.label
        ),
        req.author,
        VersionKind::PreRestore,
    )
    .await?
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the safety version was not stored",
        )
    })?;
    let target = Box::new(read.map);
    let summary = Registry::request(&shared, &id, |reply| Command::Restore {
        target: target.clone(),
        reply,
    })
    .await?
    .map_err(|e| match e {
        crate::room::ApplyError::Invalid(r) => {
            ApiError::new(StatusCode::CONFLICT, "cannot_restore", r.error)
        }
        other => other.into(),
    })?;
    crate::events::emit(
        &shared,
        &id,
        json!({ "type": "version.restored", "version": info, "safetyVersion": safety.number }),
    );
    // The restore is an edit like any other in the map's record; it came through the API.
    let entry = crate::store::Activity {
        at: safety.created_at,
        kind: "restored".into(),
        session: "api".into(),
        user: (!safety.author.is_empty()).then(|| safety.author.clone()),
        updates: 1,
        bytes: 0,
    };
    if let Err(e) = shared.store.record_activity(&id, vec![entry]).await {
        tracing::warn!(error = %e, map_id = %id, "cannot record the restore in the map's activity");
    }
    Ok(Json(json!({
        "id": id.as_str(),
        "restored": info,
        "safetyVersion": safety,
        "changes": summary,
    })))
}
