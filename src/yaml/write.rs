//! The YAML strata writes: the bytes of every output file.
//!
//! strata writes YAML itself rather than through a serializer because what it writes is read by
//! kubectl and Argo CD, whose YAML 1.1 parser reads `off`, `yes` or `0755` differently from a
//! YAML 1.2 one. Every string that either version could read as something else is quoted.

use serde_json::{Map, Value};

use super::canonical::canonical;

/// The YAML text of an object, canonical and ending in a newline.
pub(crate) fn to_yaml(value: &Value) -> String {
    write(&canonical(value))
}

/// Like [`to_yaml`], for an object already in canonical order (see [`super::canonicalize`]).
pub(crate) fn to_yaml_canonical(value: &Value) -> String {
    write(value)
}

/// The YAML text of a value in the order it has, ending in a newline.
pub(crate) fn write(value: &Value) -> String {
    let mut out = String::with_capacity(1024);
    match value {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0, false),
        Value::Array(l) if !l.is_empty() => write_list(&mut out, l, 0, false),
        v => {
            scalar(&mut out, v, 0);
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = n;
    while left > 0 {
        let step = left.min(SPACES.len());
        out.push_str(&SPACES[..step]);
        left -= step;
    }
}

fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize, inline_first: bool) {
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        string(out, k, indent);
        out.push(':');
        match v {
            Value::Object(m) if !m.is_empty() => {
                out.push('\n');
                write_map(out, m, indent + 2, false);
            }
            Value::Array(l) if !l.is_empty() => {
                out.push('\n');
                write_list(out, l, indent, false);
            }
            v => {
                out.push(' ');
                scalar(out, v, indent + 2);
                out.push('\n');
            }
        }
    }
}

fn write_list(out: &mut String, list: &[Value], indent: usize, inline_first: bool) {
    for (i, v) in list.iter().enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        out.push('-');
        match v {
            Value::Object(m) if !m.is_empty() => {
                out.push(' ');
                write_map(out, m, indent + 2, true);
            }
            Value::Array(l) if !l.is_empty() => {
                out.push(' ');
                write_list(out, l, indent + 2, true);
            }
            v => {
                out.push(' ');
                scalar(out, v, indent + 2);
                out.push('\n');
            }
        }
    }
}

fn scalar(out: &mut String, v: &Value, indent: usize) {
    use std::fmt::Write as _;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => string(out, s, indent),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

/// A string as plain, block literal or double-quoted scalar, whichever reads back unchanged in
/// both YAML 1.1 and 1.2.
fn string(out: &mut String, s: &str, indent: usize) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if let Some(block) = block_literal(s, indent) {
        out.push_str(&block);
    } else {
        double_quoted(out, s);
    }
}

/// `s` as a double-quoted scalar. JSON's escapes are YAML's, but JSON leaves DEL, the C1
/// controls (NEL among them), the line and paragraph separators and the byte order mark raw,
/// which YAML readers refuse or read as line breaks: those are escaped too.
fn double_quoted(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    let json = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    for c in json.chars() {
        if c == '\u{7f}'
            || ('\u{80}'..='\u{9f}').contains(&c)
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
        {
            let _ = write!(out, "\\u{:04X}", c as u32);
        } else {
            out.push(c);
        }
    }
}

fn is_plain_safe(s: &str) -> bool {
    const INDICATORS: &[char] = &[
        '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`',
    ];
    let Some(first) = s.chars().next() else {
        return false;
    };
    if INDICATORS.contains(&first) || first.is_whitespace() {
        return false;
    }
    // `- x` starts a list; `-x` and `--flag` are plain strings.
    if first == '-' && (s.len() == 1 || s[1..].starts_with(' ')) {
        return false;
    }
    if s.ends_with(char::is_whitespace) || s.ends_with(':') {
        return false;
    }
    // One pass over the bytes: `: ` and ` #` end a plain scalar; a control character (a tab
    // included) cannot be in one.
    let mut ascii = true;
    let mut prev = 0u8;
    for &b in s.as_bytes() {
        if b < 0x20 || b == 0x7f || (prev == b':' && b == b' ') || (prev == b' ' && b == b'#') {
            return false;
        }
        ascii &= b.is_ascii();
        prev = b;
    }
    if !ascii
        && s.chars().any(|c| {
            c.is_control() || c == '\u{feff}' || c == '\u{2028}' || c == '\u{2029}' || c == '\u{85}'
        })
    {
        return false;
    }
    !reads_as_non_string(s) && !looks_numeric(s) && !super::scalar::needs_quotes(s)
}

