//! The architecture, checked from the source: the rules of the README's "Architecture" section
//! that a compiler does not enforce.
//!
//! - No import cycle between the top-level modules of `src/` (`compile`, `emit`, `policy`, …),
//!   nor between the files of `src/cli/`.
//! - No module reaches up to the crate root for an item: `lib.rs` re-exports for the users of
//!   the library, and the modules use each item where it is defined.
//! - Nothing outside `src/cli/` and `src/main.rs` names clap.
//!
//! An import is any path that starts with `crate::`, `super::` or `self::`, in a `use` or in
//! code, and in `cli/mod.rs` a path that starts with the name of a command file. Test code
//! (`#[cfg(test)]` items and the `tests.rs` files) is left out: a test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One source file: its module path (`["cli", "render"]`; `[]` for lib.rs) and its code with
/// comments, string literals and test items blanked out.
struct File {
    path: String,
    module: Vec<String>,
    code: String,
}

/// Every `.rs` file under `src/` but main.rs (a crate of its own) and the test modules.
fn source_files(src: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(src)
                    .expect("under src")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&path).expect("read")));
            }
        }
    }
    out.sort();
    out
}

fn parse(files: &[(String, String)]) -> Vec<File> {
    let test_only = test_modules(files);
    files
        .iter()
        .filter(|(path, _)| path != "main.rs" && !path.ends_with("/tests.rs"))
        .filter(|(path, _)| !test_only.contains(path))
        .map(|(path, text)| File {
            path: path.clone(),
            module: module_of(path),
            code: without_tests(&blank(text)),
        })
        .collect()
}

/// The files of the modules declared `#[cfg(test)] mod name;`: test code, like `tests.rs`.
fn test_modules(files: &[(String, String)]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, text) in files {
        let code = blank(text);
        let dir = match path.rsplit_once('/') {
            Some((dir, file)) if file == "mod.rs" || file == "lib.rs" => format!("{dir}/"),
            Some((dir, file)) => format!("{dir}/{}/", file.trim_end_matches(".rs")),
            None if path == "lib.rs" || path == "main.rs" => String::new(),
            None => format!("{}/", path.trim_end_matches(".rs")),
        };
        let toks = tokens(&code);
        for (i, (t, _)) in toks.iter().enumerate() {
            // `# [ cfg ( test ) ] [pub(crate)] mod name ;`
            if *t != Token::Ident("cfg".into())
                || toks.get(i + 2).map(|t| &t.0) != Some(&Token::Ident("test".into()))
            {
                continue;
            }
            let rest: Vec<&Token> = toks
                .get(i + 5..)
                .unwrap_or_default()
                .iter()
                .map(|(t, _)| t)
                .take(8)
                .collect();
            let name = rest.windows(3).find_map(|w| match (w[0], w[1], w[2]) {
                (Token::Ident(m), Token::Ident(name), Token::Other) if m == "mod" => {
                    Some(name.clone())
                }
                _ => None,
            });
            if let Some(name) = name {
                out.insert(format!("{dir}{name}.rs"));
                out.insert(format!("{dir}{name}/mod.rs"));
            }
        }
    }
    out
}

