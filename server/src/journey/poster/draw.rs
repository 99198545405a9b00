//! A poster's layout written as SVG: title, persona profiles, legend, and each band's stages,
//! steps, lanes, boxes and emotion curves.

use super::content::What;
use super::layout::*;
use super::style::{self, DANGER, GOOD, HEADER, INK, INK_2, LINE};
use std::fmt::Write as _;
use waymark_protocol::schema::JourneyMap;

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

/// A sheet of paper a layout is printed on.
pub struct Sheet {
    /// Width and height in points.
    pub size: (f32, f32),
    /// Points per poster unit.
    pub scale: f32,
    /// This sheet's number and how many there are, when the map is tiled over several.
    pub of: Option<(usize, usize)>,
}

/// The SVG of `l`, at its natural size or centred on `sheet`.
pub fn svg(map: &JourneyMap, l: &Layout, sheet: Option<&Sheet>) -> String {
    let mut s = String::new();
    let (w, h, view) = match sheet {
        None => (l.width, l.height, format!("0 0 {} {}", l.width, l.height)),
        Some(sheet) => {
            let (vw, vh) = (sheet.size.0 / sheet.scale, sheet.size.1 / sheet.scale);
            let (ox, oy) = ((vw - l.width) / 2.0, (vh - l.height) / 2.0);
            (
                sheet.size.0,
                sheet.size.1,
                format!("{} {} {vw} {vh}", -ox, -oy),
            )
        }
    };
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="{view}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="{FONT_SIZE}">"##
    );
    let _ = write!(
        s,
        r##"<rect x="-100000" y="-100000" width="200000" height="200000" fill="#ffffff"/>"##
    );
    title(&mut s, map, sheet.and_then(|x| x.of));
    for p in &l.profiles {
        profile(&mut s, p);
    }
    legend(&mut s, l);
    for (n, band) in l.bands.iter().enumerate() {
        headers(&mut s, map, band);
        for (k, lane) in l.lanes.iter().filter(|r| r.band == n).enumerate() {
            lane_row(&mut s, map, lane, band, k);
        }
    }
    for c in &l.cards {
        placed(&mut s, c);
    }
    if l.unplaced > 0 {
        let _ = write!(
            s,
            r##"<text x="{MARGIN}" y="{}" fill="{DANGER}">{} card(s) refer to a missing lane or step and are not shown.</text>"##,
            l.height - MARGIN,
            l.unplaced
        );
    }
    s.push_str("</svg>");
    s
}

fn title(s: &mut String, map: &JourneyMap, of: Option<(usize, usize)>) {
    let title = if map.meta.title.is_empty() {
        "Untitled map"
    } else {
        &map.meta.title
    };
    let _ = write!(
        s,
        r##"<text x="{MARGIN}" y="{}" font-size="28" font-weight="bold" fill="{INK}">{}</text>"##,
        MARGIN + 30.0,
        esc(title)
    );
    let mut subtitle: Vec<&str> = [map.meta.kind.as_str(), map.meta.scenario.as_str()]
        .into_iter()
        .filter(|x| !x.is_empty())
        .collect();
    let owner = format!("Owner: {}", map.meta.owner);
    if !map.meta.owner.is_empty() {
        subtitle.push(&owner);
    }
    let sheet = of.map(|(n, total)| format!("sheet {n} of {total}"));
    if let Some(sheet) = &sheet {
        subtitle.push(sheet);
    }
    let _ = write!(
        s,
        r##"<text x="{MARGIN}" y="{}" font-size="14" fill="{INK_2}">{}</text>"##,
        MARGIN + 56.0,
        esc(&subtitle.join(" · "))
    );
}

fn profile(s: &mut String, p: &Profile) {
    let r = p.rect;
    let _ = write!(
        s,
        r##"<rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="#ffffff" stroke="{LINE}"/><rect x="{}" y="{}" width="4" height="{}" fill="{}"/>"##,
        r.x, r.y, r.w, r.h, r.x, r.y, r.h, p.colour
    );
    let _ = write!(
        s,
        r##"<text x="{}" y="{}" font-weight="bold" fill="{}">{}</text>"##,
        r.x + GAP + 4.0,
        r.y + GAP + 12.0,
        p.colour,
        esc(&p.name)
    );
    let mut y = r.y + GAP + LINE_H + 10.0;
    for (label, lines) in &p.fields {
        let _ = write!(
            s,
            r##"<text x="{}" y="{y}" font-size="{SMALL_FONT}" font-weight="bold" fill="{INK_2}">{label}</text>"##,
            r.x + GAP + 4.0
        );
        y += SMALL_LINE_H;
        for line in lines {
            let _ = write!(
                s,
                r##"<text x="{}" y="{y}" font-size="{SMALL_FONT}" fill="{INK}">{}</text>"##,
                r.x + GAP + 4.0,
                esc(line)
            );
            y += SMALL_LINE_H;
        }
    }
}

