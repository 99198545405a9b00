//! Helpers of the access-control tests: tokens for each role, a server that requires them, and
//! the answers a refused connection gets.

use super::*;
use std::sync::Arc;
use waymark_client::{ClientError, MapClient};
use waymark_server::Config;
use waymark_server::auth::{Auth, Claims, Role, Signer, Verifier};
use yrs::{Doc, Map, ReadTxn, StateVector, Transact};

pub const SECRET: &str = "test secret that is long enough for HS256";
pub const ROLES: [Role; 5] = [
    Role::Viewer,
    Role::Commenter,
    Role::Editor,
    Role::Facilitator,
    Role::Owner,
];

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn token_for(user: &str, maps: &str, role: Role, exp: u64) -> String {
    Signer::secret(SECRET.as_bytes())
        .unwrap()
        .sign(&Claims {
            sub: user.into(),
            name: Some(format!("{user} name")),
            maps: maps.into(),
            role,
            exp,
            iat: None,
            nbf: None,
            jti: None,
        })
        .unwrap()
}

pub fn token(maps: &str, role: Role) -> String {
    token_for(&format!("u-{role}"), maps, role, now() + 3600)
}

pub async fn secured() -> TestServer {
    TestServer::start_with(secured_config()).await
}

/// A configuration that requires tokens signed with [`SECRET`].
pub fn secured_config() -> Config {
    Config {
        auth: Arc::new(Auth {
            verifier: Some(Verifier::secret(SECRET.as_bytes()).unwrap()),
            allowed_origins: Some(vec!["https://maps.example.com".into()]),
        }),
        ..Config::default()
    }
}

pub async fn connect_as(server: &TestServer, map: &str, token: &str) -> MapClient {
    let c = MapClient::connect(format!("{}?token={token}", server.url(map)))
        .await
        .unwrap();
    c.synced(WAIT).await.unwrap();
    c
}

/// A token from `waymark token ARGS` (with `env`), as a script would mint one.
pub async fn minted(args: &[&str], env: &[(&str, &str)]) -> String {
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
pub async fn refused(url: String) -> (u16, serde_json::Value) {
    match MapClient::connect(url).await {
        Err(ClientError::Http { status, body }) => (status, serde_json::from_str(&body).unwrap()),
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("the connection was accepted"),
    }
}

/// The string `field` of each object in a JSON array.
pub fn field_of_each<'a>(array: &'a serde_json::Value, field: &str) -> Vec<&'a str> {
    let items = array.as_array().expect("an array");
    items
        .iter()
        .map(|v| v[field].as_str().expect(field))
        .collect()
}

/// An update that sets `cards[key] = value` after an earlier edit of the same client, which it
/// leaves out (so its clocks do not start at 0).
pub fn later_card_update(key: &str, value: &str) -> Vec<u8> {
    let doc = Doc::new();
    let cards = doc.get_or_insert_map("cards");
    cards.insert(&mut doc.transact_mut(), "earlier", "x");
    let before = doc.transact().state_vector();
    cards.insert(&mut doc.transact_mut(), key, value);
    doc.transact().encode_state_as_update_v1(&before)
}

/// An update that sets `cards[key] = value`, made on a document of its own.
pub fn card_update(key: &str, value: &str) -> Vec<u8> {
    let doc = Doc::new();
    let cards = doc.get_or_insert_map("cards");
    cards.insert(&mut doc.transact_mut(), key, value);
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}
