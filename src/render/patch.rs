//! Patches of rendered objects from layers: `patches.<component>` of a layer file.
//!
//! They apply after the component rendered, whatever its source, in layer order, so the cluster
//! file patches last. A `patch:` merges as kubectl's strategic merge does for the lists it knows
//! by a key ([`merge_key`]); a `jsonPatch:` is RFC 6902, applied by the `json-patch` crate. A
//! patch that matches no object, or that cannot apply, is an error at its file and line: a typo
//! in a target must not pass silently. Each object remembers which patch touched which of its
//! fields, for `strata explain`.

use std::sync::Arc;

use serde_json::Value;

use crate::diag::{Code, Diagnostic, Diagnostics, Span};
use crate::load::{Component, Patch, PatchChange, PatchTarget};

use super::Manifest;

/// A patch that changed an object, and the fields it set there, as JSON pointers.
#[derive(Clone, Debug)]
pub(crate) struct Patched {
    pub(crate) patch: Arc<Patch>,
    pub(crate) fields: Vec<String>,
}

/// Applies `patches` in order to the objects of `component`.
pub(crate) fn apply(
    manifests: &mut [Manifest],
    patches: &[Arc<Patch>],
    component: &Component,
    cluster: &str,
) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::new();
    for patch in patches {
        let span = Span::new(patch.file.as_ref(), patch.line, patch.column);
        let mut matched = 0;
        for m in manifests.iter_mut() {
            if !matches(&patch.target, &m.object, &component.namespace) {
                continue;
            }
            matched += 1;
            let result = match &patch.change {
                PatchChange::Merge(body) => {
                    let mut fields = Vec::new();
                    merge(&mut m.object, body, None, "", &mut fields).map(|()| fields)
                }
                PatchChange::Json(ops, lines) => json(&mut m.object, ops, lines),
            };
            match result {
                Ok(fields) => m.patched.push(Patched {
                    patch: patch.clone(),
                    fields,
                }),
                Err((message, line)) => diags.push(
                    Diagnostic::error(
                        Code::Patch,
                        format!(
                            "the patch of {} could not be applied to {}: {message}",
                            component.name,
                            object_name(&m.object)
                        ),
                    )
                    .at(line.map_or(span.clone(), |l| Span::new(patch.file.as_ref(), l, 1)))
                    .note(format!("cluster: {cluster}"))
                    .hint("a JSON pointer names each key from the object's root, `/` inside a key written `~1`; `add` creates only the last key of its path"),
                ),
            }
        }
        if matched == 0 {
            diags.push(
                Diagnostic::error(
                    Code::PatchTarget,
                    format!(
                        "the patch targets {} of {}, which renders no such object",
                        patch.target.describe(),
                        component.name
                    ),
                )
                .at(span)
                .note(format!("cluster: {cluster}"))
                .note(format!(
                    "{} renders: {}",
                    component.name,
                    rendered_names(manifests)
                ))
                .hint(
                    "fix the target's kind and name (they are case-sensitive), or remove the patch",
                ),
            );
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(())
    }
}

fn object_name(object: &Value) -> String {
    format!(
        "{}/{}",
        object.get("kind").and_then(Value::as_str).unwrap_or("?"),
        object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?")
    )
}

/// The objects of a component, for a patch that matched none of them: at most 12.
fn rendered_names(manifests: &[Manifest]) -> String {
    let mut names: Vec<String> = manifests.iter().map(|m| object_name(&m.object)).collect();
    names.sort();
    let more = names.len().saturating_sub(12);
    names.truncate(12);
    let mut s = names.join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    if s.is_empty() {
        s = "nothing".into();
    }
    s
}

/// Whether `object` is a target of the patch: every field of the target that is given matches.
fn matches(target: &PatchTarget, object: &Value, default_namespace: &str) -> bool {
    let text = |p: &str| object.pointer(p).and_then(Value::as_str);
    let api = text("/apiVersion").unwrap_or("");
    let (group, version) = api.split_once('/').unwrap_or(("", api));
    let namespace = text("/metadata/namespace").unwrap_or(default_namespace);
    text("/kind") == Some(target.kind.as_str())
        && target
            .name
            .as_deref()
            .is_none_or(|n| text("/metadata/name") == Some(n))
        && target.group.as_deref().is_none_or(|g| g == group)
        && target.version.as_deref().is_none_or(|v| v == version)
        && target.namespace.as_deref().is_none_or(|n| n == namespace)
        && target.labels.iter().all(|(k, v)| {
            object
                .pointer("/metadata/labels")
                .and_then(|l| l.get(k))
                .and_then(Value::as_str)
                == Some(v)
        })
}

