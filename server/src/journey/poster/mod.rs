//! The map as a poster for the wall: title, persona profiles and a legend on top, then stages and
//! steps across, lanes down, cards, touchpoints and metrics (with their trend) in their cells, the
//! emotion curve as a line per persona. Laid out as rectangles (`layout`, so it can be checked for
//! overlaps), written as SVG (`draw`), rasterised to PNG by resvg and converted to PDF by svg2pdf.
//! On paper (A3 to A0, landscape) a long journey wraps into bands so its text stays ≥ 8 pt.

mod content;
mod draw;
mod layout;
mod style;

pub use content::What;
pub use layout::{Layout, Part, Placed, Rect, layout, layout_in_bands, layout_part, wrap};

use pdf_writer::{Content, Finish, Name, Pdf, Ref};
use resvg::{tiny_skia, usvg};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use waymark_protocol::schema::JourneyMap;

/// Largest PNG rendered, in pixels; bigger posters are scaled down to fit.
const MAX_PIXELS: f32 = 60_000_000.0;
/// The smallest text a printed poster may have, in points.
pub const MIN_TEXT_PT: f32 = 8.0;
/// Print resolution of a PNG on paper.
const PAPER_DPI: f32 = 150.0;
/// Most bands a journey wraps into on one sheet.
const MAX_BANDS: usize = 12;
/// Most sheets a tiled print takes.
const MAX_SHEETS: usize = 40;

/// A sheet of paper, landscape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    A3,
    A2,
    A1,
    A0,
}

impl Paper {
    pub const ALL: [Paper; 4] = [Paper::A3, Paper::A2, Paper::A1, Paper::A0];

    pub fn parse(name: &str) -> Option<Paper> {
        Self::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            Paper::A3 => "a3",
            Paper::A2 => "a2",
            Paper::A1 => "a1",
            Paper::A0 => "a0",
        }
    }

    /// Width and height in points (1/72 inch), landscape.
    pub fn points(self) -> (f32, f32) {
        let (w, h) = match self {
            Paper::A3 => (420.0, 297.0),
            Paper::A2 => (594.0, 420.0),
            Paper::A1 => (841.0, 594.0),
            Paper::A0 => (1189.0, 841.0),
        };
        (w * 72.0 / 25.4, h * 72.0 / 25.4)
    }
}

/// A poster ready to be written out: one page, or several sheets of the same scale that tile a
/// long journey (a PDF only).
#[derive(Debug, Clone)]
pub struct Poster {
    pub pages: Vec<Page>,
    /// The sheet it is printed on, if any.
    pub paper: Option<Paper>,
    /// Points of paper per poster unit (1 at the natural size).
    pub scale: f32,
    /// The sheets on which the whole map fits on one page with legible text (`a1, a0`).
    pub fits: String,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub svg: String,
    pub layout: Layout,
}

impl Poster {
    /// The size of the smallest text when printed, in points.
    pub fn smallest_text_pt(&self) -> f32 {
        layout::SMALL_FONT * self.scale
    }

    /// The first (usually the only) page.
    pub fn page(&self) -> &Page {
        &self.pages[0]
    }

    /// The poster as SVG, which holds one page.
    pub fn svg(&self) -> Result<&str, PosterError> {
        self.single("SVG").map(|p| p.svg.as_str())
    }

    /// The poster as PNG (150 dpi on paper), which holds one page.
    pub fn png(&self) -> Result<Vec<u8>, PosterError> {
        self.png_unless(&|| false)
    }

    /// As [`Poster::png`], given up between its steps (reading the SVG, drawing, encoding) once
    /// `stop` says so, with [`PosterError::Cancelled`].
    pub fn png_unless(&self, stop: &dyn Fn() -> bool) -> Result<Vec<u8>, PosterError> {
        let page = self.single("PNG")?;
        let scale = if self.paper.is_some() {
            PAPER_DPI / 72.0
        } else {
            1.0
        };
        png_unless(&page.svg, scale, stop)
    }

    /// The poster as PDF, one page per sheet.
    pub fn pdf(&self) -> Result<Vec<u8>, PosterError> {
        self.pdf_unless(&|| false)
    }

    /// As [`Poster::pdf`], given up between its steps once `stop` says so.
    pub fn pdf_unless(&self, stop: &dyn Fn() -> bool) -> Result<Vec<u8>, PosterError> {
        let pages: Vec<&str> = self.pages.iter().map(|p| p.svg.as_str()).collect();
        pdf_unless(&pages, stop)
    }

    fn single(&self, format: &'static str) -> Result<&Page, PosterError> {
        match (&self.pages[..], self.paper) {
            ([page], _) => Ok(page),
            (pages, Some(paper)) => Err(PosterError::NeedsSheets {
                format,
                paper,
                sheets: pages.len(),
                fits: self.fits.clone(),
            }),
            (_, None) => unreachable!("a poster at its natural size is one page"),
        }
    }
}

