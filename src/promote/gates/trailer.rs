//! Git trailers: the `Key: value` lines that end a commit message.

use super::identity::Identity;

/// The trailers of a commit message, in order, as git reads them: the last paragraph, if every
/// line of it is a `Key: value` line or an indented continuation of the one before. The subject
/// paragraph is never trailers. Keys are returned as written.
pub(crate) fn trailers(message: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = message.lines().map(str::trim_end).collect();
    let Some(last) = lines.iter().rposition(|line| !line.is_empty()) else {
        return Vec::new();
    };
    let paragraph = &lines[..=last];
    let Some(blank) = paragraph.iter().rposition(|line| line.is_empty()) else {
        return Vec::new();
    };
    let mut found: Vec<(String, String)> = Vec::new();
    for line in &paragraph[blank + 1..] {
        if line.starts_with([' ', '\t']) {
            match found.last_mut() {
                Some((_, value)) => {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                None => return Vec::new(),
            }
        } else if let Some(trailer) = split_trailer(line) {
            found.push(trailer);
        } else {
            return Vec::new();
        }
    }
    found
}

/// Everyone named by a `Co-authored-by:` line anywhere below the subject.
///
/// This is deliberately looser than [`trailers`]: a co-author belongs to the author set, and a
/// co-author missed because the trailer block was malformed could approve their own change.
/// Lines without a readable `Name <email>` are skipped.
pub(crate) fn co_authors(message: &str) -> Vec<Identity> {
    message
        .lines()
        .skip(1)
        .filter_map(split_trailer)
        .filter(|(key, _)| key.eq_ignore_ascii_case("co-authored-by"))
        .filter_map(|(_, value)| Identity::parse(&value))
        .collect()
}

/// `Key: value`, where a key is letters, digits and `-`.
fn split_trailer(line: &str) -> Option<(String, String)> {
    let (key, value) = line.trim().split_once(':')?;
    let key = key.trim_end();
    let valid = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then(|| (key.to_string(), value.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn trailers_table() {
        type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
        let cases: [Case; 7] = [
            (
                "a trailer block",
                "Render prod\n\nBody text.\n\nDry-sha: abc123\nEnvironment: prod\n",
                &[("Dry-sha", "abc123"), ("Environment", "prod")],
            ),
            ("subject only", "Fix: the thing\n", &[]),
            (
                "trailing blank lines and CRLF",
                "Subject\r\n\r\nKey: v\r\n\r\n\r\n",
                &[("Key", "v")],
            ),
            (
                "a continuation line",
                "Subject\n\nEmergency: CVE-2026-1 in\n  ingress-nginx\n",
                &[("Emergency", "CVE-2026-1 in ingress-nginx")],
            ),
            (
                "prose in the last paragraph: no trailers",
                "Subject\n\nSigned-off-by: A <a@x>\nsee the ticket\n",
                &[],
            ),
            (
                "a key with a space is prose",
                "Subject\n\nNote that: this is prose\n",
                &[],
            ),
            (
                "only the last paragraph",
                "Subject\n\nKey: early\n\nOther: late\n",
                &[("Other", "late")],
            ),
        ];
        for (case, message, want) in cases {
            assert_eq!(trailers(message), pairs(want), "{case}");
        }
    }

    #[test]
    fn co_authors_are_found_even_outside_a_clean_trailer_block() {
        let message = "Bump harbor\n\nCo-authored-by: Alice <Alice@Example.com>\n\
                       co-authored-by: Bob <12345+bob@users.noreply.github.com>\n\
                       Co-authored-by: nobody\n\
                       see PR 12\n";
        let found: Vec<(String, Option<String>)> = co_authors(message)
            .into_iter()
            .map(|i| (i.email, i.login))
            .collect();
        assert_eq!(
            found,
            vec![
                ("alice@example.com".to_string(), None),
                (
                    "bob@users.noreply.github.com".to_string(),
                    Some("bob".to_string())
                ),
            ]
        );
    }
}
