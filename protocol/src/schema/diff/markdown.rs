//! The text of a diff: labels on one line and cut to length (used while diffing), and the
//! Markdown review summary ([`MapDiff::to_markdown`]), rendered from the diff alone.

use super::{Changed, EntityKind, MapDiff, Moved, PlaceRef, Placement, Position, Snapshot};
use serde_json::Value;
use std::fmt::Write as _;

/// Labels longer than this many characters are cut, with an ellipsis.
pub(super) const LABEL_CHARS: usize = 60;
/// Field values in the Markdown summary are cut after this many characters.
const VALUE_CHARS: usize = 80;

impl MapDiff {
    /// A review summary: a heading, a summary line, then one section per kind with one line per
    /// record (added, removed, moved, changed, in that order). User text is put on one line and
    /// Markdown's inline markup characters in it are escaped.
    pub fn to_markdown(&self, old_label: &str, new_label: &str) -> String {
        let mut out = format!("# Changes from {} to {}\n\n", md(old_label), md(new_label));
        if self.is_empty() {
            out.push_str("No changes.\n");
            return out;
        }
        let s = &self.summary;
        let _ = writeln!(
            out,
            "{} added, {} removed, {} moved, {} changed.",
            s.added, s.removed, s.moved, s.changed
        );
        for kind in EntityKind::ALL {
            let mut lines = Vec::new();
            for r in self.added.iter().filter(|r| r.kind == kind) {
                lines.push(snapshot_line("Added", r));
            }
            for r in self.removed.iter().filter(|r| r.kind == kind) {
                lines.push(snapshot_line("Removed", r));
            }
            for r in self.moved.iter().filter(|r| r.kind == kind) {
                lines.push(moved_line(r));
            }
            for r in self.changed.iter().filter(|r| r.kind == kind) {
                lines.push(changed_line(r));
            }
            if !lines.is_empty() {
                let _ = writeln!(out, "\n## {}\n", kind.heading());
                for line in lines {
                    let _ = writeln!(out, "{line}");
                }
            }
        }
        out
    }
}

/// Whitespace runs (newlines included) as single spaces, none at the ends.
pub(super) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_one_line(&mut out, s, false);
    out
}

/// Appends `s` on one line, and with `escape` Markdown's inline markup characters escaped. One
/// pass, no intermediate strings: labels and names go through here for every record.
fn push_one_line(out: &mut String, s: &str, escape: bool) {
    let special =
        |c: char| escape && matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|');
    // Most names and texts are already plain single-line ASCII: copied whole.
    let mut previous = b' ';
    let plain = s.bytes().all(|b| {
        let ok = (b.is_ascii_graphic() && !special(b as char)) || (b == b' ' && previous != b' ');
        previous = b;
        ok
    }) && previous != b' ';
    if plain {
        out.push_str(s);
        return;
    }
    let mut space = false;
    for c in s.trim().chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        if special(c) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// At most `max` characters; a cut text ends in an ellipsis, after a whole word when one ends in
/// the second half of what is kept.
pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let keep = max.saturating_sub(1);
    // There are more than `max` characters, so one follows the kept ones.
    let (cut, next) = s.char_indices().nth(keep).expect("longer than max");
    let mut out = &s[..cut];
    if !next.is_whitespace()
        && let Some(space) = out.rfind(char::is_whitespace)
        && out[..space].chars().count() >= keep / 2
    {
        out = &out[..space];
    }
    let out = out.trim_end_matches(|c: char| c.is_whitespace() || ",;:".contains(c));
    format!("{out}…")
}

/// A label from a name or text; the id when that is empty, so every record names something.
pub(super) fn label(text: &str, id: &str) -> String {
    let text = one_line(text);
    if text.is_empty() {
        id.to_owned()
    } else {
        truncate(&text, LABEL_CHARS)
    }
}

/// User text for Markdown: one line, with inline markup characters escaped so that a card text
/// cannot turn into emphasis, a link, code or HTML.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push_one_line(&mut out, s, true);
    out
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", md(s))
}

/// A referenced entity's name, or a note that it does not exist.
fn ref_name(r: &PlaceRef, noun: &str) -> String {
    match &r.name {
        Some(n) if !n.is_empty() => md(n),
        Some(_) => format!("unnamed {noun}"),
        None => format!("missing {noun} {}", md(&r.id)),
    }
}

/// "Stage › Step".
fn step_text(r: &PlaceRef) -> String {
    match &r.stage_name {
        Some(stage) if r.name.is_some() => format!("{} › {}", md(stage), ref_name(r, "step")),
        _ => ref_name(r, "step"),
    }
}

