//! Reading live objects: the output of `kubectl get -o yaml` or `kubectl get -o json`.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

const HINT: &str = "pass the output of `kubectl get -o yaml` (or `-o json`) unchanged";

/// Where in the live input: the document (1-based, in a multi-document YAML stream or a stream
/// of JSON values) and, inside a `List`, the item (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LivePlace {
    pub(crate) document: usize,
    pub(crate) item: Option<usize>,
}

impl fmt::Display for LivePlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {}", self.document)?;
        if let Some(item) = self.item {
            write!(f, ", item {item}")?;
        }
        Ok(())
    }
}

/// Why the live input could not be read. Each message says what is wrong, where, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LiveError {
    #[error("the live input is empty; {HINT}, and check that the kubectl command succeeded")]
    Empty,
    #[error("the live input is not valid YAML: document {document}{}: {message}; {HINT}", at_line(*line, *column))]
    Yaml {
        document: usize,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    #[error("the live input is not valid JSON: document {document}{}: {message}; {HINT}", at_line(Some(*line), Some(*column)))]
    Json {
        document: usize,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "the live input has {found} at {place}, where a Kubernetes object (a mapping with apiVersion, kind and metadata.name) belongs; {HINT}"
    )]
    NotAnObject {
        place: LivePlace,
        found: &'static str,
    },
    #[error(
        "the live object at {place} has no {field}; every object kubectl returns has apiVersion, kind and metadata.name: was the output edited or cut short? {HINT}"
    )]
    MissingField {
        place: LivePlace,
        field: &'static str,
    },
    #[error("the {kind} at {place} has `items` that are not a list; {HINT}")]
    ItemsNotAList { place: LivePlace, kind: String },
}

impl LiveError {
    /// The line and column (1-based) of the input where it went wrong, when the parser said.
    pub fn line(&self) -> Option<(u32, u32)> {
        let (line, column) = match self {
            LiveError::Yaml { line, column, .. } => ((*line)?, column.unwrap_or(1)),
            LiveError::Json { line, column, .. } => (*line, *column),
            _ => return None,
        };
        Some((
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column.max(1)).unwrap_or(u32::MAX),
        ))
    }
}

fn at_line(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(", line {line}, column {column}"),
        (Some(line), None) => format!(", line {line}"),
        _ => String::new(),
    }
}

/// Reads live objects from `kubectl get -o yaml|json` output: a `List` (or a typed list such as
/// `DeploymentList`, whose items may lack `kind` and `apiVersion`), a multi-document YAML
/// stream, a single object, a JSON array, or a stream of JSON values. Empty documents are
/// skipped; an empty `List` gives no objects. Every object must have `apiVersion`, `kind` and
/// `metadata.name`.
pub fn parse_live(text: &str) -> Result<Vec<Value>, LiveError> {
    Ok(parse_live_placed(text)?
        .into_iter()
        .map(|(_, object)| object)
        .collect())
}

/// [`parse_live`], with where each object is in the input.
pub(crate) fn parse_live_placed(text: &str) -> Result<Vec<(LivePlace, Value)>, LiveError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let documents = if text.trim_start().starts_with(['{', '[']) {
        json_documents(text)?
    } else {
        yaml_documents(text)?
    };
    if documents.is_empty() {
        return Err(LiveError::Empty);
    }
    let mut objects = Vec::new();
    for (index, document) in documents.into_iter().enumerate() {
        collect_objects(document, index + 1, &mut objects)?;
    }
    Ok(objects)
}

fn yaml_documents(text: &str) -> Result<Vec<Value>, LiveError> {
    let mut documents = Vec::new();
    // The iterator repeats a parse failure forever: stop at the first one.
    for (index, document) in yaml_serde::Deserializer::from_str(text).enumerate() {
        match Value::deserialize(document) {
            Ok(Value::Null) => {}
            Ok(value) => documents.push(value),
            Err(error) => {
                let location = error.location();
                let message = error.to_string();
                let message = match message.rfind(" at line ") {
                    Some(cut) if location.is_some() => message[..cut].to_owned(),
                    _ => message,
                };
                return Err(LiveError::Yaml {
                    document: index + 1,
                    line: location.as_ref().map(|l| l.line()),
                    column: location.as_ref().map(|l| l.column()),
                    message,
                });
            }
        }
    }
    Ok(documents)
}

