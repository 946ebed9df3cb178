//! The minijinja environment of one component: strict undefined, strata's filters, and a
//! loader that can reach only the component's own templates and `components/_lib/`.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use minijinja::value::{Kwargs, Rest};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};

/// Template execution budget: minijinja's fuel, roughly one unit per instruction. A template
/// that loops past it is stopped with an error instead of running forever.
pub(crate) const TEMPLATE_FUEL: u64 = 2_000_000;
/// How deep includes, macros and recursion may nest.
pub(crate) const TEMPLATE_RECURSION: usize = 64;
/// The most text one template may render.
pub(crate) const MAX_RENDERED_BYTES: usize = 16 * 1024 * 1024;

/// A template's output, refused past [`MAX_RENDERED_BYTES`]: a runaway loop stops at the limit
/// instead of after filling memory.
#[derive(Default)]
pub(crate) struct Capped {
    text: Vec<u8>,
    /// Set when a write would have passed the limit.
    pub(crate) over: bool,
}

impl Capped {
    pub(crate) fn into_text(self) -> String {
        // minijinja writes only `str`s.
        String::from_utf8(self.text)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + buf.len() > MAX_RENDERED_BYTES {
            self.over = true;
            return Err(std::io::Error::other("the rendered text is over the limit"));
        }
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Builds the environment for a component. `partials` holds every loadable template by name.
pub(crate) fn environment(partials: Arc<BTreeMap<String, String>>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_debug(true);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_recursion_limit(TEMPLATE_RECURSION);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_loader(move |name| Ok(partials.get(name).cloned()));
    env.add_filter("toyaml", toyaml);
    env.add_filter("tojson", tojson);
    env.add_filter("b64encode", b64encode);
    env.add_filter("sha256", sha256);
    env.add_filter("quote", quote);
    env.add_filter("required", required);
    env.add_function("fail", fail);
    env
}

fn to_json(value: &Value) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("cannot serialize value: {e}"),
        )
    })
}

/// `{{ values.resources | toyaml }}`: block YAML without a trailing newline.
fn toyaml(value: &Value) -> Result<String, Error> {
    let json = to_json(value)?;
    // strata's own writer: strings YAML 1.1 would misread (`off`, `0755`) come out quoted.
    Ok(crate::yaml::write(&json).trim_end_matches('\n').to_string())
}

/// `{{ x | tojson }}`: compact JSON, with no HTML escaping (the output is YAML, not HTML).
fn tojson(value: &Value) -> Result<String, Error> {
    serde_json::to_string(&to_json(value)?)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
}

fn text_of(value: &Value) -> String {
    match value.as_str() {
        Some(s) => s.to_string(),
        None => value.to_string(),
    }
}

fn b64encode(value: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(text_of(value))
}

fn sha256(value: &Value) -> String {
    crate::digest::sha256_hex(text_of(value).as_bytes())
}

/// A double-quoted string, valid in YAML and JSON.
fn quote(value: &Value) -> String {
    serde_json::to_string(&text_of(value)).unwrap_or_default()
}

/// `{{ values.host | required("set values.host for ingress") }}`: fails on none or "".
fn required(value: &Value, message: Rest<String>) -> Result<Value, Error> {
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
fn fail(message: String, _kwargs: Kwargs) -> Result<Value, Error> {
    Err(Error::new(
        ErrorKind::InvalidOperation,
        format!("fail: {message}"),
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
    fn undefined_is_an_error() {
        let e = render("{{ values.nope }}", minijinja::context! {}).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UndefinedError);
    }
}
