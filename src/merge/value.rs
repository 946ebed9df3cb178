//! [`Merged`]: a value together with the layers that set it.

use std::sync::Arc;

use indexmap::IndexMap;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::diag::Span;
use crate::yaml::{Node, NodeKind, Scalar, Tag};

/// One layer setting a value: where, and what it wrote there.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub(crate) struct Origin {
    #[serde(serialize_with = "arc_str")]
    pub(crate) file: Arc<str>,
    pub(crate) line: u32,
    pub(crate) column: u32,
    /// The value as this layer wrote it, shortened: `3`, `"a.example.com"`, `!append [2 items]`.
    pub(crate) wrote: String,
}

fn arc_str<S: Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

impl Origin {
    pub(crate) fn span(&self) -> Span {
        Span::new(self.file.to_string(), self.line, self.column)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum MValue {
    Scalar(Scalar),
    List(Vec<Merged>),
    Map(IndexMap<String, Merged>),
}

/// A merged value and its provenance: every layer that set it, in order, the last one winning.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Merged {
    pub(crate) value: MValue,
    pub(crate) origins: Vec<Origin>,
}

impl Merged {
    pub(crate) fn empty_map() -> Merged {
        Merged {
            value: MValue::Map(IndexMap::new()),
            origins: Vec::new(),
        }
    }

