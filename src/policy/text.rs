//! Every string of a rendered object, with its field path: what the leak rules search.

use std::borrow::Cow;

use serde_json::Value;

use super::resource::{item_segment, join, key_segment};

/// One string value of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Text<'a> {
    pub(crate) value: Cow<'a, str>,
    /// Inside a Secret's `data` or `stringData`: reports never quote it.
    pub(crate) confidential: bool,
    /// Where it is, in [`Texts::steps`]; see [`Texts::field`].
    step: usize,
    decoded: bool,
}

/// One step from an object's root to one of its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step<'a> {
    Root,
    Key(&'a str),
    Item(&'a Value, usize),
}

/// The strings of an object. Their field paths (`spec.containers[name=app].image`) are built
/// only for the few strings a rule reports: every object of every cluster is searched.
#[derive(Debug, Default)]
pub(crate) struct Texts<'a> {
    /// Each step with the index of its parent step.
    steps: Vec<(usize, Step<'a>)>,
    pub(crate) list: Vec<Text<'a>>,
}

impl<'a> Texts<'a> {
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Text<'a>> {
        self.list.iter()
    }

    /// The field path of `text`, as reports show it: `metadata.annotations["a.b/c"]`.
    pub(crate) fn field(&self, text: &Text) -> String {
        let mut chain = Vec::new();
        let mut at = text.step;
        while let Some((parent, step)) = self.steps.get(at) {
            chain.push(*step);
            if *parent == at {
                break;
            }
            at = *parent;
        }
        let mut field = String::new();
        for step in chain.iter().rev() {
            let segment = match step {
                Step::Root => continue,
                Step::Key(key) => key_segment(key),
                Step::Item(item, index) => item_segment(item, *index),
            };
            field = join(&field, &segment);
        }
        if text.decoded {
            field.push_str(" (base64-decoded)");
        }
        field
    }
}

/// Every string value of `object`, depth first in document order. For a core Secret, each
/// `data` value is also searched base64-decoded, because base64 is not encryption.
pub(crate) fn texts(object: &Value, is_secret: bool) -> Texts<'_> {
    let mut out = Texts {
        steps: vec![(0, Step::Root)],
        list: Vec::new(),
    };
    // An explicit stack: rendered objects come from user templates and may nest deeply. Each
    // entry: the value, its step, and the top-level key it is under with its depth.
    let mut stack: Vec<(&Value, usize, &str, usize)> = vec![(object, 0, "", 0)];
    while let Some((value, step, top, depth)) = stack.pop() {
        match value {
            Value::String(s) => {
                // `data.x` or `data[...]`: under `data`, not `data` itself; `stringData...`.
                let in_data = top == "data" && depth >= 2;
                let confidential = is_secret && (in_data || top.starts_with("stringData"));
                if is_secret
                    && in_data
                    && let Some(decoded) = decode_base64(s)
                {
                    out.list.push(Text {
                        value: Cow::Owned(decoded),
                        confidential: true,
                        step,
                        decoded: true,
                    });
                }
                out.list.push(Text {
                    value: Cow::Borrowed(s),
                    confidential,
                    step,
                    decoded: false,
                });
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate().rev() {
                    out.steps.push((step, Step::Item(item, index)));
                    let top = if depth == 0 { "" } else { top };
                    stack.push((item, out.steps.len() - 1, top, depth + 1));
                }
            }
            Value::Object(map) => {
                for (key, item) in map.iter().rev() {
                    out.steps.push((step, Step::Key(key)));
                    let top = if depth == 0 { key.as_str() } else { top };
                    stack.push((item, out.steps.len() - 1, top, depth + 1));
                }
            }
            _ => {}
        }
    }
    out
}

/// Secret data as text; `None` unless it is base64 of UTF-8 text.
fn decode_base64(text: &str) -> Option<String> {
    String::from_utf8(crate::secret::decode_base64(text.trim())?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_come_with_their_field_paths() {
        let o = json!({"metadata": {"annotations": {"a.b/c": "x"}},
                       "spec": {"containers": [{"name": "app", "env": [{"value": "y"}]}], "n": 3}});
        let found = texts(&o, false);
        let found: Vec<(String, String)> = found
            .iter()
            .map(|t| (found.field(t), t.value.to_string()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "metadata.annotations[\"a.b/c\"]".to_string(),
                    "x".to_string()
                ),
                ("spec.containers[name=app].name".into(), "app".into()),
                ("spec.containers[name=app].env[0].value".into(), "y".into()),
            ]
        );
    }

    #[test]
    fn secret_data_is_also_searched_decoded_and_is_confidential() {
        let s =
            json!({"data": {"url": "aHR0cHM6Ly9wcm9kLmV4YW1wbGUuY29t"}, "stringData": {"k": "v"}});
        let found = texts(&s, true);
        assert_eq!(found.field(&found.list[0]), "data.url (base64-decoded)");
        assert_eq!(found.list[0].value, "https://prod.example.com");
        assert!(found.iter().all(|t| t.confidential));
        // `data` itself and keys that only start like it are not Secret data.
        let s = json!({"data": "x", "database": {"url": "y"}, "stringDataX": "z"});
        let found = texts(&s, true);
        let confidential: Vec<(String, bool)> = found
            .iter()
            .map(|t| (found.field(t), t.confidential))
            .collect();
        assert_eq!(
            confidential,
            [
                ("data".to_string(), false),
                ("database.url".to_string(), false),
                ("stringDataX".to_string(), true),
            ]
        );
    }

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(decode_base64("aGVsbG8="), Some("hello".into()));
        assert_eq!(decode_base64("aGVsbG8"), Some("hello".into()));
        assert_eq!(decode_base64("not base64!"), None);
    }
}
