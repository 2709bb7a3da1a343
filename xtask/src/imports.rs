//! `cargo xtask imports`: no two source files of a crate import each other in a circle.
//!
//! ARCHITECTURE.md asks that the files of a crate form layers: if `a.rs` uses `b.rs`, nothing
//! that `b.rs` uses (directly or through others) uses `a.rs`. This check reads every file
//! under `crates/*/src` and `xtask/src`, takes the module paths each one names
//! (`crate::x::y`, `super::x`, `self::x`, and the items of `crate::{..}` groups), resolves each
//! to the longest prefix that is a module file of the crate, and reports every set of files
//! that reach each other (a strongly connected component of more than one file).
//!
//! A module naming its own sub-modules (`mod x; pub use x::Y;`) is how Rust declares them,
//! not an import between peers, so edges from a module to its descendants are left out; a
//! sub-module naming its parent (`super::Z`) counts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// A module path inside one crate: `[]` is the crate root.
type ModPath = Vec<String>;

/// The module path of `file` under the crate's `src`.
fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if !(stem == "mod" || (parts.is_empty() && (stem == "lib" || stem == "main"))) {
        parts.push(stem.to_string());
    }
    parts
}

/// `text` without `//` comments (doc comments included) and string literals' contents.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = '\0';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if in_str {
                if c == '"' && prev != '\\' {
                    in_str = false;
                    out.push('"');
                }
                prev = if prev == '\\' && c == '\\' { '\0' } else { c };
                continue;
            }
            if c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\'' {
                in_str = true;
            }
            out.push(c);
            prev = c;
        }
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths named after `anchor::` at byte `at` of `code`: one path, or the items of a
/// `{..}` group (nested groups flattened), each as its leading identifiers.
fn paths_at(code: &str, at: usize) -> Vec<Vec<String>> {
    let rest = &code[at..];
    let mut segs = Vec::new();
    let mut i = 0;
    let bytes = rest.as_bytes();
    loop {
        let start = i;
        while i < bytes.len() && is_ident(bytes[i] as char) {
            i += 1;
        }
        if i == start {
            break;
        }
        segs.push(rest[start..i].to_string());
        if rest[i..].starts_with("::") {
            i += 2;
        } else {
            return vec![segs];
        }
    }
    if rest[i..].starts_with('{') {
        // A group: split at top-level commas, recurse into each item.
        let mut depth = 0;
        let mut item_start = i + 1;
        let mut out = Vec::new();
        for (k, c) in rest[i..].char_indices() {
            let k = i + k;
            match c {
                '{' => depth += 1,
                '}' | ',' if depth == 1 => {
                    let item = rest[item_start..k].trim();
                    if !item.is_empty() && item != "self" {
                        for p in paths_at(item, 0) {
                            let mut full = segs.clone();
                            full.extend(p);
                            out.push(full);
                        }
                    }
                    item_start = k + 1;
                    if c == '}' {
                        break;
                    }
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        if out.is_empty() {
            out.push(segs);
        }
        return out;
    }
    vec![segs]
}

/// Every module path `code` (of the module `me`, a `mod.rs`/root file when `dir_module`)
/// names, absolute.
fn named_paths(code: &str, me: &ModPath) -> Vec<ModPath> {
    let mut out = Vec::new();
    for anchor in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(pos) = code[from..].find(anchor) {
            let at = from + pos;
            from = at + anchor.len();
            if at > 0 && is_ident(code[..at].chars().next_back().unwrap_or(' ')) {
                continue; // e.g. `$crate::` or `my_crate::`
            }
            if at > 0 && code[..at].ends_with('$') {
                continue;
            }
            for rel in paths_at(code, from) {
                let mut abs: ModPath = match anchor {
                    "crate::" => Vec::new(),
                    "super::" => me[..me.len().saturating_sub(1)].to_vec(),
                    _ => me.clone(),
                };
                let mut rel = rel.into_iter().peekable();
                while rel.peek().map(String::as_str) == Some("super") {
                    rel.next();
                    abs.pop();
                }
                abs.extend(rel);
                out.push(abs);
            }
        }
    }
    out
}

/// The `.rs` files under `dir`, sorted.
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The circles among the files of the crate whose sources are in `src`: each a sorted list of
/// files (relative to `src`) that reach each other.
pub fn circles(src: &Path) -> Result<Vec<Vec<String>>> {
    let files = rust_files(src)?;
    let modules: BTreeMap<ModPath, PathBuf> = files
        .iter()
        .map(|f| (module_of(src, f), f.clone()))
        .collect();
    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (me, file) in &modules {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let code = code_only(&text);
        let targets = edges.entry(me.clone()).or_default();
        for path in named_paths(&code, me) {
            // The longest prefix that is a module file.
            let target = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains_key(p));
            if let Some(t) = target {
                if t != *me && !t.starts_with(me) {
                    targets.insert(t);
                }
            }
        }
    }
    Ok(strongly_connected(&edges)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut names: Vec<String> = c
                .iter()
                .map(|m| {
                    let f = &modules[m];
                    f.strip_prefix(src).unwrap_or(f).display().to_string()
                })
                .collect();
            names.sort();
            names
        })
        .collect())
}

