//! The `templates` target. The harness is the regression test's, so every crash replays in
//! `cargo test --test fuzz_regressions` once its input is in tests/fuzz_regressions/templates/.
#![no_main]

#[path = "../../tests/fuzz_regressions.rs"]
#[allow(dead_code)]
mod harness;

/// libFuzzer's panic hook aborts on every panic, even one that strata catches. strata turns
/// minijinja's code generator panic (`{% import "x" as 1 %}`) into a diagnostic, so let that
/// one unwind; if strata does not catch it, `fuzz_target!` still aborts on it.
fn let_known_engine_panics_unwind() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_codegen = info.location().is_some_and(|at| {
                at.file().contains("minijinja-") && at.file().ends_with("compiler/codegen.rs")
            });
            if !in_codegen {
                abort(info);
            }
        }));
    });
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let_known_engine_panics_unwind();
    harness::templates(data);
});
