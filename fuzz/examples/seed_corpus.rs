//! Writes seed inputs for the `decode` target: real messages, made by editing yrs documents through
//! the protocol crate's journey-map editor and encoding them with its own encoders, one file each.
//!
//! ```text
//! cd fuzz && cargo run --example seed_corpus -- /tmp/seeds
//! ```
//!
//! The files are then merged into `corpus/decode/` with `cargo fuzz cmin` (see README.md), which
//! keeps only the ones that add coverage.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::json;
use waymark_protocol::ext;
use waymark_protocol::message::{self, KEEPALIVE};
use waymark_protocol::schema::{At, Collection, Editor, templates};
use yrs::sync::Awareness;
use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
use yrs::types::Attrs;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{
    Any, Array, ClientID, Doc, Map, MapPrelim, Options, ReadTxn, StateVector, Text, Transact,
    TransactionMut, Update, WriteTxn,
};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

/// A time stamp in the map's fields: 2025-11-23, in milliseconds since the Unix epoch.
const CREATED_AT: i64 = 1_763_900_000_000;

fn main() -> Result<()> {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .ok_or("usage: seed_corpus OUT_DIR")?
        .into();
    std::fs::create_dir_all(&dir)?;
    let mut out = Seeds { dir, written: 0 };
    sync(&mut out)?;
    awareness(&mut out)?;
    other(&mut out)?;
    eprintln!("wrote {} seeds to {}", out.written, out.dir.display());
    Ok(())
}

struct Seeds {
    dir: PathBuf,
    written: usize,
}

impl Seeds {
    fn write(&mut self, name: &str, frame: &[u8]) -> Result<()> {
        // Each seed is a message a peer really sends, so it must decode.
        message::decode(frame).map_err(|e| format!("seed {name} does not decode: {e}"))?;
        std::fs::write(self.dir.join(format!("seed-{name}")), frame)?;
        self.written += 1;
        Ok(())
    }

    /// Runs `f` in one transaction of `doc`, writes the update it produced as the update message a
    /// client sends, and returns what `f` returned.
    fn update<T>(
        &mut self,
        name: &str,
        doc: &Doc,
        f: impl FnOnce(&mut TransactionMut) -> Result<T, waymark_protocol::schema::EditError>,
    ) -> Result<T> {
        let updates = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&updates);
        doc.observe_update_v1("seed", move |_, e| {
            sink.lock().unwrap().push(e.update.clone())
        })?;
        let result = f(&mut doc.transact_mut());
        doc.unobserve_update_v1("seed")?;
        let update = updates.lock().unwrap().pop();
        self.write(name, &message::encode_update(&update.ok_or("no change")?))?;
        Ok(result?)
    }
}

fn doc(client: u64) -> Doc {
    Doc::with_options(Options {
        client_id: ClientID::new(client),
        ..Options::default()
    })
}

fn full_state(doc: &Doc) -> Vec<u8> {
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}

