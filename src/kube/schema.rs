//! The shape of Kubernetes objects, and the walk that checks a value against it.
//!
//! One [`Schema`] is an arena of [`Node`]s: the definitions of one Kubernetes version, or the
//! `openAPIV3Schema` of one CRD version. It is compiled once and shared by every object checked
//! against it. The walk is purpose-built rather than a general JSON Schema validator because the
//! API server's rules are not JSON Schema's: `null` means "absent" (so a required field set to
//! `null` is missing), int-or-string and quantities are their own types, an object with
//! properties has no other fields, and each finding needs the field path and the name of the
//! type it is in, to say where a misplaced field belongs.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::finding::{Finding, Rule};
use super::quantity::is_quantity;

/// The index of a node in its [`Schema`].
pub(crate) type NodeId = u32;

/// What kind of value a node accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Type {
    /// Anything: an embedded object of any shape, or a field without a schema.
    Any,
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    /// A string or an int32: `targetPort: 8080`, `targetPort: http`, `maxSurge: 25%`.
    IntOrString,
    /// A resource quantity: a string in the quantity grammar, or a number.
    Quantity,
}

/// The formats the walk checks; others are accepted as plain strings or numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    None,
    Int32,
    Int64,
    /// Base64 text: Secret `data`, CA bundles.
    Byte,
    DateTime,
}

/// The fields an object accepts besides its properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extra {
    /// None: an unknown field is refused (or silently dropped, which is as bad).
    Closed,
    /// Any field, unchecked.
    Open,
    /// Any name, each value of this shape: `labels`, `data`, `resources.limits`.
    Each(NodeId),
}

/// The numeric and size bounds of a CRD schema; built-in schemas have none.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Bounds {
    pub(crate) minimum: Option<(f64, bool)>,
    pub(crate) maximum: Option<(f64, bool)>,
    pub(crate) min_length: Option<u64>,
    pub(crate) max_length: Option<u64>,
    pub(crate) min_items: Option<u64>,
    pub(crate) max_items: Option<u64>,
    pub(crate) min_properties: Option<u64>,
    pub(crate) max_properties: Option<u64>,
}

/// One schema node.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) ty: Type,
    /// The name of the type this node is, for messages: `DeploymentSpec`.
    pub(crate) title: Option<Box<str>>,
    /// Sorted by name, for a binary search.
    pub(crate) properties: Vec<(Box<str>, NodeId)>,
    pub(crate) required: Vec<Box<str>>,
    pub(crate) extra: Extra,
    pub(crate) items: Option<NodeId>,
    /// `x-kubernetes-list-map-keys` of a list of type `map`: no two items share these.
    pub(crate) map_keys: Vec<Box<str>>,
    /// A list of type `set`: no two items are equal.
    pub(crate) set: bool,
    pub(crate) enumeration: Vec<Value>,
    pub(crate) format: Format,
    pub(crate) pattern: Option<Box<regex::Regex>>,
    pub(crate) bounds: Option<Box<Bounds>>,
    /// `x-kubernetes-embedded-resource`: `apiVersion`, `kind` and `metadata` are allowed.
    pub(crate) embedded: bool,
}

impl Node {
    pub(crate) fn of(ty: Type) -> Node {
        Node {
            ty,
            title: None,
            properties: Vec::new(),
            required: Vec::new(),
            extra: if ty == Type::Object {
                Extra::Closed
            } else {
                Extra::Open
            },
            items: None,
            map_keys: Vec::new(),
            set: false,
            enumeration: Vec::new(),
            format: Format::None,
            pattern: None,
            bounds: None,
            embedded: false,
        }
    }

    pub(crate) fn property(&self, name: &str) -> Option<NodeId> {
        self.properties
            .binary_search_by(|(n, _)| n.as_ref().cmp(name))
            .ok()
            .map(|i| self.properties[i].1)
    }

