//! Workshops over REST: attendance of the session going on or the last one, as JSON or CSV.

use super::error::{ApiError, ApiResult};
use super::params::existing;
use super::types::AttendanceQuery;
use crate::http::Shared;
use crate::refusal::Refusal;
use crate::room::Command;
use crate::workshop::attendance;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

/// Most activity entries read back to work attendance out (a day-long workshop of a few dozen
/// people records far fewer).
const MAX_ACTIVITY: usize = 50_000;

pub async fn attendance(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
    query: Result<Query<AttendanceQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(ApiError::query)?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "unknown_format",
                format!("no attendance format {other:?}; formats: json, csv"),
            ));
        }
    };
    let id = existing(&shared, &raw).await?;
    let facts = shared
        .rooms
        .request(&id, |reply| Command::Attendance { reply })
        .await?;
    let list = match &facts.session {
        Some(session) => {
            let activity = shared
                .store
                .activity(&id, MAX_ACTIVITY)
                .await
                .map_err(Refusal::storage)?;
            attendance::attendance(session, &activity, &facts.votes, crate::clock::now_millis())
        }
        None => Vec::new(),
    };
    if csv {
        let disposition = format!("attachment; filename=\"{id}-attendance.csv\"");
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            attendance::csv(&list),
        )
            .into_response());
    }
    Ok(
        Json(json!({ "id": id.as_str(), "session": facts.session, "attendance": list }))
            .into_response(),
    )
}
