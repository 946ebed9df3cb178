//! A fast reader for the plain block YAML that templates render.
//!
//! Rendered manifests are most of what strata parses, and they are simple: block maps and
//! lists, one-line scalars, literal blocks, short flow lists. This reader handles exactly that
//! subset, straight into JSON values, in one pass over the lines. On anything else, every error
//! included, it gives up and returns `None`, and [`super::documents_json`] reads the text with the
//! full parser, which also reports the error. The two agree on every text this one accepts;
//! the tests compare them on handwritten, generated and golden texts.

use serde_json::{Map, Value};

use super::scalar::{self, Style};
use super::{Pos, Scalar, kubernetes_scalar, scalar_to_json};

/// Nesting deeper than this goes to the full parser, which enforces the limit with a message.
const MAX_DEPTH: usize = 64;
/// YAML limits an implicit key to 1024 characters; longer ones go to the full parser.
const MAX_KEY: usize = 1024;

/// The documents of `text` as JSON, or `None` if the text is outside the subset read here.
pub fn documents(text: &str) -> Option<Vec<Value>> {
    if !clean(text) {
        return None;
    }
    let terminated = text.ends_with('\n');
    let body = if terminated {
        &text[..text.len() - 1]
    } else {
        text
    };
    let mut lines: Vec<(usize, &str)> = Vec::new();
    if !text.is_empty() {
        for raw in body.split('\n') {
            let rest = raw.trim_start_matches(' ');
            lines.push((raw.len() - rest.len(), rest));
        }
    }
    let unterminated = (!terminated && !lines.is_empty()).then(|| lines.len() - 1);
    let mut reader = Reader {
        lines,
        at: 0,
        end: 0,
        depth: 0,
        unterminated,
    };
    let mut docs = Vec::new();
    // Each `---` line starts a document; what comes before the first one is a document only if
    // it holds a node.
    let mut start = 0;
    let mut explicit = false;
    loop {
        let mut end = start;
        while end < reader.lines.len() && !separator(reader.lines[end])? {
            end += 1;
        }
        reader.at = start;
        reader.end = end;
        match reader.peek() {
            None if explicit => docs.push(Value::Null),
            None => {}
            Some((indent, _)) => {
                docs.push(reader.block(indent)?);
                if reader.peek().is_some() {
                    return None;
                }
            }
        }
        if end == reader.lines.len() {
            return Some(docs);
        }
        start = end + 1;
        explicit = true;
    }
}

/// `true` if `text` has no character the subset leaves to the full parser: tabs, carriage
/// returns, other control characters, a byte order mark, and the characters YAML 1.1 read as
/// line breaks.
fn clean(text: &str) -> bool {
    let mut ascii = true;
    for &b in text.as_bytes() {
        if (b < 0x20 && b != b'\n') || b == 0x7f {
            return false;
        }
        ascii &= b.is_ascii();
    }
    ascii
        || !text.chars().any(|c| {
            ('\u{80}'..='\u{9f}').contains(&c)
                || matches!(
                    c,
                    '\u{feff}' | '\u{fffe}' | '\u{ffff}' | '\u{2028}' | '\u{2029}'
                )
        })
}

/// `Some(true)` for a `---` line, `None` (give up) for other document markers and directives.
fn separator((indent, rest): (usize, &str)) -> Option<bool> {
    if indent > 0 {
        return Some(false);
    }
    if rest == "---" {
        return Some(true);
    }
    if rest.starts_with("---") || rest.starts_with("...") || rest.starts_with('%') {
        return None;
    }
    Some(false)
}

struct Reader<'a> {
    /// Each line as (indentation, the rest), without its newline.
    lines: Vec<(usize, &'a str)>,
    at: usize,
    /// One past the last line of the current document.
    end: usize,
    depth: usize,
    /// The index of the last line when the text does not end in a newline.
    unterminated: Option<usize>,
}

fn is_blank(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with('#')
}

fn is_dash(rest: &str) -> bool {
    rest == "-" || rest.starts_with("- ")
}

impl<'a> Reader<'a> {
    /// The next line that holds something, skipping blank and comment lines.
    fn peek(&mut self) -> Option<(usize, &'a str)> {
        while self.at < self.end {
            let line = self.lines[self.at];
            if !is_blank(line.1) {
                return Some(line);
            }
            self.at += 1;
        }
        None
    }

