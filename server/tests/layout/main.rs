//! The repository's layout rules, checked on its sources: no import circle among the modules of
//! any crate, the server's layers pointing one way (transport → application → storage and bus →
//! leaves), and no source file over 700 lines without a reason at its top.
//!
//! Run with `cargo test -p waymark-server --test layout`; a failure names the references that
//! break the rule, file and line.

mod graph;
mod source;

use std::fs;
use std::path::{Path, PathBuf};

/// The server's top-level modules by layer; a module may use its own layer's and lower ones'.
/// Within a layer the modules still may not form a circle. The crate root (`lib.rs`) is the
/// facade that wires everything together and is used by nothing.
const LAYERS: &[(&str, &[&str])] = &[
    ("transport", &["http", "fuzzing"]),
    (
        "application",
        &[
            "registry",
            "room",
            "events",
            "versions",
            "review",
            "archive",
            "services",
            "workshop",
            "shards",
            "revocations",
        ],
    ),
    ("storage and bus", &["store", "cluster"]),
    (
        "leaves",
        &[
            "auth",
            "config",
            "metrics",
            "telemetry",
            "throttle",
            "outlet",
            "websocket",
            "journey",
            "clock",
            "refusal",
        ],
    ),
];

/// Longest source file allowed without a `Length:` reason in its first lines.
const MAX_LINES: usize = 700;

/// The workspace checked: this one, or another checkout named by `WAYMARK_LAYOUT_ROOT` (to see
/// what the rules say of an older revision without building it).
fn root() -> PathBuf {
    match std::env::var_os("WAYMARK_LAYOUT_ROOT") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the workspace")
            .to_path_buf(),
    }
}

fn describe(refs: &[source::Reference]) -> String {
    refs.iter()
        .take(3)
        .map(|r| format!("{}:{} `{}`", r.file.display(), r.line, r.text))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn no_crate_has_an_import_circle() {
    let mut problems = Vec::new();
    for krate in ["server", "protocol", "clients", "clients/cli", "loadtest"] {
        let src = root().join(krate).join("src");
        let read = source::read(&src);
        assert!(
            read.modules.contains(&Vec::new()),
            "{krate}: no lib.rs under {}",
            src.display()
        );
        for (at, why) in circles(&read) {
            let at = if at.is_empty() {
                krate.to_owned()
            } else {
                format!("{krate}::{at}")
            };
            problems.push(format!("in {at}: {why}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Each circle as where it is (a module path below the crate) and what makes it.
fn circles(read: &source::Crate) -> Vec<(String, String)> {
    let edges = graph::lift(read);
    let mut out = Vec::new();
    {
        for (parent, circle) in graph::circles(&edges) {
            let pairs = &edges.by_parent[&parent];
            let mut why = Vec::new();
            for a in &circle {
                for b in &circle {
                    if let Some(refs) = pairs.get(&(a.clone(), b.clone())) {
                        why.push(format!("  {a} → {b}: {}", describe(refs)));
                    }
                }
            }
            out.push((
                parent.join("::"),
                format!(
                    "{} import each other\n{}",
                    circle.join(", "),
                    why.join("\n")
                ),
            ));
        }
    }
    out
}

#[test]
fn a_circle_is_found_at_any_depth_and_a_child_may_use_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let files = [
        ("lib.rs", "mod a;\nmod b;\npub use a::A;\n"),
        // a → b and b → a through a nested module: one circle at the root.
        ("a.rs", "pub struct A;\nuse crate::b::B;\n"),
        ("b/mod.rs", "pub struct B;\nmod inner;\nmod other;\n"),
        (
            "b/inner.rs",
            "use super::super::a::A;\nuse super::B;\nuse crate::b::other::{self, O};\n",
        ),
        // A child using its parent, and a comment naming a module, are no edges.
        (
            "b/other.rs",
            "// crate::a is only named here\npub struct O;\nuse super::B;\n",
        ),
    ];
    for (name, text) in files {
        let path = src.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let read = source::read(src);
    let found = circles(&read);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "");
    assert!(
        found[0].1.starts_with("a, b import each other"),
        "{}",
        found[0].1
    );
    assert!(
        found[0].1.contains("b/inner.rs:1 `super::super::a::A`"),
        "{}",
        found[0].1
    );
    // Inside b, inner → other is one way: no circle there.
    std::fs::write(src.join("b/other.rs"), "use super::inner::I;\n").unwrap();
    let found = circles(&source::read(src));
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[1].0, "b");
    assert!(
        found[1].1.starts_with("inner, other import each other"),
        "{}",
        found[1].1
    );
}

#[test]
fn the_server_layers_point_one_way() {
    let read = source::read(&root().join("server/src"));
    let layer_of = |m: &str| LAYERS.iter().position(|(_, ms)| ms.contains(&m));
    let mut problems = Vec::new();
    for m in read.modules.iter().filter(|m| m.len() == 1) {
        if layer_of(&m[0]).is_none() {
            problems.push(format!(
                "module {} has no layer: add it to LAYERS in {}",
                m[0],
                file!()
            ));
        }
    }
    for r in &read.references {
        if r.root_item && !r.from.is_empty() {
            problems.push(format!(
                "{}:{} `{}` uses an item of the crate root; the root only wires modules together",
                r.file.display(),
                r.line,
                r.text
            ));
        }
    }
    let edges = graph::lift(&read);
    for ((from, to), refs) in edges.by_parent.get(&Vec::new()).into_iter().flatten() {
        if let (Some(a), Some(b)) = (layer_of(from), layer_of(to))
            && b < a
        {
            problems.push(format!(
                "{from} ({}) uses {to} ({}), which is above it: {}",
                LAYERS[a].0,
                LAYERS[b].0,
                describe(refs)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_long_file_without_a_reason() {
    let mut long = Vec::new();
    let mut seen = 0;
    walk(&root(), &mut |path| {
        let kind = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !["rs", "js", "mjs", "ts", "sh", "css"].contains(&kind) {
            return;
        }
        let Ok(text) = fs::read_to_string(path) else {
            return;
        };
        seen += 1;
        let lines = text.lines().count();
        let reason = text.lines().take(12).any(|l| l.contains("Length:"));
        if lines > MAX_LINES && !reason {
            long.push(format!("{} ({lines} lines)", path.display()));
        }
    });
    assert!(seen > 100, "only {seen} source files found");
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines with no `Length:` reason in their first lines: split them, or say \
         why they stay long:\n{}",
        long.join("\n")
    );
}

/// Every file of the repository's own sources: not what is built, installed or generated.
fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let skip = ["target", "node_modules", "dist", "corpus", "artifacts"];
    for entry in fs::read_dir(dir).expect("a readable directory") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !skip.contains(&name) && !name.starts_with('.') {
                walk(&path, f);
            }
        } else {
            f(&path);
        }
    }
}
