//! Generated files in the repository stay equal to what the CLI generates: the shell
//! completions in `completions/` (from the real binary) and the man pages in `docs/man/`.
//!
//! To regenerate after changing the CLI: `ROUTIQ_UPDATE_GENERATED=1 cargo test --test ops_completions`.

#[path = "common/skip.rs"]
mod skip;

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{CommandFactory, ValueEnum};
use routiq_sync::cli::{Cli, Shell};
use routiq_sync::commands::completions::file_name;
use routiq_sync::resource::Resource;

const REGENERATE: &str = "ROUTIQ_UPDATE_GENERATED=1 cargo test --test ops_completions";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `path` with `want`; rewrites it instead when regenerating. Returns a
/// description of the difference, if any.
fn compare(path: &Path, want: &[u8]) -> Option<String> {
    if std::env::var_os("ROUTIQ_UPDATE_GENERATED").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, want).unwrap();
        return None;
    }
    match std::fs::read(path) {
        Ok(have) if have == want => None,
        Ok(have) => {
            let (h, w) = (
                String::from_utf8_lossy(&have),
                String::from_utf8_lossy(want),
            );
            let line = h
                .lines()
                .zip(w.lines())
                .position(|(a, b)| a != b)
                .map_or(h.lines().count().min(w.lines().count()), |i| i)
                + 1;
            Some(format!(
                "{} differs from what the CLI generates (first difference at line {line})",
                path.display()
            ))
        }
        Err(e) => Some(format!("{} cannot be read: {e}", path.display())),
    }
}

fn fail_if_any(problems: Vec<String>, how: &str) {
    assert!(
        problems.is_empty(),
        "{}\n\nRegenerate with:\n    {REGENERATE}\n{how}",
        problems.join("\n")
    );
}

#[test]
fn committed_completions_match_the_binary() {
    let mut problems = Vec::new();
    let mut by_hand = String::new();
    for &shell in Shell::value_variants() {
        let name = shell.to_possible_value().unwrap().get_name().to_string();
        let out = Command::new(env!("CARGO_BIN_EXE_routiq-sync"))
            .args(["completions", &name])
            .output()
            .expect("run routiq-sync completions");
        assert!(out.status.success(), "completions {name} failed");
        let path = root().join("completions").join(file_name(shell));
        by_hand.push_str(&format!(
            "    cargo run -q -- completions {name} > completions/{}\n",
            file_name(shell)
        ));
        problems.extend(compare(&path, &out.stdout));
    }
    fail_if_any(problems, &format!("or one by one:\n{by_hand}"));
}

/// Every man page: `routiq-sync.1` and one per subcommand (`routiq-sync-sync.1`, ...).
fn man_pages() -> Vec<(String, Vec<u8>)> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = vec![("routiq-sync.1".to_string(), main_page(&cmd))];
    for sub in cmd.get_subcommands() {
        let man = clap_mangen::Man::new(sub.clone());
        let mut out = Vec::new();
        man.render(&mut out).unwrap();
        pages.push((man.get_filename(), out));
    }
    pages
}

/// The main page: clap_mangen's sections, then exit status, environment and files
/// written for readers of a man page (the `--help` epilogue says the same, shorter).
fn main_page(cmd: &clap::Command) -> Vec<u8> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out).unwrap();
    man.render_name_section(&mut out).unwrap();
    man.render_synopsis_section(&mut out).unwrap();
    man.render_description_section(&mut out).unwrap();
    man.render_options_section(&mut out).unwrap();
    man.render_subcommands_section(&mut out).unwrap();
    out.extend_from_slice(
        MAN_SECTIONS
            .replace("{RESOURCES}", &resources_entry())
            .as_bytes(),
    );
    man.render_version_section(&mut out).unwrap();
    out
}

