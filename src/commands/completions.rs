//! `completions SHELL`: print a completion script generated from the CLI definition.

use clap::CommandFactory;
use clap_complete::{Shell as Target, generate};

use super::{CommandError, Exit};
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

/// The conventional file name of the script for `shell` (as in the repository's
/// `completions/` folder): `routiq-sync.bash`, `_routiq-sync`, `routiq-sync.fish`,
/// `routiq-sync.elv`, `_routiq-sync.ps1`.
pub fn file_name(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => "routiq-sync.bash",
        Shell::Zsh => "_routiq-sync",
        Shell::Fish => "routiq-sync.fish",
        Shell::Elvish => "routiq-sync.elv",
        Shell::Powershell => "_routiq-sync.ps1",
    }
}

/// Prints the script to stdout.
pub fn run(shell: Shell) -> Result<Exit, CommandError> {
    super::output::write(&script(shell))?;
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_shell_has_a_script_and_a_distinct_file_name() {
        let mut names = std::collections::HashSet::new();
        for &shell in Shell::value_variants() {
            let text = String::from_utf8(script(shell)).unwrap();
            assert!(text.contains("routiq-sync"), "{shell:?}");
            assert!(text.contains("check"), "{shell:?} lacks the check command");
            assert!(names.insert(file_name(shell)));
        }
    }
}
