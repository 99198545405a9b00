//! Writing a whole map (its JSON form, `SCHEMA.md` §9) into an empty document (how imports work),
//! or over a document's current content (how a version is restored). Ids and ranks are kept, so a
//! map written and read back is the same map.

use super::diff::{EntityKind, MapDiff, diff};
use super::edit::EditError;
use super::model::*;
use std::collections::HashSet;
use yrs::{Any, In, Map, MapPrelim, TextPrelim, TransactionMut, WriteTxn};

/// Writes `map` into the document of `txn`, which should be empty. Refuses ids that break the id
/// syntax or repeat within a collection; everything else is written as given (a reader reports
/// what is inconsistent).
pub fn write(txn: &mut TransactionMut, map: &JourneyMap) -> Result<(), EditError> {
    check_ids(map)?;
    let meta = txn.get_or_insert_map("meta");
    let m = &map.meta;
    let mut fields = vec![
        ("schemaVersion", In::from(SCHEMA_VERSION as i64)),
        ("title", m.title.as_str().into()),
        ("kind", m.kind.as_str().into()),
    ];
    for (k, v) in [
        ("description", &m.description),
        ("scenario", &m.scenario),
        ("goals", &m.goals),
        ("owner", &m.owner),
    ] {
        if !v.is_empty() {
            fields.push((k, v.as_str().into()));
        }
    }
    opt(&mut fields, "reviewDue", &m.review_due);
    opt(&mut fields, "template", &m.template);
    if let Some(t) = m.created_at {
        fields.push(("createdAt", t.into()));
    }
    for (k, v) in fields {
        meta.insert(txn, k, v);
    }
    write_entities(txn, map);
    Ok(())
}

/// Writes every entity of `map` (not its own fields), each replacing any entity with its id.
fn write_entities(txn: &mut TransactionMut, map: &JourneyMap) {
    for p in &map.personas {
        let mut f = named(&p.name, &p.rank);
        text_fields(
            &mut f,
            [
                ("description", &p.description),
                ("goals", &p.goals),
                ("needs", &p.needs),
                ("challenges", &p.challenges),
            ],
        );
        if !p.channels.is_empty() {
            let list: Vec<Any> = p.channels.iter().map(|c| Any::from(c.as_str())).collect();
            f.push(("channels", Any::from(list).into()));
        }
        opt(&mut f, "lifecycleStage", &p.lifecycle_stage);
        put(txn, "personas", &p.id, f);
    }
    for s in &map.stages {
        let mut f = named(&s.name, &s.rank);
        text_fields(&mut f, [("description", &s.description)]);
        put(txn, "stages", &s.id, f);
    }
    for s in &map.steps {
        let mut f = named(&s.name, &s.rank);
        f.push(("stageId", s.stage_id.as_str().into()));
        text_fields(&mut f, [("description", &s.description)]);
        put(txn, "steps", &s.id, f);
    }
    for l in &map.lanes {
        let mut f = named(&l.name, &l.rank);
        f.push(("kind", l.kind.as_str().into()));
        opt(&mut f, "personaId", &l.persona_id);
        put(txn, "lanes", &l.id, f);
    }
    for c in &map.cards {
        let mut f: Vec<(&str, In)> = vec![
            ("laneId", c.lane_id.as_str().into()),
            ("stepId", c.step_id.as_str().into()),
            ("rank", c.rank.as_str().into()),
            ("text", TextPrelim::new(c.text.as_str()).into()),
        ];
        for (k, v) in [
            ("endStepId", &c.end_step_id),
            ("personaId", &c.persona_id),
            ("evidence", &c.evidence),
            ("evidenceSource", &c.evidence_source),
            ("status", &c.status),
            ("owner", &c.owner),
            ("due", &c.due),
            ("imageUrl", &c.image_url),
            ("channelId", &c.channel_id),
            ("touchpointId", &c.touchpoint_id),
        ] {
            opt(&mut f, k, v);
        }
        for (k, v) in [
            ("severity", c.severity),
            ("impact", c.impact),
            ("effort", c.effort),
        ] {
            if let Some(v) = v {
                f.push((k, i64::from(v).into()));
            }
        }
        put(txn, "cards", &c.id, f);
    }
    for ch in &map.channels {
        put(txn, "channels", &ch.id, named(&ch.name, &ch.rank));
    }
    for t in &map.touchpoints {
        let mut f = named(&t.name, &t.rank);
        opt(&mut f, "channelId", &t.channel_id);
        opt(&mut f, "stepId", &t.step_id);
        opt(&mut f, "owner", &t.owner);
        put(txn, "touchpoints", &t.id, f);
    }
    for m in &map.metrics {
        let mut f = named(&m.name, &m.rank);
        f.push(("type", m.kind.as_str().into()));
        opt(&mut f, "unit", &m.unit);
        opt(&mut f, "direction", &m.direction);
        opt(&mut f, "stepId", &m.step_id);
        opt(&mut f, "touchpointId", &m.touchpoint_id);
        opt(&mut f, "owner", &m.owner);
        if let Some(t) = m.target {
            f.push(("target", t.into()));
        }
        put(txn, "metrics", &m.id, f);
    }
    for x in &map.measurements {
        let mut f: Vec<(&str, In)> = vec![
            ("metricId", x.metric_id.as_str().into()),
            ("date", x.date.as_str().into()),
            ("value", x.value.into()),
        ];
        opt(&mut f, "note", &x.note);
        put(txn, "measurements", &x.id, f);
    }
    for l in &map.links {
        let f: Vec<(&str, In)> = vec![
            ("from", l.from.as_str().into()),
            ("to", l.to.as_str().into()),
            ("kind", l.kind.as_str().into()),
        ];
        put(txn, "links", &l.id, f);
    }
    let emotions = txn.get_or_insert_map("emotions");
    for e in &map.emotions {
        let key = format!("{}/{}", e.persona_id.as_deref().unwrap_or("*"), e.step_id);
        emotions.insert(txn, key, i64::from(e.score));
    }
}

