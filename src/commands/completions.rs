//! `completions SHELL`: print a completion script generated from the CLI definition.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::{Shell as Target, generate};

use super::Exit;
use crate::cli::{Cli, Shell};

/// The completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let target = match shell {
        Shell::Bash => Target::Bash,
        Shell::Zsh => Target::Zsh,
        Shell::Fish => Target::Fish,
        Shell::Elvish => Target::Elvish,
        Shell::Powershell => Target::PowerShell,
    };
    let mut out = Vec::new();
    generate(target, &mut Cli::command(), "routiq-sync", &mut out);
    out
}

/// Prints the script to stdout.
pub fn run(shell: Shell) -> Exit {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(&script(shell))
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Exit::Success,
        Err(_) => Exit::Failure,
    }
}
