//! minijinja's built-ins that turn a value into text, bounded.
//!
//! minijinja converts a list or map to text (`{{ [1, 2] }}` prints `[1, 2]`) wherever a string
//! is expected: in a `{% set %}` block, a macro or `{% filter %}` body, and in every filter or
//! test argument that takes a string (`upper`, `trim`, `replace`, `startingwith`, ...). That text
//! is built in full before fuel is charged for it, and a list repeated lazily (`[big] * 1000`)
//! costs no fuel at all, so one such conversion could take any amount of memory. Here each of
//! those built-ins first measures the text of every list or map argument it would convert,
//! stopping at [`MAX_VALUE_BYTES`], then calls minijinja's own code: the output of a normal
//! template is unchanged.

use std::cell::Cell;
use std::sync::LazyLock;

use minijinja::value::{Rest, ValueKind};
use minijinja::{Environment, Error, Output, State, Value};

use super::template::{Capped, MAX_VALUE_BYTES, base_environment, text_of, too_large};

/// Whether minijinja would print `value` by walking it: a list, a map, or another object.
fn is_container(value: &Value) -> bool {
    matches!(
        value.kind(),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable | ValueKind::Plain
    )
}

/// Refuses `value` if it is a container whose text would pass what is `left` of the
/// [`MAX_VALUE_BYTES`] one call may convert; otherwise takes its text's length from `left`.
fn measure(value: &Value, filter: &str, left: &Cell<usize>) -> Result<(), Error> {
    if !is_container(value) {
        return Ok(());
    }
    let len = text_of(value, filter)?.len();
    match left.get().checked_sub(len) {
        Some(rest) => {
            left.set(rest);
            Ok(())
        }
        None => Err(too_large(filter)),
    }
}

/// Measures `args` from the `skip`-th on (those minijinja converts to text).
fn measure_args(args: &[Value], skip: usize, filter: &str) -> Result<(), Error> {
    let left = Cell::new(MAX_VALUE_BYTES);
    args.iter()
        .skip(skip)
        .try_for_each(|arg| measure(arg, filter, &left))
}

/// minijinja's `builtin`, called once the arguments from the `skip`-th on are measured.
fn guarded(
    name: &'static str,
    skip: usize,
    builtin: Value,
) -> impl Fn(&mut State, Rest<Value>) -> Result<Value, Error> + Send + Sync + 'static {
    move |state: &mut State, args: Rest<Value>| {
        measure_args(&args, skip, name)?;
        builtin.call(state, &args)
    }
}

/// A test that takes strings, like [`guarded`].
fn guarded_test(
    name: &'static str,
    builtin: Value,
) -> impl Fn(&mut State, Rest<Value>) -> Result<bool, Error> + Send + Sync + 'static {
    move |state: &mut State, args: Rest<Value>| {
        measure_args(&args, 0, name)?;
        builtin.call(state, &args).map(|v| v.is_true())
    }
}

/// minijinja's filters as registered by [`base_environment`], for the two (`replace` and
/// `indent`) whose registered form, which takes `count=` and checks fuel before it grows a
/// string, is not public. They run in a state of their own: they call no other filter, and
/// that state's fuel bounds what one call may build before the template pays for its result.
static BUILTINS: LazyLock<Environment<'static>> = LazyLock::new(base_environment);

/// `replace` or `indent`: every argument measured, then minijinja's.
fn guarded_by_name(
    name: &'static str,
) -> impl Fn(Rest<Value>) -> Result<Value, Error> + Send + Sync + 'static {
    move |args: Rest<Value>| {
        measure_args(&args, 0, name)?;
        BUILTINS.empty_state().apply_filter(name, &args)
    }
}

/// `join`: the separator, and the items that are lists or maps (all together), are measured.
/// Only as many items as the fuel left could pay `join` for are looked at: it stops there.
fn join(state: &mut State, args: Rest<Value>) -> Result<Value, Error> {
    measure_args(&args, 1, "join")?;
    if let Some(items) = args.first().filter(|v| is_container(v)) {
        // `join` pays half a unit of fuel per item.
        let payable = state
            .fuel_levels()
            .map_or(usize::MAX, |(_, left)| left.saturating_mul(2) as usize);
        let left = Cell::new(MAX_VALUE_BYTES);
        if let Ok(iter) = items.try_iter() {
            for item in iter.take(payable) {
                measure(&item, "join", &left)?;
            }
        }
    }
    Value::from_function(minijinja::filters::join).call(state, &args)
}

