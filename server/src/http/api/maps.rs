//! The maps themselves over REST: create (blank, from a template, or by importing the JSON form),
//! list, read, export, analyse, comment on and delete. Reads and writes go through the map's room,
//! so they see exactly what live editors see, and what the API writes reaches them at once.

use super::error::{ApiError, ApiResult};
use super::params::{existing, parse_id};
use super::render::{export_format, export_paper, render};
use super::types::{ActivityQuery, CreateMap, ExportQuery, ImportQuery, NewComment};
use crate::auth::{Access, Role, Scope};
use crate::clock::now_millis;
use crate::http::Shared;
use crate::journey::insights;
use crate::refusal::Refusal;
use crate::room::{ApplyError, Command};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use waymark_protocol::MapId;
use waymark_protocol::schema::{self, Editor, JourneyMap, MAP_KINDS, comments, templates};
use yrs::{Doc, ReadTxn, StateVector, Transact};

/// A fresh map id: 12 base-62 characters from the process's randomly seeded hasher, after
/// `prefix`.
fn new_id(prefix: &str) -> MapId {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    let mut n = h.finish();
    let id: String = (0..12)
        .map(|_| {
            let c = DIGITS[(n % 62) as usize] as char;
            n /= 62;
            c
        })
        .collect();
    MapId::parse(&format!("{prefix}{id}")).expect("a valid prefix and base-62 digits make an id")
}

pub async fn list_templates() -> Json<serde_json::Value> {
    let list: Vec<_> = templates::TEMPLATES
        .iter()
        .map(|t| json!({ "name": t.name, "title": t.title, "description": t.description }))
        .collect();
    Json(json!({ "templates": list }))
}

pub async fn list_maps(
    State(shared): State<Arc<Shared>>,
    Extension(access): Extension<Access>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut maps = shared.store.list().await.map_err(Refusal::storage)?;
    // Only the maps the caller's token covers.
    maps.retain(|m| MapId::parse(&m.id).is_ok_and(|id| access.scope.covers(&id)));
    let today = crate::clock::today();
    let maps: Vec<serde_json::Value> = maps
        .into_iter()
        .map(|m| {
            // Dates written YYYY-MM-DD compare as text; anything else is never overdue.
            let overdue = m
                .review_due
                .as_deref()
                .is_some_and(|due| schema::edit::is_date(due) && due < today.as_str());
            let mut v = serde_json::to_value(m).unwrap_or_default();
            v["reviewOverdue"] = overdue.into();
            v
        })
        .collect();
    Ok(Json(json!({ "maps": maps })))
}

pub async fn create_map(
    State(shared): State<Arc<Shared>>,
    Extension(access): Extension<Access>,
    body: Result<Json<CreateMap>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = body?;
    let template = match &req.template {
        Some(name) => Some(templates::find(name).ok_or_else(|| {
            let known: Vec<&str> = templates::TEMPLATES.iter().map(|t| t.name).collect();
            ApiError::bad_request(
                "unknown_template",
                format!("no template {name:?}; templates: {}", known.join(", ")),
            )
        })?),
        None => None,
    };
    if req
        .title
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_TITLE)
    {
        return Err(ApiError::bad_request(
            "invalid_title",
            format!("a map's title is at most {MAX_TITLE} characters"),
        ));
    }
    let kind = req.kind.as_deref().unwrap_or("journey-map");
    if !MAP_KINDS.contains(&kind) {
        return Err(ApiError::bad_request(
            "invalid_kind",
            format!("unknown map kind {kind:?}; kinds: {}", MAP_KINDS.join(", ")),
        ));
    }
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        match template {
            Some(t) => t.apply(&mut txn, now_millis()).map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "template_failed",
                    e.to_string(),
                )
            })?,
            None => Editor::new(&mut txn)
                .init(
                    req.title.as_deref().unwrap_or("Untitled map"),
                    kind,
                    now_millis(),
                )
                .map_err(|e| ApiError::bad_request("invalid_map", e.to_string()))?,
        }
        if let (Some(_), Some(title)) = (template, req.title.as_deref()) {
            Editor::new(&mut txn).set_meta("title", Some(title));
        }
    }
    create(&shared, &access, req.id.as_deref(), &doc).await
}

pub async fn import_map(
    State(shared): State<Arc<Shared>>,
    Extension(access): Extension<Access>,
    Query(q): Query<ImportQuery>,
    body: Result<Json<JourneyMap>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(map) = body?;
    let doc = Doc::new();
    schema::write(&mut doc.transact_mut(), &map)
        .map_err(|e| ApiError::bad_request("invalid_import", e.to_string()))?;
    create(&shared, &access, q.id.as_deref(), &doc).await
}