fn legend(s: &mut String, l: &Layout) {
    let Some(first) = l.legend.first() else {
        return;
    };
    let _ = write!(
        s,
        r##"<text x="{MARGIN}" y="{}" font-size="{SMALL_FONT}" font-weight="bold" fill="{INK_2}">Legend</text>"##,
        first.y + 10.0
    );
    for k in &l.legend {
        match k.swatch {
            Swatch::Colour(c) => {
                let _ = write!(
                    s,
                    r##"<rect x="{}" y="{}" width="14" height="11" rx="2" fill="{c}"/>"##,
                    k.x,
                    k.y + 1.0
                );
            }
            Swatch::Mark(m, c) => {
                let _ = write!(
                    s,
                    r##"<text x="{}" y="{}" font-size="12" fill="{c}">{m}</text>"##,
                    k.x + 1.0,
                    k.y + 11.0
                );
            }
            Swatch::Dashed => {
                let _ = write!(
                    s,
                    r##"<rect x="{}" y="{}" width="14" height="11" rx="2" fill="#ffffff" stroke="{INK_2}" stroke-dasharray="3 2"/>"##,
                    k.x,
                    k.y + 1.0
                );
            }
        }
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-size="{SMALL_FONT}" fill="{INK}">{}</text>"##,
            k.x + 20.0,
            k.y + 10.0,
            esc(&k.label)
        );
    }
}

/// A band's stage row (a stage cut by the band's start reads "(continued)") and step row.
fn headers(s: &mut String, map: &JourneyMap, band: &Band) {
    let steps = &map.steps;
    let col = |i: usize| MARGIN + HEADER_W + (i - band.first) as f32 * COL_W;
    let stage_top = band.top;
    let mut i = band.first;
    while i <= band.last && i < steps.len() {
        let stage_id = &steps[i].stage_id;
        let n = steps[i..=band.last]
            .iter()
            .take_while(|st| &st.stage_id == stage_id)
            .count();
        let x = col(i);
        let w = n as f32 * COL_W;
        let mut name = map
            .stages
            .iter()
            .find(|st| &st.id == stage_id)
            .map_or("Unsorted".to_owned(), |st| st.name.clone());
        if i > 0 && &steps[i - 1].stage_id == stage_id {
            name.push_str(" (continued)");
        }
        let _ = write!(
            s,
            r##"<rect x="{}" y="{stage_top}" width="{}" height="{}" rx="4" fill="{HEADER}"/>"##,
            x + 2.0,
            w - 4.0,
            STAGE_H - 4.0
        );
        let label = wrap(&name, chars_per_line(w)).remove(0);
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
    for (i, st) in steps
        .iter()
        .enumerate()
        .take(band.last + 1)
        .skip(band.first)
    {
        for (k, line) in wrap(&st.name, chars_per_line(COL_W))
            .iter()
            .take(2)
            .enumerate()
        {
            let _ = write!(
                s,
                r##"<text x="{}" y="{}" font-weight="bold" fill="{INK}">{}</text>"##,
                col(i) + GAP,
                step_top + 18.0 + k as f32 * LINE_H,
                esc(line)
            );
        }
    }
}

fn lane_row(s: &mut String, map: &JourneyMap, lane: &LaneRow, band: &Band, n: usize) {
    let r = lane.rect;
    let fill = if n.is_multiple_of(2) {
        "#fafbfc"
    } else {
        "#ffffff"
    };
    let _ = write!(
        s,
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}" stroke="#e1e4e8"/><rect x="{}" y="{}" width="4" height="{}" fill="{}"/>"##,
        r.x,
        r.y,
        r.w,
        r.h,
        r.x,
        r.y,
        r.h,
        style::lane_colour(&lane.kind)
    );
    for (k, line) in wrap(&lane.name, chars_per_line(HEADER_W))
        .iter()
        .take(3)
        .enumerate()
    {
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-weight="bold" fill="{HEADER}">{}</text>"##,
            r.x + GAP + 4.0,
            r.y + 20.0 + k as f32 * LINE_H,
            esc(line)
        );
    }
    if lane.kind == "emotions" {
        emotion_curve(s, map, r, band);
    }
}

