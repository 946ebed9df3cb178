//! How diff and drift name a field of an object: dotted keys (`spec.replicas`), `[3]` for a
//! list position, `[name=app]` for an item of a list matched by a key, and `["…"]` for a key
//! that would not read unambiguously in dotted form
//! (`metadata.labels["app.kubernetes.io/name"]`).

use std::fmt::Write as _;

use serde_json::Value;

/// One step of a field path.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Segment<'a> {
    /// A map key.
    Key(&'a str),
    /// A list position.
    Index(usize),
    /// The item of a list whose `key` is `value`: `[name=app]`, `[mountPath=/etc/a]`.
    Item { key: &'a str, value: &'a str },
}

/// The path of `segments`, from the object's root.
pub(crate) fn render<'a>(segments: impl IntoIterator<Item = Segment<'a>>) -> String {
    let mut text = String::new();
    for segment in segments {
        match segment {
            Segment::Key(key) if is_plain(key) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(key);
            }
            Segment::Key(key) => {
                let _ = write!(text, "[{}]", Value::String(key.to_owned()));
            }
            Segment::Index(index) => {
                let _ = write!(text, "[{index}]");
            }
            Segment::Item { key, value } if is_plain_item(value) => {
                let _ = write!(text, "[{key}={value}]");
            }
            Segment::Item { key, value } => {
                let _ = write!(text, "[{key}={}]", Value::String(value.to_owned()));
            }
        }
    }
    text
}

/// A key that reads unambiguously in dotted form.
fn is_plain(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '/' | ':' | '$' | '@'))
}

/// An item name that reads unambiguously between `[name=` and `]`: paths and dots are fine.
fn is_plain_item(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| matches!(c, '[' | ']' | '"' | '=') || c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::{Segment, render};

    #[test]
    fn paths_read_as_people_write_them() {
        use Segment::{Index, Item, Key};
        let cases: Vec<(Vec<Segment>, &str)> = vec![
            (vec![Key("spec"), Key("replicas")], "spec.replicas"),
            (
                vec![
                    Key("metadata"),
                    Key("labels"),
                    Key("app.kubernetes.io/name"),
                ],
                "metadata.labels[\"app.kubernetes.io/name\"]",
            ),
            (vec![Key("args"), Index(2)], "args[2]"),
            (
                vec![
                    Key("containers"),
                    Item {
                        key: "name",
                        value: "app",
                    },
                    Key("image"),
                ],
                "containers[name=app].image",
            ),
            (
                vec![
                    Key("mounts"),
                    Item {
                        key: "mountPath",
                        value: "/etc/a.yml",
                    },
                ],
                "mounts[mountPath=/etc/a.yml]",
            ),
            (
                vec![
                    Key("l"),
                    Item {
                        key: "name",
                        value: "a b",
                    },
                ],
                "l[name=\"a b\"]",
            ),
            (vec![Key("")], "[\"\"]"),
        ];
        for (segments, shown) in cases {
            assert_eq!(render(segments), shown);
        }
    }
}
