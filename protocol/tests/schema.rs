//! The journey-map schema: typed edits, reading back, concurrent edits and damaged documents.

use waymark_protocol::schema::{At, Collection, EditError, Editor, read};
use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, Map, MapPrelim, Options, ReadTxn, StateVector, Transact, Update, WriteTxn};

fn doc(client: u64) -> Doc {
    Doc::with_options(Options {
        client_id: yrs::ClientID::new(client),
        ..Options::default()
    })
}

/// Sends everything `from` has that `to` lacks.
fn sync(from: &Doc, to: &Doc) {
    let sv = to.transact().state_vector();
    let update = from.transact().encode_state_as_update_v1(&sv);
    to.transact_mut()
        .apply_update(Update::decode_v1(&update).unwrap())
        .unwrap();
}

struct Ids {
    stages: Vec<String>,
    steps: Vec<String>,
    lanes: Vec<String>,
    cards: Vec<String>,
    persona: String,
}

fn sample(d: &Doc) -> Ids {
    let mut txn = d.transact_mut();
    let mut ed = Editor::new(&mut txn);
    ed.init("Checkout", "journey-map", 1_700_000_000_000)
        .unwrap();
    let awareness = ed.add_stage("Awareness", At::Last).unwrap();
    let purchase = ed.add_stage("Purchase", At::Last).unwrap();
    let discover = ed.add_stage("Discover", At::Before(&purchase)).unwrap();
    let s1 = ed.add_step(&awareness, "Sees an ad", At::Last).unwrap();
    let s2 = ed.add_step(&purchase, "Pays", At::Last).unwrap();
    let s0 = ed.add_step(&purchase, "Fills the cart", At::First).unwrap();
    let actions = ed
        .add_lane("actions", "Customer actions", At::Last)
        .unwrap();
    let pains = ed.add_lane("pain-points", "Pain points", At::Last).unwrap();
    let ideas = ed
        .add_lane("opportunities", "Opportunities", At::Last)
        .unwrap();
    let pain = ed.add_card(&pains, &s2, "No PayPal", At::Last).unwrap();
    let idea = ed.add_card(&ideas, &s2, "Offer PayPal", At::Last).unwrap();
    let act = ed
        .add_card(&actions, &s2, "Enters card details", At::Last)
        .unwrap();
    ed.set_field(Collection::Cards, &pain, "severity", Some(Any::from(4i64)))
        .unwrap();
    ed.set_field(
        Collection::Cards,
        &pain,
        "evidence",
        Some(Any::from("observed")),
    )
    .unwrap();
    ed.link(&idea, &pain, "addresses").unwrap();
    let persona = ed.add_persona("Busy parent", At::Last).unwrap();
    ed.set_emotion(Some(&persona), &s2, -2).unwrap();
    ed.set_emotion(Some(&persona), &s1, 1).unwrap();
    let metric = ed
        .add_metric("Checkout CSAT", "csat", Some(80.0), "higher-is-better")
        .unwrap();
    ed.record_measurement(&metric, "2026-11-01", 71.5).unwrap();
    Ids {
        stages: vec![awareness, discover, purchase],
        steps: vec![s1, s0, s2],
        lanes: vec![actions, pains, ideas],
        cards: vec![pain, idea, act],
        persona,
    }
}

#[test]
fn a_map_built_with_typed_edits_reads_back_in_order_without_warnings() {
    let d = doc(1);
    let ids = sample(&d);
    let r = read(&d.transact());
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let m = r.map;
    assert_eq!(m.meta.title, "Checkout");
    assert_eq!(m.meta.kind, "journey-map");
    let names = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        m.stages.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec!["Awareness", "Discover", "Purchase"]
    );
    assert_eq!(
        m.stages.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        ids.stages
    );
    // Steps in column order: by stage, then rank.
    assert_eq!(
        m.steps.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        names(vec!["Sees an ad", "Fills the cart", "Pays"])
    );
    assert_eq!(
        m.steps.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        ids.steps
    );
    assert_eq!(
        m.lanes.iter().map(|l| l.id.clone()).collect::<Vec<_>>(),
        ids.lanes
    );
    let pain = m.cards.iter().find(|c| c.id == ids.cards[0]).unwrap();
    assert_eq!(pain.text, "No PayPal");
    assert_eq!(pain.severity, Some(4));
    assert_eq!(pain.evidence.as_deref(), Some("observed"));
    assert_eq!(m.links.len(), 1);
    assert_eq!(
        (m.links[0].from.as_str(), m.links[0].kind.as_str()),
        (ids.cards[1].as_str(), "addresses")
    );
    assert_eq!(m.emotions.len(), 2);
    assert_eq!(
        m.emotions[0].step_id, ids.steps[0],
        "emotions in column order"
    );
    assert_eq!(m.emotions[1].score, -2);
    assert_eq!(
        m.emotions[1].persona_id.as_deref(),
        Some(ids.persona.as_str())
    );
    assert_eq!(m.measurements[0].value, 71.5);
    // The JSON form round-trips.
    let json = serde_json::to_string(&m).unwrap();
    assert!(json.contains("\"stageId\"") && json.contains("\"schemaVersion\":1"));
    let back: waymark_protocol::schema::JourneyMap = serde_json::from_str(&json).unwrap();
    assert_eq!(back, m);
}

