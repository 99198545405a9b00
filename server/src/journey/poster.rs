//! The map as a poster: stages and steps across, lanes down, cards in their cells, the emotion curve
//! as a line per persona. The layout is computed here as rectangles (so it can be checked for
//! overlaps), written as SVG, rasterised to PNG by resvg and converted to PDF by svg2pdf.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};
use waymark_protocol::schema::JourneyMap;

use resvg::{tiny_skia, usvg};

const MARGIN: f32 = 32.0;
const HEADER_W: f32 = 190.0;
const COL_W: f32 = 210.0;
const GAP: f32 = 8.0;
const TITLE_H: f32 = 84.0;
const STAGE_H: f32 = 34.0;
const STEP_H: f32 = 52.0;
const LINE_H: f32 = 16.0;
const FONT_SIZE: f32 = 12.0;
/// A conservative average glyph width of the poster font at `FONT_SIZE`: wrapping by it keeps
/// every line inside its card.
const CHAR_W: f32 = 7.4;
const EMOTION_H: f32 = 150.0;
const MIN_LANE_H: f32 = 44.0;
/// Largest PNG rendered, in pixels; bigger posters are scaled down to fit.
const MAX_PIXELS: f32 = 60_000_000.0;

const PERSONA_COLORS: [&str; 6] = [
    "#d1495b", "#00798c", "#edae49", "#66a182", "#2e4057", "#8d5a97",
];

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

/// One card as drawn.
#[derive(Debug, Clone)]
pub struct PlacedCard {
    pub rect: Rect,
    pub lines: Vec<String>,
    pub fill: &'static str,
}

/// Where everything goes.
#[derive(Debug, Clone)]
pub struct Layout {
    pub width: f32,
    pub height: f32,
    pub cards: Vec<PlacedCard>,
    /// (lane name, lane kind, rect of the row)
    pub lanes: Vec<(String, String, Rect)>,
    /// Cards whose lane or step does not exist.
    pub unplaced: usize,
}

fn fill_for(kind: &str) -> &'static str {
    match kind {
        "pain-points" => "#fde2e1",
        "opportunities" => "#e3f4e1",
        "improvements" => "#dfeaf9",
        "thoughts" | "feelings" => "#fff4d6",
        "touchpoints" | "channels" => "#efe6fa",
        "metrics" => "#e6f2f2",
        "frontstage" => "#e8eefc",
        "backstage" => "#eef0f2",
        "support" => "#f3efe8",
        _ => "#f4f5f7",
    }
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

fn chars_per_line(width: f32) -> usize {
    ((width - 2.0 * GAP) / CHAR_W).floor() as usize
}