/// Stores a new map holding `doc`'s content, refusing an id that is already in use.
async fn create(
    shared: &Arc<Shared>,
    access: &Access,
    id: Option<&str>,
    doc: &Doc,
) -> ApiResult<Response> {
    // Without an id, a token for one map creates that map, and one for a prefix a map under it.
    let id = match (id, &access.scope) {
        (Some(raw), _) => parse_id(raw)?,
        (None, Scope::One(id)) => id.clone(),
        (None, Scope::Prefix(prefix)) => new_id(prefix),
        (None, Scope::All) => new_id(""),
    };
    access.require(&id, Role::Editor)?;
    let update = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let result = shared
        .rooms
        .request(&id, |reply| Command::Apply {
            update: update.clone(),
            only_if_empty: true,
            reply,
        })
        .await?;
    match result {
        Ok(()) => {
            let location = format!("/api/v1/maps/{id}");
            let body = Json(
                json!({ "id": id.as_str(), "url": location, "websocket": format!("/maps/{id}") }),
            );
            Ok((StatusCode::CREATED, [(header::LOCATION, location)], body).into_response())
        }
        Err(ApplyError::Exists) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "map_exists",
            format!("a map with id {id:?} already exists"),
        )),
        Err(ApplyError::Invalid(r)) => Err(ApiError::bad_request(
            "invalid_map",
            format!("{}: {}", r.reason, r.error),
        )),
        Err(e @ ApplyError::TooLarge(_)) => Err(e.into()),
    }
}

/// The typed map as it is now, with what was wrong in the document.
async fn load(shared: &Arc<Shared>, raw: &str) -> ApiResult<(MapId, schema::Read)> {
    let id = existing(shared, raw).await?;
    let read = shared
        .rooms
        .request(&id, |reply| Command::Read { reply })
        .await?;
    Ok((id, read))
}

pub async fn read_map(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let (id, read) = load(&shared, &raw).await?;
    Ok(Json(
        json!({ "id": id.as_str(), "map": read.map, "warnings": read.warnings }),
    ))
}

pub async fn export_map(
    State(shared): State<Arc<Shared>>,
    Extension(access): Extension<Access>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path((raw, format)): Path<(String, String)>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let format = export_format(&format)?;
    let Query(q) = query.map_err(ApiError::query)?;
    let paper = export_paper(format.0, &q)?;
    let (id, read) = load(&shared, &raw).await?;
    let caller = super::render::caller(&access, peer);
    render(&shared, &caller, format, &read.map, id.as_str(), paper).await
}

pub async fn map_insights(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
) -> ApiResult<Json<insights::Insights>> {
    let (_, read) = load(&shared, &raw).await?;
    Ok(Json(insights::insights(&read.map)))
}

/// Longest title a map is created with.
const MAX_TITLE: usize = 500;

/// Most activity entries one request returns.
const MAX_ACTIVITY: usize = 1000;

pub async fn map_activity(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
    query: Result<Query<ActivityQuery>, QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(q) = query.map_err(ApiError::query)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_ACTIVITY).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be 1 to {MAX_ACTIVITY}"),
        ));
    }
    let id = existing(&shared, &raw).await?;
    let activity = shared
        .store
        .activity(&id, limit)
        .await
        .map_err(Refusal::storage)?;
    Ok(Json(json!({ "id": id.as_str(), "activity": activity })))
}

pub async fn list_comments(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = existing(&shared, &raw).await?;
    let list = shared
        .rooms
        .request(&id, |reply| Command::Comments { reply })
        .await?;
    Ok(Json(json!({ "id": id.as_str(), "comments": list })))
}

/// Adds a comment: commenters may not edit the map's document, so the server writes it for them.
pub async fn add_comment(
    State(shared): State<Arc<Shared>>,
    Extension(access): Extension<Access>,
    Path(raw): Path<String>,
    body: Result<Json<NewComment>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = body?;
    let author = access.author().unwrap_or(req.author);
    if author.len() > comments::MAX_TEXT {
        return Err(ApiError::bad_request("invalid_body", "author is too long"));
    }
    let id = existing(&shared, &raw).await?;
    let doc = Doc::new();
    let comment = comments::add(
        &mut doc.transact_mut(),
        new_id("").as_str(),
        req.target.as_deref(),
        &req.text,
        author.trim(),
        now_millis(),
    )
    .map_err(|e| ApiError::bad_request("invalid_comment", e.to_string()))?;
    let update = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    shared
        .rooms
        .request(&id, |reply| Command::Apply {
            update: update.clone(),
            only_if_empty: false,
            reply,
        })
        .await?
        .map_err(ApiError::from)?;
    Ok((StatusCode::CREATED, Json(comment)).into_response())
}

pub async fn delete_map(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
) -> ApiResult<StatusCode> {
    let id = existing(&shared, &raw).await?;
    shared
        .rooms
        .request(&id, |reply| Command::Delete { reply })
        .await?
        .map_err(Refusal::storage)?;
    Ok(StatusCode::NO_CONTENT)
}
