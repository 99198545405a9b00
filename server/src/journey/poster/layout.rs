//! Where everything on a poster goes, as rectangles in poster units (so overlaps can be checked):
//! the title, persona profiles and legend on top, then the journey in one or more bands of step
//! columns, lanes down, and in each lane its cards, touchpoints and metrics.

use super::content::{Item, What, items, lane_rows};
use super::style;
use std::collections::HashSet;
use waymark_protocol::schema::JourneyMap;

pub const MARGIN: f32 = 32.0;
pub const HEADER_W: f32 = 190.0;
pub const COL_W: f32 = 210.0;
pub const GAP: f32 = 8.0;
pub const TITLE_H: f32 = 84.0;
pub const STAGE_H: f32 = 34.0;
pub const STEP_H: f32 = 52.0;
pub const LINE_H: f32 = 16.0;
pub const SMALL_LINE_H: f32 = 13.0;
pub const FONT_SIZE: f32 = 12.0;
/// The smallest text on a poster (badges, the legend, axis labels): what must stay ≥ 8 pt on paper.
pub const SMALL_FONT: f32 = 10.0;
/// Conservative average glyph widths of the poster font at `FONT_SIZE` and `SMALL_FONT`: wrapping
/// by them keeps every line inside its box.
pub const CHAR_W: f32 = 7.4;
pub const SMALL_CHAR_W: f32 = 6.3;
pub const EMOTION_H: f32 = 150.0;
pub const MIN_LANE_H: f32 = 44.0;
pub const SPARK_H: f32 = 26.0;
pub const BAND_GAP: f32 = 28.0;
pub const PROFILE_W: f32 = 300.0;
const STRIPE: f32 = 4.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl Rect {
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

/// One card, touchpoint or metric as drawn (a span over several bands is placed once per band).
#[derive(Debug, Clone)]
pub struct Placed {
    pub id: String,
    pub what: What,
    pub rect: Rect,
    pub lines: Vec<String>,
    /// Small lines under the text: evidence, severity, owner, latest value against target.
    pub meta: Vec<String>,
    /// The colour of the left edge: the lane's, or a touchpoint's channel's.
    pub stripe: &'static str,
}

/// A run of step columns drawn side by side; a long journey wraps into several.
#[derive(Debug, Clone)]
pub struct Band {
    /// The first and last step (indexes into `map.steps`, inclusive).
    pub first: usize,
    pub last: usize,
    /// Where its stage row starts.
    pub top: f32,
}

#[derive(Debug, Clone)]
pub struct LaneRow {
    pub name: String,
    pub kind: String,
    pub band: usize,
    pub rect: Rect,
}

/// A persona's profile box.
#[derive(Debug, Clone)]
pub struct Profile {
    pub rect: Rect,
    pub colour: &'static str,
    pub name: String,
    /// (label, wrapped lines)
    pub fields: Vec<(&'static str, Vec<String>)>,
}

/// One entry of the legend: a mark or a colour swatch, and what it means.
#[derive(Debug, Clone)]
pub struct Key {
    pub x: f32,
    pub y: f32,
    pub swatch: Swatch,
    pub label: String,
}

#[derive(Debug, Clone)]
pub enum Swatch {
    Colour(&'static str),
    Mark(&'static str, &'static str),
    Dashed,
}

/// Where everything goes.
#[derive(Debug, Clone)]
pub struct Layout {
    pub width: f32,
    pub height: f32,
    pub profiles: Vec<Profile>,
    pub legend: Vec<Key>,
    pub legend_top: f32,
    pub bands: Vec<Band>,
    pub lanes: Vec<LaneRow>,
    pub cards: Vec<Placed>,
    /// Cards whose lane or step does not exist.
    pub unplaced: usize,
}

/// Splits `text` into lines of at most `max` characters, at spaces where possible.
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(4);
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let mut word = word.to_owned();
            while word.chars().count() > max {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                let head: String = word.chars().take(max).collect();
                word = word.chars().skip(max).collect();
                lines.push(head);
            }
            let needed =
                line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
            if needed > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// `parts` joined by " · " into lines of at most `max` characters, each part whole on one line
/// where it fits (a part longer than a line is wrapped at its spaces).
pub fn wrap_parts(parts: &[String], max: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for part in parts {
        let len = line.chars().count();
        if len > 0 && len + 3 + part.chars().count() <= max {
            line.push_str(" · ");
            line.push_str(part);
            continue;
        }
        if len > 0 {
            lines.push(std::mem::take(&mut line));
        }
        let mut wrapped = wrap(part, max);
        line = wrapped.pop().unwrap_or_default();
        lines.extend(wrapped);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// At most `n` lines of `text`, the last ending in "…" when some were left out.
fn wrap_at_most(text: &str, max: usize, n: usize) -> Vec<String> {
    let mut lines = wrap(text, max);
    if lines.len() > n {
        lines.truncate(n);
        let last = lines.last_mut().expect("n ≥ 1");
        let keep = last.chars().count().min(max.saturating_sub(1));
        *last = last.chars().take(keep).collect::<String>() + "…";
    }
    lines
}

pub fn chars_per_line(width: f32) -> usize {
    ((width - 2.0 * GAP - STRIPE) / CHAR_W).floor() as usize
}

pub fn small_chars_per_line(width: f32) -> usize {
    ((width - 2.0 * GAP - STRIPE) / SMALL_CHAR_W).floor() as usize
}

/// The steps split into `bands` runs of (nearly) equal length.
pub fn bands_of(steps: usize, bands: usize) -> Vec<(usize, usize)> {
    let bands = bands.clamp(1, steps.max(1));
    let per = steps.max(1).div_ceil(bands);
    (0..steps.max(1))
        .step_by(per)
        .map(|first| (first, (first + per).min(steps.max(1)) - 1))
        .collect()
}

/// The poster of `map` in one band: every step side by side (the natural size).
pub fn layout(map: &JourneyMap) -> Layout {
    layout_in_bands(map, 1)
}

/// The poster of `map` with its steps wrapped into `bands` bands, one under the other.
pub fn layout_in_bands(map: &JourneyMap, bands: usize) -> Layout {
    layout_part(map, &bands_of(map.steps.len(), bands), &Part::whole(map))
}

/// What one sheet shows: all of a poster, or (tiled over several sheets) the cover or a tile.
#[derive(Debug, Clone)]
pub struct Part {
    pub profiles: bool,
    pub legend: bool,
    /// The lane rows shown (indexes into `lane_rows`), in each band.
    pub rows: std::ops::Range<usize>,
}

impl Part {
    pub fn whole(map: &JourneyMap) -> Part {
        Part {
            profiles: true,
            legend: true,
            rows: 0..row_count(map),
        }
    }

    /// The first sheet of a tiled print: title, persona profiles and the legend.
    pub fn cover() -> Part {
        Part {
            profiles: true,
            legend: true,
            rows: 0..0,
        }
    }

    /// A tile: the title line and some lane rows of a band of steps.
    pub fn tile(rows: std::ops::Range<usize>) -> Part {
        Part {
            profiles: false,
            legend: false,
            rows,
        }
    }
}

/// How many lane rows a poster of `map` draws.
pub fn row_count(map: &JourneyMap) -> usize {
    lane_rows(map).len()
}

/// The heights of the lane rows of one band of steps, to cut a tall band over several sheets.
pub fn row_heights(map: &JourneyMap, run: (usize, usize)) -> Vec<f32> {
    layout_part(map, &[run], &Part::tile(0..row_count(map)))
        .lanes
        .iter()
        .map(|l| l.rect.h)
        .collect()
}

/// The height of a tile without its lanes: margins, title, stage and step rows.
pub const TILE_FRAME_H: f32 = 2.0 * MARGIN + TITLE_H + GAP + STAGE_H + STEP_H;

/// `part` of the poster of the steps in `runs` (first and last step of each band, inclusive).
pub fn layout_part(map: &JourneyMap, runs: &[(usize, usize)], part: &Part) -> Layout {
    let runs = if part.rows.is_empty() { &[][..] } else { runs };
    let per_band = runs.iter().map(|(a, b)| b - a + 1).max().unwrap_or(1);
    let mut width = 2.0 * MARGIN + HEADER_W + per_band as f32 * COL_W;
    if runs.is_empty() {
        // A cover as wide as three profiles, or the widest the map would be on one band.
        width = 2.0 * MARGIN + 3.0 * PROFILE_W + 2.0 * GAP;
    }
    let inner = width - 2.0 * MARGIN;

    let mut y = MARGIN + TITLE_H;
    let (profiles, bottom) = if part.profiles {
        profiles(map, y, inner)
    } else {
        (Vec::new(), y)
    };
    y = bottom;
    let legend_top = y;
    let (legend, bottom) = if part.legend {
        legend(map, y, inner)
    } else {
        (Vec::new(), y)
    };
    y = bottom + GAP;

    let all_rows = lane_rows(map);
    let all_items: Vec<Vec<Item>> = all_rows.iter().map(|r| items(map, r)).collect();
    let placed_ids: HashSet<&str> = all_items.iter().flatten().map(|i| i.id.as_str()).collect();
    let unplaced = if part.legend {
        map.cards
            .iter()
            .filter(|c| !placed_ids.contains(c.id.as_str()))
            .count()
    } else {
        0
    };
    let rows = &all_rows[part.rows.clone()];
    let items_by_row = &all_items[part.rows.clone()];

    let mut out_bands = Vec::new();
    let mut lanes = Vec::new();
    let mut cards = Vec::new();
    for (band, &(first, last)) in runs.iter().enumerate() {
        out_bands.push(Band {
            first,
            last,
            top: y,
        });
        y += STAGE_H + STEP_H;
        let col = |i: usize| MARGIN + HEADER_W + (i - first) as f32 * COL_W;
        for (row, items) in rows.iter().zip(items_by_row) {
            let top = y;
            let height = if row.kind == "emotions" {
                EMOTION_H
            } else {
                // Each column's next free y; a box spanning columns takes the lowest free y of
                // all of them and then blocks them all.
                let mut free = vec![top + GAP; last - first + 1];
                for item in items.iter().filter(|i| i.first <= last && i.last >= first) {
                    let (a, b) = (item.first.max(first), item.last.min(last));
                    let x = col(a) + GAP;
                    let w = (b - a + 1) as f32 * COL_W - 2.0 * GAP;
                    let lines = wrap(&item.text, chars_per_line(w));
                    let meta = wrap_parts(&item.meta, small_chars_per_line(w));
                    let spark = match &item.what {
                        What::Metric { points, .. } if points.len() >= 2 => SPARK_H + 4.0,
                        _ => 0.0,
                    };
                    let h = lines.len() as f32 * LINE_H
                        + meta.len() as f32 * SMALL_LINE_H
                        + spark
                        + 2.0 * GAP;
                    let cy = free[a - first..=b - first]
                        .iter()
                        .copied()
                        .fold(top + GAP, f32::max);
                    for f in &mut free[a - first..=b - first] {
                        *f = cy + h + GAP;
                    }
                    cards.push(Placed {
                        id: item.id.clone(),
                        what: item.what.clone(),
                        rect: Rect { x, y: cy, w, h },
                        lines,
                        meta,
                        stripe: item.stripe,
                    });
                }
                let header = wrap(&row.name, chars_per_line(HEADER_W)).len().min(3) as f32;
                free.iter()
                    .copied()
                    .fold(top + MIN_LANE_H.max(header * LINE_H + 2.0 * GAP), f32::max)
                    - top
            };
            lanes.push(LaneRow {
                name: row.name.clone(),
                kind: row.kind.clone(),
                band,
                rect: Rect {
                    x: MARGIN,
                    y: top,
                    w: HEADER_W + (last - first + 1) as f32 * COL_W,
                    h: height,
                },
            });
            y += height;
        }
        y += BAND_GAP;
    }
    if !runs.is_empty() {
        y -= BAND_GAP;
    }
    let height = y + MARGIN + if unplaced > 0 { LINE_H * 2.0 } else { 0.0 };
    Layout {
        width,
        height,
        profiles,
        legend,
        legend_top,
        bands: out_bands,
        lanes,
        cards,
        unplaced,
    }
}

/// The personas' profile boxes, flowing left to right under the title; returns them and the y
/// below them.
fn profiles(map: &JourneyMap, top: f32, inner: f32) -> (Vec<Profile>, f32) {
    let per_row = ((inner + GAP) / (PROFILE_W + GAP)).floor().max(1.0) as usize;
    let max = small_chars_per_line(PROFILE_W);
    let mut out: Vec<Profile> = Vec::new();
    let mut y = top;
    for row in map.personas.chunks(per_row) {
        let mut row_h: f32 = 0.0;
        let first = out.len();
        for (i, p) in row.iter().enumerate() {
            let mut fields = Vec::new();
            if let Some(stage) = &p.lifecycle_stage {
                fields.push(("Lifecycle", vec![stage.clone()]));
            }
            for (label, text) in [
                ("Goals", &p.goals),
                ("Needs", &p.needs),
                ("Challenges", &p.challenges),
            ] {
                if !text.trim().is_empty() {
                    fields.push((label, wrap_at_most(text, max, 3)));
                }
            }
            let channels: Vec<&str> = p
                .channels
                .iter()
                .filter_map(|c| map.channels.iter().find(|ch| &ch.id == c))
                .map(|ch| ch.name.as_str())
                .collect();
            if !channels.is_empty() {
                fields.push(("Channels", wrap_at_most(&channels.join(", "), max, 2)));
            }
            let lines: usize = fields.iter().map(|(_, l)| 1 + l.len()).sum();
            let h = LINE_H + 2.0 * GAP + lines as f32 * SMALL_LINE_H;
            row_h = row_h.max(h);
            out.push(Profile {
                rect: Rect {
                    x: MARGIN + i as f32 * (PROFILE_W + GAP),
                    y,
                    w: PROFILE_W,
                    h,
                },
                colour: style::persona_colour(first + i),
                name: p.name.clone(),
                fields,
            });
        }
        for p in &mut out[first..] {
            p.rect.h = row_h;
        }
        y += row_h + GAP;
    }
    (out, y)
}

/// The legend: lane colours in use, evidence marks, the hypothesis edge, off-target metrics and
/// the channels' colours, flowing left to right; returns it and the y below it.
fn legend(map: &JourneyMap, top: f32, inner: f32) -> (Vec<Key>, f32) {
    let mut entries: Vec<(Swatch, String)> = Vec::new();
    let mut kinds: Vec<&str> = Vec::new();
    for lane in &map.lanes {
        if !kinds.contains(&lane.kind.as_str()) {
            kinds.push(&lane.kind);
        }
    }
    for kind in kinds {
        entries.push((
            Swatch::Colour(style::lane_colour(kind)),
            style::lane_kind_name(kind).to_owned(),
        ));
    }
    for (level, mark) in style::EVIDENCE {
        entries.push((Swatch::Mark(mark, style::INK), level.to_owned()));
    }
    entries.push((Swatch::Dashed, "dashed edge: not yet evidenced".to_owned()));
    if !map.metrics.is_empty() {
        entries.push((Swatch::Mark("▼", style::DANGER), "metric off target".into()));
        entries.push((Swatch::Mark("✓", style::GOOD), "metric on target".into()));
    }
    for (i, ch) in map.channels.iter().enumerate() {
        entries.push((
            Swatch::Colour(style::channel_colour(i)),
            format!("channel: {}", ch.name),
        ));
    }
    let mut keys = Vec::new();
    let (mut x, mut y) = (MARGIN + 62.0, top);
    for (swatch, label) in entries {
        let w = 22.0 + label.chars().count() as f32 * SMALL_CHAR_W + 18.0;
        if x + w > MARGIN + inner && x > MARGIN + 62.0 {
            x = MARGIN + 62.0;
            y += SMALL_LINE_H + 6.0;
        }
        keys.push(Key {
            x,
            y,
            swatch,
            label,
        });
        x += w;
    }
    (keys, y + SMALL_LINE_H + 6.0 + GAP)
}
