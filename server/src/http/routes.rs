//! HTTP routes: the WebSocket endpoint `/maps/{mapId}`, the operational endpoints, and where the API
//! and the browser editor's pages are mounted.

use super::Shared;
use super::connection;
use super::upgrade::Upgrade;
use crate::auth::{self, AuthError, Role};
use crate::throttle::{self, Full};
use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::{Instrument, info_span};
use waymark_protocol::{MapId, ext};

/// How long `/readyz` waits for the store to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(3);

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/maps/{map_id}", get(connect))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .nest(
            "/api/v1",
            super::api::router()
                .route_layer(axum::middleware::from_fn_with_state(
                    Arc::clone(&shared),
                    super::api::body::read_whole,
                ))
                .route_layer(axum::middleware::from_fn_with_state(
                    Arc::clone(&shared),
                    super::api::guard::check,
                ))
                .layer(cors(shared.config.auth.allowed_origins.clone())),
        )
        .merge(super::web::router(shared.config.web_dir.clone()))
        .fallback(not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(shared)
}

/// Cross-origin access to the REST API for pages served elsewhere: every origin when
/// `--allowed-origins` is unset (callers authenticate with a bearer token, never a cookie, so a
/// foreign page gains nothing its user's token does not give it), else the listed ones. Preflights
/// are answered here, before the guard; what a request may do is still the guard's to decide.
fn cors(allowed: Option<Vec<String>>) -> CorsLayer {
    let origins = match allowed {
        None => AllowOrigin::any(),
        Some(list) => AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin
                .to_str()
                .is_ok_and(|o| list.contains(&auth::normalize_origin(o)))
        }),
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([
            header::LOCATION,
            header::CONTENT_DISPOSITION,
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
        ])
        .max_age(Duration::from_secs(600))
}

/// Headers every answer carries: no content sniffing, and no framing by other sites (the pages
/// also say so in their Content-Security-Policy; `X-Frame-Options` is for browsers that predate it).
/// An SVG export opened on its own is a document that could run script: it gets a policy that
/// allows none.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let svg = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"image/svg+xml"));
    if svg {
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
            ));
    }
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    headers
        .entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    response
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({ "error": code, "message": message.into() })),
    )
        .into_response()
}

async fn connect(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let map = match MapId::parse(&raw) {
        Ok(map) => map,
        Err(e) => {
            shared.metrics.error("invalid_map_id");
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_map_id",
                format!("invalid map id {raw:?}: {e}"),
            );
        }
    };
    let (mut parts, _) = request.into_parts();
    let upgrade = match Upgrade::from_parts(&mut parts) {
        Ok(upgrade) => upgrade,
        Err(missing) => {
            shared.metrics.error("not_websocket");
            let mut res = error(
                StatusCode::UPGRADE_REQUIRED,
                "websocket_required",
                format!(
                    "/maps/{map} is a WebSocket endpoint speaking the y-websocket protocol \
                     ({missing}): connect with a WebSocket client (for example y-websocket's \
                     `new WebsocketProvider('ws://HOST:PORT/maps', '{map}', doc)`)"
                ),
            );
            res.headers_mut()
                .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
            return res;
        }
    };
    if shared.shutdown.is_cancelled() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down; retry shortly",
        );
    }
    // Who may connect: the browser's origin, then the token (a header wins over the query).
    let auth = &shared.config.auth;
    let access = auth
        .check_origin(&parts.headers)
        .and_then(|()| auth.caller(&parts.headers, query.get("token").map(String::as_str)))
        .and_then(|a| match shared.revocations.refuses(&a) {
            true => Err(AuthError::Revoked),
            false => Ok(a),
        })
        .and_then(|a| a.require(&map, Role::Viewer).map(|()| a));
    let access = match access {
        Ok(access) => access,
        Err(e) => return super::api::guard::refusal(&shared, &e),
    };
    let limits = &shared.config.limits;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let address = throttle::client_address(peer, &parts.headers, &limits.trusted_proxies);
    let permit = match shared.connections.admit(
        address,
        limits.max_connections,
        limits.max_connections_per_address,
    ) {
        Ok(permit) => permit,
        Err(Full::Node) => {
            shared.metrics.limit("connections");
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_full",
                format!(
                    "this node serves its maximum of {} connections; retry later or elsewhere",
                    limits.max_connections
                ),
            );
        }
        Err(Full::Address) => {
            shared.metrics.limit("connections_per_address");
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_connections",
                format!(
                    "{} already holds the maximum of {} connections",
                    match throttle::limited_address(address) {
                        IpAddr::V6(net) => format!("{net}/64"),
                        v4 => v4.to_string(),
                    },
                    limits.max_connections_per_address
                ),
            );
        }
    };
    let extensions = query.get("ext").map(|v| ext::parse_request(v));
    let tracker = shared.tracker.clone();
    let on = shared.shards.for_map(&map).clone();
    upgrade.accept(&tracker, on, move |socket, seed| {
        let conn_id = shared.next_conn_id();
        let span = info_span!("conn", map_id = %map, conn_id);
        connection::serve(
            socket, seed, map, extensions, access, permit, shared, conn_id,
        )
        .instrument(span)
    })
}

async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.shutdown.is_cancelled() {
        return unavailable("the server is shutting down".into());
    }
    match tokio::time::timeout(READY_TIMEOUT, shared.store.check()).await {
        // Without Redis a node still serves its own clients (and resyncs when Redis is back), so it
        // stays ready: taking every node out of the load balancer would turn a fan-out outage into
        // a full one. The state is reported for operators and in `waymark_redis_connected`.
        Ok(Ok(())) => match &shared.cluster {
            Some(cluster) => Json(json!({
                "status": "ready",
                "node": cluster.node(),
                "redis": if cluster.connected() { "connected" } else { "reconnecting" },
            }))
            .into_response(),
            None => Json(json!({ "status": "ready" })).into_response(),
        },
        Ok(Err(e)) => unavailable(e.to_string()),
        Err(_) => unavailable(format!(
            "storage did not answer within {} s",
            READY_TIMEOUT.as_secs()
        )),
    }
}

fn unavailable(reason: String) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable", "reason": reason })),
    )
        .into_response()
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.metrics.render(),
    )
        .into_response()
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; maps are at /maps/{mapId} (WebSocket), see also /healthz, /readyz, /metrics",
    )
}
