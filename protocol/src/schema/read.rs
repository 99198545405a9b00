//! Reading a map from a yrs document. Never fails: whatever a buggy or older client wrote, the
//! reader returns what makes sense and a warning, with its path, for each problem (`SCHEMA.md` §7).

use super::model::*;
use super::rank;
use std::collections::HashSet;
use yrs::types::ToJson;
use yrs::{Any, GetString, Map, MapRef, Number, Out, ReadTxn};

/// A map as read, and what was wrong with it.
#[derive(Debug, Clone, Default)]
pub struct Read {
    pub map: JourneyMap,
    pub warnings: Vec<Warning>,
}

/// Reads the journey map held by a document.
pub fn read<T: ReadTxn>(txn: &T) -> Read {
    let mut r = Reader {
        txn,
        warnings: Vec::new(),
    };
    let mut map = JourneyMap {
        schema_version: SCHEMA_VERSION,
        ..JourneyMap::default()
    };
    r.meta(&mut map);
    for (id, e) in r.entities("personas") {
        let mut e = r.entity("personas", &id, e);
        map.personas.push(Persona {
            name: e.required_string("name"),
            description: e.string("description").unwrap_or_default(),
            goals: e.string("goals").unwrap_or_default(),
            needs: e.string("needs").unwrap_or_default(),
            challenges: e.string("challenges").unwrap_or_default(),
            channels: e.strings("channels"),
            lifecycle_stage: e.string("lifecycleStage"),
            rank: e.rank(),
            id,
        });
    }
    for (id, e) in r.entities("stages") {
        let mut e = r.entity("stages", &id, e);
        map.stages.push(Stage {
            name: e.required_string("name"),
            description: e.string("description").unwrap_or_default(),
            rank: e.rank(),
            id,
        });
    }
    for (id, e) in r.entities("steps") {
        let mut e = r.entity("steps", &id, e);
        map.steps.push(Step {
            stage_id: e.required_string("stageId"),
            name: e.required_string("name"),
            description: e.string("description").unwrap_or_default(),
            rank: e.rank(),
            id,
        });
    }
    for (id, e) in r.entities("lanes") {
        let mut e = r.entity("lanes", &id, e);
        map.lanes.push(Lane {
            kind: e
                .one_of("kind", LANE_KINDS)
                .unwrap_or_else(|| "text".into()),
            name: e.required_string("name"),
            persona_id: e.string("personaId"),
            rank: e.rank(),
            id,
        });
    }
    for (id, e) in r.entities("cards") {
        let mut e = r.entity("cards", &id, e);
        map.cards.push(Card {
            lane_id: e.required_string("laneId"),
            step_id: e.required_string("stepId"),
            end_step_id: e.string("endStepId"),
            text: e.required_string("text"),
            persona_id: e.string("personaId"),
            evidence: e.one_of("evidence", EVIDENCE_LEVELS),
            evidence_source: e.string("evidenceSource"),
            severity: e.int_in("severity", SCALE_RANGE).map(|v| v as u8),
            impact: e.int_in("impact", SCALE_RANGE).map(|v| v as u8),
            effort: e.int_in("effort", SCALE_RANGE).map(|v| v as u8),
            status: e.one_of("status", STATUSES),
            owner: e.string("owner"),
            due: e.string("due"),
            image_url: e.string("imageUrl"),
            channel_id: e.string("channelId"),
            touchpoint_id: e.string("touchpointId"),
            rank: e.rank(),
            id,
        });
    }
    for (id, e) in r.entities("channels") {
        let mut e = r.entity("channels", &id, e);
        map.channels.push(Channel {
            name: e.required_string("name"),
            rank: e.rank(),
            id,
        });
    }
    for (id, e) in r.entities("touchpoints") {
        let mut e = r.entity("touchpoints", &id, e);
        map.touchpoints.push(Touchpoint {
            name: e.required_string("name"),
            channel_id: e.string("channelId"),
            step_id: e.string("stepId"),
            owner: e.string("owner"),
            rank: e.rank(),
            id,
        });
    }
    for (id, e) in r.entities("metrics") {
        let mut e = r.entity("metrics", &id, e);
        map.metrics.push(Metric {
            name: e.required_string("name"),
            kind: e
                .one_of("type", METRIC_TYPES)
                .unwrap_or_else(|| "custom".into()),
            unit: e.string("unit"),
            target: e.number("target"),
            direction: e.one_of("direction", DIRECTIONS),
            step_id: e.string("stepId"),
            touchpoint_id: e.string("touchpointId"),
            owner: e.string("owner"),
            rank: e.rank(),
            id,
        });
    }
    for (id, e) in r.entities("measurements") {
        let mut e = r.entity("measurements", &id, e);
        let metric_id = e.required_string("metricId");
        let date = e.required_string("date");
        let Some(value) = e.number("value") else {
            e.warn("value", "a measurement without a value; skipped");
            continue;
        };
        map.measurements.push(Measurement {
            metric_id,
            date,
            value,
            note: e.string("note"),
            id,
        });
    }
    for (id, e) in r.entities("links") {
        let mut e = r.entity("links", &id, e);
        map.links.push(Link {
            from: e.required_string("from"),
            to: e.required_string("to"),
            kind: e
                .one_of("kind", LINK_KINDS)
                .unwrap_or_else(|| "relates".into()),
            id,
        });
    }
    r.emotions(&mut map);
    sort(&mut map);
    r.check_references(&map);
    // The document's maps iterate in hash order, which differs between two loads of the same
    // content: sorted, the same map always reads the same (a content hash over an export holds
    // still across a restart).
    r.warnings
        .sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    Read {
        map,
        warnings: r.warnings,
    }
}

