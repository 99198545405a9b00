//! Maps exported as files: the formats the API offers and turning a map into one of them.

use super::error::{ApiError, ApiResult};
use crate::journey::{export, poster};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use waymark_protocol::schema::JourneyMap;

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

/// An export format by its path name.
pub fn export_format(name: &str) -> ApiResult<&'static (&'static str, &'static str, &'static str)> {
    FORMATS.iter().find(|f| f.0 == name).ok_or_else(|| {
        let known: Vec<&str> = FORMATS.iter().map(|f| f.0).collect();
        ApiError::bad_request(
            "unknown_format",
            format!("no export format {name:?}; formats: {}", known.join(", ")),
        )
    })
}

/// A map exported in `format`, as an attachment named `{name}.{ext}`.
pub async fn render(
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
