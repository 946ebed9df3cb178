//! Merged values → diagnostics against each component's `values.schema.json`, pointing back to
//! the layer and line that set the offending value.

pub(crate) mod facts;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::Component;
use crate::load::schema::dotted;
use crate::merge::{Cluster, Merged};

pub(crate) fn check_component(
    cluster: &Cluster,
    component: &Component,
    values: &Merged,
) -> Diagnostics {
    let validator = match component.validator() {
        Ok(v) => v,
        Err(d) => return d.into(),
    };
    let instance = values.to_json();
    let mut out = Diagnostics::new();
    for error in validator.iter_errors(&instance) {
        let pointer = error.instance_path().as_str().to_string();
        let path = if pointer.is_empty() {
            component.name.clone()
        } else {
            format!("{}.{}", component.name, dotted(&pointer))
        };
        let at = values.pointer(&pointer);
        let schema_file = format!("{}/values.schema.json", component.dir);
        let d = match error.kind() {
            jsonschema::error::ValidationErrorKind::Required { property } => {
                let key = property
                    .as_str()
                    .map_or_else(|| property.to_string(), str::to_string);
                let full = format!("{path}.{key}");
                Diagnostic::error(
                    Code::ValuesMissing,
                    format!("cluster `{}`: `{full}` is required, but no layer sets it", cluster.name),
                )
                .note(format!("required by {schema_file}"))
                .hint(format!(
                    "set `values.{full}` in a layer of this cluster, such as {}, or give it a default in {}",
                    cluster.file.path,
                    component.values_file()
                ))
            }
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                let keys = unexpected
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let first = unexpected
                    .first()
                    .and_then(|k| at.and_then(|m| m.get(k)))
                    .and_then(Merged::last_origin)
                    .map(|o| o.span());
                out.push(
                    Diagnostic::error(
                        Code::ValuesSchema,
                        format!("`{path}` has keys the schema does not allow: {keys}"),
                    )
                    .at_opt(first)
                    .note(format!("cluster: {}", cluster.name))
                    .hint(format!("check the spelling against {schema_file}")),
                );
                continue;
            }
            _ => {
                let shown = error.to_string();
                Diagnostic::error(Code::ValuesSchema, format!("`{path}`: {shown}"))
                    .note(format!("cluster: {}", cluster.name))
                    .hint(format!("the value must match {schema_file}"))
            }
        };
        let span = match error.kind() {
            jsonschema::error::ValidationErrorKind::Required { .. } => {
                Some(crate::diag::Span::new(&cluster.file.path, 1, 1))
            }
            _ => at.and_then(Merged::last_origin).map(|o| o.span()),
        };
        out.push(d.at_opt(span));
    }
    out
}
