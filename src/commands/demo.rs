//! `demo`: the real sync, end to end, against a built-in fake Cliniko on 127.0.0.1.
//!
//! Starts the fake with generated clinics, writes a config and database into a folder,
//! runs a full sync, makes a few upstream changes, runs an incremental sync, deletes a
//! record upstream and runs a verify that finds it, and prints status and what the
//! incremental run and the verify cost against the full run.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::output::{self, outln};
use super::sync::{RunRequest, run_with_config};
use super::{CommandError, Exit, Globals};
use crate::cli::DemoArgs;
use crate::engine::{Command, OrgReport};
use crate::timestamp::Timestamp;
use fake_cliniko::{FakeCliniko, FakeOptions, World};

/// Runs the demo.
pub fn run(globals: &Globals, args: &DemoArgs) -> Result<Exit, CommandError> {
    let (dir, temporary) = match &args.dir {
        Some(d) => (d.clone(), false),
        None => (fresh_temp_dir(), true),
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        let text = format!("cannot create {}: {e}", dir.display());
        // A `--dir` that cannot be a folder is a bad flag; a temp dir that fails is not.
        if temporary {
            CommandError::Other(anyhow::anyhow!(text))
        } else {
            CommandError::Usage(text)
        }
    })?;
    let result = demo_in(globals, args, &dir);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn demo_in(globals: &Globals, args: &DemoArgs, dir: &Path) -> Result<Exit, CommandError> {
    outln!(
        "Generating {} clinics with {} patients and about {} appointments each...",
        args.orgs,
        args.patients,
        args.patients * args.appointments_per_patient
    )?;
    let (world, orgs) = World::demo(
        args.orgs as usize,
        args.patients as usize,
        args.appointments_per_patient as usize,
        2026,
    );
    let fake = FakeCliniko::start(world, FakeOptions::default())
        .map_err(|e| CommandError::Other(anyhow::anyhow!("cannot start the fake Cliniko: {e}")))?;
    outln!("Fake Cliniko listening at {}", fake.base_url())?;

    let config_path = dir.join("config.toml");
    write_config(&config_path, dir, &fake.base_url(), &orgs)?;
    outln!("Config and database in {}\n", dir.display())?;
    let config = super::load_config(&Globals {
        config: Some(config_path),
        ..globals.clone()
    })?;

    outln!("1. Full sync of every org (the first run always is one):")?;
    let full = run_with_config(&config, &request(Command::Full), globals.show_progress)?;

    let mut changed = 0;
    for (i, (org_id, key)) in orgs.iter().enumerate() {
        let changes =
            fake.with_world(|w| w.apply_random_changes(key, args.changes as usize, 7 + i as u64));
        if let Ok(c) = changes {
            changed += c.total();
            outln!("   upstream change in {org_id}: {c}")?;
        }
    }

    outln!("\n2. Incremental sync (--force, since the last run was seconds ago):")?;
    let incremental = run_with_config(
        &config,
        &RunRequest {
            force: true,
            ..request(Command::Sync)
        },
        globals.show_progress,
    )?;

    let (full_calls, full_rows) = sums(&full);
    let (inc_calls, inc_rows) = sums(&incremental);
    outln!(
        "\nThe incremental run fetched {inc_rows} records ({changed} changed upstream, plus boundary re-reads) \
         with {inc_calls} API calls; the full run fetched {full_rows} records with {full_calls} calls: \
         {:.1}% fewer requests.\n",
        100.0 * (1.0 - inc_calls as f64 / full_calls.max(1) as f64)
    )?;

    outln!("3. A patient hard-deleted in Cliniko in each org, then a verify (by counts):")?;
    for (org_id, key) in &orgs {
        let gone = fake.with_world(|w| {
            let ids = w.ids(key, "patients");
            let id = ids.get(ids.len() / 3)?.clone();
            w.hard_delete(key, "patients", &id).ok().map(|_| id)
        });
        if let Some(id) = gone {
            outln!("   deleted upstream in {org_id}: patient {id}")?;
        }
    }
    outln!()?;
    let verify = run_with_config(&config, &request(Command::Verify), globals.show_progress)?;
    let (verify_calls, _) = sums(&verify);
    let found: u64 = verify
        .iter()
        .flat_map(|r| r.resources.values())
        .map(|c| c.deleted)
        .sum();
    outln!(
        "\nThe verify found {found} deleted record{} with {verify_calls} API calls \
         ({:.1} per org; a full walk of every org took {full_calls}).\n",
        if found == 1 { "" } else { "s" },
        verify_calls as f64 / orgs.len().max(1) as f64
    )?;
    let status = super::status::build(&config, &[], None, Timestamp::now())?;
    output::print(&super::status::render_table(&status, Timestamp::now()))?;
    let failed = full
        .iter()
        .chain(&incremental)
        .chain(&verify)
        .any(OrgReport::failed);
    Ok(if failed { Exit::Failure } else { Exit::Success })
}

fn request(command: Command) -> RunRequest {
    RunRequest {
        command,
        force: false,
        orgs: Vec::new(),
        resources: Vec::new(),
        jobs: None,
        max_run_time: None,
    }
}

fn sums(reports: &[OrgReport]) -> (u64, u64) {
    let calls = reports.iter().map(|r| r.api_calls).sum();
    let rows = reports
        .iter()
        .flat_map(|r| r.resources.values())
        .map(|c| c.fetched)
        .sum();
    (calls, rows)
}

fn write_config(
    path: &Path,
    dir: &Path,
    base_url: &str,
    orgs: &[(String, String)],
) -> Result<(), CommandError> {
    let mut text = format!(
        "# Written by `routiq-sync demo` for a local fake Cliniko.\n\
         database = {db:?}\n\
         user_agent = \"routiq-sync demo (demo@example.com)\"\n\
         # Cliniko's documented limit is 200 per minute per user; stay below it.\n\
         requests_per_minute = 180\n\
         jobs = 4\n",
        db = dir.join("routiq-sync.db").display().to_string(),
    );
    for (id, key) in orgs {
        text.push_str(&format!(
            "\n[[org]]\nid = {id:?}\nname = \"Demo clinic {id}\"\napi_key = {key:?}\nbase_url = {base_url:?}\n"
        ));
    }
    write_private(path, &text)
        .map_err(|e| CommandError::Other(anyhow::anyhow!("cannot write {}: {e}", path.display())))
}

/// Writes a file only its owner can read (it holds inline keys).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

fn fresh_temp_dir() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::env::temp_dir().join(format!("routiq-sync-demo-{}-{nanos}", std::process::id()))
}
