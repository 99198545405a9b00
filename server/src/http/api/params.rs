//! What a request names, checked: a map id (and that the map exists), a version number.

use super::error::{ApiError, ApiResult};
use crate::http::Shared;
use crate::refusal::Refusal;
use axum::http::StatusCode;
use waymark_protocol::MapId;

pub fn parse_id(raw: &str) -> ApiResult<MapId> {
    MapId::parse(raw).map_err(|e| {
        ApiError::bad_request("invalid_map_id", format!("invalid map id {raw:?}: {e}"))
    })
}

/// The id of a stored map, or the answer that it is malformed or unknown.
pub async fn existing(shared: &Shared, raw: &str) -> ApiResult<MapId> {
    let id = parse_id(raw)?;
    if !shared.store.exists(&id).await.map_err(Refusal::storage)? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "map_not_found",
            format!("no map with id {:?}", id.as_str()),
        ));
    }
    Ok(id)
}

/// A version number, 1 and up.
pub fn parse_number(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_version",
            format!("{raw:?} is not a version number (1, 2, ...)"),
        )
    })
}