/// `cli/render.rs` → `["cli", "render"]`, `cli/mod.rs` → `["cli"]`, `lib.rs` → `[]`.
fn module_of(path: &str) -> Vec<String> {
    let path = path.strip_suffix(".rs").unwrap_or(path);
    let mut parts: Vec<String> = path.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// `text` with comments and string and char literals replaced by spaces, lines kept.
fn blank(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let keep = |c: u8| if c == b'\n' { b'\n' } else { b' ' };
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(keep(b[i]));
                    i += 1;
                }
            }
        } else if b[i] == b'r' && (b[i..].starts_with(b"r\"") || b[i..].starts_with(b"r#")) {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while j < b.len() && b[j] == b'#' {
                hashes += 1;
                j += 1;
            }
            if j < b.len() && b[j] == b'"' && (i == 0 || !is_ident(b[i - 1])) {
                let mut end = j + 1;
                loop {
                    if end >= b.len() {
                        break;
                    }
                    if b[end] == b'"'
                        && b[end + 1..]
                            .iter()
                            .take(hashes)
                            .filter(|&&c| c == b'#')
                            .count()
                            == hashes
                    {
                        end += 1 + hashes;
                        break;
                    }
                    end += 1;
                }
                out.extend(b[i..end.min(b.len())].iter().map(|&c| keep(c)));
                i = end;
            } else {
                out.push(b[i]);
                i += 1;
            }
        } else if b[i] == b'"' {
            out.push(b' ');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    out.push(b' ');
                    i += 1;
                }
                out.push(keep(b[i]));
                i += 1;
            }
            out.push(b' ');
            i += 1;
        } else if b[i] == b'\'' && is_char_literal(&b[i..]) {
            let len = char_literal_len(&b[i..]);
            out.extend(std::iter::repeat_n(b' ', len));
            i += len;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `'a'`, `'\n'`, `'\''`, `'\u{1F600}'`; not a lifetime `'a`.
fn is_char_literal(b: &[u8]) -> bool {
    char_literal_len(b) > 0
}

fn char_literal_len(b: &[u8]) -> usize {
    if b.len() >= 4 && b[1] == b'\\' {
        b[2..].iter().position(|&c| c == b'\'').map_or(0, |p| p + 3)
    } else {
        // One character, which may take several bytes.
        let rest = &b[1..];
        let width = match rest.first() {
            Some(c) if *c < 0x80 => 1,
            Some(c) if *c >= 0xf0 => 4,
            Some(c) if *c >= 0xe0 => 3,
            Some(_) => 2,
            None => return 0,
        };
        if rest.get(width) == Some(&b'\'') {
            width + 2
        } else {
            0
        }
    }
}

/// `code` without the items marked `#[cfg(test)]`.
fn without_tests(code: &str) -> String {
    let mut out = code.to_string();
    while let Some(at) = out.find("#[cfg(test)]") {
        let rest = &out[at..];
        // The item ends at its `;` or with the brace that closes its first `{`.
        let end = match (rest.find('{'), rest.find(';')) {
            (Some(open), Some(semi)) if semi < open => semi + 1,
            (Some(open), _) => {
                let mut depth = 0;
                let mut end = rest.len();
                for (i, c) in rest[open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = open + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (None, Some(semi)) => semi + 1,
            (None, None) => rest.len(),
        };
        let blanked: String = rest[..end]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        out.replace_range(at..at + end, &blanked);
    }
    out
}

#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Star,
    Other,
}

fn tokens(code: &str) -> Vec<(Token, usize)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if is_ident(c) {
            let start = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            out.push((Token::Ident(code[start..i].to_string()), line));
        } else if b[i..].starts_with(b"::") {
            out.push((Token::PathSep, line));
            i += 2;
        } else {
            out.push((
                match c {
                    b'{' => Token::Open,
                    b'}' => Token::Close,
                    b',' => Token::Comma,
                    b'*' => Token::Star,
                    _ => Token::Other,
                },
                line,
            ));
            i += 1;
        }
    }
    out
}

/// A path a file names, resolved from the crate root, with the line it is on.
struct Reference {
    path: Vec<String>,
    line: usize,
}

/// The paths `file` names that start with `crate`, `super` or `self`, and in a `mod.rs` or
/// `lib.rs` those that start with one of `children`, resolved from the crate root. Use trees
/// (`crate::a::{b, c::d}`) give one path a leaf.
fn references(file: &File, children: &BTreeSet<String>) -> Vec<Reference> {
    let toks = tokens(&file.code);
    let mut out = Vec::new();
    for (i, (tok, line)) in toks.iter().enumerate() {
        let Token::Ident(first) = tok else { continue };
        if i > 0 && toks[i - 1].0 == Token::PathSep {
            continue;
        }
        if toks.get(i + 1).map(|t| &t.0) != Some(&Token::PathSep) {
            continue;
        }
        let base: Vec<String> = match first.as_str() {
            "crate" => Vec::new(),
            "self" => file.module.clone(),
            "super" => file.module[..file.module.len().saturating_sub(1)].to_vec(),
            child if children.contains(child) => {
                let mut m = file.module.clone();
                m.push(child.to_string());
                m
            }
            _ => continue,
        };
        let mut paths = Vec::new();
        use_tree(&toks, i + 2, base, &mut paths);
        out.extend(
            paths
                .into_iter()
                .map(|path| Reference { path, line: *line }),
        );
    }
    out
}

/// Reads a path or use tree from `toks[at..]` onto `prefix`, pushing each leaf path.
fn use_tree(
    toks: &[(Token, usize)],
    mut at: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    loop {
        match toks.get(at).map(|t| &t.0) {
            Some(Token::Ident(name)) if name == "super" => {
                prefix.pop();
                at += 1;
            }
            Some(Token::Ident(name)) if name == "self" => at += 1,
            Some(Token::Ident(name)) => {
                prefix.push(name.clone());
                at += 1;
            }
            Some(Token::Open) => {
                at += 1;
                loop {
                    match toks.get(at).map(|t| &t.0) {
                        Some(Token::Close) | None => return at + 1,
                        Some(Token::Comma) => at += 1,
                        _ => at = use_tree(toks, at, prefix.clone(), out),
                    }
                }
            }
            Some(Token::Star) => {
                at += 1;
                out.push(prefix);
                return at;
            }
            _ => {
                out.push(prefix);
                return at;
            }
        }
        if toks.get(at).map(|t| &t.0) == Some(&Token::PathSep) {
            at += 1;
        } else {
            out.push(prefix);
            return at;
        }
    }
}

