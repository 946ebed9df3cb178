//! The canonical order of an object's keys, in which strata writes it and compares it.
//!
//! Keys are sorted, except that an object starts with `apiVersion`, `kind` and `metadata`, as
//! people expect to read it. Because the order is canonical, reordering keys in a template or
//! moving an object to another template changes no byte of the output, and no line of a diff.

use serde_json::Value;

const HEAD: [&str; 3] = ["apiVersion", "kind", "metadata"];

pub(crate) fn canonical(value: &Value) -> Value {
    let mut v = value.clone();
    canonicalize(&mut v);
    v
}

/// Puts an object into canonical key order in place.
pub(crate) fn canonicalize(value: &mut Value) {
    sort_in_place(value);
    if let Value::Object(map) = value {
        // Keys are sorted; move the head keys to the front, keeping the rest in order.
        let mut at = 0;
        for key in HEAD {
            if let Some(v) = map.shift_remove(key) {
                map.shift_insert(at, key.to_string(), v);
                at += 1;
            }
        }
    }
}

fn sort_in_place(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.sort_keys();
            for (_, v) in map.iter_mut() {
                sort_in_place(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sort_in_place),
        _ => {}
    }
}
