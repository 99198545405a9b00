//! The OpenAPI description is true: it names exactly the API's paths, its references resolve, and
//! every documented operation answers a live request with a documented status.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                match child {
                    Value::String(r) if k == "$ref" => out.push(r.clone()),
                    _ => refs(child, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| refs(c, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_description_matches_the_api() {
    let server = TestServer::start().await;
    let res = http("GET", &server.http("/api/v1/openapi.json"), None).await;
    assert_eq!(res.status, 200);
    let doc = res.json();
    assert_eq!(doc["openapi"], "3.1.0");

    // Exactly the router's paths.
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let served: BTreeSet<String> = waymark_server::api::paths::ALL
        .iter()
        .map(|p| format!("/api/v1{p}"))
        .collect();
    assert_eq!(documented, served);

    // Every reference resolves.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 10);
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("odd ref {r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling {r}"
        );
    }

    // Every operation, exercised: (documented path, method, request path, body).
    assert_eq!(
        http(
            "POST",
            &server.http("/api/v1/maps"),
            Some(r#"{"id":"doc-map","template":"saas-onboarding"}"#)
        )
        .await
        .status,
        201
    );
    let export = http(
        "GET",
        &server.http("/api/v1/maps/doc-map/export/json"),
        None,
    )
    .await
    .body;
    let calls: Vec<(&str, &str, String, Option<String>)> = vec![
        ("/openapi.json", "get", "/api/v1/openapi.json".into(), None),
        ("/templates", "get", "/api/v1/templates".into(), None),
        ("/maps", "get", "/api/v1/maps".into(), None),
        (
            "/maps",
            "post",
            "/api/v1/maps".into(),
            Some(r#"{"template":"service-blueprint"}"#.into()),
        ),
        (
            "/maps",
            "post",
            "/api/v1/maps".into(),
            Some(r#"{"template":"nope"}"#.into()),
        ),
        (
            "/maps",
            "post",
            "/api/v1/maps".into(),
            Some(r#"{"id":"doc-map"}"#.into()),
        ),
        (
            "/maps/import",
            "post",
            "/api/v1/maps/import?id=doc-copy".into(),
            Some(export.clone()),
        ),
        (
            "/maps/import",
            "post",
            "/api/v1/maps/import?id=doc-copy".into(),
            Some(export),
        ),
        (
            "/maps/import",
            "post",
            "/api/v1/maps/import".into(),
            Some("{}".into()),
        ),
        ("/maps/{id}", "get", "/api/v1/maps/doc-map".into(), None),
        ("/maps/{id}", "get", "/api/v1/maps/missing".into(), None),
        ("/maps/{id}", "get", "/api/v1/maps/-bad".into(), None),
        (
            "/maps/{id}/export/{format}",
            "get",
            "/api/v1/maps/doc-map/export/csv".into(),
            None,
        ),
        (
            "/maps/{id}/export/{format}",
            "get",
            "/api/v1/maps/doc-map/export/markdown".into(),
            None,
        ),
        (
            "/maps/{id}/export/{format}",
            "get",
            "/api/v1/maps/doc-map/export/mermaid".into(),
            None,
        ),
        (
            "/maps/{id}/export/{format}",
            "get",
            "/api/v1/maps/doc-map/export/json".into(),
            None,
        ),
        (
            "/maps/{id}/export/{format}",
            "get",
            "/api/v1/maps/doc-map/export/docx".into(),
            None,
        ),
        (
            "/maps/{id}/export/{format}",
            "get",
            "/api/v1/maps/missing/export/csv".into(),
            None,
        ),
        (
            "/maps/{id}/insights",
            "get",
            "/api/v1/maps/doc-map/insights".into(),
            None,
        ),
        (
            "/maps/{id}/insights",
            "get",
            "/api/v1/maps/missing/insights".into(),
            None,
        ),
        (
            "/maps/{id}/versions",
            "post",
            "/api/v1/maps/doc-map/versions".into(),
            Some(r#"{"label":"Baseline","author":"Ana"}"#.into()),
        ),
        (
            "/maps/{id}/versions",
            "post",
            "/api/v1/maps/doc-map/versions".into(),
            Some(r#"{"label":""}"#.into()),
        ),
        (
            "/maps/{id}/versions",
            "post",
            "/api/v1/maps/missing/versions".into(),
            Some(r#"{"label":"x"}"#.into()),
        ),
        (
            "/maps/{id}/versions",
            "get",
            "/api/v1/maps/doc-map/versions".into(),
            None,
        ),
        (
            "/maps/{id}/versions",
            "get",
            "/api/v1/maps/missing/versions".into(),
            None,
        ),
        (
            "/maps/{id}/versions",
            "get",
            "/api/v1/maps/-bad/versions".into(),
            None,
        ),
        (
            "/maps/{id}/versions/{number}",
            "get",
            "/api/v1/maps/doc-map/versions/1".into(),
            None,
        ),
        (
            "/maps/{id}/versions/{number}",
            "get",
            "/api/v1/maps/doc-map/versions/9".into(),
            None,
        ),
        (
            "/maps/{id}/versions/{number}",
            "get",
            "/api/v1/maps/doc-map/versions/x".into(),
            None,
        ),
        (
            "/maps/{id}/versions/{number}/export/{format}",
            "get",
            "/api/v1/maps/doc-map/versions/1/export/json".into(),
            None,
        ),
        (
            "/maps/{id}/versions/{number}/export/{format}",
            "get",
            "/api/v1/maps/doc-map/versions/1/export/docx".into(),
            None,
        ),
        (
            "/maps/{id}/versions/{number}/export/{format}",
            "get",
            "/api/v1/maps/doc-map/versions/9/export/csv".into(),
            None,
        ),
        (
            "/maps/{id}/versions/{number}/review",
            "post",
            "/api/v1/maps/doc-map/versions/1/review".into(),
            Some(r#"{"reviewers":["Ana"],"due":"2026-12-01"}"#.into()),
        ),
        (
            "/maps/{id}/versions/{number}/review",
            "post",
            "/api/v1/maps/doc-map/versions/1/review".into(),
            Some(r#"{"reviewers":["Ana"]}"#.into()),
        ),
        (
            "/maps/{id}/versions/{number}/review",
            "post",
            "/api/v1/maps/doc-map/versions/1/review".into(),
            Some(r#"{"reviewers":[]}"#.into()),
        ),
        (
            "/maps/{id}/versions/{number}/review",
            "post",
            "/api/v1/maps/doc-map/versions/9/review".into(),
            Some(r#"{"reviewers":["Ana"]}"#.into()),
        ),
        (
            "/maps/{id}/versions/{number}/review/decisions",
            "post",
            "/api/v1/maps/doc-map/versions/1/review/decisions".into(),
            Some(r#"{"reviewer":"Ana","verdict":"approved"}"#.into()),
        ),
        (
            "/maps/{id}/versions/{number}/review/decisions",
            "post",
            "/api/v1/maps/doc-map/versions/1/review/decisions".into(),
            Some(r#"{"reviewer":"Ana","verdict":"approved"}"#.into()),
        ),
        (
            "/maps/{id}/versions/{number}/review/decisions",
            "post",
            "/api/v1/maps/doc-map/versions/1/review/decisions".into(),
            Some(r#"{"verdict":"approved"}"#.into()),
        ),
        (
            "/maps/{id}/versions/{number}/review/decisions",
            "post",
            "/api/v1/maps/doc-map/versions/9/review/decisions".into(),
            Some(r#"{"reviewer":"Ana","verdict":"approved"}"#.into()),
        ),
        (
            "/maps/{id}/versions/{number}/restore",
            "post",
            "/api/v1/maps/doc-map/versions/1/restore".into(),
            Some(r#"{"author":"Ana"}"#.into()),
        ),
        (
            "/maps/{id}/versions/{number}/restore",
            "post",
            "/api/v1/maps/doc-map/versions/1/restore".into(),
            Some(r#"{"who":"?"}"#.into()),
        ),
        (
            "/maps/{id}/versions/{number}/restore",
            "post",
            "/api/v1/maps/doc-map/versions/99/restore".into(),
            None,
        ),
        (
            "/maps/{id}/compare",
            "get",
            "/api/v1/maps/doc-map/compare?from=1".into(),
            None,
        ),
        (
            "/maps/{id}/compare",
            "get",
            "/api/v1/maps/doc-map/compare?from=1&to=current&format=markdown".into(),
            None,
        ),
        (
            "/maps/{id}/compare",
            "get",
            "/api/v1/maps/doc-map/compare".into(),
            None,
        ),
        (
            "/maps/{id}/compare",
            "get",
            "/api/v1/maps/doc-map/compare?from=9".into(),
            None,
        ),
        (
            "/maps/{id}/activity",
            "get",
            "/api/v1/maps/doc-map/activity".into(),
            None,
        ),
        (
            "/maps/{id}/activity",
            "get",
            "/api/v1/maps/doc-map/activity?limit=0".into(),
            None,
        ),
        (
            "/maps/{id}/activity",
            "get",
            "/api/v1/maps/missing/activity".into(),
            None,
        ),
        (
            "/maps/{id}/attendance",
            "get",
            "/api/v1/maps/doc-map/attendance".into(),
            None,
        ),
        (
            "/maps/{id}/attendance",
            "get",
            "/api/v1/maps/doc-map/attendance?format=csv".into(),
            None,
        ),
        (
            "/maps/{id}/attendance",
            "get",
            "/api/v1/maps/doc-map/attendance?format=xml".into(),
            None,
        ),
        (
            "/maps/{id}/attendance",
            "get",
            "/api/v1/maps/missing/attendance".into(),
            None,
        ),
        (
            "/maps/{id}/comments",
            "post",
            "/api/v1/maps/doc-map/comments".into(),
            Some(r#"{"text": "Is this step real?", "target": "steps/s1", "author": "Ana"}"#.into()),
        ),
        (
            "/maps/{id}/comments",
            "post",
            "/api/v1/maps/doc-map/comments".into(),
            Some(r#"{"text": "x", "target": "nowhere"}"#.into()),
        ),
        (
            "/maps/{id}/comments",
            "post",
            "/api/v1/maps/missing/comments".into(),
            Some(r#"{"text": "x"}"#.into()),
        ),
        (
            "/maps/{id}/comments",
            "get",
            "/api/v1/maps/doc-map/comments".into(),
            None,
        ),
        (
            "/maps/{id}/comments",
            "get",
            "/api/v1/maps/missing/comments".into(),
            None,
        ),
        ("/maps/{id}", "delete", "/api/v1/maps/doc-copy".into(), None),
        ("/maps/{id}", "delete", "/api/v1/maps/doc-copy".into(), None),
        (
            "/revocations",
            "post",
            "/api/v1/revocations".into(),
            Some(r#"{"user": "ana", "reason": "left"}"#.into()),
        ),
        (
            "/revocations",
            "post",
            "/api/v1/revocations".into(),
            Some(r#"{"user": "ana", "token": "t"}"#.into()),
        ),
        ("/revocations", "get", "/api/v1/revocations".into(), None),
    ];
    let mut exercised = BTreeSet::new();
    for (path, method, url, body) in calls {
        let res = http(&method.to_uppercase(), &server.http(&url), body.as_deref()).await;
        let op = &doc["paths"][format!("/api/v1{path}")][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        let documented = &op["responses"][res.status.to_string()];
        assert!(
            documented.is_object(),
            "{method} {url} answered {} which is not documented for it: {}",
            res.status,
            res.body
        );
        if documented["content"]["application/json"].is_object()
            && documented["content"].as_object().unwrap().len() == 1
        {
            let ct = res.header("content-type").unwrap_or_default();
            assert!(ct.starts_with("application/json"), "{method} {url}: {ct}");
            let _ = res.json();
        }
        exercised.insert((path, method));
    }
    // Nothing documented went untried.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "parameters")
        {
            let short = path.strip_prefix("/api/v1").unwrap();
            assert!(
                exercised.iter().any(|(p, m)| *p == short && m == method),
                "{method} {path} is documented but not exercised here"
            );
        }
    }
}

/// Every field a request body of our own may carry is bounded in the description (a length, a
/// pattern, an enumeration, a format, or a number of items), and the server holds to the bounds:
/// one past each is a 400. Imports are described by the generated map schema, whose limits are
/// the map's own (SCHEMA.md).
#[tokio::test]
async fn every_request_field_is_bounded_and_the_bounds_hold() {
    let server = TestServer::start().await;
    let doc = http("GET", &server.http("/api/v1/openapi.json"), None)
        .await
        .json();
    let resolve = |schema: &Value| -> Value {
        match schema["$ref"].as_str() {
            Some(r) => {
                let name = r.trim_start_matches("#/components/schemas/");
                doc["components"]["schemas"][name].clone()
            }
            None => schema.clone(),
        }
    };
    let bounded = |field: &Value| {
        [
            "maxLength",
            "pattern",
            "enum",
            "format",
            "maxItems",
            "maximum",
        ]
        .iter()
        .any(|k| field.get(*k).is_some())
    };
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(raw) = op
                .get("requestBody")
                .map(|b| &b["content"]["application/json"]["schema"])
            else {
                continue;
            };
            if raw["$ref"] == "#/components/schemas/JourneyMap" {
                continue; // an import: the map's own schema and limits
            }
            let schema = resolve(raw);
            for (name, field) in schema["properties"].as_object().unwrap() {
                assert!(
                    bounded(field),
                    "{method} {path}: `{name}` has no bound: {field}"
                );
                if field["type"] == "array" {
                    assert!(
                        bounded(&field["items"]),
                        "{method} {path}: `{name}` items unbounded"
                    );
                }
                checked += 1;
            }
        }
        for param in item["parameters"].as_array().into_iter().flatten() {
            assert!(
                bounded(&param["schema"]),
                "{path}: parameter {param} has no bound"
            );
        }
    }
    assert!(checked >= 15, "only {checked} fields described");

    // One past each bound is refused.
    let long = |n: usize| "x".repeat(n);
    let created = http(
        "POST",
        &server.http("/api/v1/maps"),
        Some(r#"{"id": "bounds"}"#),
    )
    .await;
    assert_eq!(created.status, 201);
    let v1 = http(
        "POST",
        &server.http("/api/v1/maps/bounds/versions"),
        Some(r#"{"label": "v1"}"#),
    )
    .await;
    assert_eq!(v1.status, 201);
    let cases = [
        ("/api/v1/maps", format!(r#"{{"title": "{}"}}"#, long(501))),
        (
            "/api/v1/maps/bounds/versions",
            format!(r#"{{"label": "{}"}}"#, long(201)),
        ),
        (
            "/api/v1/maps/bounds/versions",
            format!(r#"{{"label": "ok", "description": "{}"}}"#, long(10_001)),
        ),
        (
            "/api/v1/maps/bounds/comments",
            format!(r#"{{"text": "{}"}}"#, long(10_001)),
        ),
        (
            "/api/v1/maps/bounds/versions/1/review",
            format!(r#"{{"reviewers": ["{}"]}}"#, long(10_001)),
        ),
        (
            "/api/v1/maps/bounds/versions/1/review",
            r#"{"reviewers": ["ana"], "due": "2026-02-30"}"#.to_owned(),
        ),
        (
            "/api/v1/maps/bounds/versions/1/review/decisions",
            format!(
                r#"{{"reviewer": "ana", "verdict": "approved", "comment": "{}"}}"#,
                long(10_001)
            ),
        ),
    ];
    for (url, body) in cases {
        let res = http("POST", &server.http(url), Some(&body)).await;
        assert_eq!(
            res.status,
            400,
            "{url} {}: {}",
            &body[..body.len().min(60)],
            res.body
        );
    }
}
