//! `waymark maps`: list, create, delete, import and export maps over REST.

use crate::api::{Api, segment};
use crate::args::{CreateMap, Export, Import, MapOnly, Maps, Plain};
use crate::table;
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::io::{IsTerminal, Read, Write};

pub async fn run(command: Maps) -> anyhow::Result<()> {
    match command {
        Maps::List(a) => list(a).await,
        Maps::Create(a) => create(a).await,
        Maps::Delete(a) => delete(a).await,
        Maps::Import(a) => import(a).await,
        Maps::Export(a) => export(a).await,
    }
}

async fn list(a: Plain) -> anyhow::Result<()> {
    let answer = Api::new(&a.server)?.get("/maps").await?;
    let maps = answer["maps"].as_array().cloned().unwrap_or_default();
    if a.server.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    if maps.is_empty() {
        eprintln!("no maps");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = maps
        .iter()
        .map(|m| {
            let due = match (m["reviewDue"].as_str(), m["reviewOverdue"].as_bool()) {
                (Some(due), Some(true)) => format!("{due} (overdue)"),
                (Some(due), _) => due.to_owned(),
                (None, _) => String::new(),
            };
            vec![
                text(&m["id"]),
                text(&m["title"]),
                text(&m["kind"]),
                m["updatedAt"].as_i64().map(table::time).unwrap_or_default(),
                due,
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(&["ID", "TITLE", "KIND", "CHANGED", "REVIEW DUE"], &rows)
    );
    Ok(())
}

async fn create(a: CreateMap) -> anyhow::Result<()> {
    let mut body = json!({});
    for (k, v) in [
        ("id", &a.map),
        ("title", &a.title),
        ("kind", &a.kind),
        ("template", &a.template),
    ] {
        if let Some(v) = v {
            body[k] = v.clone().into();
        }
    }
    let answer = Api::new(&a.server)?.post("/maps", body).await?;
    created(&answer, a.server.json)
}

fn created(answer: &Value, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(answer)?);
    } else {
        println!("{}", text(&answer["id"]));
    }
    Ok(())
}

async fn delete(a: MapOnly) -> anyhow::Result<()> {
    Api::new(&a.server)?
        .delete(&format!("/maps/{}", segment(&a.map)))
        .await?;
    if a.server.json {
        println!("{}", json!({ "deleted": a.map }));
    } else {
        eprintln!("deleted {}", a.map);
    }
    Ok(())
}

async fn import(a: Import) -> anyhow::Result<()> {
    let mut bytes = Vec::new();
    if a.file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
    } else {
        bytes =
            std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    }
    // A clear answer before the upload for what is not even JSON.
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
        bail!("{} is not JSON: {e}", a.file.display());
    }
    let path = match &a.id {
        Some(id) => format!("/maps/import?id={}", segment(id)),
        None => "/maps/import".to_owned(),
    };
    let answer = Api::new(&a.server)?.post_raw(&path, bytes).await?;
    created(&answer, a.server.json)
}

async fn export(a: Export) -> anyhow::Result<()> {
    let map = segment(&a.map);
    let mut path = match a.version {
        Some(n) => format!("/maps/{map}/versions/{n}/export/{}", a.format.name()),
        None => format!("/maps/{map}/export/{}", a.format.name()),
    };
    if let Some(paper) = &a.paper {
        path.push_str(&format!("?paper={}", segment(paper)));
    }
    let api = Api::new(&a.server)?;
    let progress = std::io::stderr().is_terminal();
    match &a.output {
        None => {
            let stdout = std::io::stdout();
            if a.format.is_binary() && stdout.is_terminal() {
                bail!(
                    "a {} export is not for a terminal: give --output FILE or redirect standard output",
                    a.format.name()
                );
            }
            api.download(&path, &mut stdout.lock(), false).await?;
        }
        Some(file) => {
            // Written next to its place and renamed when complete: a failed export leaves no
            // half-written file, nor clobbers a good one.
            let partial = file.with_extension("partial");
            let mut out = std::fs::File::create(&partial)
                .with_context(|| format!("cannot create {}", partial.display()))?;
            let written = match api.download(&path, &mut out, progress).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    return Err(e.into());
                }
            };
            out.sync_all()?;
            std::fs::rename(&partial, file)
                .with_context(|| format!("cannot write {}", file.display()))?;
            if a.server.json {
                println!("{}", json!({ "file": file, "bytes": written }));
            } else {
                eprintln!("wrote {} ({written} bytes)", file.display());
            }
        }
    }
    std::io::stdout().flush()?;
    Ok(())
}

/// A JSON string as text; anything else as JSON.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
