//! The REST API under `/api/v1`: create (blank, from a template, or by importing the JSON form),
//! list, read, export, analyse and delete maps. Reads and writes go through the map's room, so they
//! see exactly what live editors see, and what the API writes reaches them at once.

use crate::auth::{Access, AuthError, Role, Scope};
use crate::journey::{export, insights, poster};
use crate::now_millis;
use crate::registry::Registry;
use crate::room::{ApplyError, Command, JoinError};
use crate::state::Shared;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use waymark_protocol::MapId;
use waymark_protocol::schema::{self, Editor, JourneyMap, MAP_KINDS, comments, templates};
use yrs::{Doc, ReadTxn, StateVector, Transact};

/// Export formats: path name, content type, file extension.
pub const FORMATS: &[(&str, &str, &str)] = &[
    ("json", "application/json", "json"),
    ("csv", "text/csv; charset=utf-8", "csv"),
    ("markdown", "text/markdown; charset=utf-8", "md"),
    ("mermaid", "text/plain; charset=utf-8", "mmd"),
    ("svg", "image/svg+xml", "svg"),
    ("png", "image/png", "png"),
    ("pdf", "application/pdf", "pdf"),
];

/// The API's paths below `/api/v1`, shared by the router and the OpenAPI description.
pub mod paths {
    pub const OPENAPI: &str = "/openapi.json";
    pub const TEMPLATES: &str = "/templates";
    pub const MAPS: &str = "/maps";
    pub const IMPORT: &str = "/maps/import";
    pub const MAP: &str = "/maps/{id}";
    pub const EXPORT: &str = "/maps/{id}/export/{format}";
    pub const INSIGHTS: &str = "/maps/{id}/insights";
    pub const VERSIONS: &str = "/maps/{id}/versions";
    pub const VERSION: &str = "/maps/{id}/versions/{number}";
    pub const VERSION_EXPORT: &str = "/maps/{id}/versions/{number}/export/{format}";
    pub const VERSION_RESTORE: &str = "/maps/{id}/versions/{number}/restore";
    pub const ACTIVITY: &str = "/maps/{id}/activity";
    pub const REVIEW: &str = "/maps/{id}/versions/{number}/review";
    pub const DECISIONS: &str = "/maps/{id}/versions/{number}/review/decisions";
    pub const COMPARE: &str = "/maps/{id}/compare";
    pub const COMMENTS: &str = "/maps/{id}/comments";
    pub const ALL: [&str; 16] = [
        OPENAPI,
        TEMPLATES,
        MAPS,
        IMPORT,
        MAP,
        EXPORT,
        INSIGHTS,
        ACTIVITY,
        VERSIONS,
        VERSION,
        VERSION_EXPORT,
        VERSION_RESTORE,
        REVIEW,
        DECISIONS,
        COMPARE,
        COMMENTS,
    ];
}

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route(paths::OPENAPI, get(openapi))
        .route(paths::TEMPLATES, get(list_templates))
        .route(paths::MAPS, get(list_maps).post(create_map))
        .route(paths::IMPORT, axum::routing::post(import_map))
        .route(paths::MAP, get(read_map).delete(delete_map))
        .route(paths::EXPORT, get(export_map))
        .route(paths::INSIGHTS, get(map_insights))
        .route(paths::ACTIVITY, get(map_activity))
        .route(paths::COMMENTS, get(list_comments).post(add_comment))
        .merge(crate::versions::router())
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

/// An error answer: a stable code for programs and a message for people.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub(crate) fn storage(e: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            format!("storage is unavailable: {e}; retry later"),
        )
    }
}

impl From<JoinError> for ApiError {
    fn from(e: JoinError) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            e.to_string(),
        )
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::new(e.status(), e.code(), e.to_string())
    }
}

impl From<ApplyError> for ApiError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::TooLarge(limit) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "map_too_large",
                format!("the map would exceed its limit of {limit} bytes; nothing was changed"),
            ),
            ApplyError::Exists => {
                ApiError::new(StatusCode::CONFLICT, "map_exists", "the map exists")
            }
            ApplyError::Invalid(r) => ApiError::new(
                StatusCode::CONFLICT,
                "cannot_apply",
                format!("{}: {}", r.reason, r.error),
            ),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError::bad_request("invalid_body", e.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": self.code, "message": self.message })),
        )
            .into_response()
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

fn parse_id(raw: &str) -> ApiResult<MapId> {
    MapId::parse(raw).map_err(|e| {
        ApiError::bad_request("invalid_map_id", format!("invalid map id {raw:?}: {e}"))
    })
}

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

async fn list_templates() -> Json<serde_json::Value> {
    let list: Vec<_> = templates::TEMPLATES
        .iter()
        .map(|t| json!({ "name": t.name, "title": t.title, "description": t.description }))
        .collect();
    Json(json!({ "templates": list }))
}

