//! The workshop commands a client sends (PROTOCOL.md §9.2), parsed and bounded, and the role each
//! one needs.

use super::MAX_ID;
use crate::auth::Role;
use serde::Deserialize;

/// Longest title or label accepted, in bytes.
pub const MAX_TITLE: usize = 200;
/// Longest private card, in bytes (as a card's text in the document).
pub const MAX_TEXT: usize = 10_000;
/// Most cards one vote may cover.
pub const MAX_VOTE_CARDS: usize = 500;
/// Most votes per person.
pub const MAX_PER_PERSON: u32 = 100;
/// Longest timer, and most time added at once.
pub const MAX_SECONDS: i64 = 86_400;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "op", deny_unknown_fields)]
pub enum Command {
    #[serde(rename = "session.start")]
    SessionStart {
        #[serde(default)]
        title: String,
    },
    #[serde(rename = "session.end")]
    SessionEnd {},
    #[serde(rename = "timer.start")]
    TimerStart {
        seconds: i64,
        #[serde(default)]
        label: String,
    },
    #[serde(rename = "timer.pause")]
    TimerPause {},
    #[serde(rename = "timer.resume")]
    TimerResume {},
    #[serde(rename = "timer.add")]
    TimerAdd { seconds: i64 },
    #[serde(rename = "timer.stop")]
    TimerStop {},
    #[serde(rename = "follow.start")]
    FollowStart { client: u64 },
    #[serde(rename = "follow.stop")]
    FollowStop {},
    #[serde(rename = "lock")]
    Lock { target: String },
    #[serde(rename = "unlock")]
    Unlock { target: String },
    #[serde(rename = "vote.open", rename_all = "camelCase")]
    VoteOpen {
        #[serde(default)]
        title: String,
        cards: Vec<String>,
        per_person: u32,
        #[serde(default = "one")]
        per_card: u32,
    },
    #[serde(rename = "vote.cast")]
    VoteCast { card: String },
    #[serde(rename = "vote.retract")]
    VoteRetract { card: String },
    #[serde(rename = "vote.reveal")]
    VoteReveal {},
    #[serde(rename = "vote.cancel")]
    VoteCancel {},
    #[serde(rename = "round.start")]
    RoundStart {
        #[serde(default)]
        seconds: Option<i64>,
    },
    #[serde(rename = "round.add")]
    RoundAdd {
        lane: String,
        step: String,
        text: String,
    },
    #[serde(rename = "round.edit")]
    RoundEdit { id: String, text: String },
    #[serde(rename = "round.remove")]
    RoundRemove { id: String },
    #[serde(rename = "round.reveal")]
    RoundReveal {},
    #[serde(rename = "round.cancel")]
    RoundCancel {},
}

fn one() -> u32 {
    1
}

/// A command the server will not carry out: a stable code and a sentence, sent to its sender only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: &'static str,
    pub message: String,
}

impl Refused {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Refused {
            code,
            message: message.into(),
        }
    }
}

impl Command {
    /// Parses a command's JSON text.
    pub fn parse(json: &str) -> Result<Command, Refused> {
        serde_json::from_str(json).map_err(|e| Refused::new("invalid_command", e.to_string()))
    }

