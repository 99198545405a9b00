//! Access control end to end: tokens refused before the upgrade, each role against each WebSocket
//! message kind and each REST route, browser origins, and the loopback-only anonymous default.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use waymark_client::{ClientError, MapClient, RawFrame};
use waymark_protocol::CloseCode;
use waymark_protocol::message::{
    encode_auth_denied, encode_awareness, encode_query_awareness, encode_sync_step2, encode_update,
};
use waymark_server::Config;
use waymark_server::auth::{Auth, Claims, Role, Signer, Verifier};
use yrs::updates::encoder::Encode;
use yrs::{Doc, Map, ReadTxn, StateVector, Transact};

const SECRET: &str = "test secret that is long enough for HS256";
const ROLES: [Role; 5] = [
    Role::Viewer,
    Role::Commenter,
    Role::Editor,
    Role::Facilitator,
    Role::Owner,
];

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token_for(user: &str, maps: &str, role: Role, exp: u64) -> String {
    Signer::secret(SECRET.as_bytes())
        .unwrap()
        .sign(&Claims {
            sub: user.into(),
            name: Some(format!("{user} name")),
            maps: maps.into(),
            role,
            exp,
            iat: None,
        })
        .unwrap()
}

fn token(maps: &str, role: Role) -> String {
    token_for(&format!("u-{role}"), maps, role, now() + 3600)
}

async fn secured() -> TestServer {
    TestServer::start_with(Config {
        auth: Arc::new(Auth {
            verifier: Some(Verifier::secret(SECRET.as_bytes()).unwrap()),
            allowed_origins: Some(vec!["https://maps.example.com".into()]),
        }),
        ..Config::default()
    })
    .await
}

async fn connect_as(server: &TestServer, map: &str, token: &str) -> MapClient {
    let c = MapClient::connect(format!("{}?token={token}", server.url(map)))
        .await
        .unwrap();
    c.synced(WAIT).await.unwrap();
    c
}

/// A token from `waymark token ARGS` (with `env`), as a script would mint one.
async fn minted(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
        .arg("token")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The HTTP answer to a WebSocket connection attempt that was refused.
async fn refused(url: String) -> (u16, serde_json::Value) {
    match MapClient::connect(url).await {
        Err(ClientError::Http { status, body }) => (status, serde_json::from_str(&body).unwrap()),
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("the connection was accepted"),
    }
}

/// The string `field` of each object in a JSON array.
fn field_of_each<'a>(array: &'a serde_json::Value, field: &str) -> Vec<&'a str> {
    let items = array.as_array().expect("an array");
    items
        .iter()
        .map(|v| v[field].as_str().expect(field))
        .collect()
}

/// An update that sets `cards[key] = value` after an earlier edit of the same client, which it
/// leaves out (so its clocks do not start at 0).
fn later_card_update(key: &str, value: &str) -> Vec<u8> {
    let doc = Doc::new();
    let cards = doc.get_or_insert_map("cards");
    cards.insert(&mut doc.transact_mut(), "earlier", "x");
    let before = doc.transact().state_vector();
    cards.insert(&mut doc.transact_mut(), key, value);
    doc.transact().encode_state_as_update_v1(&before)
}

/// An update that sets `cards[key] = value`, made on a document of its own.
fn card_update(key: &str, value: &str) -> Vec<u8> {
    let doc = Doc::new();
    let cards = doc.get_or_insert_map("cards");
    cards.insert(&mut doc.transact_mut(), key, value);
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}

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

