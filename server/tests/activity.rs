//! The activity record of a map, through a real server: who connected, who edited how much, who
//! left, newest first.

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;
use waymark_protocol::schema::At;

#[tokio::test]
async fn the_activity_record_says_who_connected_edited_and_left() {
    // A short awareness timeout makes the room record activity every 100 ms.
    let server = TestServer::start_with(waymark_server::Config {
        awareness_timeout: Duration::from_millis(600),
        ..waymark_server::Config::default()
    })
    .await;
    let res = http(
        "POST",
        &server.http("/api/v1/maps"),
        Some(r#"{"id":"logged","template":"saas-onboarding"}"#),
    )
    .await;
    assert_eq!(res.status, 201);
    let ana = server.connect("logged").await;
    ana.set_awareness(r##"{"user":{"name":"Ana","color":"#c33"}}"##);
    let (lane, step) = {
        let m = ana.map().map;
        (m.lanes[0].id.clone(), m.steps[0].id.clone())
    };
    let anon = server.connect("logged").await;
    // Ana's name reaches the server before her edits.
    anon.wait_for(WAIT, "Ana's presence", |c| {
        c.peers().values().any(|s| s.contains("Ana"))
    })
    .await
    .unwrap();
    for k in 0..3 {
        ana.edit(|ed| {
            ed.add_card(&lane, &step, &format!("card {k}"), At::Last)
                .unwrap()
        });
    }
    anon.edit(|ed| ed.add_card(&lane, &step, "anonymous", At::First).unwrap());
    ana.wait_for(WAIT, "the anonymous card", |c| {
        c.map().map.cards.iter().any(|x| x.text == "anonymous")
    })
    .await
    .unwrap();
    ana.disconnect().await;

    let deadline = tokio::time::Instant::now() + WAIT;
    let entries = loop {
        let res = http("GET", &server.http("/api/v1/maps/logged/activity"), None).await;
        assert_eq!(res.status, 200, "{}", res.body);
        let entries = res.json()["activity"].as_array().unwrap().clone();
        let ana_left = entries
            .iter()
            .any(|e| e["kind"] == "disconnected" && e["user"] == "Ana");
        let anon_edited = entries
            .iter()
            .any(|e| e["kind"] == "edited" && e.get("user").is_none());
        if ana_left && anon_edited {
            break entries;
        }
        assert!(tokio::time::Instant::now() < deadline, "{entries:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let of = |kind: &str, user: Option<&str>| -> Vec<&Value> {
        entries
            .iter()
            .filter(|e| e["kind"] == kind && e["user"].as_str() == user)
            .collect()
    };
    let ana_edits: u64 = of("edited", Some("Ana"))
        .iter()
        .map(|e| e["updates"].as_u64().unwrap())
        .sum();
    assert_eq!(ana_edits, 3, "{entries:#?}");
    assert!(
        of("edited", Some("Ana"))
            .iter()
            .all(|e| e["bytes"].as_u64().unwrap() > 0)
    );
    assert_eq!(of("edited", None).len(), 1);
    assert_eq!(of("edited", None)[0]["updates"], 1);
    assert_eq!(of("connected", None).len(), 2, "both connections");
    // One session string ties Ana's entries together; newest first.
    let session = of("disconnected", Some("Ana"))[0]["session"].clone();
    assert!(
        of("edited", Some("Ana"))
            .iter()
            .all(|e| e["session"] == session)
    );
    let times: Vec<i64> = entries.iter().map(|e| e["at"].as_i64().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );

    let limited = http(
        "GET",
        &server.http("/api/v1/maps/logged/activity?limit=1"),
        None,
    )
    .await;
    assert_eq!(limited.json()["activity"].as_array().unwrap().len(), 1);
    let bad = http(
        "GET",
        &server.http("/api/v1/maps/logged/activity?limit=5000"),
        None,
    )
    .await;
    assert_eq!(
        (bad.status, bad.json()["error"].clone()),
        (400, Value::from("invalid_query"))
    );
}