    /// The command's name, as sent.
    pub fn op(&self) -> &'static str {
        match self {
            Command::SessionStart { .. } => "session.start",
            Command::SessionEnd {} => "session.end",
            Command::TimerStart { .. } => "timer.start",
            Command::TimerPause {} => "timer.pause",
            Command::TimerResume {} => "timer.resume",
            Command::TimerAdd { .. } => "timer.add",
            Command::TimerStop {} => "timer.stop",
            Command::FollowStart { .. } => "follow.start",
            Command::FollowStop {} => "follow.stop",
            Command::Lock { .. } => "lock",
            Command::Unlock { .. } => "unlock",
            Command::VoteOpen { .. } => "vote.open",
            Command::VoteCast { .. } => "vote.cast",
            Command::VoteRetract { .. } => "vote.retract",
            Command::VoteReveal {} => "vote.reveal",
            Command::VoteCancel {} => "vote.cancel",
            Command::RoundStart { .. } => "round.start",
            Command::RoundAdd { .. } => "round.add",
            Command::RoundEdit { .. } => "round.edit",
            Command::RoundRemove { .. } => "round.remove",
            Command::RoundReveal {} => "round.reveal",
            Command::RoundCancel {} => "round.cancel",
        }
    }

    /// The least role that may send it: voting is like commenting, private cards become content.
    pub fn role(&self) -> Role {
        match self {
            Command::VoteCast { .. } | Command::VoteRetract { .. } => Role::Commenter,
            Command::RoundAdd { .. } | Command::RoundEdit { .. } | Command::RoundRemove { .. } => {
                Role::Editor
            }
            _ => Role::Facilitator,
        }
    }

    /// Checks the fields' bounds.
    pub fn check(&self) -> Result<(), Refused> {
        let invalid = |m: String| Err(Refused::new("invalid_command", m));
        match self {
            Command::SessionStart { title } | Command::TimerStart { label: title, .. }
                if title.len() > MAX_TITLE =>
            {
                invalid(format!("titles are limited to {MAX_TITLE} bytes"))
            }
            Command::TimerStart { seconds, .. } if !(1..=MAX_SECONDS).contains(seconds) => {
                invalid(format!("a timer runs 1 to {MAX_SECONDS} seconds"))
            }
            Command::RoundStart { seconds: Some(s) } if !(1..=MAX_SECONDS).contains(s) => {
                invalid(format!("a timer runs 1 to {MAX_SECONDS} seconds"))
            }
            Command::TimerAdd { seconds } if seconds.abs() > MAX_SECONDS || *seconds == 0 => {
                invalid(format!(
                    "add 1 to {MAX_SECONDS} seconds (or take them away)"
                ))
            }
            Command::Lock { target } | Command::Unlock { target } => super::locks::Target::parse(
                target,
            )
            .map(drop)
            .ok_or_else(|| {
                Refused::new(
                    "invalid_command",
                    format!(
                        "lock target {target:?} is not `structure`, `lanes/<id>` or `cards/<id>`"
                    ),
                )
            }),
            Command::VoteOpen {
                title,
                cards,
                per_person,
                per_card,
            } => {
                if title.len() > MAX_TITLE {
                    return invalid(format!("titles are limited to {MAX_TITLE} bytes"));
                }
                if cards.is_empty() || cards.len() > MAX_VOTE_CARDS {
                    return invalid(format!("a vote covers 1 to {MAX_VOTE_CARDS} cards"));
                }
                if cards.iter().any(|c| c.is_empty() || c.len() > MAX_ID) {
                    return invalid("a card id is empty or too long".into());
                }
                if !(1..=MAX_PER_PERSON).contains(per_person) {
                    return invalid(format!("perPerson is 1 to {MAX_PER_PERSON}"));
                }
                if !(1..=*per_person).contains(per_card) {
                    return invalid("perCard is 1 to perPerson".into());
                }
                Ok(())
            }
            Command::RoundAdd { text, lane, step } => {
                if lane.len() > MAX_ID || step.len() > MAX_ID {
                    return invalid("a lane or step id is too long".into());
                }
                check_text(text)
            }
            Command::RoundEdit { text, .. } => check_text(text),
            _ => Ok(()),
        }
    }
}

fn check_text(text: &str) -> Result<(), Refused> {
    if text.trim().is_empty() || text.len() > MAX_TEXT {
        return Err(Refused::new(
            "invalid_command",
            format!("a card's text is 1 to {MAX_TEXT} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_their_defaults_and_unknown_fields_are_refused() {
        assert_eq!(
            Command::parse(r#"{"op":"vote.open","cards":["c1"],"perPerson":3}"#).unwrap(),
            Command::VoteOpen {
                title: String::new(),
                cards: vec!["c1".into()],
                per_person: 3,
                per_card: 1
            }
        );
        assert_eq!(
            Command::parse(r#"{"op":"timer.pause"}"#).unwrap(),
            Command::TimerPause {}
        );
        for bad in [
            r#"{"op":"timer.pause","x":1}"#,
            r#"{"op":"nope"}"#,
            r#"{"cards":[]}"#,
            "not json",
        ] {
            assert_eq!(
                Command::parse(bad).unwrap_err().code,
                "invalid_command",
                "{bad}"
            );
        }
    }

    #[test]
    fn bounds_are_checked() {
        let vote = |per_person, per_card| Command::VoteOpen {
            title: String::new(),
            cards: vec!["c".into()],
            per_person,
            per_card,
        };
        assert!(vote(3, 2).check().is_ok());
        assert!(vote(3, 4).check().is_err());
        assert!(vote(0, 0).check().is_err());
        assert!(
            Command::TimerStart {
                seconds: 0,
                label: String::new()
            }
            .check()
            .is_err()
        );
        assert!(
            Command::Lock {
                target: "stages/x".into()
            }
            .check()
            .is_err()
        );
        assert!(
            Command::Lock {
                target: "lanes/l1".into()
            }
            .check()
            .is_ok()
        );
        assert_eq!(
            Command::VoteCast { card: "c".into() }.role(),
            Role::Commenter
        );
        assert_eq!(Command::VoteReveal {}.role(), Role::Facilitator);
    }
}