fn placed(s: &mut String, c: &Placed) {
    let r = c.rect;
    let (border, dash) = match &c.what {
        What::Card { hypothesis: true } => (LINE, r##" stroke-dasharray="5 3""##),
        What::Metric {
            off_target: Some(true),
            ..
        } => (DANGER, ""),
        _ => (LINE, ""),
    };
    let fill = match &c.what {
        What::Metric {
            off_target: Some(true),
            ..
        } => "#fdecea",
        _ => "#ffffff",
    };
    let _ = write!(
        s,
        r##"<rect x="{}" y="{}" width="{}" height="{}" rx="5" fill="{fill}" stroke="{border}"{dash}/><rect x="{}" y="{}" width="4" height="{}" fill="{}"/>"##,
        r.x, r.y, r.w, r.h, r.x, r.y, r.h, c.stripe
    );
    let bold = if matches!(c.what, What::Card { .. }) {
        ""
    } else {
        r##" font-weight="bold""##
    };
    let x = r.x + GAP + 4.0;
    let mut y = r.y + GAP + 12.0;
    for line in &c.lines {
        let _ = write!(
            s,
            r##"<text x="{x}" y="{y}"{bold} fill="{INK}">{}</text>"##,
            esc(line)
        );
        y += LINE_H;
    }
    y -= LINE_H - SMALL_LINE_H;
    let meta_colour = match &c.what {
        What::Metric {
            off_target: Some(true),
            ..
        } => DANGER,
        _ => INK_2,
    };
    for line in &c.meta {
        let _ = write!(
            s,
            r##"<text x="{x}" y="{y}" font-size="{SMALL_FONT}" fill="{meta_colour}">{}</text>"##,
            esc(line)
        );
        y += SMALL_LINE_H;
    }
    if let What::Metric { points, off_target } = &c.what
        && points.len() >= 2
    {
        let colour = match off_target {
            Some(true) => DANGER,
            Some(false) => GOOD,
            None => HEADER,
        };
        sparkline(s, points, x, y - 6.0, r.w - 2.0 * GAP - 8.0, colour);
    }
}

/// A metric's measurements as a small line, oldest left, the latest marked by a dot.
fn sparkline(s: &mut String, points: &[f64], x: f32, y: f32, w: f32, colour: &str) {
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    let at = |i: usize, v: f64| {
        let px = x + w * i as f32 / (points.len() - 1) as f32;
        let py = y + SPARK_H - 3.0 - ((v - lo) / span) as f32 * (SPARK_H - 6.0);
        (px, py)
    };
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (px, py) = at(i, *v);
            format!("{px:.1},{py:.1}")
        })
        .collect();
    let _ = write!(
        s,
        r##"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round"/>"##,
        path.join(" ")
    );
    let (lx, ly) = at(points.len() - 1, points[points.len() - 1]);
    let _ = write!(
        s,
        r##"<circle cx="{lx:.1}" cy="{ly:.1}" r="3" fill="{colour}"/>"##
    );
}

/// One polyline per persona (or the map-wide curve) across the band's columns, −2 at the bottom.
fn emotion_curve(s: &mut String, map: &JourneyMap, r: Rect, band: &Band) {
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
            r##"<text x="{}" y="{}" font-size="{SMALL_FONT}" fill="#6b7280">{score:+}</text>"##,
            r.x + HEADER_W - 24.0,
            y + 3.0
        );
    }
    let mut curves: Vec<(Option<&str>, &str, &str)> = map
        .personas
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                Some(p.id.as_str()),
                p.name.as_str(),
                style::persona_colour(i),
            )
        })
        .collect();
    if map.emotions.iter().any(|e| e.persona_id.is_none()) {
        curves.push((None, "Customer", style::persona_colour(0)));
    }
    for (n, (persona, name, colour)) in curves.iter().enumerate() {
        let points: Vec<(f32, f32)> = map
            .steps
            .iter()
            .enumerate()
            .take(band.last + 1)
            .skip(band.first)
            .filter_map(|(i, st)| {
                let e = map
                    .emotions
                    .iter()
                    .find(|e| e.step_id == st.id && e.persona_id.as_deref() == *persona)?;
                let x = r.x + HEADER_W + ((i - band.first) as f32 + 0.5) * COL_W;
                Some((x, y_of(e.score)))
            })
            .collect();
        if points.is_empty() {
            continue;
        }
        let path: Vec<String> = points.iter().map(|(x, y)| format!("{x},{y}")).collect();
        let _ = write!(
            s,
            r##"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="3" stroke-linejoin="round"/>"##,
            path.join(" ")
        );
        for (x, y) in &points {
            let _ = write!(s, r##"<circle cx="{x}" cy="{y}" r="4" fill="{colour}"/>"##);
        }
        let _ = write!(
            s,
            r##"<rect x="{}" y="{}" width="10" height="10" fill="{colour}"/><text x="{}" y="{}" font-size="{SMALL_FONT}" fill="{INK}">{}</text>"##,
            r.x + GAP + 4.0,
            r.y + 44.0 + n as f32 * 16.0,
            r.x + GAP + 18.0,
            r.y + 53.0 + n as f32 * 16.0,
            esc(&wrap(name, 22).remove(0))
        );
    }
}
