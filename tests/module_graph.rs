//! No import circle between the files of `src/cloud` and `src/resource`: a file stands above everything it
//! imports, so each can be read (and changed) knowing only what lies below it. This test reads the code as text and
//! fails naming every loop of files that import each other, with the `use` line behind each step.
//!
//! The rules, kept plain so that anyone can predict what it sees:
//!
//! - **Files.** Every `.rs` file under `src/cloud` and `src/resource` is one node. Its module path follows the
//!   file system: `src/cloud/alibaba/ens.rs` is `cloud::alibaba::ens`, `src/cloud/alibaba/ecs/mod.rs` is
//!   `cloud::alibaba::ecs`. An item reached through a module counts for that module's file, so a name taken from a
//!   `mod.rs` (`crate::cloud::Cloud`, re-exported by `src/cloud/mod.rs`) counts for that `mod.rs`.
//! - **What is read.** `use` declarations only, one statement from `use` to its `;`, wherever they stand (at the
//!   top or inside a function). Paths written inline in code (`super::plan::same_value(...)`) and method calls are
//!   not read.
//! - **What is skipped.** Re-exports (`pub use`, `pub(crate) use`, ...): they hand names on and are a module's
//!   face, not what it builds on. Test code: reading a file stops at a `#[cfg(test)]` that opens an inline module
//!   (`mod tests {`), which by this project's habit is the last item of its file.
//! - **Paths.** `crate::a::b` starts at `src/`; `super::` goes one module up from the file's module (from
//!   `a/b.rs`, `use super::x::y` means `a/x.rs` or `a/x/mod.rs`); `self::` stays in the file's module; a first
//!   segment naming a child module of the file's module is relative to it; any other first segment is an outside
//!   crate and ignored. `{...}` groups expand to one path each, `as` renames and `*` globs end a path. A path goes
//!   down the folders as far as a segment names a module file (`x.rs` or `x/mod.rs`); the deepest one is the
//!   import's target. Targets outside the two folders, and a file importing itself, draw no arrow.
//!
//! To see why a file imports another, the failure message names the importing line.
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The folders whose files must not import each other in a loop.
const ROOTS: [&str; 2] = ["src/cloud", "src/resource"];

/// One arrow: the importing file, the imported file, and the line that imports (for the message).
#[derive(Debug, Clone)]
struct Arrow {
    to: String,
    line: usize,
    statement: String,
}

/// The import graph: for each file (path from the crate root, `src/...`), its arrows.
type Graph = BTreeMap<String, Vec<Arrow>>;

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, as paths relative to the crate root.
fn rust_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = fs::read_dir(root.join(dir))
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let rel = path.strip_prefix(root).unwrap().to_path_buf();
        if path.is_dir() {
            rust_files(root, &rel, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// The module path of a file: `src/cloud/alibaba/ecs/mod.rs` -> `[cloud, alibaba, ecs]`.
fn module_of(file: &str) -> Vec<String> {
    let inner = file
        .strip_prefix("src/")
        .unwrap()
        .strip_suffix(".rs")
        .unwrap();
    let mut parts: Vec<String> = inner.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The file of a module, if it has one of its own (`src/<path>.rs` or `src/<path>/mod.rs`).
fn file_of(root: &Path, module: &[String]) -> Option<String> {
    if module.is_empty() {
        return None;
    }
    let joined = module.join("/");
    [format!("src/{joined}.rs"), format!("src/{joined}/mod.rs")]
        .into_iter()
        .find(|f| root.join(f).is_file())
}

/// The `use` statements of a file's non-test code that are not re-exports: (line number, statement text).
fn use_statements(text: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].split("//").next().unwrap_or("").trim();
        if line == "#[cfg(test)]" {
            let next = lines.get(i + 1).map(|l| l.trim()).unwrap_or("");
            if next.starts_with("mod ") && next.ends_with('{') {
                break;
            }
        }
        if line.starts_with("use ") {
            let start = i;
            let mut statement = line.to_string();
            while !statement.contains(';') && i + 1 < lines.len() {
                i += 1;
                statement.push(' ');
                statement.push_str(lines[i].split("//").next().unwrap_or("").trim());
            }
            let body = statement["use ".len()..].split(';').next().unwrap_or("");
            out.push((start + 1, body.trim().to_string()));
        }
        i += 1;
    }
    out
}

/// The paths a use tree names: `a::{b, c::{d, self}}` -> `a::b`, `a::c::d`, `a::c`. Renames and globs are dropped.
fn expand(tree: &str) -> Vec<Vec<String>> {
    fn walk(tree: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let tree = tree.trim();
        if tree.is_empty() {
            return;
        }
        if let Some(open) = tree.find('{') {
            let head = tree[..open].trim_end_matches("::").trim();
            let mut base = prefix.to_vec();
            base.extend(segments(head));
            let close = tree.rfind('}').unwrap_or(tree.len());
            for part in split_top_level(&tree[open + 1..close]) {
                walk(&part, &base, out);
            }
        } else {
            let mut path = prefix.to_vec();
            let plain = tree.split(" as ").next().unwrap_or(tree);
            for s in segments(plain) {
                if s == "self" && !path.is_empty() {
                    continue;
                }
                path.push(s);
            }
            out.push(path);
        }
    }
    fn segments(path: &str) -> Vec<String> {
        path.split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "*")
            .map(str::to_string)
            .collect()
    }
    fn split_top_level(list: &str) -> Vec<String> {
        let mut parts = Vec::new();
        let mut depth = 0;
        let mut current = String::new();
        for c in list.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(std::mem::take(&mut current));
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        parts.push(current);
        parts
    }
    let mut out = Vec::new();
    walk(tree, &[], &mut out);
    out
}

