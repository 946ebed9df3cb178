//! What a YAML scalar means to Kubernetes, and how to write a value so it keeps that meaning.
//!
//! kubectl, Argo CD and the API server read YAML with `sigs.k8s.io/yaml`: go-yaml v2's YAML 1.1
//! style resolution of plain scalars, then a conversion to JSON. Its rules, as observed with
//! `kubectl label --local -o json` (src/kube/testdata/scalars.yaml and the recorded
//! src/kube/testdata/scalars.kubectl.json):
//! - booleans: `y Y yes Yes YES true True TRUE on On ON` and `n N no No NO false False FALSE
//!   off Off OFF`; other cases (`yES`, `tRUE`) are strings.
//! - null: empty, `~`, `null`, `Null`, `NULL`.
//! - integers: Go's `strconv.ParseInt(text, 0, 64)` after removing `_`: `0400` and `0o400` are
//!   octal (256), `0x1F` hex, `0b101` binary, `+12` and `1_000` work. Beyond int64 the digits
//!   are parsed as uint64, and clients then hold them as float64.
//! - floats: `1e3`, `.5`, `1.`, `08` (not octal, so a float: 8); the JSON writer prints whole
//!   floats as integers (`1.0` → `1`). `1e400` is out of range and stays a string.
//! - `.inf`, `-.Inf`, `.NaN` are floats that JSON cannot hold: kubectl refuses the file.
//! - timestamps (`2001-12-14`) and sexagesimal numbers (`190:20:30`) stay strings.
//! - quoted scalars are always strings.
//! - map keys become strings: `on:` is the key `"true"`, `0x10:` is `"16"`; a null key is an
//!   error. `<<` merges maps (explicit keys win, earlier maps of a list win).

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Without quotes: its type is resolved from its text.
    Plain,
    /// Single- or double-quoted, literal or folded: always a string.
    Quoted,
}

/// What Kubernetes makes of a scalar.
#[derive(Clone, Debug, PartialEq)]
pub enum Meaning {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer beyond int64 but within uint64, exactly as written (in decimal). The JSON
    /// carries these digits; Kubernetes clients and the API server hold it as a float64.
    BigInt(u64),
    Float(f64),
    Str(String),
    /// A float JSON cannot hold (`.inf`, `-.inf`, `.nan`): Kubernetes refuses the document.
    NotJson(&'static str),
}

const TRUE: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
];
const FALSE: &[&str] = &[
    "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
];
const NULL: &[&str] = &["", "~", "null", "Null", "NULL"];

/// What a scalar written as `text` in `style` means to Kubernetes.
pub fn resolve(text: &str, style: Style) -> Meaning {
    match style {
        Style::Quoted => Meaning::Str(text.to_string()),
        Style::Plain => not_a_string(text).unwrap_or_else(|| Meaning::Str(text.to_string())),
    }
}

/// What a plain scalar written as `text` means to Kubernetes, unless it is the string it
/// reads: `None` then. Most scalars are, so this allocates nothing on the way.
fn not_a_string(text: &str) -> Option<Meaning> {
    match text.as_bytes().first() {
        None => return Some(Meaning::Null),
        // Every word and number below starts with one of these.
        Some(
            b'y'
            | b'Y'
            | b'n'
            | b'N'
            | b't'
            | b'T'
            | b'f'
            | b'F'
            | b'o'
            | b'O'
            | b'~'
            | b'.'
            | b'+'
            | b'-'
            | b'0'..=b'9',
        ) => {}
        Some(_) => return None,
    }
    if TRUE.contains(&text) {
        return Some(Meaning::Bool(true));
    }
    if FALSE.contains(&text) {
        return Some(Meaning::Bool(false));
    }
    if NULL.contains(&text) {
        return Some(Meaning::Null);
    }
    match text {
        ".nan" | ".NaN" | ".NAN" => return Some(Meaning::NotJson("NaN")),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Some(Meaning::NotJson("+Inf"));
        }
        "-.inf" | "-.Inf" | "-.INF" => return Some(Meaning::NotJson("-Inf")),
        _ => {}
    }
    match text.as_bytes()[0] {
        b'.' => go_parse_float(text).map(Meaning::Float),
        b'0'..=b'9' | b'+' | b'-' => {
            let plain: std::borrow::Cow<str> = if text.contains('_') {
                text.chars()
                    .filter(|&c| c != '_')
                    .collect::<String>()
                    .into()
            } else {
                text.into()
            };
            if let Some(i) = go_parse_int(&plain) {
                return match i64::try_from(i) {
                    Ok(i) => Some(Meaning::Int(i)),
                    Err(_) => match u64::try_from(i) {
                        Ok(u) if !plain.starts_with('-') => Some(Meaning::BigInt(u)),
                        _ => None,
                    },
                };
            }
            if yaml_style_float(&plain)
                && let Some(f) = go_parse_float(&plain)
            {
                return Some(Meaning::Float(f));
            }
            None
        }
        _ => None,
    }
}

