//! Typed edits of a map. Each writes ordinary Yjs changes into the caller's transaction (so one
//! user action can be one update on the wire) and follows `SCHEMA.md` §6: entities are keyed by
//! id, moves set placement fields and ranks, deletes cascade to what cannot stand alone.

use super::model::*;
use super::rank;
use yrs::{Any, Map, MapPrelim, MapRef, Out, ReadTxn, Text, TextPrelim, TransactionMut, WriteTxn};

/// The collections of `SCHEMA.md` §4 that hold entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Personas,
    Stages,
    Steps,
    Lanes,
    Cards,
    Channels,
    Touchpoints,
    Metrics,
    Measurements,
    Links,
}

impl Collection {
    pub const ALL: [Collection; 10] = [
        Collection::Personas,
        Collection::Stages,
        Collection::Steps,
        Collection::Lanes,
        Collection::Cards,
        Collection::Channels,
        Collection::Touchpoints,
        Collection::Metrics,
        Collection::Measurements,
        Collection::Links,
    ];

    pub fn root(self) -> &'static str {
        match self {
            Collection::Personas => "personas",
            Collection::Stages => "stages",
            Collection::Steps => "steps",
            Collection::Lanes => "lanes",
            Collection::Cards => "cards",
            Collection::Channels => "channels",
            Collection::Touchpoints => "touchpoints",
            Collection::Metrics => "metrics",
            Collection::Measurements => "measurements",
            Collection::Links => "links",
        }
    }
}