    /// What the node accepts, in a user's words.
    fn expected(&self) -> String {
        if !self.enumeration.is_empty() {
            let values: Vec<String> = self.enumeration.iter().map(show_enum_value).collect();
            return format!("one of: {}", values.join(", "));
        }
        match (self.ty, self.format) {
            (Type::Any, _) => "any value".to_string(),
            (Type::Object, _) => match &self.title {
                Some(t) => format!("an object ({t})"),
                None => "an object".to_string(),
            },
            (Type::Array, _) => "a list".to_string(),
            (Type::String, Format::Byte) => "a string of base64 data".to_string(),
            (Type::String, Format::DateTime) => {
                "a string with an RFC 3339 time (2026-12-04T10:00:00Z)".to_string()
            }
            (Type::String, _) => "a string".to_string(),
            (Type::Integer, Format::Int32) => "an integer (int32)".to_string(),
            (Type::Integer, Format::Int64) => "an integer (int64)".to_string(),
            (Type::Integer, _) => "an integer".to_string(),
            (Type::Number, _) => "a number".to_string(),
            (Type::Boolean, _) => "a boolean (true or false)".to_string(),
            (Type::IntOrString, _) => {
                "an integer or a string (int-or-string: 8080, \"http\", \"25%\")".to_string()
            }
            (Type::Quantity, _) => {
                "a quantity (a number with an optional suffix: 500m, 0.5, 2Gi, 1G, 1e3)".to_string()
            }
        }
    }
}

fn show_enum_value(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "\"\" (empty)".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A compiled set of nodes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Schema {
    pub(crate) nodes: Vec<Node>,
}

impl Schema {
    pub(crate) fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        (self.nodes.len() - 1) as NodeId
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// Checks `value` against node `root`, reporting paths below `path`.
    pub(crate) fn check<'a>(
        &'a self,
        root: NodeId,
        value: &'a Value,
        path: &'a str,
        out: &'a mut Vec<Finding>,
    ) {
        let mut walk = Walk {
            schema: self,
            prefix: path,
            path: Vec::new(),
            found: out,
        };
        walk.value(root, value);
    }
}

/// A step of the path to the field being checked. The text of the path is made only for a
/// finding: most fields are fine, and formatting every path would cost more than the check.
#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

struct Walk<'a> {
    schema: &'a Schema,
    prefix: &'a str,
    path: Vec<Step<'a>>,
    found: &'a mut Vec<Finding>,
}

/// Whether a key reads unambiguously after a dot.
fn plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'$')
}

/// Appends `.key` (or `["key"]`) to a path.
pub(crate) fn push_key(path: &mut String, key: &str) {
    if plain_key(key) {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        let _ = write!(path, "[{}]", Value::String(key.to_string()));
    }
}

/// A value as a message shows it: its type, and its text when short.
fn describe(v: &Value) -> String {
    let text = v.to_string();
    let kind = match v {
        Value::Null => return "null".to_string(),
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number with a fraction",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => return "a list".to_string(),
        Value::Object(_) => return "an object".to_string(),
    };
    if text.chars().count() > 60 {
        kind.to_string()
    } else {
        format!("{kind}: {text}")
    }
}

impl<'a> Walk<'a> {
    fn path_text(&self) -> String {
        let mut text = self.prefix.to_string();
        for step in &self.path {
            match step {
                Step::Key(k) => push_key(&mut text, k),
                Step::Index(i) => {
                    let _ = write!(text, "[{i}]");
                }
            }
        }
        text
    }

    fn report(&mut self, message: String) -> &mut Finding {
        let path = self.path_text();
        self.found.push(Finding::new(Rule::Schema, path, message));
        let last = self.found.len() - 1;
        &mut self.found[last]
    }

    fn wrong_type(&mut self, node: &Node, v: &Value) {
        let expected = node.expected();
        let hint = type_hint(node, v);
        let f = self.report(format!(
            "wrong type: expected {expected}, found {}",
            describe(v)
        ));
        f.expected = Some(expected);
        f.hint = hint;
    }

