//! The minijinja environment of one component: strict undefined, strata's filters, and a
//! loader that can reach only the component's own templates and `components/_lib/`.
//!
//! Memory is bounded by two budgets. minijinja's fuel charges every instruction and every
//! byte of text the engine builds (`*`, `~`, `+`, `join`, `replace`, `indent`, literals,
//! lists), and checks the size of an allocation it can foresee against what is left before
//! it makes it: one fuel pays for [`BYTES_PER_FUEL`] bytes. strata's own filters (`toyaml`,
//! `tojson`, `b64encode`, `sha256`, `quote`) and `string`, which would otherwise walk a value of
//! any size (a list repeated lazily costs no fuel), stop at [`MAX_VALUE_BYTES`]; so do
//! minijinja's built-ins that turn a list or map into text (`super::builtins`) and the operators
//! `~` and `in` (`super::operators`).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};

/// Template execution budget: minijinja's fuel, one unit per instruction and one per
/// [`BYTES_PER_FUEL`] bytes of text or list the template builds. A template that loops or
/// builds past it is stopped with an error instead of running forever or filling memory.
pub(crate) const TEMPLATE_FUEL: u64 = 500_000;
/// How many bytes one unit of minijinja's fuel pays for (its `UNITS_PER_FUEL`).
pub(crate) const BYTES_PER_FUEL: u64 = 64;
/// How deep includes, macros and recursion may nest.
pub(crate) const TEMPLATE_RECURSION: usize = 64;
/// The most text one template may render.
pub(crate) const MAX_RENDERED_BYTES: usize = 16 * 1024 * 1024;
/// The most text one call of strata's filters (or `string`) may make or read: no value larger
/// than a template may render is of use in one.
pub(crate) const MAX_VALUE_BYTES: usize = MAX_RENDERED_BYTES;
/// How deep a value `toyaml` and `tojson` write may nest (a namespace may hold itself).
pub(crate) const MAX_VALUE_DEPTH: usize = 128;
/// What one list item or map entry counts against [`MAX_VALUE_BYTES`] in `toyaml`: about what
/// it takes in memory before it is written.
const NODE_BYTES: usize = 64;

/// Text refused past a limit: a template's output ([`MAX_RENDERED_BYTES`]), a filter's result
/// ([`MAX_VALUE_BYTES`]). A runaway loop stops at the limit instead of after filling memory.
pub(crate) struct Capped {
    text: Vec<u8>,
    limit: usize,
    /// Set when a write would have passed the limit.
    pub(crate) over: bool,
}

impl Default for Capped {
    fn default() -> Capped {
        Capped::new(MAX_RENDERED_BYTES)
    }
}

impl Capped {
    pub(crate) fn new(limit: usize) -> Capped {
        Capped {
            text: Vec::new(),
            limit,
            over: false,
        }
    }

    /// A template's output, with room for `expected` bytes from the start: a template renders
    /// about as much text as it holds, and growing the buffer from nothing copies it many
    /// times.
    pub(crate) fn for_output(expected: usize) -> Capped {
        let mut capped = Capped::default();
        capped.text.reserve(expected.min(MAX_RENDERED_BYTES));
        capped
    }

    pub(crate) fn into_text(self) -> String {
        // minijinja and serde_json write only `str`s.
        String::from_utf8(self.text)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    fn push(&mut self, buf: &[u8]) -> bool {
        if self.text.len() + buf.len() > self.limit {
            self.over = true;
            return false;
        }
        self.text.extend_from_slice(buf);
        true
    }
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.push(buf) {
            Ok(buf.len())
        } else {
            Err(std::io::Error::other("the text is over the limit"))
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.push(s.as_bytes()) {
            Ok(())
        } else {
            Err(std::fmt::Error)
        }
    }
}

/// The error of a filter whose result would pass [`MAX_VALUE_BYTES`].
pub(super) fn too_large(filter: &str) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!(
            "too-large: {filter} would make more than {MAX_VALUE_BYTES} bytes, the limit of one value"
        ),
    )
}

