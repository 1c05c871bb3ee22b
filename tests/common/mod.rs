//! Shared harness for the binary tests: a fake Cliniko on 127.0.0.1, a config and a
//! database in a temp dir, and the real `routiq-sync` binary run as a process.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use routiq_sync::fake::{FakeCliniko, FakeOptions, World};
use rusqlite::Connection;
use tempfile::TempDir;

/// One test's world: fake server, temp dir, config.
pub struct TestEnv {
    pub dir: TempDir,
    pub fake: FakeCliniko,
    /// `(org_id, api_key)` of every generated org.
    pub orgs: Vec<(String, String)>,
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Panics with both streams when the exit code is not `code`.
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code {} (wanted {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

impl TestEnv {
    /// `orgs` generated clinics of `patients` patients with `appts` appointments each.
    pub fn new(orgs: usize, patients: usize, appts: usize) -> TestEnv {
        Self::with_options(orgs, patients, appts, FakeOptions::default())
    }

    /// Like [`TestEnv::new`] with fake-server options.
    pub fn with_options(orgs: usize, patients: usize, appts: usize, opts: FakeOptions) -> TestEnv {
        let (world, orgs) = World::demo(orgs, patients, appts, 11);
        Self::from_world(world, orgs, opts)
    }

    /// A test env over a prepared world.
    pub fn from_world(world: World, orgs: Vec<(String, String)>, opts: FakeOptions) -> TestEnv {
        let fake = FakeCliniko::start(world, opts).expect("start fake Cliniko");
        let env = TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
            fake,
            orgs,
        };
        env.write_config("");
        env
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("routiq.db")
    }

    pub fn lock_dir(&self) -> PathBuf {
        self.dir.path().join("locks")
    }

    pub fn key(&self, org: &str) -> String {
        self.orgs
            .iter()
            .find(|(id, _)| id == org)
            .map(|(_, k)| k.clone())
            .expect("known org")
    }

    /// Writes the config with every org (inline keys, the fake's base URL); `extra` is
    /// added to the top-level settings.
    pub fn write_config(&self, extra: &str) {
        let orgs: Vec<(String, String)> = self.orgs.clone();
        self.write_config_with(extra, &orgs);
    }

    /// Writes a config with the given `(org_id, key)` pairs.
    pub fn write_config_with(&self, extra: &str, orgs: &[(String, String)]) {
        self.write_config_orgs(extra, orgs, "");
    }

    /// Writes the config with every org, adding `org_lines` (e.g. `resources = [...]`)
    /// to each `[[org]]` table.
    pub fn write_config_org_lines(&self, org_lines: &str) {
        self.write_config_orgs("", &self.orgs.clone(), org_lines);
    }

    fn write_config_orgs(&self, extra: &str, orgs: &[(String, String)], org_lines: &str) {
        let mut text = format!(
            "database = {:?}\nlock_dir = {:?}\nuser_agent = \"routiq-sync tests (tests@example.com)\"\n",
            self.db_path().display().to_string(),
            self.lock_dir().display().to_string(),
        );
        // Fast defaults for tests, unless `extra` sets the key itself.
        for (key, line) in [
            ("requests_per_minute", "requests_per_minute = 100000"),
            ("retry_attempts", "retry_attempts = 3"),
            ("retry_delay", "retry_delay = \"100ms\""),
        ] {
            if !extra.contains(key) {
                text.push_str(line);
                text.push('\n');
            }
        }
        text.push_str(extra);
        text.push('\n');
        for (id, key) in orgs {
            text.push_str(&format!(
                "[[org]]\nid = {id:?}\napi_key = {key:?}\nbase_url = {:?}\n{org_lines}\n\n",
                self.fake.base_url()
            ));
        }
        write_private(&self.config_path(), &text);
    }

    /// Runs the binary with `-c config` and `args`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// Runs the binary with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().expect("run routiq-sync"))
    }

    /// The command with `-c config`, not yet started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.bare_command(&[]);
        cmd.arg("-c").arg(self.config_path()).args(args);
        cmd
    }

