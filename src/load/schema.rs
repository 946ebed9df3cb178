//! strata's own file formats, checked against the JSON Schemas in `schema/`.
//!
//! The schemas are embedded in the binary so that a check never depends on the files beside it,
//! and are the same files editors use through `# yaml-language-server: $schema=`.

use std::sync::OnceLock;

use jsonschema::Validator;

use crate::diag::{Code, Diagnostic, Diagnostics, Span};
use crate::yaml::Node;

pub(crate) const STRATA_SCHEMA: &str = include_str!("../../schema/strata.schema.json");
pub(crate) const COMPONENT_SCHEMA: &str = include_str!("../../schema/component.schema.json");
pub(crate) const LAYER_SCHEMA: &str = include_str!("../../schema/layer.schema.json");

#[derive(Clone, Copy, Debug)]
pub(crate) enum OwnFormat {
    Settings,
    Component,
    Layer,
}

impl OwnFormat {
    fn validator(self) -> Option<&'static Validator> {
        static SETTINGS: OnceLock<Option<Validator>> = OnceLock::new();
        static COMPONENT: OnceLock<Option<Validator>> = OnceLock::new();
        static LAYER: OnceLock<Option<Validator>> = OnceLock::new();
        let (cell, text) = match self {
            OwnFormat::Settings => (&SETTINGS, STRATA_SCHEMA),
            OwnFormat::Component => (&COMPONENT, COMPONENT_SCHEMA),
            OwnFormat::Layer => (&LAYER, LAYER_SCHEMA),
        };
        cell.get_or_init(|| {
            let mut schema: serde_json::Value = serde_json::from_str(text).ok()?;
            // `$id` names the schema for editors; nothing refers to it here (a test checks). Left
            // in, the check of the schema against its meta-schema compiles the pattern of
            // `$id`, in every render that checks a changed file.
            schema.as_object_mut()?.remove("$id");
            jsonschema::validator_for(&schema).ok()
        })
        .as_ref()
    }

    fn schema_file(self) -> &'static str {
        match self {
            OwnFormat::Settings => "schema/strata.schema.json",
            OwnFormat::Component => "schema/component.schema.json",
            OwnFormat::Layer => "schema/layer.schema.json",
        }
    }
}

/// Checks one of strata's own files. Each error points at the line of the offending key or value.
pub(crate) fn check_own(file: &str, node: &Node, format: OwnFormat) -> Diagnostics {
    let Some(validator) = format.validator() else {
        return Diagnostic::error(
            Code::Internal,
            format!("the embedded {} does not compile", format.schema_file()),
        )
        .hint("this is a bug in strata; please report it")
        .into();
    };
    let instance = node.to_json();
    let mut out = Diagnostics::new();
    for error in validator.iter_errors(&instance) {
        let pointer = error.instance_path().as_str().to_string();
        let at = node.pointer(&pointer).unwrap_or(node);
        let place = if pointer.is_empty() {
            "the top level".to_string()
        } else {
            format!("`{}`", dotted(&pointer))
        };
        let d = match error.kind() {
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    let pos = at
                        .as_map()
                        .and_then(|m| m.iter().find(|(k, _, _)| k == key))
                        .map(|(_, p, _)| *p)
                        .unwrap_or(at.pos);
                    let known = known_keys(format, &pointer);
                    let mut d = Diagnostic::error(
                        Code::UnknownKey,
                        format!("unknown key `{key}` in {place}"),
                    )
                    .at(Span::new(file, pos.line, pos.column));
                    if !known.is_empty() {
                        d = d.hint(format!("the keys allowed here are: {}", known.join(", ")));
                    }
                    out.push(d);
                }
                continue;
            }
            jsonschema::error::ValidationErrorKind::Required { property } => Diagnostic::error(
                Code::MissingKey,
                format!(
                    "{place} is missing the required key {}",
                    property
                        .as_str()
                        .map_or_else(|| property.to_string(), |p| format!("`{p}`"))
                ),
            )
            .hint(format!("see {} for the format", format.schema_file())),
            _ => Diagnostic::error(Code::Format, format!("{place}: {error}"))
                .hint(format!("see {} for the format", format.schema_file())),
        };
        out.push(d.at(Span::new(file, at.pos.line, at.pos.column)));
    }
    out
}

