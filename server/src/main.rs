//! The `waymark` command.

use anyhow::Context;
use clap::Parser;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;
use waymark_server::config::{Cli, Command, ServeArgs};
use waymark_server::store::SqliteStore;
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
                .block_on(serve(args))
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    telemetry::init(args.log_format);
    let store = SqliteStore::open(&args.data)
        .with_context(|| format!("cannot open storage in {}", args.data.display()))?;
    let listener =
        listen(args.listen).with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    info!(%addr, data = %store.path().display(), "listening");
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    run(listener, Arc::new(store), Config::from(&args), shutdown).await
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