    fn value(&mut self, id: NodeId, v: &'a Value) {
        let schema = self.schema;
        let node = schema.node(id);
        // The API server decodes `null` as an absent field.
        if v.is_null() {
            return;
        }
        let type_ok = match node.ty {
            Type::Any => true,
            Type::Object => v.is_object(),
            Type::Array => v.is_array(),
            Type::String => v.is_string(),
            Type::Boolean => v.is_boolean(),
            Type::Number => v.is_number(),
            Type::Integer => is_integer(v),
            Type::IntOrString => v.is_string() || is_integer(v),
            Type::Quantity => v.is_number() || v.is_string(),
        };
        if !type_ok {
            self.wrong_type(node, v);
            return;
        }
        match v {
            Value::Object(map) => self.object(node, map),
            Value::Array(items) => self.array(node, items),
            Value::String(s) => self.string(node, s),
            Value::Number(_) => self.number(node, v),
            _ => {}
        }
        if !node.enumeration.is_empty() && !node.enumeration.contains(v) {
            let expected = node.expected();
            let f = self.report(format!("{v} is not one of the values this field allows"));
            f.expected = Some(expected);
        }
    }

    fn object(&mut self, node: &'a Node, map: &'a Map<String, Value>) {
        if node.ty == Type::Any && !node.embedded {
            return;
        }
        for (key, v) in map {
            self.path.push(Step::Key(key));
            match node.property(key) {
                Some(child) => self.value(child, v),
                None if node.embedded
                    && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") => {}
                None => match node.extra {
                    Extra::Each(child) => self.value(child, v),
                    Extra::Open => {}
                    Extra::Closed => self.unknown_field(node, key),
                },
            }
            self.path.pop();
        }
        for name in &node.required {
            if map.get(name.as_ref()).is_none_or(Value::is_null) {
                self.path.push(Step::Key(name));
                let expected = node.property(name).map(|c| self.schema.node(c).expected());
                let within = node
                    .title
                    .as_deref()
                    .map(|t| format!(" of {t}"))
                    .unwrap_or_default();
                let f = self.report(format!("the required field `{name}`{within} is missing"));
                f.expected = expected;
                self.path.pop();
            }
        }
        if let Some(b) = &node.bounds {
            let n = map.len() as u64;
            if let Some(min) = b.min_properties.filter(|&m| n < m) {
                self.report(format!("has {n} fields, fewer than the minimum of {min}"));
            }
            if let Some(max) = b.max_properties.filter(|&m| n > m) {
                self.report(format!("has {n} fields, more than the maximum of {max}"));
            }
        }
    }

    fn unknown_field(&mut self, node: &Node, key: &str) {
        let within = node
            .title
            .as_deref()
            .map(|t| format!(" in {t}"))
            .unwrap_or_default();
        let hint = misplaced_hint(self.schema, node, key);
        let f = self.report(format!(
            "unknown field `{key}`{within}: the API server refuses it, or drops it without a word"
        ));
        f.hint = hint;
    }

    fn array(&mut self, node: &Node, items: &'a [Value]) {
        if let Some(item) = node.items {
            for (i, v) in items.iter().enumerate() {
                self.path.push(Step::Index(i));
                self.value(item, v);
                self.path.pop();
            }
        }
        if !node.map_keys.is_empty() {
            self.duplicate_keys(node, items);
        } else if node.set {
            for (i, v) in items.iter().enumerate() {
                if items[..i].contains(v) {
                    self.path.push(Step::Index(i));
                    self.report(format!("{v} is listed twice; this list is a set"));
                    self.path.pop();
                }
            }
        }
        if let Some(b) = &node.bounds {
            let n = items.len() as u64;
            if let Some(min) = b.min_items.filter(|&m| n < m) {
                self.report(format!("has {n} items, fewer than the minimum of {min}"));
            }
            if let Some(max) = b.max_items.filter(|&m| n > m) {
                self.report(format!("has {n} items, more than the maximum of {max}"));
            }
        }
    }

    /// Items of a list-map with the same keys: the API server keeps one of them.
    fn duplicate_keys(&mut self, node: &Node, items: &[Value]) {
        let key_of = |v: &Value| -> Option<Vec<Value>> {
            node.map_keys
                .iter()
                .map(|k| v.get(k.as_ref()).filter(|x| !x.is_null()).cloned())
                .collect()
        };
        let keys: Vec<Option<Vec<Value>>> = items.iter().map(key_of).collect();
        for (i, key) in keys.iter().enumerate() {
            let Some(key) = key else { continue };
            if keys[..i].iter().any(|k| k.as_ref() == Some(key)) {
                self.path.push(Step::Index(i));
                let shown: Vec<String> = node
                    .map_keys
                    .iter()
                    .zip(key)
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                self.report(format!(
                    "a second item with {}; the API server refuses duplicates here",
                    shown.join(", ")
                ));
                self.path.pop();
            }
        }
    }