/// The file that `path`, written in `file`, imports from (see the rules above), if it is one of this crate's.
fn target(root: &Path, file: &str, path: &[String]) -> Option<String> {
    let here = module_of(file);
    let (mut module, rest): (Vec<String>, &[String]) = match path.first()?.as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (here.clone(), &path[1..]),
        "super" => {
            let ups = path.iter().take_while(|s| *s == "super").count();
            (here[..here.len().checked_sub(ups)?].to_vec(), &path[ups..])
        }
        first => {
            let mut child = here.clone();
            child.push(first.to_string());
            file_of(root, &child)?;
            (here.clone(), path)
        }
    };
    for segment in rest {
        let mut next = module.clone();
        next.push(segment.clone());
        if file_of(root, &next).is_none() {
            break;
        }
        module = next;
    }
    file_of(root, &module)
}

/// The import graph of the files under [`ROOTS`].
fn graph(root: &Path) -> Graph {
    let mut files = Vec::new();
    for dir in ROOTS {
        rust_files(root, Path::new(dir), &mut files);
    }
    let inside: BTreeSet<&String> = files.iter().collect();
    let mut graph = Graph::new();
    for file in &files {
        let text = fs::read_to_string(root.join(file)).unwrap();
        let arrows = graph.entry(file.clone()).or_default();
        for (line, statement) in use_statements(&text) {
            for path in expand(&statement) {
                if let Some(to) = target(root, file, &path) {
                    if &to != file && inside.contains(&to) {
                        arrows.push(Arrow {
                            to,
                            line,
                            statement: statement.clone(),
                        });
                    }
                }
            }
        }
    }
    graph
}

/// Loops of files, each as the list of its files with the first repeated at the end; at least one through every
/// group of files that reach each other.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        file: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
        found: &mut Vec<Vec<String>>,
    ) {
        marks.insert(file.to_string(), Mark::Open);
        stack.push(file.to_string());
        let mut targets: Vec<&str> = graph[file].iter().map(|a| a.to.as_str()).collect();
        targets.dedup();
        for to in targets {
            match marks.get(to).copied().unwrap_or(Mark::New) {
                Mark::New => visit(to, graph, marks, stack, found),
                Mark::Open => {
                    let from = stack.iter().position(|f| f == to).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(to.to_string());
                    found.push(cycle);
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(file.to_string(), Mark::Done);
    }
    let mut marks = BTreeMap::new();
    let mut found = Vec::new();
    for file in graph.keys() {
        if marks.get(file).copied().unwrap_or(Mark::New) == Mark::New {
            visit(file, graph, &mut marks, &mut Vec::new(), &mut found);
        }
    }
    found
}

/// A loop in words, each step with the line that makes it.
fn describe(graph: &Graph, cycle: &[String]) -> String {
    let mut out = cycle.join(" -> ");
    for pair in cycle.windows(2) {
        let arrow = graph[&pair[0]].iter().find(|a| a.to == pair[1]).unwrap();
        out.push_str(&format!(
            "\n    {}:{}: use {};",
            pair[0], arrow.line, arrow.statement
        ));
    }
    out
}

#[test]
fn no_import_circle_in_cloud_and_resource() {
    let root = crate_root();
    let graph = graph(&root);
    // The reading itself works: a few arrows the code is known to have are seen (else an empty graph would pass).
    for (from, to) in [
        ("src/resource/create.rs", "src/resource/marker.rs"),
        (
            "src/cloud/alibaba/ecs/mod.rs",
            "src/cloud/alibaba/ecs/gateway.rs",
        ),
        ("src/cloud/registry.rs", "src/cloud/backend.rs"),
        ("src/cloud/alibaba/ens.rs", "src/cloud/alibaba/account.rs"),
        ("src/resource/source.rs", "src/cloud/objects.rs"),
    ] {
        assert!(
            graph[from].iter().any(|a| a.to == to),
            "the reader should see {from} -> {to}; it saw {:?}",
            graph[from].iter().map(|a| &a.to).collect::<Vec<_>>()
        );
    }
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "files import each other in a loop; move what the lower file takes from the higher one down:\n  {}",
        found
            .iter()
            .map(|c| describe(&graph, c))
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

#[test]
fn the_reader_follows_the_rules() {
    let root = crate_root();
    assert_eq!(
        expand("super::{account, rpc::{AcsRpc, RpcTarget}, self}"),
        [
            vec!["super", "account"],
            vec!["super", "rpc", "AcsRpc"],
            vec!["super", "rpc", "RpcTarget"],
            vec!["super"],
        ]
    );
    let ecs = "src/cloud/alibaba/ecs/mod.rs";
    let path = |p: &str| expand(p).remove(0);
    // `super` of a mod.rs is its folder's parent module; an item counts for the file that declares its module.
    assert_eq!(
        target(&root, ecs, &path("super::account::ECS_ENDPOINT")).as_deref(),
        Some("src/cloud/alibaba/account.rs")
    );
    // A child module, named without `self::`.
    assert_eq!(
        target(&root, ecs, &path("params::ECS_VERSION")).as_deref(),
        Some("src/cloud/alibaba/ecs/params.rs")
    );
    // A name re-exported by a mod.rs counts for that mod.rs; an outside crate is no file.
    assert_eq!(
        target(&root, "src/cloud/http.rs", &path("crate::cloud::Cloud")).as_deref(),
        Some("src/cloud/mod.rs")
    );
    assert_eq!(target(&root, ecs, &path("std::sync::Arc")), None);
    // Re-exports and test modules are not read.
    let text = "pub use a::B;\nuse super::x;\n#[cfg(test)]\nmod tests {\n    use super::y;\n}\n";
    assert_eq!(use_statements(text), [(2, "super::x".to_string())]);
}