async fn list_maps(
    State(shared): State<Arc<Shared>>,
    Extension(access): Extension<Access>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut maps = shared.store.list().await.map_err(ApiError::storage)?;
    // Only the maps the caller's token covers.
    maps.retain(|m| MapId::parse(&m.id).is_ok_and(|id| access.scope.covers(&id)));
    let today = crate::review::today();
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateMap {
    id: Option<String>,
    title: Option<String>,
    kind: Option<String>,
    template: Option<String>,
}

async fn create_map(
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

#[derive(Debug, Deserialize)]
struct ImportQuery {
    id: Option<String>,
}

async fn import_map(
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
    let result = Registry::request(shared, &id, |reply| Command::Apply {
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
    let read = Registry::request(shared, &id, |reply| Command::Read { reply }).await?;
    Ok((id, read))
}

/// The id of a stored map, or the answer that it is malformed or unknown.
pub(crate) async fn existing(shared: &Arc<Shared>, raw: &str) -> ApiResult<MapId> {
    let id = parse_id(raw)?;
    if !shared.store.exists(&id).await.map_err(ApiError::storage)? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "map_not_found",
            format!("no map with id {:?}", id.as_str()),
        ));
    }
    Ok(id)
}

async fn read_map(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let (id, read) = load(&shared, &raw).await?;
    Ok(Json(
        json!({ "id": id.as_str(), "map": read.map, "warnings": read.warnings }),
    ))
}

async fn export_map(
    State(shared): State<Arc<Shared>>,
    Path((raw, format)): Path<(String, String)>,
) -> ApiResult<Response> {
    let format = export_format(&format)?;
    let (id, read) = load(&shared, &raw).await?;
    render(format, &read.map, id.as_str()).await
}

/// An export format by its path name.
pub(crate) fn export_format(
    name: &str,
) -> ApiResult<&'static (&'static str, &'static str, &'static str)> {
    FORMATS.iter().find(|f| f.0 == name).ok_or_else(|| {
        let known: Vec<&str> = FORMATS.iter().map(|f| f.0).collect();
        ApiError::bad_request(
            "unknown_format",
            format!("no export format {name:?}; formats: {}", known.join(", ")),
        )
    })
}

/// A map exported in `format`, as an attachment named `{name}.{ext}`.
pub(crate) async fn render(
    &(format, content_type, ext): &(&'static str, &'static str, &'static str),
    map: &JourneyMap,
    name: &str,
) -> ApiResult<Response> {
    let failed = |e: &dyn std::fmt::Display| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "export_failed",
            e.to_string(),
        )
    };
    let body: Vec<u8> = match format {
        "json" => serde_json::to_vec_pretty(map).map_err(|e| failed(&e))?,
        "csv" => export::csv(map).map_err(|e| failed(&e))?.into_bytes(),
        "markdown" => export::markdown(map).into_bytes(),
        "mermaid" => export::mermaid(map).into_bytes(),
        "svg" => poster::svg(map).into_bytes(),
        picture => {
            // Rasterising a large map takes a while: keep it off the async workers.
            let svg = poster::svg(map);
            let png = picture == "png";
            tokio::task::spawn_blocking(move || {
                if png {
                    poster::png(&svg)
                } else {
                    poster::pdf(&svg)
                }
            })
            .await
            .map_err(|e| failed(&e))?
            .map_err(|e| failed(&e))?
        }
    };
    let disposition = format!("attachment; filename=\"{name}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

async fn map_insights(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
) -> ApiResult<Json<insights::Insights>> {
    let (_, read) = load(&shared, &raw).await?;
    Ok(Json(insights::insights(&read.map)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivityQuery {
    limit: Option<usize>,
}

/// Most activity entries one request returns.
const MAX_ACTIVITY: usize = 1000;

async fn map_activity(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
    query: Result<Query<ActivityQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
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
        .map_err(ApiError::storage)?;
    Ok(Json(json!({ "id": id.as_str(), "activity": activity })))
}

async fn list_comments(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = existing(&shared, &raw).await?;
    let list = Registry::request(&shared, &id, |reply| Command::Comments { reply }).await?;
    Ok(Json(json!({ "id": id.as_str(), "comments": list })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewComment {
    text: String,
    #[serde(default)]
    target: Option<String>,
    /// Without authentication, who wrote it; with it, the token's user.
    #[serde(default)]
    author: String,
}

/// Adds a comment: commenters may not edit the map's document, so the server writes it for them.
async fn add_comment(
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
    Registry::request(&shared, &id, |reply| Command::Apply {
        update: update.clone(),
        only_if_empty: false,
        reply,
    })
    .await?
    .map_err(ApiError::from)?;
    Ok((StatusCode::CREATED, Json(comment)).into_response())
}

async fn delete_map(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
) -> ApiResult<StatusCode> {
    let id = existing(&shared, &raw).await?;
    Registry::request(&shared, &id, |reply| Command::Delete { reply })
        .await?
        .map_err(ApiError::storage)?;
    Ok(StatusCode::NO_CONTENT)
}
