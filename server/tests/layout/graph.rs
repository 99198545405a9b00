//! The module graph of a crate as its layout rules see it: each reference lifted to the two
//! sibling modules it crosses between, and the circles among siblings.

use super::source::{Crate, Module, Reference};
use std::collections::{BTreeMap, BTreeSet};

/// An edge between two sibling modules (children of `parent`), with the references behind it.
pub struct Edges {
    /// parent → (from child, to child) → the references that make the edge.
    pub by_parent: BTreeMap<Module, BTreeMap<(String, String), Vec<Reference>>>,
}

/// Lifts every reference to the siblings it crosses between. A module naming its own ancestors
/// (a child using its parent's types, as `room/session.rs` uses `Room`) or its own descendants
/// (a parent mounting its children) crosses no siblings and adds no edge.
pub fn lift(krate: &Crate) -> Edges {
    let mut by_parent: BTreeMap<Module, BTreeMap<(String, String), Vec<Reference>>> =
        BTreeMap::new();
    for r in &krate.references {
        let common = r.from.iter().zip(&r.to).take_while(|(a, b)| a == b).count();
        if common == r.from.len() || common == r.to.len() {
            continue;
        }
        let parent = r.from[..common].to_vec();
        let pair = (r.from[common].clone(), r.to[common].clone());
        by_parent
            .entry(parent)
            .or_default()
            .entry(pair)
            .or_default()
            .push(r.clone());
    }
    Edges { by_parent }
}

/// The circles among the children of each module, as lists of module names (each circle once).
pub fn circles(edges: &Edges) -> Vec<(Module, Vec<String>)> {
    let mut out = Vec::new();
    for (parent, pairs) in &edges.by_parent {
        let mut next: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (a, b) in pairs.keys() {
            next.entry(a).or_default().insert(b);
        }
        for component in strongly_connected(&next) {
            if component.len() > 1 {
                out.push((parent.clone(), component));
            }
        }
    }
    out
}

/// Tarjan's algorithm: the strongly connected components of a small graph.
fn strongly_connected(next: &BTreeMap<&str, BTreeSet<&str>>) -> Vec<Vec<String>> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(v: &'a str, next: &BTreeMap<&'a str, BTreeSet<&'a str>>, s: &mut State<'a>) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in next.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(w, next, s);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            component.sort();
            s.out.push(component);
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for &v in next.keys() {
        if !s.index.contains_key(v) {
            visit(v, next, &mut s);
        }
    }
    s.out
}