    /// Runs the binary without `-c` (the search order applies).
    pub fn run_bare(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.bare_command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().expect("run routiq-sync"))
    }

    /// The command with a clean environment and no `-c`.
    pub fn bare_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_routiq-sync"));
        cmd.args(args);
        cmd.env_remove("RUST_LOG")
            .env_remove("ROUTIQ_SYNC_CONFIG")
            .env("HOME", self.dir.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME");
        cmd
    }

    pub fn db(&self) -> Connection {
        Connection::open(self.db_path()).expect("open db")
    }

    /// `id -> (updated_at, archived_at, cancelled_at)` of every record the server has.
    pub fn server_rows(&self, org: &str, resource: &str) -> BTreeMap<String, String> {
        let key = self.key(org);
        self.fake.with_world(|w| {
            w.records(&key, resource)
                .iter()
                .map(|r| {
                    let f = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                    (
                        f("id"),
                        format!(
                            "{}|{}|{}",
                            f("updated_at"),
                            f("archived_at"),
                            f("cancelled_at")
                        ),
                    )
                })
                .collect()
        })
    }

    /// The same view of the local table, for rows not marked deleted upstream.
    pub fn local_rows(&self, org: &str, table: &str) -> BTreeMap<String, String> {
        let cancelled = if table == "appointments" || table == "attendees" {
            "cancelled_at"
        } else {
            "NULL"
        };
        let db = self.db();
        let mut stmt = db
            .prepare(&format!(
                "SELECT id, updated_at, archived_at, {cancelled} FROM {table}
                 WHERE org_id = ?1 AND deleted_upstream_at IS NULL"
            ))
            .expect("prepare");
        stmt.query_map([org], |r| {
            let s = |i| r.get::<_, Option<String>>(i).map(Option::unwrap_or_default);
            Ok((
                r.get::<_, String>(0)?,
                format!("{}|{}|{}", s(1)?, s(2)?, s(3)?),
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
    }

    /// Asserts the local copy of `org` equals the server's data exactly.
    pub fn assert_in_sync(&self, org: &str) {
        for (resource, table) in [
            ("patients", "patients"),
            ("individual_appointments", "appointments"),
        ] {
            let server = self.server_rows(org, resource);
            let local = self.local_rows(org, table);
            if server != local {
                let missing: Vec<_> = server
                    .keys()
                    .filter(|k| !local.contains_key(*k))
                    .take(5)
                    .collect();
                let extra: Vec<_> = local
                    .keys()
                    .filter(|k| !server.contains_key(*k))
                    .take(5)
                    .collect();
                let differ: Vec<_> = server
                    .iter()
                    .filter(|(k, v)| local.get(*k).is_some_and(|l| l != *v))
                    .take(5)
                    .collect();
                panic!(
                    "{org} {table}: server {} rows, local {}; missing {missing:?}, extra {extra:?}, differ {differ:?}",
                    server.len(),
                    local.len()
                );
            }
        }
    }

    /// Requests the fake has answered for `org` so far.
    pub fn requests(&self, org: &str) -> u64 {
        self.fake.stats(&self.key(org)).requests
    }
}

pub fn write_private(path: &Path, text: &str) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .expect("write config");
    f.write_all(text.as_bytes()).expect("write config");
}

impl TestEnv {
    /// The stored cursor of `org`'s `resource`.
    pub fn cursor(&self, org: &str, resource: &str) -> Option<String> {
        self.db()
            .query_row(
                "SELECT cursor FROM sync_state WHERE org_id = ?1 AND resource = ?2",
                [org, resource],
                |r| r.get(0),
            )
            .unwrap_or(None)
    }

    /// The newest `updated_at` committed in `table` for `org`.
    pub fn newest_row(&self, org: &str, table: &str) -> Option<String> {
        self.db()
            .query_row(
                &format!("SELECT MAX(updated_at) FROM {table} WHERE org_id = ?1"),
                [org],
                |r| r.get(0),
            )
            .unwrap_or(None)
    }

    /// Asserts SQLite's integrity check passes and no cursor points past committed rows.
    pub fn assert_consistent(&self, org: &str) {
        let db = self.db();
        let check: String = db
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check");
        assert_eq!(check, "ok");
        for (resource, table) in [("patients", "patients"), ("appointments", "appointments")] {
            if let Some(cursor) = self.cursor(org, resource) {
                let newest = self.newest_row(org, table).expect("a cursor implies rows");
                assert!(
                    cursor <= newest,
                    "{org} {resource}: cursor {cursor} is past the newest committed row {newest}"
                );
            }
        }
    }

    /// The single integer a query such as `SELECT COUNT(*) ...` returns.
    pub fn count(&self, sql: &str) -> i64 {
        self.db()
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Lets `org`'s next request (page 1 of a walk) through, then queues `faults` for the
    /// requests after it.
    pub fn fail_after_first_page(&self, org: &str, faults: &[routiq_sync::fake::Fault]) {
        let key = self.key(org);
        self.fake.push_fault(
            &key,
            routiq_sync::fake::Fault::Delay(std::time::Duration::ZERO),
        );
        for f in faults {
            self.fake.push_fault(&key, f.clone());
        }
    }

    /// How many walks of each route the fake saw for `org`: a walk starts with a query
    /// that has no `updated_at` filter.
    pub fn walks(&self, org: &str) -> BTreeMap<String, usize> {
        let mut walks = BTreeMap::new();
        for r in &self.fake.stats(&self.key(org)).log {
            *walks.entry(r.path.clone()).or_insert(0) +=
                usize::from(!r.query.contains("updated_at:"));
        }
        walks
    }

    /// Whether the fake saw exactly one walk of each route `org` read.
    pub fn walked_once(&self, org: &str) -> bool {
        let walks = self.walks(org);
        !walks.is_empty() && walks.values().all(|&n| n == 1)
    }

    /// Starts the binary with `-c config` and `args`, both streams captured.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn routiq-sync")
    }

    /// The status of `org`'s newest run.
    pub fn last_run_status(&self, org: &str) -> Option<String> {
        self.db()
            .query_row(
                "SELECT status FROM runs WHERE org_id = ?1 ORDER BY id DESC LIMIT 1",
                [org],
                |r| r.get(0),
            )
            .ok()
    }
}
