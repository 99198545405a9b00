//! `waymark-load`: runs one load scenario against a y-websocket-compatible server and prints a table
//! (plus a JSON report with `--json`), or prints saved reports side by side.

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use waymark_loadtest::report::{self, Report};
use waymark_loadtest::scenario::{self, Run};
use waymark_loadtest::target::{Framing, Target};

#[derive(Parser)]
#[command(
    name = "waymark-load",
    version,
    about = "Load generator for y-websocket-compatible servers (Waymark, y-websocket, y-sweet, Hocuspocus)",
    long_about = "Load generator for y-websocket-compatible servers.\n\n\
                  Latency is measured at every receiver from each message's intended send time on a \
                  fixed schedule, and every expected delivery is accounted for (missing and \
                  duplicate deliveries are reported)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// WebSocket URL of a map, `{map}` standing for the map id. Give it twice for cross-node
    /// (clients alternate between the URLs).
    #[arg(long, default_value = "ws://127.0.0.1:8080/maps/{map}")]
    url: Vec<String>,
    /// Message framing the server expects.
    #[arg(long, value_enum, default_value_t = Framing::YWebsocket)]
    framing: Framing,
    /// POST `{"docId": map}` here before using a map (y-sweet: http://HOST:PORT/doc/new).
    #[arg(long)]
    create_url: Option<String>,
    /// Name of the server in the report.
    #[arg(long, default_value = "server")]
    label: String,
    /// Pid of the server process, to report its CPU time and memory. Give it once per node for a
    /// cluster: the figures are summed.
    #[arg(long)]
    server_pid: Vec<u32>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Seconds to wait for in-flight deliveries after the last send.
    #[arg(long, default_value_t = 5.0)]
    grace: f64,
    /// Do not print progress lines while running.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args, Clone)]
struct FanoutArgs {
    #[arg(long, default_value_t = 50)]
    maps: u32,
    #[arg(long, default_value_t = 10)]
    editors: u32,
    /// Updates per second per editor.
    #[arg(long, default_value_t = 2.0)]
    rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
}

#[derive(Subcommand)]
enum Command {
    /// MAPS maps × EDITORS editors, each sending small updates at RATE per second.
    Fanout {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        load: FanoutArgs,
    },
    /// Fanout with editors alternating between two or more nodes (give --url once per node).
    CrossNode {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        load: FanoutArgs,
    },
    /// Fanout at increasing rates until p99 latency passes a limit or a delivery goes missing.
    Overload {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 50)]
        maps: u32,
        #[arg(long, default_value_t = 10)]
        editors: u32,
        /// Starting updates per second per editor.
        #[arg(long, default_value_t = 2.0)]
        rate: f64,
        /// Rate multiplier between steps.
        #[arg(long, default_value_t = 1.5)]
        factor: f64,
        /// Seconds per step.
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
        #[arg(long, default_value_t = 50.0)]
        p99_limit_ms: f64,
        #[arg(long, default_value_t = 12)]
        max_steps: u32,
    },
    /// CONNECTIONS connections held open over MAPS maps.
    Idle {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 10_000)]
        connections: u32,
        #[arg(long, default_value_t = 100)]
        maps: u32,
        /// Seconds to hold the connections.
        #[arg(long, default_value_t = 10.0)]
        hold: f64,
    },
    /// CLIENTS clients joining one map of SIZE_MIB MiB at once.
    Join {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 50)]
        clients: u32,
        #[arg(long, default_value_t = 10)]
        size_mib: u32,
    },
    /// CLIENTS clients in one map, each moving its cursor RATE times per second.
    Awareness {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 500)]
        clients: u32,
        #[arg(long, default_value_t = 1.0)]
        rate: f64,
        #[arg(long, default_value_t = 20.0)]
        duration: f64,
    },
    /// PARTICIPANTS in one map's dot-vote (workshop mode), each placing a vote and moving its
    /// cursor RATE times per second.
    Workshop {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 50)]
        participants: u32,
        #[arg(long, default_value_t = 1.0)]
        rate: f64,
        #[arg(long, default_value_t = 30.0)]
        duration: f64,
    },
    /// CLIENTS clients over MAPS maps, all dropped and reconnecting at once.
    Reconnect {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 2000)]
        clients: u32,
        #[arg(long, default_value_t = 100)]
        maps: u32,
    },
    /// Print saved JSON reports of one scenario side by side.
    Table {
        /// Report files written with --json.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
    },
}