/// Turns a document whose content is `current` into `target` with ordinary edits, touching only
/// what differs: removed entities are deleted, added, moved or changed ones are written as they are
/// in `target` (each replacing the entity as a whole), and map fields `target` lacks are cleared.
/// Entities that did not change are left alone, so concurrent edits to them survive. Returns what
/// changed.
pub fn write_over(
    txn: &mut TransactionMut,
    current: &JourneyMap,
    target: &JourneyMap,
) -> Result<MapDiff, EditError> {
    check_ids(target)?;
    let changes = diff(current, target);
    let touched: HashSet<(EntityKind, &str)> = changes
        .added
        .iter()
        .map(|a| (a.kind, a.id.as_str()))
        .chain(changes.moved.iter().map(|m| (m.kind, m.id.as_str())))
        .chain(changes.changed.iter().map(|c| (c.kind, c.id.as_str())))
        .collect();
    for r in &changes.removed {
        if let Some(root) = root_of(r.kind) {
            txn.get_or_insert_map(root).remove(txn, &r.id);
        }
    }
    let meta = txn.get_or_insert_map("meta");
    for c in changes
        .changed
        .iter()
        .filter(|c| c.kind == EntityKind::Meta)
    {
        for f in c.fields.iter().filter(|f| f.new.is_null()) {
            meta.remove(txn, &f.field);
        }
    }
    let keep = |kind: EntityKind, id: &str| touched.contains(&(kind, id));
    let partial = JourneyMap {
        schema_version: target.schema_version,
        meta: target.meta.clone(),
        personas: pick(&target.personas, |e| keep(EntityKind::Persona, &e.id)),
        stages: pick(&target.stages, |e| keep(EntityKind::Stage, &e.id)),
        steps: pick(&target.steps, |e| keep(EntityKind::Step, &e.id)),
        lanes: pick(&target.lanes, |e| keep(EntityKind::Lane, &e.id)),
        cards: pick(&target.cards, |e| keep(EntityKind::Card, &e.id)),
        channels: pick(&target.channels, |e| keep(EntityKind::Channel, &e.id)),
        touchpoints: pick(&target.touchpoints, |e| keep(EntityKind::Touchpoint, &e.id)),
        metrics: pick(&target.metrics, |e| keep(EntityKind::Metric, &e.id)),
        measurements: pick(&target.measurements, |e| {
            keep(EntityKind::Measurement, &e.id)
        }),
        links: pick(&target.links, |e| keep(EntityKind::Link, &e.id)),
        emotions: pick(&target.emotions, |e| {
            let key = format!("{}/{}", e.persona_id.as_deref().unwrap_or("*"), e.step_id);
            keep(EntityKind::Emotion, &key)
        }),
    };
    if changes.changed.iter().any(|c| c.kind == EntityKind::Meta) {
        write(txn, &partial)?;
    } else {
        // Rewriting unchanged map fields would only add noise to the update.
        write_entities(txn, &partial);
    }
    Ok(changes)
}

