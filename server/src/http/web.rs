//! The browser editor's pages and assets: `/` (the list of maps), `/m/{mapId}` (the editor) and
//! `/assets/*`, built from `clients/web` and compiled into the binary so a user needs no npm.
//!
//! The built files are committed in `clients/web/dist` and checked against their sources by the
//! test command (`npm run check` in `clients/web`), so what the binary serves is what the sources
//! say. Pages carry no data: everything they show comes from the API and the WebSocket, under the
//! caller's token.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::hash::{DefaultHasher, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

/// One built file, with what it takes to answer for it: a validator for revalidation and a
/// compressed body for clients that accept it.
struct Asset {
    content_type: &'static str,
    body: &'static [u8],
    etag: HeaderValue,
    deflated: Vec<u8>,
}

impl Asset {
    fn new(content_type: &'static str, body: &'static [u8]) -> Self {
        let mut hasher = DefaultHasher::new();
        hasher.write(body);
        let etag = HeaderValue::from_str(&format!("\"{:016x}\"", hasher.finish()))
            .expect("a quoted hex string is a valid header value");
        Self {
            content_type,
            body,
            etag,
            // zlib-wrapped deflate is the `deflate` content coding every browser accepts; done once,
            // at first use, so the ~200 KB script crosses the network as ~60 KB.
            deflated: miniz_oxide::deflate::compress_to_vec_zlib(body, 9),
        }
    }

    fn respond(&self, request: &HeaderMap) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        headers.insert(header::ETAG, self.etag.clone());
        // Revalidate every time: a new binary serves a new editor at once, and a 304 is cheap.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if self.content_type.starts_with("text/html") {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
        }
        let fresh = request
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|tags| {
                tags.split(',')
                    .any(|t| t.trim() == self.etag.to_str().unwrap_or_default())
            });
        if fresh {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        if accepts_deflate(request) {
            headers.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static("deflate"),
            );
            return (headers, self.deflated.clone()).into_response();
        }
        (headers, self.body).into_response()
    }
}

/// Scripts and styles only from the server itself; connections to the server's own API and
/// WebSocket; pictures of image cards from anywhere over https (they are referenced, not stored).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; worker-src 'self'; \
                   img-src 'self' data: blob: https:; connect-src 'self' ws: wss:; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

fn accepts_deflate(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("deflate") && !refused
        })
}

static WORKER: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "text/javascript; charset=utf-8",
        include_bytes!("../../../clients/web/dist/sw.js"),
    )
});
static PAGE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "text/html; charset=utf-8",
        include_bytes!("../../../clients/web/dist/index.html"),
    )
});
static SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "text/javascript; charset=utf-8",
        include_bytes!("../../../clients/web/dist/app.js"),
    )
});
static STYLE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "text/css; charset=utf-8",
        include_bytes!("../../../clients/web/dist/app.css"),
    )
});

/// The editor's routes; with `dir`, its files are read from there at every request.
pub fn router<S: Clone + Send + Sync + 'static>(dir: Option<PathBuf>) -> Router<S> {
    let dir = Arc::new(dir);
    let page = {
        let dir = Arc::clone(&dir);
        move |headers: HeaderMap| serve(dir, "index.html", headers)
    };
    // The editor validates the map id itself and says what is wrong with it, in the page.
    let editor = {
        let dir = Arc::clone(&dir);
        move |headers: HeaderMap| serve(dir, "index.html", headers)
    };
    // The service worker lives at the root so that its scope covers `/` and every `/m/{mapId}`.
    let worker = {
        let dir = Arc::clone(&dir);
        move |headers: HeaderMap| serve(dir, "sw.js", headers)
    };
    let asset = move |Path(name): Path<String>, headers: HeaderMap| serve(dir, name, headers);
    Router::new()
        .route("/", get(page))
        .route("/sw.js", get(worker))
        .route("/m/{map_id}", get(editor))
        .route("/assets/{name}", get(asset))
}

async fn serve(dir: Arc<Option<PathBuf>>, name: impl AsRef<str>, headers: HeaderMap) -> Response {
    let asset: &Asset = match name.as_ref() {
        "index.html" => &PAGE,
        "app.js" => &SCRIPT,
        "app.css" => &STYLE,
        "sw.js" => &WORKER,
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    match dir.as_ref() {
        None => asset.respond(&headers),
        Some(dir) => match tokio::fs::read(dir.join(name.as_ref())).await {
            Ok(body) => {
                let mut response = (
                    [
                        (header::CONTENT_TYPE, asset.content_type),
                        (header::CACHE_CONTROL, "no-store"),
                    ],
                    body,
                )
                    .into_response();
                // The same policy as the embedded pages, so what works from disk works built in.
                if asset.content_type.starts_with("text/html") {
                    response.headers_mut().insert(
                        header::CONTENT_SECURITY_POLICY,
                        HeaderValue::from_static(CSP),
                    );
                }
                response
            }
            Err(e) => (
                StatusCode::NOT_FOUND,
                format!("{}: {e}", dir.join(name.as_ref()).display()),
            )
                .into_response(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deflate_is_negotiated() {
        let mut h = HeaderMap::new();
        assert!(!accepts_deflate(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
        assert!(accepts_deflate(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=1, deflate;q=0"),
        );
        assert!(!accepts_deflate(&h));
    }

    #[test]
    fn compressed_script_inflates_to_the_script() {
        let inflated = miniz_oxide::inflate::decompress_to_vec_zlib(&SCRIPT.deflated).unwrap();
        assert_eq!(inflated, SCRIPT.body);
        assert!(SCRIPT.deflated.len() < SCRIPT.body.len() / 2);
    }
}
