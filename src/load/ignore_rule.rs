//! `IgnoreRule`: fields that are allowed to differ, in the shape of Argo CD's `ignoreDifferences`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::object::ObjectId;

/// Fields to leave out of the comparison, for the objects the rule matches.
///
/// Same shape and meaning as an entry of Argo CD's `spec.ignoreDifferences`
/// (`jqPathExpressions` and `managedFieldsManagers` are not supported):
/// ```yaml
/// - group: apps            # "" is the core group; "*" matches any group
///   kind: Deployment       # "*" matches any kind
///   name: web              # optional
///   namespace: shop        # optional
///   jsonPointers: [/spec/replicas]
/// ```
/// Each pointer (RFC 6901: `/metadata/labels/app.kubernetes.io~1name`, `/spec/ports/0`) is
/// removed from the desired object, the live object and its last-applied configuration before
/// they are compared. A pointer that does not start with `/` matches nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IgnoreRule {
    #[serde(default)]
    pub group: String,
    pub kind: String,
    #[serde(default)]
    pub json_pointers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl IgnoreRule {
    pub(crate) fn applies_to(&self, object: &ObjectId) -> bool {
        (self.group == "*" || self.group == object.group)
            && (self.kind == "*" || self.kind == object.kind)
            && self.name.as_ref().is_none_or(|name| *name == object.name)
            && self
                .namespace
                .as_ref()
                .is_none_or(|namespace| object.namespace.as_ref() == Some(namespace))
    }
}

/// Removes the value at `pointer` from `value`, if it is there.
pub(crate) fn remove_pointer(value: &mut Value, pointer: &str) {
    let Some(rest) = pointer.strip_prefix('/') else {
        return;
    };
    let tokens: Vec<String> = rest
        .split('/')
        .map(|token| token.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, parents)) = tokens.split_last() else {
        return;
    };
    let mut current = value;
    for token in parents {
        let next = match current {
            Value::Object(map) => map.get_mut(token.as_str()),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        };
        match next {
            Some(next) => current = next,
            None => return,
        }
    }
    match current {
        Value::Object(map) => {
            map.shift_remove(last.as_str());
        }
        Value::Array(items) => {
            if let Some(index) = last.parse::<usize>().ok().filter(|i| *i < items.len()) {
                items.remove(index);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{IgnoreRule, remove_pointer};
    use crate::object::ObjectId;

    #[test]
    fn pointers_remove_what_they_point_at() {
        let object = json!({
            "metadata": {"labels": {"app.kubernetes.io/name": "web", "a~b": "x", "keep": "y"}},
            "spec": {"replicas": 3, "ports": [{"port": 80}, {"port": 443}]}
        });
        let cases = [
            (
                "/spec/replicas",
                json!({"ports": [{"port": 80}, {"port": 443}]}),
            ),
            (
                "/spec/ports/0",
                json!({"replicas": 3, "ports": [{"port": 443}]}),
            ),
            (
                "/spec/ports/1/port",
                json!({"replicas": 3, "ports": [{"port": 80}, {}]}),
            ),
            ("/spec/ports/7", object["spec"].clone()),
            ("/spec/nothing/here", object["spec"].clone()),
            ("spec/replicas", object["spec"].clone()),
            ("", object["spec"].clone()),
        ];
        for (pointer, spec) in cases {
            let mut value = object.clone();
            remove_pointer(&mut value, pointer);
            assert_eq!(value["spec"], spec, "{pointer}");
        }
        let mut value = object.clone();
        remove_pointer(&mut value, "/metadata/labels/app.kubernetes.io~1name");
        remove_pointer(&mut value, "/metadata/labels/a~0b");
        assert_eq!(value["metadata"], json!({"labels": {"keep": "y"}}));
    }

    #[test]
    fn rules_match_group_kind_name_namespace() {
        let web = ObjectId {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: "web".into(),
        };
        let rule =
            |group: &str, kind: &str, name: Option<&str>, namespace: Option<&str>| IgnoreRule {
                group: group.into(),
                kind: kind.into(),
                json_pointers: vec![],
                name: name.map(Into::into),
                namespace: namespace.map(Into::into),
            };
        let cases = [
            (rule("apps", "Deployment", None, None), true),
            (rule("*", "*", None, None), true),
            (rule("apps", "Deployment", Some("web"), Some("shop")), true),
            (rule("apps", "Deployment", Some("api"), None), false),
            (rule("apps", "Deployment", None, Some("other")), false),
            (rule("", "Deployment", None, None), false),
            (rule("apps", "StatefulSet", None, None), false),
        ];
        for (rule, applies) in cases {
            assert_eq!(rule.applies_to(&web), applies, "{rule:?}");
        }
    }

    #[test]
    fn rules_read_argo_cd_yaml() {
        let rule: IgnoreRule = yaml_serde::from_str(
            "group: apps\nkind: Deployment\njsonPointers: [/spec/replicas]\nnamespace: shop\n",
        )
        .expect("valid rule");
        assert_eq!(rule.json_pointers, vec!["/spec/replicas".to_owned()]);
        assert_eq!(rule.namespace.as_deref(), Some("shop"));
    }
}