/// `{{ x | pprint }}`: minijinja's, but stopped at [`MAX_VALUE_BYTES`].
fn pprint(state: &State, value: &Value) -> Result<String, Error> {
    let text = debug_text(value, "pprint")?;
    // What minijinja charges for text it serializes: a quarter of a fuel per byte.
    state.consume_fuel(text.len() as u64 / 4)?;
    Ok(text)
}

/// `value` as `{:#?}` prints it, refused past [`MAX_VALUE_BYTES`].
fn debug_text(value: &Value, filter: &str) -> Result<String, Error> {
    // The walk stops at a namespace that holds itself, which printing would follow forever.
    text_of(value, filter)?;
    let mut out = Capped::new(MAX_VALUE_BYTES);
    match std::fmt::Write::write_fmt(&mut out, format_args!("{value:#?}")) {
        Ok(()) => Ok(out.into_text()),
        Err(_) => Err(too_large(filter)),
    }
}

/// `{{ debug() }}`, `{{ debug(x) }}`: minijinja's, stopped at [`MAX_VALUE_BYTES`]. With no
/// argument it prints the whole state, once every variable in it is measured.
fn debug(state: &State, args: Rest<Value>) -> Result<String, Error> {
    match args.len() {
        0 => {
            let left = Cell::new(MAX_VALUE_BYTES);
            for name in state.known_variables() {
                let printed = debug_text(&state.lookup(&name).unwrap_or_default(), "debug")?;
                left.set(
                    left.get()
                        .checked_sub(printed.len())
                        .ok_or_else(|| too_large("debug"))?,
                );
            }
            let mut out = Capped::new(MAX_VALUE_BYTES);
            match std::fmt::Write::write_fmt(&mut out, format_args!("{state:#?}")) {
                Ok(()) => Ok(out.into_text()),
                Err(_) => Err(too_large("debug")),
            }
        }
        1 => debug_text(&args[0], "debug"),
        _ => debug_text(&Value::from(args.0.clone()), "debug"),
    }
}

/// How `{{ value }}` writes: minijinja's, but a list or map is measured first, so that one
/// written into a `{% set %}` block or a macro (a string minijinja grows in memory, and charges
/// for afterwards) stops at [`MAX_VALUE_BYTES`].
fn format(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    measure(value, "printing a list or map", &Cell::new(MAX_VALUE_BYTES))?;
    minijinja::escape_formatter(out, state, value)
}

/// Puts the bounded built-ins in place of minijinja's.
pub(crate) fn register(env: &mut Environment<'static>) {
    use minijinja::{filters, tests};
    env.set_formatter(format);
    let all = [
        ("upper", Value::from_function(filters::upper)),
        ("lower", Value::from_function(filters::lower)),
        ("title", Value::from_function(filters::title)),
        ("capitalize", Value::from_function(filters::capitalize)),
        ("trim", Value::from_function(filters::trim)),
        ("safe", Value::from_function(filters::safe)),
        ("escape", Value::from_function(filters::escape)),
        ("e", Value::from_function(filters::escape)),
        ("format", Value::from_function(filters::format)),
    ];
    for (name, builtin) in all {
        env.add_filter(name, guarded(name, 0, builtin));
    }
    // The list they filter is not converted; the attribute and the test's arguments are.
    env.add_filter(
        "selectattr",
        guarded("selectattr", 1, Value::from_function(filters::selectattr)),
    );
    env.add_filter(
        "rejectattr",
        guarded("rejectattr", 1, Value::from_function(filters::rejectattr)),
    );
    env.add_filter("replace", guarded_by_name("replace"));
    env.add_filter("indent", guarded_by_name("indent"));
    env.add_filter("join", join);
    env.add_filter("pprint", pprint);
    env.add_test(
        "startingwith",
        guarded_test("startingwith", Value::from_function(tests::is_startingwith)),
    );
    env.add_test(
        "endingwith",
        guarded_test("endingwith", Value::from_function(tests::is_endingwith)),
    );
    env.add_function("debug", debug);
    env.add_filter(super::operators::CONCAT, |value: Value| {
        measure(&value, "`~`", &Cell::new(MAX_VALUE_BYTES)).map(|()| value)
    });
    env.add_filter(super::operators::IN, |value: Value| {
        measure(&value, "`in`", &Cell::new(MAX_VALUE_BYTES)).map(|()| value)
    });
}
