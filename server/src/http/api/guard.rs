//! Access rules of the REST API: the role each route needs, checked before its handler runs.
//! A route without a rule is refused, so a new route cannot be left open by accident.

use super::paths;
use crate::auth::{AuthError, Role};
use crate::http::Shared;
use axum::RequestExt;
use axum::extract::{MatchedPath, RawPathParams, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;
use waymark_protocol::MapId;

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone: describes the API, holds no map data.
    Public,
    /// Any valid token; the handler shows only the maps it covers.
    Authenticated,
    /// At least this role, on a map the handler names (creating one).
    Create(Role),
    /// At least this role on the map in the path.
    Map(Role),
    /// An owner of every map (`*`): acts on the whole server, such as revoking access.
    Operator,
}

/// The rule of a route (its path below `/api/v1`, as declared).
pub fn rule(method: &Method, path: &str) -> Option<Rule> {
    use Role::*;
    let get = *method == Method::GET;
    let post = *method == Method::POST;
    Some(match path {
        paths::OPENAPI | paths::TEMPLATES if get => Rule::Public,
        paths::MAPS if get => Rule::Authenticated,
        paths::MAPS | paths::IMPORT if post => Rule::Create(Editor),
        paths::MAP
        | paths::EXPORT
        | paths::INSIGHTS
        | paths::ACTIVITY
        | paths::VERSIONS
        | paths::VERSION
        | paths::VERSION_EXPORT
        | paths::COMPARE
        | paths::COMMENTS
            if get =>
        {
            Rule::Map(Viewer)
        }
        paths::VERSIONS | paths::VERSION_RESTORE | paths::REVIEW if post => Rule::Map(Facilitator),
        paths::COMMENTS if post => Rule::Map(Commenter),
        paths::ATTENDANCE if get => Rule::Map(Facilitator),
        paths::DECISIONS if post => Rule::Map(Owner),
        paths::MAP if *method == Method::DELETE => Rule::Map(Owner),
        paths::REVOCATIONS if get || post => Rule::Operator,
        _ => return None,
    })
}

/// A refusal as the API answers it.
pub fn refusal(shared: &Shared, e: &AuthError) -> Response {
    shared.metrics.refused(e.code());
    let mut res = (
        e.status(),
        axum::Json(json!({ "error": e.code(), "message": e.to_string() })),
    )
        .into_response();
    if e.status() == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"waymark\""),
        );
    }
    res
}

/// Middleware: checks the caller's origin, token and role against the route's rule, and hands
/// the handler the caller's [`Access`].
pub async fn check(State(shared): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let auth = &shared.config.auth;
    if let Err(e) = auth.check_origin(req.headers()) {
        return refusal(&shared, &e);
    }
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().trim_start_matches("/api/v1").to_owned())
        .unwrap_or_default();
    let Some(rule) = rule(req.method(), &matched) else {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(json!({ "error": "forbidden", "message": "no access rule for this route" })),
        )
            .into_response();
    };
    if rule == Rule::Public {
        return next.run(req).await;
    }
    let access = match auth.caller(req.headers(), None) {
        Ok(access) if shared.revocations.refuses(&access) => {
            return refusal(&shared, &AuthError::Revoked);
        }
        Ok(access) => access,
        Err(e) => return refusal(&shared, &e),
    };
    let allowed = match rule {
        Rule::Public | Rule::Authenticated => Ok(()),
        Rule::Create(role) if access.role < role => Err(AuthError::Role {
            need: role,
            have: access.role,
        }),
        Rule::Create(_) => Ok(()),
        Rule::Operator => access.require_operator(),
        Rule::Map(role) => {
            let params = match req.extract_parts::<RawPathParams>().await {
                Ok(p) => p,
                Err(e) => return e.into_response(),
            };
            let raw = params.iter().find(|(k, _)| *k == "id").map(|(_, v)| v);
            match raw.map(MapId::parse) {
                Some(Ok(map)) => access.require(&map, role),
                // Malformed ids are the handler's to explain; it refuses them before any access.
                Some(Err(_)) => Ok(()),
                None => Err(AuthError::Invalid("no map in the path".into())),
            }
        }
    };
    if let Err(e) = allowed {
        return refusal(&shared, &e);
    }
    req.extensions_mut().insert(access);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_a_rule() {
        let doc = super::super::openapi::document();
        let paths = doc["paths"].as_object().expect("paths");
        let mut checked = 0;
        for (path, ops) in paths {
            let methods = ops.as_object().expect("operations").keys();
            for method in methods.filter(|m| *m != "parameters") {
                let method: Method = method.to_uppercase().parse().expect("method");
                assert!(
                    rule(&method, path.trim_start_matches("/api/v1")).is_some(),
                    "{method} {path} has no access rule"
                );
                checked += 1;
            }
        }
        assert!(checked >= 18, "only {checked} operations described");
        assert_eq!(rule(&Method::PUT, paths::MAP), None);
    }
}
