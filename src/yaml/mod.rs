//! YAML with positions, tags and limits.
//!
//! strata reads YAML written by people it does not trust, and every error must name a file and
//! line. serde-based loaders lose both the position and the `!append`/`!replace` tags, so this
//! module builds its own tree from saphyr's event stream. Doing so also puts the resource limits
//! in one place: alias expansion and nesting depth are counted here, before any memory is spent.

use std::collections::BTreeMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};

pub(crate) mod canonical;
pub mod fast;
pub mod scalar;
mod write;

pub(crate) use canonical::{canonical, canonicalize};
pub(crate) use write::{to_yaml, to_yaml_canonical, write};

/// The most nodes that aliases may add to one file. A "billion laughs" file stops here.
/// A scalar counts one node per [`ALIAS_BYTES_PER_NODE`] bytes of its text, so one long string
/// aliased many times stops here too.
pub(crate) const MAX_ALIAS_NODES: usize = 100_000;
/// The bytes of scalar text that count as one more node towards [`MAX_ALIAS_NODES`].
pub(crate) const ALIAS_BYTES_PER_NODE: usize = 64;
/// The deepest nesting of maps and lists accepted in one file.
pub(crate) const MAX_DEPTH: usize = 128;

/// A position in a file: 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Pos {
    pub(crate) line: u32,
    pub(crate) column: u32,
}

/// A tag strata understands on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tag {
    /// `!append`: append this list to the inherited one.
    Append,
    /// `!replace`: replace the inherited map instead of merging into it.
    Replace,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer beyond int64: only in text read as Kubernetes reads it.
    Uint(u64),
    Float(f64),
    Str(String),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Keys in document order, each with the position of the key itself.
    Map(Vec<(String, Pos, Node)>),
}

/// One YAML node with the position where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub(crate) kind: NodeKind,
    pub(crate) pos: Pos,
    pub(crate) tag: Option<Tag>,
    /// How many nodes this one holds, itself included: what an alias to it would cost.
    size: usize,
}

