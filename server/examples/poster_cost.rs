//! What one poster export costs: `cargo run --release -p waymark-server --example poster_cost --
//! CARDS FORMAT` builds a map of CARDS cards from the `ecommerce-purchase` template and renders it
//! as FORMAT (svg, png or pdf) once, printing the wall time and the process's peak memory.

use std::time::Instant;
use waymark_protocol::schema::templates::find;
use waymark_protocol::schema::{At, Editor, read};
use waymark_server::journey::poster;
use yrs::{Doc, Transact};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let cards: usize = args.next().unwrap_or_else(|| "1000".into()).parse()?;
    let format = args.next().unwrap_or_else(|| "png".into());
    let doc = Doc::new();
    find("ecommerce-purchase")
        .expect("the template")
        .apply(&mut doc.transact_mut(), 0)?;
    {
        let mut txn = doc.transact_mut();
        let m = read(&txn).map;
        let mut ed = Editor::new(&mut txn);
        for i in m.cards.len()..cards {
            let lane = &m.lanes[i % m.lanes.len()].id;
            let step = &m.steps[i % m.steps.len()].id;
            ed.add_card(
                lane,
                step,
                &format!("Card {i}: an observation of a few words"),
                At::Last,
            )?;
        }
    }
    let map = read(&doc.transact()).map;
    let before = peak_rss_mib();
    let started = Instant::now();
    let poster = poster::render(&map, None)?;
    let bytes = match format.as_str() {
        "svg" => poster.svg()?.len(),
        "png" => poster.png()?.len(),
        "pdf" => poster.pdf()?.len(),
        other => anyhow::bail!("no format {other:?}: svg, png or pdf"),
    };
    println!(
        "{cards} cards, {format}: {:.2} s, {:.1} MiB output, peak memory {:.0} MiB ({:.0} MiB before rendering)",
        started.elapsed().as_secs_f64(),
        bytes as f64 / (1 << 20) as f64,
        peak_rss_mib(),
        before
    );
    Ok(())
}
