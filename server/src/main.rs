//! The `waymark` command.

use anyhow::Context;
use clap::Parser;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use waymark_server::auth::{self, Auth, Claims, Signer, Verifier};
use waymark_server::config::{Cli, Command, RevokeArgs, ServeArgs, TokenArgs};
use waymark_server::store::{PostgresStore, Revocation, Revoked, SqliteStore, Store};
use waymark_server::{Config, run, telemetry};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let mut runtime = tokio::runtime::Builder::new_multi_thread();
            if let Some(n) = args.threads {
                runtime.worker_threads(n.into());
            }
            runtime
                .enable_all()
                .build()
                .context("cannot start the runtime")?
                .block_on(serve(*args))
        }
        Command::Token(args) => {
            println!("{}", token(&args)?);
            Ok(())
        }
        Command::Revoke(args) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the runtime")?
            .block_on(revoke(args)),
        Command::Client(command) => {
            let outcome = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the runtime")?
                .block_on(waymark_cli::run(command));
            // A script tells findings (1) from failures (2) by the status.
            std::process::exit(match outcome {
                Ok(waymark_cli::Outcome::Done) => 0,
                Ok(waymark_cli::Outcome::Findings) => 1,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    2
                }
            })
        }
        Command::Completions(args) => {
            use clap::CommandFactory;
            let mut command = Cli::command();
            clap_complete::generate(args.shell, &mut command, "waymark", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// Records a revocation for `waymark revoke`, in the store the servers read it from.
async fn revoke(args: RevokeArgs) -> anyhow::Result<()> {
    let store: Arc<dyn Store> = match &args.database_url {
        Some(url) => Arc::new(
            PostgresStore::connect(url)
                .await
                .context("cannot open the PostgreSQL store")?,
        ),
        None => {
            // A mistyped directory would get a new, empty database that no server reads.
            let db = args.data.join(waymark_server::store::sqlite::DB_FILE);
            anyhow::ensure!(
                db.exists(),
                "no Waymark database in {}: give the --data directory the server uses, or \
                 --database-url for PostgreSQL",
                args.data.display()
            );
            Arc::new(
                SqliteStore::open(&args.data)
                    .with_context(|| format!("cannot open storage in {}", args.data.display()))?,
            )
        }
    };
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let (subject, covers) = match (args.user, args.token) {
        (Some(user), _) => (Revoked::User(user), "tokens issued to them until now are"),
        (None, Some(id)) => (Revoked::Token(id), "it is"),
        (None, None) => anyhow::bail!("give --user or --token"),
    };
    let revocation = Revocation {
        subject,
        at,
        reason: args.reason,
    };
    store
        .revoke(&revocation)
        .await
        .context("cannot record the revocation")?;
    // A running server may hold the database open: the revocation is committed either way.
    let _ = store.close().await;
    println!(
        "revoked {}: {covers} refused; running servers apply it within {} s and close the open \
         connections it covers with code 4003",
        revocation.subject,
        waymark_server::REVOCATION_REFRESH.as_secs()
    );
    Ok(())
}

/// Mints a token for `waymark token`.
fn token(args: &TokenArgs) -> anyhow::Result<String> {
    auth::Scope::parse(&args.map).map_err(|e| anyhow::anyhow!("--map: {e}"))?;
    let signer = match (&args.secret, &args.private_key) {
        (_, Some(path)) => Signer::private_key(&auth::read_pem(path)?)
            .with_context(|| format!("--private-key {}", path.display()))?,
        (Some(secret), None) => Signer::secret(secret.as_bytes()).context("--secret")?,
        (None, None) => anyhow::bail!("give --secret (or WAYMARK_AUTH_SECRET) or --private-key"),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let claims = Claims {
        sub: args.user.clone(),
        name: args.name.clone(),
        maps: args.map.clone(),
        role: args.role,
        exp: now + args.expires_in.as_secs(),
        iat: Some(now),
        nbf: None,
        jti: Some(auth::token_id()?),
    };
    // Scripts take the token from standard output; the id is for revoking this token alone.
    if let Some(id) = &claims.jti {
        eprintln!("token id: {id} (waymark revoke --token {id})");
    }
    Ok(signer.sign(&claims)?)
}

/// How `serve` authenticates, refusing to run anonymously where others can reach it.
fn authentication(args: &ServeArgs, listen: std::net::SocketAddr) -> anyhow::Result<Auth> {
    let verifier = match (&args.auth_secret, &args.auth_public_key) {
        (Some(secret), _) => Some(Verifier::secret(secret.as_bytes()).context("--auth-secret")?),
        (None, Some(path)) => Some(
            Verifier::public_key(&auth::read_pem(path)?)
                .with_context(|| format!("--auth-public-key {}", path.display()))?,
        ),
        (None, None) => None,
    };
    if verifier.is_none() {
        if listen.ip().is_loopback() {
            warn!(
                "authentication is off: anyone on this machine may read, edit and delete every \
                 map; give --auth-secret or --auth-public-key to require tokens"
            );
        } else if args.allow_anonymous {
            warn!(
                %listen,
                "authentication is off (--allow-anonymous): anyone who can reach this address may \
                 read, edit and delete every map"
            );
        } else {
            anyhow::bail!(
                "refusing to serve {listen} without authentication: anyone who can reach it could \
                 read, edit and delete every map. Give --auth-secret or --auth-public-key to \
                 require tokens, listen on a loopback address (127.0.0.1), or pass \
                 --allow-anonymous if that is really intended"
            );
        }
    }
    Ok(Auth {
        verifier,
        allowed_origins: args.allowed_origins.clone(),
    })
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    telemetry::init(args.log_format);
    let auth = authentication(&args, args.listen)?;
    let (store, storage): (Arc<dyn Store>, String) = match &args.database_url {
        Some(url) => {
            let store = PostgresStore::connect(url)
                .await
                .context("cannot open the PostgreSQL store")?;
            (Arc::new(store), format!("postgres {}", redact(url)))
        }
        None => {
            let store = SqliteStore::open(&args.data)
                .with_context(|| format!("cannot open storage in {}", args.data.display()))?;
            let path = store.path().display().to_string();
            (Arc::new(store), path)
        }
    };
    let listener =
        listen(args.listen).with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let config = Config {
        auth: Arc::new(auth),
        ..Config::from(&args)
    };
    match &config.redis_url {
        Some(url) => {
            info!(%addr, data = %storage, redis = %redact(url), node_id = %config.node_id, "listening")
        }
        None => info!(%addr, data = %storage, "listening"),
    }
    if args.database_url.is_some() && config.redis_url.is_none() {
        info!(
            "running alone on PostgreSQL: for several nodes on this database, give each --redis-url, \
             or their editors will not see each other's edits live"
        );
    }
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    run(listener, store, config, shutdown).await
}

/// A connection URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Binds with a deep accept queue: when thousands of clients reconnect at once (after a restart or a
/// network blip), the default of 1024 overflows and the excess wait a full second to retry.
fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Cancels `shutdown` on ctrl-c or SIGTERM.
async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => info!("ctrl-c received"),
        _ = term => info!("SIGTERM received"),
    }
    shutdown.cancel();
}
