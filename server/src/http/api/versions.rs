//! Named versions of a map over REST: take one, list them, read or export any of them, compare two
//! versions (or a version with the map as it is now), and restore one in place.

use super::error::{ApiError, ApiResult};
use super::params::{existing, parse_number};
use super::render::{export_format, export_paper, render};
use super::types::{CompareQuery, CreateVersion, ExportQuery, RestoreVersion};
use crate::auth::Access;
use crate::http::Shared;
use crate::refusal::Refusal;
use crate::store::VersionKind;
use crate::versions;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;
use std::sync::Arc;
use waymark_protocol::MapId;
use waymark_protocol::schema::{self, JourneyMap};

/// Longest label accepted.
const MAX_LABEL: usize = 200;
/// Longest description or author accepted.
const MAX_TEXT: usize = 10_000;

pub async fn create_version(
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
    let id = existing(&shared, &raw).await?;
    let info = versions::take(
        &shared.rooms,
        &id,
        label,
        req.description,
        req.author,
        VersionKind::Manual,
    )
    .await?;
    let location = format!("/api/v1/maps/{id}/versions/{}", info.number);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(info),
    )
        .into_response())
}

pub async fn list_versions(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = existing(&shared, &raw).await?;
    let list = shared.store.versions(&id).await.map_err(Refusal::storage)?;
    // Whether the map has moved on since the newest approved version.
    let approved = crate::review::since_approved(&shared.rooms, &id, &list).await?;
    Ok(Json(json!({
        "id": id.as_str(),
        "versions": list,
        "lastApproved": approved.map(|a| a.0),
        "changedSinceApproved": approved.map(|a| a.1),
    })))
}

pub async fn read_version(
    State(shared): State<Arc<Shared>>,
    Path((raw, number)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = existing(&shared, &raw).await?;
    let (info, read) = versions::load(&shared.rooms, &id, parse_number(&number)?).await?;
    Ok(Json(json!({
        "id": id.as_str(),
        "version": info,
        "map": read.map,
        "warnings": read.warnings,
    })))
}

pub async fn export_version(
    State(shared): State<Arc<Shared>>,
    Extension(access): Extension<Access>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path((raw, number, format)): Path<(String, String, String)>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let format = export_format(&format)?;
    let Query(q) = query.map_err(ApiError::query)?;
    let paper = export_paper(format.0, &q)?;
    let id = existing(&shared, &raw).await?;
    let number = parse_number(&number)?;
    let (_, read) = versions::load(&shared.rooms, &id, number).await?;
    let caller = super::render::caller(&access, peer);
    render(
        &shared,
        &caller,
        format,
        &read.map,
        &format!("{id}-v{number}"),
        paper,
    )
    .await
}

/// One side of a comparison: a version number or `current`; returns its label and map.
async fn side(shared: &Shared, id: &MapId, which: &str) -> ApiResult<(String, JourneyMap)> {
    if which == "current" {
        let read = versions::current(&shared.rooms, id).await?;
        return Ok(("the current map".into(), read.map));
    }
    let (info, read) = versions::load(&shared.rooms, id, parse_number(which)?).await?;
    Ok((
        format!("version {} ({})", info.number, info.label),
        read.map,
    ))
}

pub async fn compare(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
    query: Result<Query<CompareQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(ApiError::query)?;
    if q.format != "json" && q.format != "markdown" {
        return Err(ApiError::bad_request(
            "unknown_format",
            format!(
                "no comparison format {:?}; formats: json, markdown",
                q.format
            ),
        ));
    }
    let id = existing(&shared, &raw).await?;
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

pub async fn restore_version(
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
    let id = existing(&shared, &raw).await?;
    let number = parse_number(&number)?;
    let done = versions::restore(&shared.rooms, &id, number, req.author).await?;
    Ok(Json(json!({
        "id": id.as_str(),
        "restored": done.restored,
        "safetyVersion": done.safety,
        "changes": done.changes,
    })))
}