/// The man page's `resources` key, from the resource catalogue: the defaults, then the
/// opt-in ones.
fn resources_entry() -> String {
    let quoted = |default: bool| -> Vec<String> {
        Resource::ALL
            .into_iter()
            .filter(|r| r.spec().default == default)
            .map(|r| format!("\"{}\"", r.name()))
            .collect()
    };
    let optional: Vec<String> = quoted(false)
        .iter()
        .map(|q| format!("\\fB{q}\\fR"))
        .collect();
    format!(
        "\\fBresources\\fR (default \\fB[{}]\\fR)\nWhat to sync; also {}.",
        quoted(true).join(", "),
        optional.join(", ")
    )
}

const MAN_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
\fBsync\fR, \fBfull\fR, \fBverify\fR: every selected org synced, was skipped (synced less
than \fBmin_interval\fR ago, or locked by another run), or was deferred to the next run
because \fBmax_run_time\fR passed (a run stopped by its deadline is not a failure).
\fBstatus\fR: every selected org is healthy. \fBcheck\fR: every selected org's key was
accepted and the paths are usable. \fBforget\fR: the org's data was deleted.
.TP
\fB1\fR
\fBsync\fR, \fBfull\fR, \fBverify\fR: at least one org failed (the others still ran), or
the run was interrupted (SIGINT, SIGTERM; it stops between pages and the next run
continues). \fBstatus\fR: some org is unhealthy (last run failed, never synced, or last
success older than \fB\-\-max\-age\fR). \fBcheck\fR: some org's key was rejected, its
server is unreachable, or a path is unusable. \fBforget\fR: nothing was deleted (no
\fB\-\-yes\fR, or a sync of that org is running) or the deletion failed.
.TP
\fB2\fR
Usage or config error, found before any org ran: bad flags, a config problem, a
database that is not routiq\-sync's or is from a newer version, a PostgreSQL database
that does not exist or where the role may not create the tables. Nothing was run.
.SH ENVIRONMENT
.TP
\fBROUTIQ_SYNC_CONFIG\fR
The config file, when \fB\-\-config\fR is not given.
.TP
\fBROUTIQ_SYNC_LOG_FORMAT\fR
\fBtext\fR or \fBjson\fR: the log line format on stderr, when \fB\-\-log\-format\fR is not
given; it overrides \fBlog_format\fR in the config.
.TP
\fBRUST_LOG\fR
Log filter (e.g. \fBdebug\fR); overrides \fB\-v\fR and \fB\-q\fR.
.TP
\fBNO_COLOR\fR
When set and not empty, \fBstatus\fR prints no colours (it never does when stdout is
not a terminal).
.TP
\fBXDG_CONFIG_HOME\fR, \fBXDG_DATA_HOME\fR, \fBHOME\fR
Where the default config file and database are looked for.
.PP
The API keys are read from the variables named by \fBapi_key_env\fR in the config file,
and a PostgreSQL URL from the one named by \fBdatabase_url_env\fR.
.SH CONFIGURATION
The config file is TOML: top\-level settings, then one \fB[[org]]\fR table per clinic.
Durations are whole numbers with units \fBd\fR, \fBh\fR, \fBm\fR, \fBs\fR, \fBms\fR,
largest first (\fB"90s"\fR, \fB"1h30m"\fR). \fBroutiq\-sync check\fR shows every
setting's value and where it came from.
.TP
\fBuser_agent\fR (required)
Sent as User\-Agent, as Cliniko requires: an app name and a contact email in
parentheses, e.g. \fB"Routiq Sync (ops@example.com)"\fR.
.TP
\fBdatabase\fR (default \fI~/.local/share/routiq\-sync/routiq\-sync.db\fR)
The SQLite file (relative to the config file's folder), or a \fBpostgres://\fR URL.
.TP
\fBdatabase_url_env\fR
The name of a variable holding the PostgreSQL URL, instead of \fBdatabase\fR.
.TP
\fBpg_schema\fR (default \fB"public"\fR)
PostgreSQL only: the schema holding the tables.
.TP
\fBlock_dir\fR (default \fIlocks\fR beside the database)
SQLite only: the folder of the per\-org lock files.
.TP
\fBmin_interval\fR (default \fB"30m"\fR)
\fBsync\fR skips an org whose last success finished less than this ago.
.TP
\fBfull_sync_every\fR (default \fB"7d"\fR)
\fBsync\fR does a full sync of a resource whose last one started longer ago.
.TP
\fBverify_every\fR (default \fB"24h"\fR)
\fBsync\fR adds a verify of a resource whose last verify or full sync is older.
.TP
\fBreference_every\fR (default \fB"24h"\fR)
How often \fBsync\fR polls appointment types, practitioners and businesses.
.TP
\fBjobs\fR (default \fB4\fR)
Orgs synced at once; \fB\-\-jobs\fR overrides it.
.TP
\fBrequests_per_minute\fR (default \fB180\fR)
Requests per API key per minute (Cliniko allows 200).
.TP
\fBrequest_timeout\fR (default \fB"30s"\fR)
Limit for connecting and for each whole request.
.TP
\fBretry_attempts\fR (default \fB5\fR)
Attempts per request on a 5xx, timeout or network error (1 = no retries).
.TP
\fBretry_delay\fR (default \fB"1s"\fR)
The first wait after a failed request, doubled each time up to 30s.
.TP
\fBmax_wait\fR (default \fB"5m"\fR)
The longest wait a rate limit (HTTP 429) may impose before the org fails.
.TP
\fBappointment_window\fR (not set)
\fB{ past_days = 7, future_days = 30 }\fR: incremental syncs fetch only appointments
starting in that window.
.TP
\fBmax_run_time\fR (not set)
\fBsync\fR, \fBfull\fR and \fBverify\fR stop between pages once the run has taken this
long; orgs not started are deferred (exit 0). \fB\-\-max\-run\-time\fR overrides it.
.TP
\fBlog_format\fR (default \fB"text"\fR)
\fB"json"\fR: one JSON object per log line.
.TP
\fBping_url\fR (not set)
A heartbeat URL: \fI/start\fR when a run starts, the URL itself on success,
\fI/fail\fR when an org failed.
.TP
\fBkeep_runs\fR (default \fB"90d"\fR)
Run history older than this is pruned (\fB"never"\fR keeps it).
.TP
\fBpurge_deleted_after\fR (default \fB"30d"\fR)
Rows deleted upstream longer ago than this are removed (\fB"never"\fR keeps them).
.PP
In each \fB[[org]]\fR table:
.TP
\fBid\fR (required)
Your id for the org: letters, digits, \fB_\fR and \fB\-\fR; used by \fB\-\-org\fR.
.TP
\fBname\fR
For people.
.TP
\fBapi_key_env\fR or \fBapi_key\fR (one is required)
The name of the variable holding the org's API key (preferred), or the key itself.
.TP
\fBshard\fR (default from the key's suffix)
\fB"au1"\fR, \fB"uk1"\fR, ... for a key without a suffix.
.TP
\fBbase_url\fR (default \fIhttps://api.{shard}.cliniko.com/v1\fR)
Another API address (a proxy, a test server).
.TP
{RESOURCES}
.TP
\fBping_url\fR (not set)
The org's own heartbeat URL.
.TP
\fBdashboard_roles\fR (none)
PostgreSQL roles that may read this org's rows and no other org's; each sync grants
and revokes to match (the roles are created by an administrator).
.SH FILES
.TP
\fI$XDG_CONFIG_HOME/routiq\-sync/config.toml\fR, \fI~/.config/routiq\-sync/config.toml\fR, \fI/etc/routiq\-sync/config.toml\fR
The config file, searched in this order after \fB\-\-config\fR and \fBROUTIQ_SYNC_CONFIG\fR.
.TP
\fI$XDG_DATA_HOME/routiq\-sync/routiq\-sync.db\fR (\fI~/.local/share/routiq\-sync/routiq\-sync.db\fR)
The SQLite database when the config does not set \fBdatabase\fR; per\-org lock files go in
\fIlocks/\fR beside it unless \fBlock_dir\fR is set.
.SH "SEE ALSO"
The README of the source repository: configuration reference, scheduling with cron,
systemd or Railway, the database schema, and troubleshooting.
"#;

#[test]
fn committed_man_pages_match_the_cli() {
    let pages = man_pages();
    let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    for want in ["routiq-sync.1", "routiq-sync-check.1", "routiq-sync-sync.1"] {
        assert!(names.contains(&want), "{want} not generated: {names:?}");
    }
    let dir = root().join("docs/man");
    let mut problems: Vec<String> = pages
        .iter()
        .filter_map(|(name, text)| compare(&dir.join(name), text))
        .collect();
    // A page left behind by a removed subcommand is drift too.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".1") && !names.contains(&name.as_str()) {
                problems.push(format!(
                    "docs/man/{name} is not generated by the CLI any more; delete it"
                ));
            }
        }
    }
    fail_if_any(problems, "");
}

