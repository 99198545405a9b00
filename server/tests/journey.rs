//! Exports and insights of journey maps, checked on every template.

use waymark_protocol::schema::templates::{TEMPLATES, find};
use waymark_protocol::schema::{At, Collection, Editor, JourneyMap, read};
use waymark_server::journey::{export, insights};
use yrs::{Any, Doc, Transact};

fn template(name: &str) -> (Doc, JourneyMap) {
    let doc = Doc::new();
    find(name)
        .unwrap()
        .apply(&mut doc.transact_mut(), 1_700_000_000_000)
        .unwrap();
    let map = read(&doc.transact()).map;
    (doc, map)
}

#[test]
fn csv_has_one_row_per_card_and_survives_awkward_text() {
    for t in TEMPLATES {
        let (doc, _) = template(t.name);
        // Text a naive CSV writer would break.
        let map = {
            let mut txn = doc.transact_mut();
            let m = read(&txn).map;
            let mut ed = Editor::new(&mut txn);
            ed.add_card(
                &m.lanes[0].id,
                &m.steps[0].id,
                "He said \"no\", then\nleft; 50% gone",
                At::Last,
            )
            .unwrap();
            drop(ed);
            read(&txn).map
        };
        let text = export::csv(&map).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            export::CSV_HEADER
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), map.cards.len(), "{}", t.name);
        for (row, card) in rows.iter().zip(&map.cards) {
            assert_eq!(&row[0], card.id.as_str());
            assert_eq!(&row[7], card.text.as_str());
            assert!(
                !row[1].is_empty() && !row[2].is_empty() && !row[4].is_empty(),
                "{row:?}"
            );
        }
        assert!(
            rows.iter()
                .any(|r| &r[7] == "He said \"no\", then\nleft; 50% gone")
        );
        let pain = rows.iter().find(|r| &r[5] == "pain-points").unwrap();
        assert!(
            !pain[8].is_empty() && !pain[10].is_empty(),
            "evidence and severity: {pain:?}"
        );
    }
}

#[test]
fn mermaid_is_a_valid_journey_diagram() {
    for t in TEMPLATES {
        let (_, map) = template(t.name);
        let text = export::mermaid(&map);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("journey"));
        let mut sections = 0;
        let mut tasks = Vec::new();
        for line in lines {
            if let Some(title) = line.strip_prefix("    title ") {
                assert_eq!(
                    title,
                    map.meta
                        .title
                        .replace(':', " ")
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                );
            } else if line.starts_with("    section ") {
                sections += 1;
            } else {
                // "      <task>: <score>[: <actor>, ...]"
                let task = line
                    .strip_prefix("      ")
                    .unwrap_or_else(|| panic!("bad line {line:?}"));
                let parts: Vec<&str> = task.split(':').map(str::trim).collect();
                assert!(parts.len() == 2 || parts.len() == 3, "{line:?}");
                assert!(!parts[0].is_empty());
                let score: i32 = parts[1].parse().unwrap();
                assert!((1..=5).contains(&score), "{line:?}");
                tasks.push(parts[0].to_owned());
            }
        }
        assert_eq!(sections, map.stages.len(), "{}", t.name);
        for step in &map.steps {
            assert!(
                tasks.contains(&step.name),
                "{}: {} missing",
                t.name,
                step.name
            );
        }
    }
}

#[test]
fn mermaid_names_cannot_break_the_syntax() {
    let (doc, _) = template("saas-onboarding");
    {
        let mut txn = doc.transact_mut();
        let m = read(&txn).map;
        let mut ed = Editor::new(&mut txn);
        ed.rename(Collection::Steps, &m.steps[0].id, "Step: one; #two,\nthree")
            .unwrap();
    }
    let text = export::mermaid(&read(&doc.transact()).map);
    assert!(text.contains("      Step one two three: "), "{text}");
}