/// Tarjan's strongly connected components of `edges`.
fn strongly_connected(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    struct State<'a> {
        edges: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on_stack: BTreeSet<&'a ModPath>,
        out: Vec<Vec<ModPath>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a ModPath) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(ws) = s.edges.get(v) {
            for w in ws {
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// The crates' source folders under the workspace `root`.
pub fn source_dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))?
        .filter_map(|e| e.ok().map(|e| e.path().join("src")))
        .filter(|p| p.is_dir())
        .collect();
    dirs.push(root.join("xtask/src"));
    dirs.sort();
    Ok(dirs)
}

/// `cargo xtask imports`: fails naming every circle.
pub fn run(root: &Path) -> Result<()> {
    let mut found = Vec::new();
    for src in source_dirs(root)? {
        for c in circles(&src)? {
            found.push(format!("{}: {}", src.display(), c.join(" <-> ")));
        }
    }
    if !found.is_empty() {
        bail!(
            "files that import each other in a circle:\n{}",
            found.join("\n")
        );
    }
    eprintln!("no circle of imports between files");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask sits in the workspace")
            .to_path_buf()
    }

    /// The project's own files: no two import each other in a circle (ARCHITECTURE.md).
    #[test]
    fn no_circle_of_imports_between_the_projects_files() {
        let root = workspace_root();
        for src in source_dirs(&root).unwrap() {
            let c = circles(&src).unwrap();
            assert!(c.is_empty(), "{}: {c:?}", src.display());
        }
    }

    /// The checker finds a circle through a group import and `super::`, and ignores a parent
    /// naming its child and paths in comments and strings.
    #[test]
    fn finds_circles_and_only_circles() {
        let dir = std::env::temp_dir().join(format!("xtask-imports-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("p")).unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
        write("lib.rs", "mod a; mod b; mod c; mod p; pub use a::A;\n");
        write(
            "a.rs",
            "use crate::{b::{B, BB}, c};\n// crate::p::x in a comment\n",
        );
        write(
            "b.rs",
            "pub fn f() { let _ = \"crate::p\"; super::c::g() }\n",
        );
        write("c.rs", "use crate::a::A;\n");
        write("p/mod.rs", "mod q; pub use q::Q;\n");
        write("p/q.rs", "use super::R;\n");
        let found = circles(&dir).unwrap();
        assert_eq!(found, vec![vec!["a.rs", "b.rs", "c.rs"]]);
        write("a.rs", "use crate::b::B;\n");
        write("b.rs", "// crate::c\n");
        assert!(circles(&dir).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