/// Builds the environment for a component. `partials` holds every loadable template by name.
pub(crate) fn environment(partials: Arc<BTreeMap<String, String>>) -> Environment<'static> {
    let mut env = base_environment();
    let syntax = syntax();
    env.set_loader(move |name| {
        Ok(partials
            .get(name)
            .map(|source| super::operators::rewrite(source, &syntax).source))
    });
    super::builtins::register(&mut env);
    env.add_filter("toyaml", toyaml);
    env.add_filter("tojson", tojson);
    env.add_filter("b64encode", b64encode);
    env.add_filter("sha256", sha256);
    env.add_filter("quote", quote);
    env.add_filter("required", required);
    env.add_filter("string", string);
    env.add_function("fail", fail);
    env
}

/// strata's template syntax: Jinja2's, with `trim_blocks`, `lstrip_blocks` and the trailing
/// newline kept.
pub(crate) fn syntax() -> minijinja::syntax::SyntaxConfig {
    minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .unwrap_or_default()
}

/// minijinja with strata's syntax and limits, and only minijinja's own filters.
pub(super) fn base_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_debug(true);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(syntax());
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_recursion_limit(TEMPLATE_RECURSION);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env
}

/// A value as serde sees it, walked by strata rather than by minijinja so that a walk stops
/// at [`MAX_VALUE_DEPTH`] and once it has counted `left` bytes (strings, and [`NODE_BYTES`] per
/// item): a list repeated lazily, or a namespace that holds itself, would otherwise take any
/// amount of memory or stack.
struct Bounded<'a> {
    value: Value,
    depth: usize,
    left: &'a Cell<usize>,
    filter: &'a str,
}

impl<'a> Bounded<'a> {
    /// `value` at the top, with `left` bytes to spend.
    fn root(value: &Value, left: &'a Cell<usize>, filter: &'a str) -> Bounded<'a> {
        Bounded {
            value: value.clone(),
            depth: 0,
            left,
            filter,
        }
    }

    fn child(&self, value: Value) -> Bounded<'_> {
        Bounded {
            value,
            depth: self.depth + 1,
            left: self.left,
            filter: self.filter,
        }
    }

    fn take(&self, n: usize) -> Result<(), String> {
        match self.left.get().checked_sub(n) {
            Some(rest) => {
                self.left.set(rest);
                Ok(())
            }
            None => Err(too_large(self.filter).detail().unwrap_or("").to_string()),
        }
    }
}

impl serde::Serialize for Bounded<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeMap as _, SerializeSeq as _};
        if self.depth > MAX_VALUE_DEPTH {
            return Err(S::Error::custom(format!(
                "too-deep: {} found a value nested more than {MAX_VALUE_DEPTH} deep",
                self.filter
            )));
        }
        self.take(NODE_BYTES + self.value.as_str().map_or(0, str::len))
            .map_err(S::Error::custom)?;
        let object = self.value.as_object();
        match self.value.kind() {
            ValueKind::Seq | ValueKind::Iterable => {
                let mut seq = s.serialize_seq(None)?;
                let items = self.value.try_iter().map_err(S::Error::custom)?;
                for item in items.checked() {
                    seq.serialize_element(&self.child(item.map_err(S::Error::custom)?))?;
                }
                seq.end()
            }
            ValueKind::Map => {
                let mut map = s.serialize_map(None)?;
                if let Some(pairs) = object.and_then(|o| o.try_iter_pairs()) {
                    for (key, value) in pairs {
                        map.serialize_entry(&self.child(key), &self.child(value))?;
                    }
                }
                map.end()
            }
            ValueKind::Plain => s.serialize_str(
                &printed(&self.value, self.filter)
                    .map_err(|e| S::Error::custom(e.detail().unwrap_or("").to_string()))?,
            ),
            _ => self.value.serialize(s),
        }
    }
}

