//! Canonical YAML: the bytes strata writes for an object.
//!
//! Keys are sorted, except that an object starts with `apiVersion`, `kind` and `metadata`, as
//! people expect to read it. Because the order is canonical, reordering keys in a template or
//! moving an object to another template changes no byte of the output.

use serde_json::{Map, Value};

const HEAD: [&str; 3] = ["apiVersion", "kind", "metadata"];

pub fn canonical(value: &Value) -> Value {
    sorted(value, true)
}

fn sorted(value: &Value, top: bool) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| {
                let rank = |k: &str| {
                    if top {
                        HEAD.iter().position(|h| *h == k).unwrap_or(HEAD.len())
                    } else {
                        0
                    }
                };
                (rank(a), *a).cmp(&(rank(b), *b))
            });
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&map[k], false));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| sorted(v, false)).collect()),
        other => other.clone(),
    }
}

/// The YAML text of an object, canonical and ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut text = yaml_serde::to_string(&canonical(value)).unwrap_or_default();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn head_keys_first_then_sorted() {
        let v = json!({"spec": {"b": 1, "a": 2}, "metadata": {"name": "x"}, "kind": "K", "apiVersion": "v1", "data": {}});
        assert_eq!(
            to_yaml(&v),
            "apiVersion: v1\nkind: K\nmetadata:\n  name: x\ndata: {}\nspec:\n  a: 2\n  b: 1\n"
        );
    }

    #[test]
    fn ambiguous_strings_stay_strings() {
        let v = json!({"a": "true", "b": "1.0", "c": "null", "d": "yes", "e": "0123", "f": "a: b"});
        let text = to_yaml(&v);
        let back = crate::yaml::parse_one(&text).unwrap().to_json();
        assert_eq!(back, v, "{text}");
    }

    #[test]
    fn multi_line_strings_round_trip() {
        let v = json!({"data": {"conf": "line one\nline two\n"}});
        let text = to_yaml(&v);
        assert!(text.contains("|"), "{text}");
        assert_eq!(crate::yaml::parse_one(&text).unwrap().to_json(), v);
    }
}