/// Go's `strconv.ParseInt`/`ParseUint` with base 0: a sign, then `0x`, `0o`, `0b` or a
/// leading `0` (octal) or decimal digits. `None` when it does not parse or is beyond uint64.
fn go_parse_int(text: &str) -> Option<i128> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    // The prefix in either case; digits of any case are what `from_str_radix` takes.
    let b = rest.as_bytes();
    let prefix = |p: u8| b.len() >= 2 && b[0] == b'0' && b[1].eq_ignore_ascii_case(&p);
    let (radix, digits) = if prefix(b'x') {
        (16, &rest[2..])
    } else if prefix(b'o') {
        (8, &rest[2..])
    } else if prefix(b'b') {
        (2, &rest[2..])
    } else if rest.len() > 1 && rest.starts_with('0') {
        (8, &rest[1..])
    } else {
        (10, rest)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    let value = i128::from(magnitude);
    let value = if negative { -value } else { value };
    // ParseInt refuses below i64::MIN; ParseUint refuses any sign but none.
    (value >= i128::from(i64::MIN)).then_some(value)
}

/// go-yaml v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(text, 64)` for decimal text: `None` for what it refuses, out of
/// range (`1e400`) included.
fn go_parse_float(text: &str) -> Option<f64> {
    if !text
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let f: f64 = text.parse().ok()?;
    f.is_finite().then_some(f)
}

/// The JSON value Kubernetes builds from a meaning; `None` for [`Meaning::NotJson`].
pub fn to_json(meaning: &Meaning) -> Option<serde_json::Value> {
    use serde_json::Value;
    Some(match meaning {
        Meaning::Null => Value::Null,
        Meaning::Bool(b) => Value::Bool(*b),
        Meaning::Int(i) => Value::from(*i),
        Meaning::BigInt(u) => Value::from(*u),
        Meaning::Float(f) => Value::from(*f),
        Meaning::Str(s) => Value::String(s.clone()),
        Meaning::NotJson(_) => return None,
    })
}

/// The string a scalar map key becomes; `None` for a null key, which Kubernetes refuses.
pub fn key(text: &str, style: Style) -> Option<String> {
    match resolve(text, style) {
        Meaning::Null => None,
        Meaning::Bool(b) => Some(b.to_string()),
        Meaning::Int(i) => Some(i.to_string()),
        Meaning::BigInt(u) => Some(u.to_string()),
        Meaning::Float(f) => Some(go_format_float(f)),
        Meaning::Str(s) => Some(s),
        Meaning::NotJson(s) => Some(s.to_string()),
    }
}

/// A float as Go's `strconv.FormatFloat(f, 'g', -1, 64)` writes a map key: `1.5`, `1e+21`.
pub(crate) fn go_format_float(f: f64) -> String {
    let exp = if f == 0.0 {
        0
    } else {
        f.abs().log10().floor() as i32
    };
    if (-4..21).contains(&exp) {
        format!("{f}")
    } else {
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((m, e)) if e.starts_with('-') => format!("{m}e-{:02}", &e[1..]),
            Some((m, e)) => format!("{m}e+{e:0>2}"),
            None => s,
        }
    }
}

/// Whether a string must be written quoted so that it stays a string: Kubernetes' rules
/// above, or YAML 1.2 core's (strata's own reader, and any other tool), would read the plain
/// text as something else.
pub fn needs_quotes(s: &str) -> bool {
    if not_a_string(s).is_some() {
        return true;
    }
    // YAML 1.2 core numbers and specials that go-yaml v2 leaves as strings, in any case.
    let core_number = s.len() > 2 && s.as_bytes()[..2].eq_ignore_ascii_case(b"0o")
        || [".inf", "-.inf", "+.inf", ".nan"]
            .iter()
            .any(|w| s.eq_ignore_ascii_case(w));
    // Sexagesimal numbers of YAML 1.1 and timestamps: strings here, but other readers differ.
    let looks_like_time = s.contains(':')
        && s.bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b':' | b'.' | b'-' | b'+'))
        || s.len() >= 10
            && s.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && s.as_bytes()[4] == b'-';
    core_number || looks_like_time || s == "<<" || s == "="
}

