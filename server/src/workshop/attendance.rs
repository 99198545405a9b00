//! Attendance of a workshop session: who was there, from when to when, for how long, and how many
//! votes they cast, worked out from the map's activity record and its revealed votes.

use super::Session;
use crate::store::Activity;
use serde::Serialize;
use std::collections::BTreeMap;

/// What the room knows for attendance: the session going on (or the last one), and each revealed
/// vote's time and votes per person.
#[derive(Debug, Default)]
pub struct Facts {
    pub session: Option<Session>,
    pub votes: Vec<(i64, BTreeMap<String, u32>)>,
}

/// One person's attendance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    pub user: String,
    /// Milliseconds since the Unix epoch.
    pub first_joined: i64,
    /// When they last left; absent while they are still there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_left: Option<i64>,
    /// Time connected during the session (overlapping connections counted once), in ms.
    pub present_ms: i64,
    /// Connections they made.
    pub sessions: u32,
    /// Votes they placed in the votes revealed during the session.
    pub votes_cast: u32,
}

/// Attendance of `session` from `activity` (any order), as of `now`.
pub fn attendance(
    session: &Session,
    activity: &[Activity],
    votes: &[(i64, BTreeMap<String, u32>)],
    now: i64,
) -> Vec<Attendee> {
    let start = session.started_at;
    let end = session.ended_at.unwrap_or(now);
    // Each connection's span and the person behind it (anonymous connections name themselves in
    // their presence, which may come after they connected).
    #[derive(Default)]
    struct Span {
        from: Option<i64>,
        to: Option<i64>,
        user: Option<String>,
    }
    let mut spans: BTreeMap<&str, Span> = BTreeMap::new();
    for a in activity {
        let span = spans.entry(a.session.as_str()).or_default();
        if a.user.is_some() {
            span.user.clone_from(&a.user);
        }
        match a.kind.as_str() {
            "connected" => span.from = Some(span.from.map_or(a.at, |f| f.min(a.at))),
            "disconnected" => span.to = Some(span.to.map_or(a.at, |t| t.max(a.at))),
            _ => {
                span.from.get_or_insert(a.at);
            }
        }
    }
    let mut people: BTreeMap<String, Vec<(i64, Option<i64>)>> = BTreeMap::new();
    for (conn, span) in spans {
        let from = span.from.unwrap_or(start);
        if from > end || span.to.is_some_and(|t| t < start) {
            continue;
        }
        let user = span.user.unwrap_or_else(|| format!("guest {conn}"));
        people.entry(user).or_default().push((from, span.to));
    }
    let mut cast: BTreeMap<&str, u32> = BTreeMap::new();
    for (at, voters) in votes {
        if (start..=end).contains(at) {
            for (user, n) in voters {
                *cast.entry(user.as_str()).or_default() += n;
            }
        }
    }
    people
        .into_iter()
        .map(|(user, mut spans)| {
            spans.sort();
            let mut present = 0;
            let mut covered = start;
            for (from, to) in &spans {
                let (from, to) = ((*from).max(covered), to.unwrap_or(end).min(end));
                if to > from {
                    present += to - from;
                    covered = to;
                }
            }
            let still_here = spans.iter().any(|(_, to)| to.is_none());
            Attendee {
                votes_cast: cast.get(user.as_str()).copied().unwrap_or(0),
                first_joined: spans[0].0,
                last_left: if still_here {
                    None
                } else {
                    spans.iter().filter_map(|s| s.1).max()
                },
                present_ms: present,
                sessions: spans.len() as u32,
                user,
            }
        })
        .collect()
}

/// The same as CSV, one line per person.
pub fn csv(attendees: &[Attendee]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let iso = |ms: i64| crate::clock::iso_time(ms);
    let header = [
        "user",
        "first_joined",
        "last_left",
        "present_minutes",
        "connections",
        "votes_cast",
    ];
    // Writing to memory cannot fail.
    let _ = w.write_record(header);
    for a in attendees {
        // A user's name is theirs to choose: it goes to a spreadsheet as text, never a formula.
        let _ = w.write_record([
            crate::journey::export::inert(&a.user).into_owned(),
            iso(a.first_joined),
            a.last_left.map(iso).unwrap_or_default(),
            format!("{:.1}", a.present_ms as f64 / 60_000.0),
            a.sessions.to_string(),
            a.votes_cast.to_string(),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).expect("CSV of strings is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(at: i64, kind: &str, session: &str, user: Option<&str>) -> Activity {
        Activity {
            at,
            kind: kind.into(),
            session: session.into(),
            user: user.map(Into::into),
            updates: 0,
            bytes: 0,
        }
    }

    #[test]
    fn time_present_counts_overlapping_connections_once() {
        let session = Session {
            title: "t".into(),
            started_at: 1000,
            started_by: "fay".into(),
            ended_at: Some(10_000),
        };
        let activity = [
            act(500, "connected", "n-1", None),
            act(600, "edited", "n-1", Some("ana")),
            act(4000, "disconnected", "n-1", Some("ana")),
            // A second tab overlapping the first, still open.
            act(3000, "connected", "n-2", Some("ana")),
            act(2000, "connected", "n-3", Some("ben")),
            act(2500, "disconnected", "n-3", Some("ben")),
            // Before the session: not counted.
            act(10, "connected", "n-4", Some("cy")),
            act(20, "disconnected", "n-4", Some("cy")),
        ];
        let votes = [
            (5000, BTreeMap::from([("ana".to_owned(), 3)])),
            (20_000, BTreeMap::from([("ben".to_owned(), 2)])),
        ];
        let list = attendance(&session, &activity, &votes, 99_999);
        let users: Vec<&str> = list.iter().map(|a| a.user.as_str()).collect();
        assert_eq!(users, ["ana", "ben"]);
        assert_eq!(list[0].present_ms, 9000);
        assert_eq!(list[0].last_left, None);
        assert_eq!(list[0].sessions, 2);
        assert_eq!(list[0].votes_cast, 3);
        assert_eq!(list[1].present_ms, 500);
        assert_eq!(list[1].last_left, Some(2500));
        assert_eq!(list[1].votes_cast, 0);
        let csv = csv(&list);
        assert!(csv.starts_with("user,first_joined"), "{csv}");
        assert!(
            csv.contains("\nben,1970-01-01T00:00:02Z,1970-01-01T00:00:02Z,0.0,1,0\n"),
            "{csv}"
        );
    }
}