fn json_documents(text: &str) -> Result<Vec<Value>, LiveError> {
    let mut documents = Vec::new();
    for (index, document) in serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .enumerate()
    {
        match document {
            Ok(value) => documents.push(value),
            Err(error) => {
                let message = error.to_string();
                let message = match message.rfind(" at line ") {
                    Some(cut) => message[..cut].to_owned(),
                    None => message,
                };
                return Err(LiveError::Json {
                    document: index + 1,
                    line: error.line(),
                    column: error.column(),
                    message,
                });
            }
        }
    }
    Ok(documents)
}

fn collect_objects(
    document: Value,
    number: usize,
    out: &mut Vec<(LivePlace, Value)>,
) -> Result<(), LiveError> {
    let whole = LivePlace {
        document: number,
        item: None,
    };
    match document {
        Value::Array(items) => collect_items(items, number, None, out),
        Value::Object(mut fields) if is_list(&fields) => {
            let list_kind = fields
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let api_version = fields
                .get("apiVersion")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let Some(Value::Array(items)) = fields.shift_remove("items") else {
                return Err(LiveError::ItemsNotAList {
                    place: whole,
                    kind: list_kind,
                });
            };
            // A typed list (`DeploymentList`) from the API leaves kind and apiVersion off its items.
            let item_kind = list_kind
                .strip_suffix("List")
                .filter(|kind| !kind.is_empty())
                .map(|kind| (kind.to_owned(), api_version));
            collect_items(items, number, item_kind, out)
        }
        object @ Value::Object(_) => {
            check_object(&object, whole)?;
            out.push((whole, object));
            Ok(())
        }
        other => Err(LiveError::NotAnObject {
            place: whole,
            found: describe(&other),
        }),
    }
}

fn collect_items(
    items: Vec<Value>,
    document: usize,
    item_kind: Option<(String, Option<String>)>,
    out: &mut Vec<(LivePlace, Value)>,
) -> Result<(), LiveError> {
    for (index, mut item) in items.into_iter().enumerate() {
        let place = LivePlace {
            document,
            item: Some(index + 1),
        };
        let Value::Object(fields) = &mut item else {
            return Err(LiveError::NotAnObject {
                place,
                found: describe(&item),
            });
        };
        if let Some((kind, api_version)) = &item_kind {
            if !fields.contains_key("kind") {
                fields.insert("kind".into(), Value::String(kind.clone()));
            }
            if let (false, Some(api_version)) = (fields.contains_key("apiVersion"), api_version) {
                fields.insert("apiVersion".into(), Value::String(api_version.clone()));
            }
        }
        check_object(&item, place)?;
        out.push((place, item));
    }
    Ok(())
}

fn is_list(fields: &serde_json::Map<String, Value>) -> bool {
    let kind = fields
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    kind.ends_with("List") && fields.contains_key("items")
}

