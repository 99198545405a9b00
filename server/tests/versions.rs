//! Versions over REST, through a real server: taking, listing, reading and exporting them, and
//! comparing two versions (or a version with the live map) after known edits.

mod common;

use common::*;
use serde_json::Value;
use waymark_protocol::schema::{At, Collection};

async fn create_map(server: &TestServer, id: &str) {
    let body = format!(r#"{{"id":"{id}","template":"saas-onboarding"}}"#);
    let res = http("POST", &server.http("/api/v1/maps"), Some(&body)).await;
    assert_eq!(res.status, 201, "{}", res.body);
}

async fn take(server: &TestServer, id: &str, body: &str) -> Value {
    let res = http(
        "POST",
        &server.http(&format!("/api/v1/maps/{id}/versions")),
        Some(body),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.json()
}

async fn get_json(server: &TestServer, path: &str) -> Value {
    let res = http("GET", &server.http(path), None).await;
    assert_eq!(res.status, 200, "{path}: {}", res.body);
    res.json()
}

#[tokio::test]
async fn versions_are_taken_listed_read_exported_and_compared() {
    let server = TestServer::start().await;
    create_map(&server, "review").await;
    let v1 = take(
        &server,
        "review",
        r#"{"label":"Baseline","description":"Before the workshop","author":"Ana"}"#,
    )
    .await;
    assert_eq!(v1["number"], 1);
    assert_eq!(v1["label"], "Baseline");
    assert_eq!(v1["author"], "Ana");
    assert_eq!(v1["kind"], "manual");
    // Stored compressed: a version costs less than the raw state.
    assert!(v1["size"].as_u64().unwrap() < v1["rawSize"].as_u64().unwrap());
    let original = get_json(&server, "/api/v1/maps/review").await["map"].clone();

    // Known edits by a live editor: rename a step, add a card, delete a persona.
    let editor = server.connect("review").await;
    let before = editor.map().map;
    let (step, lane, persona) = (
        before.steps[0].clone(),
        before.lanes[0].clone(),
        before.personas[0].clone(),
    );
    let card = editor.edit(|ed| {
        ed.rename(Collection::Steps, &step.id, "Sign up in one click")
            .unwrap();
        ed.delete(Collection::Personas, &persona.id).unwrap();
        ed.add_card(
            &lane.id,
            &step.id,
            "Asked for a credit card too early",
            At::Last,
        )
        .unwrap()
    });
    // The server has them once a second editor sees them.
    let witness = server.connect("review").await;
    witness
        .wait_for(WAIT, "the new card", |c| {
            c.map().map.cards.iter().any(|x| x.id == card)
        })
        .await
        .unwrap();
    let v2 = take(&server, "review", r#"{"label":"After the workshop"}"#).await;
    assert_eq!(v2["number"], 2);

    let list = get_json(&server, "/api/v1/maps/review/versions").await;
    let numbers: Vec<i64> = list["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1], "newest first");

    // Version 1 still reads as the original map, whatever happened since.
    let read = get_json(&server, "/api/v1/maps/review/versions/1").await;
    assert_eq!(read["map"], original);
    assert_eq!(read["version"]["label"], "Baseline");

    // Every export works for the old version.
    for (format, magic) in [
        ("json", &b"{"[..]),
        ("csv", b""),
        ("markdown", b""),
        ("mermaid", b"journey"),
        ("svg", b"<svg"),
        ("png", b"\x89PNG"),
        ("pdf", b"%PDF"),
    ] {
        let (status, headers, body) =
            http_bytes(&server.http(&format!("/api/v1/maps/review/versions/1/export/{format}")))
                .await;
        assert_eq!(status, 200, "{format}");
        assert!(body.starts_with(magic), "{format} starts wrong");
        assert!(body.len() > 100, "{format} is too small");
        assert!(headers.contains("review-v1."), "{format}: {headers}");
    }
    let (_, _, csv) = http_bytes(&server.http("/api/v1/maps/review/versions/1/export/csv")).await;
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        !csv.contains("Asked for a credit card"),
        "v1 has no new card"
    );
    assert!(csv.contains(&step.name), "v1 has the old step name");

    // The comparison reports exactly the edits made.
    let cmp = get_json(&server, "/api/v1/maps/review/compare?from=1&to=2").await;
    let changes = &cmp["changes"];
    let added: Vec<(&str, &str)> = changes["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["kind"].as_str().unwrap(), a["id"].as_str().unwrap()))
        .collect();
    assert_eq!(added, [("card", card.as_str())]);
    let removed: Vec<(&str, &str)> = changes["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["kind"].as_str().unwrap(), a["id"].as_str().unwrap()))
        .filter(|(kind, _)| *kind == "persona")
        .collect();
    assert_eq!(removed, [("persona", persona.id.as_str())]);
    let renamed = changes["changed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == step.id.as_str())
        .expect("the step's change");
    assert_eq!(renamed["fields"][0]["field"], "name");
    assert_eq!(renamed["fields"][0]["old"], step.name.as_str());
    assert_eq!(renamed["fields"][0]["new"], "Sign up in one click");
    assert!(changes["moved"].as_array().unwrap().is_empty());

    let md = http(
        "GET",
        &server.http("/api/v1/maps/review/compare?from=1&to=2&format=markdown"),
        None,
    )
    .await;
    assert_eq!(md.status, 200);
    assert!(
        md.header("content-type")
            .unwrap()
            .starts_with("text/markdown")
    );
    assert!(md.body.contains("Sign up in one click"), "{}", md.body);
    assert!(
        md.body.contains("Asked for a credit card too early"),
        "{}",
        md.body
    );

    // Nothing changed since version 2: comparing it with the live map finds nothing.
    let same = get_json(&server, "/api/v1/maps/review/compare?from=2").await;
    assert_eq!(same["changes"]["summary"]["added"], 0);
    assert_eq!(same["changes"]["summary"]["changed"], 0);
    assert!(same["changes"]["added"].as_array().unwrap().is_empty());
    assert!(same["changes"]["changed"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_version_requests_get_clear_errors() {
    let server = TestServer::start().await;
    create_map(&server, "errs").await;
    let cases = [
        (
            "POST",
            "/api/v1/maps/errs/versions",
            Some(r#"{"label":"  "}"#),
            400,
            "invalid_label",
        ),
        (
            "POST",
            "/api/v1/maps/errs/versions",
            Some(r#"{"lab":"x"}"#),
            400,
            "invalid_body",
        ),
        (
            "POST",
            "/api/v1/maps/nope/versions",
            Some(r#"{"label":"x"}"#),
            404,
            "map_not_found",
        ),
        (
            "GET",
            "/api/v1/maps/errs/versions/7",
            None,
            404,
            "version_not_found",
        ),
        (
            "GET",
            "/api/v1/maps/errs/versions/zero",
            None,
            400,
            "invalid_version",
        ),
        (
            "GET",
            "/api/v1/maps/errs/versions/0",
            None,
            400,
            "invalid_version",
        ),
        (
            "GET",
            "/api/v1/maps/errs/versions/1/export/docx",
            None,
            400,
            "unknown_format",
        ),
        (
            "GET",
            "/api/v1/maps/errs/compare",
            None,
            400,
            "invalid_query",
        ),
        (
            "GET",
            "/api/v1/maps/errs/compare?from=1",
            None,
            404,
            "version_not_found",
        ),
        (
            "GET",
            "/api/v1/maps/errs/compare?from=current&format=xml",
            None,
            400,
            "unknown_format",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let res = http(method, &server.http(path), body).await;
        assert_eq!(res.status, status, "{method} {path}: {}", res.body);
        assert_eq!(res.json()["error"], code, "{method} {path}: {}", res.body);
    }
    // And the map itself is untouched by all that.
    let list = get_json(&server, "/api/v1/maps/errs/versions").await;
    assert!(list["versions"].as_array().unwrap().is_empty());
}