/// The columns a card covers: "Stage › Step", or "Stage › Step – Stage › End step".
fn cell_text(p: &Placement) -> String {
    let first = p.step.as_ref().map_or_else(|| "no step".into(), step_text);
    match &p.end_step {
        Some(end) => format!("{first} – {}", step_text(end)),
        None => first,
    }
}

/// Where an entity of `kind` is, for moves: its parent, or for a card its cell (with the lane when
/// `with_lane`).
fn place_text(kind: EntityKind, p: &Placement, with_lane: bool) -> String {
    match kind {
        EntityKind::Step => p
            .stage
            .as_ref()
            .map_or_else(|| "no stage".into(), |s| ref_name(s, "stage")),
        EntityKind::Card if with_lane => {
            let lane = p
                .lane
                .as_ref()
                .map_or_else(|| "no lane".into(), |l| ref_name(l, "lane"));
            format!("{lane} at {}", cell_text(p))
        }
        _ => cell_text(p),
    }
}

fn position_text(p: Option<Position>) -> String {
    p.map_or_else(|| "?".into(), |p| format!("{} of {}", p.index, p.of))
}

/// A JSON value for a sentence: strings quoted, absence as "(none)", long values cut.
fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) => quoted(&truncate(&one_line(s), VALUE_CHARS)),
        Value::Number(_) | Value::Bool(_) => v.to_string(),
        _ => md(&truncate(&v.to_string(), VALUE_CHARS)),
    }
}

fn snapshot_line(verb: &str, r: &Snapshot) -> String {
    let mut line = format!("- {verb} {} {}", r.kind.noun(), quoted(&r.label));
    let field = |name: &str| r.entity.get(name).filter(|v| !v.is_null());
    match (r.kind, &r.placement) {
        (EntityKind::Step, Some(p)) => {
            let _ = write!(line, " in {}", place_text(r.kind, p, false));
        }
        (EntityKind::Card, Some(p)) => {
            if let Some(lane) = &p.lane {
                let _ = write!(line, " ({})", ref_name(lane, "lane"));
            }
            let _ = write!(line, " in {}", cell_text(p));
        }
        (EntityKind::Touchpoint | EntityKind::Metric, Some(p)) if p.step.is_some() => {
            let _ = write!(line, " at {}", cell_text(p));
        }
        (EntityKind::Lane | EntityKind::Link, _) => {
            if let Some(Value::String(kind)) = field("kind") {
                let _ = write!(line, " ({})", md(kind));
            }
        }
        (EntityKind::Measurement, _) => {
            if let Some(v) = field("value") {
                let _ = write!(line, ": {}", value_text(v));
            }
        }
        (EntityKind::Emotion, _) => match field("score").and_then(Value::as_i64) {
            Some(0) => line.push_str(": 0"),
            Some(score) => {
                let _ = write!(line, ": {score:+}");
            }
            None => {}
        },
        _ => {}
    }
    line
}

fn moved_line(r: &Moved) -> String {
    let noun = r.kind.noun();
    let label = quoted(&r.label);
    if r.parent_changed {
        let lane_changed = r.from.lane.as_ref().map(|l| &l.id) != r.to.lane.as_ref().map(|l| &l.id);
        let mut line = format!(
            "- Moved {noun} {label} from {} to {}",
            place_text(r.kind, &r.from, lane_changed),
            place_text(r.kind, &r.to, lane_changed),
        );
        match r.kind {
            // Steps and cards are ranked within their parent: say where in the new one.
            EntityKind::Step | EntityKind::Card => {
                let _ = write!(line, " (position {})", position_text(r.to.position));
            }
            // Touchpoints and metrics are ranked as one list, whatever their step.
            _ if r.order_changed => {
                let _ = write!(
                    line,
                    ", and reordered: position {} → {}",
                    position_text(r.from.position),
                    position_text(r.to.position)
                );
            }
            _ => {}
        }
        line
    } else {
        // Only the rank differs: the same siblings, another order.
        let within = match r.kind {
            EntityKind::Step | EntityKind::Card => {
                format!(" in {}", place_text(r.kind, &r.to, true))
            }
            _ => String::new(),
        };
        format!(
            "- Reordered {noun} {label}{within}: position {} → {}",
            position_text(r.from.position),
            position_text(r.to.position)
        )
    }
}

fn changed_line(r: &Changed) -> String {
    let fields: Vec<String> = r
        .fields
        .iter()
        .map(|f| {
            format!(
                "{} {} → {}",
                md(&f.field),
                value_text(&f.old),
                value_text(&f.new)
            )
        })
        .collect();
    format!(
        "- Changed {} {}: {}",
        r.kind.noun(),
        quoted(&r.label),
        fields.join("; ")
    )
}
