//! Maps exported as files: the formats the API offers and turning a map into one of them.

use super::error::{ApiError, ApiResult};
use super::types::ExportQuery;
use crate::auth::Access;
use crate::http::Shared;
use crate::http::renders;
use crate::journey::export;
use crate::journey::poster::{self, Paper, PosterError};
use crate::metrics::FormatLabel;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
/// `{name}.{ext}`. A poster is drawn only within its limits (`crate::http::renders`), for
/// `caller` (a user id, or an address without authentication).
pub async fn render(
    shared: &Shared,
    caller: &str,
    &(format, content_type, ext): &(&'static str, &'static str, &'static str),
    map: &JourneyMap,
    name: &str,
    paper: Option<Paper>,
) -> ApiResult<Response> {
    let started = std::time::Instant::now();
    // Rasterising (png) and converting to PDF are what cost: an SVG of the same poster is cheap at
    // any size (BENCHMARKS.md, "Poster exports").
    let poster_format = matches!(format, "png" | "pdf");
    if poster_format && map.cards.len() > renders::MAX_POSTER_CARDS {
        shared.metrics.limit("poster_cards");
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "poster_too_complex",
            format!(
                "this map has {} cards; png and pdf posters are drawn for up to {}. Export it as \
                 svg (the same poster, at any size), or as csv, markdown, mermaid or json",
                map.cards.len(),
                renders::MAX_POSTER_CARDS
            ),
        ));
    }
    let _slot = if poster_format {
        match shared.renders.try_start(caller) {
            Ok(slot) => Some(slot),
            Err(busy) => return Err(busy_answer(shared, &busy)),
        }
    } else {
        None
    };
    let _running = poster_format.then(|| Running::start(shared));
    let answer = produce(shared, format, content_type, ext, map, name, paper).await;
    shared
        .metrics
        .export_seconds
        .get_or_create(&FormatLabel { format })
        .observe(started.elapsed().as_secs_f64());
    answer
}

/// Whom a render counts against: the token's user, or without authentication the caller's address
/// (an IPv6 client as its /64, as the connection limits count it).
pub fn caller(access: &Access, peer: std::net::SocketAddr) -> String {
    match &access.user {
        Some(user) => format!("user:{user}"),
        None => format!("address:{}", crate::throttle::limited_address(peer.ip())),
    }
}

/// Counts a render as running while it lives, and samples the peak memory when it ends.
struct Running<'a>(&'a Shared);

impl<'a> Running<'a> {
    fn start(shared: &'a Shared) -> Self {
        shared.metrics.exports_running.inc();
        Running(shared)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.metrics.exports_running.dec();
        if let Some(peak) = peak_memory() {
            self.0.metrics.export_peak_memory.set(peak);
        }
    }
}

/// The process's peak resident memory (Linux `VmHWM`), in bytes.
fn peak_memory() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: i64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn busy_answer(shared: &Shared, busy: &renders::Busy) -> ApiError {
    let (status, code, message) = match busy {
        renders::Busy::Caller => {
            shared.metrics.limit("exports_per_caller");
            (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_exports",
                format!(
                    "you have {} poster exports running; wait for one to finish",
                    renders::PER_CALLER
                ),
            )
        }
        renders::Busy::Node(slots) => {
            shared.metrics.limit("exports_per_node");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "exports_busy",
                format!(
                    "this server is drawing {slots} posters, as many as it does at once; retry shortly"
                ),
            )
        }
    };
    ApiError::new(status, code, message).retry_after(renders::RETRY_AFTER_SECS)
}

/// Sets its flag when dropped: the render's handler is gone.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

async fn produce(
    shared: &Shared,
    format: &'static str,
    content_type: &'static str,
    ext: &'static str,
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
                // Rasterising a large map takes a while: keep it off the async workers. When the
                // caller goes away, this future is dropped, and the render stops at its next step.
                let png = picture == "png";
                let gone = Arc::new(AtomicBool::new(false));
                let _watch = SetOnDrop(Arc::clone(&gone));
                let services = Arc::clone(&shared.services);
                tokio::task::spawn_blocking(move || {
                    let stop = || gone.load(Ordering::Relaxed);
                    let out = if png {
                        poster.png_unless(&stop)
                    } else {
                        poster.pdf_unless(&stop)
                    };
                    if matches!(out, Err(PosterError::Cancelled)) {
                        services.metrics.limit("export_cancelled");
                    }
                    out
                })
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