fn sync(out: &mut Seeds) -> Result<()> {
    let a = doc(1_111);
    let empty = a.transact().state_vector().encode_v1();
    out.write("step1-empty", &message::encode_sync_step1(&empty))?;
    out.write("step2-empty", &message::encode_sync_step2(&full_state(&a)))?;

    // A journey map built by the typed editor, one update per user action.
    out.update("update-init", &a, |t| {
        Editor::new(t).init("Checkout", "journey-map", CREATED_AT)
    })?;
    let persona = out.update("update-add-persona", &a, |t| {
        Editor::new(t).add_persona("First-time buyer", At::Last)
    })?;
    let stage = out.update("update-add-stage", &a, |t| {
        Editor::new(t).add_stage("Consider", At::Last)
    })?;
    let step = out.update("update-add-step", &a, |t| {
        Editor::new(t).add_step(&stage, "Compare prices", At::First)
    })?;
    let lane = out.update("update-add-lane", &a, |t| {
        Editor::new(t).add_lane("actions", "Actions", At::Last)
    })?;
    let card = out.update("update-add-card", &a, |t| {
        Editor::new(t).add_card(&lane, &step, "Opens three tabs", At::Last)
    })?;
    out.update("update-card-text", &a, |t| {
        Editor::new(t).set_card_text(&card, "Opens 3 tabs ✓")
    })?;
    out.update("update-emotion", &a, |t| {
        Editor::new(t).set_emotion(Some(&persona), &step, -2)
    })?;
    out.update("update-field", &a, |t| {
        let severity = Some(Any::from(2.5));
        Editor::new(t).set_field(Collection::Cards, &card, "severity", severity)
    })?;
    out.update("update-rename", &a, |t| {
        Editor::new(t).rename(Collection::Stages, &stage, "Compare")
    })?;
    out.update("update-delete", &a, |t| {
        Editor::new(t).delete(Collection::Personas, &persona)
    })?;

    // Plain yrs types the editor does not write: formatted text, embeds, arrays of every Any.
    let notes = a.transact_mut().get_or_insert_text("notes");
    let list = a.transact_mut().get_or_insert_array("list");
    out.update("update-text-insert", &a, |t| {
        notes.insert(t, 0, "Hello, wörld 👋");
        Ok(())
    })?;
    out.update("update-text-format", &a, |t| {
        notes.format(t, 0, 5, Attrs::from([("bold".into(), Any::Bool(true))]));
        Ok(())
    })?;
    out.update("update-text-embed", &a, |t| {
        notes.insert_embed(t, 5, Any::from(r#"{"image":"a.png"}"#));
        Ok(())
    })?;
    out.update("update-text-delete", &a, |t| {
        notes.remove_range(t, 2, 4);
        Ok(())
    })?;
    out.update("update-array-any", &a, |t| {
        let values = [
            Any::Null,
            Any::Undefined,
            Any::Bool(false),
            Any::from(-1.5),
            Any::from(1_i64 << 40),
            Any::from("s"),
            Any::from(vec![1_u8, 2, 3]),
        ];
        list.insert_range(t, 0, values);
        Ok(())
    })?;
    out.update("update-array-nested", &a, |t| {
        let m = list.push_back(t, MapPrelim::from([("k", Any::from("v"))]));
        m.insert(t, "n", Any::from(7));
        Ok(())
    })?;
    out.update("update-array-delete", &a, |t| {
        list.remove_range(t, 1, 3);
        Ok(())
    })?;

    // Two more clients, one with the largest id Yjs makes (2^53 - 1), edit a copy concurrently.
    let b = doc(2_222_222);
    let c = doc(9_007_199_254_740_991);
    for copy in [&b, &c] {
        copy.transact_mut()
            .apply_update(Update::decode_v1(&full_state(&a))?)?;
    }
    let sv_b = b.transact().state_vector();
    out.update("update-meta", &b, |t| {
        Editor::new(t).set_meta("description", Some("mobile only"));
        Ok(())
    })?;
    out.update("update-other-client", &c, |t| {
        Editor::new(t).add_stage("Buy", At::Last)
    })?;
    for copy in [&b, &c] {
        let missing = copy
            .transact()
            .encode_state_as_update_v1(&a.transact().state_vector());
        a.transact_mut()
            .apply_update(Update::decode_v1(&missing)?)?;
    }
    let sv_a = a.transact().state_vector();
    out.write(
        "step1-one-client",
        &message::encode_sync_step1(&sv_b.encode_v1()),
    )?;
    out.write(
        "step1-three-clients",
        &message::encode_sync_step1(&sv_a.encode_v1()),
    )?;
    out.write("step2-full", &message::encode_sync_step2(&full_state(&a)))?;
    let diff = a.transact().encode_state_as_update_v1(&sv_b);
    out.write("step2-diff", &message::encode_sync_step2(&diff))?;

    // A realistic, filled-in map (the smallest template) as a joining client receives it.
    let t = doc(7);
    let template = templates::find("saas-onboarding").ok_or("template saas-onboarding is gone")?;
    template.apply(&mut t.transact_mut(), CREATED_AT)?;
    out.write(
        "step2-template",
        &message::encode_sync_step2(&full_state(&t)),
    )?;
    Ok(())
}

fn awareness(out: &mut Seeds) -> Result<()> {
    let mut aw = Awareness::new(doc(42));
    let user = json!({"name": "Ada", "color": "#30bced"});
    aw.set_local_state(json!({ "user": user }))?;
    out.write(
        "awareness-user",
        &message::encode_awareness(&aw.update()?.encode_v1()),
    )?;
    aw.set_local_state(json!({
        "user": user,
        "cursor": {"anchor": {"type": null, "tname": "notes", "item": {"client": 1111, "clock": 4}}},
        "selection": ["card", "3c-7"],
    }))?;
    out.write(
        "awareness-cursor",
        &message::encode_awareness(&aw.update()?.encode_v1()),
    )?;
    aw.clean_local_state();
    out.write(
        "awareness-removed",
        &message::encode_awareness(&aw.update()?.encode_v1()),
    )?;

    // What the server sends a joining client: every peer's state in one message.
    let peers = [
        (1_111, 3, r##"{"user":{"name":"Bo","color":"#ee6352"}}"##),
        (2_222_222, 18, "{}"),
        (9_007_199_254_740_991, 1, "null"),
    ];
    let clients = peers
        .into_iter()
        .map(|(id, clock, json)| {
            let entry = AwarenessUpdateEntry {
                clock,
                json: json.into(),
            };
            (ClientID::new(id), entry)
        })
        .collect();
    let all = AwarenessUpdate { clients };
    out.write(
        "awareness-peers",
        &message::encode_awareness(&all.encode_v1()),
    )?;
    out.write("keepalive", &KEEPALIVE)
}

fn other(out: &mut Seeds) -> Result<()> {
    out.write(
        "auth-denied",
        &message::encode_auth_denied("permission denied"),
    )?;
    let unicode = message::encode_auth_denied("Zugriff verweigert: Köln 🔒");
    out.write("auth-denied-unicode", &unicode)?;
    out.write("query-awareness", &message::encode_query_awareness())?;
    out.write("ext-accepted-none", &ext::encode_accepted(&[]))?;
    out.write("ext-accepted-events", &ext::encode_accepted(&[ext::EVENTS]))?;
    // The events the server sends (server/src/versions.rs, review.rs), with realistic fields.
    let version = json!({
        "number": 3, "label": "Before launch", "description": "", "author": "ada",
        "kind": "manual", "createdAt": CREATED_AT, "size": 812, "rawSize": 2304,
    });
    let review = json!({
        "reviewers": ["bo"], "due": "2026-12-01", "submittedBy": "ada",
        "submittedAt": CREATED_AT, "decisions": [], "state": "in_review",
    });
    let events = [
        json!({"type": "version.created", "version": version}),
        json!({"type": "version.restored", "version": version, "safetyVersion": 4}),
        json!({"type": "review.updated", "version": 3, "review": review}),
    ];
    for (name, event) in ["created", "restored", "review"].iter().zip(events) {
        let frame = ext::encode_event(&event.to_string());
        out.write(&format!("ext-event-{name}"), &frame)?;
    }
    Ok(())
}