#[test]
fn markdown_lays_out_every_template() {
    for t in TEMPLATES {
        let (_, map) = template(t.name);
        let md = export::markdown(&map);
        assert!(
            md.starts_with(&format!("# {}\n", map.meta.title)),
            "{}",
            t.name
        );
        for s in &map.stages {
            assert!(
                md.contains(&format!("\n## {}\n", s.name)),
                "{}: {}",
                t.name,
                s.name
            );
        }
        for st in &map.steps {
            assert!(
                md.contains(&format!("\n### {}\n", st.name)),
                "{}: {}",
                t.name,
                st.name
            );
        }
        for c in &map.cards {
            assert!(
                md.contains(c.text.split_whitespace().next().unwrap()),
                "{}: {}",
                t.name,
                c.text
            );
        }
        assert!(
            md.contains("## Emotion curve") && md.contains("| Step |"),
            "{}",
            t.name
        );
        assert!(md.contains("## Metrics"), "{}", t.name);
        assert!(md.contains("severity "), "{}", t.name);
    }
}

#[test]
fn insights_show_what_to_fix_first() {
    let (doc, map) = template("ecommerce-purchase");
    let i = insights::insights(&map);
    // Worst pain first: severity 5, at the step where the customer feels worst.
    assert_eq!(
        i.pain_points[0].text,
        "No PayPal or Apple Pay: 18% abandon at payment"
    );
    assert_eq!(i.pain_points[0].severity, Some(5));
    assert_eq!(i.pain_points[0].emotion, Some(-2));
    let sev: Vec<u8> = i.pain_points.iter().map(|p| p.severity.unwrap()).collect();
    assert!(sev.windows(2).all(|w| w[0] >= w[1]), "{sev:?}");
    // Mara's lowest point is paying.
    let mara = i
        .emotion_lows
        .iter()
        .find(|e| e.persona.starts_with("Mara"))
        .unwrap();
    assert_eq!((mara.score, mara.steps[0].name.as_str()), (-2, "Pays"));
    // Every pain point in the template has an opportunity.
    assert!(
        i.unaddressed_pain_points.is_empty(),
        "{:?}",
        i.unaddressed_pain_points
    );
    // Conversion (61.5 < 65) and abandonment (27 > 20, lower is better) miss; CSAT (88 ≥ 85) does not.
    let off: Vec<&str> = i
        .metrics_off_target
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(off, vec!["Checkout conversion", "Cart abandonment"]);
    // Steps whose cards are all hypotheses.
    assert!(i.unevidenced_steps.iter().any(|s| s.name == "Sees an ad"));
    assert!(!i.unevidenced_steps.iter().any(|s| s.name == "Pays"));
    // Touchpoints: no card refers to a typed one, so none is evidenced; the touchpoint lane's
    // cards are hypotheses too, and are listed as the cards they are.
    let lane_cards = map
        .cards
        .iter()
        .filter(|c| {
            map.lanes
                .iter()
                .any(|l| l.id == c.lane_id && l.kind == "touchpoints")
        })
        .count();
    assert!(lane_cards > 0);
    assert_eq!(
        i.unevidenced_touchpoints.len(),
        map.touchpoints.len() + lane_cards
    );
    assert_eq!(
        i.checked.touchpoints as usize,
        map.touchpoints.len() + lane_cards
    );
    assert!(
        i.unevidenced_touchpoints
            .iter()
            .all(|t| t.collection == "touchpoints" || t.collection == "cards")
    );
    // Coverage: a row per channel, a column per stage; the checkout touchpoint is on mobile web.
    let c = &i.channel_coverage;
    assert_eq!(
        (c.counts.len(), c.counts[0].len()),
        (map.channels.len(), map.stages.len())
    );
    let web = c
        .channels
        .iter()
        .position(|x| x.name == "Mobile web")
        .unwrap();
    let purchase = c.stages.iter().position(|x| x.name == "Purchase").unwrap();
    assert_eq!(c.counts[web][purchase], 1);

    // A new pain point without any opportunity is flagged; once evidenced, its step is too.
    {
        let mut txn = doc.transact_mut();
        let m = read(&txn).map;
        let pains = m
            .lanes
            .iter()
            .find(|l| l.kind == "pain-points")
            .unwrap()
            .id
            .clone();
        let step = m
            .steps
            .iter()
            .find(|s| s.name == "Sees an ad")
            .unwrap()
            .id
            .clone();
        let mut ed = Editor::new(&mut txn);
        let card = ed
            .add_card(&pains, &step, "Ad promises free shipping", At::Last)
            .unwrap();
        ed.set_field(
            Collection::Cards,
            &card,
            "evidence",
            Some(Any::from("reported")),
        )
        .unwrap();
    }
    let i = insights::insights(&read(&doc.transact()).map);
    assert_eq!(i.unaddressed_pain_points.len(), 1);
    assert_eq!(
        i.unaddressed_pain_points[0].name,
        "Ad promises free shipping"
    );
    assert!(!i.unevidenced_steps.iter().any(|s| s.name == "Sees an ad"));
}