/// YAML 1.1 and 1.2 words that a parser would not read as a string.
fn reads_as_non_string(s: &str) -> bool {
    matches!(
        s,
        "~" | "="
            | "<<"
            | "null"
            | "Null"
            | "NULL"
            | "y"
            | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// Whether YAML 1.1 or 1.2 could read `s` as a number, a date or a special float: ints in any
/// base, sexagesimal `1:20`, floats including `10.0.0.0` (a YAML 1.1 float!), exponents,
/// `.inf`/`.nan`, and timestamps. Conservative: a false positive only adds quotes.
fn looks_numeric(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if body.eq_ignore_ascii_case(".inf") || body.eq_ignore_ascii_case(".nan") {
        return true;
    }
    let Some(first) = body.chars().next() else {
        return false;
    };
    if !(first.is_ascii_digit() || first == '.') {
        return false;
    }
    if let [b'0', base, ..] = body.as_bytes()
        && matches!(base.to_ascii_lowercase(), b'x' | b'b' | b'o')
    {
        return true;
    }
    if body.len() >= 5
        && body.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && body.as_bytes()[4] == b'-'
    {
        return true;
    }
    let digits = body.bytes().any(|b| b.is_ascii_digit());
    digits
        && body.bytes().all(|b| {
            b.is_ascii_digit() || matches!(b, b'_' | b':' | b'.' | b'e' | b'E' | b'+' | b'-')
        })
}

/// `|`, `|-` or `|+` for a multi-line string, when one can carry it exactly.
fn block_literal(s: &str, indent: usize) -> Option<String> {
    if !s.contains('\n') || s.starts_with([' ', '\n']) || s.contains('\r') {
        return None;
    }
    if s.chars().any(|c| {
        (c.is_control() && c != '\n' && c != '\t')
            || c == '\u{feff}'
            || c == '\u{85}'
            || c == '\u{2028}'
            || c == '\u{2029}'
    }) {
        return None;
    }
    let trailing = s.len() - s.trim_end_matches('\n').len();
    let body = s.trim_end_matches('\n');
    // A line of only spaces before the last content line would be read as indentation.
    if body.lines().any(|l| !l.is_empty() && l.trim().is_empty()) {
        return None;
    }
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let mut out = format!("|{chomp}");
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(line);
        }
    }
    for _ in 1..trailing {
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trips(v: &Value) {
        let text = to_yaml(v);
        let back = crate::yaml::parse_one(&text).map(|n| n.to_json());
        assert_eq!(back.as_ref(), Ok(&canonical(v)), "{text}");
        let via_serde: Value = yaml_serde::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(&via_serde, &canonical(v), "{text}");
    }

    #[test]
    fn head_keys_first_then_sorted() {
        let v = json!({"spec": {"b": 1, "a": 2}, "metadata": {"name": "x"}, "kind": "K", "apiVersion": "v1", "data": {}});
        assert_eq!(
            to_yaml(&v),
            "apiVersion: v1\nkind: K\nmetadata:\n  name: x\ndata: {}\nspec:\n  a: 2\n  b: 1\n"
        );
    }

    #[test]
    fn lists_in_the_kubectl_style() {
        let v = json!({"spec": {"containers": [{"name": "a", "args": ["x", "z"]}, {"name": "b"}], "m": [[1, 2], []]}});
        assert_eq!(
            to_yaml(&v),
            "spec:\n  containers:\n  - args:\n    - x\n    - z\n    name: a\n  - name: b\n  m:\n  - - 1\n    - 2\n  - []\n"
        );
        round_trips(&v);
    }

    #[test]
    fn yaml_1_1_words_and_numbers_stay_strings() {
        let v = json!({"a": "true", "b": "1.0", "c": "null", "d": "yes", "e": "0123", "f": "a: b", "g": "off",
            "h": "On", "i": "y", "j": "", "k": " x", "l": "1:20", "m": "2026-12-24", "n": "~", "o": "-x", "p": ".inf",
            "q": "#c", "r": "x #y", "s": "=", "t": "<<", "u": "10.0.0.0", "v": "é", "w": "a\u{7}b", "x": "-", "z": "- a",
            "aa": "0x1F", "ab": "1e3", "ac": "-1", "ad": "+.5"});
        let text = to_yaml(&v);
        for quoted in [
            "\"true\"",
            "\"off\"",
            "\"On\"",
            "\"y\"",
            "\"0123\"",
            "\"2026-12-24\"",
            "\"<<\"",
            "\"10.0.0.0\"",
            "\"0x1F\"",
            "\"1e3\"",
            "\"-1\"",
            "\"- a\"",
        ] {
            assert!(text.contains(quoted), "{quoted} in {text}");
        }
        round_trips(&v);
    }

    #[test]
    fn ordinary_strings_stay_plain() {
        let v = json!({"a": "--publish-service=x", "b": "512Mi", "c": "100m", "d": "10.0.0.0/8", "e": ".dockerconfigjson",
            "f": "~/x", "g": "1.27-alpine", "h": "nginx:1.27", "i": "https://x.example.com:6443/a#b"});
        assert_eq!(
            to_yaml(&v),
            "a: --publish-service=x\nb: 512Mi\nc: 100m\nd: 10.0.0.0/8\ne: .dockerconfigjson\nf: ~/x\ng: 1.27-alpine\nh: nginx:1.27\ni: https://x.example.com:6443/a#b\n"
        );
        round_trips(&v);
    }

    #[test]
    fn multi_line_strings_as_block_literals() {
        let v = json!({"data": {"conf": "line one\n  indented\n\nlast\n", "nonl": "a\nb", "keep": "a\n\n\n", "lead": " a\nb\n"}});
        let text = to_yaml(&v);
        assert!(
            text.contains("conf: |\n    line one\n      indented\n\n    last\n"),
            "{text}"
        );
        assert!(text.contains("nonl: |-\n"), "{text}");
        assert!(text.contains("keep: |+\n"), "{text}");
        assert!(text.contains("lead: \" a\\nb\\n\""), "{text}");
        round_trips(&v);
    }

    #[test]
    fn numbers_and_nulls() {
        let v = json!({"i": 3, "f": 1.5, "x": null, "b": false, "neg": -2, "n": 1});
        assert_eq!(
            to_yaml(&v),
            "b: false\nf: 1.5\ni: 3\n\"n\": 1\nneg: -2\nx: null\n"
        );
        round_trips(&v);
    }
}