    fn string(&mut self, node: &Node, s: &str) {
        match node.ty {
            Type::Quantity if !is_quantity(s) => {
                let expected = node.expected();
                let f = self.report(format!("\"{s}\" is not a Kubernetes quantity"));
                f.expected = Some(expected);
                f.hint = Some(quantity_hint(s));
                return;
            }
            Type::String | Type::IntOrString => {}
            _ => return,
        }
        match node.format {
            Format::Byte if crate::secret::decode_base64(s).is_none() => {
                let f = self.report("this is not base64 data".to_string());
                f.expected = Some(node.expected());
                f.hint = Some(
                    "encode the value with base64, or put the plain text under `stringData`"
                        .to_string(),
                );
            }
            Format::DateTime if s.parse::<jiff::Timestamp>().is_err() => {
                let f = self.report(format!("\"{s}\" is not an RFC 3339 time"));
                f.expected = Some(node.expected());
            }
            _ => {}
        }
        if let Some(re) = &node.pattern
            && !re.is_match(s)
        {
            let f = self.report(format!(
                "\"{s}\" does not match the pattern the schema sets"
            ));
            f.expected = Some(format!("a string matching {}", re.as_str()));
        }
        if let Some(b) = &node.bounds {
            let n = s.chars().count() as u64;
            if let Some(min) = b.min_length.filter(|&m| n < m) {
                self.report(format!(
                    "is {n} characters long, shorter than the minimum of {min}"
                ));
            }
            if let Some(max) = b.max_length.filter(|&m| n > m) {
                self.report(format!(
                    "is {n} characters long, longer than the maximum of {max}"
                ));
            }
        }
    }

    fn number(&mut self, node: &Node, v: &Value) {
        let (min, max) = match (node.ty, node.format) {
            (Type::IntOrString, _) | (Type::Integer, Format::Int32) => {
                (i64::from(i32::MIN) as f64, i64::from(i32::MAX) as f64)
            }
            (Type::Integer, Format::Int64) => (i64::MIN as f64, i64::MAX as f64),
            _ => (f64::NEG_INFINITY, f64::INFINITY),
        };
        let Some(n) = v.as_f64() else { return };
        // Above i64::MAX, `n` rounds to i64::MAX as a float; the text says more.
        let exact_fit = match (node.ty, node.format) {
            (Type::Integer, Format::Int64) => !v.is_u64() || v.is_i64(),
            _ => true,
        };
        if n < min || n > max || !exact_fit {
            let expected = node.expected();
            let f = self.report(format!("{v} is out of range for this field"));
            f.expected = Some(expected);
            return;
        }
        if let Some(b) = &node.bounds {
            if let Some((m, exclusive)) = b.minimum
                && (n < m || exclusive && n == m)
            {
                let than = if exclusive { "more than" } else { "at least" };
                self.report(format!("{v} is too small: it must be {than} {m}"));
            }
            if let Some((m, exclusive)) = b.maximum
                && (n > m || exclusive && n == m)
            {
                let than = if exclusive { "less than" } else { "at most" };
                self.report(format!("{v} is too large: it must be {than} {m}"));
            }
        }
    }
}

/// Whether the API server reads `v` into an integer field. A whole float counts: the YAML
/// reader turns `3.0` and `1e3` into float64s, and its JSON writer prints them as `3` and
/// `1000`, which the decoder takes as integers (up to 1e21, where it switches to `1e+21`).
fn is_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) if n.is_i64() || n.is_u64() => true,
        Value::Number(n) => n
            .as_f64()
            .is_some_and(|f| f.fract() == 0.0 && f.abs() < 1e21),
        _ => false,
    }
}

