//! Reviews of a version over REST: submit a version for review, and reviewers' decisions.

use super::error::ApiResult;
use super::params::{existing, parse_number};
use super::types::{Decide, Submit};
use crate::auth::Access;
use crate::http::Shared;
use crate::review::{self, Submission};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::json;
use std::sync::Arc;

pub async fn submit(
    State(shared): State<Arc<Shared>>,
    Extension(access): Extension<Access>,
    Path((raw, number)): Path<(String, String)>,
    body: Result<Json<Submit>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let Json(req) = body?;
    let submission = Submission {
        reviewers: req.reviewers,
        due: req.due,
        // With authentication, whoever the token names.
        submitted_by: access.author().unwrap_or(req.submitted_by),
    };
    let id = existing(&shared, &raw).await?;
    let number = parse_number(&number)?;
    let review = review::submit(&shared.rooms, &id, number, submission).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id.as_str(), "version": number, "review": review })),
    ))
}

pub async fn decide(
    State(shared): State<Arc<Shared>>,
    Extension(access): Extension<Access>,
    Path((raw, number)): Path<(String, String)>,
    body: Result<Json<Decide>, JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Json(req) = body?;
    let id = existing(&shared, &raw).await?;
    let number = parse_number(&number)?;
    let review = review::decide(
        &shared.rooms,
        &id,
        number,
        access.user.as_deref(),
        req.reviewer,
        req.verdict,
        req.comment,
    )
    .await?;
    Ok(Json(
        json!({ "id": id.as_str(), "version": number, "review": review }),
    ))
}