impl Node {
    pub(crate) fn scalar(s: Scalar, pos: Pos) -> Node {
        let text = match &s {
            Scalar::Str(text) => text.len(),
            _ => 0,
        };
        Node {
            kind: NodeKind::Scalar(s),
            pos,
            tag: None,
            size: 1 + text / ALIAS_BYTES_PER_NODE,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Scalar(Scalar::Null))
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(Scalar::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_map(&self) -> Option<&[(String, Pos, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The value under `key` of a map node.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, v)| v)
    }

    /// The node at a JSON pointer (`/a/0/b`), for mapping schema errors back to lines.
    pub(crate) fn pointer(&self, pointer: &str) -> Option<&Node> {
        let mut node = self;
        for raw in pointer.split('/').skip(1) {
            let seg = raw.replace("~1", "/").replace("~0", "~");
            node = match &node.kind {
                NodeKind::Map(m) => m.iter().find(|(k, _, _)| *k == seg).map(|(_, _, v)| v)?,
                NodeKind::Seq(items) => items.get(seg.parse::<usize>().ok()?)?,
                NodeKind::Scalar(_) => return None,
            };
        }
        Some(node)
    }

    /// A short name for the kind of value, for messages: "a map", "a list", "a string".
    pub(crate) fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Map(_) => "a map",
            NodeKind::Seq(_) => "a list",
            NodeKind::Scalar(Scalar::Null) => "null",
            NodeKind::Scalar(Scalar::Bool(_)) => "a boolean",
            NodeKind::Scalar(Scalar::Int(_) | Scalar::Uint(_)) => "an integer",
            NodeKind::Scalar(Scalar::Float(_)) => "a number",
            NodeKind::Scalar(Scalar::Str(_)) => "a string",
        }
    }

    /// The plain JSON value of this node, tags dropped.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.kind {
            NodeKind::Scalar(s) => scalar_to_json(s),
            NodeKind::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(m) => {
                J::Object(m.iter().map(|(k, _, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// Like [`Node::to_json`], moving the strings instead of copying them.
    pub fn into_json(self) -> serde_json::Value {
        use serde_json::Value as J;
        match self.kind {
            NodeKind::Scalar(Scalar::Str(s)) => J::String(s),
            NodeKind::Scalar(s) => scalar_to_json(&s),
            NodeKind::Seq(items) => J::Array(items.into_iter().map(Node::into_json).collect()),
            NodeKind::Map(m) => {
                J::Object(m.into_iter().map(|(k, _, v)| (k, v.into_json())).collect())
            }
        }
    }
}

pub(crate) fn scalar_to_json(s: &Scalar) -> serde_json::Value {
    use serde_json::Value as J;
    match s {
        Scalar::Null => J::Null,
        Scalar::Bool(b) => J::Bool(*b),
        Scalar::Int(i) => J::from(*i),
        Scalar::Uint(u) => J::from(*u),
        Scalar::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .unwrap_or_else(|| J::String(f.to_string())),
        Scalar::Str(s) => J::String(s.clone()),
    }
}

/// Why a YAML text could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub(crate) message: String,
    pub(crate) pos: Pos,
    pub(crate) hint: Option<String>,
}

impl YamlError {
    fn new(pos: Pos, message: impl Into<String>) -> YamlError {
        YamlError {
            message: message.into(),
            pos,
            hint: None,
        }
    }

    fn with_hint(mut self, hint: impl Into<String>) -> YamlError {
        self.hint = Some(hint.into());
        self
    }
}

fn pos_of(span: &YSpan) -> Pos {
    Pos {
        line: u32::try_from(span.start.line()).unwrap_or(u32::MAX),
        column: u32::try_from(span.start.col() + 1).unwrap_or(u32::MAX),
    }
}

/// Parses every document of a YAML stream. An empty stream gives no documents.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    parse_with(text, Builder::default())
}

fn parse_with(text: &str, mut builder: Builder) -> Result<Vec<Node>, YamlError> {
    parse_with_builder(text, &mut builder)
}

fn parse_with_builder(text: &str, builder: &mut Builder) -> Result<Vec<Node>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            let m = e.marker();
            if e.info().contains("recursion limit") {
                return YamlError::new(
                    Pos {
                        line: u32::try_from(m.line()).unwrap_or(u32::MAX),
                        column: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
                    },
                    format!("YAML nested deeper than {MAX_DEPTH} levels"),
                )
                .with_hint("flatten the structure; no configuration needs this depth");
            }
            YamlError::new(
                Pos {
                    line: u32::try_from(m.line()).unwrap_or(u32::MAX),
                    column: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
                },
                format!("invalid YAML: {}", e.info()),
            )
            .with_hint("check the indentation and quoting near this position")
        })?;
        builder.event(event, &span)?;
    }
    Ok(std::mem::take(&mut builder.docs))
}

/// The documents of a YAML stream as JSON, tags and positions dropped, read as Kubernetes
/// reads them ([`scalar`]: YAML 1.1 booleans and octals, exact big integers, `<<` merge keys):
/// what strata needs of the text a template, a command or a chart renders. Plain block YAML is
/// read by a fast path; anything else, and every error, by the full parser.
pub(crate) fn documents_json(text: &str) -> Result<Vec<serde_json::Value>, YamlError> {
    if let Some(docs) = fast::documents(text) {
        return Ok(docs);
    }
    Ok(parse_kubernetes(text)?
        .into_iter()
        .map(Node::into_json)
        .collect())
}

/// Like [`parse_documents`], with scalars, keys and merge keys read as Kubernetes reads them.
pub(crate) fn parse_kubernetes(text: &str) -> Result<Vec<Node>, YamlError> {
    parse_with(
        text,
        Builder {
            kubernetes: true,
            ..Builder::default()
        },
    )
}

/// A plain scalar of strata's own files that Kubernetes' reader would read as something else:
/// `yes` (a string here, `true` there), `0400` (400 here, 256 there).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Difference {
    pub(crate) pos: Pos,
    pub(crate) text: String,
    /// What strata reads, and what Kubernetes would, as JSON.
    pub(crate) strata: serde_json::Value,
    pub(crate) kubernetes: serde_json::Value,
}

/// Like [`parse_one`], with the plain scalars that Kubernetes would read otherwise.
pub(crate) fn parse_one_noting(text: &str) -> Result<(Node, Vec<Difference>), YamlError> {
    let mut builder = Builder {
        note_differences: true,
        ..Builder::default()
    };
    let docs = parse_with_builder(text, &mut builder)?;
    Ok((
        one_document(docs)?,
        std::mem::take(&mut builder.differences),
    ))
}

