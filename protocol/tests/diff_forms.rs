//! The diff's two outward forms, for the known edits: the Markdown review summary and the JSON
//! form (with its JSON Schema).

mod common;

use common::{Edited, known_edits};
use serde_json::json;
use waymark_protocol::schema::{MapDiff, diff};

#[test]
fn the_markdown_summary_reads_as_a_review() {
    let Edited { old, new, .. } = known_edits();
    let md = diff(&old, &new).to_markdown("Monday's version", "today");
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines[0], "# Changes from Monday's version to today");
    assert!(
        lines.contains(&"2 added, 11 removed, 2 moved, 3 changed."),
        "{md}"
    );
    for expected in [
        "## Personas",
        "- Removed persona \"Tom, bargain hunter\"",
        "## Stages",
        "- Reordered stage \"Purchase\": position 3 of 5 → 1 of 5",
        "## Steps",
        "- Changed step \"Pays\": name \"Pays\" → \"Pays now\"",
        "## Cards",
        "- Added card \"Payment failed\" (Pain points) in Purchase › Pays now",
        "- Moved card \"Opens three models in tabs\" from Consideration › Compares models to \
         Consideration › Checks the size guide (position 2 of 2)",
        "- Changed card \"Return label must be printed\": severity 3 → 4",
        "## Measurements",
        "- Added measurement \"Checkout conversion, 2026-11-01\": 63.0",
        "## Emotion scores",
        "- Removed emotion score \"Tom, bargain hunter at Pays\": -1",
        "- Changed emotion score \"Mara, busy parent at Sees an ad\": score 1 → -1",
    ] {
        assert!(lines.contains(&expected), "missing {expected:?} in\n{md}");
    }
    // Sections come in model order, and only for kinds with changes.
    let at = |h: &str| md.find(h).unwrap();
    assert!(at("## Personas") < at("## Stages") && at("## Cards") < at("## Emotion scores"));
    assert!(!md.contains("## Lanes") && !md.contains("## Map"));
    assert_eq!(md.lines().filter(|l| l.starts_with("- ")).count(), 18);
}

#[test]
fn the_json_form_round_trips_and_is_camel_case() {
    let Edited { old, new, .. } = known_edits();
    let d = diff(&old, &new);
    let text = serde_json::to_string_pretty(&d).unwrap();
    let back: MapDiff = serde_json::from_str(&text).unwrap();
    assert_eq!(back, d);
    // Deterministic: the same inputs give the same bytes.
    assert_eq!(
        serde_json::to_string_pretty(&diff(&old, &new)).unwrap(),
        text
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["summary"]["added"], 2);
    assert_eq!(
        v["summary"]["byKind"][0],
        json!({"kind": "persona", "added": 0, "removed": 1, "moved": 0, "changed": 0})
    );
    assert_eq!(v["moved"][1]["kind"], "card");
    assert_eq!(v["moved"][1]["parentChanged"], true);
    assert_eq!(v["moved"][1]["orderChanged"], true);
    assert_eq!(
        v["moved"][1]["to"]["position"],
        json!({"index": 2, "of": 2})
    );
    assert_eq!(v["moved"][1]["to"]["lane"]["laneKind"], "actions");
    assert_eq!(v["moved"][1]["to"]["step"]["stageName"], "Consideration");
    assert_eq!(
        v["changed"][1]["fields"][0],
        json!({"field": "severity", "old": 3, "new": 4})
    );
    assert_eq!(v["removed"][0]["entity"]["name"], "Tom, bargain hunter");
    assert!(v["added"][0]["entity"]["laneId"].is_string());
    // The JSON Schema of the diff describes it.
    let schema = serde_json::to_value(schemars::schema_for!(MapDiff)).unwrap();
    for key in ["summary", "added", "removed", "moved", "changed"] {
        assert!(schema["properties"][key].is_object(), "{key}");
    }
}
