//! The real `routiq-sync` binary with a generated config (database, locks and config in a
//! temp dir, inline keys, the fake's URL), run as a measured child process.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::child::{Measured, run_measured};

/// A config and database for one scenario.
pub struct ClientEnv {
    dir: TempDir,
    bin: PathBuf,
    pub config: PathBuf,
}

impl ClientEnv {
    /// A config listing `orgs` (`(org_id, api_key)`) at `base_url`, with the client
    /// spacing each key's requests at `requests_per_minute`. The scenarios measure the
    /// two record resources (patients and appointments), so the orgs sync only those;
    /// each reference resource adds one request per route to an incremental run.
    pub fn new(
        bin: &Path,
        base_url: &str,
        orgs: &[(String, String)],
        requests_per_minute: u32,
    ) -> Result<ClientEnv, String> {
        let dir = tempfile::Builder::new()
            .prefix("routiq-bench-")
            .tempdir()
            .map_err(|e| format!("cannot create a temp dir: {e}"))?;
        let config = dir.path().join("config.toml");
        let mut text = format!(
            "database = {:?}\nlock_dir = {:?}\nuser_agent = \"routiq-sync benchmark (bench@example.com)\"\n\
             requests_per_minute = {requests_per_minute}\n\n",
            dir.path().join("routiq.db").display().to_string(),
            dir.path().join("locks").display().to_string(),
        );
        for (id, key) in orgs {
            text.push_str(&format!(
                "[[org]]\nid = {id:?}\napi_key = {key:?}\nbase_url = {base_url:?}\n\
                 resources = [\"patients\", \"appointments\"]\n\n"
            ));
        }
        write_private(&config, &text)?;
        Ok(ClientEnv {
            dir,
            bin: bin.to_path_buf(),
            config,
        })
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("routiq.db")
    }

    /// Runs `routiq-sync -c CONFIG -q --no-progress ARGS`, measured; an error when it fails.
    pub fn run(&self, args: &[&str]) -> Result<Measured, String> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("-c")
            .arg(&self.config)
            .args(["-q", "--no-progress"])
            .args(args)
            .env_remove("RUST_LOG");
        run_measured(cmd)?.ok(&format!("routiq-sync {}", args.join(" ")))
    }

    /// Deletes the database (and its WAL), so the next run starts from nothing.
    pub fn reset_db(&self) -> Result<(), String> {
        let db = self.db_path();
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", db.display()));
            if p.exists() {
                std::fs::remove_file(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            }
        }
        Ok(())
    }

    /// Rows in the store not marked deleted upstream, all orgs and resources.
    pub fn present_rows(&self) -> Result<u64, String> {
        self.count_rows("deleted_upstream_at IS NULL")
    }

    /// Rows whose stored JSON carries the benchmark's change marker (see `/__change`).
    pub fn rows_changed_by_benchmark(&self) -> Result<u64, String> {
        self.count_rows("raw_json LIKE '%Changed by the benchmark.%'")
    }

    /// Rows of both tables matching the SQL condition `cond`.
    pub fn count_rows_where(&self, cond: &str) -> Result<u64, String> {
        self.count_rows(cond)
    }

    /// Rows of both tables matching the SQL condition `cond`.
    fn count_rows(&self, cond: &str) -> Result<u64, String> {
        let conn = rusqlite::Connection::open(self.db_path()).map_err(|e| e.to_string())?;
        let mut total = 0;
        for table in ["patients", "appointments"] {
            let n: i64 = conn
                .query_row(
                    &format!("SELECT COUNT(*) FROM {table} WHERE {cond}"),
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| e.to_string())?;
            total += n as u64;
        }
        Ok(total)
    }
}

/// Writes a file readable by its owner only (the config holds API keys).
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