#[test]
fn moves_set_placement_and_deletes_cascade() {
    let d = doc(2);
    let ids = sample(&d);
    {
        let mut txn = d.transact_mut();
        let mut ed = Editor::new(&mut txn);
        // The card "Enters card details" moves to the pain-point lane at "Fills the cart".
        ed.move_card(&ids.cards[2], &ids.lanes[1], &ids.steps[1], At::First)
            .unwrap();
        ed.reorder(Collection::Stages, &ids.stages[2], At::First)
            .unwrap();
        ed.set_card_text(&ids.cards[0], "No PayPal, no Apple Pay")
            .unwrap();
        ed.rename(Collection::Stages, &ids.stages[0], "Attention")
            .unwrap();
    }
    let m = read(&d.transact()).map;
    let moved = m.cards.iter().find(|c| c.id == ids.cards[2]).unwrap();
    assert_eq!(
        (moved.lane_id.as_str(), moved.step_id.as_str()),
        (ids.lanes[1].as_str(), ids.steps[1].as_str())
    );
    assert_eq!(m.stages[0].id, ids.stages[2]);
    assert_eq!(m.stages[1].name, "Attention");
    assert_eq!(
        m.cards.iter().find(|c| c.id == ids.cards[0]).unwrap().text,
        "No PayPal, no Apple Pay"
    );

    // Deleting the "Purchase" stage takes its steps, their cards, links and emotion scores along.
    {
        let mut txn = d.transact_mut();
        Editor::new(&mut txn)
            .delete(Collection::Stages, &ids.stages[2])
            .unwrap();
    }
    let r = read(&d.transact());
    assert!(
        r.warnings.is_empty(),
        "nothing left dangling: {:?}",
        r.warnings
    );
    assert_eq!(r.map.stages.len(), 2);
    assert_eq!(r.map.steps.len(), 1);
    assert!(r.map.cards.is_empty());
    assert!(r.map.links.is_empty());
    assert_eq!(r.map.emotions.len(), 1);
}

#[test]
fn invalid_edits_are_refused_and_change_nothing() {
    let d = doc(3);
    let ids = sample(&d);
    let before = d
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let mut txn = d.transact_mut();
    let mut ed = Editor::new(&mut txn);
    assert!(matches!(
        ed.add_lane("gossip", "x", At::Last),
        Err(EditError::Invalid(_))
    ));
    assert!(matches!(
        ed.move_card(&ids.cards[0], &ids.lanes[0], "no-such-step", At::Last),
        Err(EditError::NotFound {
            collection: "steps",
            ..
        })
    ));
    assert!(ed.set_emotion(None, &ids.steps[0], 3).is_err());
    assert!(ed.record_measurement("nope", "2026-01-01", 1.0).is_err());
    assert!(ed.link(&ids.cards[0], &ids.cards[0], "relates").is_err());
    assert!(
        ed.add_step(&ids.stages[0], "x", At::After("not-a-sibling"))
            .is_err()
    );
    assert!(
        ed.set_field(
            Collection::Cards,
            &ids.cards[0],
            "laneId",
            Some(Any::from("x"))
        )
        .is_err()
    );
    assert!(
        ed.set_reference(
            Collection::Cards,
            &ids.cards[0],
            "stepId",
            Some(&ids.steps[0])
        )
        .is_err(),
        "a card's step is a placement"
    );
    assert!(matches!(
        ed.set_reference(Collection::Cards, &ids.cards[0], "personaId", Some("ghost")),
        Err(EditError::NotFound {
            collection: "personas",
            ..
        })
    ));
    drop(ed);
    drop(txn);
    let after = d
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    assert_eq!(before, after);
}

