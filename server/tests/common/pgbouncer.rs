//! A real PgBouncer from Debian's package in transaction pooling mode, in front of the test
//! PostgreSQL server, started per test on a free port and stopped when dropped.
//!
//! Its pool is small on purpose: a node's connections then share a few server connections, and
//! consecutive transactions of one of them land on different server connections, which is what
//! breaks session state and named prepared statements.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

pub struct PgBouncer {
    pub port: u16,
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

/// The binary: `$PGBOUNCER`, else Debian's `/usr/sbin/pgbouncer` (`./test.sh` installs it).
fn binary() -> PathBuf {
    let path = std::env::var_os("PGBOUNCER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/pgbouncer"));
    assert!(
        path.exists(),
        "no pgbouncer at {} (Debian: apt-get install pgbouncer; ./test.sh installs it)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl PgBouncer {
    /// Starts one with `pool_size` server connections per database and user.
    pub async fn start(pool_size: u32) -> PgBouncer {
        let dir = tempfile::tempdir().unwrap();
        let server = super::pg::server_address();
        let (host, port) = server.rsplit_once(':').expect("host:port");
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let listen = free_port();
        // Trust, as the test server does: the pooler only checks that the user is listed.
        let admin = super::pg::admin_url();
        let user = admin
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('@'))
            .map_or("postgres", |(user, _)| {
                user.split(':').next().unwrap_or("postgres")
            });
        let users = dir.path().join("users.txt");
        std::fs::write(&users, format!("\"{user}\" \"\"\n")).unwrap();
        let ini = dir.path().join("pgbouncer.ini");
        std::fs::write(
            &ini,
            format!(
                "[databases]\n* = host={host} port={port}\n\n[pgbouncer]\n\
                 listen_addr = 127.0.0.1\nlisten_port = {listen}\nunix_socket_dir =\n\
                 auth_type = trust\nauth_file = {users}\npool_mode = transaction\ndefault_pool_size = {pool_size}\n\
                 max_client_conn = 1000\nlogfile =\npidfile =\n\
                 log_connections = 0\nlog_disconnections = 0\n",
                users = users.display()
            ),
        )
        .unwrap();
        let mut command = tokio::process::Command::new(binary());
        // PgBouncer refuses to run as root; as root it is told to switch to PostgreSQL's user.
        if running_as_root() {
            // The directory is the tempdir's (0700 by default): the user switched to must read it.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            for file in [&ini, &users] {
                std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
            command.args(["-u", "postgres"]);
        }
        let child = command
            .arg(&ini)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("pgbouncer starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", listen)).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "pgbouncer did not listen on {listen}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        PgBouncer {
            port: listen,
            child,
            _dir: dir,
        }
    }

    /// `url` (a database on the test server) as reached through this PgBouncer.
    pub fn url(&self, url: &str) -> String {
        let (before, after) = url.split_once('@').expect("a URL with a user");
        let (_, path) = after.split_once('/').expect("a URL with a database");
        format!("{before}@127.0.0.1:{}/{path}", self.port)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // A file this process just created is owned by its effective user.
    let probe = tempfile::NamedTempFile::new().unwrap();
    probe.as_file().metadata().unwrap().uid() == 0
}
