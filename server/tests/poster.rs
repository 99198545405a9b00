//! Posters: valid SVG, PNG and PDF files of sensible size, legible (text inside cards, nothing
//! overlapping), for every template and for a large map.

use resvg::tiny_skia;
use waymark_protocol::schema::templates::{TEMPLATES, find};
use waymark_protocol::schema::{At, Editor, JourneyMap, read};
use waymark_server::journey::poster;
use yrs::{Doc, Transact};

fn template(name: &str) -> JourneyMap {
    let doc = Doc::new();
    find(name)
        .unwrap()
        .apply(&mut doc.transact_mut(), 0)
        .unwrap();
    read(&doc.transact()).map
}

fn assert_no_overlaps(l: &poster::Layout, what: &str) {
    for (i, a) in l.cards.iter().enumerate() {
        for b in &l.cards[i + 1..] {
            assert!(
                !a.rect.overlaps(&b.rect),
                "{what}: {:?} overlaps {:?}",
                a.lines,
                b.lines
            );
        }
        // Inside its lane, and every line fits the card.
        let lane = l
            .lanes
            .iter()
            .find(|(_, _, r)| a.rect.y >= r.y && a.rect.y < r.y + r.h)
            .unwrap();
        assert!(
            a.rect.y + a.rect.h <= lane.2.y + lane.2.h,
            "{what}: card leaves its lane"
        );
        let max = ((a.rect.w - 16.0) / 7.4).floor() as usize;
        assert!(
            a.lines.iter().all(|line| line.chars().count() <= max),
            "{what}: {:?}",
            a.lines
        );
    }
}

/// Whether some pixels in the rectangle are dark (text or lines drawn there).
fn has_ink(png: &[u8], x: u32, y: u32, w: u32, h: u32) -> bool {
    let pixmap = tiny_skia::Pixmap::decode_png(png).unwrap();
    (y..y + h).any(|py| {
        (x..x + w).any(|px| {
            pixmap.pixel(px, py).is_some_and(|p| {
                u16::from(p.red()) + u16::from(p.green()) + u16::from(p.blue()) < 200
            })
        })
    })
}

#[test]
fn every_template_renders_as_a_legible_poster() {
    let out = std::env::var_os("WAYMARK_POSTER_DIR");
    for t in TEMPLATES {
        let map = template(t.name);
        let layout = poster::layout(&map);
        assert_no_overlaps(&layout, t.name);
        assert_eq!(layout.unplaced, 0);
        // Every card, plus the metrics shown in a metrics lane, is placed.
        let has_metrics_lane = map.lanes.iter().any(|l| l.kind == "metrics");
        let metric_cards = map
            .metrics
            .iter()
            .filter(|m| has_metrics_lane && m.step_id.is_some())
            .count();
        assert_eq!(layout.cards.len(), map.cards.len() + metric_cards);

        let svg = poster::svg(&map);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(&map.meta.title.replace('&', "&amp;")));
        for s in &map.stages {
            assert!(svg.contains(&s.name), "{}: {}", t.name, s.name);
        }

        let png = poster::png(&svg).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert_eq!(
            (width, height),
            (layout.width.ceil() as u32, layout.height.ceil() as u32)
        );
        assert!(
            png.len() > 20_000 && png.len() < 20_000_000,
            "{}: {} bytes",
            t.name,
            png.len()
        );
        // The title is drawn (dark pixels where it stands), and the page is not all ink.
        assert!(has_ink(&png, 32, 40, 400, 30), "{}: no title text", t.name);
        assert!(!has_ink(&png, 0, 0, 20, 20));

        let pdf = poster::pdf(&svg).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(
            pdf.len() > 5_000 && pdf.len() < 20_000_000,
            "{}: {} bytes",
            t.name,
            pdf.len()
        );
        let text = String::from_utf8_lossy(&pdf);
        assert!(
            text.contains("/FontFile"),
            "{}: the PDF embeds no font, so no text",
            t.name
        );

        if let Some(dir) = &out {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(
                std::path::Path::new(dir).join(format!("{}.png", t.name)),
                &png,
            )
            .unwrap();
            std::fs::write(
                std::path::Path::new(dir).join(format!("{}.pdf", t.name)),
                &pdf,
            )
            .unwrap();
        }
    }
}

#[test]
fn a_large_map_still_renders_without_overlaps() {
    let doc = Doc::new();
    find("ecommerce-purchase")
        .unwrap()
        .apply(&mut doc.transact_mut(), 0)
        .unwrap();
    {
        let mut txn = doc.transact_mut();
        let m = read(&txn).map;
        let mut ed = Editor::new(&mut txn);
        for i in 0..300 {
            let lane = &m.lanes[i % 6].id;
            let step = &m.steps[i % m.steps.len()].id;
            let text = format!(
                "Card {i}: a longer observation with several words, and an unbreakablewordthatgoesonandonandon"
            );
            ed.add_card(lane, step, &text, At::Last).unwrap();
        }
    }
    let map = read(&doc.transact()).map;
    let layout = poster::layout(&map);
    assert_no_overlaps(&layout, "large map");
    let svg = poster::svg(&map);
    let png = poster::png(&svg).unwrap();
    assert!(png.len() > 100_000);
    assert!(poster::pdf(&svg).unwrap().starts_with(b"%PDF-"));
}

#[test]
fn wrapping_keeps_words_whole_and_breaks_only_overlong_ones() {
    assert_eq!(
        poster::wrap("one two three four", 9),
        vec!["one two", "three", "four"]
    );
    assert_eq!(
        poster::wrap("abcdefghijkl", 5),
        vec!["abcde", "fghij", "kl"]
    );
    assert_eq!(poster::wrap("", 10), vec![""]);
}
