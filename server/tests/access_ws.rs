//! Access control over WebSocket: tokens refused before the upgrade, each role against each
//! message kind, expiring tokens, browser origins, and whose presence a client may change.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::access::*;
use common::*;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use waymark_client::RawFrame;
use waymark_protocol::CloseCode;
use waymark_protocol::message::{
    encode_auth_denied, encode_awareness, encode_query_awareness, encode_sync_step2, encode_update,
};
use waymark_server::auth::{Claims, Role, Signer};
use yrs::updates::encoder::Encode;

#[tokio::test]
async fn bad_tokens_are_refused_before_the_upgrade() {
    let server = secured().await;
    let url = server.url("acme-1");

    let (status, body) = refused(url.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_missing"))
    );

    let expired = token_for("u1", "acme-*", Role::Owner, now() - 3600);
    let (status, body) = refused(format!("{url}?token={expired}")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_expired"))
    );

    // A token whose claims were changed (a viewer made owner) no longer matches its signature.
    let viewer = token("acme-*", Role::Viewer);
    let parts: Vec<&str> = viewer.split('.').collect();
    let claims = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let forged_claims = claims.replace("\"viewer\"", "\"owner\"");
    assert_ne!(claims, forged_claims);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged_claims.as_bytes()),
        parts[2]
    );
    let (status, body) = refused(format!("{url}?token={tampered}")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_invalid"))
    );
    assert!(body["message"].as_str().unwrap().contains("signature"));

    // Signed with another secret.
    let other = Signer::secret(b"a different secret, also long enough")
        .unwrap()
        .sign(&Claims {
            sub: "u1".into(),
            name: None,
            maps: "*".into(),
            role: Role::Owner,
            exp: now() + 60,
            iat: None,
            nbf: None,
            jti: None,
        })
        .unwrap();
    let (status, body) = refused(format!("{url}?token={other}")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_invalid"))
    );

    let wrong_map = token("other-*", Role::Owner);
    let (status, body) = refused(format!("{url}?token={wrong_map}")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("map_not_covered"))
    );

    // The same token in an Authorization header is accepted.
    let mut request = url.clone().into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", token("acme-*", Role::Editor))
            .parse()
            .unwrap(),
    );
    let (ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.status(), 101);
    drop(ws);

    assert!(
        server
            .metric("waymark_auth_refused_total{reason=\"token_invalid\"}")
            .await
            >= 2.0
    );
}

#[tokio::test]
async fn each_role_against_each_message_kind() {
    let server = secured().await;
    let owner = connect_as(&server, "roles", &token("roles", Role::Owner)).await;
    owner.set_awareness(r#"{"user":{"name":"Owner"}}"#);
    set_card(&owner, "existing", "from the owner");

    for role in ROLES {
        let c = connect_as(&server, "roles", &token("roles", role)).await;
        // SyncStep1 (sent by the client on connect) is answered for every role: it reads the map.
        c.wait_for(WAIT, "the map", |c| card(c, "existing").is_some())
            .await
            .unwrap();
        // QueryAwareness is answered: every role sees presence.
        c.wait_for(WAIT, "the owner's presence", |c| {
            c.peers().values().any(|p| p.contains("Owner"))
        })
        .await
        .unwrap();
        c.send_raw(RawFrame::Binary(encode_query_awareness()))
            .unwrap();

        // Every role shows its presence too.
        let name = format!("{role} user");
        c.send_raw(RawFrame::Binary(encode_awareness(&presence(
            c.client_id() + 1000,
            &name,
        ))))
        .unwrap();
        owner
            .wait_for(WAIT, "the newcomer's presence", |o| {
                o.peers().values().any(|p| p.contains(&name))
            })
            .await
            .unwrap();

        // An auth message from a client is ignored.
        c.send_raw(RawFrame::Binary(encode_auth_denied("ignored")))
            .unwrap();

        // Updates, as Update and as SyncStep2: applied for editors and above, refused otherwise.
        let key = format!("by-{role}");
        c.send_raw(RawFrame::Binary(encode_update(&card_update(&key, "u"))))
            .unwrap();
        let key2 = format!("by-{role}-step2");
        c.send_raw(RawFrame::Binary(encode_sync_step2(&card_update(
            &key2, "s",
        ))))
        .unwrap();
        if role >= Role::Editor {
            owner
                .wait_for(WAIT, "the edits", |o| {
                    card(o, &key).is_some() && card(o, &key2).is_some()
                })
                .await
                .unwrap();
            assert!(c.denied().is_empty(), "{role}: {:?}", c.denied());
        } else {
            // Also one that does not start at the client's first edit.
            c.send_raw(RawFrame::Binary(encode_update(&later_card_update(
                "by-reader-later",
                "l",
            ))))
            .unwrap();
            c.wait_for(WAIT, "three refusals", |c| c.denied().len() == 3)
                .await
                .unwrap();
            assert!(c.denied()[0].contains(role.as_str()), "{:?}", c.denied());
        }
        // The map as the server holds it (read after everything the room took before): the
        // entries are plain strings, which the reader reports by path.
        let read = http_with(
            "GET",
            &server.http("/api/v1/maps/roles"),
            &[(
                "authorization",
                &format!("Bearer {}", token("*", Role::Owner)),
            )],
            None,
        )
        .await;
        assert_eq!(read.status, 200);
        let stored = read.body.contains(&format!("cards/{key}"))
            && read.body.contains(&format!("cards/{key2}"));
        assert_eq!(stored, role >= Role::Editor, "{role}: {}", read.body);
        // Nothing closed the connection.
        assert!(
            c.is_connected(),
            "{role} was disconnected: {:?}",
            c.closed()
        );
        c.disconnect().await;
    }
    // A viewer's own (empty) sync step 2, which stock clients send on connect, is not refused.
    let viewer = connect_as(&server, "roles", &token("roles", Role::Viewer)).await;
    let probe = connect_as(&server, "roles", &token("roles", Role::Owner)).await;
    set_card(&probe, "after", "x");
    viewer
        .wait_for(WAIT, "a later edit", |v| card(v, "after").is_some())
        .await
        .unwrap();
    assert!(viewer.denied().is_empty(), "{:?}", viewer.denied());
    assert!(
        server
            .metric("waymark_auth_refused_total{reason=\"read_only\"}")
            .await
            >= 4.0
    );
}

/// An awareness update for one client with a `user.name`.
fn presence(client: u64, name: &str) -> Vec<u8> {
    use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
    let mut clients = std::collections::HashMap::new();
    clients.insert(
        yrs::block::ClientID::new(client),
        AwarenessUpdateEntry {
            clock: 1,
            json: format!(r#"{{"user":{{"name":"{name}"}}}}"#).into(),
        },
    );
    AwarenessUpdate { clients }.encode_v1()
}

#[tokio::test]
async fn a_connection_is_closed_when_its_token_expires() {
    let server = secured().await;
    let short = token_for("u1", "exp", Role::Editor, now() + 2);
    let c = connect_as(&server, "exp", &short).await;
    let closed = c
        .wait_closed(Duration::from_secs(10))
        .await
        .unwrap()
        .expect("closed");
    assert_eq!(closed.code, CloseCode::TokenExpired.code());
    assert!(closed.reason.contains("expired"), "{}", closed.reason);
}

#[tokio::test]
async fn browser_origins_are_checked() {
    let server = secured().await;
    let t = token("acme-*", Role::Editor);
    let bearer = format!("Bearer {t}");
    let list = |origin: &'static str| {
        let url = server.http("/api/v1/maps");
        let bearer = bearer.clone();
        async move {
            http_with(
                "GET",
                &url,
                &[("authorization", &bearer), ("origin", origin)],
                None,
            )
            .await
        }
    };
    assert_eq!(list("https://maps.example.com").await.status, 200);
    let evil = list("https://evil.example").await;
    assert_eq!(evil.status, 403);
    assert_eq!(evil.json()["error"], "origin_not_allowed");

    let ws = |origin: &'static str| {
        let mut request = format!("{}?token={t}", server.url("acme-1"))
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        tokio_tungstenite::connect_async(request)
    };
    assert!(ws("https://maps.example.com").await.is_ok());
    match ws("https://evil.example").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("expected a 403, got {:?}", other.map(|r| r.1.status())),
    }
}

