//! Benchmark of routiq-sync against the fake Cliniko (issue 4): API calls, memory and
//! throughput, printed as a table with each target and PASS/MISS.
//!
//! ```text
//! cargo run --release --example bench -- [--quick] [--client PATH] [--baseline PATH] [a] ... [k]
//! ```
//!
//! The fake server (`fake-cliniko`) runs as its own process and the real `routiq-sync`
//! binary runs as a child with a generated config, so the client's wall time, CPU time
//! and peak RSS are its own. Both binaries are built in release mode first.
//! Scenarios: a. full sync of 20k and 200k records; b. incremental sync after 20 + 20
//! changes; c. 50 orgs with 150 ms latency, `--jobs 1` vs `--jobs 8`; d. full sync
//! under a 200/min rate limit; e. `status --json` on 1,000,000 rows; f. bytes written by
//! a first full sync, a second one over unchanged data and a verify (`wchar`); g. the
//! requests of a verify that finds 3 hard deletes against a full walk; h. one org's full
//! sync into SQLite against PostgreSQL; i. three hosts sharing orgs on one PostgreSQL;
//! j. rows updated and WAL written on PostgreSQL by a second full and a verify over
//! unchanged data; k. `status --json` over 300 and 1,000 orgs on SQLite and on a durable
//! PostgreSQL (and through PgBouncer), with the messages and round trips it sends
//! (`--baseline PATH` times an older build on the same databases too).
//! `--quick`
//! shrinks every scenario (about a minute in all). See docs/performance.md.

#[path = "bench/child.rs"]
mod child;
#[path = "bench/client.rs"]
mod client;
#[path = "bench/fake.rs"]
mod fake;
#[path = "../tests/common/pg.rs"]
mod pg;
#[path = "bench/scenarios.rs"]
mod scenarios;
#[path = "bench/status_db.rs"]
mod status_db;
#[path = "bench/status_orgs.rs"]
mod status_orgs;
#[path = "bench/table.rs"]
mod table;

use std::path::Path;
use std::process::{Command, ExitCode};

use scenarios::{Bins, Sizes};
use table::Table;

const USAGE: &str =
    "usage: cargo run --release --example bench -- [--quick] [--client PATH] [--baseline PATH] [a|b|c|d|e|f|g|h|i|j|k ...]
  --quick          smaller sizes (about a minute in all)
  --client PATH    measure another routiq-sync binary (e.g. an older build) against this fake
  --baseline PATH  scenario k also times this routiq-sync binary (e.g. an older build)";

/// Builds the release binaries next to this example and returns their paths.
fn build_binaries() -> Result<Bins, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    // This program is <target>/<profile>/examples/bench.
    let target = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .ok_or("cannot find the target directory")?
        .to_path_buf();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let status = Command::new(cargo)
        .args(["build", "--release", "--bins", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building the release binaries failed".into());
    }
    let release = target.join("release");
    Ok(Bins {
        client: release.join("routiq-sync"),
        fake: release.join("fake-cliniko"),
        baseline: None,
    })
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs ({model})")
}

fn main() -> ExitCode {
    let mut quick = false;
    let mut client: Option<std::path::PathBuf> = None;
    let mut baseline: Option<std::path::PathBuf> = None;
    let mut which: Vec<char> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--client" => match args.next() {
                Some(p) => client = Some(p.into()),
                None => {
                    eprintln!("bench: --client needs a path\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--baseline" => match args.next() {
                Some(p) => baseline = Some(p.into()),
                None => {
                    eprintln!("bench: --baseline needs a path\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            s if s.len() == 1 && "abcdefghijk".contains(s) => which.extend(s.chars()),
            other => {
                eprintln!("bench: unknown argument `{other}`\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    if which.is_empty() {
        which = "abcdefghijk".chars().collect();
    }
    let mut bins = match build_binaries() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(c) = client {
        bins.client = c;
    }
    bins.baseline = baseline;
    let sizes = if quick { Sizes::quick() } else { Sizes::full() };
    let mut table = Table::default();
    let mut failed = false;
    for s in which {
        eprintln!("bench: scenario {s}...");
        if let Err(e) = scenarios::run(s, &bins, &sizes, &mut table) {
            eprintln!("bench: scenario {s} failed: {e}");
            table.check(&format!("{s}."), "scenario failed", e, "", false);
            failed = true;
        }
    }
    println!(
        "routiq-sync benchmark{} on {}, client {}\n",
        if quick { " (--quick)" } else { "" },
        machine(),
        bins.client.display()
    );
    print!("{}", table.render());
    let misses = table.rows.iter().filter(|r| r.pass == Some(false)).count();
    println!(
        "\n{}",
        if table.all_pass() {
            "every target met".to_string()
        } else {
            format!("{misses} target(s) missed")
        }
    );
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
