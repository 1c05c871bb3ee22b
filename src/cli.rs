//! The command line: clap types only, no behaviour.

use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::resource::Resource;

/// Keeps a local SQLite copy of Cliniko clinic data for many organisations.
#[derive(Debug, Parser)]
#[command(
    name = "routiq-sync",
    version,
    about,
    propagate_version = true,
    after_long_help = AFTER_LONG_HELP
)]
pub struct Cli {
    /// Config file (default: $ROUTIQ_SYNC_CONFIG, then $XDG_CONFIG_HOME/routiq-sync/config.toml,
    /// then /etc/routiq-sync/config.toml)
    #[arg(short, long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// More log output (-v debug, -vv trace); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Less log output (-q warnings only, -qq errors only)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub quiet: u8,

    /// Never show progress bars (they only appear when stderr is a terminal anyway)
    #[arg(long, global = true)]
    pub no_progress: bool,

    /// Log line format on stderr (default: $ROUTIQ_SYNC_LOG_FORMAT, then `log_format` in
    /// the config, then text); json writes one object per line and never shows progress bars
    #[arg(long, global = true, value_name = "FORMAT", value_enum)]
    pub log_format: Option<LogFormatArg>,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Incremental sync of the selected orgs (full where no cursor exists or one is due)
    Sync(SyncArgs),
    /// Full sync of the selected orgs now, reconciling records deleted upstream
    Full(FullArgs),
    /// Check the local copy against Cliniko by counts; fetch what is missing, mark what is gone
    ///
    /// Each resource's count upstream (archived and cancelled rows included) is compared
    /// with its local rows not marked deleted: one request per route when nothing
    /// differs. A difference is narrowed down by id range, each request counting a part
    /// and splitting it at a row, and the small parts that differ are listed: rows found
    /// are upserted (no cursor moves), and local rows the listing lacks are marked
    /// deleted only when a second look by id lacks them too.
    ///
    /// What counts cannot see: rows missing locally (lost from the store, or created
    /// upstream and missed) and rows deleted upstream, in equal numbers within the same
    /// part, leave the counts equal. The first request
    /// also splits the whole table at a place that moves between verifies, at no cost,
    /// and catches such rows when the split falls between them; rows close together stay
    /// unseen, verify reports ok and marks no live row. The full walk (`full`, weekly by
    /// default) is the backstop: it makes the copy exact.
    Verify(FullArgs),
    /// Show each org's last run, cursors and totals; exit 1 if any org is unhealthy
    Status(StatusArgs),
    /// Validate the config, show where each setting came from, and probe each org's API key
    Check(CheckArgs),
    /// Delete everything stored for one org (rows, cursors, runs); without --yes, show what would go
    Forget(ForgetArgs),
    /// Run the real sync against a built-in fake Cliniko (no account needed)
    Demo(DemoArgs),
    /// Print a shell completion script to stdout
    Completions(CompletionsArgs),
}

/// Which orgs a sync covers.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct OrgSelection {
    /// Every org in the config
    #[arg(long)]
    pub all: bool,
    /// Only these org ids (repeat or separate with spaces)
    #[arg(long, value_name = "ID", num_args = 1..)]
    pub org: Vec<String>,
}

/// Options shared by `sync`, `full` and `verify`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub orgs: OrgSelection,
    /// Only these resources (default: each org's configured resources)
    #[arg(long, value_name = "NAME", num_args = 1.., value_parser = resource_parser())]
    pub resource: Vec<String>,
    /// Sync up to N orgs at once (default: `jobs` from the config)
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
    /// Stop cleanly between pages once the run has taken this long (e.g. 50m); orgs not
    /// started by then are deferred to the next run (default: `max_run_time` from the config)
    #[arg(long, value_name = "DURATION", value_parser = run_time_parser)]
    pub max_run_time: Option<std::time::Duration>,
}

/// `sync` options.
#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Sync even if the org was synced less than `min_interval` ago
    #[arg(long)]
    pub force: bool,
}

/// `full` and `verify` options.
#[derive(Debug, Args)]
pub struct FullArgs {
    #[command(flatten)]
    pub run: RunArgs,
}

/// `status` options.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only these org ids
    #[arg(long, value_name = "ID", num_args = 1..)]
    pub org: Vec<String>,
    /// Print one JSON document instead of a table (same as --format json)
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// table for people, json for scripts, openmetrics for Prometheus (textfile collector)
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub format: Option<StatusFormat>,
    /// Also count an org as unhealthy when its last success is older than this (e.g. 6h)
    #[arg(long, value_name = "DURATION")]
    pub max_age: Option<String>,
}

/// `status --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
    Openmetrics,
}

/// `check` options.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Only these org ids (default: every org)
    #[arg(long, value_name = "ID", num_args = 1..)]
    pub org: Vec<String>,
}

/// `forget` options.
#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The org whose data goes (it need not be in the config any more)
    #[arg(long, value_name = "ID")]
    pub org: String,
    /// Really delete; without it, print what would be deleted and exit 1
    #[arg(long)]
    pub yes: bool,
}

/// `demo` options.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of fake clinic orgs
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub orgs: u32,
    /// Patients per org
    #[arg(long, default_value_t = 650, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub patients: u32,
    /// Appointments per patient
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub appointments_per_patient: u32,
    /// Upstream changes made between the full and the incremental run
    #[arg(long, default_value_t = 20)]
    pub changes: u32,
    /// Keep the config and database in this folder (default: a temporary folder, removed after)
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
}

/// `completions` options.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `--log-format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

/// Shells we generate completions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

/// The end of `--help` (and of the man page): exit codes and environment.
const AFTER_LONG_HELP: &str = "\
Exit codes:
  0  sync/full/verify: every selected org synced, was skipped (synced recently, or locked
     by another run) or was deferred by max_run_time; status/check: every selected org is
     healthy / passed; forget: deleted
  1  at least one org failed (the others still ran), is unhealthy, or failed its check;
     forget: nothing deleted (no --yes) or it failed
  2  usage or config error: nothing was run

Environment:
  ROUTIQ_SYNC_CONFIG      config file when --config is not given
  ROUTIQ_SYNC_LOG_FORMAT  text or json, when --log-format is not given (over log_format)
  RUST_LOG                log filter, overrides -v/-q (e.g. RUST_LOG=debug)
  NO_COLOR                when set (and not empty), `status` never uses colours
  The API key variables named by `api_key_env` in the config.

Config file search order: --config, $ROUTIQ_SYNC_CONFIG,
$XDG_CONFIG_HOME/routiq-sync/config.toml (or ~/.config/...), /etc/routiq-sync/config.toml";

fn run_time_parser(s: &str) -> Result<std::time::Duration, String> {
    match crate::config::parse_duration(s)? {
        d if d.is_zero() => Err("must be more than zero, e.g. 50m".to_string()),
        d => Ok(d),
    }
}

fn resource_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(Resource::ALL.map(Resource::name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sync_needs_all_or_org() {
        assert!(Cli::try_parse_from(["routiq-sync", "sync"]).is_err());
        assert!(Cli::try_parse_from(["routiq-sync", "sync", "--all", "--org", "a"]).is_err());
        let cli =
            Cli::try_parse_from(["routiq-sync", "sync", "--org", "a", "b", "--force"]).unwrap();
        let Command::Sync(args) = cli.command else {
            panic!("not sync")
        };
        assert_eq!(args.run.orgs.org, ["a", "b"]);
        assert!(args.force);
    }
}