/// The key by which kubectl's strategic merge matches the items of a list field, for the
/// fields of the Kubernetes API that have one; `None`: the list is replaced.
fn merge_key(field: &str, patch_items: &[Value]) -> Option<&'static str> {
    let has = |key: &str| patch_items.iter().any(|i| i.get(key).is_some());
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets" => Some("name"),
        // A container's ports by containerPort, a Service's by port.
        "ports" if has("containerPort") => Some("containerPort"),
        "ports" if has("port") => Some("port"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "topologySpreadConstraints" => Some("topologyKey"),
        _ => None,
    }
}

/// Escapes a key for a JSON pointer.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Merges `patch` into `target` at pointer `at`, recording each field it sets.
fn merge(
    target: &mut Value,
    patch: &Value,
    field: Option<&str>,
    at: &str,
    fields: &mut Vec<String>,
) -> Result<(), (String, Option<u32>)> {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            if p.get("$patch").and_then(Value::as_str) == Some("replace") {
                let mut body = p.clone();
                body.remove("$patch");
                *t = body;
                fields.push(at.to_string());
                return Ok(());
            }
            for (key, value) in p {
                if key.starts_with('$') {
                    return Err((
                        format!(
                            "the directive `{key}` is not supported here; strata knows `$patch: delete` (in a list item) and `$patch: replace` (in a map)"
                        ),
                        None,
                    ));
                }
                let here = format!("{at}/{}", escape(key));
                if value.is_null() {
                    if t.remove(key).is_some() {
                        fields.push(here);
                    }
                    continue;
                }
                match t.get_mut(key) {
                    Some(existing) => merge(existing, value, Some(key), &here, fields)?,
                    None => {
                        let mut fresh = Value::Null;
                        merge(&mut fresh, value, Some(key), &here, fields)?;
                        t.insert(key.clone(), fresh);
                    }
                }
            }
            Ok(())
        }
        (Value::Array(t), Value::Array(p)) => match field.and_then(|f| merge_key(f, p)) {
            Some(key) => {
                for item in p {
                    let Some(id) = item.get(key) else {
                        return Err((
                            format!(
                                "an item of `{}` has no `{key}`, by which strata merges that list",
                                field.unwrap_or("")
                            ),
                            None,
                        ));
                    };
                    let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                    let found = t.iter().position(|x| x.get(key) == Some(id));
                    match (found, delete) {
                        (Some(i), true) => {
                            t.remove(i);
                            fields.push(format!("{at}/{i}"));
                        }
                        (None, true) => {}
                        (Some(i), false) => {
                            // The key only finds the item: it sets nothing.
                            let mut rest = item.clone();
                            if let Some(m) = rest.as_object_mut() {
                                m.remove(key);
                            }
                            merge(&mut t[i], &rest, None, &format!("{at}/{i}"), fields)?;
                        }
                        (None, false) => {
                            let mut fresh = Value::Null;
                            merge(&mut fresh, item, None, &format!("{at}/{}", t.len()), fields)?;
                            t.push(fresh);
                        }
                    }
                }
                Ok(())
            }
            None => replace(t, p, at, fields),
        },
        (target, patch) => {
            *target = strip_directives(patch);
            fields.push(at.to_string());
            Ok(())
        }
    }
}

fn replace(
    t: &mut Vec<Value>,
    p: &[Value],
    at: &str,
    fields: &mut Vec<String>,
) -> Result<(), (String, Option<u32>)> {
    *t = p.iter().map(strip_directives).collect();
    fields.push(at.to_string());
    Ok(())
}

/// A new value from a patch, without the `$patch` directives that only mean something in a merge.
fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

