//! Reviews of a version: who must approve it, their decisions, and the state those add up to.
//!
//! A review is stored with its version as canonical JSON and changed by compare-and-set, so two
//! decisions racing on different nodes both count. The REST API's review endpoints are thin over
//! this.

use crate::clock::now_millis;
use crate::events;
use crate::refusal::{Class, Refusal};
use crate::registry::Registry;
use crate::store::VersionInfo;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashSet;
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
pub fn review_of(info: &VersionInfo) -> Option<Review> {
    info.review
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
}

/// The newest approved version among `versions`, and whether the map has changed since.
pub async fn since_approved(
    rooms: &Registry,
    map: &MapId,
    versions: &[VersionInfo],
) -> Result<Option<(i64, bool)>, Refusal> {
    let approved = versions
        .iter()
        .find(|v| review_of(v).is_some_and(|r| r.state == ReviewState::Approved));
    let Some(v) = approved else {
        return Ok(None);
    };
    let (_, then) = crate::versions::load(rooms, map, v.number).await?;
    let now = crate::versions::current(rooms, map).await?;
    Ok(Some((
        v.number,
        !waymark_protocol::schema::diff(&then.map, &now.map).is_empty(),
    )))
}

/// The stored form: JSON with sorted keys, so that what is read back compares equal as text.
fn canonical(review: &Review) -> String {
    serde_json::to_value(review)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// Applies `change` to a version's review and stores it, retrying when another change got there
/// first; then tells the map's clients. `change` sees the current review and returns the new one,
/// or why not.
async fn update(
    rooms: &Registry,
    map: &MapId,
    number: i64,
    change: impl Fn(Option<Review>) -> Result<Review, Refusal>,
) -> Result<Review, Refusal> {
    for _ in 0..ATTEMPTS {
        let (info, _) = crate::versions::stored(rooms, map, number).await?;
        let current = review_of(&info);
        let expected = current.as_ref().map(canonical);
        let mut next = change(current)?;
        next.settle();
        match rooms
            .services()
            .store
            .set_review(map, number, expected, canonical(&next))
            .await
            .map_err(Refusal::storage)?
        {
            Some(true) => {
                events::emit(
                    rooms,
                    map,
                    json!({ "type": "review.updated", "version": number, "review": next }),
                );
                return Ok(next);
            }
            Some(false) => continue,
            None => break,
        }
    }
    Err(Refusal::conflict(
        "busy",
        "the review changed while this was being recorded; try again",
    ))
}

fn check_text(what: &str, s: &str) -> Result<(), Refusal> {
    if s.len() > MAX_TEXT {
        return Err(Refusal::invalid(
            "invalid_body",
            format!("{what} is limited to {MAX_TEXT} bytes"),
        ));
    }
    Ok(())
}

/// What a submission asks for.
pub struct Submission {
    pub reviewers: Vec<String>,
    pub due: Option<String>,
    pub submitted_by: String,
}

/// Submits version `number` for review; a version is reviewed once.
pub async fn submit(
    rooms: &Registry,
    map: &MapId,
    number: i64,
    req: Submission,
) -> Result<Review, Refusal> {
    let reviewers: Vec<String> = req.reviewers.iter().map(|r| r.trim().to_owned()).collect();
    let unique: HashSet<&String> = reviewers.iter().collect();
    if reviewers.is_empty()
        || reviewers.len() > MAX_REVIEWERS
        || reviewers.iter().any(String::is_empty)
        || unique.len() != reviewers.len()
    {
        return Err(Refusal::invalid(
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
        return Err(Refusal::invalid(
            "invalid_due",
            format!("due must be a date written YYYY-MM-DD, not {due:?}"),
        ));
    }
    update(rooms, map, number, |current| match current {
        Some(r) => Err(Refusal::conflict(
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
    .await
}

fn state_word(s: ReviewState) -> &'static str {
    match s {
        ReviewState::InReview => "it is in review",
        ReviewState::Approved => "it was approved",
        ReviewState::ChangesRequested => "changes were requested",
    }
}

/// Records `reviewer`'s decision on version `number`. With authentication (`user`, the token's
/// user id), reviewers are user ids and each decides only for themselves.
pub async fn decide(
    rooms: &Registry,
    map: &MapId,
    number: i64,
    user: Option<&str>,
    reviewer: String,
    verdict: Verdict,
    comment: String,
) -> Result<Review, Refusal> {
    check_text("comment", &comment)?;
    check_text("reviewer", &reviewer)?;
    let mut reviewer = reviewer.trim().to_owned();
    if let Some(user) = user {
        if reviewer.is_empty() {
            reviewer = user.to_owned();
        } else if reviewer != user {
            return Err(Refusal::new(
                Class::Forbidden,
                "not_yourself",
                format!("the token is {user:?}'s; it cannot decide as {reviewer:?}"),
            ));
        }
    }
    if reviewer.is_empty() {
        return Err(Refusal::invalid("invalid_body", "name the reviewer"));
    }
    update(rooms, map, number, |current| {
        let Some(mut r) = current else {
            return Err(Refusal::conflict(
                "not_in_review",
                format!("version {number} has not been submitted for review"),
            ));
        };
        if r.state != ReviewState::InReview {
            return Err(Refusal::conflict(
                "review_closed",
                format!(
                    "the review of version {number} is over: {}",
                    state_word(r.state)
                ),
            ));
        }
        if !r.reviewers.contains(&reviewer) {
            return Err(Refusal::conflict(
                "not_a_reviewer",
                format!(
                    "{reviewer:?} is not a reviewer of version {number}; reviewers: {}",
                    r.reviewers.join(", ")
                ),
            ));
        }
        if r.decisions.iter().any(|d| d.reviewer == reviewer) {
            return Err(Refusal::conflict(
                "already_decided",
                format!("{reviewer:?} has already decided on version {number}"),
            ));
        }
        r.decisions.push(Decision {
            reviewer: reviewer.clone(),
            verdict,
            comment: comment.clone(),
            at: now_millis(),
        });
        Ok(r)
    })
    .await
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
        assert!(is_date(&crate::clock::today()));
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
