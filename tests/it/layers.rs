//! The layers of ARCHITECTURE.md, enforced (as rust-analyzer's tidy tests enforce its rules):
//! every `crate::…` path in `src/` must point down the declared order of the top-level modules,
//! and the files of one module must not import each other in a circle. A failure names the
//! file, the line and the import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules from the bottom up: each may use only the ones before it. The same
/// list, with what each is for, is ARCHITECTURE.md's code map.
const ORDER: [&str; 23] = [
    "error",
    "limits",
    "notation",
    "numfmt",
    "numpy_rng",
    "parallel",
    "signals",
    "input",
    "output",
    "nested",
    "npy",
    "engine",
    "data",
    "model",
    "trace",
    "session",
    "diff",
    "capture",
    "control",
    "tui",
    "cli",
    "lib",
    "main",
];

/// Circles between the files of one module that today's code still has (issue 21 breaks them).
/// The list may only shrink: a new circle fails the test, and so does one listed here that is
/// gone (then it is taken off the list).
const KNOWN_CIRCLES: [&str; 0] = [];

/// One `crate::…` or `super::…` path of a file: (line number, the module it names).
struct Import {
    line: usize,
    text: String,
    target: String,
}

/// The code of a line without its comment (a `//` outside a string literal) and with its
/// string literals blanked: `"crate::tui"` in a message is not an import.
fn code(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_string = false;
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' if in_string => {
                chars.next();
                out.push_str("  ");
            }
            '"' => {
                in_string = !in_string;
                out.push('"');
            }
            '/' if !in_string && chars.peek() == Some(&'/') => break,
            _ if in_string => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

/// The modules `prefix` names in the file's code: `crate::engine::…` → `engine`, and
/// `use crate::{engine, model}` → both.
fn paths(source: &str, prefix: &str) -> Vec<Import> {
    let mut out = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let c = code(line);
        let mut rest = c.as_str();
        while let Some(at) = rest.find(prefix) {
            // `xcrate::` is not `crate::`.
            let before = rest[..at].chars().last();
            let after = &rest[at + prefix.len()..];
            if before.is_none_or(|b| !(b.is_alphanumeric() || b == '_')) {
                let names: Vec<String> = if let Some(group) = after.strip_prefix('{') {
                    group
                        .split(['}', ','])
                        .map(|s| s.trim().split("::").next().unwrap_or("").to_string())
                        .filter(|s| !s.is_empty() && s.chars().all(|ch| ch.is_alphanumeric() || ch == '_'))
                        .collect()
                } else {
                    let name: String = after.chars().take_while(|ch| ch.is_alphanumeric() || *ch == '_').collect();
                    vec![name]
                };
                for target in names.into_iter().filter(|t| !t.is_empty()) {
                    out.push(Import { line: n + 1, text: c.trim().to_string(), target });
                }
            }
            rest = after;
        }
    }
    out
}

/// The module paths `prefix` starts in one line of code, as far as they go:
/// `crate::tui::panes::graph::render` → `[tui, panes, graph, render]`, and
/// `use super::{app, run}` → `[app]` and `[run]`.
fn full_paths(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let ident = |s: &str| -> String { s.chars().take_while(|ch| ch.is_alphanumeric() || *ch == '_').collect() };
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().last();
        let mut after = &rest[at + prefix.len()..];
        rest = after;
        if before.is_some_and(|b| b.is_alphanumeric() || b == '_') {
            continue;
        }
        let mut segments = Vec::new();
        loop {
            if let Some(group) = after.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for item in group.split(',') {
                    let item: Vec<String> = item.trim().split("::").map(ident).take_while(|s| !s.is_empty()).collect();
                    if !item.is_empty() && item[0] != "self" {
                        let mut p = segments.clone();
                        p.extend(item);
                        out.push(p);
                    }
                }
                break;
            }
            let name = ident(after);
            if name.is_empty() {
                break;
            }
            after = &after[name.len()..];
            segments.push(name);
            match after.strip_prefix("::") {
                Some(more) => after = more,
                None => break,
            }
        }
        if !segments.is_empty() && !after.starts_with('{') {
            out.push(segments);
        }
    }
    out
}

