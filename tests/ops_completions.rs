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
    out.extend_from_slice(MAN_SECTIONS.as_bytes());
    man.render_version_section(&mut out).unwrap();
    out
}

const MAN_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
\fBsync\fR, \fBfull\fR: every selected org synced, or was skipped (synced less than
\fBmin_interval\fR ago, or locked by another run).
\fBstatus\fR: every selected org is healthy. \fBcheck\fR: every selected org passed.
.TP
\fB1\fR
At least one org failed (the others still ran), is unhealthy (last run failed, never
synced, or older than \fB\-\-max\-age\fR), or failed its check.
.TP
\fB2\fR
Usage or config error: nothing was run.
.SH ENVIRONMENT
.TP
\fBROUTIQ_SYNC_CONFIG\fR
The config file, when \fB\-\-config\fR is not given.
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
The API keys are read from the variables named by \fBapi_key_env\fR in the config file.
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