/// Parses a text that must hold exactly one document. An empty text is an empty map.
pub fn parse_one(text: &str) -> Result<Node, YamlError> {
    one_document(parse_documents(text)?)
}

fn one_document(mut docs: Vec<Node>) -> Result<Node, YamlError> {
    match docs.len() {
        0 => Ok(Node {
            kind: NodeKind::Map(Vec::new()),
            pos: Pos { line: 1, column: 1 },
            tag: None,
            size: 1,
        }),
        1 => Ok(docs.remove(0)),
        _ => Err(
            YamlError::new(docs[1].pos, "this file holds more than one YAML document")
                .with_hint("remove the `---` separator: this file is one document"),
        ),
    }
}

enum Open {
    Seq {
        items: Vec<Node>,
        pos: Pos,
        tag: Option<Tag>,
        anchor: usize,
        size: usize,
    },
    Map {
        entries: Vec<(String, Pos, Node)>,
        pending_key: Option<(String, Pos)>,
        /// The key just read is a `<<` merge key (Kubernetes reading only).
        pending_merge: bool,
        /// The values of its `<<` keys, merged in when the map ends.
        merges: Vec<Node>,
        pos: Pos,
        tag: Option<Tag>,
        anchor: usize,
        size: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    docs: Vec<Node>,
    anchors: BTreeMap<usize, Node>,
    alias_nodes: usize,
    /// Read scalars, keys and `<<` as Kubernetes does ([`scalar`]), not as YAML 1.2 core.
    kubernetes: bool,
    /// Note the plain scalars that Kubernetes would read otherwise, in `differences`.
    note_differences: bool,
    differences: Vec<Difference>,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, span: &YSpan) -> Result<(), YamlError> {
        let pos = pos_of(span);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => self.anchors.clear(),
            Event::DocumentEnd => {}
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id) else {
                    return Err(YamlError::new(
                        pos,
                        "this alias refers to an unknown anchor",
                    ));
                };
                self.alias_nodes = self.alias_nodes.saturating_add(node.size);
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(YamlError::new(
                        pos,
                        format!(
                            "YAML aliases expand to more than {MAX_ALIAS_NODES} nodes in this file"
                        ),
                    )
                    .with_hint(
                        "this looks like an alias bomb; write the values out or use fewer nested aliases",
                    ));
                }
                let mut node = node.clone();
                node.pos = pos;
                self.finish(node)?;
            }
            Event::Scalar(value, style, anchor, tag) => {
                let tag_name = tag.as_ref().map(|t| format!("{}{}", t.handle, t.suffix));
                let (strata_tag, core) = classify_tag(tag_name.as_deref(), pos)?;
                if strata_tag.is_some() {
                    return Err(YamlError::new(
                        pos,
                        format!(
                            "the tag {} belongs on a list or a map, not on a single value",
                            tag_name.unwrap_or_default()
                        ),
                    ));
                }
                let scalar = match core.as_deref() {
                    Some("str") => Scalar::Str(value.into_owned()),
                    _ if style != ScalarStyle::Plain => Scalar::Str(value.into_owned()),
                    _ if self.kubernetes => {
                        if value == "<<" && self.awaits_key() {
                            self.merge_key(pos)?;
                            return Ok(());
                        }
                        kubernetes_scalar(&value, pos)?
                    }
                    _ => {
                        let core = resolve_plain(&value);
                        if self.note_differences {
                            self.note(&value, &core, pos);
                        }
                        core
                    }
                };
                let node = Node::scalar(scalar, pos);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.finish(node)?;
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_depth(pos)?;
                let name = tag.as_ref().map(|t| format!("{}{}", t.handle, t.suffix));
                let (tag, _) = classify_tag(name.as_deref(), pos)?;
                if tag == Some(Tag::Replace) {
                    return Err(YamlError::new(
                        pos,
                        "!replace belongs on a map; a list is always replaced",
                    )
                    .with_hint("remove !replace, or use !append to add to the inherited list"));
                }
                self.stack.push(Open::Seq {
                    items: Vec::new(),
                    pos,
                    tag,
                    anchor,
                    size: 1,
                });
            }
            Event::MappingStart(anchor, tag) => {
                self.check_depth(pos)?;
                let name = tag.as_ref().map(|t| format!("{}{}", t.handle, t.suffix));
                let (tag, _) = classify_tag(name.as_deref(), pos)?;
                if tag == Some(Tag::Append) {
                    return Err(
                        YamlError::new(pos, "!append belongs on a list, not on a map").with_hint(
                            "maps merge by default; use !replace to replace the inherited map",
                        ),
                    );
                }
                self.stack.push(Open::Map {
                    entries: Vec::new(),
                    pending_key: None,
                    pending_merge: false,
                    merges: Vec::new(),
                    pos,
                    tag,
                    anchor,
                    size: 1,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (kind, pos, tag, anchor, size) = match self.stack.pop() {
                    Some(Open::Seq {
                        items,
                        pos,
                        tag,
                        anchor,
                        size,
                    }) => (NodeKind::Seq(items), pos, tag, anchor, size),
                    Some(Open::Map {
                        mut entries,
                        merges,
                        pos,
                        tag,
                        anchor,
                        size,
                        ..
                    }) => {
                        merge_into(&mut entries, merges)?;
                        (NodeKind::Map(entries), pos, tag, anchor, size)
                    }
                    None => return Ok(()),
                };
                let node = Node {
                    kind,
                    pos,
                    tag,
                    size,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.finish(node)?;
            }
        }
        Ok(())
    }

    /// Notes `text` if Kubernetes would read it as other than `core`.
    fn note(&mut self, text: &str, core: &Scalar, pos: Pos) {
        let strata = scalar_to_json(core);
        let kubernetes = match kubernetes_scalar(text, pos) {
            Ok(k) => scalar_to_json(&k),
            Err(_) => serde_json::Value::String(format!("an error ({text} is not a JSON number)")),
        };
        // `1.0` and `1` are the same JSON number.
        let same = strata == kubernetes
            || strata.as_f64().is_some() && strata.as_f64() == kubernetes.as_f64();
        if !same {
            self.differences.push(Difference {
                pos,
                text: text.to_string(),
                strata,
                kubernetes,
            });
        }
    }

    /// Whether the next node of the innermost map is a key.
    fn awaits_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Open::Map {
                pending_key: None,
                pending_merge: false,
                ..
            })
        )
    }

    /// A plain `<<` where a key goes: the next node is merged into the map.
    fn merge_key(&mut self, pos: Pos) -> Result<(), YamlError> {
        if let Some(Open::Map {
            pending_merge,
            merges,
            ..
        }) = self.stack.last_mut()
        {
            if !merges.is_empty() {
                return Err(YamlError::new(pos, "a second `<<` merge key in one map")
                    .with_hint("merge several maps with one key: `<<: [*a, *b]`"));
            }
            *pending_merge = true;
        }
        Ok(())
    }

    fn check_depth(&self, pos: Pos) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(
                YamlError::new(pos, format!("YAML nested deeper than {MAX_DEPTH} levels"))
                    .with_hint("flatten the structure; no configuration needs this depth"),
            );
        }
        Ok(())
    }

    /// Hands a finished node to its parent, or ends a document.
    fn finish(&mut self, node: Node) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Open::Seq { items, size, .. }) => {
                *size = size.saturating_add(node.size);
                items.push(node);
            }
            Some(Open::Map {
                entries,
                pending_key,
                pending_merge,
                merges,
                size,
                ..
            }) => match pending_key.take() {
                None if *pending_merge => {
                    *pending_merge = false;
                    *size = size.saturating_add(node.size);
                    merges.push(node);
                }
                None => {
                    let key = match &node.kind {
                        NodeKind::Scalar(Scalar::Float(f)) if self.kubernetes => {
                            scalar::go_format_float(*f)
                        }
                        NodeKind::Scalar(Scalar::Null) if self.kubernetes => {
                            return Err(YamlError::new(
                                node.pos,
                                "a map key that is null: Kubernetes refuses the document (unsupported map key of type <nil>)",
                            )
                            .with_hint("quote the key (\"~\", \"null\") or give it a name"));
                        }
                        NodeKind::Scalar(s) => key_text(s.clone()),
                        _ => {
                            return Err(YamlError::new(
                                node.pos,
                                format!("a map key must be a plain value, not {}", node.describe()),
                            ));
                        }
                    };
                    if let Some((_, first, _)) = entries.iter().find(|(k, _, _)| *k == key) {
                        return Err(YamlError::new(
                            node.pos,
                            format!("duplicate key `{key}` (first set on line {})", first.line),
                        )
                        .with_hint("remove one of the two; YAML would silently keep only one"));
                    }
                    // A key is text an alias to this map copies too.
                    *size = size.saturating_add(node.size);
                    *pending_key = Some((key, node.pos));
                }
                Some((key, key_pos)) => {
                    *size = size.saturating_add(node.size);
                    entries.push((key, key_pos, node));
                }
            },
        }
        Ok(())
    }
}