/// Turns a serialization error of [`Bounded`] back into the template error it stands for.
fn bounded_error(filter: &str, message: String) -> Error {
    if message.starts_with("too-large: ") {
        too_large(filter)
    } else if message.starts_with("too-deep: ") {
        Error::new(ErrorKind::InvalidOperation, message)
    } else {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("cannot serialize value: {message}"),
        )
    }
}

fn to_json(value: &Value, filter: &str) -> Result<serde_json::Value, Error> {
    let left = Cell::new(MAX_VALUE_BYTES);
    serde_json::to_value(Bounded::root(value, &left, filter))
        .map_err(|e| bounded_error(filter, e.to_string()))
}

/// `{{ values.resources | toyaml }}`: block YAML without a trailing newline.
fn toyaml(value: &Value) -> Result<String, Error> {
    let json = to_json(value, "toyaml")?;
    // strata's own writer: strings YAML 1.1 would misread (`off`, `0755`) come out quoted.
    let yaml = crate::yaml::write(&json);
    drop(json);
    if yaml.len() > MAX_VALUE_BYTES {
        return Err(too_large("toyaml"));
    }
    Ok(yaml.trim_end_matches('\n').to_string())
}

/// `{{ x | tojson }}`: compact JSON, with no HTML escaping (the output is YAML, not HTML).
/// Written straight from the value into a capped buffer: no copy of the value is made.
fn tojson(value: &Value) -> Result<String, Error> {
    let left = Cell::new(usize::MAX);
    let mut out = Capped::new(MAX_VALUE_BYTES);
    match serde_json::to_writer(&mut out, &Bounded::root(value, &left, "tojson")) {
        Ok(()) => Ok(out.into_text()),
        Err(_) if out.over => Err(too_large("tojson")),
        Err(e) => Err(bounded_error("tojson", e.to_string())),
    }
}

/// The text of a value, as `{{ value }}` would print it, refused past [`MAX_VALUE_BYTES`].
pub(super) fn text_of(value: &Value, filter: &str) -> Result<String, Error> {
    if let Some(s) = value.as_str() {
        return Ok(s.to_string());
    }
    if matches!(
        value.kind(),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable
    ) {
        // A walk first, which stops at a namespace that holds itself: minijinja's printing of
        // it would recurse until the stack overflows.
        let left = Cell::new(MAX_VALUE_BYTES);
        serde_json::to_writer(std::io::sink(), &Bounded::root(value, &left, filter))
            .map_err(|e| bounded_error(filter, e.to_string()))?;
    }
    printed(value, filter)
}

/// `value` as minijinja prints it, refused past [`MAX_VALUE_BYTES`].
fn printed(value: &Value, filter: &str) -> Result<String, Error> {
    let mut out = Capped::new(MAX_VALUE_BYTES);
    match std::fmt::Write::write_fmt(&mut out, format_args!("{value}")) {
        Ok(()) => Ok(out.into_text()),
        Err(_) => Err(too_large(filter)),
    }
}

/// `{{ x | string }}`: minijinja's, but a list or map (whose text may be far larger than the
/// value) stops at [`MAX_VALUE_BYTES`].
fn string(value: &Value) -> Result<Value, Error> {
    if value.is_undefined() {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    if value.kind() == ValueKind::String {
        return Ok(value.clone());
    }
    text_of(value, "string").map(Value::from)
}

fn b64encode(value: &Value) -> Result<String, Error> {
    let text = text_of(value, "b64encode")?;
    if text.len() / 3 * 4 > MAX_VALUE_BYTES {
        return Err(too_large("b64encode"));
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(text))
}

fn sha256(value: &Value) -> Result<String, Error> {
    Ok(crate::digest::sha256_hex(
        text_of(value, "sha256")?.as_bytes(),
    ))
}

/// A double-quoted string, valid in YAML and JSON.
fn quote(value: &Value) -> Result<String, Error> {
    let text = text_of(value, "quote")?;
    let mut out = Capped::new(MAX_VALUE_BYTES);
    match serde_json::to_writer(&mut out, &text) {
        Ok(()) => Ok(out.into_text()),
        Err(_) => Err(too_large("quote")),
    }
}

/// `{{ values.host | required("set values.host for ingress") }}`: fails on none or "".
/// The message, like every argument, is text of at most [`MAX_VALUE_BYTES`].
fn required(value: &Value, message: Rest<Value>) -> Result<Value, Error> {
    let message = message
        .iter()
        .map(|m| text_of(m, "required"))
        .collect::<Result<Vec<_>, _>>()?;
    let empty =
        value.is_undefined() || value.is_none() || value.as_str().is_some_and(str::is_empty);
    if empty {
        let msg = message
            .first()
            .cloned()
            .unwrap_or_else(|| "a required value is empty".to_string());
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("required: {msg}"),
        ));
    }
    Ok(value.clone())
}

