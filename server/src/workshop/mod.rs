//! Workshop mode (PROTOCOL.md §9.2): the state a facilitator runs a workshop with — session,
//! timer, follow, locks, a dot-vote, a private round — what each command does to it, and what each
//! participant may see of it.
//!
//! The state is a set of last-writer-wins registers (`WorkshopEntry`): every change is a few
//! entries, stored and sent to the other nodes as they are, and merging entries in any order gives
//! the same state on every node. Votes and private cards live only here until they are revealed;
//! a view never holds anyone's but its reader's. The room (`room/workshop.rs`) owns one of these
//! per map and writes what a reveal produces into the document.

pub mod attendance;
mod command;
pub mod locks;
mod view;

pub use command::{Command, Refused};
pub use view::{error_message, state_message};

use crate::auth::Role;
use crate::store::WorkshopEntry;
use locks::Target;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Longest entity id in a lock target or a vote.
const MAX_ID: usize = 200;

/// Most private cards one person may hold in a round.
const MAX_PRIVATE: usize = 200;

/// Who sends a command or reads a view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Whose votes and private cards these are: unique (the token's user id).
    pub user: String,
    /// What others are shown (the token's display name, or the presence name).
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub title: String,
    pub started_at: i64,
    pub started_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Timer {
    label: String,
    running: bool,
    /// While running: when it reaches zero.
    ends_at: Option<i64>,
    /// While paused: what is left.
    remaining: i64,
    duration: i64,
    started_by: String,
}

