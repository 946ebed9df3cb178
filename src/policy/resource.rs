//! Reading an object's fields, and naming them in field paths.

use serde_json::{Map, Value};

/// The string at `path`, or "".
pub(crate) fn str_at<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    get(value, path).and_then(Value::as_str).unwrap_or("")
}

pub(crate) fn get<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

pub(crate) fn object_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Map<String, Value>> {
    get(value, path).and_then(Value::as_object)
}

/// One step of a field path: `.key`, or `["key"]` when the key is not a plain identifier.
pub(crate) fn key_segment(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        format!(".{key}")
    } else {
        format!("[{}]", Value::String(key.to_string()))
    }
}

/// One step into a list: `[name=app]` when the item has a name, else `[3]`.
pub(crate) fn item_segment(item: &Value, index: usize) -> String {
    match item.get("name").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => format!("[name={name}]"),
        _ => format!("[{index}]"),
    }
}

/// `prefix` followed by `segment`, without a leading dot at the root.
pub(crate) fn join(prefix: &str, segment: &str) -> String {
    if prefix.is_empty() {
        segment.strip_prefix('.').unwrap_or(segment).to_string()
    } else {
        format!("{prefix}{segment}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_paths_quote_keys_that_are_not_identifiers() {
        assert_eq!(join("", ".metadata"), "metadata");
        assert_eq!(
            join("metadata.annotations", &key_segment("strata.dev/exempt")),
            "metadata.annotations[\"strata.dev/exempt\"]"
        );
        assert_eq!(item_segment(&json!({"name": "app"}), 0), "[name=app]");
        assert_eq!(item_segment(&json!({"host": "x"}), 2), "[2]");
    }
}
