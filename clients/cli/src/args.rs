//! The client commands' flags and arguments, as clap reads them.

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The commands that talk to a running server.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// List, create, delete, import and export maps.
    #[command(subcommand)]
    Maps(Maps),
    /// List, take, compare and restore a map's versions.
    #[command(subcommand)]
    Versions(Versions),
    /// Submit a version for review, or decide on one.
    #[command(subcommand)]
    Review(Review),
    /// A map's comments, oldest first; with --add, comment on it.
    Comments(Comments),
    /// What to fix first on a map: emotion lows, pain points, evidence, metrics, channels.
    Insights(MapOnly),
    /// Exit 1 if a map has metrics off target, pain points nothing addresses, or its review
    /// overdue (for a CI job or a cron); exit 0 if not.
    Check(Check),
    /// Follow a map live and print each change as it happens (who changed what).
    Watch(Watch),
    /// Feed measured values into a map's metrics.
    #[command(subcommand)]
    Metrics(Metrics),
}

/// Where the server is and who is asking.
#[derive(Args, Debug, Clone)]
pub struct Server {
    /// The server's address.
    #[arg(long, env = "WAYMARK_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,

    /// An access token (see `waymark token`), when the server requires one.
    #[arg(long, env = "WAYMARK_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Print JSON (one document, or one line per record) instead of text for people.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum Maps {
    /// Every map the token covers, most recently changed first.
    List(Plain),
    /// Create a map, blank or from a template; prints its id.
    Create(CreateMap),
    /// Delete a map; its connected editors are disconnected.
    Delete(MapOnly),
    /// Create a map from a JSON export (a file, or `-` for standard input); prints its id.
    Import(Import),
    /// Export a map (json, csv, markdown, mermaid, svg, png, pdf) to a file or standard output.
    Export(Export),
}

#[derive(Args, Debug)]
pub struct Plain {
    #[command(flatten)]
    pub server: Server,
}

#[derive(Args, Debug)]
pub struct MapOnly {
    /// The map's id.
    pub map: String,
    #[command(flatten)]
    pub server: Server,
}

#[derive(Args, Debug)]
pub struct CreateMap {
    /// The new map's id; without it the server picks one.
    pub map: Option<String>,
    /// Its title.
    #[arg(long)]
    pub title: Option<String>,
    /// What kind of map: journey-map (the default), service-blueprint, ...
    #[arg(long)]
    pub kind: Option<String>,
    /// Start from this template (`GET /api/v1/templates` lists them).
    #[arg(long)]
    pub template: Option<String>,
    #[command(flatten)]
    pub server: Server,
}

#[derive(Args, Debug)]
pub struct Import {
    /// The JSON export to import, or `-` for standard input.
    pub file: PathBuf,
    /// The new map's id; without it, the export's own id if free, else one the server picks.
    #[arg(long)]
    pub id: Option<String>,
    #[command(flatten)]
    pub server: Server,
}

#[derive(Args, Debug)]
pub struct Export {
    /// The map's id.
    pub map: String,
    /// The format.
    #[arg(long, short, value_enum, default_value = "json")]
    pub format: Format,
    /// Print posters (svg, png, pdf) on this sheet: a3, a2, a1 or a0.
    #[arg(long)]
    pub paper: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Export this version instead of the map as it is now.
    #[arg(long)]
    pub version: Option<u32>,
    #[command(flatten)]
    pub server: Server,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Markdown,
    Mermaid,
    Svg,
    Png,
    Pdf,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "markdown",
            Format::Mermaid => "mermaid",
            Format::Svg => "svg",
            Format::Png => "png",
            Format::Pdf => "pdf",
        }
    }

    /// Whether its bytes are not text (and so not for a terminal).
    pub fn is_binary(self) -> bool {
        matches!(self, Format::Png | Format::Pdf)
    }
}

#[derive(Subcommand, Debug)]
pub enum Versions {
    /// A map's versions, newest first.
    List(MapOnly),
    /// Take a version of the map as it is now; prints its number.
    Take(Take),
    /// What changed between two versions (or a version and the map as it is now).
    Compare(Compare),
    /// Restore a version in place (a safety version is taken first); live editors see it.
    Restore(VersionOf),
}

