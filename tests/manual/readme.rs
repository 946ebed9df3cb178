//! README.md's fenced blocks: the checked examples, their commands and expected outputs, the
//! comparison with what strata printed, and the rewrite of a block from real output.

/// A line that stands for one or more lines of output the README leaves out.
pub const ELLIPSIS: &str = "…";

/// A fenced block of README.md.
struct Fence {
    /// How many backticks open it.
    ticks: usize,
    /// 0-based index of the opening fence line.
    open: usize,
    /// 0-based index of the closing fence line.
    close: usize,
    /// The indentation of the fence, stripped from its lines.
    indent: usize,
    /// What follows the backticks: `console`, `yaml`, ….
    info: String,
    /// The nearest non-blank line above the fence, if it is an HTML comment: its text.
    marker: Option<String>,
}

fn fences(text: &str) -> Vec<Fence> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            let indent = line.len() - trimmed.len();
            let ticks = trimmed.len() - trimmed.trim_start_matches('`').len();
            let info = &trimmed[ticks..];
            // A fence closes at a line of as many backticks or more, so a ```` block can quote
            // a ``` one.
            let close = (i + 1..lines.len())
                .find(|&j| {
                    let t = lines[j].trim();
                    t.len() >= ticks && t.chars().all(|c| c == '`')
                })
                .unwrap_or(lines.len());
            let marker = lines[..i]
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim())
                .and_then(|l| l.strip_prefix("<!--"))
                .and_then(|l| l.strip_suffix("-->"))
                .map(|l| l.trim().to_string());
            out.push(Fence {
                ticks,
                open: i,
                close,
                indent,
                info: info.trim().to_string(),
                marker,
            });
            i = close + 1;
        } else {
            i += 1;
        }
    }
    out
}

fn body<'a>(lines: &[&'a str], f: &Fence) -> Vec<&'a str> {
    lines[f.open + 1..f.close.min(lines.len())]
        .iter()
        .map(|l| l.get(f.indent..).unwrap_or_else(|| l.trim_start()))
        .collect()
}

/// One command of an example, with the output the README shows for it.
pub struct Command {
    /// 1-based line of README.md where the command starts.
    pub line: usize,
    /// The command's lines as written, `$ ` and continuations included.
    pub raw: Vec<String>,
    /// The command line split into words as a shell would (quotes, `\` line continuations,
    /// `# comments`).
    pub words: Vec<String>,
    /// The output lines the README shows, trailing blank lines excluded.
    pub expected: Vec<String>,
    /// How many blank lines follow the output, to keep when the block is rewritten.
    pub trailing_blank: usize,
}

/// A checked example: a ```console block under `<!-- example: SCENARIO -->`.
pub struct Block {
    pub scenario: String,
    /// 1-based line of the opening fence.
    pub fence_line: usize,
    open: usize,
    close: usize,
    indent: usize,
    pub commands: Vec<Command>,
}

/// A YAML block under `<!-- file: KIND -->`, which claims to be a valid file of that kind.
pub struct FileExample {
    /// `strata.yaml`, `component.yaml`, `layer.yaml` or `cluster.yaml`.
    pub kind: String,
    pub fence_line: usize,
    pub text: String,
}

/// Every checked example of the README, in order.
pub fn examples(text: &str) -> Result<Vec<Block>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for f in fences(text) {
        let Some(scenario) = f.marker.as_deref().and_then(|m| m.strip_prefix("example:")) else {
            continue;
        };
        if f.info != "console" {
            return Err(format!(
                "README.md:{}: an `example:` marker above a ```{} block; examples are ```console blocks",
                f.open + 1,
                f.info
            ));
        }
        let commands =
            parse_commands(&body(&lines, &f), f.open + 2).map_err(|e| format!("README.md:{e}"))?;
        if commands.is_empty() {
            return Err(format!(
                "README.md:{}: an example with no `$ ` command",
                f.open + 1
            ));
        }
        out.push(Block {
            scenario: scenario.trim().to_string(),
            fence_line: f.open + 1,
            open: f.open,
            close: f.close,
            indent: f.indent,
            commands,
        });
    }
    Ok(out)
}

/// Blocks that show a `$ strata` command line but are not checked examples.
pub fn unchecked_command_blocks(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    fences(text)
        .iter()
        .filter(|f| {
            let examples = f
                .marker
                .as_deref()
                .is_some_and(|m| m.starts_with("example:"));
            let shows_a_command = body(&lines, f)
                .iter()
                .any(|l| l.starts_with("$ strata") || l.starts_with("$ git"));
            // A ```` block quotes Markdown, such as the example of an example.
            f.ticks == 3 && (shows_a_command || f.info == "console") && !examples
        })
        .map(|f| format!("README.md:{}: ```{}", f.open + 1, f.info))
        .collect()
}

/// Every YAML block marked as a file of strata's.
pub fn file_examples(text: &str) -> Vec<FileExample> {
    let lines: Vec<&str> = text.lines().collect();
    fences(text)
        .iter()
        .filter_map(|f| {
            let kind = f.marker.as_deref()?.strip_prefix("file:")?.trim();
            Some(FileExample {
                kind: kind.to_string(),
                fence_line: f.open + 1,
                text: body(&lines, f).join("\n") + "\n",
            })
        })
        .collect()
}

