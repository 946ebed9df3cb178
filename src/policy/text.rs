//! Every string of a rendered object, with its field path: what the leak rules search.

use serde_json::Value;

use super::resource::{item_segment, join, key_segment};

/// One string value of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Text {
    pub field: String,
    pub value: String,
    /// Inside a Secret's `data` or `stringData`: reports never quote it.
    pub confidential: bool,
}

/// Every string value of `object`, depth first in document order. For a core Secret, each
/// `data` value is also searched base64-decoded, because base64 is not encryption.
pub(crate) fn texts(object: &Value, is_secret: bool) -> Vec<Text> {
    let mut out = Vec::new();
    // An explicit stack: rendered objects come from user templates and may nest deeply.
    let mut stack: Vec<(String, &Value)> = vec![(String::new(), object)];
    while let Some((field, value)) = stack.pop() {
        match value {
            Value::String(s) => {
                let confidential = is_secret
                    && (field.starts_with("data.")
                        || field.starts_with("data[")
                        || field.starts_with("stringData"));
                if is_secret
                    && (field.starts_with("data.") || field.starts_with("data["))
                    && let Some(decoded) = decode_base64(s)
                {
                    out.push(Text {
                        field: format!("{field} (base64-decoded)"),
                        value: decoded,
                        confidential: true,
                    });
                }
                out.push(Text {
                    field,
                    value: s.clone(),
                    confidential,
                });
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate().rev() {
                    stack.push((join(&field, &item_segment(item, index)), item));
                }
            }
            Value::Object(map) => {
                for (key, item) in map.iter().rev() {
                    stack.push((join(&field, &key_segment(key)), item));
                }
            }
            _ => {}
        }
    }
    out
}

/// Secret data as text; `None` unless it is base64 of UTF-8 text.
fn decode_base64(text: &str) -> Option<String> {
    String::from_utf8(crate::decode_base64(text.trim())?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_come_with_their_field_paths() {
        let o = json!({"metadata": {"annotations": {"a.b/c": "x"}},
                       "spec": {"containers": [{"name": "app", "env": [{"value": "y"}]}], "n": 3}});
        let found: Vec<(String, String)> = texts(&o, false)
            .into_iter()
            .map(|t| (t.field, t.value))
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
        assert_eq!(found[0].field, "data.url (base64-decoded)");
        assert_eq!(found[0].value, "https://prod.example.com");
        assert!(found.iter().all(|t| t.confidential));
    }

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(decode_base64("aGVsbG8="), Some("hello".into()));
        assert_eq!(decode_base64("aGVsbG8"), Some("hello".into()));
        assert_eq!(decode_base64("not base64!"), None);
    }
}