fn run_of(c: &Common) -> anyhow::Result<Run> {
    if c.grace < 0.0 || !c.grace.is_finite() {
        bail!("--grace must be a non-negative number of seconds");
    }
    let targets = c
        .url
        .iter()
        .map(|u| {
            if !(u.starts_with("ws://") || u.starts_with("wss://")) {
                bail!("--url {u:?} must start with ws:// or wss://");
            }
            Ok(Arc::new(Target {
                url: u.clone(),
                framing: c.framing,
                create_url: c.create_url.clone(),
            }))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Run {
        targets,
        label: c.label.clone(),
        server_pids: c.server_pid.clone(),
        progress: !c.quiet,
        connect_parallelism: 64,
        grace: Duration::from_secs_f64(c.grace),
        run_id: scenario::new_run_id(),
    })
}

fn seconds(s: f64, what: &str) -> anyhow::Result<Duration> {
    if !(s.is_finite() && s > 0.0) {
        bail!("--{what} must be a positive number of seconds");
    }
    Ok(Duration::from_secs_f64(s))
}

fn positive_rate(r: f64) -> anyhow::Result<f64> {
    if !(r.is_finite() && r > 0.0) {
        bail!("--rate must be a positive number");
    }
    Ok(r)
}

fn finish(common: &Common, report: &Report) -> anyhow::Result<()> {
    println!("{}", report.table());
    for e in &report.error_samples {
        println!("error: {e}");
    }
    if let Some(path) = &common.json {
        std::fs::write(path, serde_json::to_string_pretty(report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = Cli::parse().command;
    let cross_node = matches!(command, Command::CrossNode { .. });
    match command {
        Command::Fanout { common, load } | Command::CrossNode { common, load } => {
            if cross_node && common.url.len() < 2 {
                bail!("cross-node needs --url once per node (at least two)");
            }
            let run = run_of(&common)?;
            let p = scenario::FanoutParams {
                maps: load.maps,
                editors: load.editors,
                rate: positive_rate(load.rate)?,
                duration: seconds(load.duration, "duration")?,
            };
            finish(&common, &scenario::fanout(&run, &p).await)
        }
        Command::Overload {
            common,
            maps,
            editors,
            rate,
            factor,
            duration,
            p99_limit_ms,
            max_steps,
        } => {
            if !(factor > 1.0 && factor.is_finite()) {
                bail!("--factor must be greater than 1");
            }
            let run = run_of(&common)?;
            let p = scenario::FanoutParams {
                maps,
                editors,
                rate: positive_rate(rate)?,
                duration: seconds(duration, "duration")?,
            };
            let (summary, steps) =
                scenario::overload(&run, &p, p99_limit_ms, factor, max_steps).await;
            println!("{}", report::table(&steps));
            finish(&common, &summary)
        }
        Command::Idle {
            common,
            connections,
            maps,
            hold,
        } => {
            let run = run_of(&common)?;
            let p = scenario::IdleParams {
                connections,
                maps,
                hold: seconds(hold, "hold")?,
            };
            finish(&common, &scenario::idle(&run, &p).await)
        }
        Command::Join {
            common,
            clients,
            size_mib,
        } => {
            let run = run_of(&common)?;
            finish(
                &common,
                &scenario::join(&run, &scenario::JoinParams { clients, size_mib }).await,
            )
        }
        Command::Awareness {
            common,
            clients,
            rate,
            duration,
        } => {
            let run = run_of(&common)?;
            let p = scenario::AwarenessParams {
                clients,
                rate: positive_rate(rate)?,
                duration: seconds(duration, "duration")?,
            };
            finish(&common, &scenario::awareness(&run, &p).await)
        }
        Command::Workshop {
            common,
            participants,
            rate,
            duration,
        } => {
            let run = run_of(&common)?;
            let rate = positive_rate(rate)?;
            let duration = seconds(duration, "duration")?;
            if rate * duration.as_secs_f64() > f64::from(scenario::MAX_VOTES) {
                anyhow::bail!(
                    "rate × duration is more than the {} votes a participant may place; shorten the run",
                    scenario::MAX_VOTES
                );
            }
            let p = scenario::WorkshopParams {
                participants,
                rate,
                duration,
            };
            finish(&common, &scenario::workshop(&run, &p).await)
        }
        Command::Reconnect {
            common,
            clients,
            maps,
        } => {
            let run = run_of(&common)?;
            finish(
                &common,
                &scenario::reconnect(&run, &scenario::ReconnectParams { clients, maps }).await,
            )
        }
        Command::Table { reports } => {
            let mut loaded = Vec::new();
            for path in reports {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let r: Report = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a waymark-load report", path.display()))?;
                loaded.push(r);
            }
            print!("{}", report::table(&loaded));
            Ok(())
        }
    }
}
