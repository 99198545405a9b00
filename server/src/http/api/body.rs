//! Request bodies of the REST API, read whole before any handler runs: within the time a client
//! has to send its request (`--handshake-timeout`), so a body trickling in cannot hold a
//! connection and its handler open, and within a size limit, so none can fill memory.

use super::error::ApiError;
use crate::http::Shared;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Largest request body: a JSON export being imported is the largest there is.
pub const MAX_BODY: usize = 2 << 20;

/// Middleware: reads the body, then hands the request on with it in memory.
pub async fn read_whole(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        shared.metrics.limit("body_size");
        return refusal(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", too_large());
    }
    let deadline = shared.config.limits.handshake_timeout;
    let bytes = match tokio::time::timeout(deadline, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            let over = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                || e.to_string().contains("length limit");
            if over {
                shared.metrics.limit("body_size");
                return refusal(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", too_large());
            }
            return refusal(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("the request body could not be read: {e}"),
            );
        }
        Err(_) => {
            shared.metrics.limit("body_timeout");
            return refusal(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} s",
                    deadline.as_secs_f64()
                ),
            );
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn too_large() -> String {
    format!("request bodies are limited to {} MiB", MAX_BODY >> 20)
}

/// The API's error answer; the connection is closed after it, since the rest of the body (if
/// any) was not read.
fn refusal(status: StatusCode, code: &'static str, message: String) -> Response {
    let mut res = ApiError::new(status, code, message).into_response();
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}