/// A plain scalar as Kubernetes reads it ([`scalar::resolve`]). A whole float within 2^53 is
/// the integer it equals, as the JSON Kubernetes makes of it prints it.
fn kubernetes_scalar(text: &str, pos: Pos) -> Result<Scalar, YamlError> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    Ok(match scalar::resolve(text, scalar::Style::Plain) {
        scalar::Meaning::Null => Scalar::Null,
        scalar::Meaning::Bool(b) => Scalar::Bool(b),
        scalar::Meaning::Int(i) => Scalar::Int(i),
        scalar::Meaning::BigInt(u) => Scalar::Uint(u),
        scalar::Meaning::Float(f) if f.fract() == 0.0 && f.abs() <= EXACT => Scalar::Int(f as i64),
        scalar::Meaning::Float(f) => Scalar::Float(f),
        scalar::Meaning::Str(s) => Scalar::Str(s),
        scalar::Meaning::NotJson(what) => {
            return Err(YamlError::new(
                pos,
                format!("`{text}` is the float {what}, which JSON cannot hold: kubectl and the API server refuse the document"),
            )
            .with_hint(format!("quote it (\"{text}\") if it is text, or write a finite number")));
        }
    })
}

/// Merges the values of a map's `<<` keys into its entries, as Kubernetes' reader does: the
/// map's own keys win, and of a list of maps, the earlier map wins.
fn merge_into(entries: &mut Vec<(String, Pos, Node)>, merges: Vec<Node>) -> Result<(), YamlError> {
    for merge in merges {
        let maps = match merge.kind {
            NodeKind::Map(m) => vec![m],
            NodeKind::Seq(items) => {
                let mut maps = Vec::new();
                for item in items {
                    match item.kind {
                        NodeKind::Map(m) => maps.push(m),
                        _ => {
                            return Err(YamlError::new(
                                item.pos,
                                format!("`<<` merges maps, and this item is {}", item.describe()),
                            ));
                        }
                    }
                }
                maps
            }
            _ => {
                return Err(YamlError::new(
                    merge.pos,
                    format!(
                        "`<<` merges a map or a list of maps, not {}",
                        merge.describe()
                    ),
                )
                .with_hint("quote the key (\"<<\") if it is a field of its own"));
            }
        };
        for map in maps {
            for (key, pos, value) in map {
                if !entries.iter().any(|(k, _, _)| *k == key) {
                    entries.push((key, pos, value));
                }
            }
        }
    }
    Ok(())
}