    /// About how many keys the map at column `indent` that starts on the current line has:
    /// its lines at that column, up to the first one left of it. Only a capacity, so that the
    /// map is allocated once: a blank line may end the count early, and the map grows past it.
    fn keys_at(&self, indent: usize) -> usize {
        self.lines[self.at..self.end]
            .iter()
            .take_while(|(at, rest)| *at >= indent && !rest.is_empty())
            .filter(|(at, rest)| *at == indent && !is_dash(rest) && !is_blank(rest))
            .count()
    }

    /// The node that starts on the current line, at column `indent`.
    fn block(&mut self, indent: usize) -> Option<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        // A line that is neither an item nor a key gives up in `map`.
        let node = if is_dash(self.lines[self.at].1) {
            self.seq(indent)
        } else {
            self.map(indent)
        };
        self.depth -= 1;
        node
    }

    fn map(&mut self, indent: usize) -> Option<Value> {
        let mut map = Map::with_capacity(self.keys_at(indent));
        while let Some((at, rest)) = self.peek() {
            if at < indent || (at == indent && is_dash(rest)) {
                break;
            }
            if at > indent {
                return None;
            }
            let (k, after) = key(rest)?;
            self.at += 1;
            let v = after.trim_start_matches(' ');
            let value = if is_blank(v) {
                match self.peek() {
                    Some((at, _)) if at > indent => self.block(at)?,
                    // A list may sit at its key's indentation.
                    Some((at, rest)) if at == indent && is_dash(rest) => {
                        self.depth += 1;
                        let seq = self.seq(indent);
                        self.depth -= 1;
                        seq?
                    }
                    _ => Value::Null,
                }
            } else {
                self.inline(indent, v)?
            };
            if map.insert(k, value).is_some() {
                return None;
            }
        }
        Some(Value::Object(map))
    }

    fn seq(&mut self, indent: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some((at, rest)) = self.peek() {
            if at < indent || (at == indent && !is_dash(rest)) {
                break;
            }
            if at > indent {
                return None;
            }
            let after = &rest[1..];
            let v = after.trim_start_matches(' ');
            let column = indent + 1 + (after.len() - v.len());
            let item = if is_blank(v) {
                self.at += 1;
                match self.peek() {
                    Some((at, _)) if at > indent => self.block(at)?,
                    _ => Value::Null,
                }
            } else if is_dash(v) {
                return None;
            } else if key(v).is_some() {
                // `- key: value` opens a map at the key's column.
                self.lines[self.at] = (column, v);
                self.block(column)?
            } else {
                self.at += 1;
                self.inline(indent, v)?
            };
            items.push(item);
        }
        Some(Value::Array(items))
    }

    /// A value written on its key's or dash's line. `indent` is that map's or list's column;
    /// `v` is not blank and starts with no space.
    fn inline(&mut self, indent: usize, v: &'a str) -> Option<Value> {
        let value = match v.as_bytes()[0] {
            b'|' => return self.literal(indent, &v[1..]),
            b'"' => {
                let (s, rest) = double_quoted(v)?;
                trailing(rest)?;
                Value::String(s)
            }
            b'\'' => {
                let (s, rest) = single_quoted(v)?;
                trailing(rest)?;
                Value::String(s)
            }
            b'[' => flow_seq(v)?,
            b'{' => {
                let (inside, rest) = v[1..].split_once('}')?;
                trailing(rest)?;
                if !inside.trim_matches(' ').is_empty() {
                    return None;
                }
                Value::Object(Map::new())
            }
            _ => plain_value(plain(v)?)?,
        };
        // A more indented line after this one would continue the value (or be an error): the
        // caller's map or list gives up on it.
        Some(value)
    }

    /// A literal block scalar (`|`, `|-`) under a node at column `indent`; `header` follows `|`.
    fn literal(&mut self, indent: usize, header: &str) -> Option<Value> {
        let (strip, rest) = match header.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, header),
        };
        // Spaces and a comment may follow; an indentation or keep indicator may not.
        trailing(rest)?;
        let start = self.at;
        let mut i = start;
        let mut leading = 0;
        while i < self.end && self.lines[i].1.is_empty() {
            leading = leading.max(self.lines[i].0);
            i += 1;
        }
        if i == self.end {
            return None;
        }
        let content = self.lines[i].0;
        if content <= indent || leading > content {
            return None;
        }
        let mut text = "\n".repeat(i - start);
        let mut empty = 0;
        let mut last = i;
        while i < self.end {
            let (at, rest) = self.lines[i];
            if rest.is_empty() {
                if at > content {
                    return None;
                }
                empty += 1;
                i += 1;
                continue;
            }
            if at < content {
                // The end, perhaps at a comment; a more indented line after it is the
                // caller's to refuse.
                break;
            }
            for _ in 0..empty {
                text.push('\n');
            }
            empty = 0;
            for _ in content..at {
                text.push(' ');
            }
            text.push_str(rest);
            text.push('\n');
            last = i;
            i += 1;
        }
        if self.unterminated == Some(last) {
            return None;
        }
        if strip {
            text.pop();
        }
        self.at = i;
        Some(Value::String(text))
    }
}

