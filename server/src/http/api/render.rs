//! Maps exported as files: the formats the API offers and turning a map into one of them.

use super::error::{ApiError, ApiResult};
use super::types::ExportQuery;
use crate::journey::export;
use crate::journey::poster::{self, Paper, PosterError};
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

/// The sheet a poster export asks for: none, or one of `Paper::ALL`, for the poster formats only.
pub fn export_paper(format: &str, q: &ExportQuery) -> ApiResult<Option<Paper>> {
    let Some(name) = q.paper.as_deref() else {
        return Ok(None);
    };
    let names: Vec<&str> = Paper::ALL.iter().map(|p| p.name()).collect();
    let paper = Paper::parse(name).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_query",
            format!("no paper size {name:?}; sizes: {}", names.join(", ")),
        )
    })?;
    if !matches!(format, "svg" | "png" | "pdf") {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("`paper` applies to the poster formats (svg, png, pdf), not {format}"),
        ));
    }
    Ok(Some(paper))
}

/// A map exported in `format` (a poster on `paper` if given), as an attachment named
/// `{name}.{ext}`.
pub async fn render(
    &(format, content_type, ext): &(&'static str, &'static str, &'static str),
    map: &JourneyMap,
    name: &str,
    paper: Option<Paper>,
) -> ApiResult<Response> {
    let failed = |e: &dyn std::fmt::Display| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "export_failed",
            e.to_string(),
        )
    };
    // A sheet too small for legible text is the caller's choice to change; anything else failed.
    let too_small = |e: &PosterError| match e {
        PosterError::TooSmall { .. } | PosterError::NeedsSheets { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "poster_too_small",
            e.to_string(),
        ),
        e => failed(e),
    };
    let body: Vec<u8> = match format {
        "json" => serde_json::to_vec_pretty(map).map_err(|e| failed(&e))?,
        "csv" => export::csv(map).map_err(|e| failed(&e))?.into_bytes(),
        "markdown" => export::markdown(map).into_bytes(),
        "mermaid" => export::mermaid(map).into_bytes(),
        picture => {
            let poster = poster::render(map, paper).map_err(|e| too_small(&e))?;
            if picture == "svg" {
                poster.svg().map_err(|e| too_small(&e))?.as_bytes().to_vec()
            } else {
                // Rasterising a large map takes a while: keep it off the async workers.
                let png = picture == "png";
                tokio::task::spawn_blocking(move || if png { poster.png() } else { poster.pdf() })
                    .await
                    .map_err(|e| failed(&e))?
                    .map_err(|e| too_small(&e))?
            }
        }
    };
    let sheet = paper.map_or(String::new(), |p| format!("-{}", p.name()));
    let disposition = format!("attachment; filename=\"{name}{sheet}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