/// A file's module path: `src/tui/panes/graph.rs` → `[tui, panes, graph]`,
/// `src/tui/panes/mod.rs` → `[tui, panes]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> =
        rel.components().map(|c| c.as_os_str().to_string_lossy().trim_end_matches(".rs").to_string()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// Every `.rs` file below `dir` (the tidy test reads the same tree).
pub(crate) fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module of a file (`src/engine/ops.rs` → `engine`, `src/numfmt.rs` → `numfmt`)
/// and its part inside that module (`ops`; `None` for the module's own file).
fn module_of(src: &Path, file: &Path) -> (String, Option<String>) {
    let rel = file.strip_prefix(src).unwrap();
    let parts: Vec<String> =
        rel.components().map(|c| c.as_os_str().to_string_lossy().trim_end_matches(".rs").to_string()).collect();
    let top = parts[0].clone();
    let part = parts.get(1).filter(|p| *p != "mod").cloned();
    (top, part)
}

/// Every breach of the layers in the tree at `src`: imports up the order, modules missing from
/// it, and circles between the files of one module.
fn breaches(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let rank: BTreeMap<&str, usize> = ORDER.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut found = Vec::new();
    // Within each folder (`tui`, `tui/panes`): part → parts it imports (and where).
    let mut inner: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>> = BTreeMap::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        let (top, _) = module_of(src, file);
        let shown = file.strip_prefix(src.parent().unwrap_or(src)).unwrap().display().to_string();
        let Some(&mine) = rank.get(top.as_str()) else {
            found.push(format!(
                "{shown}: module `{top}` is not in the layer order (tests/it/layers.rs, ARCHITECTURE.md)"
            ));
            continue;
        };
        let here = module_path(src, file);
        for (n, line) in source.lines().enumerate() {
            let c = code(line);
            let parent = &here[..here.len().saturating_sub(1)];
            let targets = full_paths(&c, "crate::").into_iter().chain(full_paths(&c, "super::").into_iter().map(|t| {
                let mut full = parent.to_vec();
                full.extend(t);
                full
            }));
            for target in targets {
                // Between two parts of the folder both lie in (`tui/app` → `tui/run`).
                let common = here.iter().zip(&target).take_while(|(a, b)| a == b).count();
                if common == 0 || here.len() <= common || target.len() <= common {
                    continue;
                }
                inner
                    .entry(here[..common].join("/"))
                    .or_default()
                    .entry(here[common].clone())
                    .or_default()
                    .insert(target[common].clone(), format!("{shown}:{}: {}", n + 1, c.trim()));
            }
        }
        for import in paths(&source, "crate::") {
            if import.target == top {
                continue; // inside the module: circles between its parts are checked below
            }
            match rank.get(import.target.as_str()) {
                None => {}
                Some(&theirs) if theirs < mine => {}
                Some(_) => found.push(format!(
                    "{shown}:{}: `{}` imports `{}`, which is above `{top}` in the layer order: {}",
                    import.line, top, import.target, import.text
                )),
            }
        }
    }
    // Circles: a part that reaches itself through its siblings' imports.
    let mut children: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let m = module_path(src, file);
        for depth in 1..m.len() {
            children.entry(m[..depth].join("/")).or_default().insert(m[depth].clone());
        }
    }
    for (top, graph) in &inner {
        let Some(parts) = children.get(top) else { continue };
        let parts: BTreeSet<&String> = parts.iter().collect();
        for start in &parts {
            let mut stack = vec![(*start, vec![(*start).clone()])];
            let mut seen = BTreeSet::new();
            while let Some((at, path)) = stack.pop() {
                for (next, why) in graph.get(at).into_iter().flatten() {
                    if !parts.contains(next) {
                        continue; // the folder's own items, re-exported by its mod.rs
                    }
                    if next == *start {
                        // Reported once, from its smallest part.
                        if path.iter().all(|p| p >= *start) {
                            let mut circle = path.clone();
                            circle.push(next.clone());
                            found.push(format!("src/{top}: a circle {} (the last import: {why})", circle.join(" → ")));
                        }
                    } else if seen.insert(next.clone()) {
                        let mut p = path.clone();
                        p.push(next.clone());
                        stack.push((next, p));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn imports_run_down_the_layers_and_make_no_circle() {
    // BPTUI_LAYERS_SRC: another checkout's src/ to check (how this test was seen to fail on the
    // code before the layers were made explicit).
    let src = std::env::var_os("BPTUI_LAYERS_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let found = breaches(&src);
    let new: Vec<&String> =
        found.iter().filter(|f| !KNOWN_CIRCLES.iter().any(|k| f.starts_with(&format!("{k} ")))).collect();
    let gone: Vec<&&str> =
        KNOWN_CIRCLES.iter().filter(|k| !found.iter().any(|f| f.starts_with(&format!("{k} ")))).collect();
    assert!(
        new.is_empty(),
        "{} breach(es) of ARCHITECTURE.md's layers:\n{}",
        new.len(),
        new.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
    assert!(gone.is_empty(), "these circles are gone: take them off KNOWN_CIRCLES: {gone:?}");
}

#[test]
fn the_order_is_the_one_architecture_md_writes_down() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md")).unwrap();
    let start = text.find("<!-- layers -->").expect("ARCHITECTURE.md marks its layer list with <!-- layers -->");
    let listed: Vec<&str> = text[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("- `"))
        .map(|l| l.trim_start_matches("- `").split('`').next().unwrap())
        .collect();
    let mut want: Vec<&str> = ORDER.iter().copied().filter(|m| !matches!(*m, "lib" | "main")).collect();
    want.reverse();
    assert_eq!(listed, want, "ARCHITECTURE.md's layer list (top first) and tests/it/layers.rs's ORDER differ");
}

/// The check itself catches what it is for: an upward import, a module missing from the order,
/// and a circle between two files of one module.
#[test]
fn the_check_finds_an_upward_import_and_a_circle() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("engine")).unwrap();
    std::fs::write(src.join("numfmt.rs"), "use crate::engine::shape_str; // up\n").unwrap();
    std::fs::write(src.join("engine/mod.rs"), "mod ops;\nmod rules;\n").unwrap();
    std::fs::write(src.join("engine/ops.rs"), "use super::rules::greek;\n").unwrap();
    std::fs::write(src.join("engine/rules.rs"), "use crate::engine::ops::Op;\nuse crate::{model, error};\n").unwrap();
    std::fs::write(src.join("error.rs"), "// crate::tui in a comment is not an import\nlet s = \"crate::tui\";\n")
        .unwrap();
    std::fs::write(src.join("stray.rs"), "").unwrap();
    // A circle one folder down, through `super::` one way and `crate::` the other.
    std::fs::create_dir_all(src.join("tui/panes")).unwrap();
    std::fs::write(src.join("tui/mod.rs"), "mod panes;\n").unwrap();
    std::fs::write(src.join("tui/panes/mod.rs"), "mod graph;\nmod values;\nuse super::app;\n").unwrap();
    std::fs::write(src.join("tui/panes/graph.rs"), "use super::values::bias_input;\n").unwrap();
    std::fs::write(src.join("tui/panes/values.rs"), "use crate::tui::{panes::graph::describe, app};\n").unwrap();
    let found = breaches(&src);
    let text = found.join("\n");
    assert!(text.contains("src/numfmt.rs:1: `numfmt` imports `engine`"), "{text}");
    assert!(text.contains("src/engine/rules.rs:2: `engine` imports `model`"), "{text}");
    assert!(!text.contains("imports `error`"), "{text}");
    assert!(text.contains("src/engine: a circle ops → rules → ops"), "{text}");
    assert!(text.contains("module `stray` is not in the layer order"), "{text}");
    assert!(text.contains("src/tui/panes: a circle graph → values → graph"), "{text}");
    assert_eq!(found.len(), 5, "{text}");
}