#[derive(Args, Debug)]
pub struct Take {
    /// The map's id.
    pub map: String,
    /// The version's label, e.g. "Before the workshop".
    #[arg(long)]
    pub label: String,
    /// A longer description.
    #[arg(long, default_value = "")]
    pub description: String,
    #[command(flatten)]
    pub server: Server,
}

#[derive(Args, Debug)]
pub struct Compare {
    /// The map's id.
    pub map: String,
    /// The older version's number.
    pub from: u32,
    /// The newer version's number; without it, the map as it is now.
    pub to: Option<u32>,
    #[command(flatten)]
    pub server: Server,
}

#[derive(Args, Debug)]
pub struct VersionOf {
    /// The map's id.
    pub map: String,
    /// The version's number.
    pub version: u32,
    #[command(flatten)]
    pub server: Server,
}

#[derive(Subcommand, Debug)]
pub enum Review {
    /// Submit a version for review to named reviewers.
    Submit(Submit),
    /// Approve a version under review, or ask for changes.
    Decide(Decide),
}

#[derive(Args, Debug)]
pub struct Submit {
    /// The map's id.
    pub map: String,
    /// The version's number.
    pub version: u32,
    /// A reviewer's user id; repeat for several.
    #[arg(long = "reviewer", required = true)]
    pub reviewers: Vec<String>,
    /// When the review is due (YYYY-MM-DD).
    #[arg(long)]
    pub due: Option<String>,
    #[command(flatten)]
    pub server: Server,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("verdict").required(true).args(["approve", "request_changes"])))]
pub struct Decide {
    /// The map's id.
    pub map: String,
    /// The version's number.
    pub version: u32,
    /// Approve the version.
    #[arg(long)]
    pub approve: bool,
    /// Ask for changes.
    #[arg(long)]
    pub request_changes: bool,
    /// Why, for the record.
    #[arg(long, default_value = "")]
    pub comment: String,
    /// Decide as this reviewer (only on a server without authentication; with it, the token's
    /// user decides).
    #[arg(long)]
    pub reviewer: Option<String>,
    #[command(flatten)]
    pub server: Server,
}

#[derive(Args, Debug)]
pub struct Comments {
    /// The map's id.
    pub map: String,
    /// Add this comment instead of listing.
    #[arg(long)]
    pub add: Option<String>,
    /// With --add: the id of the entity (card, step, ...) the comment is about.
    #[arg(long, requires = "add")]
    pub on: Option<String>,
    #[command(flatten)]
    pub server: Server,
}

#[derive(Args, Debug)]
pub struct Check {
    /// The map's id.
    pub map: String,
    /// Do not fail on these findings.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub ignore: Vec<Finding>,
    #[command(flatten)]
    pub server: Server,
}

/// What `waymark check` fails on.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    /// A metric's latest measurement misses its target.
    MetricsOffTarget,
    /// A pain point no opportunity, improvement or action is linked to.
    UnaddressedPainPoints,
    /// The map's review date has passed.
    ReviewOverdue,
}

#[derive(Args, Debug)]
pub struct Watch {
    /// The map's id.
    pub map: String,
    /// Stop after this many changes (0: follow until interrupted).
    #[arg(long, default_value_t = 0)]
    pub count: u64,
    #[command(flatten)]
    pub server: Server,
}

#[derive(Subcommand, Debug)]
pub enum Metrics {
    /// Add dated measurements to a map's metrics from CSV with the columns metric, date, value
    /// (a header row is optional). A metric is named by its name or id and must exist; a
    /// measurement already recorded with the same date and value is not added again.
    Push(Push),
}

#[derive(Args, Debug)]
pub struct Push {
    /// The map's id.
    pub map: String,
    /// The CSV file, or `-` for standard input.
    #[arg(long)]
    pub from: PathBuf,
    /// Check the file and say what would be added, without changing the map.
    #[arg(long)]
    pub dry_run: bool,
    /// Replace the value of a measurement already recorded for the same metric and date (without
    /// it, a different value for a recorded date is an error).
    #[arg(long)]
    pub replace: bool,
    #[command(flatten)]
    pub server: Server,
}
