//! No two modules of the server import each other, directly or around a circle.
//!
//! A module depends on another when it names it: a `use` of `crate::`, `super::` or `self::`
//! paths (groups in braces included), such a path written inline, or, for a parent, a path
//! through one of its children (`child::item`, which re-exports are). A module depends on its
//! parent when it names an item the parent defines or re-exports. Test modules (from
//! `#[cfg(test)]` on) are left out: they import their parent by design. So is `main.rs`, the
//! binary, a crate of its own that uses the library from outside.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

/// Module path (`service::scope`; the crate root is "") to its source text.
type Sources = BTreeMap<String, String>;

fn read_tree(root: &Path) -> Sources {
    fn walk(dir: &Path, root: &Path, out: &mut Sources) {
        for entry in std::fs::read_dir(dir).expect("the source tree is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") && path != root.join("main.rs") {
                let relative = path.strip_prefix(root).unwrap().with_extension("");
                let mut parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    parts.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    parts.pop();
                }
                out.insert(parts.join("::"), std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = Sources::new();
    walk(root, root, &mut out);
    out
}

/// The code of a file without its test module and without comments.
fn code(source: &str) -> String {
    let source = source.split("#[cfg(test)]").next().unwrap_or_default();
    source
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path a `use` tree names, flattened: `a::{b, c::{d, self}}` gives `a::b`, `a::c::d`,
/// `a::c`.
fn flatten(tree: &str) -> Vec<String> {
    fn items(s: &str) -> Vec<&str> {
        let (mut depth, mut start, mut out) = (0, 0, Vec::new());
        for (i, c) in s.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.push(&s[start..]);
        out.into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }
    let tree = tree.trim();
    match tree.find('{') {
        None => {
            let path = tree.split(" as ").next().unwrap().trim();
            vec![path.strip_suffix("::self").unwrap_or(path).to_string()]
        }
        Some(open) => {
            let prefix = tree[..open].trim_end_matches("::");
            let inner = &tree[open + 1..tree.rfind('}').expect("a closing brace")];
            items(inner)
                .into_iter()
                .flat_map(flatten)
                .map(|rest| {
                    if rest == "self" {
                        prefix.to_string()
                    } else {
                        format!("{prefix}::{rest}")
                    }
                })
                .collect()
        }
    }
}

/// The paths a file names: its `use` trees, and `crate::`/`super::`/`self::` paths inline.
fn named_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before_ok = rest[..at].chars().next_back().is_none_or(|c| !is_ident(c));
        let after = &rest[at + 4..];
        let end = after.find(';').unwrap_or(after.len());
        if before_ok {
            paths.extend(flatten(&after[..end]));
        }
        rest = &after[end.min(after.len())..];
    }
    for root in ["crate::", "super::", "self::"] {
        for (at, _) in code.match_indices(root) {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| is_ident(c) || c == ':') {
                continue;
            }
            let tail = &code[at..];
            let mut end = 0;
            while end < tail.len() {
                let rest = &tail[end..];
                if rest.starts_with("::") {
                    end += 2;
                } else if rest.starts_with(is_ident) {
                    end += rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
                } else {
                    break;
                }
            }
            // `use super::{...}` ends here with `::`; the use trees above count those.
            if !tail[..end].ends_with("::") {
                paths.push(tail[..end].to_string());
            }
        }
    }
    paths
}

/// The deepest module of the tree that `path`, named in module `from`, goes through.
fn target(modules: &BTreeSet<String>, from: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = path.split("::").collect();
    let mut base: Vec<&str> = if from.is_empty() {
        Vec::new()
    } else {
        from.split("::").collect()
    };
    match parts.first().copied() {
        Some("crate") => {
            base.clear();
            parts.remove(0);
        }
        Some("super") => {
            while parts.first() == Some(&"super") {
                base.pop()?;
                parts.remove(0);
            }
        }
        Some("self") => {
            parts.remove(0);
        }
        _ => return None,
    }
    let mut best = None;
    for len in 0..=parts.len() {
        let candidate = base
            .iter()
            .chain(&parts[..len])
            .copied()
            .collect::<Vec<_>>()
            .join("::");
        if modules.contains(&candidate) {
            best = Some(candidate);
        }
    }
    best
}