/// Whether a string holds characters that only a double-quoted scalar can carry: C0 controls
/// other than tab and newline, DEL, the C1 controls (U+0080–U+009F, NEL among them) and the
/// line and paragraph separators, which YAML readers would refuse or turn into spaces.
pub fn needs_escapes(s: &str) -> bool {
    s.chars().any(|c| {
        (c.is_control() && c != '\t' && c != '\n')
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_as_go_yaml_v2() {
        let cases: &[(&str, Meaning)] = &[
            ("yes", Meaning::Bool(true)),
            ("Y", Meaning::Bool(true)),
            ("off", Meaning::Bool(false)),
            ("yES", Meaning::Str("yES".into())),
            ("0400", Meaning::Int(256)),
            ("0o400", Meaning::Int(256)),
            ("017", Meaning::Int(15)),
            ("08", Meaning::Float(8.0)),
            ("0x1F", Meaning::Int(31)),
            ("0X1f", Meaning::Int(31)),
            ("0O17", Meaning::Int(15)),
            ("-0B11", Meaning::Int(-3)),
            ("-0x10", Meaning::Int(-16)),
            ("0b101", Meaning::Int(5)),
            ("1_000", Meaning::Int(1000)),
            ("9007199254740993", Meaning::Int(9_007_199_254_740_993)),
            (
                "12345678901234567890",
                Meaning::BigInt(12_345_678_901_234_567_890),
            ),
            ("1e3", Meaning::Float(1000.0)),
            ("1e400", Meaning::Str("1e400".into())),
            ("0o9", Meaning::Str("0o9".into())),
            (".5", Meaning::Float(0.5)),
            (".inf", Meaning::NotJson("+Inf")),
            ("~", Meaning::Null),
            ("", Meaning::Null),
            ("190:20:30", Meaning::Str("190:20:30".into())),
            ("2001-12-14", Meaning::Str("2001-12-14".into())),
            ("1.2.3", Meaning::Str("1.2.3".into())),
        ];
        for (text, meaning) in cases {
            assert_eq!(&resolve(text, Style::Plain), meaning, "{text:?}");
        }
        assert_eq!(resolve("yes", Style::Quoted), Meaning::Str("yes".into()));
    }

    #[test]
    fn keys_become_strings_as_kubectl_makes_them() {
        assert_eq!(key("on", Style::Plain).as_deref(), Some("true"));
        assert_eq!(key("yes", Style::Plain).as_deref(), Some("true"));
        assert_eq!(key("0x10", Style::Plain).as_deref(), Some("16"));
        assert_eq!(key("1.5", Style::Plain).as_deref(), Some("1.5"));
        assert_eq!(
            key("2001-12-14", Style::Plain).as_deref(),
            Some("2001-12-14")
        );
        assert_eq!(key("~", Style::Plain), None);
        assert_eq!(key("on", Style::Quoted).as_deref(), Some("on"));
    }

    #[test]
    fn strings_that_look_like_other_types_need_quotes() {
        for s in [
            "yes",
            "on",
            "N",
            "0400",
            "0o400",
            "1e3",
            "1_000",
            "~",
            "",
            "12",
            "1.10",
            ".inf",
            "190:20:30",
            "2001-12-14",
            "<<",
        ] {
            assert!(needs_quotes(s), "{s:?}");
        }
        for s in [
            "yES",
            "hello",
            "1.2.3",
            "v1",
            "app.kubernetes.io/name",
            "500m",
        ] {
            assert!(!needs_quotes(s), "{s:?}");
        }
        assert!(needs_escapes("a\u{7f}b"));
        assert!(needs_escapes("a\u{85}b"));
        assert!(needs_escapes("a\u{80}b"));
        assert!(!needs_escapes("a\tb\nc"));
    }

    /// `needs_quotes` as it was first written, allocating its way through: its shortcuts (no
    /// string built, the case of `0o` and `.inf` ignored byte by byte) must not change an
    /// answer.
    fn needs_quotes_by_definition(s: &str) -> bool {
        let lower = s.to_ascii_lowercase();
        resolve(s, Style::Plain) != Meaning::Str(s.to_string())
            || lower.starts_with("0o") && s.len() > 2
            || matches!(lower.as_str(), ".inf" | "-.inf" | "+.inf" | ".nan")
            || s.contains(':')
                && s.bytes()
                    .all(|c| c.is_ascii_digit() || matches!(c, b':' | b'.' | b'-' | b'+'))
            || s.len() >= 10
                && s.as_bytes()[..4].iter().all(u8::is_ascii_digit)
                && s.as_bytes()[4] == b'-'
            || s == "<<"
            || s == "="
    }

    #[test]
    fn needs_quotes_answers_as_its_definition_does() {
        let parts = [
            "", "0", "1", "9", "0x", "0X", "0o", "0O", "0b", "0B", "1F", "ff", "_", "-", "+", ".",
            "e", "E", "inf", "Inf", "NaN", "nan", "y", "Y", "yes", "YES", "n", "No", "on", "OFF",
            "true", "False", "null", "NULL", "~", ":", "a", "z", "é", "Mi", "m", "2026-", "12-24",
            "<<", "=", " ", "#",
        ];
        let mut checked = 0;
        for a in parts {
            for b in parts {
                for c in ["", "0", "_1", ".5", "e3", "x"] {
                    let s = format!("{a}{b}{c}");
                    assert_eq!(needs_quotes(&s), needs_quotes_by_definition(&s), "{s:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000);
    }
}