fn parse_commands(body: &[&str], first_line: usize) -> Result<Vec<Command>, String> {
    let mut out: Vec<Command> = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let line = body[i];
        if let Some(rest) = line.strip_prefix("$ ") {
            let start = i;
            let mut joined = rest.to_string();
            while joined.ends_with('\\') && i + 1 < body.len() {
                joined.pop();
                i += 1;
                joined.push(' ');
                joined.push_str(body[i].trim_start());
            }
            let words = shell_words(&joined).map_err(|e| format!("{}: {e}", first_line + start))?;
            out.push(Command {
                line: first_line + start,
                raw: body[start..=i].iter().map(|l| l.to_string()).collect(),
                words,
                expected: Vec::new(),
                trailing_blank: 0,
            });
        } else if let Some(command) = out.last_mut() {
            command.expected.push(line.to_string());
        } else {
            return Err(format!(
                "{}: output before the first `$ ` command of an example",
                first_line + i
            ));
        }
        i += 1;
    }
    for command in &mut out {
        while command.expected.last().is_some_and(|l| l.trim().is_empty()) {
            command.expected.pop();
            command.trailing_blank += 1;
        }
    }
    Ok(out)
}

/// Splits a command line into words: single and double quotes, backslash escapes outside single
/// quotes, and a `#` that starts a word begins a comment.
fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(word.take()),
            '#' if word.is_none() => break,
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(format!("unclosed ' in `{line}`")),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => w.extend(chars.next()),
                        Some(c) => w.push(c),
                        None => return Err(format!("unclosed \" in `{line}`")),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            '|' | '>' | '<' | ';' | '&' | '$' | '`' if word.is_none() => {
                return Err(format!(
                    "`{c}` in `{line}`: examples run one program, without a shell"
                ));
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// Whether `actual` is what `expected` shows, `…` lines standing for one or more lines.
fn matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first.trim() == ELLIPSIS => {
            (1..=actual.len()).any(|n| matches(rest, &actual[n..]))
        }
        Some((first, rest)) => actual
            .split_first()
            .is_some_and(|(a, more)| a == first && matches(rest, more)),
    }
}

/// Compares a block's expected outputs with the actual ones (one per command), and reports each
/// difference with its README line and a unified diff.
pub fn compare(block: &Block, actual: &[Vec<String>]) -> Result<(), String> {
    let mut report = String::new();
    for (command, actual) in block.commands.iter().zip(actual) {
        if matches(&command.expected, actual) {
            continue;
        }
        let expected = command.expected.join("\n") + "\n";
        let got = actual.join("\n") + "\n";
        let diff = similar::TextDiff::from_lines(&expected, &got)
            .unified_diff()
            .context_radius(3)
            .header("README.md", "strata")
            .to_string();
        report.push_str(&format!(
            "README.md:{}: (scenario `{}`) `{}` prints otherwise:\n{diff}\n",
            command.line,
            block.scenario,
            command.raw.join(" ")
        ));
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report)
    }
}

/// The block's body with each command's output replaced by the actual one. Where the README
/// left lines out with `…`, the rewrite keeps as many lines before and after the first and last
/// `…` as it showed, so a shortened example stays short.
pub fn updated_body(block: &Block, actual: &[Vec<String>]) -> Vec<String> {
    let mut out = Vec::new();
    for (command, actual) in block.commands.iter().zip(actual) {
        out.extend(command.raw.iter().cloned());
        if matches(&command.expected, actual) {
            out.extend(command.expected.iter().cloned());
        } else {
            out.extend(shortened(&command.expected, actual));
        }
        out.extend(std::iter::repeat_n(String::new(), command.trailing_blank));
    }
    out
}

fn shortened(expected: &[String], actual: &[String]) -> Vec<String> {
    let Some(first) = expected.iter().position(|l| l.trim() == ELLIPSIS) else {
        return actual.to_vec();
    };
    let last = expected
        .iter()
        .rposition(|l| l.trim() == ELLIPSIS)
        .unwrap_or(first);
    let before = first;
    let after = expected.len() - last - 1;
    if before + after >= actual.len() {
        return actual.to_vec();
    }
    let mut out = actual[..before].to_vec();
    out.push(expected[first].clone());
    out.extend(actual[actual.len() - after..].iter().cloned());
    out
}

/// README.md with the bodies of the given blocks replaced.
pub fn apply_edits(text: &str, edits: &[(&Block, Vec<String>)]) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut next = 0;
    let mut sorted: Vec<&(&Block, Vec<String>)> = edits.iter().collect();
    sorted.sort_by_key(|(b, _)| b.open);
    for (block, body) in sorted {
        out.extend(lines[next..=block.open].iter().map(|l| l.to_string()));
        let indent = " ".repeat(block.indent);
        out.extend(body.iter().map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{indent}{l}")
            }
        }));
        next = block.close;
    }
    out.extend(lines[next..].iter().map(|l| l.to_string()));
    let mut text = out.join("\n");
    text.push('\n');
    text
}