pub fn layout(map: &JourneyMap) -> Layout {
    let steps = &map.steps;
    let col = |i: usize| MARGIN + HEADER_W + i as f32 * COL_W;
    let step_index = |id: &str| steps.iter().position(|s| s.id == id);
    let grid_top = MARGIN + TITLE_H + STAGE_H + STEP_H;
    let mut y = grid_top;
    let mut cards = Vec::new();
    let mut lanes = Vec::new();
    let mut placed_ids = std::collections::HashSet::new();
    for lane in &map.lanes {
        let top = y;
        let height = if lane.kind == "emotions" {
            EMOTION_H
        } else {
            // Each column's next free y; a card spanning columns takes the lowest free y of all of
            // them and then blocks them all.
            let mut free = vec![top + GAP; steps.len()];
            let mut items: Vec<(usize, usize, String, &'static str)> = map
                .cards
                .iter()
                .filter(|c| c.lane_id == lane.id)
                .filter_map(|c| {
                    let first = step_index(&c.step_id)?;
                    let last = c
                        .end_step_id
                        .as_deref()
                        .and_then(step_index)
                        .unwrap_or(first)
                        .max(first);
                    placed_ids.insert(c.id.as_str());
                    Some((first, last, c.text.clone(), fill_for(&lane.kind)))
                })
                .collect();
            if lane.kind == "metrics" {
                for m in &map.metrics {
                    let Some(step) = m.step_id.as_deref().and_then(step_index) else {
                        continue;
                    };
                    let latest = super::latest(m, &map.measurements);
                    let unit = m.unit.as_deref().unwrap_or("");
                    let mut text = m.name.clone();
                    if let Some(x) = latest {
                        let _ = write!(text, ": {}", super::with_unit(x.value, unit));
                    }
                    if let Some(t) = m.target {
                        let _ = write!(text, " (target {})", super::with_unit(t, unit));
                    }
                    items.push((step, step, text, fill_for("metrics")));
                }
            }
            for (first, last, text, fill) in items {
                let x = col(first) + GAP;
                let w = (last - first + 1) as f32 * COL_W - 2.0 * GAP;
                let lines = wrap(&text, chars_per_line(w));
                let h = lines.len() as f32 * LINE_H + 2.0 * GAP;
                let cy = free[first..=last].iter().copied().fold(top + GAP, f32::max);
                for f in &mut free[first..=last] {
                    *f = cy + h + GAP;
                }
                cards.push(PlacedCard {
                    rect: Rect { x, y: cy, w, h },
                    lines,
                    fill,
                });
            }
            free.iter().copied().fold(top + MIN_LANE_H, f32::max) - top
        };
        let width = HEADER_W + steps.len().max(1) as f32 * COL_W;
        lanes.push((
            lane.name.clone(),
            lane.kind.clone(),
            Rect {
                x: MARGIN,
                y: top,
                w: width,
                h: height,
            },
        ));
        y += height;
    }
    let unplaced = map
        .cards
        .iter()
        .filter(|c| !placed_ids.contains(c.id.as_str()))
        .count();
    let width = 2.0 * MARGIN + HEADER_W + steps.len().max(1) as f32 * COL_W;
    let height = y + MARGIN + if unplaced > 0 { LINE_H * 2.0 } else { 0.0 };
    Layout {
        width,
        height,
        cards,
        lanes,
        unplaced,
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The poster as SVG.
pub fn svg(map: &JourneyMap) -> String {
    let l = layout(map);
    let steps = &map.steps;
    let col = |i: usize| MARGIN + HEADER_W + i as f32 * COL_W;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="{FONT_SIZE}">"##,
        w = l.width,
        h = l.height
    );
    let _ = write!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let title = if map.meta.title.is_empty() {
        "Untitled map"
    } else {
        &map.meta.title
    };
    let _ = write!(
        s,
        r##"<text x="{MARGIN}" y="{}" font-size="28" font-weight="bold" fill="#1d1f24">{}</text>"##,
        MARGIN + 30.0,
        esc(title)
    );
    let subtitle: Vec<&str> = [map.meta.kind.as_str(), map.meta.scenario.as_str()]
        .into_iter()
        .filter(|x| !x.is_empty())
        .collect();
    let _ = write!(
        s,
        r##"<text x="{MARGIN}" y="{}" font-size="14" fill="#555b66">{}</text>"##,
        MARGIN + 56.0,
        esc(&subtitle.join(" · "))
    );
    // Stages over their steps.
    let stage_top = MARGIN + TITLE_H;
    let mut i = 0;
    for stage in &map.stages {
        let n = steps[i..]
            .iter()
            .take_while(|st| st.stage_id == stage.id)
            .count();
        if n == 0 {
            continue;
        }
        let x = col(i);
        let w = n as f32 * COL_W;
        let _ = write!(
            s,
            r##"<rect x="{}" y="{stage_top}" width="{}" height="{}" rx="4" fill="#2e4057"/>"##,
            x + 2.0,
            w - 4.0,
            STAGE_H - 4.0
        );
        let label = wrap(&stage.name, chars_per_line(w)).remove(0);
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-size="14" font-weight="bold" fill="#ffffff">{}</text>"##,
            x + 12.0,
            stage_top + 21.0,
            esc(&label)
        );
        i += n;
    }
    let step_top = stage_top + STAGE_H;
    for (i, st) in steps.iter().enumerate() {
        for (k, line) in wrap(&st.name, chars_per_line(COL_W))
            .iter()
            .take(2)
            .enumerate()
        {
            let _ = write!(
                s,
                r##"<text x="{}" y="{}" font-weight="bold" fill="#1d1f24">{}</text>"##,
                col(i) + GAP,
                step_top + 18.0 + k as f32 * LINE_H,
                esc(line)
            );
        }
    }
    // Lanes: background, header, column lines.
    for (n, (name, kind, r)) in l.lanes.iter().enumerate() {
        let band = if n % 2 == 0 { "#fafbfc" } else { "#ffffff" };
        let _ = write!(
            s,
            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="{band}" stroke="#e1e4e8"/>"##,
            r.x, r.y, r.w, r.h
        );
        for (k, line) in wrap(name, chars_per_line(HEADER_W))
            .iter()
            .take(3)
            .enumerate()
        {
            let _ = write!(
                s,
                r##"<text x="{}" y="{}" font-weight="bold" fill="#2e4057">{}</text>"##,
                r.x + GAP,
                r.y + 20.0 + k as f32 * LINE_H,
                esc(line)
            );
        }
        if kind == "emotions" {
            emotion_curve(&mut s, map, *r);
        }
    }
    // Cards.
    for c in &l.cards {
        let r = c.rect;
        let _ = write!(
            s,
            r##"<rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="{}" stroke="#c9ced6"/>"##,
            r.x, r.y, r.w, r.h, c.fill
        );
        for (k, line) in c.lines.iter().enumerate() {
            let _ = write!(
                s,
                r##"<text x="{}" y="{}" fill="#1d1f24">{}</text>"##,
                r.x + GAP,
                r.y + GAP + 12.0 + k as f32 * LINE_H,
                esc(line)
            );
        }
    }
    if l.unplaced > 0 {
        let _ = write!(
            s,
            r##"<text x="{MARGIN}" y="{}" fill="#a33">{} card(s) refer to a missing lane or step and are not shown.</text>"##,
            l.height - MARGIN,
            l.unplaced
        );
    }
    s.push_str("</svg>");
    s
}

/// One polyline per persona (or the map-wide curve) across the step columns, −2 at the bottom.
fn emotion_curve(s: &mut String, map: &JourneyMap, r: Rect) {
    let top = r.y + 22.0;
    let bottom = r.y + r.h - 14.0;
    let y_of = |score: i8| bottom - (f32::from(score) + 2.0) / 4.0 * (bottom - top);
    for score in -2..=2i8 {
        let y = y_of(score);
        let _ = write!(
            s,
            r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#e1e4e8" stroke-dasharray="3 3"/>"##,
            r.x + HEADER_W,
            r.x + r.w
        );
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-size="10" fill="#8a919c">{score:+}</text>"##,
            r.x + HEADER_W - 22.0,
            y + 3.0
        );
    }
    let mut curves: Vec<(Option<&str>, &str)> = map
        .personas
        .iter()
        .map(|p| (Some(p.id.as_str()), p.name.as_str()))
        .collect();
    if map.emotions.iter().any(|e| e.persona_id.is_none()) {
        curves.push((None, "Everyone"));
    }
    for (n, (persona, name)) in curves.iter().enumerate() {
        let color = PERSONA_COLORS[n % PERSONA_COLORS.len()];
        let points: Vec<(f32, f32)> = map
            .steps
            .iter()
            .enumerate()
            .filter_map(|(i, st)| {
                let e = map
                    .emotions
                    .iter()
                    .find(|e| e.step_id == st.id && e.persona_id.as_deref() == *persona)?;
                Some((r.x + HEADER_W + (i as f32 + 0.5) * COL_W, y_of(e.score)))
            })
            .collect();
        if points.is_empty() {
            continue;
        }
        let path: Vec<String> = points.iter().map(|(x, y)| format!("{x},{y}")).collect();
        let _ = write!(
            s,
            r##"<polyline points="{}" fill="none" stroke="{color}" stroke-width="3"/>"##,
            path.join(" ")
        );
        for (x, y) in &points {
            let _ = write!(s, r##"<circle cx="{x}" cy="{y}" r="4" fill="{color}"/>"##);
        }
        let _ = write!(
            s,
            r##"<rect x="{}" y="{}" width="10" height="10" fill="{color}"/><text x="{}" y="{}" font-size="11" fill="#1d1f24">{}</text>"##,
            r.x + GAP,
            r.y + 44.0 + n as f32 * 16.0,
            r.x + GAP + 14.0,
            r.y + 53.0 + n as f32 * 16.0,
            esc(&wrap(name, 22).remove(0))
        );
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PosterError {
    #[error("the poster's SVG could not be read: {0}")]
    Svg(String),
    #[error("the poster could not be rendered: {0}")]
    Render(String),
}

/// The system's fonts, loaded once (the poster asks for DejaVu Sans, installed with the system).
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_system_fonts();
            if db.is_empty() {
                tracing::warn!("no system fonts found: posters will have no text");
            }
            Arc::new(db)
        })
        .clone()
}

fn tree(svg: &str) -> Result<usvg::Tree, PosterError> {
    let options = usvg::Options {
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &options).map_err(|e| PosterError::Svg(e.to_string()))
}

/// The poster as PNG, scaled down if it would exceed the pixel budget.
pub fn png(svg: &str) -> Result<Vec<u8>, PosterError> {
    let tree = tree(svg)?;
    let size = tree.size();
    let scale = (MAX_PIXELS / (size.width() * size.height()))
        .sqrt()
        .min(1.0);
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let mut pixmap = tiny_skia::Pixmap::new(w.max(1), h.max(1))
        .ok_or_else(|| PosterError::Render(format!("cannot allocate a {w}×{h} image")))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| PosterError::Render(e.to_string()))
}

/// The poster as a one-page PDF.
pub fn pdf(svg: &str) -> Result<Vec<u8>, PosterError> {
    let tree = tree(svg)?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions::default(),
    )
    .map_err(|e| PosterError::Render(e.to_string()))
}