/// The key of a `key: value` line and the text after its colon.
fn key(rest: &str) -> Option<(String, &str)> {
    let (k, after) = match rest.as_bytes()[0] {
        b'"' => {
            let (k, after) = double_quoted(rest)?;
            (k, colon(after.trim_start_matches(' '))?)
        }
        b'\'' => {
            let (k, after) = single_quoted(rest)?;
            (k, colon(after.trim_start_matches(' '))?)
        }
        b'-' | b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!'
        | b'|' | b'>' | b'%' | b'@' | b'`' => return None,
        _ => {
            let bytes = rest.as_bytes();
            let mut found = None;
            for (i, &b) in bytes.iter().enumerate() {
                if b == b'#' && bytes[i - 1] == b' ' {
                    return None;
                }
                if b == b':' && bytes.get(i + 1).is_none_or(|&n| n == b' ') {
                    found = Some(i);
                    break;
                }
            }
            let i = found?;
            let k = rest[..i].trim_end_matches(' ');
            // Merge keys and null keys are the full parser's.
            if k == "<<" {
                return None;
            }
            (scalar::key(k, Style::Plain)?, &rest[i + 1..])
        }
    };
    (k.len() <= MAX_KEY).then_some((k, after))
}

/// The text after a quoted key's colon, if the colon is there and ends the key.
fn colon(after: &str) -> Option<&str> {
    let rest = after.strip_prefix(':')?;
    (rest.is_empty() || rest.starts_with(' ')).then_some(rest)
}

/// Gives up unless `rest`, what follows a value on its line, is spaces and maybe a comment.
fn trailing(rest: &str) -> Option<()> {
    let t = rest.trim_start_matches(' ');
    (t.is_empty() || (t.starts_with('#') && t.len() < rest.len())).then_some(())
}

/// A one-line plain scalar without its comment and trailing spaces, if it is one.
fn plain(v: &str) -> Option<&str> {
    let bytes = v.as_bytes();
    match bytes[0] {
        b'-' | b'?' | b':' if bytes.len() == 1 || bytes[1] == b' ' => return None,
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' => return None,
        _ => {}
    }
    let mut end = bytes.len();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && bytes[i - 1] == b' ' {
            end = i;
            break;
        }
        if b == b':' && bytes.get(i + 1).is_none_or(|&n| n == b' ') {
            return None;
        }
    }
    Some(v[..end].trim_end_matches(' '))
}

/// A plain scalar as Kubernetes reads it; `None` for one JSON cannot hold, which the full
/// parser reports.
fn plain_value(s: &str) -> Option<Value> {
    match kubernetes_scalar(s, Pos::default()).ok()? {
        Scalar::Str(s) => Some(Value::String(s)),
        other => Some(scalar_to_json(&other)),
    }
}

