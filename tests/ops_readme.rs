//! The README's commands, and those of every page under `docs/`, work as written.
//!
//! Every ```sh block must be preceded by a marker line saying how it is tested:
//! - `<!-- test: rehearsal -->`: run in order in one bash session (with `fake-cliniko`
//!   and `routiq-sync` from this build on `PATH`, `HOME` a temp dir), followed by the
//!   `against-rehearsal` blocks and finally the `rehearsal-end` blocks. The only change
//!   made to the text: the fake's port 8765 becomes a free port.
//! - `<!-- test: offline -->`: run on its own from the repository root, `HOME` a temp dir.
//! - `<!-- test: ci -->`: each command appears in `.ci/run`, which runs it.
//! - `<!-- test: no (why) -->`: cannot run offline (needs a Cliniko account, root, ...).
//!
//! The "Set up on a fresh machine" block stays exactly two commands, unmarked: both are
//! run by `.ci/run` (`cargo test --locked` and `cargo run --release -- demo`).
//!
//! Every ```toml block is parsed as a config file (any `api_key_env` variable is set to a
//! fake key) unless marked `no` (a block without `user_agent` is a fragment: it is parsed
//! after a `user_agent` line, with an `[[org]]` after it when it has none), and so is
//! `examples/config.toml`; every ```sql block runs
//! against the database the rehearsal synced, except those marked `<!-- postgres -->`
//! (tests/postgres.rs runs those) or `<!-- postgres WHO -->` (the dashboard role's set-up,
//! run as WHO by tests/dashboard_docs.rs).

use std::path::{Path, PathBuf};
use std::process::Command;

/// One fenced block and the marker before it.
#[derive(Debug)]
struct Block {
    /// The page, relative to the repository root: `README.md`, `docs/dashboard.md`.
    page: String,
    line: usize,
    lang: String,
    marker: Option<String>,
    text: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn blocks(page: &str, text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if let Some(rest) = line.trim().strip_prefix("<!-- test:") {
            marker = Some(rest.trim_end_matches("-->").trim().to_string());
            continue;
        }
        // `<!-- postgres -->`, or `<!-- postgres WHO -->` for a role set-up run as WHO.
        if let Some(rest) = line.trim().strip_prefix("<!-- postgres") {
            marker = Some(format!("postgres {}", rest.trim_end_matches("-->").trim()));
            continue;
        }
        let Some(lang) = line.strip_prefix("```") else {
            if !line.trim().is_empty() {
                marker = None;
            }
            continue;
        };
        let mut text = String::new();
        for (_, l) in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            text.push_str(l);
            text.push('\n');
        }
        out.push(Block {
            page: page.to_string(),
            line: n + 1,
            lang: lang.trim().to_string(),
            marker: marker.take(),
            text,
        });
    }
    out
}

