//! The identity of a rendered object, as reports show it.

use serde_json::{Map, Value};

/// (group, kind, namespace, name) of an object. Missing fields are empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Resource<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

impl<'a> Resource<'a> {
    pub fn of(object: &'a Value) -> Resource<'a> {
        let api = str_at(object, &["apiVersion"]);
        let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
        Resource {
            group,
            version,
            kind: str_at(object, &["kind"]),
            namespace: str_at(object, &["metadata", "namespace"]),
            name: str_at(object, &["metadata", "name"]),
        }
    }

    /// `apps/Deployment ingress/controller`, `Secret ingress/tls`, `ClusterRole grafana`.
    pub fn display(&self) -> String {
        crate::emit::display_object(self.group, self.kind, self.namespace, self.name)
    }

    /// A core (`v1`) object of this kind.
    pub fn is_core(&self, kind: &str) -> bool {
        self.group.is_empty() && self.version == "v1" && self.kind == kind
    }
}

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
    fn display_names_group_kind_namespace_and_name() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                       "metadata": {"name": "web", "namespace": "shop"}});
        assert_eq!(Resource::of(&d).display(), "apps/Deployment shop/web");
        let s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls", "namespace": "a"}});
        assert_eq!(Resource::of(&s).display(), "Secret a/tls");
        assert!(Resource::of(&s).is_core("Secret"));
        let r = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                       "metadata": {"name": "grafana"}});
        assert_eq!(
            Resource::of(&r).display(),
            "rbac.authorization.k8s.io/ClusterRole grafana"
        );
    }

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
