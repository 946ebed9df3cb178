//! The field paths that differ between two versions of a resource, in the notation of
//! [`crate::compare::field_path`]: an item of a list whose items all have a distinct `name` is
//! `[name=app]`.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::compare::field_path::{Segment, render};

/// The paths where `before` and `after` differ, in document order: map keys sorted, named
/// list items in `before` order followed by those only in `after`. A field added or removed is
/// reported at its own path, not below it.
pub(crate) fn changed_paths(before: &Value, after: &Value) -> Vec<String> {
    let mut walk = Walk {
        path: Vec::new(),
        found: Vec::new(),
    };
    walk.value(Some(before), Some(after));
    walk.found
}

struct Walk<'a> {
    path: Vec<Segment<'a>>,
    found: Vec<String>,
}

impl<'a> Walk<'a> {
    fn value(&mut self, before: Option<&'a Value>, after: Option<&'a Value>) {
        match (before, after) {
            (Some(Value::Object(a)), Some(Value::Object(b))) => {
                let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
                for key in keys {
                    self.path.push(Segment::Key(key));
                    self.value(a.get(key.as_str()), b.get(key.as_str()));
                    self.path.pop();
                }
            }
            (Some(Value::Array(a)), Some(Value::Array(b))) => self.list(a, b),
            (a, b) if a == b => {}
            _ => self.found.push(render(self.path.iter().copied())),
        }
    }

    fn list(&mut self, before: &'a [Value], after: &'a [Value]) {
        if (!before.is_empty() || !after.is_empty()) && named(before) && named(after) {
            let names = before.iter().chain(after).filter_map(name_of);
            let mut seen = BTreeSet::new();
            for name in names {
                if !seen.insert(name) {
                    continue;
                }
                let find = |items: &'a [Value]| items.iter().find(|i| name_of(i) == Some(name));
                self.path.push(Segment::Item {
                    key: "name",
                    value: name,
                });
                self.value(find(before), find(after));
                self.path.pop();
            }
        } else {
            for index in 0..before.len().max(after.len()) {
                self.path.push(Segment::Index(index));
                self.value(before.get(index), after.get(index));
                self.path.pop();
            }
        }
    }
}

/// Every item is a map with a string `name`, and no two items share it.
fn named(items: &[Value]) -> bool {
    let mut seen = BTreeSet::new();
    items
        .iter()
        .all(|item| name_of(item).is_some_and(|name| seen.insert(name)))
}

fn name_of(item: &Value) -> Option<&str> {
    item.get("name").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::changed_paths;

    fn pod(containers: Value) -> Value {
        json!({"spec": {"template": {"spec": {"containers": containers}}}})
    }

    #[test]
    fn paths() {
        let cases: Vec<(&str, Value, Value, Vec<&str>)> = vec![
            ("equal", json!({"a": 1}), json!({"a": 1}), vec![]),
            (
                "scalar",
                json!({"spec": {"replicas": 2}}),
                json!({"spec": {"replicas": 3}}),
                vec!["spec.replicas"],
            ),
            (
                "added key",
                json!({"a": {}}),
                json!({"a": {"b": [1]}}),
                vec!["a.b"],
            ),
            (
                "removed key",
                json!({"a": 1, "b": 2}),
                json!({"b": 2}),
                vec!["a"],
            ),
            (
                "type change",
                json!({"a": [1]}),
                json!({"a": "1"}),
                vec!["a"],
            ),
            (
                "dotted key",
                json!({"metadata": {"labels": {"app.kubernetes.io/version": "1"}}}),
                json!({"metadata": {"labels": {"app.kubernetes.io/version": "2"}}}),
                vec!["metadata.labels[\"app.kubernetes.io/version\"]"],
            ),
            (
                "positional",
                json!({"args": ["a", "b"]}),
                json!({"args": ["a", "c", "d"]}),
                vec!["args[1]", "args[2]"],
            ),
            (
                "named",
                pod(json!([{"name": "app", "image": "a:1"}, {"name": "old"}])),
                pod(json!([{"name": "new"}, {"name": "app", "image": "a:2"}])),
                vec![
                    "spec.template.spec.containers[name=app].image",
                    "spec.template.spec.containers[name=old]",
                    "spec.template.spec.containers[name=new]",
                ],
            ),
            (
                "duplicate names fall back to positions",
                json!({"l": [{"name": "x", "v": 1}, {"name": "x", "v": 2}]}),
                json!({"l": [{"name": "x", "v": 1}, {"name": "x", "v": 3}]}),
                vec!["l[1].v"],
            ),
            (
                "odd name",
                json!({"l": [{"name": "a b", "v": 1}]}),
                json!({"l": [{"name": "a b", "v": 2}]}),
                vec!["l[name=\"a b\"].v"],
            ),
        ];
        for (case, before, after, expected) in cases {
            assert_eq!(changed_paths(&before, &after), expected, "{case}");
        }
    }
}
