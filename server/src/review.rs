//! Review cycles over REST: a version is submitted to named reviewers with an optional due date,
//! each reviewer approves it or requests changes, and the version's review state follows from
//! their decisions. Transitions that make no sense are refused with 409 and the reason.
//!
//! A review is stored with its version and changed compare-and-set, so two decisions recorded at
//! once (through the same node or two) never overwrite each other.

use crate::api::{self, ApiError, ApiResult};
use crate::auth::Access;
use crate::now_millis;
use crate::state::Shared;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use waymark_protocol::MapId;
use waymark_protocol::schema::edit::is_date;

/// Most reviewers on one version.
const MAX_REVIEWERS: usize = 50;
/// Longest reviewer name or comment accepted.
const MAX_TEXT: usize = 10_000;
/// Attempts at recording a change that raced with another.
const ATTEMPTS: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub reviewers: Vec<String>,
    /// A date (YYYY-MM-DD) by which the reviewers should decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    pub submitted_by: String,
    /// Milliseconds since the Unix epoch.
    pub submitted_at: i64,
    pub decisions: Vec<Decision>,
    pub state: ReviewState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub reviewer: String,
    pub verdict: Verdict,
    pub comment: String,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Approved,
    ChangesRequested,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewState {
    /// Submitted; not every reviewer has approved and nobody has asked for changes.
    InReview,
    /// Every reviewer approved.
    Approved,
    /// A reviewer asked for changes: the review is over; changes go into a new version.
    ChangesRequested,
}

impl Review {
    /// The state the decisions add up to.
    fn settle(&mut self) {
        self.state = if self
            .decisions
            .iter()
            .any(|d| d.verdict == Verdict::ChangesRequested)
        {
            ReviewState::ChangesRequested
        } else if self
            .reviewers
            .iter()
            .all(|r| self.decisions.iter().any(|d| &d.reviewer == r))
        {
            ReviewState::Approved
        } else {
            ReviewState::InReview
        };
    }
}

/// The review stored with a version, if any.
pub(crate) fn review_of(info: &crate::store::VersionInfo) -> Option<Review> {
    info.review
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
}

/// The stored form: JSON with sorted keys, so that what is read back compares equal as text.
fn canonical(review: &Review) -> String {
    serde_json::to_value(review)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, code, message)
}

/// Today's date (UTC), YYYY-MM-DD.
pub(crate) fn today() -> String {
    let days = now_millis().div_euclid(86_400_000);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Applies `change` to a version's review and stores it, retrying when another change got there
/// first. `change` sees the current review and returns the new one, or why not.
async fn update(
    shared: &Arc<Shared>,
    id: &MapId,
    number: i64,
    change: impl Fn(Option<Review>) -> ApiResult<Review>,
) -> ApiResult<Review> {
    for _ in 0..ATTEMPTS {
        let (info, _) = crate::versions::stored_version(shared, id, number).await?;
        let current = review_of(&info);
        let expected = current.as_ref().map(canonical);
        let mut next = change(current)?;
        next.settle();
        match shared
            .store
            .set_review(id, number, expected, canonical(&next))
            .await
            .map_err(ApiError::storage)?
        {
            Some(true) => return Ok(next),
            Some(false) => continue,
            None => break,
        }
    }
    Err(conflict(
        "busy",
        "the review changed while this was being recorded; try again",
    ))
}

fn check_text(what: &str, s: &str) -> ApiResult<()> {
    if s.len() > MAX_TEXT {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("{what} is limited to {MAX_TEXT} bytes"),
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Submit {
    reviewers: Vec<String>,
    #[serde(default)]
    due: Option<String>,
    #[serde(default)]
    submitted_by: String,
}

pub(crate) async fn submit(
    State(shared): State<Arc<Shared>>,
    Extension(access): Extension<Access>,
    Path((raw, number)): Path<(String, String)>,
    body: Result<Json<Submit>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let Json(mut req) = body?;
    if let Some(author) = access.author() {
        req.submitted_by = author;
    }
    let reviewers: Vec<String> = req.reviewers.iter().map(|r| r.trim().to_owned()).collect();
    let unique: HashSet<&String> = reviewers.iter().collect();
    if reviewers.is_empty()
        || reviewers.len() > MAX_REVIEWERS
        || reviewers.iter().any(String::is_empty)
        || unique.len() != reviewers.len()
    {
        return Err(ApiError::bad_request(
            "invalid_reviewers",
            format!("name 1 to {MAX_REVIEWERS} different, non-blank reviewers"),
        ));
    }
    for r in &reviewers {
        check_text("a reviewer's name", r)?;
    }
    check_text("submittedBy", &req.submitted_by)?;
    if let Some(due) = &req.due
        && !is_date(due)
    {
        return Err(ApiError::bad_request(
            "invalid_due",
            format!("due must be a date written YYYY-MM-DD, not {due:?}"),
        ));
    }
    let id = api::existing(&shared, &raw).await?;
    let number = crate::versions::parse_number(&number)?;
    let review = update(&shared, &id, number, |current| match current {
        Some(r) => Err(conflict(
            "already_submitted",
            format!(
                "version {number} was already submitted for review ({}); take a new version for another round",
                state_word(r.state)
            ),
        )),
        None => Ok(Review {
            reviewers: reviewers.clone(),
            due: req.due.clone(),
            submitted_by: req.submitted_by.clone(),
            submitted_at: now_millis(),
            decisions: Vec::new(),
            state: ReviewState::InReview,
        }),
    })
    .await?;
    crate::events::emit(
        &shared,
        &id,
        json!({ "type": "review.updated", "version": number, "review": review }),
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id.as_str(), "version": number, "review": review })),
    ))
}

