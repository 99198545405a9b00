//! The command-line client of the `waymark` binary: maps, versions, reviews, comments and
//! insights over the REST API, a map followed live and metrics fed over WebSocket, for scripts, CI
//! jobs and operators.
//!
//! [`run`] carries out one [`Command`]; what it prints is for people, or JSON with `--json`. The
//! `waymark` binary maps its outcome to the exit status: 0 done, 1 findings (`waymark check`),
//! 2 an error, said on standard error.

mod api;
pub mod args;
mod insights;
mod maps;
mod metrics;
mod table;
mod versions;
mod watch;

pub use args::Command;

/// How a command ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// `waymark check` found something to fix.
    Findings,
}

/// Carries out `command` against the server it names.
pub async fn run(command: Command) -> anyhow::Result<Outcome> {
    let done = |r: anyhow::Result<()>| r.map(|()| Outcome::Done);
    match command {
        Command::Maps(c) => done(maps::run(c).await),
        Command::Versions(c) => done(versions::run(c).await),
        Command::Review(c) => done(versions::review(c).await),
        Command::Comments(c) => done(versions::comments(c).await),
        Command::Insights(c) => done(insights::insights(c).await),
        Command::Check(c) => insights::check(c).await,
        Command::Watch(c) => done(watch::run(c).await),
        Command::Metrics(c) => done(metrics::run(c).await),
    }
}
