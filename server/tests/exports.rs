//! Poster exports under hostile use: a map too large to draw is refused with what to do instead,
//! and one caller's burst of exports is limited (429 or 503, with Retry-After) while another
//! map's editors keep their delivery fast. Render times are measured.

mod common;

use common::access::{SECRET, now, token_for};
use common::*;
use std::time::{Duration, Instant};
use waymark_client::MapClient;
use waymark_protocol::schema::templates::find;
use waymark_protocol::schema::{At, Editor, read};
use waymark_server::auth::Role;
use yrs::{Doc, Transact};

/// A map of `cards` cards from the `ecommerce-purchase` template, as an import body.
fn map_of(cards: usize) -> String {
    let doc = Doc::new();
    find("ecommerce-purchase")
        .unwrap()
        .apply(&mut doc.transact_mut(), 0)
        .unwrap();
    {
        let mut txn = doc.transact_mut();
        let m = read(&txn).map;
        let mut ed = Editor::new(&mut txn);
        for i in m.cards.len()..cards {
            let lane = &m.lanes[i % m.lanes.len()].id;
            let step = &m.steps[i % m.steps.len()].id;
            ed.add_card(lane, step, &format!("Card {i}: an observation"), At::Last)
                .unwrap();
        }
    }
    serde_json::to_string(&read(&doc.transact()).map).unwrap()
}

#[tokio::test]
async fn a_map_too_large_for_a_poster_is_refused_with_what_to_do_instead() {
    let server = TestServer::start().await;
    let imported = http(
        "POST",
        &server.http("/api/v1/maps/import?id=huge"),
        Some(&map_of(3000)),
    )
    .await;
    assert_eq!(imported.status, 201, "{}", imported.body);
    for format in ["png", "pdf"] {
        let refused = http(
            "GET",
            &server.http(&format!("/api/v1/maps/huge/export/{format}")),
            None,
        )
        .await;
        assert_eq!(refused.status, 422, "{format}: {}", refused.body);
        let body = refused.json();
        assert_eq!(body["error"], "poster_too_complex");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("3000 cards") && message.contains("up to 1000"),
            "{message}"
        );
        assert!(
            message.contains("svg") && message.contains("csv"),
            "{message}"
        );
    }
    // The same poster as SVG is cheap at any size.
    let svg = http("GET", &server.http("/api/v1/maps/huge/export/svg"), None).await;
    assert_eq!(svg.status, 200);
    assert!(
        svg.body.contains("<svg"),
        "{}",
        svg.body.chars().take(80).collect::<String>()
    );
    // The text formats have no such limit.
    let csv = http("GET", &server.http("/api/v1/maps/huge/export/csv"), None).await;
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv::Reader::from_reader(csv.body.as_bytes())
            .records()
            .count(),
        3000
    );
    assert_eq!(
        server
            .metric("waymark_limits_hit_total{limit=\"poster_cards\"}")
            .await,
        2.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_exports_by_one_viewer_leaves_live_editing_fast() {
    let dir = tempfile::tempdir().unwrap();
    let server = ProcessServer::start_with(dir.path(), &["--auth-secret", SECRET]).await;
    let owner = token_for("olga", "*", Role::Owner, now() + 3600);
    let viewer = token_for("vic", "*", Role::Viewer, now() + 3600);
    let auth = |t: &str| format!("Bearer {t}");
    let imported = http_with(
        "POST",
        &server.http("/api/v1/maps/import?id=poster"),
        &[
            ("Authorization", &auth(&owner)),
            ("Content-Type", "application/json"),
        ],
        Some(&map_of(600)),
    )
    .await;
    assert_eq!(imported.status, 201, "{}", imported.body);
    let live = format!("{}?token={owner}", server.url("live"));
    let editor = MapClient::connect(live.as_str()).await.unwrap();
    editor.synced(WAIT).await.unwrap();
    let watcher = MapClient::connect(live.as_str()).await.unwrap();
    watcher.synced(WAIT).await.unwrap();

    // Eight PNG exports at once by one viewer.
    let url = server.http("/api/v1/maps/poster/export/png");
    let exports: Vec<_> = (0..8)
        .map(|_| {
            let (url, header) = (url.clone(), auth(&viewer));
            tokio::spawn(async move {
                let res = http_with("GET", &url, &[("Authorization", &header)], None).await;
                (res.status, res.header("retry-after"))
            })
        })
        .collect();
    // Meanwhile, and until every export has answered, another map is edited and watched.
    let mut latencies = Vec::new();
    let mut i = 0;
    while latencies.len() < 100 || !exports.iter().all(|e| e.is_finished()) {
        let key = format!("k{i}");
        let sent = Instant::now();
        set_card(&editor, &key, "x");
        watcher
            .wait_for(WAIT, "the edit", |c| card(c, &key).is_some())
            .await
            .unwrap();
        latencies.push(sent.elapsed());
        i += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut statuses = Vec::new();
    for e in exports {
        let (status, retry) = e.await.unwrap();
        if status != 200 {
            assert!(matches!(status, 429 | 503), "status {status}");
            assert_eq!(retry.as_deref(), Some("5"), "a refusal says when to retry");
        }
        statuses.push(status);
    }
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(
        statuses.iter().filter(|s| **s == 200).count() <= 2,
        "one viewer has at most two renders running: {statuses:?}"
    );
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    eprintln!(
        "p99 delivery {p99:?} over {} edits; exports {statuses:?}",
        latencies.len()
    );
    assert!(
        p99 < Duration::from_millis(50),
        "p99 delivery {p99:?} over {} edits during the exports",
        latencies.len()
    );
    let text = get(&server.http("/metrics")).await.1;
    assert!(
        metric_value(&text, "waymark_export_seconds_count{format=\"png\"}") >= 1.0,
        "render times are measured"
    );
}

/// A caller that goes away mid-render frees its slot at once, and the render itself stops at its
/// next step instead of running to the end for nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_stops_when_its_caller_goes_away() {
    use tokio::io::AsyncWriteExt;
    let server = TestServer::start().await;
    let imported = http(
        "POST",
        &server.http("/api/v1/maps/import?id=left"),
        Some(&map_of(1000)),
    )
    .await;
    assert_eq!(imported.status, 201, "{}", imported.body);
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(b"GET /api/v1/maps/left/export/png HTTP/1.1\r\nHost: waymark\r\n\r\n")
        .await
        .unwrap();
    server.wait_metric("waymark_exports_running", 1.0).await;
    drop(tcp);
    server.wait_metric("waymark_exports_running", 0.0).await;
    let cancelled = "waymark_limits_hit_total{limit=\"export_cancelled\"}";
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.metric(cancelled).await < 1.0 {
        assert!(
            Instant::now() < deadline,
            "the render went on after its caller left"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Nothing was counted as a finished PNG export.
    let text = get(&server.http("/metrics")).await.1;
    assert_eq!(
        metric_value(&text, "waymark_export_seconds_count{format=\"png\"}"),
        0.0
    );
}
