//! The rule for a test that cannot run on this machine (a tool or server missing): in
//! CI it fails; elsewhere it prints one visible `SKIPPED` line and passes.
#![allow(dead_code)]

/// Whether a test that cannot run here must fail instead of skipping: in CI
/// (`CI=true`, as CI services set it) or with `ROUTIQ_REQUIRE_POSTGRES=1` or
/// `ROUTIQ_REQUIRE_PGBOUNCER=1` (`.ci/run` sets both).
pub fn strict() -> bool {
    ["ROUTIQ_REQUIRE_POSTGRES", "ROUTIQ_REQUIRE_PGBOUNCER"]
        .iter()
        .any(|v| std::env::var(v).as_deref() == Ok("1"))
        || std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The calling test cannot run here because of `why`: a failure when [`strict`], else
/// one `SKIPPED <test>: <why>` line on the terminal (the test then returns and passes).
/// The line is written straight to stderr, past the test runner's capture, which hides
/// `eprintln!` of passing tests.
#[track_caller]
pub fn skip(why: &str) {
    // The test runner names each test's thread after the test.
    let test = std::thread::current()
        .name()
        .map_or_else(|| "a test".to_string(), str::to_string);
    let caller = std::panic::Location::caller();
    if strict() {
        panic!(
            "{test} cannot run: {why}. Every test must run here (CI=true, \
             ROUTIQ_REQUIRE_POSTGRES=1 or ROUTIQ_REQUIRE_PGBOUNCER=1): install what it needs"
        );
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test} ({}:{}): {why}",
        caller.file(),
        caller.line()
    );
}