/// Each module's dependencies on other modules of the tree.
fn dependencies(sources: &Sources) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    let mut edges = BTreeMap::new();
    for (module, source) in sources {
        let code = code(source);
        let mut paths = named_paths(&code);
        // A parent naming a child's path (`child::item`, a re-export or a call).
        for child in modules.iter().filter_map(|m| {
            let rest = if module.is_empty() {
                Some(m.as_str())
            } else {
                m.strip_prefix(&format!("{module}::"))
            };
            rest.filter(|r| !r.is_empty() && !r.contains("::"))
        }) {
            let needle = format!("{child}::");
            let named = code.match_indices(&needle).any(|(at, _)| {
                code[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !is_ident(c) && c != ':')
            });
            if named {
                paths.push(format!("self::{child}"));
            }
        }
        let targets: BTreeSet<String> = paths
            .iter()
            .filter_map(|p| target(&modules, module, p))
            .filter(|t| t != module)
            .collect();
        edges.insert(module.clone(), targets);
    }
    edges
}

/// The groups of modules that import each other around a circle (strongly connected
/// components of more than one module), each sorted.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Two modules are in one circle when each reaches the other.
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(m) = stack.pop() {
            for next in edges.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        edges.keys().map(|m| (m, reach(m))).collect();
    let mut groups: Vec<Vec<String>> = Vec::new();
    for (m, reached) in &reaches {
        if !reached.contains(*m) || groups.iter().any(|g| g.contains(m)) {
            continue;
        }
        let group: Vec<String> = reached
            .iter()
            .filter(|other| reaches[other].contains(*m))
            .cloned()
            .collect();
        groups.push(group);
    }
    groups
}

#[test]
fn no_two_modules_of_the_server_import_each_other() {
    let sources = read_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        sources.len() > 40,
        "found the source tree ({} files)",
        sources.len()
    );
    let edges = dependencies(&sources);
    // The graph is the real one: known dependencies are seen.
    assert!(edges["graphql::schema::segment"].contains("graphql::schema::objects"));
    assert!(edges["service::memberships"].contains("service::segments"));
    assert!(
        edges["http"].contains("http::state"),
        "a parent naming its child counts"
    );
    let found = cycles(&edges);
    let through: Vec<String> = found
        .iter()
        .flat_map(|group| {
            group.iter().flat_map(|m| {
                edges[m]
                    .iter()
                    .filter(|t| group.contains(t))
                    .map(move |t| format!("{m} -> {t}"))
            })
        })
        .collect();
    assert!(
        found.is_empty(),
        "modules that import each other: {found:#?}\nthrough: {through:#?}"
    );
}

fn tree(files: &[(&str, &str)]) -> Sources {
    files
        .iter()
        .map(|(m, s)| (m.to_string(), s.to_string()))
        .collect()
}

#[test]
fn the_check_finds_a_circle_of_siblings_through_a_use_group() {
    let sources = tree(&[
        ("", "pub mod a; pub mod b; pub mod c;"),
        ("a", "use super::{b::{self, B}, c as _};\nfn f() {}"),
        ("b", "use crate::c::C;"),
        ("c", "fn g() { crate::a::f() }"),
    ]);
    assert_eq!(cycles(&dependencies(&sources)), vec![vec!["a", "b", "c"]]);
}

#[test]
fn the_check_finds_a_child_that_uses_what_its_parent_defines_while_the_parent_re_exports_it() {
    let sources = tree(&[
        ("", "pub mod p;"),
        ("p", "pub mod x; pub mod y;\npub use y::Y;\npub struct X;"),
        ("p::x", "pub struct Z;"),
        ("p::y", "use super::X;\npub struct Y;"),
    ]);
    assert_eq!(cycles(&dependencies(&sources)), vec![vec!["p", "p::y"]]);
}

#[test]
fn the_check_ignores_test_modules_and_comments() {
    let sources = tree(&[
        ("", "pub mod a; pub mod b;"),
        ("a", "use super::b::B; // super::b\n"),
        (
            "b",
            "pub struct B; // crate::a\n#[cfg(test)]\nmod tests { use crate::a; }",
        ),
    ]);
    assert!(cycles(&dependencies(&sources)).is_empty());
}
