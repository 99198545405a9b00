//! Reads a crate's sources into its module tree and the references between modules: every
//! `crate::…`, `super::…` and `self::…` path outside comments and test modules.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// A module's path below the crate root (`[]` is the root).
pub type Module = Vec<String>;

/// A path in one module's source naming something in another module.
#[derive(Debug, Clone)]
pub struct Reference {
    pub from: Module,
    /// The module the path ends in (the longest prefix of it that is a module).
    pub to: Module,
    /// The path as written, and where.
    pub text: String,
    pub file: PathBuf,
    pub line: usize,
    /// The path names an item of the crate root itself rather than a module.
    pub root_item: bool,
}

pub struct Crate {
    pub modules: BTreeSet<Module>,
    pub references: Vec<Reference>,
}

/// Every module of the library whose root is `src/lib.rs`, and what each one refers to.
pub fn read(src: &Path) -> Crate {
    let mut files = Vec::new();
    collect(src, &mut files);
    let mut modules = BTreeSet::new();
    let mut sources = Vec::new();
    for file in files {
        let rel = file.strip_prefix(src).expect("below src");
        // The binary is a crate of its own.
        if rel == Path::new("main.rs") || rel.starts_with("bin") {
            continue;
        }
        let module = module_of(rel);
        modules.insert(module.clone());
        let text = fs::read_to_string(&file).expect("a readable source file");
        sources.push((module, file, text));
    }
    let mut references = Vec::new();
    for (module, file, text) in &sources {
        for (line, written) in paths(&without_tests(&without_comments(text))) {
            let segments: Vec<&str> = written.split("::").collect();
            let (base, rest) = match segments[0] {
                "crate" => (Vec::new(), &segments[1..]),
                "self" => (module.clone(), &segments[1..]),
                _ => {
                    let ups = segments.iter().take_while(|s| **s == "super").count();
                    let mut base = module.clone();
                    for _ in 0..ups {
                        base.pop();
                    }
                    (base, &segments[ups..])
                }
            };
            let mut to = base.clone();
            for s in rest {
                let mut next = to.clone();
                next.push(s.to_string());
                if !modules.contains(&next) {
                    break;
                }
                to = next;
            }
            let root_item = to.is_empty() && !rest.is_empty() && rest[0] != "*";
            references.push(Reference {
                from: module.clone(),
                to,
                text: written,
                file: file.clone(),
                line,
                root_item,
            });
        }
    }
    Crate {
        modules,
        references,
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("a readable directory")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `a/b.rs` and `a/b/mod.rs` are `a::b`; `lib.rs` is the root.
fn module_of(rel: &Path) -> Module {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts
}

/// The source with comment lines blanked (doc comments name modules in prose), keeping line
/// numbers.
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim_start().starts_with("//") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The source up to its unit-test module: what tests use is not part of the layout.
fn without_tests(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim_start().starts_with("mod "))
        .unwrap_or(lines.len());
    lines[..end].join("\n")
}

/// Every `crate::`, `super::` or `self::` path with its line; a `{…}` group after a prefix gives
/// one path per member.
fn paths(text: &str) -> Vec<(usize, String)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = ["crate::", "super::", "self::"]
            .iter()
            .find(|p| bytes[i..].starts_with(p.as_bytes()));
        let boundary = i == 0 || !is_ident(bytes[i - 1]) && bytes[i - 1] != b'$';
        match starts {
            Some(_) if boundary => {
                let line = text[..i].matches('\n').count() + 1;
                let (prefix, end) = path_at(text, i);
                if text[end..].starts_with("::{") {
                    for member in members(&text[end + 3..]) {
                        let member = member.trim();
                        if member.is_empty() || member == "self" {
                            out.push((line, prefix.clone()));
                        } else {
                            let head: String = member
                                .chars()
                                .take_while(|c| is_ident(*c as u8) || *c == ':')
                                .collect();
                            out.push((line, format!("{prefix}::{}", head.trim_end_matches(':'))));
                        }
                    }
                } else {
                    out.push((line, prefix));
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

/// The path starting at `i`: identifiers joined by `::`.
fn path_at(text: &str, mut i: usize) -> (String, usize) {
    let bytes = text.as_bytes();
    let start = i;
    loop {
        while i < bytes.len() && is_ident(bytes[i]) {
            i += 1;
        }
        if bytes[i..].starts_with(b"::") && i + 2 < bytes.len() && is_ident(bytes[i + 2]) {
            i += 2;
        } else {
            return (text[start..i].to_owned(), i);
        }
    }
}

/// The top-level members of a `{…}` group (the text just after its `{`).
fn members(text: &str) -> Vec<&str> {
    let mut depth = 0;
    let mut start = 0;
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                out.push(&text[start..i]);
                return out;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}