fn pick<T: Clone>(items: &[T], keep: impl Fn(&T) -> bool) -> Vec<T> {
    items.iter().filter(|e| keep(e)).cloned().collect()
}

/// The root map holding entities of `kind` (`None` for the map's own fields).
fn root_of(kind: EntityKind) -> Option<&'static str> {
    Some(match kind {
        EntityKind::Meta => return None,
        EntityKind::Persona => "personas",
        EntityKind::Stage => "stages",
        EntityKind::Step => "steps",
        EntityKind::Lane => "lanes",
        EntityKind::Card => "cards",
        EntityKind::Channel => "channels",
        EntityKind::Touchpoint => "touchpoints",
        EntityKind::Metric => "metrics",
        EntityKind::Measurement => "measurements",
        EntityKind::Link => "links",
        EntityKind::Emotion => "emotions",
    })
}

fn named<'a>(name: &'a str, rank: &'a str) -> Vec<(&'static str, In)> {
    vec![("name", name.into()), ("rank", rank.into())]
}

fn text_fields<const N: usize>(
    f: &mut Vec<(&'static str, In)>,
    fields: [(&'static str, &String); N],
) {
    for (k, v) in fields {
        if !v.is_empty() {
            f.push((k, v.as_str().into()));
        }
    }
}

fn opt(f: &mut Vec<(&'static str, In)>, key: &'static str, value: &Option<String>) {
    if let Some(v) = value {
        f.push((key, v.as_str().into()));
    }
}

fn put(txn: &mut TransactionMut, root: &str, id: &str, fields: Vec<(&str, In)>) {
    let prelim: MapPrelim = fields.into_iter().collect();
    txn.get_or_insert_map(root).insert(txn, id, prelim);
}

fn check_ids(map: &JourneyMap) -> Result<(), EditError> {
    fn unique<'a>(collection: &str, ids: impl Iterator<Item = &'a str>) -> Result<(), EditError> {
        let mut seen = HashSet::new();
        for id in ids {
            if crate::MapId::parse(id).is_err() || id.len() > 64 {
                return Err(EditError::Invalid(format!(
                    "{collection}: {id:?} is not a valid id"
                )));
            }
            if !seen.insert(id) {
                return Err(EditError::Invalid(format!(
                    "{collection}: id {id:?} appears twice"
                )));
            }
        }
        Ok(())
    }
    unique("personas", map.personas.iter().map(|e| e.id.as_str()))?;
    unique("stages", map.stages.iter().map(|e| e.id.as_str()))?;
    unique("steps", map.steps.iter().map(|e| e.id.as_str()))?;
    unique("lanes", map.lanes.iter().map(|e| e.id.as_str()))?;
    unique("cards", map.cards.iter().map(|e| e.id.as_str()))?;
    unique("channels", map.channels.iter().map(|e| e.id.as_str()))?;
    unique("touchpoints", map.touchpoints.iter().map(|e| e.id.as_str()))?;
    unique("metrics", map.metrics.iter().map(|e| e.id.as_str()))?;
    unique(
        "measurements",
        map.measurements.iter().map(|e| e.id.as_str()),
    )?;
    unique("links", map.links.iter().map(|e| e.id.as_str()))?;
    let mut keys = HashSet::new();
    for e in &map.emotions {
        if !EMOTION_RANGE.contains(&i64::from(e.score)) {
            return Err(EditError::Invalid(format!(
                "emotion score {} is outside -2..=2",
                e.score
            )));
        }
        if !keys.insert((e.persona_id.as_deref(), e.step_id.as_str())) {
            return Err(EditError::Invalid(format!(
                "two emotion scores for one persona at step {:?}",
                e.step_id
            )));
        }
    }
    Ok(())
}
