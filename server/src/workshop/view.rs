//! What each reader is shown of the workshop: the part every reader of a kind (facilitator or
//! participant) sees alike, built once per change, and each reader's own votes and private cards.

use super::{Actor, Follow, Lock, PrivateCard, Refused, Round, Session, Timer, Vote, Workshop};
use serde_json::{Value, json};
use std::collections::BTreeMap;

impl Workshop {
    /// The part of the state every connection of a role sees alike (`facilitator`: with the
    /// counts only facilitators get), as JSON.
    pub fn shared_view(&self, facilitator: bool, now: i64) -> Value {
        let timer = self.get::<Timer>("timer").map(|t| {
            let remaining = match t.ends_at {
                Some(end) if t.running => (end - now).max(0),
                _ => t.remaining,
            };
            json!({
                "label": t.label, "running": t.running, "endsAt": t.ends_at,
                "remaining": remaining, "duration": t.duration, "startedBy": t.started_by,
            })
        });
        let locks: Vec<Value> = self
            .with_prefix::<Lock>("lock/")
            .map(|(target, l)| json!({ "target": target, "by": l.by, "at": l.at }))
            .collect();
        let vote = self.get::<Vote>("vote").map(|v| {
            let mut out = json!(v);
            if facilitator {
                let mut cast: BTreeMap<String, u32> = BTreeMap::new();
                for (user, ballot) in self.ballots(&v.id) {
                    let n: u32 = ballot.values().sum();
                    if n > 0 {
                        *cast.entry(self.name_of(&user)).or_insert(0) += n;
                    }
                }
                out["voters"] = json!(cast.len());
                out["votesCast"] = json!(cast);
            }
            out
        });
        let round = self.get::<Round>("round").map(|r| {
            let mut out = json!(r);
            if facilitator {
                let prefix = format!("private/{}/", r.id);
                let mut counts: BTreeMap<String, usize> = BTreeMap::new();
                for (user, cards) in self.with_prefix::<Vec<PrivateCard>>(&prefix) {
                    if !cards.is_empty() {
                        *counts.entry(self.name_of(user)).or_insert(0) += cards.len();
                    }
                }
                out["counts"] = json!(counts);
            }
            out
        });
        json!({
            "session": self.get::<Session>("session"),
            "timer": timer,
            "follow": self.get::<Follow>("follow"),
            "locks": locks,
            "vote": vote,
            "round": round,
        })
    }

    /// What only `actor` sees: its own votes and private cards.
    pub fn personal_view(&self, actor: &Actor) -> Value {
        let (votes, left) = match self.ballot(&actor.user) {
            Ok((vote, ballot)) => {
                let placed: u32 = ballot.values().sum();
                (json!(ballot), json!(vote.per_person.saturating_sub(placed)))
            }
            Err(_) => (json!({}), json!(0)),
        };
        let cards = self
            .private(&actor.user)
            .map(|(_, cards)| json!(cards))
            .unwrap_or_else(|_| json!([]));
        json!({
            "user": actor.user,
            "name": actor.name,
            "role": actor.role,
            "votes": votes,
            "votesLeft": left,
            "cards": cards,
        })
    }
}

/// The state message for one connection: the shared part (encoded once per role for everyone)
/// and its own part.
pub fn state_message(shared: &str, personal: &Value, now: i64) -> String {
    format!(r#"{{"type":"state","now":{now},"workshop":{shared},"you":{personal}}}"#)
}

/// A refused command's answer, for its sender only.
pub fn error_message(op: &str, refused: &Refused) -> String {
    json!({ "type": "error", "op": op, "code": refused.code, "message": refused.message })
        .to_string()
}
