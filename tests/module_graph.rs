//! No circle of imports between the files of `src/`: a file that needs another's item must not
//! be needed by it, directly or around a loop. Edges are the `super::x`, `crate::core::x` and
//! `crate::web::x` paths a file names (comments aside), resolved to the files under `src/`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every `.rs` file under `dir`, as (module path, source): `web/upload.rs` is `web::upload`,
/// `core/yuv/mod.rs` is `core::yuv`.
fn modules(dir: &Path, prefix: &[String], out: &mut Vec<(Vec<String>, String)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            let mut inner = prefix.to_vec();
            inner.push(name);
            modules(&path, &inner, out);
        } else if let Some(stem) = name.strip_suffix(".rs") {
            let mut module = prefix.to_vec();
            if stem != "mod" && stem != "lib" {
                module.push(stem.to_string());
            }
            out.push((module, fs::read_to_string(&path).unwrap_or_default()));
        }
    }
}

/// The modules each module names, among those that exist.
fn graph(files: &[(Vec<String>, String)]) -> Graph {
    let known: BTreeSet<String> = files.iter().map(|(m, _)| m.join("::")).collect();
    let mut graph = Graph::new();
    for (module, source) in files {
        let me = module.join("::");
        let code: String = source
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let mut deps = BTreeSet::new();
        for (marker, base) in [
            (
                "super::",
                module[..module.len().saturating_sub(1)].join("::"),
            ),
            ("crate::core::", "core".to_string()),
            ("crate::web::", "web".to_string()),
        ] {
            for (at, _) in code.match_indices(marker) {
                let rest = &code[at + marker.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let target = if base.is_empty() {
                    name
                } else {
                    format!("{base}::{name}")
                };
                if known.contains(&target) && target != me {
                    deps.insert(target);
                }
            }
        }
        graph.insert(me, deps);
    }
    graph
}

/// A circle of the graph, if it has one.
fn circle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_file_of_src_imports_itself_around_a_circle() {
    let mut files = Vec::new();
    modules(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &[],
        &mut files,
    );
    assert!(
        files.len() > 30,
        "the files of src/ were found ({})",
        files.len()
    );
    let graph = graph(&files);
    assert!(
        graph["web::engine"].contains("web::upload"),
        "edges are read: {graph:?}"
    );
    if let Some(found) = circle(&graph) {
        panic!("a circle of imports: {}", found.join(" -> "));
    }
}

#[test]
fn a_circle_is_found() {
    let files = vec![
        (
            vec!["web".into(), "a".into()],
            "use super::b::X;".to_string(),
        ),
        (
            vec!["web".into(), "b".into()],
            "use crate::web::c::Y; // super::a".to_string(),
        ),
        (
            vec!["web".into(), "c".into()],
            "fn f() { super::a::g() }".to_string(),
        ),
    ];
    let found = circle(&graph(&files)).expect("a -> b -> c -> a");
    assert_eq!(found.join(" -> "), "web::a -> web::b -> web::c -> web::a");
}