    pub(crate) fn map(&self) -> Option<&IndexMap<String, Merged>> {
        match &self.value {
            MValue::Map(m) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Merged> {
        self.map()?.get(key)
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            MValue::Scalar(Scalar::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The value at a JSON pointer.
    pub(crate) fn pointer(&self, pointer: &str) -> Option<&Merged> {
        let mut at = self;
        for raw in pointer.split('/').skip(1) {
            let seg = raw.replace("~1", "/").replace("~0", "~");
            at = match &at.value {
                MValue::Map(m) => m.get(&seg)?,
                MValue::List(l) => l.get(seg.parse::<usize>().ok()?)?,
                MValue::Scalar(_) => return None,
            };
        }
        Some(at)
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        match &self.value {
            MValue::Scalar(s) => crate::yaml::scalar_to_json(s),
            MValue::List(l) => serde_json::Value::Array(l.iter().map(Merged::to_json).collect()),
            MValue::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// The last layer that set this value.
    pub(crate) fn last_origin(&self) -> Option<&Origin> {
        self.origins.last()
    }
}

impl Serialize for Merged {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.value {
            MValue::Scalar(Scalar::Null) => s.serialize_unit(),
            MValue::Scalar(Scalar::Bool(b)) => s.serialize_bool(*b),
            MValue::Scalar(Scalar::Int(i)) => s.serialize_i64(*i),
            MValue::Scalar(Scalar::Uint(u)) => s.serialize_u64(*u),
            MValue::Scalar(Scalar::Float(f)) => s.serialize_f64(*f),
            MValue::Scalar(Scalar::Str(v)) => s.serialize_str(v),
            MValue::List(l) => {
                let mut seq = s.serialize_seq(Some(l.len()))?;
                for item in l {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            MValue::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// What a layer wrote, in a few characters, for `explain`.
pub(crate) fn shown(node: &Node) -> String {
    let tag = match node.tag {
        Some(Tag::Append) => "!append ",
        Some(Tag::Replace) => "!replace ",
        None => "",
    };
    let body = match &node.kind {
        NodeKind::Scalar(Scalar::Str(s)) => {
            let q = serde_json::to_string(s).unwrap_or_default();
            if q.chars().count() > 60 {
                format!("{}…\"", q.chars().take(58).collect::<String>())
            } else {
                q
            }
        }
        NodeKind::Scalar(s) => crate::yaml::scalar_to_json(s).to_string(),
        NodeKind::Seq(items)
            if items.len() <= 4 && items.iter().all(|i| matches!(i.kind, NodeKind::Scalar(_))) =>
        {
            format!(
                "[{}]",
                items.iter().map(shown).collect::<Vec<_>>().join(", ")
            )
        }
        NodeKind::Seq(items) => format!("[{} items]", items.len()),
        NodeKind::Map(m) => {
            let keys: Vec<&str> = m.iter().map(|(k, _, _)| k.as_str()).collect();
            if keys.len() <= 4 {
                format!("{{{}}}", keys.join(", "))
            } else {
                format!("{{{}, … {} keys}}", keys[..3].join(", "), keys.len())
            }
        }
    };
    // Most values carry no tag: one allocation, not two (a render makes one per origin).
    if tag.is_empty() {
        body
    } else {
        format!("{tag}{body}")
    }
}

/// Whether the origins of merged values keep what each layer wrote there ([`Origin::wrote`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wrote {
    /// Kept: `explain` shows it.
    Kept,
    /// Left empty. Nothing a render reports shows it, and making it for every node of every
    /// cluster is a large part of the merge.
    Skipped,
}

/// Merges one layer's node over `base`, following DESIGN.md's rules: maps merge deeply, scalars
/// and lists are replaced, `null` deletes, `!append` appends to a list, `!replace` replaces a map.
/// `None` means the key is deleted.
pub(crate) fn merge(
    base: Option<Merged>,
    node: &Node,
    file: &Arc<str>,
    wrote: Wrote,
) -> Option<Merged> {
    if node.is_null() {
        return None;
    }
    let origin = Origin {
        file: file.clone(),
        line: node.pos.line,
        column: node.pos.column,
        wrote: match wrote {
            Wrote::Kept => shown(node),
            Wrote::Skipped => String::new(),
        },
    };
    // Most values are set by one layer: room for one origin, not the four a first push makes.
    // (Every node of every cluster has its list: they are much of the memory a small change
    // touches for the first time.)
    let (mut origins, base) = match base {
        Some(b) => (b.origins, Some(b.value)),
        None => (Vec::with_capacity(1), None),
    };
    origins.push(origin);
    let value = match (&node.kind, base) {
        (NodeKind::Map(entries), Some(MValue::Map(mut map))) if node.tag != Some(Tag::Replace) => {
            for (key, _, child) in entries {
                if let Some(slot) = map.get_mut(key) {
                    let prev = std::mem::replace(slot, Merged::empty_map());
                    match merge(Some(prev), child, file, wrote) {
                        Some(m) => *slot = m,
                        None => {
                            map.shift_remove(key);
                        }
                    }
                } else if let Some(m) = merge(None, child, file, wrote) {
                    map.insert(key.clone(), m);
                }
            }
            MValue::Map(map)
        }
        (NodeKind::Map(entries), _) => {
            let mut map = IndexMap::new();
            for (key, _, child) in entries {
                if let Some(m) = merge(None, child, file, wrote) {
                    map.insert(key.clone(), m);
                }
            }
            MValue::Map(map)
        }
        (NodeKind::Seq(items), Some(MValue::List(mut list))) if node.tag == Some(Tag::Append) => {
            list.extend(items.iter().filter_map(|i| fresh(i, file, wrote)));
            MValue::List(list)
        }
        (NodeKind::Seq(items), _) => {
            MValue::List(items.iter().filter_map(|i| fresh(i, file, wrote)).collect())
        }
        (NodeKind::Scalar(s), _) => MValue::Scalar(s.clone()),
    };
    Some(Merged { value, origins })
}

/// A node of a list: list items are values, so `null` stays `null` there.
fn fresh(node: &Node, file: &Arc<str>, wrote: Wrote) -> Option<Merged> {
    if node.is_null() {
        return Some(Merged {
            value: MValue::Scalar(Scalar::Null),
            origins: vec![Origin {
                file: file.clone(),
                line: node.pos.line,
                column: node.pos.column,
                wrote: "null".into(),
            }],
        });
    }
    merge(None, node, file, wrote)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_one;

    fn layers(texts: &[&str]) -> serde_json::Value {
        let mut m: Option<Merged> = None;
        for (i, t) in texts.iter().enumerate() {
            let file: Arc<str> = Arc::from(format!("l{i}.yaml"));
            m = merge(m, &parse_one(t).unwrap(), &file, Wrote::Kept);
        }
        m.map(|m| m.to_json()).unwrap_or(serde_json::Value::Null)
    }

    #[test]
    fn maps_merge_deeply() {
        let j = layers(&["a: {b: 1, c: 2}", "a: {c: 3, d: 4}"]);
        assert_eq!(j, serde_json::json!({"a": {"b": 1, "c": 3, "d": 4}}));
    }

    #[test]
    fn lists_and_scalars_are_replaced() {
        let j = layers(&["l: [1, 2]\ns: x", "l: [3]\ns: y"]);
        assert_eq!(j, serde_json::json!({"l": [3], "s": "y"}));
    }

    #[test]
    fn null_deletes() {
        let j = layers(&["a: {b: 1, c: 2}", "a: {b: null}"]);
        assert_eq!(j, serde_json::json!({"a": {"c": 2}}));
    }

    #[test]
    fn append_appends_and_replace_replaces() {
        let j = layers(&[
            "l: [1]\nm: {a: 1, b: 2}",
            "l: !append [2]\nm: !replace {c: 3}",
        ]);
        assert_eq!(j, serde_json::json!({"l": [1, 2], "m": {"c": 3}}));
    }

    #[test]
    fn append_without_an_inherited_list_starts_one() {
        let j = layers(&["x: 1", "l: !append [2]"]);
        assert_eq!(j, serde_json::json!({"x": 1, "l": [2]}));
    }

    #[test]
    fn key_order_is_the_first_layers() {
        let j = layers(&["b: 1\na: 1", "a: 2\nc: 3"]);
        let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["b", "a", "c"]);
    }

    #[test]
    fn provenance_records_every_layer_in_order() {
        let mut m = None;
        for (i, t) in ["r: 1", "x: 0", "r: 2", "r: 3"].iter().enumerate() {
            let file: Arc<str> = Arc::from(format!("l{i}.yaml"));
            m = merge(m, &parse_one(t).unwrap(), &file, Wrote::Kept);
        }
        let m = m.unwrap();
        let r = m.get("r").unwrap();
        let chain: Vec<(String, String)> = r
            .origins
            .iter()
            .map(|o| (o.file.to_string(), o.wrote.clone()))
            .collect();
        assert_eq!(
            chain,
            [
                ("l0.yaml".into(), "1".into()),
                ("l2.yaml".into(), "2".into()),
                ("l3.yaml".into(), "3".into())
            ]
        );
    }
}
