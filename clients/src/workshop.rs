//! Workshop mode for a client (PROTOCOL.md §9.2): the commands a facilitator or participant sends,
//! built as JSON, and what the server says back. Connect with `?ext=workshop` to take part.

use serde_json::{Value, json};

/// A lock target: the map's structure, a lane, or a card.
pub fn structure() -> String {
    "structure".into()
}

pub fn lane(id: &str) -> String {
    format!("lanes/{id}")
}

pub fn card(id: &str) -> String {
    format!("cards/{id}")
}

pub fn session_start(title: &str) -> Value {
    json!({ "op": "session.start", "title": title })
}

pub fn session_end() -> Value {
    json!({ "op": "session.end" })
}

pub fn timer_start(seconds: u32, label: &str) -> Value {
    json!({ "op": "timer.start", "seconds": seconds, "label": label })
}

pub fn timer_pause() -> Value {
    json!({ "op": "timer.pause" })
}

pub fn timer_resume() -> Value {
    json!({ "op": "timer.resume" })
}

/// Adds (or, negative, takes away) time.
pub fn timer_add(seconds: i32) -> Value {
    json!({ "op": "timer.add", "seconds": seconds })
}

pub fn timer_stop() -> Value {
    json!({ "op": "timer.stop" })
}

/// Asks everyone to follow the view published in presence by awareness client `client`.
pub fn follow_start(client: u64) -> Value {
    json!({ "op": "follow.start", "client": client })
}

pub fn follow_stop() -> Value {
    json!({ "op": "follow.stop" })
}

pub fn lock(target: &str) -> Value {
    json!({ "op": "lock", "target": target })
}

pub fn unlock(target: &str) -> Value {
    json!({ "op": "unlock", "target": target })
}

pub fn vote_open(title: &str, cards: &[&str], per_person: u32, per_card: u32) -> Value {
    json!({ "op": "vote.open", "title": title, "cards": cards, "perPerson": per_person, "perCard": per_card })
}

pub fn vote_cast(card: &str) -> Value {
    json!({ "op": "vote.cast", "card": card })
}

pub fn vote_retract(card: &str) -> Value {
    json!({ "op": "vote.retract", "card": card })
}

pub fn vote_reveal() -> Value {
    json!({ "op": "vote.reveal" })
}

pub fn vote_cancel() -> Value {
    json!({ "op": "vote.cancel" })
}

/// Starts a private round, optionally with a timer of `seconds`.
pub fn round_start(seconds: Option<u32>) -> Value {
    match seconds {
        Some(s) => json!({ "op": "round.start", "seconds": s }),
        None => json!({ "op": "round.start" }),
    }
}

pub fn round_add(lane: &str, step: &str, text: &str) -> Value {
    json!({ "op": "round.add", "lane": lane, "step": step, "text": text })
}

pub fn round_edit(id: &str, text: &str) -> Value {
    json!({ "op": "round.edit", "id": id, "text": text })
}

pub fn round_remove(id: &str) -> Value {
    json!({ "op": "round.remove", "id": id })
}

pub fn round_reveal() -> Value {
    json!({ "op": "round.reveal" })
}

pub fn round_cancel() -> Value {
    json!({ "op": "round.cancel" })
}