#[test]
fn concurrent_moves_and_reorders_converge_without_duplicates_or_losses() {
    let a = doc(10);
    let ids = sample(&a);
    let b = doc(11);
    sync(&a, &b);
    // Both move the same card to different cells, reorder the same stages differently, and add
    // cards to the same cell at the same position.
    {
        let mut txn = a.transact_mut();
        let mut ed = Editor::new(&mut txn);
        ed.move_card(&ids.cards[0], &ids.lanes[0], &ids.steps[0], At::Last)
            .unwrap();
        ed.reorder(Collection::Stages, &ids.stages[0], At::Last)
            .unwrap();
        ed.add_card(&ids.lanes[2], &ids.steps[2], "from a", At::First)
            .unwrap();
    }
    {
        let mut txn = b.transact_mut();
        let mut ed = Editor::new(&mut txn);
        ed.move_card(&ids.cards[0], &ids.lanes[2], &ids.steps[1], At::Last)
            .unwrap();
        ed.reorder(Collection::Stages, &ids.stages[2], At::First)
            .unwrap();
        ed.add_card(&ids.lanes[2], &ids.steps[2], "from b", At::First)
            .unwrap();
    }
    sync(&a, &b);
    sync(&b, &a);
    let ra = read(&a.transact());
    let rb = read(&b.transact());
    assert_eq!(ra.map, rb.map, "both replicas read the same map");
    assert!(ra.warnings.is_empty(), "{:?}", ra.warnings);
    let m = ra.map;
    // Every card exactly once: three originals plus two new ones.
    let mut card_ids: Vec<&str> = m.cards.iter().map(|c| c.id.as_str()).collect();
    card_ids.sort();
    card_ids.dedup();
    assert_eq!(card_ids.len(), 5);
    assert_eq!(m.cards.len(), 5);
    assert_eq!(m.stages.len(), 3);
    // The moved card is in exactly one of the two cells it was sent to.
    let moved = m.cards.iter().find(|c| c.id == ids.cards[0]).unwrap();
    assert!(
        [
            (&ids.lanes[0], &ids.steps[0]),
            (&ids.lanes[2], &ids.steps[1])
        ]
        .contains(&(&moved.lane_id, &moved.step_id))
    );
    // Same-place inserts both survive, ordered deterministically.
    let cell: Vec<&str> = m
        .cards
        .iter()
        .filter(|c| c.lane_id == ids.lanes[2] && c.step_id == ids.steps[2])
        .map(|c| c.text.as_str())
        .collect();
    assert_eq!(cell.len(), 3, "{cell:?}");
}

#[test]
fn a_damaged_document_still_reads_with_warnings() {
    let d = doc(20);
    let ids = sample(&d);
    {
        let mut txn = d.transact_mut();
        let stages = txn.get_or_insert_map("stages");
        // A stage whose name is a number and whose rank is garbage.
        let bad: MapPrelim = [
            ("name", Any::from(42i64)),
            ("rank", Any::from("not a rank!")),
        ]
        .into_iter()
        .collect();
        stages.insert(&mut txn, "bad-stage", bad);
        // An entity that is not a map at all.
        stages.insert(&mut txn, "flat", "just a string");
        let cards = txn.get_or_insert_map("cards");
        // A card in a lane that does not exist, with an out-of-range severity and unknown status.
        let orphan: MapPrelim = [
            ("laneId", Any::from("ghost-lane")),
            ("stepId", Any::from(ids.steps[0].as_str())),
            ("rank", Any::from("V")),
            ("text", Any::from("plain string text")),
            ("severity", Any::from(9i64)),
            ("status", Any::from("someday")),
        ]
        .into_iter()
        .collect();
        cards.insert(&mut txn, "orphan", orphan);
        let emotions = txn.get_or_insert_map("emotions");
        emotions.insert(&mut txn, format!("{}/{}", ids.persona, ids.steps[0]), 7i64);
        emotions.insert(&mut txn, "no-slash", 1i64);
        let meta = txn.get_or_insert_map("meta");
        meta.insert(&mut txn, "schemaVersion", 2i64);
        meta.insert(&mut txn, "title", yrs::ArrayPrelim::default());
    }
    let r = read(&d.transact());
    let has = |path: &str, needle: &str| {
        r.warnings
            .iter()
            .any(|w| w.path == path && w.message.contains(needle))
    };
    assert!(
        has("stages/bad-stage.name", "expected a string"),
        "{:#?}",
        r.warnings
    );
    assert!(has("stages/bad-stage.rank", "not a valid rank"));
    assert!(has("stages/flat", "not a map"));
    assert!(has("cards/orphan.laneId", "does not exist"));
    assert!(has("cards/orphan.severity", "read as 5"));
    assert!(has("cards/orphan.status", "unknown value"));
    assert!(has(
        &format!("emotions/{}/{}", ids.persona, ids.steps[0]),
        "read as 2"
    ));
    assert!(has("emotions/no-slash", "not <personaId>/<stepId>"));
    assert!(has("meta.schemaVersion", "version 2"));
    assert!(has("meta.title", "expected a string"));
    // What could be read was read: the damaged stage sorts last, the orphan card keeps its text.
    let m = r.map;
    assert_eq!(m.stages.len(), 4);
    assert_eq!(m.stages.last().unwrap().id, "bad-stage");
    let orphan = m.cards.iter().find(|c| c.id == "orphan").unwrap();
    assert_eq!(
        (orphan.text.as_str(), orphan.severity),
        ("plain string text", Some(5))
    );
}