impl Timer {
    /// A timer of `seconds` running from `now`.
    fn start(label: String, seconds: i64, now: i64, started_by: String) -> Self {
        Timer {
            label,
            running: true,
            ends_at: Some(now + seconds * 1000),
            remaining: seconds * 1000,
            duration: seconds * 1000,
            started_by,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Follow {
    leader: String,
    client: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lock {
    by: String,
    at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vote {
    pub id: String,
    pub title: String,
    pub cards: Vec<String>,
    pub per_person: u32,
    pub per_card: u32,
    pub opened_by: String,
    pub opened_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Round {
    id: String,
    started_by: String,
    started_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrivateCard {
    pub id: String,
    pub lane: String,
    pub step: String,
    pub text: String,
}

/// A vote as revealed: what the room writes into the document (SCHEMA.md §5.14).
#[derive(Debug, Clone, PartialEq)]
pub struct VoteResult {
    pub vote: Vote,
    pub revealed_by: String,
    pub revealed_at: i64,
    /// Votes per card, every card of the vote included.
    pub totals: BTreeMap<String, u32>,
    /// Votes each person placed, by name.
    pub voters: BTreeMap<String, u32>,
}

/// What a command produced besides its entries.
#[derive(Debug, Clone, PartialEq)]
pub enum Reveal {
    Vote(VoteResult),
    /// Every private card of the round, by person, in the order they were written.
    Round(Vec<(String, PrivateCard)>),
}

/// What a command did: the entries to store and send to the other nodes, and what to write into
/// the document.
#[derive(Debug, Default)]
pub struct Outcome {
    pub entries: Vec<WorkshopEntry>,
    pub reveal: Option<Reveal>,
}

/// One map's workshop state on one node.
pub struct Workshop {
    node: String,
    entries: BTreeMap<String, WorkshopEntry>,
    /// The last stamp seen or given: the next one given is greater, so a node's own change always
    /// wins over what it has already seen.
    last_stamp: i64,
}

impl Workshop {
    pub fn new(node: impl Into<String>, stored: Vec<WorkshopEntry>) -> Self {
        let mut w = Workshop {
            node: node.into(),
            entries: BTreeMap::new(),
            last_stamp: 0,
        };
        for e in stored {
            w.merge(e);
        }
        w
    }

    /// Takes in an entry from the store or another node; returns whether the state changed.
    pub fn merge(&mut self, entry: WorkshopEntry) -> bool {
        self.last_stamp = self.last_stamp.max(entry.stamp);
        match self.entries.get(&entry.key) {
            Some(known) if (known.stamp, &known.node) >= (entry.stamp, &entry.node) => false,
            _ => {
                self.entries.insert(entry.key.clone(), entry);
                true
            }
        }
    }

    fn get<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Option<T> {
        let value = self.entries.get(key)?.value.as_deref()?;
        serde_json::from_str(value).ok()
    }

    /// Live entries whose key starts with `prefix`, with the rest of their key.
    fn with_prefix<'a, T: for<'de> Deserialize<'de>>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, T)> + 'a {
        self.entries
            .range(prefix.to_owned()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .filter_map(move |(k, e)| {
                let value = serde_json::from_str(e.value.as_deref()?).ok()?;
                Some((&k[prefix.len()..], value))
            })
    }

    /// Sets (or with `None` removes) a key, returning the entry that records it.
    fn set(&mut self, now: i64, key: String, value: Option<Value>) -> WorkshopEntry {
        // Milliseconds scaled up, so many changes within one millisecond still order.
        self.last_stamp = (now.saturating_mul(1000)).max(self.last_stamp + 1);
        let entry = WorkshopEntry {
            key,
            stamp: self.last_stamp,
            node: self.node.clone(),
            value: value.map(|v| v.to_string()),
        };
        self.entries.insert(entry.key.clone(), entry.clone());
        entry
    }

    /// What others are shown for `user`.
    fn name_of(&self, user: &str) -> String {
        self.get(&format!("name/{user}"))
            .unwrap_or_else(|| user.to_owned())
    }

    /// The session going on, or the last one (with `ended_at`), for attendance.
    pub fn session(&self) -> Option<Session> {
        self.get("session").or_else(|| self.get("lastSession"))
    }

    /// What is locked now.
    pub fn locks(&self) -> Vec<Target> {
        self.with_prefix::<Lock>("lock/")
            .filter_map(|(target, _)| Target::parse(target))
            .collect()
    }

    /// Carries out `cmd` for `actor` at `now` (ms since the epoch). `lane_step` says whether a
    /// lane and a step exist in the map, for private cards.
    pub fn execute(
        &mut self,
        actor: &Actor,
        cmd: Command,
        now: i64,
        lane_step: impl Fn(&str, &str) -> bool,
    ) -> Result<Outcome, Refused> {
        if actor.role < cmd.role() {
            return Err(Refused::new(
                "forbidden",
                format!(
                    "{} needs the {} role; this connection is a {}",
                    cmd.op(),
                    cmd.role(),
                    actor.role
                ),
            ));
        }
        cmd.check()?;
        let who = actor.name.clone();
        let mut out = Outcome::default();
        // Others are shown names, on every node: the first command of a person records theirs.
        if self.name_of(&actor.user) != actor.name {
            let name = json!(actor.name);
            out.entries
                .push(self.set(now, format!("name/{}", actor.user), Some(name)));
        }
        match cmd {
            Command::SessionStart { title } => {
                let session = Session {
                    title,
                    started_at: now,
                    started_by: who,
                    ended_at: None,
                };
                out.entries
                    .push(self.set(now, "session".into(), Some(json!(session))));
            }
            Command::SessionEnd {} => {
                let Some(mut session) = self.get::<Session>("session") else {
                    return Err(Refused::new(
                        "no_workshop",
                        "no workshop session is going on",
                    ));
                };
                session.ended_at = Some(now);
                out.entries
                    .push(self.set(now, "lastSession".into(), Some(json!(session))));
                out.entries.push(self.set(now, "session".into(), None));
                for key in ["timer", "follow"] {
                    out.entries.push(self.set(now, key.into(), None));
                }
                out.entries.extend(self.close_vote(now));
                out.entries.extend(self.close_round(now));
            }
            Command::TimerStart { seconds, label } => {
                let timer = Timer::start(label, seconds, now, who);
                out.entries
                    .push(self.set(now, "timer".into(), Some(json!(timer))));
            }
            Command::TimerPause {} | Command::TimerResume {} | Command::TimerAdd { .. } => {
                let Some(mut timer) = self.get::<Timer>("timer") else {
                    return Err(Refused::new("no_workshop", "no timer is set"));
                };
                match cmd {
                    Command::TimerPause {} if timer.running => {
                        timer.remaining = (timer.ends_at.unwrap_or(now) - now).max(0);
                        timer.running = false;
                        timer.ends_at = None;
                    }
                    Command::TimerResume {} if !timer.running => {
                        timer.running = true;
                        timer.ends_at = Some(now + timer.remaining);
                    }
                    Command::TimerAdd { seconds } => {
                        let ms = seconds * 1000;
                        timer.duration = (timer.duration + ms).max(0);
                        if timer.running {
                            timer.ends_at = Some((timer.ends_at.unwrap_or(now) + ms).max(now));
                        } else {
                            timer.remaining = (timer.remaining + ms).max(0);
                        }
                    }
                    // Pausing a paused timer or resuming a running one changes nothing.
                    _ => return Ok(out),
                }
                out.entries
                    .push(self.set(now, "timer".into(), Some(json!(timer))));
            }
            Command::TimerStop {} => out.entries.push(self.set(now, "timer".into(), None)),
            Command::FollowStart { client } => {
                let follow = Follow {
                    leader: who,
                    client,
                };
                out.entries
                    .push(self.set(now, "follow".into(), Some(json!(follow))));
            }
            Command::FollowStop {} => out.entries.push(self.set(now, "follow".into(), None)),
            Command::Lock { target } => {
                let lock = Lock { by: who, at: now };
                out.entries
                    .push(self.set(now, format!("lock/{target}"), Some(json!(lock))));
            }
            Command::Unlock { target } => {
                out.entries
                    .push(self.set(now, format!("lock/{target}"), None));
            }
            Command::VoteOpen {
                title,
                mut cards,
                per_person,
                per_card,
            } => {
                if self.get::<Vote>("vote").is_some() {
                    return Err(Refused::new(
                        "busy",
                        "a vote is open: reveal or cancel it first",
                    ));
                }
                let mut seen = std::collections::HashSet::new();
                cards.retain(|c| seen.insert(c.clone()));
                let vote = Vote {
                    id: format!("v{}", self.last_stamp + 1),
                    title,
                    cards,
                    per_person,
                    per_card,
                    opened_by: who,
                    opened_at: now,
                };
                out.entries
                    .push(self.set(now, "vote".into(), Some(json!(vote))));
            }
            Command::VoteCast { card } => {
                let (vote, mut ballot) = self.ballot(&actor.user)?;
                if !vote.cards.contains(&card) {
                    return Err(Refused::new(
                        "not_in_vote",
                        format!("card {card:?} is not part of this vote"),
                    ));
                }
                let placed: u32 = ballot.values().sum();
                if placed >= vote.per_person {
                    return Err(Refused::new(
                        "no_votes_left",
                        format!(
                            "all {} of your votes are placed; take one back first",
                            vote.per_person
                        ),
                    ));
                }
                let on_card = ballot.entry(card).or_insert(0);
                if *on_card >= vote.per_card {
                    return Err(Refused::new(
                        "card_limit",
                        format!("at most {} of your votes may go to one card", vote.per_card),
                    ));
                }
                *on_card += 1;
                out.entries
                    .push(self.set_ballot(now, &vote, &actor.user, &ballot));
            }
            Command::VoteRetract { card } => {
                let (vote, mut ballot) = self.ballot(&actor.user)?;
                match ballot.get_mut(&card) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => {
                        return Err(Refused::new(
                            "no_vote_there",
                            format!("you have no vote on card {card:?}"),
                        ));
                    }
                }
                ballot.retain(|_, n| *n > 0);
                out.entries
                    .push(self.set_ballot(now, &vote, &actor.user, &ballot));
            }
            Command::VoteReveal {} => {
                let Some(vote) = self.get::<Vote>("vote") else {
                    return Err(Refused::new("no_workshop", "no vote is open"));
                };
                let mut totals: BTreeMap<String, u32> =
                    vote.cards.iter().map(|c| (c.clone(), 0)).collect();
                let mut voters = BTreeMap::new();
                for (user, ballot) in self.ballots(&vote.id) {
                    let mut placed = 0;
                    for (card, n) in ballot {
                        if let Some(total) = totals.get_mut(&card) {
                            *total += n;
                            placed += n;
                        }
                    }
                    if placed > 0 {
                        *voters.entry(self.name_of(&user)).or_insert(0) += placed;
                    }
                }
                out.entries.extend(self.close_vote(now));
                out.reveal = Some(Reveal::Vote(VoteResult {
                    vote,
                    revealed_by: who,
                    revealed_at: now,
                    totals,
                    voters,
                }));
            }
            Command::VoteCancel {} => {
                if self.get::<Vote>("vote").is_none() {
                    return Err(Refused::new("no_workshop", "no vote is open"));
                }
                out.entries.extend(self.close_vote(now));
            }
            Command::RoundStart { seconds } => {
                if self.get::<Round>("round").is_some() {
                    return Err(Refused::new(
                        "busy",
                        "a private round is going on: reveal or cancel it first",
                    ));
                }
                let round = Round {
                    id: format!("r{}", self.last_stamp + 1),
                    started_by: who.clone(),
                    started_at: now,
                };
                out.entries
                    .push(self.set(now, "round".into(), Some(json!(round))));
                if let Some(seconds) = seconds {
                    let timer = Timer::start("Private round".into(), seconds, now, who);
                    out.entries
                        .push(self.set(now, "timer".into(), Some(json!(timer))));
                }
            }
            Command::RoundAdd { lane, step, text } => {
                let (round, mut cards) = self.private(&actor.user)?;
                if !lane_step(&lane, &step) {
                    return Err(Refused::new(
                        "no_workshop",
                        format!("the map has no lane {lane:?} with a step {step:?}"),
                    ));
                }
                if cards.len() >= MAX_PRIVATE {
                    return Err(Refused::new(
                        "invalid_command",
                        format!("at most {MAX_PRIVATE} private cards each"),
                    ));
                }
                let id = format!("p{}", self.last_stamp + 1);
                cards.push(PrivateCard {
                    id,
                    lane,
                    step,
                    text,
                });
                out.entries
                    .push(self.set_private(now, &round, &actor.user, &cards));
            }
            Command::RoundEdit { id, text } => {
                let (round, mut cards) = self.private(&actor.user)?;
                let Some(card) = cards.iter_mut().find(|c| c.id == id) else {
                    return Err(Refused::new(
                        "not_yours",
                        format!("you have no private card {id:?}"),
                    ));
                };
                card.text = text;
                out.entries
                    .push(self.set_private(now, &round, &actor.user, &cards));
            }
            Command::RoundRemove { id } => {
                let (round, mut cards) = self.private(&actor.user)?;
                let before = cards.len();
                cards.retain(|c| c.id != id);
                if cards.len() == before {
                    return Err(Refused::new(
                        "not_yours",
                        format!("you have no private card {id:?}"),
                    ));
                }
                out.entries
                    .push(self.set_private(now, &round, &actor.user, &cards));
            }
            Command::RoundReveal {} => {
                let Some(round) = self.get::<Round>("round") else {
                    return Err(Refused::new("no_workshop", "no private round is going on"));
                };
                let cards: Vec<(String, PrivateCard)> = self
                    .with_prefix::<Vec<PrivateCard>>(&format!("private/{}/", round.id))
                    .flat_map(|(user, cards)| cards.into_iter().map(move |c| (user.to_owned(), c)))
                    .collect();
                out.entries.extend(self.close_round(now));
                out.reveal = Some(Reveal::Round(cards));
            }
            Command::RoundCancel {} => {
                if self.get::<Round>("round").is_none() {
                    return Err(Refused::new("no_workshop", "no private round is going on"));
                }
                out.entries.extend(self.close_round(now));
            }
        }
        Ok(out)
    }

    fn set_ballot(
        &mut self,
        now: i64,
        vote: &Vote,
        user: &str,
        ballot: &BTreeMap<String, u32>,
    ) -> WorkshopEntry {
        self.set(
            now,
            format!("ballot/{}/{user}", vote.id),
            Some(json!(ballot)),
        )
    }

    fn set_private(
        &mut self,
        now: i64,
        round: &Round,
        user: &str,
        cards: &[PrivateCard],
    ) -> WorkshopEntry {
        self.set(
            now,
            format!("private/{}/{user}", round.id),
            Some(json!(cards)),
        )
    }

    /// The open vote and `user`'s ballot in it.
    fn ballot(&self, user: &str) -> Result<(Vote, BTreeMap<String, u32>), Refused> {
        let Some(vote) = self.get::<Vote>("vote") else {
            return Err(Refused::new("no_workshop", "no vote is open"));
        };
        let ballot = self
            .get(&format!("ballot/{}/{user}", vote.id))
            .unwrap_or_default();
        Ok((vote, ballot))
    }

    /// Every ballot of vote `id`, by user.
    fn ballots(&self, id: &str) -> Vec<(String, BTreeMap<String, u32>)> {
        self.with_prefix::<BTreeMap<String, u32>>(&format!("ballot/{id}/"))
            .map(|(user, b)| (user.to_owned(), b))
            .collect()
    }

    /// The round going on and `user`'s private cards in it.
    fn private(&self, user: &str) -> Result<(Round, Vec<PrivateCard>), Refused> {
        let Some(round) = self.get::<Round>("round") else {
            return Err(Refused::new("no_workshop", "no private round is going on"));
        };
        let cards = self
            .get(&format!("private/{}/{user}", round.id))
            .unwrap_or_default();
        Ok((round, cards))
    }

    /// Removes the open vote and its ballots.
    fn close_vote(&mut self, now: i64) -> Vec<WorkshopEntry> {
        let Some(vote) = self.get::<Vote>("vote") else {
            return Vec::new();
        };
        let mut keys: Vec<String> = self
            .ballots(&vote.id)
            .into_iter()
            .map(|(user, _)| format!("ballot/{}/{user}", vote.id))
            .collect();
        keys.push("vote".into());
        keys.into_iter().map(|k| self.set(now, k, None)).collect()
    }

    /// Removes the round going on and its private cards.
    fn close_round(&mut self, now: i64) -> Vec<WorkshopEntry> {
        let Some(round) = self.get::<Round>("round") else {
            return Vec::new();
        };
        let prefix = format!("private/{}/", round.id);
        let mut keys: Vec<String> = self
            .with_prefix::<Vec<PrivateCard>>(&prefix)
            .map(|(user, _)| format!("{prefix}{user}"))
            .collect();
        keys.push("round".into());
        keys.into_iter().map(|k| self.set(now, k, None)).collect()
    }
}

#[cfg(test)]
mod tests;