/// The poster of `map` at its natural size (one band, 1 unit = 1 px), or on `paper`: on one sheet
/// when its text can stay ≥ 8 pt there (the number of bands that gives the largest text is
/// chosen), else tiled over several sheets of the same scale (see `tiles`).
pub fn render(map: &JourneyMap, paper: Option<Paper>) -> Result<Poster, PosterError> {
    let Some(paper) = paper else {
        let layout = layout::layout(map);
        let svg = draw::svg(map, &layout, None);
        return Ok(Poster {
            pages: vec![Page { svg, layout }],
            paper: None,
            scale: 1.0,
            fits: String::new(),
        });
    };
    let fits: Vec<&str> = Paper::ALL
        .into_iter()
        .filter(|p| layout::SMALL_FONT * one_sheet(map, *p).1 >= MIN_TEXT_PT)
        .map(Paper::name)
        .collect();
    let fits = fits.join(", ");
    let size = paper.points();
    let (layout, scale) = one_sheet(map, paper);
    if layout::SMALL_FONT * scale >= MIN_TEXT_PT {
        let sheet = draw::Sheet {
            size,
            scale,
            of: None,
        };
        let svg = draw::svg(map, &layout, Some(&sheet));
        return Ok(Poster {
            pages: vec![Page { svg, layout }],
            paper: Some(paper),
            scale,
            fits,
        });
    }
    let too_small = |smallest: f32| PosterError::TooSmall {
        paper,
        smallest,
        fits: fits.clone(),
    };
    let layouts = tiles(map, paper).ok_or_else(|| too_small(layout::SMALL_FONT * scale))?;
    let tiled = layouts
        .iter()
        .map(|l| (size.0 / l.width).min(size.1 / l.height))
        .fold(f32::INFINITY, f32::min);
    if layout::SMALL_FONT * tiled < MIN_TEXT_PT {
        return Err(too_small(layout::SMALL_FONT * scale.max(tiled)));
    }
    let total = layouts.len();
    let pages = layouts
        .into_iter()
        .enumerate()
        .map(|(i, layout)| {
            let sheet = draw::Sheet {
                size,
                scale: tiled,
                of: Some((i + 1, total)),
            };
            let svg = draw::svg(map, &layout, Some(&sheet));
            Page { svg, layout }
        })
        .collect();
    Ok(Poster {
        pages,
        paper: Some(paper),
        scale: tiled,
        fits,
    })
}

/// The sheets of a tiled print at the smallest legible scale: a cover (title, persona profiles,
/// legend), then each band of as many steps as a sheet is wide, its lanes cut over as few sheets
/// as they need. `None` when a single step's lane is taller than a sheet, or it takes more than
/// `MAX_SHEETS`.
fn tiles(map: &JourneyMap, paper: Paper) -> Option<Vec<Layout>> {
    let scale = MIN_TEXT_PT / layout::SMALL_FONT;
    let (w, h) = paper.points();
    let (w, h) = (w / scale, h / scale);
    let columns = ((w - 2.0 * layout::MARGIN - layout::HEADER_W) / layout::COL_W).floor() as usize;
    if columns == 0 {
        return None;
    }
    let steps = map.steps.len();
    let mut sheets = vec![layout::layout_part(map, &[], &layout::Part::cover())];
    for run in layout::bands_of(steps, steps.div_ceil(columns)) {
        let room = h - layout::TILE_FRAME_H;
        let heights = layout::row_heights(map, run);
        let (mut start, mut filled) = (0, 0.0);
        for (i, height) in heights.iter().enumerate() {
            if *height > room {
                return None;
            }
            if filled + height > room {
                sheets.push(layout::layout_part(
                    map,
                    &[run],
                    &layout::Part::tile(start..i),
                ));
                (start, filled) = (i, 0.0);
            }
            filled += height;
        }
        if start < heights.len() {
            sheets.push(layout::layout_part(
                map,
                &[run],
                &layout::Part::tile(start..heights.len()),
            ));
        }
        if sheets.len() > MAX_SHEETS {
            return None;
        }
    }
    Some(sheets)
}

