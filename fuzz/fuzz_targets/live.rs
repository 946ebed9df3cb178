//! The `live` target. The harness is the regression test's, so every crash replays in
//! `cargo test --test fuzz_regressions` once its input is in tests/fuzz_regressions/live/.
#![no_main]

#[path = "../../tests/fuzz_regressions.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::live(data));
