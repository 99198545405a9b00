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
            .find(|lane| a.rect.y >= lane.rect.y && a.rect.y < lane.rect.y + lane.rect.h)
            .unwrap();
        assert!(
            a.rect.y + a.rect.h <= lane.rect.y + lane.rect.h,
            "{what}: card leaves its lane"
        );
        assert!(
            a.rect.x >= lane.rect.x && a.rect.x + a.rect.w <= lane.rect.x + lane.rect.w,
            "{what}: card leaves its band"
        );
        let max = ((a.rect.w - 20.0) / 7.4).floor() as usize;
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
        let poster = poster::render(&map, None).unwrap();
        let layout = &poster.page().layout;
        assert_no_overlaps(layout, t.name);
        assert_eq!(layout.unplaced, 0);
        // Every card, touchpoint and metric is placed.
        let placed: std::collections::HashSet<&str> =
            layout.cards.iter().map(|c| c.id.as_str()).collect();
        for id in map
            .cards
            .iter()
            .map(|c| &c.id)
            .chain(
                map.touchpoints
                    .iter()
                    .filter(|t| t.step_id.is_some())
                    .map(|t| &t.id),
            )
            .chain(map.metrics.iter().map(|m| &m.id))
        {
            assert!(
                placed.contains(id.as_str()),
                "{}: {id} is not on the poster",
                t.name
            );
        }
        let svg = &poster.page().svg;
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(&map.meta.title.replace('&', "&amp;")));
        for s in &map.stages {
            assert!(svg.contains(&s.name), "{}: {}", t.name, s.name);
        }

        let png = poster.png().unwrap();
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

        let pdf = poster.pdf().unwrap();
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
    let poster = poster::render(&map, None).unwrap();
    assert_no_overlaps(&poster.page().layout, "large map");
    let png = poster.png().unwrap();
    assert!(png.len() > 100_000);
    assert!(poster.pdf().unwrap().starts_with(b"%PDF-"));
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

