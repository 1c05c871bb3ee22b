//! The `routiq-sync` binary: parse, set up logging and signals, dispatch, exit.

use std::process::ExitCode;

use clap::Parser;

use routiq_sync::cli::{Cli, Command, LogFormatArg};
use routiq_sync::commands::{self, CommandError, Globals, sync::RunRequest};
use routiq_sync::engine;
use routiq_sync::logging::LogFormat;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = cli.log_format.map(|f| match f {
        LogFormatArg::Text => LogFormat::Text,
        LogFormatArg::Json => LogFormat::Json,
    });
    if let Err(e) = routiq_sync::logging::init(
        i8::try_from(cli.verbose).unwrap_or(2) - i8::try_from(cli.quiet).unwrap_or(2),
        format,
    ) {
        return report(&CommandError::Usage(e));
    }
    install_signal_handlers();
    let globals = Globals {
        config: cli.config.clone(),
        show_progress: !cli.no_progress,
    };
    let result = match &cli.command {
        Command::Sync(a) => commands::sync::run(
            &globals,
            &RunRequest::from_args(engine::Command::Sync, &a.run, a.force),
        ),
        Command::Full(a) => commands::sync::run(
            &globals,
            &RunRequest::from_args(engine::Command::Full, &a.run, false),
        ),
        Command::Verify(a) => commands::sync::run(
            &globals,
            &RunRequest::from_args(engine::Command::Verify, &a.run, false),
        ),
        Command::Status(a) => commands::status::run(&globals, a),
        Command::Check(a) => commands::check::run(&globals, a),
        Command::Forget(a) => commands::forget::run(&globals, a),
        Command::Demo(a) => commands::demo::run(&globals, a),
        Command::Completions(a) => commands::completions::run(a.shell),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(e) => report(&e),
    }
}

/// Prints a command-stopping error and maps it to its exit code.
fn report(e: &CommandError) -> ExitCode {
    routiq_sync::logging::print_error(&format!("{e:#}"));
    e.exit().into()
}

/// SIGINT/SIGTERM ask the run to stop between pages; a second one ends the process.
fn install_signal_handlers() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = commands::cancel_flag();
    for sig in [SIGINT, SIGTERM] {
        // Registration fails only for forbidden signals; INT and TERM are allowed.
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, flag.clone());
        let _ = signal_hook::flag::register(sig, flag.clone());
    }
}
