//! Who may call at all: the loopback-only anonymous default, and tokens signed by an identity
//! provider's private key.

mod common;

use common::access::*;
use common::*;
use waymark_client::MapClient;

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
