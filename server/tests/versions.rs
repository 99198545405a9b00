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
    assert_eq!(changes["changed"].as_array().unwrap().len(), 1, "{changes}");
    assert!(changes["moved"].as_array().unwrap().is_empty());
    // Everything else removed went with the persona (its emotion scores, lanes, cards).
    for r in changes["removed"].as_array().unwrap() {
        let tied = r["id"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/", persona.id))
            || r["entity"]["personaId"] == persona.id.as_str()
            || r["id"] == persona.id.as_str();
        assert!(tied, "unexpected removal {r}");
    }

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

#[tokio::test]
async fn restoring_a_version_in_place_keeps_editors_connected_and_their_later_edits() {
    let server = TestServer::start().await;
    create_map(&server, "restore").await;
    take(&server, "restore", r#"{"label":"Approved"}"#).await;
    let approved = get_json(&server, "/api/v1/maps/restore/versions/1").await["map"].clone();

    let (a, b) = (
        server.connect("restore").await,
        server.connect("restore").await,
    );
    let before = a.map().map;
    let (step, lane) = (before.steps[0].clone(), before.lanes[0].clone());
    let card = a.edit(|ed| {
        ed.rename(Collection::Steps, &step.id, "Changed after approval")
            .unwrap();
        ed.add_card(&lane.id, &step.id, "Added after approval", At::Last)
            .unwrap()
    });
    b.wait_for(WAIT, "a's edits", |c| {
        c.map().map.cards.iter().any(|x| x.id == card)
    })
    .await
    .unwrap();

    let res = http(
        "POST",
        &server.http("/api/v1/maps/restore/versions/1/restore"),
        Some(r#"{"author":"Ana"}"#),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let answer = res.json();
    assert_eq!(answer["restored"]["number"], 1);
    assert_eq!(answer["safetyVersion"]["number"], 2);
    assert_eq!(answer["safetyVersion"]["kind"], "pre-restore");
    assert_eq!(answer["safetyVersion"]["author"], "Ana");
    assert_eq!(answer["changes"]["removed"], 1, "the added card");
    assert_eq!(answer["changes"]["changed"], 1, "the renamed step");

    // Both editors see the map change under them, without reconnecting.
    let approved_map: waymark_protocol::schema::JourneyMap =
        serde_json::from_value(approved.clone()).unwrap();
    for c in [&a, &b] {
        c.wait_for(WAIT, "the restored map", |c| c.map().map == approved_map)
            .await
            .unwrap();
        assert!(c.is_connected());
    }
    // And keep editing: what they do now is kept.
    let later = b.edit(|ed| {
        ed.add_card(&lane.id, &step.id, "Written after the restore", At::First)
            .unwrap()
    });
    a.wait_for(WAIT, "b's later card", |c| {
        c.map().map.cards.iter().any(|x| x.id == later)
    })
    .await
    .unwrap();
    let now = get_json(&server, "/api/v1/maps/restore").await["map"].clone();
    let now: waymark_protocol::schema::JourneyMap = serde_json::from_value(now).unwrap();
    assert_eq!(now.cards.len(), approved_map.cards.len() + 1);
    assert!(now.steps.iter().any(|s| s.name == step.name));

    // The map's activity names the restore and who did it.
    let activity = get_json(&server, "/api/v1/maps/restore/activity").await;
    assert!(
        activity["activity"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "restored" && e["user"] == "Ana"),
        "{activity}"
    );
    // The safety version holds the map as it was just before the restore.
    let safety = get_json(&server, "/api/v1/maps/restore/versions/2").await;
    let safety: waymark_protocol::schema::JourneyMap =
        serde_json::from_value(safety["map"].clone()).unwrap();
    assert!(safety.cards.iter().any(|x| x.id == card));
    assert!(
        safety
            .steps
            .iter()
            .any(|s| s.name == "Changed after approval")
    );

    let missing = http(
        "POST",
        &server.http("/api/v1/maps/restore/versions/9/restore"),
        None,
    )
    .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
}

#[tokio::test]
async fn automatic_versions_follow_a_quiet_period_after_edits() {
    let server = TestServer::start_with(waymark_server::Config {
        auto_version_after: Some(std::time::Duration::from_millis(200)),
        ..waymark_server::Config::default()
    })
    .await;
    create_map(&server, "auto").await;
    let editor = server.connect("auto").await;
    let versions = || async {
        get_json(&server, "/api/v1/maps/auto/versions").await["versions"]
            .as_array()
            .unwrap()
            .clone()
    };
    let wait_for_count = |n: usize| async move {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let list = versions().await;
            if list.len() >= n {
                return list;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no automatic version {n} after edits: {list:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    // Creating the map was itself an edit.
    let first = wait_for_count(1).await;
    assert_eq!(first[0]["kind"], "auto");
    let lane = editor.map().map.lanes[0].id.clone();
    let step = editor.map().map.steps[0].id.clone();
    let card = editor.edit(|ed| {
        ed.add_card(&lane, &step, "typed in a workshop", At::Last)
            .unwrap()
    });
    let second = wait_for_count(2).await;
    assert_eq!(second[0]["kind"], "auto");
    assert_eq!(second[0]["number"], 2);
    let v2 = get_json(&server, "/api/v1/maps/auto/versions/2").await;
    assert!(
        v2["map"]["cards"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == card.as_str()),
        "the automatic version holds the edit"
    );
}

async fn post(server: &TestServer, path: &str, body: &str) -> (u16, Value) {
    let res = http("POST", &server.http(path), Some(body)).await;
    let status = res.status;
    (status, res.json())
}

#[tokio::test]
async fn review_cycles_follow_the_decisions_and_refuse_what_makes_no_sense() {
    let server = TestServer::start().await;
    create_map(&server, "cycle").await;
    take(&server, "cycle", r#"{"label":"For review"}"#).await;
    let base = "/api/v1/maps/cycle/versions";

    let (status, body) = post(
        &server,
        &format!("{base}/1/review"),
        r#"{"reviewers":["Ana","Ben"],"due":"2026-12-01","submittedBy":"Cy"}"#,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["review"]["state"], "in-review");
    assert_eq!(body["review"]["due"], "2026-12-01");

    // Refused transitions say why.
    let refusals = [
        (
            format!("{base}/1/review"),
            r#"{"reviewers":["Ana"]}"#,
            409,
            "already_submitted",
        ),
        (
            format!("{base}/1/review/decisions"),
            r#"{"reviewer":"Zed","verdict":"approved"}"#,
            409,
            "not_a_reviewer",
        ),
        (
            format!("{base}/1/review"),
            r#"{"reviewers":[]}"#,
            400,
            "invalid_reviewers",
        ),
        (
            format!("{base}/1/review"),
            r#"{"reviewers":["Ana","Ana"]}"#,
            400,
            "invalid_reviewers",
        ),
        (
            format!("{base}/1/review"),
            r#"{"reviewers":["Ana"],"due":"soon"}"#,
            400,
            "invalid_due",
        ),
        (
            format!("{base}/1/review/decisions"),
            r#"{"reviewer":"Ana","verdict":"maybe"}"#,
            400,
            "invalid_body",
        ),
        (
            format!("{base}/9/review/decisions"),
            r#"{"reviewer":"Ana","verdict":"approved"}"#,
            404,
            "version_not_found",
        ),
    ];
    for (path, body, status, code) in &refusals {
        let (got, answer) = post(&server, path, body).await;
        assert_eq!(
            (got, answer["error"].as_str().unwrap()),
            (*status, *code),
            "{path} {body}: {answer}"
        );
        assert!(!answer["message"].as_str().unwrap().is_empty());
    }

    let decide = |who: &'static str, verdict: &'static str| {
        let server = &server;
        async move {
            post(
                server,
                "/api/v1/maps/cycle/versions/1/review/decisions",
                &format!(r#"{{"reviewer":"{who}","verdict":"{verdict}","comment":"ok"}}"#),
            )
            .await
        }
    };
    let (status, body) = decide("Ana", "approved").await;
    assert_eq!(
        (status, body["review"]["state"].as_str()),
        (200, Some("in-review"))
    );
    let (status, body) = decide("Ana", "approved").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("already_decided"))
    );
    let (status, body) = decide("Ben", "approved").await;
    assert_eq!(
        (status, body["review"]["state"].as_str()),
        (200, Some("approved"))
    );
    let (status, body) = decide("Ben", "changes-requested").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("review_closed"))
    );

    // The map knows its newest approved version, and whether it has moved on since.
    let list = get_json(&server, base).await;
    assert_eq!(list["lastApproved"], 1);
    assert_eq!(list["changedSinceApproved"], false);
    assert_eq!(list["versions"][0]["review"]["state"], "approved");
    let editor = server.connect("cycle").await;
    editor.edit(|ed| ed.set_meta("reviewDue", Some("2020-01-31")));
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let list = get_json(&server, base).await;
        if list["changedSinceApproved"] == true {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{list}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // A review due date in the past flags the map in the list of maps.
    let overdue = |list: &Value| {
        list["maps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == "cycle")
            .map(|m| (m["reviewDue"].clone(), m["reviewOverdue"].clone()))
    };
    let maps = get_json(&server, "/api/v1/maps").await;
    assert_eq!(
        overdue(&maps),
        Some((Value::from("2020-01-31"), Value::from(true)))
    );
    editor.edit(|ed| ed.set_meta("reviewDue", Some("2999-01-01")));
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let maps = get_json(&server, "/api/v1/maps").await;
        if overdue(&maps) == Some((Value::from("2999-01-01"), Value::from(false))) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{maps}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // Changes requested by one reviewer end that version's review.
    take(&server, "cycle", r#"{"label":"Second round"}"#).await;
    let (status, _) = post(
        &server,
        &format!("{base}/2/review/decisions"),
        r#"{"reviewer":"Ana","verdict":"approved"}"#,
    )
    .await;
    assert_eq!(status, 409, "not submitted yet");
    post(
        &server,
        &format!("{base}/2/review"),
        r#"{"reviewers":["Ana","Ben"]}"#,
    )
    .await;
    let (status, body) = post(
        &server,
        &format!("{base}/2/review/decisions"),
        r#"{"reviewer":"Ben","verdict":"changes-requested","comment":"Pain points lack evidence"}"#,
    )
    .await;
    assert_eq!(
        (status, body["review"]["state"].as_str()),
        (200, Some("changes-requested"))
    );
    assert_eq!(
        body["review"]["decisions"][0]["comment"],
        "Pain points lack evidence"
    );
    assert_eq!(get_json(&server, base).await["lastApproved"], 1);
}

#[tokio::test]
async fn events_reach_clients_that_opted_in_and_no_others() {
    use waymark_client::{MapClient, Options};
    let server = TestServer::start().await;
    create_map(&server, "events").await;
    let opted = MapClient::connect(format!("{}?ext=events", server.url("events")))
        .await
        .unwrap();
    let plain = MapClient::connect_with(
        server.url("events"),
        Options {
            record_frames: true,
            ..Options::default()
        },
    )
    .await
    .unwrap();
    for c in [&opted, &plain] {
        c.synced(WAIT).await.unwrap();
    }
    assert_eq!(opted.extensions(), Some(vec!["events".to_owned()]));

    take(&server, "events", r#"{"label":"Workshop 1"}"#).await;
    post(
        &server,
        "/api/v1/maps/events/versions/1/review",
        r#"{"reviewers":["Ana"]}"#,
    )
    .await;
    post(
        &server,
        "/api/v1/maps/events/versions/1/review/decisions",
        r#"{"reviewer":"Ana","verdict":"approved"}"#,
    )
    .await;
    opted
        .wait_for(WAIT, "three events", |c| c.events().len() >= 3)
        .await
        .unwrap();
    let events: Vec<Value> = opted
        .events()
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert_eq!(events[0]["type"], "version.created");
    assert_eq!(events[0]["map"], "events");
    assert_eq!(events[0]["version"]["label"], "Workshop 1");
    assert_eq!(events[1]["type"], "review.updated");
    assert_eq!(events[1]["review"]["state"], "in-review");
    assert_eq!(events[2]["review"]["state"], "approved");
    // A stock client never sees a message type outside y-protocols' 0-3.
    assert!(plain.events().is_empty());
    assert!(
        plain.frames().iter().all(|f| f[0] <= 3),
        "a client that did not opt in got an extension message"
    );
    assert!(plain.undecodable().is_empty());
}