/// The main page documents every exit code's meaning per command, every environment
/// variable the binary reads, and every config key (top-level and `[[org]]`).
#[test]
fn the_man_page_covers_exit_codes_environment_and_every_config_key() {
    let sections = MAN_SECTIONS.replace("{RESOURCES}", &resources_entry());
    let section = |name: &str| -> &str {
        let start = sections
            .find(&format!(".SH {name}"))
            .unwrap_or_else(|| panic!("no {name} section"));
        let rest = &sections[start + 4..];
        &rest[..rest.find("\n.SH ").unwrap_or(rest.len())]
    };
    let bold = |word: &str| format!("\\fB{}\\fR", word.replace('-', "\\-"));
    let exit = section("\"EXIT STATUS\"");
    for command in ["sync", "full", "verify", "status", "check", "forget"] {
        assert!(exit.contains(&bold(command)), "EXIT STATUS lacks {command}");
    }
    for needle in ["deferred", "interrupted", "max_run_time"] {
        assert!(exit.contains(needle), "EXIT STATUS lacks {needle}");
    }
    let environment = section("ENVIRONMENT");
    for var in [
        "ROUTIQ_SYNC_CONFIG",
        "ROUTIQ_SYNC_LOG_FORMAT",
        "RUST_LOG",
        "NO_COLOR",
    ] {
        assert!(environment.contains(&bold(var)), "ENVIRONMENT lacks {var}");
    }
    let config = section("CONFIGURATION");
    let keys = routiq_sync::config::SETTINGS.iter().copied().chain([
        "database_url_env",
        "pg_schema",
        "id",
        "name",
        "api_key_env",
        "api_key",
        "shard",
        "base_url",
        "resources",
        "dashboard_roles",
    ]);
    for key in keys {
        assert!(
            config.contains(&format!(".TP\n{}", bold(key)))
                || config.contains(&format!("or {}", bold(key))),
            "CONFIGURATION lacks `{key}`"
        );
    }
}

#[test]
fn man_page_renders_with_man_when_available() {
    // `man -l` formats the page as a reader would see it (skipped, or in CI failed, where
    // man is missing).
    let page = root().join("docs/man/routiq-sync.1");
    let Ok(out) = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "0")
        .output()
    else {
        skip::skip("`man` is not installed: the page's rendering is unchecked");
        return;
    };
    if !out.status.success() {
        skip::skip(&format!(
            "`man -l` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
        return;
    }
    // Bold is printed as `X\bX`; keep the last character of each such pair.
    let mut text = String::new();
    for c in String::from_utf8_lossy(&out.stdout).chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    for needle in ["EXIT STATUS", "ROUTIQ_SYNC_CONFIG", "check"] {
        assert!(
            text.contains(needle),
            "{needle} missing from the rendered page:\n{text}"
        );
    }
}