/// A flow list of one-line scalars, `[a, "b", 'c']`, alone on its line.
fn flow_seq(v: &str) -> Option<Value> {
    let mut items = Vec::new();
    let mut rest = v[1..].trim_start_matches(' ');
    if let Some(after) = rest.strip_prefix(']') {
        trailing(after)?;
        return Some(Value::Array(items));
    }
    loop {
        let (item, after) = match rest.as_bytes().first()? {
            b'"' => {
                let (s, after) = double_quoted(rest)?;
                (Value::String(s), after)
            }
            b'\'' => {
                let (s, after) = single_quoted(rest)?;
                (Value::String(s), after)
            }
            _ => {
                let end = rest.find([',', ']'])?;
                let text = rest[..end].trim_end_matches(' ');
                // Flow plain scalars end at more indicators than block ones; leave the rare
                // ones to the full parser.
                if text.is_empty()
                    || text.contains([':', '#', '[', '{', '}', '"', '\''])
                    || plain(text) != Some(text)
                {
                    return None;
                }
                (plain_value(text)?, &rest[end..])
            }
        };
        items.push(item);
        let after = after.trim_start_matches(' ');
        if let Some(after) = after.strip_prefix(']') {
            trailing(after)?;
            return Some(Value::Array(items));
        }
        rest = after.strip_prefix(',')?.trim_start_matches(' ');
        if rest.starts_with(']') {
            // A trailing comma: leave it to the full parser.
            return None;
        }
    }
}

/// A double-quoted scalar that closes on its line, and the text after it.
fn double_quoted(v: &str) -> Option<(String, &str)> {
    let bytes = v.as_bytes();
    let mut out = String::new();
    let mut run = 1;
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                out.push_str(&v[run..i]);
                return Some((out, &v[i + 1..]));
            }
            b'\\' => {
                out.push_str(&v[run..i]);
                let (c, len) = match *bytes.get(i + 1)? {
                    b'"' => ('"', 2),
                    b'\\' => ('\\', 2),
                    b'/' => ('/', 2),
                    b'n' => ('\n', 2),
                    b't' => ('\t', 2),
                    b'r' => ('\r', 2),
                    b'b' => ('\u{8}', 2),
                    b'f' => ('\u{c}', 2),
                    b'0' => ('\0', 2),
                    b'u' => {
                        let hex = v.get(i + 2..i + 6)?;
                        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                            return None;
                        }
                        (char::from_u32(u32::from_str_radix(hex, 16).ok()?)?, 6)
                    }
                    _ => return None,
                };
                out.push(c);
                i += len;
                run = i;
            }
            _ => i += 1,
        }
    }
    None
}

