//! The REST API under `/api/v1`: the router over the handler modules (`maps`, `versions`,
//! `reviews`, `revocations`), the guard that checks every call's token, and the OpenAPI description of it all.
//!
//! Handlers parse and answer; what they do is the application's (`crate::versions`,
//! `crate::review`, the map's room). `openapi` describes the routes from `paths` and the
//! application's types without importing any handler.

pub(super) mod body;
mod error;
pub(super) mod guard;
mod maps;
mod openapi;
mod params;
pub mod paths;
mod render;
mod reviews;
mod revocations;
mod types;
mod versions;
mod workshop;

use crate::http::Shared;
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route(paths::OPENAPI, get(openapi))
        .route(paths::TEMPLATES, get(maps::list_templates))
        .route(paths::MAPS, get(maps::list_maps).post(maps::create_map))
        .route(paths::IMPORT, post(maps::import_map))
        .route(paths::MAP, get(maps::read_map).delete(maps::delete_map))
        .route(paths::EXPORT, get(maps::export_map))
        .route(paths::INSIGHTS, get(maps::map_insights))
        .route(paths::ACTIVITY, get(maps::map_activity))
        .route(paths::ATTENDANCE, get(workshop::attendance))
        .route(
            paths::COMMENTS,
            get(maps::list_comments).post(maps::add_comment),
        )
        .route(
            paths::VERSIONS,
            get(versions::list_versions).post(versions::create_version),
        )
        .route(paths::VERSION, get(versions::read_version))
        .route(paths::VERSION_EXPORT, get(versions::export_version))
        .route(paths::VERSION_RESTORE, post(versions::restore_version))
        .route(paths::COMPARE, get(versions::compare))
        .route(paths::REVIEW, post(reviews::submit))
        .route(paths::DECISIONS, post(reviews::decide))
        .route(
            paths::REVOCATIONS,
            get(revocations::list).post(revocations::revoke),
        )
}

async fn openapi() -> Json<serde_json::Value> {
    Json(openapi::document())
}