/// Just the map's own fields (`meta`), without reading the collections: cheap enough to call after
/// every change.
pub fn read_meta<T: ReadTxn>(txn: &T) -> Meta {
    let mut r = Reader {
        txn,
        warnings: Vec::new(),
    };
    let mut map = JourneyMap::default();
    r.meta(&mut map);
    map.meta
}

struct Reader<'a, T> {
    txn: &'a T,
    warnings: Vec<Warning>,
}

impl<'a, T: ReadTxn> Reader<'a, T> {
    fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Warning {
            path: path.into(),
            message: message.into(),
        });
    }

    fn entities(&mut self, root: &str) -> Vec<(String, MapRef)> {
        let Some(collection) = self.txn.get_map(root) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (id, value) in collection.iter(self.txn) {
            match value {
                Out::YMap(e) => out.push((id.to_owned(), e)),
                _ => self.warn(format!("{root}/{id}"), "not a map of fields; skipped"),
            }
        }
        out
    }

    fn entity<'r>(&'r mut self, root: &str, id: &str, map: MapRef) -> Entity<'r, 'a, T> {
        let path = format!("{root}/{id}");
        if crate::MapId::parse(id).is_err() || id.len() > 64 {
            self.warn(&path, "the id does not follow the id syntax");
        }
        Entity {
            reader: self,
            map,
            path,
        }
    }

    fn meta(&mut self, map: &mut JourneyMap) {
        let Some(meta) = self.txn.get_map("meta") else {
            return;
        };
        let mut e = Entity {
            reader: self,
            map: meta,
            path: "meta".into(),
        };
        match e.number("schemaVersion") {
            None => e.warn("schemaVersion", "missing; reading as version 1"),
            Some(v) if v > SCHEMA_VERSION as f64 => e.warn(
                "schemaVersion",
                format!(
                    "written by schema version {v}; this reader knows version {SCHEMA_VERSION}"
                ),
            ),
            Some(_) => {}
        }
        map.meta = Meta {
            title: e.required_string("title"),
            description: e.string("description").unwrap_or_default(),
            kind: e
                .one_of("kind", MAP_KINDS)
                .unwrap_or_else(|| "journey-map".into()),
            scenario: e.string("scenario").unwrap_or_default(),
            goals: e.string("goals").unwrap_or_default(),
            owner: e.string("owner").unwrap_or_default(),
            review_due: e.string("reviewDue"),
            created_at: e.number("createdAt").map(|v| v as i64),
            template: e.string("template"),
        };
    }

    fn emotions(&mut self, map: &mut JourneyMap) {
        let Some(emotions) = self.txn.get_map("emotions") else {
            return;
        };
        let entries: Vec<(String, Out)> = emotions
            .iter(self.txn)
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        for (key, value) in entries {
            let path = format!("emotions/{key}");
            let Some((persona, step)) = key.split_once('/') else {
                self.warn(path, "the key is not <personaId>/<stepId>; skipped");
                continue;
            };
            let Some(score) = number_of(&value) else {
                self.warn(path, "the score is not a number; skipped");
                continue;
            };
            let clamped =
                (score.trunc() as i64).clamp(*EMOTION_RANGE.start(), *EMOTION_RANGE.end());
            if clamped as f64 != score {
                self.warn(
                    &path,
                    format!("score {score} is not an integer from -2 to 2; read as {clamped}"),
                );
            }
            map.emotions.push(Emotion {
                persona_id: (persona != "*").then(|| persona.to_owned()),
                step_id: step.to_owned(),
                score: clamped as i8,
            });
        }
    }

    fn check_references(&mut self, map: &JourneyMap) {
        fn ids<E>(v: &[E], id: impl Fn(&E) -> &str) -> HashSet<String> {
            v.iter().map(|e| id(e).to_owned()).collect()
        }
        let stages = ids(&map.stages, |e| &e.id);
        let steps = ids(&map.steps, |e| &e.id);
        let lanes = ids(&map.lanes, |e| &e.id);
        let cards = ids(&map.cards, |e| &e.id);
        let personas = ids(&map.personas, |e| &e.id);
        let channels = ids(&map.channels, |e| &e.id);
        let touchpoints = ids(&map.touchpoints, |e| &e.id);
        let metrics = ids(&map.metrics, |e| &e.id);
        let mut dangling = Vec::new();
        let mut check = |path: String, target: Option<&str>, set: &HashSet<String>, what: &str| {
            if let Some(t) = target
                && !set.contains(t)
            {
                dangling.push((
                    path,
                    format!("refers to {what} {t:?}, which does not exist"),
                ));
            }
        };
        for p in &map.personas {
            for c in &p.channels {
                check(
                    format!("personas/{}.channels", p.id),
                    Some(c),
                    &channels,
                    "channel",
                );
            }
        }
        for s in &map.steps {
            check(
                format!("steps/{}.stageId", s.id),
                Some(&s.stage_id),
                &stages,
                "stage",
            );
        }
        for l in &map.lanes {
            check(
                format!("lanes/{}.personaId", l.id),
                l.persona_id.as_deref(),
                &personas,
                "persona",
            );
        }
        for c in &map.cards {
            let p = |f: &str| format!("cards/{}.{f}", c.id);
            check(p("laneId"), Some(&c.lane_id), &lanes, "lane");
            check(p("stepId"), Some(&c.step_id), &steps, "step");
            check(p("endStepId"), c.end_step_id.as_deref(), &steps, "step");
            check(
                p("personaId"),
                c.persona_id.as_deref(),
                &personas,
                "persona",
            );
            check(
                p("channelId"),
                c.channel_id.as_deref(),
                &channels,
                "channel",
            );
            check(
                p("touchpointId"),
                c.touchpoint_id.as_deref(),
                &touchpoints,
                "touchpoint",
            );
        }
        for t in &map.touchpoints {
            check(
                format!("touchpoints/{}.channelId", t.id),
                t.channel_id.as_deref(),
                &channels,
                "channel",
            );
            check(
                format!("touchpoints/{}.stepId", t.id),
                t.step_id.as_deref(),
                &steps,
                "step",
            );
        }
        for m in &map.metrics {
            check(
                format!("metrics/{}.stepId", m.id),
                m.step_id.as_deref(),
                &steps,
                "step",
            );
            check(
                format!("metrics/{}.touchpointId", m.id),
                m.touchpoint_id.as_deref(),
                &touchpoints,
                "touchpoint",
            );
        }
        for m in &map.measurements {
            check(
                format!("measurements/{}.metricId", m.id),
                Some(&m.metric_id),
                &metrics,
                "metric",
            );
        }
        for l in &map.links {
            check(
                format!("links/{}.from", l.id),
                Some(&l.from),
                &cards,
                "card",
            );
            check(format!("links/{}.to", l.id), Some(&l.to), &cards, "card");
        }
        for e in &map.emotions {
            let path = format!(
                "emotions/{}/{}",
                e.persona_id.as_deref().unwrap_or("*"),
                e.step_id
            );
            check(path.clone(), e.persona_id.as_deref(), &personas, "persona");
            check(path, Some(&e.step_id), &steps, "step");
        }
        for (path, message) in dangling {
            self.warn(path, message);
        }
    }
}