/// The text a scalar map key stands for: `1: x` and `"1": x` name the same key.
fn key_text(key: Scalar) -> String {
    match key {
        Scalar::Str(s) => s,
        Scalar::Int(i) => i.to_string(),
        Scalar::Uint(u) => u.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Null => "null".to_string(),
    }
}

/// Splits a tag into strata's own (`!append`, `!replace`) and YAML core ones (`!!str`).
fn classify_tag(tag: Option<&str>, pos: Pos) -> Result<(Option<Tag>, Option<String>), YamlError> {
    let Some(tag) = tag else {
        return Ok((None, None));
    };
    match tag {
        "!append" => Ok((Some(Tag::Append), None)),
        "!replace" => Ok((Some(Tag::Replace), None)),
        _ => {
            if let Some(core) = tag.strip_prefix("tag:yaml.org,2002:") {
                Ok((None, Some(core.to_string())))
            } else {
                Err(YamlError::new(pos, format!("unknown YAML tag `{tag}`"))
                    .with_hint("strata understands !append on lists and !replace on maps"))
            }
        }
    }
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(s: &str) -> Scalar {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        _ => {}
    }
    if let Some(i) = s
        .strip_prefix("0x")
        .and_then(|h| i64::from_str_radix(h, 16).ok())
    {
        return Scalar::Int(i);
    }
    if let Some(i) = s
        .strip_prefix("0o")
        .and_then(|o| i64::from_str_radix(o, 8).ok())
    {
        return Scalar::Int(i);
    }
    let bytes = s.as_bytes();
    let digits = bytes
        .strip_prefix(b"-")
        .or_else(|| bytes.strip_prefix(b"+"))
        .unwrap_or(bytes);
    let integer = !digits.is_empty() && digits.iter().all(u8::is_ascii_digit);
    if let Some(i) = integer.then(|| s.parse::<i64>().ok()).flatten() {
        return Scalar::Int(i);
    }
    if let Some(f) = looks_like_float(digits)
        .then(|| s.parse::<f64>().ok())
        .flatten()
    {
        return Scalar::Float(f);
    }
    Scalar::Str(s.to_string())
}

