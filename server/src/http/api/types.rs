//! The bodies and query strings the API accepts, in one place: handlers parse into these, and
//! unknown fields are refused so that a typo is an error rather than silently ignored.

use crate::review::Verdict;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateMap {
    pub id: Option<String>,
    pub title: Option<String>,
    pub kind: Option<String>,
    pub template: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    pub id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityQuery {
    pub limit: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendanceQuery {
    #[serde(default)]
    pub format: Option<String>,
}

/// `?paper=a3|a2|a1|a0` on a poster export (SVG, PNG, PDF): printed on that sheet, landscape.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    #[serde(default)]
    pub paper: Option<String>,
}

/// `POST /revocations`: exactly one of `user` and `token`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revoke {
    pub user: Option<String>,
    pub token: Option<String>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    pub text: String,
    #[serde(default)]
    pub target: Option<String>,
    /// Without authentication, who wrote it; with it, the token's user.
    #[serde(default)]
    pub author: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateVersion {
    pub label: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub author: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareQuery {
    pub from: String,
    #[serde(default = "current")]
    pub to: String,
    #[serde(default = "json_format")]
    pub format: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreVersion {
    #[serde(default)]
    pub author: String,
}

fn current() -> String {
    "current".into()
}

fn json_format() -> String {
    "json".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Submit {
    pub reviewers: Vec<String>,
    #[serde(default)]
    pub due: Option<String>,
    #[serde(default)]
    pub submitted_by: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decide {
    /// With authentication, defaults to the token's user id (and may only be that).
    #[serde(default)]
    pub reviewer: String,
    pub verdict: Verdict,
    #[serde(default)]
    pub comment: String,
}