/// `{{ fail("...") }}`: stops the render with the template's own message.
/// The message is text of at most [`MAX_VALUE_BYTES`].
fn fail(message: &Value, _kwargs: Kwargs) -> Result<Value, Error> {
    Err(Error::new(
        ErrorKind::InvalidOperation,
        format!("fail: {}", text_of(message, "fail")?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, ctx: minijinja::Value) -> Result<String, minijinja::Error> {
        let env = environment(Arc::new(BTreeMap::new()));
        env.render_str(template, ctx)
    }

    #[test]
    fn the_filters_of_the_design() {
        let ctx = minijinja::context! { v => minijinja::Value::from(minijinja::value::Serde(serde_json::json!({"b": [1, "off"], "a": "x: y"}))) };
        assert_eq!(
            render("{{ v | toyaml }}", ctx.clone()).unwrap(),
            "b:\n- 1\n- \"off\"\na: \"x: y\""
        );
        assert_eq!(
            render("{{ v | tojson }}", ctx.clone()).unwrap(),
            r#"{"b":[1,"off"],"a":"x: y"}"#
        );
        assert_eq!(
            render("a:\n  {{ v | toyaml | indent(2) }}", ctx.clone()).unwrap(),
            "a:\n  b:\n  - 1\n  - \"off\"\n  a: \"x: y\""
        );
        assert_eq!(
            render("{{ 'hello' | b64encode }}", ctx.clone()).unwrap(),
            "aGVsbG8="
        );
        assert_eq!(
            render("{{ 'hello' | sha256 }}", ctx.clone()).unwrap(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(
            render("{{ 'say \"hi\"' | quote }}", ctx.clone()).unwrap(),
            r#""say \"hi\"""#
        );
        assert_eq!(
            render("{{ v.a | required('set a') }}", ctx.clone()).unwrap(),
            "x: y"
        );
    }

    #[test]
    fn required_and_fail_stop_with_their_message() {
        let ctx = minijinja::context! { empty => "" };
        let e = render(
            "{{ empty | required('set values.host for the ingress') }}",
            ctx.clone(),
        )
        .unwrap_err();
        assert_eq!(
            e.detail(),
            Some("required: set values.host for the ingress")
        );
        let e = render("{{ fail('no prod without backups') }}", ctx).unwrap_err();
        assert_eq!(e.detail(), Some("fail: no prod without backups"));
    }

    #[test]
    fn a_namespace_that_holds_itself_is_too_deep_for_the_filters_that_walk_it() {
        for filter in ["tojson", "toyaml", "string", "sha256"] {
            let e = render(
                &format!(
                    "{{% set ns = namespace() %}}{{% set ns.me = ns %}}{{{{ ns | {filter} }}}}"
                ),
                minijinja::context! {},
            )
            .unwrap_err();
            assert_eq!(
                e.detail(),
                Some(
                    format!("too-deep: {filter} found a value nested more than 128 deep").as_str()
                )
            );
        }
    }

    #[test]
    fn undefined_is_an_error() {
        let e = render("{{ values.nope }}", minijinja::context! {}).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UndefinedError);
    }
}