/// `/values/ingress-nginx/0` → `values.ingress-nginx[0]`.
pub(crate) fn dotted(pointer: &str) -> String {
    let mut s = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.parse::<usize>().is_ok() {
            s.push_str(&format!("[{seg}]"));
        } else {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(&seg);
        }
    }
    s
}

/// The property names a schema allows at a pointer, for "did you mean" hints.
fn known_keys(format: OwnFormat, pointer: &str) -> Vec<String> {
    let text = match format {
        OwnFormat::Settings => STRATA_SCHEMA,
        OwnFormat::Component => COMPONENT_SCHEMA,
        OwnFormat::Layer => LAYER_SCHEMA,
    };
    let Ok(mut schema) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    for seg in pointer.split('/').skip(1) {
        let next = schema
            .get("properties")
            .and_then(|p| p.get(seg))
            .cloned()
            .or_else(|| schema.get("additionalProperties").cloned());
        match next {
            Some(s) => schema = s,
            None => return Vec::new(),
        }
    }
    schema
        .get("properties")
        .and_then(|p| p.as_object())
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_one;

    #[test]
    fn every_embedded_schema_compiles() {
        for f in [OwnFormat::Settings, OwnFormat::Component, OwnFormat::Layer] {
            assert!(f.validator().is_some(), "{f:?}");
        }
    }

    #[test]
    fn the_embedded_schemas_mean_the_same_without_their_id() {
        // The validators are compiled without `$id`: that is only sound while no `$ref`
        // resolves against it.
        fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, v) in m {
                        match (k.as_str(), v) {
                            ("$ref" | "$dynamicRef", serde_json::Value::String(r)) => out.push(r),
                            _ => refs(v, out),
                        }
                    }
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        for text in [STRATA_SCHEMA, COMPONENT_SCHEMA, LAYER_SCHEMA] {
            let schema: serde_json::Value = serde_json::from_str(text).expect("json");
            assert!(jsonschema::meta::is_valid(&schema));
            let id = schema["$id"].as_str().expect("an $id for editors");
            let mut found = Vec::new();
            refs(&schema, &mut found);
            let absolute: Vec<&&str> = found.iter().filter(|r| !r.starts_with('#')).collect();
            assert!(absolute.is_empty(), "{id} refers to {absolute:?}");
        }
    }

    #[test]
    fn an_unknown_key_names_its_line_and_the_allowed_keys() {
        let node = parse_one("cluster: {role: workload}\nvalus: {}\n").unwrap();
        let d = check_own("environments/x.yaml", &node, OwnFormat::Layer);
        assert_eq!(d.len(), 1);
        let d = &d.0[0];
        assert_eq!(d.message, "unknown key `valus` in the top level");
        assert_eq!(d.span, Some(Span::new("environments/x.yaml", 2, 1)));
        assert_eq!(
            d.hint.as_deref(),
            Some("the keys allowed here are: cluster, components, values, patches")
        );
    }

    #[test]
    fn a_wrong_type_points_at_the_value() {
        let node = parse_one("components:\n  harbor: nope\n").unwrap();
        let d = check_own("l.yaml", &node, OwnFormat::Layer);
        assert_eq!(d.len(), 1);
        assert_eq!(d.0[0].span, Some(Span::new("l.yaml", 2, 11)));
        assert!(
            d.0[0].message.starts_with("`components.harbor`: "),
            "{}",
            d.0[0].message
        );
    }

    #[test]
    fn pointers_read_as_dotted_paths() {
        assert_eq!(
            dotted("/values/ingress-nginx/args/0"),
            "values.ingress-nginx.args[0]"
        );
        assert_eq!(dotted("/a~1b"), "a/b");
    }
}