fn check_object(object: &Value, place: LivePlace) -> Result<(), LiveError> {
    let has_text =
        |value: Option<&Value>| value.and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    let missing = if !has_text(object.get("apiVersion")) {
        Some("apiVersion")
    } else if !has_text(object.get("kind")) {
        Some("kind")
    } else if !has_text(object.get("metadata").and_then(|m| m.get("name"))) {
        Some("metadata.name")
    } else {
        None
    };
    match missing {
        Some(field) => Err(LiveError::MissingField { place, field }),
        None => Ok(()),
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{LiveError, LivePlace, parse_live};

    fn names(text: &str) -> Vec<String> {
        let objects = parse_live(text).expect("valid live input");
        objects
            .iter()
            .map(|o| {
                format!(
                    "{} {}/{}",
                    o["apiVersion"].as_str().unwrap_or("?"),
                    o["kind"].as_str().unwrap_or("?"),
                    o["metadata"]["name"].as_str().unwrap_or("?")
                )
            })
            .collect()
    }

    #[test]
    fn accepted_shapes() {
        let cases: [(&str, &str, &[&str]); 10] = [
            (
                "yaml List",
                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: b}\nmetadata:\n  resourceVersion: \"\"\n",
                &["v1 Service/a", "apps/v1 Deployment/b"],
            ),
            (
                "empty List",
                "apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: \"\"\n",
                &[],
            ),
            (
                "multi-document",
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# nothing here\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
                &["v1 ConfigMap/a", "v1 ConfigMap/b"],
            ),
            (
                "single object",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
                &["v1 Namespace/shop"],
            ),
            (
                "typed list",
                "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- metadata: {name: a}\n",
                &["apps/v1 Deployment/a"],
            ),
            (
                "JSON List",
                r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}}]}"#,
                &["v1 Secret/s"],
            ),
            (
                "JSON object",
                "\n  {\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}\n",
                &["v1 Pod/p"],
            ),
            (
                "JSON stream",
                "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}\n{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"q\"}}",
                &["v1 Pod/p", "v1 Pod/q"],
            ),
            (
                "JSON array",
                "[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}]",
                &["v1 Pod/p"],
            ),
            (
                "byte order mark",
                "\u{feff}apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
                &["v1 Pod/p"],
            ),
        ];
        for (case, text, expected) in cases {
            assert_eq!(names(text), expected, "{case}");
        }
    }

    #[test]
    fn values_survive_parsing() {
        let objects = parse_live("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  n: \"80\"\n  empty: null\n")
            .expect("valid");
        assert_eq!(objects[0]["data"], json!({"n": "80", "empty": null}));
    }

    #[test]
    fn bad_input_says_what_where_and_what_to_do() {
        let hint = "pass the output of `kubectl get -o yaml` (or `-o json`) unchanged";
        let cases = [
            (
                "",
                format!(
                    "the live input is empty; {hint}, and check that the kubectl command succeeded"
                ),
            ),
            (
                "  \n# only a comment\n",
                format!(
                    "the live input is empty; {hint}, and check that the kubectl command succeeded"
                ),
            ),
            (
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\nkind: Pod\n  bad: indent\n",
                format!(
                    "the live input is not valid YAML: document 2, line 6, column 6: mapping values are not allowed in this context; {hint}"
                ),
            ),
            (
                "{\"apiVersion\": \"v1\",\n \"kind\": }",
                format!(
                    "the live input is not valid JSON: document 1, line 2, column 10: expected value; {hint}"
                ),
            ),
            (
                "just text\n",
                format!(
                    "the live input has a string at document 1, where a Kubernetes object (a mapping with apiVersion, kind and metadata.name) belongs; {hint}"
                ),
            ),
            (
                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n- 42\n",
                format!(
                    "the live input has a number at document 1, item 2, where a Kubernetes object (a mapping with apiVersion, kind and metadata.name) belongs; {hint}"
                ),
            ),
            (
                "apiVersion: v1\nmetadata: {name: p}\n",
                format!(
                    "the live object at document 1 has no kind; every object kubectl returns has apiVersion, kind and metadata.name: was the output edited or cut short? {hint}"
                ),
            ),
            (
                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {}\n",
                format!(
                    "the live object at document 1, item 1 has no metadata.name; every object kubectl returns has apiVersion, kind and metadata.name: was the output edited or cut short? {hint}"
                ),
            ),
            (
                "apiVersion: v1\nkind: List\nitems: {a: 1}\n",
                format!("the List at document 1 has `items` that are not a list; {hint}"),
            ),
        ];
        for (text, message) in cases {
            let error = parse_live(text).expect_err(text);
            assert_eq!(error.to_string(), message, "{text:?}");
        }
        assert_eq!(
            parse_live("apiVersion: v1\nkind: Pod\nmetadata: {}\n"),
            Err(LiveError::MissingField {
                place: LivePlace {
                    document: 1,
                    item: None
                },
                field: "metadata.name"
            })
        );
    }

    #[test]
    fn alias_bomb_is_an_error_not_gigabytes() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let previous = level - 1;
            let name = format!("l{level}");
            let refs = format!(
                "*{}",
                if previous == 0 {
                    "a".to_owned()
                } else {
                    format!("l{previous}")
                }
            );
            text.push_str(&format!("{name}: &{name} [{refs}, {refs}, {refs}, {refs}, {refs}, {refs}, {refs}, {refs}, {refs}, {refs}]\n"));
        }
        let error = parse_live(&text).expect_err("alias bomb");
        assert!(
            error.to_string().contains("repetition limit exceeded"),
            "{error}"
        );
    }
}