fn number_of(value: &Out) -> Option<f64> {
    match value {
        Out::Any(Any::Number(Number::Float(n))) => Some(*n),
        Out::Any(Any::Number(Number::Int(n))) => Some(*n as f64),
        _ => None,
    }
}

/// One entity's fields, read with the checks of `SCHEMA.md` §7.
struct Entity<'r, 'a, T> {
    reader: &'r mut Reader<'a, T>,
    map: MapRef,
    path: String,
}

impl<T: ReadTxn> Entity<'_, '_, T> {
    fn warn(&mut self, field: &str, message: impl Into<String>) {
        let path = format!("{}.{field}", self.path);
        self.reader.warn(path, message);
    }

    fn raw(&self, field: &str) -> Option<Out> {
        match self.map.get(self.reader.txn, field) {
            None | Some(Out::Any(Any::Null | Any::Undefined)) => None,
            Some(v) => Some(v),
        }
    }

    fn string(&mut self, field: &str) -> Option<String> {
        match self.raw(field)? {
            Out::Any(Any::String(s)) => Some(s.to_string()),
            Out::YText(t) => Some(t.get_string(self.reader.txn)),
            other => {
                let found = describe(&other, self.reader.txn);
                self.warn(field, format!("expected a string, found {found}; ignored"));
                None
            }
        }
    }