/// README.md, then every page under `docs/` in name order.
fn pages() -> Vec<String> {
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| {
            e.expect("docs/ entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    let mut all = vec!["README.md".to_string()];
    all.extend(docs);
    all
}

/// The blocks of every page of [`pages`].
fn doc_blocks() -> Vec<Block> {
    pages()
        .iter()
        .flat_map(|page| {
            let text = std::fs::read_to_string(root().join(page)).expect(page);
            blocks(page, &text)
        })
        .collect()
}

#[test]
fn the_moved_pages_are_read() {
    let pages = pages();
    for page in [
        "docs/dashboard.md",
        "docs/design.md",
        "docs/monitoring.md",
        "docs/postgres.md",
    ] {
        assert!(
            pages.iter().any(|p| p == page),
            "{page} missing from {pages:?}"
        );
    }
}

/// The kind of a marker: its first word.
fn kind(b: &Block) -> &str {
    b.marker
        .as_deref()
        .and_then(|m| m.split_whitespace().next())
        .unwrap_or("")
}

#[test]
fn every_shell_block_says_how_it_is_tested() {
    let known = [
        "rehearsal",
        "against-rehearsal",
        "rehearsal-end",
        "offline",
        "ci",
        "no",
    ];
    for b in doc_blocks() {
        if b.lang == "sh" && !is_set_up_block(&b) {
            assert!(
                known.contains(&kind(&b)),
                "{} line {}: a ```sh block needs a `<!-- test: KIND -->` line before \
                 it, KIND one of {known:?} (found {:?})",
                b.page,
                b.line,
                b.marker
            );
        }
        if kind(&b) == "no" {
            assert!(
                b.marker.as_deref().is_some_and(|m| m.contains('(')),
                "{} line {}: say why it cannot run: `<!-- test: no (why) -->`",
                b.page,
                b.line
            );
        }
    }
}

/// The two commands of "Set up on a fresh machine".
fn is_set_up_block(b: &Block) -> bool {
    commands(&b.text) == ["cargo run --release -- demo", "cargo test --locked"]
}

/// The command part of each line of a block (comments and blank lines dropped).
fn commands(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split(" #").next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[test]
fn ci_blocks_are_in_ci_run() {
    let ci = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
    let mut blocks = doc_blocks();
    // The set-up section's two commands are CI's job too.
    blocks.retain(|b| kind(b) == "ci" || is_set_up_block(b));
    assert!(blocks.len() >= 2);
    for b in blocks {
        for cmd in commands(&b.text) {
            assert!(
                ci.contains(&cmd),
                "{} line {}: `{cmd}` is not run by .ci/run",
                b.page,
                b.line
            );
        }
    }
}

#[test]
fn config_blocks_are_valid_configs() {
    // A key without a shard suffix, so that an example's `shard` is accepted; one per
    // variable, as each clinic has its own (two orgs may not share a key).
    let env = |name: &str| {
        name.starts_with("CLINIKO_KEY_")
            .then(|| format!("testkey{}", name.to_ascii_lowercase()))
    };
    let mut seen = 0;
    for b in doc_blocks() {
        if b.lang != "toml" || kind(&b) == "no" {
            continue;
        }
        let path = Path::new("/etc/routiq-sync/config.toml");
        let env_with_home = |name: &str| {
            if name == "HOME" {
                Some("/home/routiq".to_string())
            } else if name.ends_with("HASH_SECRET") {
                Some("a-test-secret-of-32-characters!!".to_string())
            } else {
                env(name)
            }
        };
        // A fragment (no `user_agent`) is completed: a `user_agent` line first, and an
        // `[[org]]` last when it has none (the privacy policy's examples).
        let text = if b.text.contains("user_agent") {
            b.text.clone()
        } else if b.text.contains("[[org]]") {
            format!("user_agent = \"Routiq Sync (ops@example.com)\"\n{}", b.text)
        } else {
            format!(
                "user_agent = \"Routiq Sync (ops@example.com)\"\n{}\n[[org]]\nid = \"bondi\"\n\
                 api_key_env = \"CLINIKO_KEY_BONDI\"\n",
                b.text
            )
        };
        routiq_sync::config::parse(&text, path, &env_with_home)
            .unwrap_or_else(|e| panic!("{} line {}: {e}", b.page, b.line));
        seen += 1;
    }
    assert!(seen >= 2, "the quick start and the resources example");
    let example = std::fs::read_to_string(root().join("examples/config.toml")).unwrap();
    let config =
        routiq_sync::config::parse(&example, Path::new("/etc/routiq-sync/config.toml"), &env)
            .unwrap_or_else(|e| panic!("examples/config.toml: {e}"));
    assert_eq!(
        config.orgs.len(),
        3,
        "examples/config.toml has its three orgs"
    );
}

/// A bash command with this build's binaries first on `PATH` and a clean environment.
fn bash(script: &str, home: &Path, cwd: &Path) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_routiq-sync"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("timeout")
        .args(["300", "bash", "-x", "-c", script])
        .current_dir(cwd)
        .env("PATH", path)
        .env("HOME", home)
        .env_remove("ROUTIQ_SYNC_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .output()
        .expect("run bash")
}

fn assert_ran(what: &str, out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{what} failed ({})\n--- stdout\n{}\n--- stderr (bash -x trace)\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn offline_blocks_run() {
    let home = tempfile::tempdir().unwrap();
    let mut ran = 0;
    for b in doc_blocks() {
        if kind(&b) != "offline" {
            continue;
        }
        let script = format!("set -euo pipefail\n{}", b.text);
        let out = bash(&script, home.path(), &root());
        assert_ran(&format!("{} line {}", b.page, b.line), &out);
        ran += 1;
    }
    assert!(ran >= 1);
    let bash_completion = home
        .path()
        .join(".local/share/bash-completion/completions/routiq-sync");
    assert!(
        std::fs::read_to_string(bash_completion)
            .unwrap()
            .contains("check")
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn the_rehearsal_runs_as_written_and_the_sql_examples_answer() {
    let all = doc_blocks();
    let pick = |k: &str| -> String {
        all.iter()
            .filter(|b| kind(b) == k)
            .map(|b| b.text.as_str())
            .collect()
    };
    let (main, extra, end) = (
        pick("rehearsal"),
        pick("against-rehearsal"),
        pick("rehearsal-end"),
    );
    assert!(main.contains("fake-cliniko") && main.contains("8765") && !end.is_empty());
    let script = format!(
        "set -euo pipefail\n\
         trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n\
         {main}\n{extra}\n{end}"
    )
    .replace("8765", &free_port().to_string());
    let home = tempfile::tempdir().unwrap();
    let out = bash(&script, home.path(), home.path());
    assert_ran("the README rehearsal", &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("check passed: 2 of 2 orgs ok"), "{stdout}");
    assert!(stdout.contains("all 2 orgs are healthy"), "{stdout}");
    // Every one of the 200 patients of each fake clinic, as the SQL line prints them.
    assert!(
        stdout.contains("bondi|200\n") && stdout.contains("manly|200\n"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("skipped: synced recently"),
        "the second sync skips both orgs:\n{stderr}"
    );

    // The database the rehearsal synced answers every SQL example with rows.
    let db = home.path().join("routiq-rehearsal/routiq.db");
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("the rehearsal's database");
    let mut ran = 0;
    for b in all
        .iter()
        .filter(|b| b.lang == "sql" && kind(b) != "postgres")
    {
        // The dashboard page's queries name the demo's first org; the rehearsal's is bondi.
        let sql = b.text.replace("'org_1'", "'bondi'");
        let mut stmt = conn
            .prepare(&sql)
            .unwrap_or_else(|e| panic!("{} line {}: {e}", b.page, b.line));
        let columns = stmt.column_count();
        let rows: Vec<Vec<rusqlite::types::Value>> = stmt
            .query_map([], |r| (0..columns).map(|i| r.get(i)).collect())
            .and_then(|rows| rows.collect())
            .unwrap_or_else(|e| panic!("{} line {}: {e}", b.page, b.line));
        // The first example (active patients seen in the last 90 days) must find some;
        // others may be empty on fresh data (nothing was deleted upstream yet).
        if ran == 0 {
            assert!(!rows.is_empty(), "{} line {}: no rows", b.page, b.line);
        }
        ran += 1;
    }
    assert!(ran >= 8, "{ran} SQL examples");
}
