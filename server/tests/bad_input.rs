//! Every kind of bad input gets its documented answer, is counted, and leaves the document and the
//! other clients of the map untouched.

mod common;

use common::*;
use waymark_client::{ClientError, MapClient, RawFrame};
use waymark_protocol::CloseCode;
use waymark_server::Config;

/// Sends `frame` from a fresh client of a map that two bystanders are editing, then checks the
/// close code, the error metric, and that the bystanders and the document are unharmed.
async fn assert_rejected(
    server: &TestServer,
    frame: RawFrame,
    code: CloseCode,
    metric_kind: &str,
) -> String {
    assert_rejected_with(server, |_| frame, code, metric_kind).await
}

/// As [`assert_rejected`], with a frame made from the first bystander (whose edit it may target).
async fn assert_rejected_with(
    server: &TestServer,
    frame: impl FnOnce(&MapClient) -> RawFrame,
    code: CloseCode,
    metric_kind: &str,
) -> String {
    let map = format!("bad-{}", metric_kind.replace('_', "-"));
    let a = server.connect(&map).await;
    let b = server.connect(&map).await;
    set_card(&a, "kept", "yes");
    b.wait_for(WAIT, "a's edit", |c| card(c, "kept").is_some())
        .await
        .unwrap();

    let bad = server.connect(&map).await;
    bad.send_raw(frame(&a)).unwrap();
    let closed = bad.wait_closed(WAIT).await.unwrap().expect("a close frame");
    assert_eq!(closed.code, code.code(), "close reason: {}", closed.reason);
    assert!(!closed.reason.is_empty(), "the close frame explains itself");
    let metric = format!("waymark_errors_total{{kind=\"{metric_kind}\"}}");
    server.wait_metric(&metric, 1.0).await;

    // The others stay connected and keep collaborating on an intact document.
    assert!(a.is_connected() && b.is_connected());
    set_card(&b, "after", "still works");
    a.wait_for(WAIT, "b's edit after the bad input", |c| {
        card(c, "after").is_some()
    })
    .await
    .unwrap();
    let fresh = server.connect(&map).await;
    assert_eq!(card(&fresh, "kept").as_deref(), Some("yes"));
    assert_eq!(content(&fresh), content(&a));
    closed.reason
}

#[tokio::test]
async fn an_empty_message_is_a_protocol_error() {
    let s = TestServer::start().await;
    assert_rejected(
        &s,
        RawFrame::Binary(vec![]),
        CloseCode::ProtocolError,
        "empty",
    )
    .await;
}

#[tokio::test]
async fn a_truncated_message_is_a_protocol_error() {
    let s = TestServer::start().await;
    // An update message announcing 10 bytes of payload and carrying 2.
    let frame = vec![0, 2, 10, 0, 0];
    assert_rejected(
        &s,
        RawFrame::Binary(frame),
        CloseCode::ProtocolError,
        "truncated",
    )
    .await;
}