/// A map that contradicts each check in turn: what the board shows is what the insights count.
#[test]
fn insights_count_what_the_board_shows() {
    let doc = Doc::new();
    // An empty map: every check says what it looked at, which is nothing.
    let empty = insights::insights(&read(&doc.transact()).map);
    assert_eq!(empty.checked, insights::Checked::default());
    let (touch, metric_card, pain, action) = {
        let mut txn = doc.transact_mut();
        let mut ed = Editor::new(&mut txn);
        let stage = ed.add_stage("Buy", At::Last).unwrap();
        let step = ed.add_step(&stage, "Pay", At::Last).unwrap();
        let tl = ed.add_lane("touchpoints", "Touchpoints", At::Last).unwrap();
        let ml = ed.add_lane("metrics", "Metrics", At::Last).unwrap();
        let pl = ed.add_lane("pain-points", "Pains", At::Last).unwrap();
        let al = ed.add_lane("actions", "Actions", At::Last).unwrap();
        let touch = ed.add_card(&tl, &step, "Payment page", At::Last).unwrap();
        let metric_card = ed
            .add_card(&ml, &step, "Conversion 71% (target 95%)", At::Last)
            .unwrap();
        let pain = ed.add_card(&pl, &step, "Card declined", At::Last).unwrap();
        let action = ed
            .add_card(&al, &step, "Retry with 3-D Secure", At::Last)
            .unwrap();
        let metric = ed
            .add_metric("Conversion", "conversion", Some(95.0), "higher-is-better")
            .unwrap();
        ed.record_measurement(&metric, "2026-11-01", 71.0).unwrap();
        (touch, metric_card, pain, action)
    };
    let i = insights::insights(&read(&doc.transact()).map);
    // A touchpoint written as a lane card, a hypothesis: it has no evidence.
    assert_eq!(i.checked.touchpoints, 1);
    assert_eq!(i.unevidenced_touchpoints.len(), 1);
    assert_eq!(
        (
            i.unevidenced_touchpoints[0].collection.as_str(),
            i.unevidenced_touchpoints[0].id.as_str()
        ),
        ("cards", touch.as_str())
    );
    // 71 against a target of 95 misses it; the metric card's figures cannot be checked, and say so.
    assert_eq!(i.metrics_off_target.len(), 1);
    assert_eq!(
        (
            i.metrics_off_target[0].value,
            i.metrics_off_target[0].target
        ),
        (71.0, 95.0)
    );
    assert_eq!(i.checked.measured_metrics, 1);
    assert_eq!(i.untracked_metric_cards.len(), 1);
    assert_eq!(i.untracked_metric_cards[0].id, metric_card);
    // A pain point with nothing linked is unaddressed; an action linked to it addresses it.
    assert_eq!(i.checked.pain_points, 1);
    assert_eq!(i.unaddressed_pain_points[0].id, pain);
    {
        let mut txn = doc.transact_mut();
        let mut ed = Editor::new(&mut txn);
        ed.link(&action, &pain, "addresses").unwrap();
        ed.set_field(
            Collection::Cards,
            &touch,
            "evidence",
            Some(Any::from("observed")),
        )
        .unwrap();
    }
    let i = insights::insights(&read(&doc.transact()).map);
    assert!(
        i.unaddressed_pain_points.is_empty(),
        "{:?}",
        i.unaddressed_pain_points
    );
    assert!(
        i.unevidenced_touchpoints.is_empty(),
        "{:?}",
        i.unevidenced_touchpoints
    );
}