#[test]
fn an_empty_document_is_an_empty_map() {
    let d = doc(30);
    let r = read(&d.transact());
    assert!(r.warnings.is_empty());
    assert!(r.map.stages.is_empty() && r.map.cards.is_empty());
    // Updates from typed edits are ordinary Yjs updates another replica applies.
    let e = doc(31);
    sample(&e);
    let update = e
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    d.transact_mut()
        .apply_update(Update::decode_v1(&update).unwrap())
        .unwrap();
    assert_eq!(read(&d.transact()).map.cards.len(), 3);
}

#[test]
fn every_template_is_a_complete_map_without_warnings() {
    use waymark_protocol::schema::templates::{TEMPLATES, find};
    assert!(TEMPLATES.len() >= 4);
    for t in TEMPLATES {
        let d = doc(40);
        t.apply(&mut d.transact_mut(), 1_700_000_000_000).unwrap();
        let r = read(&d.transact());
        assert!(r.warnings.is_empty(), "{}: {:?}", t.name, r.warnings);
        let m = r.map;
        assert_eq!(m.meta.title, t.title);
        assert_eq!(m.meta.template.as_deref(), Some(t.name));
        assert!(m.stages.len() >= 4 && m.steps.len() >= 8, "{}", t.name);
        assert!(m.cards.len() >= 20, "{}: {} cards", t.name, m.cards.len());
        assert!(!m.personas.is_empty() && !m.metrics.is_empty() && !m.links.is_empty());
        // Every persona has a full emotion curve.
        for p in &m.personas {
            let curve = m
                .emotions
                .iter()
                .filter(|e| e.persona_id.as_deref() == Some(&p.id))
                .count();
            assert_eq!(curve, m.steps.len(), "{}: {}", t.name, p.name);
        }
        // Pain points carry evidence and severity.
        let pains: Vec<_> = m.lanes.iter().filter(|l| l.kind == "pain-points").collect();
        assert_eq!(pains.len(), 1);
        for c in m.cards.iter().filter(|c| c.lane_id == pains[0].id) {
            assert!(
                c.severity.is_some() && c.evidence.is_some(),
                "{}: {}",
                t.name,
                c.text
            );
        }
        assert!(find(t.name).is_some());
    }
    assert_eq!(
        find("service-blueprint").map(|t| t.name),
        Some("service-blueprint")
    );
    assert!(find("no-such-template").is_none());
    let d = doc(41);
    find("service-blueprint")
        .unwrap()
        .apply(&mut d.transact_mut(), 0)
        .unwrap();
    let m = read(&d.transact()).map;
    assert_eq!(m.meta.kind, "service-blueprint");
    for kind in ["frontstage", "backstage", "support"] {
        assert!(m.lanes.iter().any(|l| l.kind == kind), "{kind}");
    }
}

#[test]
fn the_json_form_round_trips_through_a_document() {
    use waymark_protocol::schema::templates::TEMPLATES;
    use waymark_protocol::schema::{JourneyMap, write};
    for t in TEMPLATES {
        let source = doc(50);
        t.apply(&mut source.transact_mut(), 1_700_000_000_000)
            .unwrap();
        let original = read(&source.transact()).map;
        // Through JSON, as an import would receive it, into a fresh document.
        let json = serde_json::to_string(&original).unwrap();
        let parsed: JourneyMap = serde_json::from_str(&json).unwrap();
        let target = doc(51);
        write(&mut target.transact_mut(), &parsed).unwrap();
        let r = read(&target.transact());
        assert!(r.warnings.is_empty(), "{}: {:?}", t.name, r.warnings);
        assert_eq!(r.map, original, "{}", t.name);
    }
}