#[tokio::test]
async fn trailing_bytes_are_a_protocol_error() {
    let s = TestServer::start().await;
    let frame = vec![0, 2, 2, 0, 0, 0xff];
    assert_rejected(
        &s,
        RawFrame::Binary(frame),
        CloseCode::ProtocolError,
        "trailing_bytes",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_sync_type_is_a_protocol_error() {
    let s = TestServer::start().await;
    let frame = vec![0, 7, 0];
    assert_rejected(
        &s,
        RawFrame::Binary(frame),
        CloseCode::ProtocolError,
        "unknown_sync_type",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_message_type_is_unsupported() {
    let s = TestServer::start().await;
    assert_rejected(
        &s,
        RawFrame::Binary(vec![42]),
        CloseCode::UnsupportedData,
        "unknown_type",
    )
    .await;
}

#[tokio::test]
async fn an_extension_message_that_was_not_negotiated_is_unsupported() {
    let s = TestServer::start().await;
    let frame = vec![100, 0];
    assert_rejected(
        &s,
        RawFrame::Binary(frame),
        CloseCode::UnsupportedData,
        "unknown_type",
    )
    .await;
}

#[tokio::test]
async fn a_text_frame_is_unsupported() {
    let s = TestServer::start().await;
    let frame = RawFrame::Text("{\"hello\":1}".into());
    assert_rejected(&s, frame, CloseCode::UnsupportedData, "text_frame").await;
}

#[tokio::test]
async fn an_update_yrs_cannot_decode_is_invalid_payload() {
    let s = TestServer::start().await;
    // A well-formed sync message whose update claims 200 structs for a client and ends.
    let frame = waymark_protocol::message::encode_update(&[1, 200, 1, 7, 0]);
    assert_rejected(
        &s,
        RawFrame::Binary(frame),
        CloseCode::InvalidPayload,
        "bad_update",
    )
    .await;
}

#[tokio::test]
async fn an_update_yrs_cannot_apply_is_invalid_payload() {
    use yrs::encoding::write::Write;
    let s = TestServer::start().await;
    // A well-formed update from client 99 inserting a string whose parent is the bystander's first
    // item: a map value, which cannot be a parent. yrs decodes it and refuses to integrate it.
    let make = |a: &MapClient| {
        let mut u: Vec<u8> = Vec::new();
        u.write_var(1u32); // one client
        u.write_var(1u32); // one struct
        u.write_var(99u64); // client id
        u.write_var(0u32); // clock
        u.write_u8(4); // item info: string content, no origins, so a parent follows
        u.write_var(0u32); // parent given by id...
        u.write_var(a.client_id()); // ...of the bystander's item (client, clock 0)
        u.write_var(0u32);
        u.write_string("x");
        u.write_var(0u32); // empty delete set
        RawFrame::Binary(waymark_protocol::message::encode_update(&u))
    };
    let reason = assert_rejected_with(&s, make, CloseCode::InvalidPayload, "bad_update").await;
    assert_eq!(reason, "update cannot be applied");
}

#[tokio::test]
async fn a_malformed_state_vector_is_a_protocol_error() {
    let s = TestServer::start().await;
    let frame = waymark_protocol::message::encode_sync_step1(&[5, 1]);
    assert_rejected(
        &s,
        RawFrame::Binary(frame),
        CloseCode::ProtocolError,
        "bad_state_vector",
    )
    .await;
}

#[tokio::test]
async fn a_malformed_awareness_update_is_a_protocol_error() {
    let s = TestServer::start().await;
    // One entry announced, none present.
    let frame = waymark_protocol::message::encode_awareness(&[1]);
    assert_rejected(
        &s,
        RawFrame::Binary(frame),
        CloseCode::ProtocolError,
        "bad_awareness",
    )
    .await;
}

#[tokio::test]
async fn an_awareness_state_that_is_not_json_is_invalid_payload() {
    use yrs::encoding::write::Write;
    let s = TestServer::start().await;
    let mut u: Vec<u8> = Vec::new();
    u.write_var(1u32); // one entry
    u.write_var(77u64); // client id
    u.write_var(1u32); // clock
    u.write_string("{\"user\": unquoted}");
    let frame = waymark_protocol::message::encode_awareness(&u);
    let reason = assert_rejected(
        &s,
        RawFrame::Binary(frame),
        CloseCode::InvalidPayload,
        "bad_awareness",
    )
    .await;
    assert_eq!(reason, "awareness state is not valid JSON");
}

#[tokio::test]
async fn a_message_over_the_size_limit_is_too_big() {
    let s = TestServer::start_with(Config {
        max_message_size: 64 << 10,
        ..Config::default()
    })
    .await;
    let frame = waymark_protocol::message::encode_update(&vec![0u8; 100 << 10]);
    assert_rejected(
        &s,
        RawFrame::Binary(frame),
        CloseCode::MessageTooBig,
        "message_too_big",
    )
    .await;
}

#[tokio::test]
async fn an_invalid_map_id_is_refused_before_the_upgrade() {
    let s = TestServer::start().await;
    for bad in ["-starts-with-dash", "has%20space", &"x".repeat(129)] {
        match MapClient::connect(s.url(bad)).await {
            Err(ClientError::Http { status, body }) => {
                assert_eq!(status, 400);
                let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(v["error"], "invalid_map_id");
                assert!(v["message"].as_str().unwrap().contains("map id"), "{body}");
            }
            other => panic!("expected HTTP 400 for {bad:?}, got {:?}", other.map(|_| ())),
        }
    }
    s.wait_metric("waymark_errors_total{kind=\"invalid_map_id\"}", 3.0)
        .await;
}

#[tokio::test]
async fn a_plain_http_request_is_told_how_to_connect() {
    let s = TestServer::start().await;
    let (status, body) = get(&s.http("/maps/journey-1")).await;
    assert_eq!(status, 426);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"], "websocket_required");
    assert!(v["message"].as_str().unwrap().contains("WebsocketProvider"));
    let (status, body) = get(&s.http("/nowhere")).await;
    assert_eq!(status, 404);
    assert!(body.contains("/maps/{mapId}"));
}

/// Found by fuzzing (fuzz/README.md): a few bytes declaring a huge count made the Yjs decoder
/// reserve a table of that size (1 GB for this 8-byte message) before reading any entry.
#[tokio::test]
async fn a_count_larger_than_its_message_is_refused_before_decoding() {
    let s = TestServer::start().await;
    let frame = vec![0, 0, 5, 0x80, 0x80, 0x80, 0x80, 0x02];
    let reason = assert_rejected(
        &s,
        RawFrame::Binary(frame),
        CloseCode::ProtocolError,
        "bad_state_vector",
    )
    .await;
    assert!(reason.contains("state vector"), "{reason}");
}

#[tokio::test]
async fn an_awareness_bomb_is_refused_before_decoding() {
    let s = TestServer::start().await;
    let frame = vec![1, 5, 0x80, 0x80, 0x80, 0x80, 0x01];
    assert_rejected(
        &s,
        RawFrame::Binary(frame),
        CloseCode::ProtocolError,
        "bad_awareness",
    )
    .await;
}

/// Found by fuzzing: yrs reads the legacy JSON content type (2) differently from how it writes
/// it, so a map holding one could not be loaded again after compaction. Stock clients never write
/// it.
#[tokio::test]
async fn the_legacy_json_content_type_is_refused() {
    let s = TestServer::start().await;
    let update = [1, 1, 1, 0, 0x02, 1, 1, b'x', 1, 1, b'k', 0];
    let reason = assert_rejected(
        &s,
        RawFrame::Binary(waymark_protocol::message::encode_update(&update)),
        CloseCode::InvalidPayload,
        "bad_update",
    )
    .await;
    assert!(reason.contains("content type 2"), "{reason}");
}

/// Values nested without end would recurse the decoder off its stack.
#[tokio::test]
async fn deeply_nested_values_are_refused() {
    let s = TestServer::start().await;
    let mut update = vec![1, 1, 1, 0, 0x08, 1, 1, b'x', 1];
    for _ in 0..100_000 {
        update.extend([117, 1]);
    }
    update.extend([126, 0]);
    assert_rejected(
        &s,
        RawFrame::Binary(waymark_protocol::message::encode_update(&update)),
        CloseCode::InvalidPayload,
        "bad_update",
    )
    .await;
}

/// Client ids beyond 2^53 cannot be JavaScript numbers; yrs asserts on them in debug builds.
#[tokio::test]
async fn client_ids_beyond_53_bits_are_refused() {
    let s = TestServer::start().await;
    let frame = vec![
        0, 0, 10, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0,
    ];
    assert_rejected(
        &s,
        RawFrame::Binary(frame),
        CloseCode::ProtocolError,
        "bad_state_vector",
    )
    .await;
}