/// A PDF's page sizes, from its `/MediaBox` entries (svg2pdf and pdf-writer write them plainly).
fn media_boxes(pdf: &[u8]) -> Vec<(f32, f32)> {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/MediaBox [")
        .map(|(i, m)| {
            let rest = &text[i + m.len()..];
            let nums: Vec<f32> = rest[..rest.find(']').unwrap()]
                .split_whitespace()
                .map(|n| n.parse().unwrap())
                .collect();
            (nums[2] - nums[0], nums[3] - nums[1])
        })
        .collect()
}

#[test]
fn every_template_prints_on_each_sheet_with_text_of_8_pt_or_more() {
    for t in TEMPLATES {
        let map = template(t.name);
        for paper in poster::Paper::ALL {
            let what = format!("{} on {}", t.name, paper.name());
            let poster = poster::render(&map, Some(paper)).unwrap();
            assert!(
                poster.smallest_text_pt() >= 8.0,
                "{what}: {}",
                poster.smallest_text_pt()
            );
            let mut placed = std::collections::HashSet::new();
            for page in &poster.pages {
                assert_no_overlaps(&page.layout, &what);
                placed.extend(page.layout.cards.iter().map(|c| c.id.clone()));
            }
            for c in &map.cards {
                assert!(placed.contains(&c.id), "{what}: card {} missing", c.id);
            }
            // One PDF page per sheet, each the sheet's size.
            let (w, h) = paper.points();
            let boxes = media_boxes(&poster.pdf().unwrap());
            assert_eq!(boxes.len(), poster.pages.len(), "{what}");
            for (bw, bh) in boxes {
                assert!(
                    (bw - w).abs() < 1.0 && (bh - h).abs() < 1.0,
                    "{what}: {bw}×{bh}"
                );
            }
            if let Some(dir) = std::env::var_os("WAYMARK_POSTER_DIR") {
                let path =
                    std::path::Path::new(&dir).join(format!("{}-{}.pdf", t.name, paper.name()));
                std::fs::write(path, poster.pdf().unwrap()).unwrap();
                for (n, page) in poster.pages.iter().enumerate() {
                    let path = std::path::Path::new(&dir).join(format!(
                        "{}-{}-{}.png",
                        t.name,
                        paper.name(),
                        n + 1
                    ));
                    std::fs::write(path, poster::png(&page.svg, 0.75).unwrap()).unwrap();
                }
            }
            if let [page] = &poster.pages[..] {
                assert!(page.svg.contains(&format!("width=\"{w}\"")), "{what}");
                // A PNG of a sheet is its size at 150 dpi, the whole map on it (rendered for one
                // sheet size: the rest is the same code at another size).
                if paper != poster::Paper::A2 {
                    continue;
                }
                let png = poster.png().unwrap();
                let pw = u32::from_be_bytes(png[16..20].try_into().unwrap());
                let ph = u32::from_be_bytes(png[20..24].try_into().unwrap());
                assert_eq!(
                    (pw, ph),
                    (
                        (w * 150.0 / 72.0).ceil() as u32,
                        (h * 150.0 / 72.0).ceil() as u32
                    ),
                    "{what}"
                );
            } else {
                // Tiled: each sheet says which it is; a PNG or SVG (one page) is refused with
                // what to do instead.
                let total = poster.pages.len();
                for (n, page) in poster.pages.iter().enumerate() {
                    assert!(
                        page.svg.contains(&format!("sheet {} of {total}", n + 1)),
                        "{what}"
                    );
                }
                let e = poster.png().unwrap_err().to_string();
                assert!(e.contains("download the PDF"), "{what}: {e}");
            }
        }
    }
}

#[test]
fn a_sheet_too_small_for_legible_text_tiles_or_is_refused_with_what_fits() {
    // A3 is too small for the e-commerce template on one sheet: it tiles over several, and a PNG
    // names the sheets that hold it whole.
    let map = template("ecommerce-purchase");
    let poster = poster::render(&map, Some(poster::Paper::A3)).unwrap();
    assert!(poster.pages.len() > 1);
    let e = poster.png().unwrap_err().to_string();
    assert!(e.contains("choose paper a1, a0"), "{e}");
    // A map with one enormous step cannot be made legible on A3 at all.
    let mut huge = map.clone();
    huge.steps.truncate(1);
    let step = huge.steps[0].id.clone();
    let lane = huge.lanes[0].id.clone();
    for i in 0..400 {
        huge.cards.push(waymark_protocol::schema::Card {
            id: format!("huge{i}"),
            lane_id: lane.clone(),
            step_id: step.clone(),
            rank: format!("{i:04}"),
            text: "a card with a few words on it".into(),
            ..Default::default()
        });
    }
    let e = poster::render(&huge, Some(poster::Paper::A3))
        .unwrap_err()
        .to_string();
    assert!(e.contains("under the 8 pt"), "{e}");
}

#[test]
fn a_long_journey_wraps_into_bands_on_one_sheet() {
    // 40 steps in one row would need a 9 m wide sheet; on A0 they wrap into bands.
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        let mut ed = Editor::new(&mut txn);
        ed.init("Long journey", "journey-map", 0).unwrap();
        let lanes: Vec<String> = ["actions", "pain-points", "opportunities"]
            .iter()
            .map(|k| ed.add_lane(k, k, At::Last).unwrap())
            .collect();
        for s in 0..8 {
            let stage = ed.add_stage(&format!("Stage {s}"), At::Last).unwrap();
            for k in 0..5 {
                let step = ed
                    .add_step(&stage, &format!("Step {s}.{k}"), At::Last)
                    .unwrap();
                for lane in &lanes {
                    ed.add_card(lane, &step, "Something that happens here", At::Last)
                        .unwrap();
                }
            }
        }
    }
    let map = read(&doc.transact()).map;
    let poster = poster::render(&map, Some(poster::Paper::A0)).unwrap();
    assert_eq!(poster.pages.len(), 1);
    let layout = &poster.page().layout;
    assert!(layout.bands.len() > 1, "{} bands", layout.bands.len());
    assert!(poster.smallest_text_pt() >= 8.0);
    assert_no_overlaps(layout, "long journey");
    assert_eq!(layout.cards.len(), map.cards.len());
    // Every step is in exactly one band, in order.
    let covered: Vec<usize> = layout.bands.iter().flat_map(|b| b.first..=b.last).collect();
    assert_eq!(covered, (0..map.steps.len()).collect::<Vec<_>>());
    assert!(
        poster.page().svg.contains("Stage 1 (continued)")
            || layout.bands.iter().all(|b| b.first % 5 == 0)
    );
}