/// Applies an RFC 6902 patch, one operation at a time so that a failure names its line.
fn json(
    target: &mut Value,
    ops: &json_patch::Patch,
    lines: &[u32],
) -> Result<Vec<String>, (String, Option<u32>)> {
    let mut fields = Vec::new();
    for (i, op) in ops.0.iter().enumerate() {
        let one = json_patch::Patch(vec![op.clone()]);
        json_patch::patch(target, &one).map_err(|e| {
            // The crate counts operations in the one-operation patch: say which of the list.
            let message =
                e.to_string()
                    .replacen("operation '/0'", &format!("operation {}", i + 1), 1);
            (message, lines.get(i).copied())
        })?;
        let path = match op {
            json_patch::PatchOperation::Add(o) => o.path.to_string(),
            json_patch::PatchOperation::Remove(o) => o.path.to_string(),
            json_patch::PatchOperation::Replace(o) => o.path.to_string(),
            json_patch::PatchOperation::Move(o) => o.path.to_string(),
            json_patch::PatchOperation::Copy(o) => o.path.to_string(),
            json_patch::PatchOperation::Test(_) => continue,
        };
        fields.push(path);
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merged(target: Value, patch: Value) -> (Value, Vec<String>) {
        let mut t = target;
        let mut fields = Vec::new();
        merge(&mut t, &patch, None, "", &mut fields).unwrap();
        (t, fields)
    }

    #[test]
    fn named_lists_merge_by_their_key_and_other_lists_are_replaced() {
        let deployment = json!({"spec": {"template": {"spec": {
            "containers": [
                {"name": "core", "image": "a", "env": [{"name": "A", "value": "1"}], "envFrom": [{"secretRef": {"name": "s"}}]},
                {"name": "side", "image": "b"}
            ],
            "tolerations": [{"key": "x", "operator": "Exists"}]
        }}}});
        let (out, fields) = merged(
            deployment,
            json!({"spec": {"template": {"spec": {
                "containers": [{"name": "core", "env": [{"name": "B", "value": "2"}]}],
                "tolerations": [{"operator": "Exists"}]
            }}}}),
        );
        assert_eq!(
            out,
            json!({"spec": {"template": {"spec": {
                "containers": [
                    {"name": "core", "image": "a", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}], "envFrom": [{"secretRef": {"name": "s"}}]},
                    {"name": "side", "image": "b"}
                ],
                "tolerations": [{"operator": "Exists"}]
            }}}})
        );
        assert_eq!(
            fields,
            [
                "/spec/template/spec/containers/0/env/1",
                "/spec/template/spec/tolerations"
            ]
        );
    }

    #[test]
    fn a_delete_directive_removes_one_item_and_null_removes_a_key() {
        let (out, _) = merged(
            json!({"spec": {"volumes": [{"name": "a"}, {"name": "b"}], "x": 1, "ports": [{"port": 80, "name": "http"}]}}),
            json!({"spec": {"volumes": [{"name": "a", "$patch": "delete"}], "x": null, "ports": [{"port": 80, "targetPort": 8080}]}}),
        );
        assert_eq!(
            out,
            json!({"spec": {"volumes": [{"name": "b"}], "ports": [{"port": 80, "name": "http", "targetPort": 8080}]}})
        );
    }

    #[test]
    fn scalars_keep_their_type() {
        let (out, _) = merged(
            json!({"a": {"b": "1"}}),
            json!({"a": {"c": "true", "d": true, "e": 1.5, "f": "010"}}),
        );
        assert_eq!(
            out,
            json!({"a": {"b": "1", "c": "true", "d": true, "e": 1.5, "f": "010"}})
        );
    }

    #[test]
    fn a_json_patch_failure_names_the_line_of_its_operation() {
        let ops: json_patch::Patch = serde_json::from_value(json!([
            {"op": "add", "path": "/metadata/annotations/a", "value": "1"},
            {"op": "test", "path": "/metadata/name", "value": "other"}
        ]))
        .unwrap();
        let mut object = json!({"metadata": {"name": "x", "annotations": {}}});
        let (message, line) = json(&mut object, &ops, &[7, 8]).unwrap_err();
        assert_eq!(line, Some(8));
        assert_eq!(
            message,
            "operation 2 failed at path '/metadata/name': value did not match"
        );
    }
}
