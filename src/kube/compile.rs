//! Turns JSON Schema text (the embedded built-in definitions, or a CRD's `openAPIV3Schema`)
//! into [`Node`]s.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::schema::{Bounds, Extra, Format, Node, NodeId, Schema, Type};

/// Which dialect is compiled: they differ in what an object without properties means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// The built-in definitions: an object without properties is free-form (`RawExtension`).
    BuiltIn,
    /// A structural CRD schema: an object without properties keeps no field unless it says
    /// `x-kubernetes-preserve-unknown-fields`; the API server prunes the rest.
    Crd,
}

pub(crate) struct Compiler<'a> {
    pub(crate) schema: &'a mut Schema,
    /// The node of each definition, for `$ref`.
    pub(crate) refs: &'a BTreeMap<String, NodeId>,
    pub(crate) dialect: Dialect,
}

fn flag(map: &Map<String, Value>, key: &str) -> bool {
    map.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn count(map: &Map<String, Value>, key: &str) -> Option<u64> {
    map.get(key).and_then(Value::as_u64)
}

impl Compiler<'_> {
    /// Compiles `v` into a new node, or the node of the definition it refers to.
    pub(crate) fn node(&mut self, v: &Value) -> NodeId {
        if let Some(name) = v.get("$ref").and_then(Value::as_str) {
            if let Some(&id) = self.refs.get(name) {
                return id;
            }
            return self.schema.push(Node::of(Type::Any));
        }
        let node = self.build(v);
        self.schema.push(node)
    }

    /// Builds the node of `v` without adding it, so that a definition can fill the slot its
    /// references already point to.
    pub(crate) fn build(&mut self, v: &Value) -> Node {
        let Some(map) = v.as_object() else {
            // `true`, or something that is not a schema: nothing to check.
            return Node::of(Type::Any);
        };
        let format = map.get("format").and_then(Value::as_str).unwrap_or("");
        let preserve = flag(map, "x-kubernetes-preserve-unknown-fields");
        let ty = match (map.get("type").and_then(Value::as_str), format) {
            (_, "int-or-string") => Type::IntOrString,
            (_, "quantity") => Type::Quantity,
            _ if flag(map, "x-kubernetes-int-or-string") => Type::IntOrString,
            (Some("string"), _) => Type::String,
            (Some("integer"), _) => Type::Integer,
            (Some("number"), _) => Type::Number,
            (Some("boolean"), _) => Type::Boolean,
            (Some("array"), _) => Type::Array,
            (Some("object"), _) => Type::Object,
            _ if map.contains_key("properties") => Type::Object,
            _ => Type::Any,
        };
        let mut node = Node::of(ty);
        node.embedded = flag(map, "x-kubernetes-embedded-resource");
        node.format = match (ty, format) {
            (Type::Integer, "int32") => Format::Int32,
            (Type::Integer, "int64") => Format::Int64,
            (Type::String, "byte") => Format::Byte,
            (Type::String, "date-time") => Format::DateTime,
            _ => Format::None,
        };
        if ty == Type::Object || (ty == Type::Any && node.embedded) {
            self.object(map, &mut node, preserve);
        }
        if ty == Type::Array {
            if let Some(items) = map.get("items") {
                node.items = Some(self.node(items));
            }
            let list_type = map.get("x-kubernetes-list-type").and_then(Value::as_str);
            node.set = list_type == Some("set");
            if list_type == Some("map") {
                node.map_keys = strings(map.get("x-kubernetes-list-map-keys"));
            }
        }
        if let Some(Value::Array(values)) = map.get("enum") {
            node.enumeration = values.clone();
        }
        if self.dialect == Dialect::Crd {
            self.crd_constraints(map, &mut node);
        }
        node
    }

    fn object(&mut self, map: &Map<String, Value>, node: &mut Node, preserve: bool) {
        if let Some(Value::Object(props)) = map.get("properties") {
            let mut properties: Vec<(Box<str>, NodeId)> = props
                .iter()
                .map(|(name, v)| (name.as_str().into(), self.node(v)))
                .collect();
            properties.sort_by(|a, b| a.0.cmp(&b.0));
            node.properties = properties;
        }
        node.required = strings(map.get("required"));
        node.extra = match map.get("additionalProperties") {
            Some(Value::Bool(false)) => Extra::Closed,
            Some(Value::Bool(true)) => Extra::Open,
            Some(schema @ Value::Object(_)) => Extra::Each(self.node(schema)),
            _ if preserve => Extra::Open,
            _ if !node.properties.is_empty() || self.dialect == Dialect::Crd => Extra::Closed,
            _ => {
                node.ty = Type::Any;
                Extra::Open
            }
        };
    }

    fn crd_constraints(&mut self, map: &Map<String, Value>, node: &mut Node) {
        if let Some(p) = map.get("pattern").and_then(Value::as_str) {
            // An expression the regex crate does not take is left unchecked rather than
            // refusing objects the API server (Go's RE2) would accept.
            node.pattern = regex::Regex::new(p).ok().map(Box::new);
        }
        let number = |key: &str| map.get(key).and_then(Value::as_f64);
        let bounds = Bounds {
            minimum: number("minimum").map(|m| (m, flag(map, "exclusiveMinimum"))),
            maximum: number("maximum").map(|m| (m, flag(map, "exclusiveMaximum"))),
            min_length: count(map, "minLength"),
            max_length: count(map, "maxLength"),
            min_items: count(map, "minItems"),
            max_items: count(map, "maxItems"),
            min_properties: count(map, "minProperties"),
            max_properties: count(map, "maxProperties"),
        };
        if bounds != Bounds::default() {
            node.bounds = Some(Box::new(bounds));
        }
    }
}

fn strings(v: Option<&Value>) -> Vec<Box<str>> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(Into::into)
            .collect(),
        _ => Vec::new(),
    }
}
