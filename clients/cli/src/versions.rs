//! `waymark versions`, `waymark review` and `waymark comments`: a map's versions, their reviews,
//! and its comments, over REST.

use crate::api::{Api, segment};
use crate::args::{Comments, Compare, Decide, MapOnly, Review, Submit, Take, VersionOf, Versions};
use crate::maps::text;
use crate::table;
use serde_json::json;

pub async fn run(command: Versions) -> anyhow::Result<()> {
    match command {
        Versions::List(a) => list(a).await,
        Versions::Take(a) => take(a).await,
        Versions::Compare(a) => compare(a).await,
        Versions::Restore(a) => restore(a).await,
    }
}

async fn list(a: MapOnly) -> anyhow::Result<()> {
    let answer = Api::new(&a.server)?
        .get(&format!("/maps/{}/versions", segment(&a.map)))
        .await?;
    if a.server.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    let versions = answer["versions"].as_array().cloned().unwrap_or_default();
    if versions.is_empty() {
        eprintln!("no versions of {}", a.map);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = versions
        .iter()
        .map(|v| {
            vec![
                text(&v["number"]),
                text(&v["label"]),
                text(&v["kind"]),
                text(&v["author"]),
                v["createdAt"].as_i64().map(table::time).unwrap_or_default(),
                text(&v["review"]["state"]),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(
            &["VERSION", "LABEL", "KIND", "AUTHOR", "TAKEN", "REVIEW"],
            &rows
        )
    );
    Ok(())
}

async fn take(a: Take) -> anyhow::Result<()> {
    let answer = Api::new(&a.server)?
        .post(
            &format!("/maps/{}/versions", segment(&a.map)),
            json!({ "label": a.label, "description": a.description }),
        )
        .await?;
    if a.server.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        println!("{}", text(&answer["number"]));
    }
    Ok(())
}

async fn compare(a: Compare) -> anyhow::Result<()> {
    let to = a.to.map_or("current".to_owned(), |n| n.to_string());
    let format = if a.server.json { "json" } else { "markdown" };
    let path = format!(
        "/maps/{}/compare?from={}&to={to}&format={format}",
        segment(&a.map),
        a.from
    );
    let api = Api::new(&a.server)?;
    if a.server.json {
        println!("{}", serde_json::to_string_pretty(&api.get(&path).await?)?);
    } else {
        print!("{}", api.get_text(&path).await?);
    }
    Ok(())
}

async fn restore(a: VersionOf) -> anyhow::Result<()> {
    let answer = Api::new(&a.server)?
        .post(
            &format!("/maps/{}/versions/{}/restore", segment(&a.map), a.version),
            json!({}),
        )
        .await?;
    if a.server.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        eprintln!(
            "restored version {} of {} (the map as it was is kept as version {})",
            a.version,
            a.map,
            text(&answer["safetyVersion"]["number"])
        );
    }
    Ok(())
}

pub async fn review(command: Review) -> anyhow::Result<()> {
    let (server, path, body, done) = match command {
        Review::Submit(Submit {
            map,
            version,
            reviewers,
            due,
            server,
        }) => (
            server,
            format!("/maps/{}/versions/{version}/review", segment(&map)),
            json!({ "reviewers": reviewers, "due": due }),
            format!("version {version} of {map} is under review"),
        ),
        Review::Decide(Decide {
            map,
            version,
            approve,
            comment,
            reviewer,
            server,
            ..
        }) => {
            let verdict = if approve {
                "approved"
            } else {
                "changes-requested"
            };
            let mut body = json!({ "verdict": verdict, "comment": comment });
            if let Some(r) = reviewer {
                body["reviewer"] = r.into();
            }
            (
                server,
                format!(
                    "/maps/{}/versions/{version}/review/decisions",
                    segment(&map)
                ),
                body,
                format!("version {version} of {map}: {verdict}"),
            )
        }
    };
    let answer = Api::new(&server)?.post(&path, body).await?;
    if server.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        let status = text(&answer["review"]["state"]);
        eprintln!("{done} (review: {status})");
    }
    Ok(())
}

pub async fn comments(a: Comments) -> anyhow::Result<()> {
    let api = Api::new(&a.server)?;
    let path = format!("/maps/{}/comments", segment(&a.map));
    if let Some(text_) = a.add {
        let mut body = json!({ "text": text_ });
        if let Some(on) = a.on {
            body["target"] = on.into();
        }
        let answer = api.post(&path, body).await?;
        if a.server.json {
            println!("{}", serde_json::to_string_pretty(&answer)?);
        } else {
            println!("{}", text(&answer["id"]));
        }
        return Ok(());
    }
    let answer = api.get(&path).await?;
    if a.server.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    let list = answer["comments"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        eprintln!("no comments on {}", a.map);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            vec![
                c["createdAt"].as_i64().map(table::time).unwrap_or_default(),
                text(&c["author"]),
                c["target"].as_str().unwrap_or("the map").to_owned(),
                if c["resolved"].as_bool() == Some(true) {
                    "resolved".into()
                } else {
                    String::new()
                },
                text(&c["text"]),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(&["WHEN", "AUTHOR", "ON", "", "COMMENT"], &rows)
    );
    Ok(())
}
