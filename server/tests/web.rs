//! The browser editor's pages and assets, as a browser fetches them from a running server.

mod common;

use common::{TestServer, http_bytes_with, http_with};
use std::path::Path;
use std::sync::Arc;
use waymark_server::Config;
use waymark_server::auth::{Auth, Verifier};

fn dist(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../clients/web/dist")
            .join(name),
    )
    .unwrap()
}

/// A GET with headers: (status, the response head to read headers from, body).
async fn get(url: &str, headers: &[(&str, &str)]) -> (u16, common::HttpResponse, Vec<u8>) {
    let (status, head, body) = http_bytes_with(url, headers).await;
    let res = common::HttpResponse {
        status,
        headers: head,
        body: String::new(),
    };
    (status, res, body)
}

#[tokio::test]
async fn pages_and_assets_are_served_from_the_binary() {
    let server = TestServer::start().await;
    let base = format!("http://{}", server.addr);

    // The list and the editor are the same page; the script decides what to show.
    for path in ["/", "/m/checkout-2026"] {
        let (status, res, body) = get(&format!("{base}{path}"), &[]).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            res.header("content-type").unwrap(),
            "text/html; charset=utf-8"
        );
        assert_eq!(body, dist("index.html"), "{path}");
        let csp = res.header("content-security-policy").unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("connect-src 'self' ws: wss:"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(res.header("x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(
            res.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
    }

    let (status, res, body) = get(&format!("{base}/assets/app.js"), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        res.header("content-type").unwrap(),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(body, dist("app.js"));
    assert_eq!(res.header("cache-control").unwrap(), "no-cache");
    let etag = res.header("etag").unwrap();

    // Compressed for browsers that accept it, the same bytes once inflated.
    let (_, res, deflated) = get(
        &format!("{base}/assets/app.js"),
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(res.header("content-encoding").unwrap(), "deflate");
    assert!(
        deflated.len() < body.len() / 2,
        "{} of {}",
        deflated.len(),
        body.len()
    );
    assert_eq!(
        miniz_oxide::inflate::decompress_to_vec_zlib(&deflated).unwrap(),
        body
    );

    // A revalidation with the current tag costs no body.
    let (status, _, body) = get(
        &format!("{base}/assets/app.js"),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(status, 304);
    assert!(body.is_empty());

    let (_, res, body) = get(&format!("{base}/assets/app.css"), &[]).await;
    assert_eq!(
        res.header("content-type").unwrap(),
        "text/css; charset=utf-8"
    );
    assert_eq!(body, dist("app.css"));

    let (status, _, _) = get(&format!("{base}/assets/../Cargo.toml"), &[]).await;
    assert_eq!(status, 404);
    let (status, _, _) = get(&format!("{base}/assets/other.js"), &[]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn pages_need_no_token_but_the_data_behind_them_does() {
    let server = TestServer::start_with(Config {
        auth: Arc::new(Auth {
            verifier: Some(Verifier::secret(b"a-secret-of-at-least-thirty-two-bytes").unwrap()),
            allowed_origins: None,
        }),
        ..Config::default()
    })
    .await;
    let base = format!("http://{}", server.addr);
    let (status, _, _) = get(&format!("{base}/m/secret-map"), &[]).await;
    assert_eq!(status, 200, "the page itself holds nothing of the map");
    let res = http_with("GET", &format!("{base}/api/v1/maps/secret-map"), &[], None).await;
    assert_eq!(res.status, 401);
}

#[tokio::test]
async fn a_web_dir_replaces_the_built_in_editor() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<p>work in progress</p>").unwrap();
    let server = TestServer::start_with(Config {
        web_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    })
    .await;
    let base = format!("http://{}", server.addr);
    let (status, res, body) = get(&format!("{base}/m/any"), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body, b"<p>work in progress</p>");
    assert_eq!(res.header("cache-control").unwrap(), "no-store");
    // Pages from disk are as protected as the built-in ones.
    assert!(res.header("content-security-policy").is_some());
    assert_eq!(res.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        res.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    // A file missing from the directory is a 404 naming it, not the built-in copy.
    let (status, _, body) = get(&format!("{base}/assets/app.js"), &[]).await;
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&body).contains("app.js"));
}

/// A page served from another origin (a company portal embedding the map list, say) calls the REST
/// API across origins: the browser asks first (a preflight), then sends the request.
#[tokio::test]
async fn the_api_answers_cross_origin_requests_from_allowed_origins_only() {
    let server = TestServer::start_with(Config {
        auth: Arc::new(Auth {
            verifier: None,
            allowed_origins: Some(vec!["https://portal.example.com".into()]),
        }),
        ..Config::default()
    })
    .await;
    let url = format!("http://{}/api/v1/maps", server.addr);
    let preflight = |origin: &'static str| {
        let url = url.clone();
        async move {
            http_with(
                "OPTIONS",
                &url,
                &[
                    ("Origin", origin),
                    ("Access-Control-Request-Method", "POST"),
                    (
                        "Access-Control-Request-Headers",
                        "authorization, content-type",
                    ),
                ],
                None,
            )
            .await
        }
    };
    let allowed = preflight("https://portal.example.com").await;
    assert_eq!(allowed.status, 200, "{}", allowed.headers);
    assert_eq!(
        allowed.header("access-control-allow-origin").as_deref(),
        Some("https://portal.example.com")
    );
    let methods = allowed.header("access-control-allow-methods").unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let headers = allowed
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(headers.contains("authorization"), "{headers}");

    // Another origin gets no permission: the browser stops there.
    let refused = preflight("https://evil.example").await;
    assert_eq!(refused.header("access-control-allow-origin"), None);

    // The request itself: allowed, and readable by the page.
    let res = http_with(
        "GET",
        &url,
        &[("Origin", "https://portal.example.com")],
        None,
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("https://portal.example.com")
    );
    // From another origin it is refused by the server, whatever the browser would do.
    let res = http_with("GET", &url, &[("Origin", "https://evil.example")], None).await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["error"], "origin_not_allowed");
}

#[tokio::test]
async fn without_allowed_origins_any_page_may_call_the_api() {
    let server = TestServer::start().await;
    let url = format!("http://{}/api/v1/maps", server.addr);
    let res = http_with(
        "OPTIONS",
        &url,
        &[
            ("Origin", "https://anywhere.example"),
            ("Access-Control-Request-Method", "DELETE"),
        ],
        None,
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
}