/// A single-quoted scalar that closes on its line, and the text after it.
fn single_quoted(v: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut rest = &v[1..];
    loop {
        let i = rest.find('\'')?;
        out.push_str(&rest[..i]);
        if rest[i + 1..].starts_with('\'') {
            out.push('\'');
            rest = &rest[i + 2..];
        } else {
            return Some((out, &rest[i + 1..]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full parser's reading of `text`, as the text of its JSON documents.
    fn full(text: &str) -> Result<String, String> {
        super::super::parse_kubernetes(text)
            .map(|docs| {
                let docs: Vec<Value> = docs
                    .into_iter()
                    .map(super::super::Node::into_json)
                    .collect();
                serde_json::to_string(&docs).unwrap()
            })
            .map_err(|e| e.message)
    }

    /// Checks that the fast reader agrees with the full parser on `text` (key order included),
    /// and says whether it read the text.
    fn agrees(text: &str) -> bool {
        let Some(docs) = documents(text) else {
            return false;
        };
        let fast = serde_json::to_string(&docs).unwrap();
        match full(text) {
            Ok(full) => assert_eq!(fast, full, "the two readers differ on:\n{text}"),
            Err(e) => {
                panic!("the fast reader accepted a text the full parser rejects ({e}):\n{text}")
            }
        }
        true
    }

    #[test]
    fn reads_what_templates_render() {
        let texts = [
            "",
            "\n",
            "# only a comment\n",
            "a: 1\n",
            "a: 1",
            "---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "a: 1\n---\n",
            "---\n---\na: 1\n",
            "# c\n---\n# c\n---\na: 1\n",
            "a:\n  b:\n    c: d\n  e: [x, \"y\", 'z']\n",
            "l:\n- a\n- b\nm: 1\n",
            "l:\n  - a\n  -  b\n  -\n  - c: 1\n    d: 2\n  -\n    e: 3\n",
            "- name: app\n  image: \"repo/app:1.2\"\n  args: [\"--a\", --b]\n- name: b\n",
            "a: |\n  line 1\n\n    indented\n  # not a comment\nb: 2\n",
            "a: |-\n  x\n  y\n\n\nb: |\n\n  after an empty line\n",
            "m:\n  a: |\n    x\n\n  # a comment after the block\n  b: 1\n",
            "a: | # comment\n  x\n",
            "k: \"quote \\\" backslash \\\\ newline \\n tab \\t unicode \\u00e9 slash \\/\"\n",
            "k: \"\\b \\f \\r \\0 \\u0001 \\u2603\"\n",
            "k: 'it''s'\n'q k': 1\n\"d k\": 2\n",
            "n: [1, 2.5, -3, 0x1F, 0o17, 0400, 1e3, yes, off, true, False, null, ~, 12345678901234567890]\n",
            "s: [yes, no, on, off, 1.2.3, 0755, +1, 1_000]\n",
            "e: {}\nf: []\ng: { }\nh: [ ]\n",
            "1: int key\ntrue: bool key\n1.5: float key\n",
            "url: http://example.com:8080/path?q=1#frag\nc: value # comment\n",
            "empty:\nnull-ish: ~\nnext: 1\n",
            "a: b\n  # an indented comment\nc: d\n",
            "é: ünïcödé ✓\n",
            "  a: 1\n  b: 2\n",
            "k: -1\nl: --flag\nm: a-b\nn: x,y\no: a]b\n",
            "a: \"x\"   # comment\nb: 'y'  \n",
        ];
        for text in texts {
            assert!(agrees(text), "the fast reader gave up on:\n{text}");
        }
    }

    #[test]
    fn leaves_the_rest_and_every_error_to_the_full_parser() {
        let texts = [
            // Errors.
            "a: 1\na: 2\n",
            "a: b: c\n",
            "a: 1\n b: 2\n",
            "a:\n  - x\n  y: 1\n",
            "a: \"unclosed\n",
            "a: [1, 2\n",
            "a: [1,,2]\n",
            "a: \"x\"#c\n",
            "a: [x]#c\n",
            "- a\nb: 1\n",
            "a: x\n  continued\n",
            // Valid, but outside the subset.
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: !append [1]\n",
            "a: >\n  folded\n",
            "a: |+\n  keep\n\n",
            "a: |2\n   explicit\n",
            "a:\tb\n",
            "a: 1\r\n",
            "--- a: 1\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: 1\n...\n",
            "? complex\n: key\n",
            "- - nested\n",
            "a: [x, [y]]\n",
            "a: {b: 1}\n",
            "a: [*x]\n",
            "a: [&x y]\n",
            "a: [!t y]\n",
            "a: [-]\n",
            "a: [x, @y]\n",
            "a: \"multi\n  line\"\n",
            "a: |\n  no final newline",
            "a: |\n    \n  x\n",
            "a: |\n  x\n # c\n  y\n",
            "a: |\n  x\n    \n  y\n",
            "plain scalar document\n",
        ];
        for text in texts {
            assert!(!agrees(text), "the fast reader read:\n{text}");
        }
    }

    /// A small deterministic generator of YAML-like texts, valid and broken, from fragments
    /// chosen to sit on the subset's edges.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }

        fn node(&mut self, out: &mut String, indent: usize, depth: usize) {
            const KEYS: &[&str] = &[
                "a",
                "b",
                "name",
                "1",
                "true",
                "~",
                "\"q\"",
                "'s'",
                "a b",
                "x:y",
                "a#b",
                "1.50",
                "\"e\\u00e9\"",
                "'it''s'",
                "é",
                "c",
                "d",
                "e",
                "f",
                "g",
                "h",
                "i",
                "j",
                "k",
            ];
            const BAD_KEYS: &[&str] = &["-k", "k #c", "?", "\"k", "[k]", "&k", "!k"];
            let entries = 1 + self.below(3);
            let seq = self.below(3) == 0;
            for _ in 0..entries {
                if self.below(8) == 0 {
                    out.push_str(self.pick(&["\n", "# c\n", "   \n", "  # c\n"]));
                }
                let wobble = match self.below(60) {
                    0 => indent + 1,
                    1 => indent.saturating_sub(1),
                    _ => indent,
                };
                out.push_str(&" ".repeat(wobble));
                if seq {
                    out.push_str(self.pick(&["- ", "- ", "- ", "-  ", "-"]));
                } else {
                    let key = if self.below(30) == 0 {
                        self.pick(BAD_KEYS)
                    } else {
                        self.pick(KEYS)
                    };
                    out.push_str(key);
                    out.push_str(self.pick(&[": ", ": ", ": ", ": ", ":", " : ", ":  "]));
                }
                self.value(out, indent, depth, seq);
            }
        }

        fn value(&mut self, out: &mut String, indent: usize, depth: usize, in_seq: bool) {
            const SCALARS: &[&str] = &[
                "1",
                "0x1F",
                "1e3",
                "1.5",
                ".inf",
                "yes",
                "null",
                "",
                "~",
                "text",
                "a #c",
                "#c",
                "-1",
                "\"d\\\"q\"",
                "'it''s'",
                "\"\\u00e9\"",
                "[a, b]",
                "[]",
                "{}",
                "[1, \"x\", 'y']",
                "a:b",
                "a, b",
                "ünï",
                "'x' # c",
                "v   ",
                "v # c",
                "[a, b] # c",
                "a\\b",
                "-x",
                "a]",
                "0o17",
                "+1",
                "1_0",
                "\"\"",
                "''",
            ];
            const EDGES: &[&str] = &[
                "a: b",
                "- x",
                "-",
                "\"open",
                "[a, [b]]",
                "[a,]",
                "{a: 1}",
                "&x v",
                "*x",
                "!!str 5",
                "x:",
                "\"x\" y",
                "]",
                "@x",
                "`x`",
                "%x",
                "\"\\x41\"",
                "\"\\q\"",
                "? x",
                ": x",
                "|x",
                ">x",
            ];
            match self.below(10) {
                0..=5 => {
                    let scalar = if self.below(16) == 0 {
                        self.pick(EDGES)
                    } else {
                        self.pick(SCALARS)
                    };
                    out.push_str(scalar);
                    out.push('\n');
                }
                6 => {
                    out.push_str(self.pick(&["|", "|", "|-", "|-", "| # c", "|+", "|2", ">"]));
                    out.push('\n');
                    let base = indent + 1 + self.below(3);
                    for line in 0..1 + self.below(4) {
                        match self.below(6) {
                            0 => out.push('\n'),
                            1 => {
                                out.push_str(&" ".repeat(base + 2));
                                out.push('\n');
                            }
                            _ => {}
                        }
                        let deeper = if line > 0 { self.below(2) * 2 } else { 0 };
                        out.push_str(&" ".repeat(base + deeper));
                        out.push_str(self.pick(&["text", "# not a comment", "a: b", "- x", "x  "]));
                        out.push('\n');
                    }
                }
                _ if depth < 4 => {
                    out.push('\n');
                    let inner = if in_seq || self.below(3) > 0 {
                        indent + 2
                    } else {
                        indent
                    };
                    self.node(out, inner, depth + 1);
                }
                _ => out.push_str("leaf\n"),
            }
        }

        fn text(&mut self) -> String {
            let mut out = String::new();
            for i in 0..1 + self.below(3) {
                if i > 0 || self.below(4) == 0 {
                    out.push_str("---\n");
                }
                if self.below(10) > 0 {
                    self.node(&mut out, 0, 0);
                }
            }
            if self.below(5) == 0 {
                out.pop();
            }
            out
        }
    }

    #[test]
    fn agrees_with_the_full_parser_on_generated_texts() {
        let mut texts = Gen(0x9e37_79b9_7f4a_7c15);
        let (mut read, mut rejected, total) = (0, 0, 20_000);
        for _ in 0..total {
            let text = texts.text();
            if agrees(&text) {
                read += 1;
            } else if full(&text).is_err() {
                rejected += 1;
            }
        }
        // Both paths must be exercised for the comparison to mean anything.
        assert!(
            read > total / 20,
            "the fast reader read only {read} of {total}"
        );
        assert!(
            rejected > total / 20,
            "only {rejected} of {total} texts were errors"
        );
    }

    #[test]
    fn reads_the_golden_output() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
        let (mut read, mut total) = (0, 0);
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let entry = entry.unwrap();
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "yaml")
                && !path.starts_with(root.join(".strata-cache"))
            {
                total += 1;
                let text = std::fs::read_to_string(path).unwrap();
                if agrees(&text) {
                    read += 1;
                } else {
                    eprintln!("left to the full parser: {}", path.display());
                }
            }
        }
        assert!(total > 100, "golden/ holds only {total} YAML files");
        assert!(
            read * 100 >= total * 98,
            "the fast reader read {read} of {total} golden files"
        );
    }
}