/// An edge of a module graph and the references that make it.
type Graph = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// The graph of the top-level modules, and the references to the crate root's own items.
fn top_level(files: &[File]) -> (Graph, Vec<String>) {
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| f.module.first().cloned())
        .collect();
    let mut graph = Graph::new();
    let mut root_items = Vec::new();
    for f in files {
        let Some(from) = f.module.first() else {
            continue;
        };
        graph.entry(from.clone()).or_default();
        for r in references(f, &BTreeSet::new()) {
            match r.path.first() {
                Some(to) if modules.contains(to) && to != from => {
                    graph
                        .entry(from.clone())
                        .or_default()
                        .entry(to.clone())
                        .or_default()
                        .push(format!("{}:{} names {}", f.path, r.line, r.path.join("::")));
                }
                Some(to) if modules.contains(to) => {}
                Some(item) => root_items.push(format!("{}:{} names crate::{item}", f.path, r.line)),
                None => {}
            }
        }
    }
    (graph, root_items)
}

/// The graph of the files of one folder module (`cli`): a file's node is its module path.
fn files_of(files: &[File], folder: &str) -> Graph {
    let inside: Vec<&File> = files
        .iter()
        .filter(|f| f.module.first().is_some_and(|m| m == folder))
        .collect();
    let children: BTreeSet<String> = inside
        .iter()
        .filter_map(|f| f.module.get(1).cloned())
        .collect();
    let node = |m: &[String]| match m.get(1) {
        Some(child) if children.contains(child) => format!("{folder}::{child}"),
        _ => folder.to_string(),
    };
    let mut graph = Graph::new();
    for f in &inside {
        let from = node(&f.module);
        graph.entry(from.clone()).or_default();
        let kids = if f.module.len() == 1 {
            children.clone()
        } else {
            BTreeSet::new()
        };
        for r in references(f, &kids) {
            if r.path.first().is_none_or(|m| m != folder) {
                continue;
            }
            let to = node(&r.path);
            if to != from {
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .push(format!("{}:{} names {}", f.path, r.line, r.path.join("::")));
            }
        }
    }
    graph
}

/// The cycles of `graph`, each as its nodes in order with the references of each edge.
fn cycles(graph: &Graph) -> Vec<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
        found: &mut Vec<String>,
    ) {
        marks.insert(node.to_string(), Mark::Open);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flat_map(|e| e.keys()) {
            match marks.get(next).copied().unwrap_or(Mark::New) {
                Mark::New => visit(next, graph, marks, stack, found),
                Mark::Open => {
                    let start = stack.iter().position(|n| n == next).unwrap_or(0);
                    let ring: Vec<&String> =
                        stack[start..].iter().chain(std::iter::once(next)).collect();
                    let mut text = ring
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" -> ");
                    for pair in ring.windows(2) {
                        if let Some(why) = graph.get(pair[0]).and_then(|e| e.get(pair[1].as_str()))
                        {
                            text.push_str(&format!("\n    {} -> {}: {}", pair[0], pair[1], why[0]));
                            if why.len() > 1 {
                                text.push_str(&format!(" (and {} more)", why.len() - 1));
                            }
                        }
                    }
                    found.push(text);
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(node.to_string(), Mark::Done);
    }
    let mut marks = BTreeMap::new();
    let mut found = Vec::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New {
            visit(node, graph, &mut marks, &mut Vec::new(), &mut found);
        }
    }
    found
}

fn src() -> Vec<File> {
    parse(&source_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
    ))
}

#[test]
fn the_top_level_modules_import_each_other_without_a_cycle() {
    let (graph, _) = top_level(&src());
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "import cycles between the modules of src/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_files_of_the_command_line_import_each_other_without_a_cycle() {
    let graph = files_of(&src(), "cli");
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "import cycles between the files of src/cli/:\n{}",
        found.join("\n")
    );
    // And the dispatch is the only way in: no command file imports cli/mod.rs.
    let back: Vec<String> = graph
        .iter()
        .filter(|(from, _)| from.as_str() != "cli")
        .filter_map(|(from, to)| {
            to.get("cli")
                .map(|why| format!("{from}: {}", why.join(", ")))
        })
        .collect();
    assert!(
        back.is_empty(),
        "command files that import cli/mod.rs:\n{}",
        back.join("\n")
    );
}

#[test]
fn no_module_reaches_up_to_the_crate_root() {
    let (_, root_items) = top_level(&src());
    assert!(
        root_items.is_empty(),
        "modules that take an item from the crate root rather than from the module that defines it:\n{}",
        root_items.join("\n")
    );
}

