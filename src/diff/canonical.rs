//! Canonical values and YAML, so that key order never shows as a change.
//!
//! The order is the one `emit` writes: an object starts with `apiVersion`, `kind` and
//! `metadata`, every other key is sorted. Both sides of a diff are re-serialized this way, so
//! the diff is stable whatever order the files had.

use serde_json::{Map, Value};

const HEAD: [&str; 3] = ["apiVersion", "kind", "metadata"];

pub(crate) fn canonical(value: &Value) -> Value {
    sorted(value, true)
}

fn sorted(value: &Value, top: bool) -> Value {
    match value {
        Value::Object(map) => {
            let rank = |key: &str| {
                if top {
                    HEAD.iter().position(|h| *h == key).unwrap_or(HEAD.len())
                } else {
                    0
                }
            };
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| (rank(a), *a).cmp(&(rank(b), *b)));
            let mut out = Map::new();
            for (key, item) in entries {
                out.insert(key.clone(), sorted(item, false));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| sorted(v, false)).collect()),
        other => other.clone(),
    }
}

/// The YAML text of a canonical value, ending in a newline.
pub(crate) fn to_yaml(value: &Value) -> Result<String, yaml_serde::Error> {
    let mut text = yaml_serde::to_string(value)?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{canonical, to_yaml};

    #[test]
    fn head_keys_first_then_sorted() {
        let v = json!({"spec": {"b": 1, "a": 2}, "metadata": {"name": "x"}, "kind": "K",
            "apiVersion": "v1", "data": {}});
        assert_eq!(
            to_yaml(&canonical(&v)).ok().as_deref(),
            Some(
                "apiVersion: v1\nkind: K\nmetadata:\n  name: x\ndata: {}\nspec:\n  a: 2\n  b: 1\n"
            )
        );
    }
}
