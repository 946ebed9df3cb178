//! Diagnostics: what a user did wrong, where, and how to fix it.
//!
//! Every user mistake becomes a [`Diagnostic`] with a file and line when one is known, and the
//! pipeline collects several of them before it stops (typst's `SourceResult`). Printing goes
//! through codespan-reporting so a diagnostic shows the offending source line, as `just` does.

mod code;

use std::collections::BTreeMap;
use std::fmt;

pub use code::{Code, Exit};

use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A place in a source file. Lines and columns are 1-based.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Span {
    pub(crate) file: String,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

impl Span {
    pub(crate) fn new(file: impl Into<String>, line: u32, column: u32) -> Span {
        Span {
            file: file.into(),
            line,
            column,
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One finding about the user's input.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub(crate) severity: Severity,
    /// A stable identifier, e.g. `values-schema`. Users grep for it and CI may match on it.
    pub(crate) code: Code,
    pub(crate) message: String,
    /// Where the problem is, when strata can tell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) span: Option<Span>,
    /// Further facts: the cluster involved, the other place of a duplicate, ...
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) notes: Vec<String>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
}

impl Diagnostic {
    pub(crate) fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span: None,
            notes: Vec::new(),
            hint: None,
        }
    }

    pub(crate) fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub(crate) fn at(mut self, span: Span) -> Diagnostic {
        self.span = Some(span);
        self
    }

    pub(crate) fn at_opt(mut self, span: Option<Span>) -> Diagnostic {
        self.span = span;
        self
    }

    pub(crate) fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }
}

/// Several diagnostics, reported together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub(crate) fn new() -> Diagnostics {
        Diagnostics(Vec::new())
    }

    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub(crate) fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// Sorts by file, line and message and drops exact repeats, so that the same mistake seen
    /// from eight clusters is printed once and the order does not depend on thread scheduling.
    /// The exit code these diagnostics mean: 2 when one of them kept strata from running, 1
    /// when there are errors, 0 otherwise.
    pub(crate) fn exit(&self) -> Exit {
        if self.0.iter().any(|d| d.code.exit() == Exit::Failed) {
            Exit::Failed
        } else if self.has_errors() {
            Exit::Found
        } else {
            Exit::Clean
        }
    }

    pub(crate) fn sorted(mut self) -> Diagnostics {
        self.0.sort_by(|a, b| {
            (a.span.as_ref(), a.code, &a.message, &a.notes).cmp(&(
                b.span.as_ref(),
                b.code,
                &b.message,
                &b.notes,
            ))
        });
        // A diagnostic with a place is one mistake however many clusters see it; without a
        // place, its notes (the rendered file, the cluster) are what tell two apart.
        self.0.dedup_by(|a, b| {
            a.span == b.span
                && a.code == b.code
                && a.message == b.message
                && a.severity == b.severity
                && (a.span.is_some() || a.notes == b.notes)
        });
        self
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<I: IntoIterator<Item = Diagnostic>>(iter: I) -> Diagnostics {
        Diagnostics(iter.into_iter().collect())
    }
}

/// The result of a pipeline stage: a value, or every error found on the way.
pub(crate) type DiagResult<T> = Result<T, Diagnostics>;

/// Why a run failed, with the texts needed to quote the offending lines.
#[derive(Debug, Default)]
pub struct Failure {
    pub diagnostics: Diagnostics,
    pub texts: SourceTexts,
}

/// The text of the files a diagnostic may point into, to print the offending line.
#[derive(Clone, Debug, Default)]
pub struct SourceTexts(pub BTreeMap<String, String>);

impl SourceTexts {
    pub(crate) fn insert(&mut self, path: &str, text: &str) {
        self.0.insert(path.to_string(), text.to_string());
    }
}

/// Prints diagnostics the way a compiler does:
///
/// ```text
/// error[values-schema]: "three" is not of type "integer"
///   ┌─ environments/prod/sto2/layer.yaml:7:17
///   │
/// 7 │       replicas: three
///   │                 ^
///   = cluster: prod-sto2-workload
///   = hint: ...
/// ```
pub fn render(diagnostics: &Diagnostics, texts: &SourceTexts) -> String {
    let mut out = String::new();
    let mut files = SimpleFiles::new();
    let mut ids = BTreeMap::new();
    let config = term::Config::default();
    for d in diagnostics.iter() {
        let mut report = match d.severity {
            Severity::Error => Report::error(),
            Severity::Warning => Report::warning(),
        }
        .with_code(d.code.as_str())
        .with_message(capped(&d.message).into_owned());
        let mut notes: Vec<String> = d.notes.iter().map(|n| capped(n).into_owned()).collect();
        if let Some(span) = &d.span {
            match texts.0.get(&span.file) {
                Some(text) => {
                    let start = byte_offset(text, span.line, span.column);
                    let line_start = byte_offset(text, span.line, 1);
                    let line_end = text[line_start..]
                        .find('\n')
                        .map_or(text.len(), |i| line_start + i);
                    let line = &text[line_start..line_end];
                    if line.chars().count() <= MAX_QUOTED_LINE {
                        let id = *ids
                            .entry(span.file.clone())
                            .or_insert_with(|| files.add(span.file.clone(), text.clone()));
                        let end = token_end(text, start);
                        report = report.with_labels(vec![Label::primary(id, start..end)]);
                    } else {
                        // A part of the line around the column, in a text of its own that has
                        // the line at the same number.
                        let (excerpt, at) = excerpt(line, start - line_start);
                        let mut quoted = "\n".repeat(span.line.saturating_sub(1) as usize);
                        let offset = quoted.len();
                        quoted.push_str(&excerpt);
                        let end = token_end(&quoted, offset + at).min(offset + excerpt.len());
                        let id = files.add(span.file.clone(), quoted);
                        report = report.with_labels(vec![Label::primary(id, offset + at..end)]);
                        notes.insert(
                            0,
                            format!(
                                "line {} is {} characters long; {MAX_QUOTED_LINE} of them are shown",
                                span.line,
                                line.chars().count()
                            ),
                        );
                    }
                }
                None => notes.insert(0, format!("at {span}")),
            }
        }
        if let Some(hint) = &d.hint {
            notes.push(format!("hint: {}", capped(hint)));
        }
        report = report.with_notes(notes);
        match term::emit_into_string(&config, &files, &report) {
            Ok(text) => out.push_str(&text),
            Err(_) => out.push_str(&plain(d)),
        }
    }
    out
}