    fn required_string(&mut self, field: &str) -> String {
        self.string(field).unwrap_or_else(|| {
            if self.raw(field).is_none() {
                self.warn(field, "missing");
            }
            String::new()
        })
    }

    fn number(&mut self, field: &str) -> Option<f64> {
        let value = self.raw(field)?;
        let n = number_of(&value);
        if n.is_none() {
            let found = describe(&value, self.reader.txn);
            self.warn(field, format!("expected a number, found {found}; ignored"));
        }
        n
    }

    fn int_in(&mut self, field: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
        let n = self.number(field)?;
        let v = (n.trunc() as i64).clamp(*range.start(), *range.end());
        if v as f64 != n {
            self.warn(
                field,
                format!(
                    "{n} is not an integer from {} to {}; read as {v}",
                    range.start(),
                    range.end()
                ),
            );
        }
        Some(v)
    }

    fn one_of(&mut self, field: &str, allowed: &[&str]) -> Option<String> {
        let v = self.string(field)?;
        if !allowed.contains(&v.as_str()) {
            self.warn(
                field,
                format!("unknown value {v:?} (known: {})", allowed.join(", ")),
            );
        }
        Some(v)
    }

    fn strings(&mut self, field: &str) -> Vec<String> {
        match self.raw(field) {
            None => Vec::new(),
            Some(Out::Any(Any::Array(items))) => {
                let strings: Vec<String> = items
                    .iter()
                    .filter_map(|i| match i {
                        Any::String(s) => Some(s.to_string()),
                        _ => None,
                    })
                    .collect();
                if strings.len() != items.len() {
                    self.warn(field, "non-string items ignored");
                }
                strings
            }
            Some(other) => {
                let found = describe(&other, self.reader.txn);
                self.warn(
                    field,
                    format!("expected an array of strings, found {found}; ignored"),
                );
                Vec::new()
            }
        }
    }