fn state_word(s: ReviewState) -> &'static str {
    match s {
        ReviewState::InReview => "it is in review",
        ReviewState::Approved => "it was approved",
        ReviewState::ChangesRequested => "changes were requested",
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Decide {
    /// With authentication, defaults to the token's user id (and may only be that).
    #[serde(default)]
    reviewer: String,
    verdict: Verdict,
    #[serde(default)]
    comment: String,
}

pub(crate) async fn decide(
    State(shared): State<Arc<Shared>>,
    Extension(access): Extension<Access>,
    Path((raw, number)): Path<(String, String)>,
    body: Result<Json<Decide>, JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Json(req) = body?;
    check_text("comment", &req.comment)?;
    let mut reviewer = req.reviewer.trim().to_owned();
    // With authentication, reviewers are user ids and each decides only for themselves.
    if let Some(user) = &access.user {
        if reviewer.is_empty() {
            reviewer = user.clone();
        } else if reviewer != *user {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_yourself",
                format!("the token is {user:?}'s; it cannot decide as {reviewer:?}"),
            ));
        }
    }
    if reviewer.is_empty() {
        return Err(ApiError::bad_request("invalid_body", "name the reviewer"));
    }
    let id = api::existing(&shared, &raw).await?;
    let number = crate::versions::parse_number(&number)?;
    let review = update(&shared, &id, number, |current| {
        let Some(mut r) = current else {
            return Err(conflict(
                "not_in_review",
                format!("version {number} has not been submitted for review"),
            ));
        };
        if r.state != ReviewState::InReview {
            return Err(conflict(
                "review_closed",
                format!(
                    "the review of version {number} is over: {}",
                    state_word(r.state)
                ),
            ));
        }
        if !r.reviewers.contains(&reviewer) {
            return Err(conflict(
                "not_a_reviewer",
                format!(
                    "{reviewer:?} is not a reviewer of version {number}; reviewers: {}",
                    r.reviewers.join(", ")
                ),
            ));
        }
        if r.decisions.iter().any(|d| d.reviewer == reviewer) {
            return Err(conflict(
                "already_decided",
                format!("{reviewer:?} has already decided on version {number}"),
            ));
        }
        r.decisions.push(Decision {
            reviewer: reviewer.clone(),
            verdict: req.verdict,
            comment: req.comment.clone(),
            at: now_millis(),
        });
        Ok(r)
    })
    .await?;
    crate::events::emit(
        &shared,
        &id,
        json!({ "type": "review.updated", "version": number, "review": review }),
    );
    Ok(Json(
        json!({ "id": id.as_str(), "version": number, "review": review }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_date("2026-11-23"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("2026-1-01"));
        assert!(!is_date("tomorrow!!"));
        assert!(is_date(&today()));
    }

    #[test]
    fn decisions_settle_the_state() {
        let mut r = Review {
            reviewers: vec!["ana".into(), "ben".into()],
            due: None,
            submitted_by: String::new(),
            submitted_at: 0,
            decisions: Vec::new(),
            state: ReviewState::InReview,
        };
        let decide = |r: &mut Review, who: &str, verdict| {
            r.decisions.push(Decision {
                reviewer: who.into(),
                verdict,
                comment: String::new(),
                at: 0,
            });
            r.settle();
            r.state
        };
        assert_eq!(
            decide(&mut r.clone(), "ana", Verdict::Approved),
            ReviewState::InReview
        );
        let mut both = r.clone();
        decide(&mut both, "ana", Verdict::Approved);
        assert_eq!(
            decide(&mut both, "ben", Verdict::Approved),
            ReviewState::Approved
        );
        assert_eq!(
            decide(&mut r, "ben", Verdict::ChangesRequested),
            ReviewState::ChangesRequested
        );
        // Stored text compares equal after a round trip.
        let back: Review = serde_json::from_str(&canonical(&r)).unwrap();
        assert_eq!(canonical(&back), canonical(&r));
    }
}