/// One diagnostic on one line, for logs and tests: `error[code]: file:line:col: message`.
pub(crate) fn plain(d: &Diagnostic) -> String {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut s = match &d.span {
        Some(span) => format!("{level}[{}]: {span}: {}\n", d.code, d.message),
        None => format!("{level}[{}]: {}\n", d.code, d.message),
    };
    for n in &d.notes {
        s.push_str(&format!("  = {n}\n"));
    }
    if let Some(h) = &d.hint {
        s.push_str(&format!("  = hint: {h}\n"));
    }
    s
}

/// The most characters of a source line a diagnostic quotes.
pub(crate) const MAX_QUOTED_LINE: usize = 160;
/// The most characters of a message, note or hint: a value quoted in one may be megabytes.
pub(crate) const MAX_MESSAGE: usize = 2000;

/// `text`, cut after [`MAX_MESSAGE`] characters with a word of how much is left out.
fn capped(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_MESSAGE) {
        None => std::borrow::Cow::Borrowed(text),
        Some((cut, _)) => std::borrow::Cow::Owned(format!(
            "{}… ({} more characters not shown)",
            &text[..cut],
            text[cut..].chars().count()
        )),
    }
}

/// [`MAX_QUOTED_LINE`] characters of `line` around the byte `at`, with `…` where it is cut, and
/// where `at` is in them.
fn excerpt(line: &str, at: usize) -> (String, usize) {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let column = chars
        .iter()
        .position(|(i, _)| *i >= at)
        .unwrap_or(chars.len());
    let first = column.saturating_sub(MAX_QUOTED_LINE / 4);
    let last = (first + MAX_QUOTED_LINE).min(chars.len());
    let mut out = String::new();
    if first > 0 {
        out.push('…');
    }
    let mut position = out.len();
    for (n, (_, c)) in chars[first..last].iter().enumerate() {
        if first + n == column {
            position = out.len();
        }
        out.push(*c);
    }
    if column >= last {
        position = out.len();
    }
    if last < chars.len() {
        out.push('…');
    }
    (out, position)
}

fn byte_offset(text: &str, line: u32, column: u32) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line as usize {
            let col_bytes: usize = l
                .chars()
                .take(column.saturating_sub(1) as usize)
                .map(char::len_utf8)
                .sum();
            return offset + col_bytes.min(l.trim_end_matches('\n').len());
        }
        offset += l.len();
    }
    text.len()
}

/// The end of the word at `start`, so the caret underlines a token rather than one character.
fn token_end(text: &str, start: usize) -> usize {
    let rest = &text[start.min(text.len())..];
    let len: usize = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ':' && *c != ',')
        .map(char::len_utf8)
        .sum();
    start + len.max(usize::from(!rest.is_empty() && !rest.starts_with('\n')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_offending_line_with_file_and_line() {
        let mut texts = SourceTexts::default();
        texts.insert("a.yaml", "x: 1\nreplicas: three\n");
        let d = Diagnostic::error(Code::ValuesSchema, "\"three\" is not of type \"integer\"")
            .at(Span::new("a.yaml", 2, 11))
            .hint("set an integer");
        let out = render(&d.into(), &texts);
        assert!(
            out.contains("error[values-schema]: \"three\" is not of type \"integer\""),
            "{out}"
        );
        assert!(out.contains("a.yaml:2:11"), "{out}");
        assert!(out.contains("replicas: three"), "{out}");
        assert!(out.contains("^^^^^"), "{out}");
        assert!(out.contains("= hint: set an integer"), "{out}");
    }

    #[test]
    fn a_span_into_an_unknown_file_is_still_named() {
        let d = Diagnostic::error(Code::Internal, "broken").at(Span::new("gone.yaml", 3, 1));
        let out = render(&d.into(), &SourceTexts::default());
        assert!(out.contains("at gone.yaml:3:1"), "{out}");
    }

    #[test]
    fn a_long_line_is_quoted_in_part() {
        let long = format!("values:\n  x: {}\n", "y".repeat(100_000));
        let mut texts = SourceTexts::default();
        texts.insert("a.yaml", &long);
        let d = Diagnostic::error(Code::Internal, "m".repeat(10_000)).at(Span::new("a.yaml", 2, 3));
        let out = render(&d.into(), &texts);
        assert!(
            out.len() < 3 * (MAX_QUOTED_LINE + MAX_MESSAGE),
            "{} bytes",
            out.len()
        );
        assert!(out.contains("a.yaml:2:3"), "{out}");
        assert!(
            out.contains("line 2 is 100005 characters long; 160 of them are shown"),
            "{out}"
        );
        assert!(out.contains("(8000 more characters not shown)"), "{out}");
    }

    #[test]
    fn sorting_removes_repeats_of_one_mistake() {
        let d = Diagnostic::error(Code::Internal, "same").at(Span::new("a", 1, 1));
        let all = Diagnostics(vec![d.clone(), d.clone()]).sorted();
        assert_eq!(all.len(), 1);
    }
}