fn type_hint(node: &Node, v: &Value) -> Option<String> {
    let text = v.as_str();
    match (node.ty, text) {
        (Type::Integer | Type::IntOrString | Type::Number, Some(s))
            if s.trim().parse::<f64>().is_ok() && node.ty != Type::IntOrString =>
        {
            Some(format!(
                "remove the quotes: the API server does not convert \"{s}\" to a number; in a template, drop `| quote` or `\"…\"` around the value"
            ))
        }
        (Type::Boolean, Some(s)) if matches!(s, "true" | "false" | "yes" | "no" | "on" | "off") => {
            Some(format!(
                "write true or false without quotes; \"{s}\" is a string"
            ))
        }
        (Type::String, None) if v.is_number() || v.is_boolean() => Some(format!(
            "quote the value: \"{v}\"; in a template, use `| quote` or `| tojson`"
        )),
        (Type::Integer | Type::IntOrString, None) if v.is_f64() => {
            Some("write a whole number".to_string())
        }
        (Type::Array, None) if v.is_object() => {
            Some("this field is a list: start each item with `- `".to_string())
        }
        (Type::Object, None) if v.is_array() => {
            Some("this field is an object: remove the `- ` in front of its fields".to_string())
        }
        _ => None,
    }
}

fn quantity_hint(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    const SUFFIXES: &[(&str, &[&str])] = &[
        ("kib", &["Ki"]),
        ("mib", &["Mi"]),
        ("gib", &["Gi"]),
        ("tib", &["Ti"]),
        ("kb", &["k", "Ki"]),
        ("mb", &["M", "Mi"]),
        ("gb", &["G", "Gi"]),
        ("tb", &["T", "Ti"]),
        ("ki", &["Ki"]),
        ("gi", &["Gi"]),
        ("ti", &["Ti"]),
    ];
    let suggestion = SUFFIXES.iter().find(|(suffix, _)| lower.ends_with(suffix));
    match suggestion {
        Some((suffix, right)) => {
            let number = s[..s.len() - suffix.len()].trim_end();
            let fixed: Vec<String> = right.iter().map(|r| format!("{number}{r}")).collect();
            format!(
                "suffixes are case-sensitive, with no B and no space: write {}",
                fixed.join(" or ")
            )
        }
        None => "write a number with an optional suffix (n u m k M G T P E, Ki Mi Gi Ti Pi Ei) and no spaces".to_string(),
    }
}

/// Where a field that is unknown here belongs: a near spelling, or a type one level down that
/// has a field of this name (a `resources:` indented one level too little).
fn misplaced_hint(schema: &Schema, node: &Node, key: &str) -> Option<String> {
    let near: Vec<&str> = node
        .properties
        .iter()
        .map(|(n, _)| n.as_ref())
        .filter(|n| close(n, key))
        .collect();
    if let Some(best) = near.first() {
        return Some(format!("did you mean `{best}`?"));
    }
    for (name, child) in &node.properties {
        let mut target = schema.node(*child);
        let mut list = false;
        if target.ty == Type::Array
            && let Some(item) = target.items
        {
            target = schema.node(item);
            list = true;
        }
        if target.property(key).is_some() {
            let place = if list {
                format!("each item of `{name}`")
            } else {
                format!("`{name}`")
            };
            return Some(format!(
                "`{key}` is a field of {place}: indent it one level deeper"
            ));
        }
    }
    let names: Vec<&str> = node.properties.iter().map(|(n, _)| n.as_ref()).collect();
    if names.is_empty() {
        return None;
    }
    let shown = if names.len() > 12 {
        format!("{}, …", names[..12].join(", "))
    } else {
        names.join(", ")
    };
    Some(format!("the fields here are: {shown}"))
}

/// Whether two names are one or two edits apart, or differ only in case.
pub(crate) fn close(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 2 || a.len().min(b.len()) < 4 {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}

#[cfg(test)]
mod tests {
    #[test]
    fn close_names() {
        assert!(super::close("replicas", "replica"));
        assert!(super::close("imagePullPolicy", "imagepullpolicy"));
        assert!(super::close("containers", "contianers"));
        assert!(!super::close("image", "name"));
        assert!(!super::close("ports", "env"));
    }

    #[test]
    fn keys_that_would_not_read_after_a_dot_are_quoted() {
        let mut path = "metadata.labels".to_string();
        super::push_key(&mut path, "app.kubernetes.io/name");
        assert_eq!(path, r#"metadata.labels["app.kubernetes.io/name"]"#);
        let mut path = String::new();
        super::push_key(&mut path, "spec");
        assert_eq!(path, "spec");
    }
}