/// Each REST route, with the least role it needs: every role below is refused with 403, every
/// role from it up gets the route's success status.
#[tokio::test]
async fn each_role_against_each_rest_route() {
    let server = secured().await;
    let owner = format!("Bearer {}", token("*", Role::Owner));
    let call = |method: &'static str, path: String, auth: Option<String>, body: Option<String>| {
        let url = server.http(&path);
        async move {
            let headers: Vec<(&str, &str)> = auth
                .as_deref()
                .map(|a| vec![("authorization", a)])
                .unwrap_or_default();
            http_with(method, &url, &headers, body.as_deref()).await
        }
    };
    let all_users: Vec<String> = ROLES.iter().map(|r| format!("\"u-{r}\"")).collect();
    let export = {
        // One map per role, each with two versions, the first submitted to every role's user.
        for role in ROLES {
            let map = format!("r-{role}");
            let res = call(
                "POST",
                "/api/v1/maps".into(),
                Some(owner.clone()),
                Some(format!(
                    r#"{{"id": "{map}", "template": "ecommerce-purchase"}}"#
                )),
            )
            .await;
            assert_eq!(res.status, 201, "{}", res.body);
            for label in ["one", "two"] {
                let res = call(
                    "POST",
                    format!("/api/v1/maps/{map}/versions"),
                    Some(owner.clone()),
                    Some(format!(r#"{{"label": "{label}"}}"#)),
                )
                .await;
                assert_eq!(res.status, 201, "{}", res.body);
            }
            let res = call(
                "POST",
                format!("/api/v1/maps/{map}/versions/1/review"),
                Some(owner.clone()),
                Some(format!(r#"{{"reviewers": [{}]}}"#, all_users.join(","))),
            )
            .await;
            assert_eq!(res.status, 201, "{}", res.body);
        }
        call(
            "GET",
            "/api/v1/maps/r-owner/export/json".into(),
            Some(owner.clone()),
            None,
        )
        .await
        .body
    };

    // (method, path with {map} and {role}, body, least role, success status); in an order that
    // leaves each call something to act on.
    let routes: Vec<(&str, &str, Option<String>, Role, u16)> = vec![
        ("GET", "/api/v1/maps/{map}", None, Role::Viewer, 200),
        (
            "GET",
            "/api/v1/maps/{map}/export/csv",
            None,
            Role::Viewer,
            200,
        ),
        (
            "GET",
            "/api/v1/maps/{map}/insights",
            None,
            Role::Viewer,
            200,
        ),
        (
            "GET",
            "/api/v1/maps/{map}/activity",
            None,
            Role::Viewer,
            200,
        ),
        (
            "GET",
            "/api/v1/maps/{map}/versions",
            None,
            Role::Viewer,
            200,
        ),
        (
            "GET",
            "/api/v1/maps/{map}/versions/1",
            None,
            Role::Viewer,
            200,
        ),
        (
            "GET",
            "/api/v1/maps/{map}/versions/1/export/markdown",
            None,
            Role::Viewer,
            200,
        ),
        (
            "GET",
            "/api/v1/maps/{map}/compare?from=1",
            None,
            Role::Viewer,
            200,
        ),
        (
            "GET",
            "/api/v1/maps/{map}/comments",
            None,
            Role::Viewer,
            200,
        ),
        (
            "POST",
            "/api/v1/maps/{map}/comments",
            Some(r#"{"text": "Why is this step here?", "target": "steps/s1"}"#.into()),
            Role::Commenter,
            201,
        ),
        (
            "POST",
            "/api/v1/maps",
            Some(r#"{"id": "{map}-new"}"#.into()),
            Role::Editor,
            201,
        ),
        (
            "POST",
            "/api/v1/maps/import?id={map}-imported",
            Some(export.clone()),
            Role::Editor,
            201,
        ),
        (
            "POST",
            "/api/v1/maps/{map}/versions",
            Some(r#"{"label": "three"}"#.into()),
            Role::Facilitator,
            201,
        ),
        (
            "POST",
            "/api/v1/maps/{map}/versions/2/restore",
            None,
            Role::Facilitator,
            200,
        ),
        (
            "POST",
            "/api/v1/maps/{map}/versions/2/review",
            Some(r#"{"reviewers": ["u-owner"]}"#.into()),
            Role::Facilitator,
            201,
        ),
        (
            "POST",
            "/api/v1/maps/{map}/versions/1/review/decisions",
            Some(r#"{"verdict": "approved"}"#.into()),
            Role::Owner,
            200,
        ),
        ("DELETE", "/api/v1/maps/{map}", None, Role::Owner, 204),
    ];
    for (method, path, body, least, success) in &routes {
        // Without a token, every one of them is refused.
        let path0 = path.replace("{map}", "r-owner");
        let res = call(
            method,
            path0.clone(),
            None,
            body.clone().map(|b| b.replace("{map}", "r-owner")),
        )
        .await;
        assert_eq!(
            res.status, 401,
            "{method} {path0} without a token: {}",
            res.body
        );
        assert_eq!(res.json()["error"], "token_missing");
        assert!(res.header("www-authenticate").is_some());
        for role in ROLES {
            let map = format!("r-{role}");
            let path = path.replace("{map}", &map);
            let body = body.clone().map(|b| b.replace("{map}", &map));
            let auth = Some(format!("Bearer {}", token("r-*", role)));
            let res = call(method, path.clone(), auth, body).await;
            if role >= *least {
                assert_eq!(
                    res.status, *success,
                    "{method} {path} as {role}: {}",
                    res.body
                );
            } else {
                assert_eq!(res.status, 403, "{method} {path} as {role}: {}", res.body);
                assert_eq!(res.json()["error"], "role_insufficient", "{method} {path}");
            }
        }
        // A token for other maps is refused whatever its role.
        let res = call(
            method,
            path.replace("{map}", "r-owner"),
            Some(format!("Bearer {}", token("elsewhere", Role::Owner))),
            body.clone().map(|b| b.replace("{map}", "r-owner")),
        )
        .await;
        assert_eq!(res.status, 403, "{method} {path}: {}", res.body);
    }

    // Identity comes from the token: the comment's author, the version's author, the decision's
    // reviewer.
    let comments = call(
        "GET",
        "/api/v1/maps/r-editor/comments".into(),
        Some(owner.clone()),
        None,
    )
    .await
    .json();
    assert_eq!(
        field_of_each(&comments["comments"], "author"),
        ["u-editor name"]
    );

    // Public routes need nothing; the list shows only the maps a token covers.
    assert_eq!(
        call("GET", "/api/v1/templates".into(), None, None)
            .await
            .status,
        200
    );
    assert_eq!(
        call("GET", "/api/v1/openapi.json".into(), None, None)
            .await
            .status,
        200
    );
    let list = call(
        "GET",
        "/api/v1/maps".into(),
        Some(format!("Bearer {}", token("r-viewer*", Role::Viewer))),
        None,
    )
    .await
    .json();
    let ids = field_of_each(&list["maps"], "id");
    assert!(
        !ids.is_empty() && ids.iter().all(|id| id.starts_with("r-viewer")),
        "{ids:?}"
    );

    // A reviewer decides only as themselves.
    let res = call(
        "POST",
        "/api/v1/maps/r-facilitator/versions/1/review/decisions".into(),
        Some(owner.clone()),
        Some(r#"{"reviewer": "u-editor", "verdict": "approved"}"#.into()),
    )
    .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(res.json()["error"], "not_yourself");

    // Without an id, a token for a prefix creates a map under it.
    let res = call(
        "POST",
        "/api/v1/maps".into(),
        Some(format!("Bearer {}", token("team-*", Role::Editor))),
        Some("{}".into()),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert!(res.json()["id"].as_str().unwrap().starts_with("team-"));
}

#[tokio::test]
async fn anonymous_access_is_only_for_loopback_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    // On a loopback address it starts, and says authentication is off.
    let local = ProcessServer::start(dir.path()).await;
    let c = MapClient::connect(local.url("open")).await.unwrap();
    c.synced(WAIT).await.unwrap();
    drop(local);

    // On every address it refuses, saying why.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["serve", "--listen", "0.0.0.0:0", "--data"])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("without authentication") && stderr.contains("--allow-anonymous"),
        "{stderr}"
    );

    // Told explicitly, it starts.
    let open =
        ProcessServer::start_with_listen(dir.path(), "0.0.0.0:0", &["--allow-anonymous"]).await;
    assert!(open.addr.port() > 0);

    // With a secret it starts anywhere, and wants tokens.
    let secured =
        ProcessServer::start_with_listen(dir.path(), "0.0.0.0:0", &["--auth-secret", SECRET]).await;
    let url = format!("ws://127.0.0.1:{}/maps/open", secured.addr.port());
    let (status, body) = refused(url.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_missing"))
    );

    // A token minted by `waymark token` opens it.
    let token = minted(
        &[
            "--user",
            "ana",
            "--map",
            "open",
            "--role",
            "viewer",
            "--expires-in",
            "10m",
        ],
        &[("WAYMARK_AUTH_SECRET", SECRET)],
    )
    .await;
    let c = MapClient::connect(format!("{url}?token={token}"))
        .await
        .unwrap();
    c.synced(WAIT).await.unwrap();

    // A secret too short to be safe is refused.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--auth-secret",
            "short",
            "--data",
        ])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32"));
}

/// Tokens signed by an identity provider's private key, verified with its public key; the test
/// keys are in tests/keys (made with openssl genpkey, for these tests only).
#[tokio::test]
async fn tokens_signed_with_a_private_key_are_verified_with_its_public_key() {
    let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys");
    let dir = tempfile::tempdir().unwrap();
    for (private, public, other) in [
        ("ed25519.pem", "ed25519.pub.pem", "p256.pem"),
        ("p256.pem", "p256.pub.pem", "ed25519.pem"),
    ] {
        let public = keys.join(public);
        let server =
            ProcessServer::start_with(dir.path(), &["--auth-public-key", public.to_str().unwrap()])
                .await;
        let mint = |key: &str| {
            let key = keys.join(key);
            async move {
                let key = key.to_str().unwrap();
                minted(
                    &[
                        "--user",
                        "ana",
                        "--map",
                        "*",
                        "--role",
                        "editor",
                        "--private-key",
                        key,
                    ],
                    &[],
                )
                .await
            }
        };
        let good = mint(private).await;
        let c = MapClient::connect(format!("{}?token={good}", server.url("pk")))
            .await
            .unwrap();
        c.synced(WAIT).await.unwrap();
        // Signed by another key: refused.
        let bad = mint(other).await;
        let (status, body) = refused(format!("{}?token={bad}", server.url("pk"))).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("token_invalid")),
            "{private}"
        );
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