/// The one-sheet layout that fills `paper` best and its scale (points per unit).
fn one_sheet(map: &JourneyMap, paper: Paper) -> (Layout, f32) {
    let (pw, ph) = paper.points();
    (1..=map.steps.len().clamp(1, MAX_BANDS))
        .map(|bands| {
            let l = layout::layout_in_bands(map, bands);
            let scale = (pw / l.width).min(ph / l.height);
            (l, scale)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("at least one band")
}

#[derive(Debug, thiserror::Error)]
pub enum PosterError {
    #[error(
        "even tiled over {MAX_SHEETS} sheets of {} this map's smallest text would be {smallest:.1} pt, under the {MIN_TEXT_PT} pt that stays legible: {}",
        paper.name().to_uppercase(),
        if fits.is_empty() { "export it without `paper` (SVG, or PDF at its natural size) for a plotter".to_owned() } else { format!("choose paper {fits}") }
    )]
    TooSmall {
        paper: Paper,
        smallest: f32,
        fits: String,
    },
    #[error(
        "on {} this map takes {sheets} sheets to keep its text at {MIN_TEXT_PT} pt or more, and a {format} holds one: download the PDF (one page per sheet){}",
        paper.name().to_uppercase(),
        if fits.is_empty() { String::new() } else { format!(", or choose paper {fits} for one sheet") }
    )]
    NeedsSheets {
        format: &'static str,
        paper: Paper,
        sheets: usize,
        fits: String,
    },
    #[error("the poster's SVG could not be read: {0}")]
    Svg(String),
    #[error("the poster could not be rendered: {0}")]
    Render(String),
    /// Whoever asked for it is gone.
    #[error("the export was given up: nobody is waiting for it")]
    Cancelled,
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

/// The poster as PNG at `scale` pixels per SVG unit, scaled down if it would exceed the pixel
/// budget.
pub fn png(svg: &str, scale: f32) -> Result<Vec<u8>, PosterError> {
    png_unless(svg, scale, &|| false)
}

fn check(stop: &dyn Fn() -> bool) -> Result<(), PosterError> {
    if stop() {
        Err(PosterError::Cancelled)
    } else {
        Ok(())
    }
}

fn png_unless(svg: &str, scale: f32, stop: &dyn Fn() -> bool) -> Result<Vec<u8>, PosterError> {
    check(stop)?;
    let tree = tree(svg)?;
    check(stop)?;
    let size = tree.size();
    let scale = (MAX_PIXELS / (size.width() * size.height()))
        .sqrt()
        .min(scale);
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
    check(stop)?;
    pixmap
        .encode_png()
        .map_err(|e| PosterError::Render(e.to_string()))
}

/// The poster as a PDF of one page per SVG, each page the size of its SVG (in points).
pub fn pdf(pages: &[&str]) -> Result<Vec<u8>, PosterError> {
    pdf_unless(pages, &|| false)
}

fn pdf_unless(pages: &[&str], stop: &dyn Fn() -> bool) -> Result<Vec<u8>, PosterError> {
    let failed = |e: svg2pdf::ConversionError| PosterError::Render(e.to_string());
    if let [one] = pages {
        check(stop)?;
        let tree = tree(one)?;
        check(stop)?;
        return svg2pdf::to_pdf(
            &tree,
            svg2pdf::ConversionOptions::default(),
            svg2pdf::PageOptions::default(),
        )
        .map_err(failed);
    }
    // Several sheets: each SVG becomes a form XObject drawn over its whole page.
    let mut alloc = Ref::new(1);
    let catalog = alloc.bump();
    let page_tree = alloc.bump();
    let page_ids: Vec<Ref> = pages.iter().map(|_| alloc.bump()).collect();
    let mut out = Pdf::new();
    let mut chunks = Vec::with_capacity(pages.len());
    for (svg, &page_id) in pages.iter().zip(&page_ids) {
        check(stop)?;
        let tree = tree(svg)?;
        let (w, h) = (tree.size().width(), tree.size().height());
        let (chunk, form) =
            svg2pdf::to_chunk(&tree, svg2pdf::ConversionOptions::default()).map_err(failed)?;
        let mut renumbered = HashMap::new();
        let chunk = chunk.renumber(|old| *renumbered.entry(old).or_insert_with(|| alloc.bump()));
        let form = renumbered[&form];
        let content_id = alloc.bump();
        let mut page = out.page(page_id);
        page.media_box(pdf_writer::Rect::new(0.0, 0.0, w, h))
            .parent(page_tree)
            .contents(content_id);
        page.resources().x_objects().pair(Name(b"P"), form);
        page.finish();
        let mut content = Content::new();
        content
            .transform([w, 0.0, 0.0, h, 0.0, 0.0])
            .x_object(Name(b"P"));
        out.stream(content_id, &content.finish());
        chunks.push(chunk);
    }
    out.catalog(catalog).pages(page_tree);
    out.pages(page_tree)
        .kids(page_ids.iter().copied())
        .count(i32::try_from(pages.len()).unwrap_or(i32::MAX));
    for chunk in &chunks {
        out.extend(chunk);
    }
    Ok(out.finish())
}