#[test]
fn imports_with_broken_ids_are_refused() {
    use waymark_protocol::schema::{JourneyMap, Stage, write};
    let stage = |id: &str| Stage {
        id: id.into(),
        name: "S".into(),
        description: String::new(),
        rank: "V".into(),
    };
    let mut map = JourneyMap {
        stages: vec![stage("a"), stage("a")],
        ..JourneyMap::default()
    };
    let d = doc(52);
    let err = write(&mut d.transact_mut(), &map).unwrap_err();
    assert!(err.to_string().contains("appears twice"), "{err}");
    map.stages = vec![stage("has space")];
    let err = write(&mut d.transact_mut(), &map).unwrap_err();
    assert!(err.to_string().contains("not a valid id"), "{err}");
    // Nothing was written by the refused imports.
    assert!(read(&d.transact()).map.stages.is_empty());
}

#[test]
fn the_published_json_schema_matches_the_model() {
    let generated =
        serde_json::to_string_pretty(&waymark_protocol::schema::json_schema()).unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/map.schema.json");
    if std::env::var_os("WAYMARK_WRITE_SCHEMA").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "protocol/map.schema.json differs from the model: regenerate it with \
         WAYMARK_WRITE_SCHEMA=1 cargo test -p waymark-protocol --test schema"
    );
    // It describes every collection of the JSON form.
    let schema: serde_json::Value = serde_json::from_str(&committed).unwrap();
    for key in [
        "meta", "personas", "stages", "steps", "lanes", "cards", "emotions", "metrics",
    ] {
        assert!(schema["properties"][key].is_object(), "{key}");
    }
}

#[test]
fn writing_a_version_over_the_current_map_restores_it_and_keeps_concurrent_edits() {
    let (a, b) = (doc(1), doc(2));
    waymark_protocol::schema::templates::find("saas-onboarding")
        .unwrap()
        .apply(&mut a.transact_mut(), 0)
        .unwrap();
    let version = read(&a.transact()).map;
    let (step, lane, persona) = (
        version.steps[0].id.clone(),
        version.lanes[0].id.clone(),
        version.personas[0].id.clone(),
    );
    let moved = version.cards[0].id.clone();
    {
        let mut txn = a.transact_mut();
        let mut ed = Editor::new(&mut txn);
        ed.rename(Collection::Steps, &step, "Renamed").unwrap();
        ed.add_card(&lane, &step, "added later", At::First).unwrap();
        ed.delete(Collection::Personas, &persona).unwrap();
        ed.move_card(&moved, &lane, &version.steps[1].id, At::Last)
            .unwrap();
        ed.set_meta("reviewDue", Some("2027-01-31"));
    }
    let edited = read(&a.transact()).map;
    assert_ne!(edited, version);
    sync(&a, &b);

    // b edits an entity the restore leaves alone, while a restores.
    let untouched = version.stages.last().unwrap().id.clone();
    Editor::new(&mut b.transact_mut())
        .rename(Collection::Stages, &untouched, "Edited meanwhile")
        .unwrap();
    let changes = {
        let mut txn = a.transact_mut();
        waymark_protocol::schema::write_over(&mut txn, &edited, &version).unwrap()
    };
    assert!(!changes.is_empty());
    assert_eq!(read(&a.transact()).map, version, "restored exactly");

    sync(&a, &b);
    sync(&b, &a);
    let (ra, rb) = (read(&a.transact()), read(&b.transact()));
    assert_eq!(ra.map, rb.map, "both replicas converge");
    assert!(ra.warnings.is_empty(), "{:?}", ra.warnings);
    let mut want = version.clone();
    want.stages.last_mut().unwrap().name = "Edited meanwhile".into();
    assert_eq!(ra.map, want, "the restore plus the concurrent edit");
}

#[test]
fn dates_are_calendar_dates() {
    use waymark_protocol::schema::edit::is_date;
    for good in ["2026-01-31", "2028-02-29", "2000-02-29", "2026-12-01"] {
        assert!(is_date(good), "{good}");
    }
    for bad in [
        "2026-02-30",
        "2026-02-29",
        "1900-02-29",
        "2026-04-31",
        "2026-13-01",
        "2026-00-10",
        "2026-01-00",
        "2026-1-01",
        "26-01-01",
        "2026/01/01",
    ] {
        assert!(!is_date(bad), "{bad}");
    }
}
