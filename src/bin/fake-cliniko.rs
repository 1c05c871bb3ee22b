//! The `fake-cliniko` command (see `fake_cliniko::cli`), built with this package so that
//! `cargo install --path .` installs it beside `routiq-sync` for the README's rehearsal.

fn main() -> std::process::ExitCode {
    fake_cliniko::cli::main()
}
