//! The real `routiq-sync` binary with a generated config (database, locks and config in a
//! temp dir, inline keys, the fake's URL), run as a measured child process.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::child::{Measured, run_measured};
use crate::pg::PgDatabase;

/// The variable holding the `hash` secret of the privacy policy runs.
const HASH_SECRET_ENV: &str = "ROUTIQ_BENCH_HASH_SECRET";

/// Where a scenario's client stores its data.
#[derive(Debug, Clone)]
pub enum Store {
    /// `routiq.db` in the scenario's temp dir.
    Sqlite,
    /// A database on the benchmark's PostgreSQL.
    Postgres(PgDatabase),
}

/// A config and database for one scenario.
pub struct ClientEnv {
    dir: TempDir,
    bin: PathBuf,
    pub config: PathBuf,
    store: Store,
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
        Self::new_on(Store::Sqlite, bin, base_url, orgs, requests_per_minute)
    }

    /// [`ClientEnv::new`] on `store`.
    pub fn new_on(
        store: Store,
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
        let database = match &store {
            Store::Sqlite => dir.path().join("routiq.db").display().to_string(),
            Store::Postgres(db) => db.url(),
        };
        let mut text = format!(
            "database = {database:?}\nlock_dir = {:?}\nuser_agent = \"routiq-sync benchmark (bench@example.com)\"\n\
             requests_per_minute = {requests_per_minute}\n\n",
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
            store,
        })
    }

    /// A copy of the config with its own lock folder, as a second host would have it.
    pub fn config_for_host(&self, n: usize) -> Result<PathBuf, String> {
        let text = std::fs::read_to_string(&self.config).map_err(|e| e.to_string())?;
        let locks = self.dir.path().join(format!("locks-{n}"));
        let text = text
            .lines()
            .map(|l| {
                if l.starts_with("lock_dir = ") {
                    format!("lock_dir = {:?}", locks.display().to_string())
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let path = self.dir.path().join(format!("config-{n}.toml"));
        write_private(&path, &text)?;
        Ok(path)
    }

    /// A copy of the config with only its first `orgs` orgs, and with `database` in place
    /// of its own when given (the same database through a pooler or a proxy).
    pub fn config_variant(&self, orgs: usize, database: Option<&str>) -> Result<PathBuf, String> {
        let text = std::fs::read_to_string(&self.config).map_err(|e| e.to_string())?;
        let mut blocks = text.split("[[org]]\n");
        let mut head = blocks.next().unwrap_or_default().to_string();
        if let Some(url) = database {
            head = head
                .lines()
                .map(|l| {
                    if l.starts_with("database = ") {
                        format!("database = {url:?}\n")
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect();
        }
        let kept: Vec<&str> = blocks.take(orgs).collect();
        let text = format!("{head}[[org]]\n{}", kept.join("[[org]]\n"));
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = self.dir.path().join(format!("config-variant-{n}.toml"));
        write_private(&path, &text)?;
        Ok(path)
    }

    /// The command `routiq-sync -c CONFIG -q --no-progress ARGS`, not started.
    pub fn command(&self, config: &Path, args: &[&str]) -> Command {
        self.command_of(&self.bin, config, args)
    }

    /// [`ClientEnv::command`] of another `routiq-sync` binary (an older build).
    pub fn command_of(&self, bin: &Path, config: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin);
        cmd.arg("-c")
            .arg(config)
            .args(["-q", "--no-progress"])
            .args(args)
            .env_remove("RUST_LOG")
            .env(
                HASH_SECRET_ENV,
                "routiq-sync benchmark hash secret 0123456789",
            );
        cmd
    }

    /// Adds the recommended dashboard privacy policy (docs/privacy.md) to the config.
    pub fn with_privacy_policy(self) -> Result<ClientEnv, String> {
        let text = std::fs::read_to_string(&self.config).map_err(|e| e.to_string())?;
        let at = text.find("[[org]]").unwrap_or(text.len());
        let policy = format!(
            "hash_secret_env = {HASH_SECRET_ENV:?}\n\
             [privacy.patients]\n\
             keep = [\"first_name\", \"last_name\", \"email\", \"date_of_birth\", \"sex\", \
             \"city\", \"state\", \"country\", \"patient_phone_numbers[].number\", \
             \"patient_phone_numbers[].normalized_number\", \
             \"patient_phone_numbers[].phone_type\", \"reminder_type\", \
             \"accepted_email_marketing\", \"accepted_sms_marketing\", \"time_zone\"]\n\
             hash = [\"email\", \"patient_phone_numbers[].number\", \
             \"patient_phone_numbers[].normalized_number\"]\n\
             year = [\"date_of_birth\"]\n\
             [privacy.appointments]\n\
             keep = [\"cancellation_reason\", \"cancellation_reason_description\", \
             \"did_not_arrive\", \"patient_arrived\", \"invoice_status\", \
             \"treatment_note_status\", \"repeated_from\"]\n\n"
        );
        write_private(
            &self.config,
            &format!("{}{policy}{}", &text[..at], &text[at..]),
        )?;
        Ok(self)
    }

    /// How many runs each org has in the store, per org id.
    pub fn runs_per_org(&self) -> Result<Vec<(String, i64)>, String> {
        let sql = "SELECT org_id, COUNT(*) FROM runs GROUP BY org_id ORDER BY org_id";
        match &self.store {
            Store::Sqlite => {
                let conn = rusqlite::Connection::open(self.db_path()).map_err(|e| e.to_string())?;
                let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(|e| e.to_string())?;
                rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
            }
            Store::Postgres(db) => Ok(db
                .client()
                .query(sql, &[])
                .map_err(|e| e.to_string())?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect()),
        }
    }

    /// The PostgreSQL database, when the store is one.
    pub fn postgres(&self) -> Option<&PgDatabase> {
        match &self.store {
            Store::Postgres(db) => Some(db),
            Store::Sqlite => None,
        }
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("routiq.db")
    }

    /// Runs `routiq-sync -c CONFIG -q --no-progress ARGS`, measured; an error when it fails.
    pub fn run(&self, args: &[&str]) -> Result<Measured, String> {
        let cmd = self.command(&self.config, args);
        run_measured(cmd)?.ok(&format!("routiq-sync {}", args.join(" ")))
    }

    /// Deletes the database (and its WAL), or empties the PostgreSQL schema, so the next
    /// run starts from nothing.
    pub fn reset_db(&self) -> Result<(), String> {
        if let Store::Postgres(db) = &self.store {
            return db
                .client()
                .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
                .map_err(|e| e.to_string());
        }
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
    pub fn count_rows(&self, cond: &str) -> Result<u64, String> {
        if let Store::Postgres(db) = &self.store {
            let mut client = db.client();
            let mut total = 0;
            for table in ["patients", "appointments"] {
                let sql = format!(
                    "SELECT COUNT(*) FROM {table} WHERE {}",
                    cond.replace("raw_json LIKE", "raw_json::text LIKE")
                );
                let n: i64 = client
                    .query_one(&sql, &[])
                    .map_err(|e| e.to_string())?
                    .get(0);
                total += n as u64;
            }
            return Ok(total);
        }
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