/// A client cannot set or remove another user's presence; the same user's new connection can take
/// over its own (a reconnect before the old connection is noticed gone).
#[tokio::test]
async fn only_ones_own_presence_can_be_changed() {
    use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
    let server = secured().await;
    let ana = connect_as(
        &server,
        "presence",
        &token_for("ana", "presence", Role::Editor, now() + 600),
    )
    .await;
    ana.set_awareness(r#"{"user":{"name":"Ana"}}"#);
    let bo = connect_as(
        &server,
        "presence",
        &token_for("bo", "presence", Role::Editor, now() + 600),
    )
    .await;
    bo.wait_for(WAIT, "Ana's presence", |c| {
        c.peers().values().any(|p| p.contains("Ana"))
    })
    .await
    .unwrap();
    let entry = |json: &str, clock: u32| {
        let mut clients = std::collections::HashMap::new();
        clients.insert(
            yrs::block::ClientID::new(ana.client_id()),
            AwarenessUpdateEntry {
                clock,
                json: json.into(),
            },
        );
        encode_awareness(&AwarenessUpdate { clients }.encode_v1())
    };
    // Bo removes Ana's presence, then claims it: neither reaches anyone.
    bo.send_raw(RawFrame::Binary(entry("null", 50))).unwrap();
    bo.send_raw(RawFrame::Binary(entry(
        r#"{"user":{"name":"Mallory"}}"#,
        51,
    )))
    .unwrap();
    server
        .wait_metric(
            "waymark_auth_refused_total{reason=\"foreign_presence\"}",
            2.0,
        )
        .await;
    let watcher = connect_as(&server, "presence", &token("presence", Role::Viewer)).await;
    watcher
        .wait_for(WAIT, "Ana's presence", |c| {
            c.peers().values().any(|p| p.contains("Ana"))
        })
        .await
        .unwrap();
    assert!(!watcher.peers().values().any(|p| p.contains("Mallory")));
    assert!(bo.is_connected(), "ignored, not closed");

    // Ana, on a second connection with the same client id, may update her own presence.
    let again = connect_as(
        &server,
        "presence",
        &token_for("ana", "presence", Role::Editor, now() + 600),
    )
    .await;
    again
        .send_raw(RawFrame::Binary(entry(
            r#"{"user":{"name":"Ana again"}}"#,
            60,
        )))
        .unwrap();
    watcher
        .wait_for(WAIT, "Ana's new presence", |c| {
            c.peers().values().any(|p| p.contains("Ana again"))
        })
        .await
        .unwrap();
}