/// Where an entity goes among its siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At<'a> {
    First,
    Last,
    Before(&'a str),
    After(&'a str),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("no {collection} entity with id {id:?}")]
    NotFound {
        collection: &'static str,
        id: String,
    },
    #[error("{0}")]
    Invalid(String),
}

type Result<T> = std::result::Result<T, EditError>;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62(mut n: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(BASE62[(n % 62) as usize]);
        n /= 62;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII")
}

/// Edits one map within one transaction.
pub struct Editor<'t, 'doc> {
    txn: &'t mut TransactionMut<'doc>,
    id_prefix: String,
    next_id: u64,
}

impl<'t, 'doc> Editor<'t, 'doc> {
    pub fn new(txn: &'t mut TransactionMut<'doc>) -> Self {
        let client = txn.doc().client_id();
        // Every entity created consumes at least one clock tick of this client, so
        // (client, clock at start + n) never repeats, across transactions too.
        let clock = txn.state_vector().get(&client);
        Editor {
            id_prefix: base62(client.get()),
            next_id: u64::from(clock),
            txn,
        }
    }

    fn new_id(&mut self) -> String {
        let id = format!("{}-{}", self.id_prefix, base62(self.next_id));
        self.next_id += 1;
        id
    }

    fn collection(&mut self, c: Collection) -> MapRef {
        self.txn.get_or_insert_map(c.root())
    }

    fn entity(&mut self, c: Collection, id: &str) -> Result<MapRef> {
        match self.collection(c).get(self.txn, id) {
            Some(Out::YMap(m)) => Ok(m),
            _ => Err(EditError::NotFound {
                collection: c.root(),
                id: id.to_owned(),
            }),
        }
    }

    fn insert(&mut self, c: Collection, fields: Vec<(&str, yrs::In)>) -> String {
        let id = self.new_id();
        let prelim: MapPrelim = fields.into_iter().collect();
        self.collection(c).insert(self.txn, id.as_str(), prelim);
        id
    }

    /// (rank, id) of the entities of `c` for which `filter` holds, `except` left out.
    fn siblings(
        &mut self,
        c: Collection,
        except: Option<&str>,
        filter: impl Fn(&MapRef, &TransactionMut<'doc>) -> bool,
    ) -> Vec<(String, String)> {
        let coll = self.collection(c);
        coll.iter(self.txn)
            .filter_map(|(id, v)| match v {
                Out::YMap(m) if Some(id) != except && filter(&m, self.txn) => Some((
                    string_field(&m, self.txn, "rank").unwrap_or_default(),
                    id.to_owned(),
                )),
                _ => None,
            })
            .collect()
    }

    /// Sets up a new, empty map: `SCHEMA.md` §5.1.
    pub fn init(&mut self, title: &str, kind: &str, created_at: i64) -> Result<()> {
        if !MAP_KINDS.contains(&kind) {
            return Err(EditError::Invalid(format!(
                "unknown map kind {kind:?} (known: {})",
                MAP_KINDS.join(", ")
            )));
        }
        let meta = self.txn.get_or_insert_map("meta");
        meta.insert(self.txn, "schemaVersion", SCHEMA_VERSION as i64);
        meta.insert(self.txn, "title", title);
        meta.insert(self.txn, "kind", kind);
        meta.insert(self.txn, "createdAt", created_at);
        Ok(())
    }

    /// Sets a field of `meta` (a string; `None` removes it).
    pub fn set_meta(&mut self, field: &str, value: Option<&str>) {
        let meta = self.txn.get_or_insert_map("meta");
        match value {
            Some(v) => {
                meta.insert(self.txn, field, v);
            }
            None => {
                meta.remove(self.txn, field);
            }
        }
    }

    pub fn add_persona(&mut self, name: &str, at: At<'_>) -> Result<String> {
        let rank = rank_at(self.siblings_all(Collection::Personas), at)?;
        Ok(self.insert(
            Collection::Personas,
            vec![("name", name.into()), ("rank", rank.into())],
        ))
    }

    pub fn add_stage(&mut self, name: &str, at: At<'_>) -> Result<String> {
        let rank = rank_at(self.siblings_all(Collection::Stages), at)?;
        Ok(self.insert(
            Collection::Stages,
            vec![("name", name.into()), ("rank", rank.into())],
        ))
    }

    pub fn add_step(&mut self, stage_id: &str, name: &str, at: At<'_>) -> Result<String> {
        self.entity(Collection::Stages, stage_id)?;
        let siblings = self.steps_of(stage_id, None);
        let rank = rank_at(siblings, at)?;
        Ok(self.insert(
            Collection::Steps,
            vec![
                ("stageId", stage_id.into()),
                ("name", name.into()),
                ("rank", rank.into()),
            ],
        ))
    }

    pub fn add_lane(&mut self, kind: &str, name: &str, at: At<'_>) -> Result<String> {
        if !LANE_KINDS.contains(&kind) {
            return Err(EditError::Invalid(format!(
                "unknown lane kind {kind:?} (known: {})",
                LANE_KINDS.join(", ")
            )));
        }
        let rank = rank_at(self.siblings_all(Collection::Lanes), at)?;
        Ok(self.insert(
            Collection::Lanes,
            vec![
                ("kind", kind.into()),
                ("name", name.into()),
                ("rank", rank.into()),
            ],
        ))
    }

    pub fn add_card(
        &mut self,
        lane_id: &str,
        step_id: &str,
        text: &str,
        at: At<'_>,
    ) -> Result<String> {
        self.entity(Collection::Lanes, lane_id)?;
        self.entity(Collection::Steps, step_id)?;
        let siblings = self.cards_in(lane_id, step_id, None);
        let rank = rank_at(siblings, at)?;
        Ok(self.insert(
            Collection::Cards,
            vec![
                ("laneId", lane_id.into()),
                ("stepId", step_id.into()),
                ("rank", rank.into()),
                ("text", TextPrelim::new(text).into()),
            ],
        ))
    }

    pub fn add_channel(&mut self, name: &str, at: At<'_>) -> Result<String> {
        let rank = rank_at(self.siblings_all(Collection::Channels), at)?;
        Ok(self.insert(
            Collection::Channels,
            vec![("name", name.into()), ("rank", rank.into())],
        ))
    }

    pub fn add_touchpoint(
        &mut self,
        name: &str,
        channel_id: Option<&str>,
        step_id: Option<&str>,
    ) -> Result<String> {
        if let Some(c) = channel_id {
            self.entity(Collection::Channels, c)?;
        }
        if let Some(s) = step_id {
            self.entity(Collection::Steps, s)?;
        }
        let rank = rank_at(self.siblings_all(Collection::Touchpoints), At::Last)?;
        let mut fields: Vec<(&str, yrs::In)> = vec![("name", name.into()), ("rank", rank.into())];
        if let Some(c) = channel_id {
            fields.push(("channelId", c.into()));
        }
        if let Some(s) = step_id {
            fields.push(("stepId", s.into()));
        }
        Ok(self.insert(Collection::Touchpoints, fields))
    }

    pub fn add_metric(
        &mut self,
        name: &str,
        kind: &str,
        target: Option<f64>,
        direction: &str,
    ) -> Result<String> {
        if !METRIC_TYPES.contains(&kind) {
            return Err(EditError::Invalid(format!("unknown metric type {kind:?}")));
        }
        if !DIRECTIONS.contains(&direction) {
            return Err(EditError::Invalid(format!(
                "unknown direction {direction:?}"
            )));
        }
        let rank = rank_at(self.siblings_all(Collection::Metrics), At::Last)?;
        let mut fields: Vec<(&str, yrs::In)> = vec![
            ("name", name.into()),
            ("type", kind.into()),
            ("direction", direction.into()),
            ("rank", rank.into()),
        ];
        if let Some(t) = target {
            fields.push(("target", t.into()));
        }
        Ok(self.insert(Collection::Metrics, fields))
    }

    /// Records a dated value of a metric (`date` is `YYYY-MM-DD`).
    pub fn record_measurement(
        &mut self,
        metric_id: &str,
        date: &str,
        value: f64,
    ) -> Result<String> {
        self.entity(Collection::Metrics, metric_id)?;
        if !is_date(date) {
            return Err(EditError::Invalid(format!(
                "{date:?} is not a YYYY-MM-DD date"
            )));
        }
        if !value.is_finite() {
            return Err(EditError::Invalid(
                "a measurement must be a finite number".into(),
            ));
        }
        Ok(self.insert(
            Collection::Measurements,
            vec![
                ("metricId", metric_id.into()),
                ("date", date.into()),
                ("value", value.into()),
            ],
        ))
    }

    /// Links two cards: `addresses` (opportunity → pain point), `implements` (action →
    /// opportunity) or `relates`.
    pub fn link(&mut self, from: &str, to: &str, kind: &str) -> Result<String> {
        if !LINK_KINDS.contains(&kind) {
            return Err(EditError::Invalid(format!("unknown link kind {kind:?}")));
        }
        if from == to {
            return Err(EditError::Invalid(
                "a card cannot be linked to itself".into(),
            ));
        }
        self.entity(Collection::Cards, from)?;
        self.entity(Collection::Cards, to)?;
        Ok(self.insert(
            Collection::Links,
            vec![
                ("from", from.into()),
                ("to", to.into()),
                ("kind", kind.into()),
            ],
        ))
    }

    /// Sets the emotion score of a persona (or of everyone, `None`) at a step.
    pub fn set_emotion(
        &mut self,
        persona_id: Option<&str>,
        step_id: &str,
        score: i8,
    ) -> Result<()> {
        if !EMOTION_RANGE.contains(&i64::from(score)) {
            return Err(EditError::Invalid(format!(
                "emotion score {score} is outside -2..=2"
            )));
        }
        if let Some(p) = persona_id {
            self.entity(Collection::Personas, p)?;
        }
        self.entity(Collection::Steps, step_id)?;
        let key = format!("{}/{step_id}", persona_id.unwrap_or("*"));
        let emotions = self.txn.get_or_insert_map("emotions");
        emotions.insert(self.txn, key, i64::from(score));
        Ok(())
    }

    /// Renames an entity that has a `name`.
    pub fn rename(&mut self, c: Collection, id: &str, name: &str) -> Result<()> {
        if matches!(
            c,
            Collection::Cards | Collection::Measurements | Collection::Links
        ) {
            return Err(EditError::Invalid(format!("{} have no name", c.root())));
        }
        let e = self.entity(c, id)?;
        e.insert(self.txn, "name", name);
        Ok(())
    }

    /// Replaces a card's text.
    pub fn set_card_text(&mut self, id: &str, text: &str) -> Result<()> {
        let card = self.entity(Collection::Cards, id)?;
        match card.get(self.txn, "text") {
            Some(Out::YText(t)) => {
                let len = t.len(self.txn);
                t.remove_range(self.txn, 0, len);
                t.insert(self.txn, 0, text);
            }
            _ => {
                card.insert(self.txn, "text", TextPrelim::new(text));
            }
        }
        Ok(())
    }

    /// Sets (or, with `None`, clears) a plain field of an entity, such as a card's `severity`,
    /// `evidence` or `status`. Ranks, placements and references have their own operations.
    pub fn set_field(
        &mut self,
        c: Collection,
        id: &str,
        field: &str,
        value: Option<Any>,
    ) -> Result<()> {
        if matches!(field, "rank" | "text" | "from" | "to") || field.ends_with("Id") {
            return Err(EditError::Invalid(format!(
                "{field} is changed by a move, set_reference or its own operation"
            )));
        }
        let e = self.entity(c, id)?;
        match value {
            Some(v) => {
                e.insert(self.txn, field, v);
            }
            None => {
                e.remove(self.txn, field);
            }
        }
        Ok(())
    }

    /// Points a reference field (`stepId` of a metric or touchpoint, `endStepId`, `personaId`,
    /// `channelId`, `touchpointId`) at an existing entity, or clears it with `None`. A card's lane and
    /// step, and a step's stage, are placements: they change with [`Editor::move_card`] and
    /// [`Editor::move_step`].
    pub fn set_reference(
        &mut self,
        c: Collection,
        id: &str,
        field: &str,
        target: Option<&str>,
    ) -> Result<()> {
        let placement = matches!(
            (c, field),
            (Collection::Cards, "laneId" | "stepId") | (Collection::Steps, "stageId")
        );
        if placement {
            return Err(EditError::Invalid(format!(
                "{field} of {} is changed by a move",
                c.root()
            )));
        }
        let to = match field {
            "stepId" | "endStepId" => Collection::Steps,
            "personaId" => Collection::Personas,
            "channelId" => Collection::Channels,
            "touchpointId" => Collection::Touchpoints,
            _ => {
                return Err(EditError::Invalid(format!(
                    "{field} is not a reference field"
                )));
            }
        };
        let e = self.entity(c, id)?;
        match target {
            Some(t) => {
                self.entity(to, t)?;
                e.insert(self.txn, field, t);
            }
            None => {
                e.remove(self.txn, field);
            }
        }
        Ok(())
    }

    /// Moves an entity among its siblings (stages, lanes, personas, channels, ...). Steps and cards
    /// move with [`Editor::move_step`] and [`Editor::move_card`].
    pub fn reorder(&mut self, c: Collection, id: &str, at: At<'_>) -> Result<()> {
        match c {
            Collection::Steps => {
                let stage =
                    string_field(&self.entity(c, id)?, self.txn, "stageId").unwrap_or_default();
                return self.move_step(id, &stage, at);
            }
            Collection::Cards => {
                let card = self.entity(c, id)?;
                let lane = string_field(&card, self.txn, "laneId").unwrap_or_default();
                let step = string_field(&card, self.txn, "stepId").unwrap_or_default();
                return self.move_card(id, &lane, &step, at);
            }
            _ => {}
        }
        let e = self.entity(c, id)?;
        let siblings = self.siblings(c, Some(id), |_, _| true);
        let rank = rank_at(siblings, at)?;
        e.insert(self.txn, "rank", rank);
        Ok(())
    }

    /// Moves a step within its stage or to another stage.
    pub fn move_step(&mut self, id: &str, stage_id: &str, at: At<'_>) -> Result<()> {
        let step = self.entity(Collection::Steps, id)?;
        self.entity(Collection::Stages, stage_id)?;
        let siblings = self.steps_of(stage_id, Some(id));
        let rank = rank_at(siblings, at)?;
        step.insert(self.txn, "stageId", stage_id);
        step.insert(self.txn, "rank", rank);
        Ok(())
    }

    /// Moves a card to a cell (lane × step), at a position among the cell's cards.
    pub fn move_card(&mut self, id: &str, lane_id: &str, step_id: &str, at: At<'_>) -> Result<()> {
        let card = self.entity(Collection::Cards, id)?;
        self.entity(Collection::Lanes, lane_id)?;
        self.entity(Collection::Steps, step_id)?;
        let siblings = self.cards_in(lane_id, step_id, Some(id));
        let rank = rank_at(siblings, at)?;
        card.insert(self.txn, "laneId", lane_id);
        card.insert(self.txn, "stepId", step_id);
        card.insert(self.txn, "rank", rank);
        Ok(())
    }

    /// Deletes an entity and what cannot stand without it (`SCHEMA.md` §6).
    pub fn delete(&mut self, c: Collection, id: &str) -> Result<()> {
        self.entity(c, id)?;
        self.collection(c).remove(self.txn, id);
        match c {
            Collection::Stages => {
                for (_, step) in self.siblings(Collection::Steps, None, field_is("stageId", id)) {
                    self.delete(Collection::Steps, &step)?;
                }
            }
            Collection::Steps => {
                for (_, card) in self.siblings(Collection::Cards, None, field_is("stepId", id)) {
                    self.delete(Collection::Cards, &card)?;
                }
                self.delete_emotions(|_, step| step == id);
            }
            Collection::Lanes => {
                for (_, card) in self.siblings(Collection::Cards, None, field_is("laneId", id)) {
                    self.delete(Collection::Cards, &card)?;
                }
            }
            Collection::Cards => {
                let from = self.siblings(Collection::Links, None, field_is("from", id));
                let to = self.siblings(Collection::Links, None, field_is("to", id));
                for (_, link) in from.into_iter().chain(to) {
                    self.collection(Collection::Links).remove(self.txn, &link);
                }
            }
            Collection::Metrics => {
                for (_, m) in
                    self.siblings(Collection::Measurements, None, field_is("metricId", id))
                {
                    self.collection(Collection::Measurements)
                        .remove(self.txn, &m);
                }
            }
            Collection::Personas => self.delete_emotions(|persona, _| persona == id),
            _ => {}
        }
        Ok(())
    }

    fn delete_emotions(&mut self, which: impl Fn(&str, &str) -> bool) {
        let emotions = self.txn.get_or_insert_map("emotions");
        let keys: Vec<String> = emotions
            .keys(self.txn)
            .filter(|k| k.split_once('/').is_some_and(|(p, s)| which(p, s)))
            .map(str::to_owned)
            .collect();
        for k in keys {
            emotions.remove(self.txn, &k);
        }
    }

    fn siblings_all(&mut self, c: Collection) -> Vec<(String, String)> {
        self.siblings(c, None, |_, _| true)
    }

    fn steps_of(&mut self, stage_id: &str, except: Option<&str>) -> Vec<(String, String)> {
        self.siblings(Collection::Steps, except, field_is("stageId", stage_id))
    }

    fn cards_in(
        &mut self,
        lane_id: &str,
        step_id: &str,
        except: Option<&str>,
    ) -> Vec<(String, String)> {
        let (lane, step) = (lane_id.to_owned(), step_id.to_owned());
        self.siblings(Collection::Cards, except, move |m, txn| {
            string_field(m, txn, "laneId").as_deref() == Some(lane.as_str())
                && string_field(m, txn, "stepId").as_deref() == Some(step.as_str())
        })
    }
}

/// A rank for a new position among `siblings` (rank, id), given in any order.
fn rank_at(mut siblings: Vec<(String, String)>, at: At<'_>) -> Result<String> {
    siblings.sort_by(|a, b| {
        (!rank::is_valid(&a.0), &a.0, &a.1).cmp(&(!rank::is_valid(&b.0), &b.0, &b.1))
    });
    let valid: Vec<&(String, String)> = siblings.iter().filter(|s| rank::is_valid(&s.0)).collect();
    let find = |id: &str| {
        valid.iter().position(|s| s.1 == id).ok_or_else(|| {
            EditError::Invalid(format!(
                "{id:?} is not among the entities it should be placed next to"
            ))
        })
    };
    let (lo, hi) = match at {
        At::First => (None, valid.first().map(|s| s.0.as_str())),
        At::Last => (valid.last().map(|s| s.0.as_str()), None),
        At::Before(id) => {
            let i = find(id)?;
            (
                i.checked_sub(1).map(|j| valid[j].0.as_str()),
                Some(valid[i].0.as_str()),
            )
        }
        At::After(id) => {
            let i = find(id)?;
            (
                Some(valid[i].0.as_str()),
                valid.get(i + 1).map(|s| s.0.as_str()),
            )
        }
    };
    Ok(rank::between(lo, hi))
}

fn field_is<'a, T: ReadTxn>(field: &'a str, value: &'a str) -> impl Fn(&MapRef, &T) -> bool + 'a {
    move |m, txn| string_field(m, txn, field).as_deref() == Some(value)
}

fn string_field<T: ReadTxn>(m: &MapRef, txn: &T, field: &str) -> Option<String> {
    match m.get(txn, field) {
        Some(Out::Any(Any::String(s))) => Some(s.to_string()),
        _ => None,
    }
}

/// Whether `s` is a calendar date written YYYY-MM-DD (as `SCHEMA.md` writes dates): `2026-02-30`
/// is not one, `2028-02-29` is.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if !(b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit()))
    {
        return false;
    }
    let (year, month, day) = (
        s[..4].parse::<u32>().unwrap_or(0),
        s[5..7].parse::<u32>().unwrap_or(0),
        s[8..10].parse::<u32>().unwrap_or(0),
    );
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}