/// `[0-9]*(\.[0-9]*)?([eE][-+]?[0-9]+)?` with at least one digit, as YAML 1.2 core says.
fn looks_like_float(s: &[u8]) -> bool {
    let mut i = 0;
    let mut digits = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return false;
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        i += 1;
        if i < s.len() && (s[i] == b'-' || s[i] == b'+') {
            i += 1;
        }
        let start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        parse_one(text).unwrap()
    }

    #[test]
    fn scalars_resolve_as_yaml_1_2_core() {
        let n = one("a: 1\nb: 1.5\nc: true\nd: ~\ne: yes\nf: '1'\ng: 0x10\nh: 1e3\ni: 1.2.3\n");
        let j = n.to_json();
        assert_eq!(j["a"], 1);
        assert_eq!(j["b"], 1.5);
        assert_eq!(j["c"], true);
        assert!(j["d"].is_null());
        assert_eq!(j["e"], "yes");
        assert_eq!(j["f"], "1");
        assert_eq!(j["g"], 16);
        assert_eq!(j["h"], 1000.0);
        assert_eq!(j["i"], "1.2.3");
    }

    #[test]
    fn positions_are_one_based() {
        let n = one("a:\n  b: 3\n");
        let b = n.pointer("/a/b").unwrap();
        assert_eq!(b.pos, Pos { line: 2, column: 6 });
    }

    #[test]
    fn strata_tags_are_kept() {
        let n = one("l: !append [1]\nm: !replace {a: 1}\n");
        assert_eq!(n.get("l").unwrap().tag, Some(Tag::Append));
        assert_eq!(n.get("m").unwrap().tag, Some(Tag::Replace));
    }

    #[test]
    fn append_on_a_map_is_an_error() {
        let e = parse_one("m: !append {a: 1}\n").unwrap_err();
        assert_eq!(e.message, "!append belongs on a list, not on a map");
        assert_eq!(e.pos.line, 1);
    }

    #[test]
    fn unknown_tags_are_errors() {
        let e = parse_one("m: !include /etc/passwd\n").unwrap_err();
        assert_eq!(e.message, "unknown YAML tag `!include`");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = parse_one("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.message, "duplicate key `a` (first set on line 1)");
        assert_eq!(e.pos.line, 3);
    }

    #[test]
    fn an_alias_bomb_stops_early() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let started = std::time::Instant::now();
        let e = parse_one(&text).unwrap_err();
        assert!(
            e.message.contains("aliases expand to more than"),
            "{}",
            e.message
        );
        assert!(started.elapsed().as_secs() < 2);
    }

    #[test]
    fn a_long_string_aliased_many_times_is_an_alias_bomb() {
        let text = format!(
            "s: &s {}\nl: [{}]\n",
            "x".repeat(10_000),
            "*s, ".repeat(1_000)
        );
        let e = parse_one(&text).unwrap_err();
        assert!(
            e.message.contains("aliases expand to more than"),
            "{}",
            e.message
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let e = parse_one(&text).unwrap_err();
        assert_eq!(e.message, "YAML nested deeper than 128 levels");
    }

    #[test]
    fn malformed_yaml_names_the_line() {
        let e = parse_one("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(e.message.starts_with("invalid YAML:"), "{}", e.message);
        assert!(e.pos.line >= 2, "{:?}", e.pos);
    }

    #[test]
    fn several_documents() {
        let docs = parse_documents("a: 1\n---\nb: 2\n---\n").unwrap();
        assert_eq!(docs.len(), 3);
        assert!(docs[2].is_null(), "a trailing --- starts an empty document");
        assert!(parse_one("a: 1\n---\nb: 2\n").is_err());
    }
}