#[test]
fn only_the_command_line_knows_clap() {
    let outside: Vec<String> = src()
        .iter()
        .filter(|f| f.module.first().is_none_or(|m| m != "cli"))
        .filter(|f| {
            tokens(&f.code)
                .iter()
                .any(|(t, _)| *t == Token::Ident("clap".into()))
        })
        .map(|f| f.path.clone())
        .collect();
    assert!(
        outside.is_empty(),
        "files outside src/cli/ that name clap: {outside:?}"
    );
}

/// The checks above would pass on a checker that finds nothing: this one must find what is
/// planted.
#[test]
fn the_checker_finds_a_cycle_a_root_item_and_what_hides_in_comments_and_strings() {
    let files: Vec<(String, String)> = [
        (
            "lib.rs",
            "pub mod a;\npub mod b;\npub use a::X;\n#[cfg(test)]\nmod helper;\n",
        ),
        ("helper.rs", "use crate::c::Z;\nuse crate::Y;\n"),
        ("a/mod.rs", "mod inner;\nuse crate::b::{self, Y};\n"),
        ("a/inner.rs", "fn f() { super::super::c::g(); }\n"),
        (
            "b.rs",
            "// use crate::c::Z;\nconst S: &str = \"crate::c::Z\";\nuse crate::X;\n",
        ),
        (
            "c.rs",
            "use crate::{b, d::{e, f}};\n#[cfg(test)]\nmod tests { use crate::a::X; }\n",
        ),
        ("d.rs", "fn f() -> char { '{' }\nuse crate::a::Q;\n"),
        (
            "cli/mod.rs",
            "mod one;\nmod two;\nfn go() { one::run(); }\n",
        ),
        ("cli/one.rs", "use super::two::Thing;\n"),
        ("cli/two.rs", "use super::one;\n"),
    ]
    .iter()
    .map(|(p, t)| (p.to_string(), t.to_string()))
    .collect();
    let parsed = parse(&files);
    let (graph, root_items) = top_level(&parsed);
    let edges: Vec<String> = graph
        .iter()
        .flat_map(|(from, to)| to.keys().map(move |t| format!("{from}->{t}")))
        .collect();
    assert_eq!(edges, ["a->b", "a->c", "c->b", "c->d", "d->a"]);
    assert_eq!(root_items, ["b.rs:3 names crate::X"]);
    let found = cycles(&graph);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("a -> c -> d -> a"), "{}", found[0]);
    assert!(
        found[0].contains("d -> a: d.rs:2 names a::Q"),
        "{}",
        found[0]
    );
    let cli = files_of(&parsed, "cli");
    let found = cycles(&cli);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("cli::one -> cli::two -> cli::one"),
        "{}",
        found[0]
    );
}

#[test]
fn the_promotion_gates_know_neither_git_nor_the_clock() {
    let mut found = Vec::new();
    for f in src().iter().filter(|f| {
        f.module
            .starts_with(&["promote".to_string(), "gates".to_string()])
    }) {
        let toks = tokens(&f.code);
        for (i, (t, line)) in toks.iter().enumerate() {
            let Token::Ident(name) = t else { continue };
            let clock = matches!(
                name.as_str(),
                "Timestamp" | "SystemTime" | "Instant" | "Zoned"
            ) && toks.get(i + 1).map(|t| &t.0) == Some(&Token::PathSep)
                && toks.get(i + 2).map(|t| &t.0) == Some(&Token::Ident("now".into()));
            if name == "git2" || clock {
                found.push(format!("{}:{line} names {name}", f.path));
            }
        }
    }
    assert!(
        found.is_empty(),
        "promote/gates/ must take git and time as values:\n{}",
        found.join("\n")
    );
}

/// The README's map of `src/`, in its order: the top-level modules.
fn readme_map() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme.find("### The map").expect("the README has the map");
    let block = &readme[start..];
    let open = block.find("```\n").expect("the map's block") + 4;
    let close = block[open..].find("```").expect("the map's block ends") + open;
    block[open..close]
        .lines()
        .filter_map(|l| l.strip_prefix("src/"))
        .filter_map(|l| l.split_whitespace().next())
        .map(|m| m.trim_end_matches('/').trim_end_matches(".rs").to_string())
        .filter(|m| m != "lib" && m != "main")
        .collect()
}

#[test]
fn the_readme_map_lists_every_module_after_what_it_uses() {
    let map = readme_map();
    let (graph, _) = top_level(&src());
    let missing: Vec<&String> = graph.keys().filter(|m| !map.contains(m)).collect();
    assert!(
        missing.is_empty(),
        "modules the README's map leaves out: {missing:?}"
    );
    let place = |m: &str| map.iter().position(|x| x == m);
    let mut wrong = Vec::new();
    for (from, to) in &graph {
        for (target, why) in to {
            if place(target) > place(from) {
                wrong.push(format!("{from} uses {target}, listed after it: {}", why[0]));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the README's map is out of order:\n{}",
        wrong.join("\n")
    );
}