#[test]
fn touchpoints_metrics_and_spans_are_drawn_as_on_the_board() {
    use waymark_protocol::schema::{Channel, Measurement, Metric, Touchpoint};
    let mut map = template("ecommerce-purchase");
    let steps: Vec<String> = map.steps.iter().map(|s| s.id.clone()).collect();
    map.channels = vec![
        Channel {
            id: "chA".into(),
            name: "E-mail".into(),
            rank: "a".into(),
        },
        Channel {
            id: "chB".into(),
            name: "Store".into(),
            rank: "b".into(),
        },
    ];
    map.touchpoints.push(Touchpoint {
        id: "tpX".into(),
        name: "Receipt e-mail".into(),
        channel_id: Some("chB".into()),
        step_id: Some(steps[1].clone()),
        owner: Some("CRM team".into()),
        rank: "z".into(),
    });
    map.metrics.push(Metric {
        id: "mX".into(),
        name: "Receipt open rate".into(),
        kind: "custom".into(),
        unit: Some("%".into()),
        target: Some(60.0),
        direction: None,
        step_id: None,
        touchpoint_id: Some("tpX".into()),
        owner: Some("Ana".into()),
        rank: "z".into(),
    });
    map.measurements.push(Measurement {
        id: "x1".into(),
        metric_id: "mX".into(),
        date: "2026-09-01".into(),
        value: 55.0,
        note: None,
    });
    map.measurements.push(Measurement {
        id: "x2".into(),
        metric_id: "mX".into(),
        date: "2026-10-01".into(),
        value: 48.0,
        note: None,
    });
    // The first card spans three steps.
    let span = map.cards[0].id.clone();
    let first = steps
        .iter()
        .position(|s| *s == map.cards[0].step_id)
        .unwrap();
    map.cards[0].end_step_id = Some(steps[first + 2].clone());

    let poster = poster::render(&map, None).unwrap();
    let l = &poster.page().layout;
    let tile = l.cards.iter().find(|c| c.id == "mX").unwrap();
    // The metric sits in its touchpoint's step, with its latest value against its target, off
    // target, and a trend of both measurements.
    assert_eq!(
        tile.meta.join(" · "),
        "48% / target 60% ↑ · ▼ off target · 2026-10-01 · Owner: Ana"
    );
    assert_eq!(
        tile.what,
        poster::What::Metric {
            off_target: Some(true),
            points: vec![55.0, 48.0]
        }
    );
    let tp = l.cards.iter().find(|c| c.id == "tpX").unwrap();
    assert_eq!(tp.meta.join(" · "), "Store · Owner: CRM team");
    assert_eq!(
        tp.stripe, "#7c3aed",
        "the second channel's colour (SCHEMA.md §5.7)"
    );
    assert!(
        (tile.rect.x - tp.rect.x).abs() < 0.1,
        "metric and touchpoint in the same column"
    );
    let spanning = l.cards.iter().find(|c| c.id == span).unwrap();
    let single = l
        .cards
        .iter()
        .find(|c| c.id != span && matches!(c.what, poster::What::Card { .. }))
        .unwrap();
    assert!(
        (spanning.rect.w - (3.0 * (single.rect.w + 16.0) - 16.0)).abs() < 0.1,
        "{} vs {}",
        spanning.rect.w,
        single.rect.w
    );
    let svg = &poster.page().svg;
    // The sparkline and the legend.
    assert!(svg.contains("<polyline") && svg.contains("stroke=\"#b3261e\" stroke-width=\"2\""));
    for words in [
        "Legend",
        "Pain points",
        "validated",
        "metric off target",
        "channel: Store",
        "Mara, busy parent",
        "Goals",
    ] {
        assert!(svg.contains(words), "{words}");
    }
}
