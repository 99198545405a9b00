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
    // Touchpoints: no card refers to one, so none is evidenced.
    assert_eq!(i.unevidenced_touchpoints.len(), map.touchpoints.len());
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
