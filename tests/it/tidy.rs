//! ARCHITECTURE.md's size rule, enforced: no function in `src/` is longer than 80 lines, so
//! that each reads on one screen and does one job. The one exception is the closed `Op`'s
//! `match` per concern (`src/engine/ops.rs`), which is long because it has one arm per op:
//! splitting it would scatter an op's rule over several places. A failure names the file, the
//! line and the function.

use std::path::PathBuf;

use super::layers::rust_files;

/// The longest a function may be, its signature and closing brace included.
const MAX_LINES: usize = 80;

/// The matches with one arm per op, allowed to be as long as the ops are many.
const OP_MATCHES: [(&str, &str); 3] =
    [("engine/ops.rs", "forward"), ("engine/ops.rs", "accumulate_vjp"), ("engine/ops.rs", "output_shape")];

/// The name of the function a line opens (`pub(crate) fn name(`, `const unsafe fn name<`),
/// if it opens one with a body.
fn opens_fn(line: &str) -> Option<&str> {
    let code = line.trim_start();
    if code.starts_with("//") || code.trim_end().ends_with(';') {
        return None;
    }
    let at = code.find("fn ")?;
    let before = &code[..at];
    let words_ok = before.split_whitespace().all(|w| {
        matches!(w, "pub" | "const" | "unsafe" | "async" | "extern" | "default")
            || w.starts_with("pub(")
            || w.starts_with('"')
    });
    if !words_ok {
        return None;
    }
    let rest = &code[at + 3..];
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Each function of `source` longer than `max`: (line it starts on, name, its lines). rustfmt
/// closes a body with a `}` at the indentation of its `fn`, which is what ends it here.
fn long_functions(source: &str, max: usize) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = opens_fn(line) else { continue };
        let indent = line.len() - line.trim_start().len();
        let close = lines[i + 1..]
            .iter()
            .position(|l| l.len() - l.trim_start().len() == indent && l.trim_start().starts_with('}'));
        if let Some(k) = close {
            let len = k + 2;
            if len > max {
                out.push((i + 1, name.to_string(), len));
            }
        }
    }
    out
}

#[test]
fn no_function_is_longer_than_80_lines() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut long = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        let source = std::fs::read_to_string(file).unwrap();
        for (line, name, len) in long_functions(&source, MAX_LINES) {
            if !OP_MATCHES.contains(&(rel.as_str(), name.as_str())) {
                long.push(format!("src/{rel}:{line}: fn {name} is {len} lines"));
            }
        }
    }
    assert!(long.is_empty(), "functions over {MAX_LINES} lines (split them by job):\n{}", long.join("\n"));
}

#[test]
fn the_count_finds_a_long_function_and_ends_each_at_its_brace() {
    let mut source = String::from("/// doc\npub(crate) fn short() {\n    if x {\n    }\n}\n\nimpl A {\n    fn long(\n");
    source += "        a: u8,\n    ) -> u8 {\n";
    for _ in 0..80 {
        source += "        a;\n";
    }
    source += "    }\n    fn ends_here(&self);\n}\n";
    assert_eq!(long_functions(&source, 80), vec![(8, "long".to_string(), 84)]);
    assert_eq!(long_functions(&source, 84), vec![]);
    assert_eq!(opens_fn("let f = |x| x; // fn not_this()"), None);
    assert_eq!(opens_fn("    pub const fn len(&self) -> usize {"), Some("len"));
}