    fn rank(&mut self) -> String {
        match self.string("rank") {
            Some(r) if rank::is_valid(&r) => r,
            Some(r) => {
                self.warn("rank", format!("{r:?} is not a valid rank; placed last"));
                r
            }
            None => {
                if self.raw("rank").is_none() {
                    self.warn("rank", "missing; placed last");
                }
                String::new()
            }
        }
    }
}

fn describe<T: ReadTxn>(value: &Out, txn: &T) -> String {
    match value {
        Out::Any(a) => match a {
            Any::String(_) => "a string".into(),
            Any::Number(_) => "a number".into(),
            Any::Bool(_) => "a boolean".into(),
            Any::Array(_) => "an array".into(),
            Any::Map(_) => "an object".into(),
            Any::Buffer(_) => "binary data".into(),
            Any::Null | Any::Undefined => "null".into(),
        },
        Out::YText(_) => "a Y.Text".into(),
        Out::YArray(_) => "a Y.Array".into(),
        Out::YMap(m) => format!("a Y.Map {}", m.to_json(txn)),
        _ => "a shared type".into(),
    }
}

/// Sorts every collection as `SCHEMA.md` says: by rank (invalid ranks last), then id; steps by their
/// stage's position first.
fn sort(map: &mut JourneyMap) {
    fn key<'e>(rank_: &'e str, id: &'e str) -> (bool, &'e str, &'e str) {
        (!rank::is_valid(rank_), rank_, id)
    }
    map.personas
        .sort_by(|a, b| key(&a.rank, &a.id).cmp(&key(&b.rank, &b.id)));
    map.stages
        .sort_by(|a, b| key(&a.rank, &a.id).cmp(&key(&b.rank, &b.id)));
    map.lanes
        .sort_by(|a, b| key(&a.rank, &a.id).cmp(&key(&b.rank, &b.id)));
    map.channels
        .sort_by(|a, b| key(&a.rank, &a.id).cmp(&key(&b.rank, &b.id)));
    map.touchpoints
        .sort_by(|a, b| key(&a.rank, &a.id).cmp(&key(&b.rank, &b.id)));
    map.metrics
        .sort_by(|a, b| key(&a.rank, &a.id).cmp(&key(&b.rank, &b.id)));
    let stage_pos = |id: &str| {
        map.stages
            .iter()
            .position(|s| s.id == id)
            .unwrap_or(usize::MAX)
    };
    let mut steps = std::mem::take(&mut map.steps);
    steps.sort_by(|a, b| {
        (stage_pos(&a.stage_id), key(&a.rank, &a.id))
            .cmp(&(stage_pos(&b.stage_id), key(&b.rank, &b.id)))
    });
    map.steps = steps;
    let step_pos = |id: &str| {
        map.steps
            .iter()
            .position(|s| s.id == id)
            .unwrap_or(usize::MAX)
    };
    let lane_pos = |id: &str| {
        map.lanes
            .iter()
            .position(|s| s.id == id)
            .unwrap_or(usize::MAX)
    };
    let mut cards = std::mem::take(&mut map.cards);
    cards.sort_by(|a, b| {
        (
            lane_pos(&a.lane_id),
            step_pos(&a.step_id),
            key(&a.rank, &a.id),
        )
            .cmp(&(
                lane_pos(&b.lane_id),
                step_pos(&b.step_id),
                key(&b.rank, &b.id),
            ))
    });
    map.cards = cards;
    map.measurements
        .sort_by(|a, b| (&a.metric_id, &a.date, &a.id).cmp(&(&b.metric_id, &b.date, &b.id)));
    map.links.sort_by(|a, b| a.id.cmp(&b.id));
    let mut emotions = std::mem::take(&mut map.emotions);
    emotions.sort_by(|a, b| {
        (&a.persona_id, step_pos(&a.step_id)).cmp(&(&b.persona_id, step_pos(&b.step_id)))
    });
    map.emotions = emotions;
}
