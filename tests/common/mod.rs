//! Shared harness for the binary tests: a fake Cliniko on 127.0.0.1, a config and a
//! database in a temp dir (SQLite) or on a throwaway PostgreSQL ([`pg`]), and the real
//! `routiq-sync` binary run as a process.
#![allow(dead_code)]

pub mod catalogue;
pub mod pg;
pub mod ping;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

use fake_cliniko::{FakeCliniko, FakeOptions, World};
use rusqlite::Connection;
use tempfile::TempDir;

/// Sends `sig` (`TERM`, `INT`, `KILL`, ...) to `child`.
pub fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -{sig} failed");
}

/// Which store a test runs against.
#[derive(Debug, Clone)]
pub enum Backend {
    /// `routiq.db` in the test's temp dir.
    Sqlite,
    /// A fresh database on the test PostgreSQL.
    Postgres(pg::PgDatabase),
}

impl Backend {
    /// A fresh PostgreSQL database, or `None` when the test must be skipped (see [`pg`]).
    #[track_caller]
    pub fn postgres() -> Option<Backend> {
        pg::database().map(Backend::Postgres)
    }

    /// Another store of the same kind, empty: a fresh database on PostgreSQL (one
    /// test's second environment must not share the first's rows).
    pub fn fresh(&self) -> Backend {
        match self {
            Backend::Sqlite => Backend::Sqlite,
            Backend::Postgres(_) => Backend::Postgres(
                pg::database().expect("PostgreSQL was available for the first store"),
            ),
        }
    }
}

/// Defines, for each named `fn name(store: Backend)`, a module `name` with the tests
/// `sqlite` and `postgres` running it on each store.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name($crate::common::Backend::Sqlite)
            }
            #[test]
            fn postgres() {
                if let Some(store) = $crate::common::Backend::postgres() {
                    super::$name(store)
                }
            }
        }
    )*};
}

/// One test's world: fake server, temp dir, config.
pub struct TestEnv {
    pub dir: TempDir,
    pub fake: FakeCliniko,
    /// Where the binary stores its data.
    pub store: Backend,
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

    /// Panics with both streams when stderr lacks `needle`.
    #[track_caller]
    pub fn assert_stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "`{needle}` not in stderr (exit {})\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics with both streams when stderr holds `needle`.
    #[track_caller]
    pub fn assert_stderr_lacks(&self, needle: &str) -> &Run {
        assert!(
            !self.stderr.contains(needle),
            "`{needle}` is in stderr (exit {})\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics with both streams unless some log line on stderr says exactly `message`
    /// (the whole line after its timestamp and level, e.g. `org_1: 1640 stored row(s)
    /// rewritten under the privacy policy 0123456789ab`): a count in it cannot match a
    /// larger one that merely ends with the same digits.
    #[track_caller]
    pub fn assert_logged(&self, message: &str) -> &Run {
        assert!(
            log_messages(&self.stderr).contains(&message),
            "no log line says exactly `{message}` (exit {})\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics when either stream holds `secret` (printed as `what`, never itself).
    #[track_caller]
    pub fn assert_never_prints(&self, what: &str, secret: &str) -> &Run {
        assert_never_prints(what, secret, &self.stdout, &self.stderr);
        self
    }
}

/// The message of each text-format log line of `stderr` (`<timestamp> <LEVEL> <message>`),
/// without its timestamp and level; other lines are left out.
pub fn log_messages(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once(' ')?;
            let (level, message) = rest.split_once(' ')?;
            ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"]
                .contains(&level)
                .then(|| message.trim_start())
        })
        .collect()
}

/// Panics with `text` unless one of its lines is exactly `line`.
#[track_caller]
pub fn assert_has_line(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l == line),
        "no line is exactly `{line}` in:\n{text}"
    );
}

/// Panics with `text` when it lacks `needle`.
#[track_caller]
pub fn assert_has(text: &str, needle: &str) {
    assert!(text.contains(needle), "`{needle}` not in:\n{text}");
}

/// Panics with `text` when it holds `needle`.
#[track_caller]
pub fn assert_lacks(text: &str, needle: &str) {
    assert!(!text.contains(needle), "`{needle}` is in:\n{text}");
}

/// Panics when `stdout` or `stderr` holds `secret`; the message names it as `what` and
/// shows both streams with the secret masked.
#[track_caller]
pub fn assert_never_prints(what: &str, secret: &str, stdout: &str, stderr: &str) {
    assert!(!secret.is_empty(), "{what}: an empty secret proves nothing");
    let mask = |s: &str| s.replace(secret, "<SECRET>");
    assert!(
        !stdout.contains(secret) && !stderr.contains(secret),
        "{what} leaked:\n--- stdout\n{}\n--- stderr\n{}",
        mask(stdout),
        mask(stderr)
    );
}

/// What a [`TestEnv`] is made of, set by name; [`TestEnv::builder`] starts one.
/// Unless told otherwise: SQLite, one generated clinic (`org_1`) of 5 patients with 1
/// appointment each, the fake's default options.
#[must_use = "nothing starts until build()"]
pub struct TestEnvBuilder {
    store: Backend,
    orgs: Option<usize>,
    patients: Option<usize>,
    appointments_each: Option<usize>,
    options: FakeOptions,
    world: Option<(World, Vec<(String, String)>)>,
}

impl TestEnvBuilder {
    /// The store the binary writes to (SQLite unless set).
    pub fn on(mut self, store: Backend) -> Self {
        self.store = store;
        self
    }

    /// How many clinics are generated (`org_1`, `org_2`, …).
    pub fn orgs(mut self, n: usize) -> Self {
        self.orgs = Some(n);
        self
    }

    /// Patients in each generated clinic.
    pub fn patients(mut self, n: usize) -> Self {
        self.patients = Some(n);
        self
    }

    /// Appointments of each generated patient.
    pub fn appointments_each(mut self, n: usize) -> Self {
        self.appointments_each = Some(n);
        self
    }

    /// How the fake Cliniko behaves (latency, faults, hooks, …).
    pub fn options(mut self, options: FakeOptions) -> Self {
        self.options = options;
        self
    }

    /// Serves a prepared `world` instead of generated clinics; `orgs` are its
    /// `(org_id, api_key)` pairs, written to the config. Not to be mixed with the counts.
    pub fn world(mut self, world: World, orgs: Vec<(String, String)>) -> Self {
        self.world = Some((world, orgs));
        self
    }

    /// Starts the fake and writes the config (every org, no extra settings).
    #[track_caller]
    pub fn build(self) -> TestEnv {
        let (world, orgs) = match self.world {
            Some(prepared) => {
                assert!(
                    self.orgs.is_none()
                        && self.patients.is_none()
                        && self.appointments_each.is_none(),
                    "TestEnv::builder(): a prepared world() has its own orgs and records"
                );
                prepared
            }
            None => World::demo(
                self.orgs.unwrap_or(1),
                self.patients.unwrap_or(5),
                self.appointments_each.unwrap_or(1),
                11,
            ),
        };
        let fake = FakeCliniko::start(world, self.options).expect("start fake Cliniko");
        let env = TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
            fake,
            store: self.store,
            orgs,
        };
        env.write_config("");
        env
    }
}

impl TestEnv {
    /// The one way to make a test env: set what the test needs, then `build()`, e.g.
    /// `TestEnv::builder().on(store).orgs(2).patients(250).build()`. See
    /// [`TestEnvBuilder`] for the defaults.
    pub fn builder() -> TestEnvBuilder {
        TestEnvBuilder {
            store: Backend::Sqlite,
            orgs: None,
            patients: None,
            appointments_each: None,
            options: FakeOptions::default(),
            world: None,
        }
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

    /// Writes the config with every org: `extra` at the top level and `org_lines` in
    /// each `[[org]]` table.
    pub fn write_config_and_org_lines(&self, extra: &str, org_lines: &str) {
        self.write_config_orgs(extra, &self.orgs.clone(), org_lines);
    }

    /// Writes the config with every org, adding `lines(org_id)` to each `[[org]]` table.
    pub fn write_config_each(&self, lines: &dyn Fn(&str) -> String) {
        self.write_config_orgs_with("", &self.orgs.clone(), lines);
    }

    fn write_config_orgs(&self, extra: &str, orgs: &[(String, String)], org_lines: &str) {
        self.write_config_orgs_with(extra, orgs, &|_| org_lines.to_string());
    }

    fn write_config_orgs_with(
        &self,
        extra: &str,
        orgs: &[(String, String)],
        org_lines: &dyn Fn(&str) -> String,
    ) {
        let mut text = format!(
            "{}\nlock_dir = {:?}\nuser_agent = \"routiq-sync tests (tests@example.com)\"\n",
            self.database_line(),
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
                "[[org]]\nid = {id:?}\napi_key = {key:?}\nbase_url = {:?}\n{}\n\n",
                self.fake.base_url(),
                org_lines(id)
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

    /// A copy of the config as another host would have it: its own file and its own
    /// `lock_dir` (`host-N/` in the temp dir), the same store. Returns the config path.
    pub fn config_for_host(&self, n: usize) -> PathBuf {
        let dir = self.dir.path().join(format!("host-{n}"));
        std::fs::create_dir_all(&dir).expect("host dir");
        let text = std::fs::read_to_string(self.config_path()).expect("read config");
        let own_locks = format!("lock_dir = {:?}", dir.join("locks").display().to_string());
        let path = dir.join("config.toml");
        write_private(&path, &replace_setting(&text, "lock_dir", &own_locks));
        path
    }

    /// Replaces the config's `key = …` line with `lines` (any TOML, e.g. two settings).
    pub fn set_config_line(&self, key: &str, lines: &str) {
        let text = std::fs::read_to_string(self.config_path()).expect("read config");
        write_private(&self.config_path(), &replace_setting(&text, key, lines));
    }

    /// Whether the binary has created its tables yet.
    pub fn has_tables(&self) -> bool {
        match &self.store {
            Backend::Sqlite => self.db_path().exists(),
            Backend::Postgres(_) => self
                .value("SELECT to_regclass('sync_state')::text", &[])
                .is_some(),
        }
    }

    /// The config line that points the binary at this test's store.
    pub fn database_line(&self) -> String {
        match &self.store {
            Backend::Sqlite => format!("database = {:?}", self.db_path().display().to_string()),
            Backend::Postgres(db) => format!("database = {:?}", db.url()),
        }
    }

    /// The SQLite database (SQLite tests only; see [`TestEnv::rows`] for both stores).
    pub fn db(&self) -> Connection {
        assert!(
            matches!(self.store, Backend::Sqlite),
            "db() is the SQLite file; use rows()/count() on PostgreSQL"
        );
        Connection::open(self.db_path()).expect("open db")
    }

    /// Runs `sql` (placeholders `?1`, `?2`, … with text `params`) on the test's store;
    /// every value comes back as text (timestamps in the wire format), NULL as `None`.
    pub fn rows(&self, sql: &str, params: &[&str]) -> Vec<Vec<Option<String>>> {
        self.try_rows(sql, params)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs a statement on the test's store (placeholders as in [`TestEnv::rows`]; write
    /// timestamps as literals, which both stores read); returns the rows changed.
    pub fn execute(&self, sql: &str, params: &[&str]) -> u64 {
        match &self.store {
            Backend::Sqlite => self
                .db()
                .execute(sql, rusqlite::params_from_iter(params))
                .map(|n| n as u64),
            Backend::Postgres(db) => {
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                return db
                    .client()
                    .execute(&dollar_placeholders(sql), &params)
                    .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            }
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Everything the store holds, as bytes to search: the SQLite file and its WAL, or
    /// every row of every table on PostgreSQL as text.
    pub fn stored_bytes(&self) -> Vec<u8> {
        match &self.store {
            Backend::Sqlite => {
                let mut bytes = std::fs::read(self.db_path()).unwrap_or_default();
                if let Ok(wal) = std::fs::read(self.db_path().with_extension("db-wal")) {
                    bytes.extend(wal);
                }
                bytes
            }
            Backend::Postgres(db) => {
                let mut client = db.client();
                let tables: Vec<String> = client
                    .query(
                        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()",
                        &[],
                    )
                    .expect("list tables")
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                let mut bytes = Vec::new();
                for t in tables {
                    for r in client
                        .query(&format!("SELECT t::text FROM {t} AS t"), &[])
                        .expect("dump table")
                    {
                        bytes.extend(r.get::<_, String>(0).into_bytes());
                    }
                }
                bytes
            }
        }
    }

    /// The tables (not views) with an `org_id` column.
    pub fn org_tables(&self) -> Vec<String> {
        let sql = match &self.store {
            Backend::Sqlite => {
                "SELECT m.name FROM sqlite_master AS m
                 WHERE m.type = 'table'
                   AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) WHERE name = 'org_id')
                 ORDER BY m.name"
            }
            Backend::Postgres(_) => {
                "SELECT c.table_name::text FROM information_schema.columns AS c
                 JOIN information_schema.tables AS t
                   ON t.table_schema = c.table_schema AND t.table_name = c.table_name
                 WHERE c.column_name = 'org_id' AND c.table_schema = current_schema()
                   AND t.table_type = 'BASE TABLE'
                 ORDER BY 1"
            }
        };
        self.rows(sql, &[])
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect()
    }

    /// [`TestEnv::rows`], with the error (e.g. no such table yet) returned.
    pub fn try_rows(&self, sql: &str, params: &[&str]) -> Result<Vec<Vec<Option<String>>>, String> {
        match &self.store {
            Backend::Sqlite => {
                let db = self.db();
                let mut stmt = db.prepare(sql).map_err(|e| e.to_string())?;
                let n = stmt.column_count();
                stmt.query_map(rusqlite::params_from_iter(params), |r| {
                    (0..n)
                        .map(|i| {
                            Ok(match r.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => None,
                                rusqlite::types::ValueRef::Integer(v) => Some(v.to_string()),
                                rusqlite::types::ValueRef::Real(v) => Some(v.to_string()),
                                rusqlite::types::ValueRef::Text(t)
                                | rusqlite::types::ValueRef::Blob(t) => {
                                    Some(String::from_utf8_lossy(t).into_owned())
                                }
                            })
                        })
                        .collect()
                })
                .and_then(|rows| rows.collect())
                .map_err(|e| e.to_string())
            }
            Backend::Postgres(db) => {
                let sql = dollar_placeholders(sql);
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                let rows = db
                    .client()
                    .query(&sql, &params)
                    .map_err(|e| format!("{e:?}"))?;
                Ok(rows
                    .iter()
                    .map(|r| (0..r.len()).map(|i| pg_text(r, i)).collect())
                    .collect())
            }
        }
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
        let sql = format!(
            "SELECT id, updated_at, archived_at, {cancelled} FROM {table}
             WHERE org_id = ?1 AND deleted_upstream_at IS NULL"
        );
        self.rows(&sql, &[org])
            .into_iter()
            .map(|r| {
                let s = |i: usize| r[i].clone().unwrap_or_default();
                (s(0), format!("{}|{}|{}", s(1), s(2), s(3)))
            })
            .collect()
    }

    /// Asserts the local copy of `org`'s patients and individual appointments equals the
    /// server's data exactly: the same ids (none marked deleted upstream), and for each
    /// row every column (the common timestamps and each typed column, derived here from
    /// the fake's JSON by the documented rules, not by the product's parser) and
    /// `raw_json` (as JSON, equal to the record the server holds).
    pub fn assert_in_sync(&self, org: &str) {
        for (resource, table) in [
            ("patients", "patients"),
            ("individual_appointments", "appointments"),
        ] {
            let server = self.server_truth(org, resource, table);
            let local = self.local_truth(org, table);
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
            let mut differ = Vec::new();
            for (id, want) in &server {
                let Some(got) = local.get(id) else { continue };
                for (column, value) in want {
                    if got.get(column) != Some(value) {
                        differ.push(format!(
                            "{id}.{column}: server {value:?}, local {:?}",
                            got.get(column)
                        ));
                    }
                }
            }
            assert!(
                missing.is_empty() && extra.is_empty() && differ.is_empty(),
                "{org} {table}: server {} rows, local {}; missing {missing:?}, extra {extra:?}, \
                 differ (first 5 of {}): {:#?}",
                server.len(),
                local.len(),
                differ.len(),
                &differ[..differ.len().min(5)]
            );
        }
    }

    /// `id -> column -> value` the local `table` should hold for each record the server
    /// has for `org`'s `resource`; `raw_json` is the record's canonical JSON text.
    pub fn server_truth(&self, org: &str, resource: &str, table: &str) -> BTreeMap<String, Row> {
        let key = self.key(org);
        let records = self.fake.with_world(|w| w.records(&key, resource));
        records
            .iter()
            .map(|r| {
                let text = |k: &str| match r.get(k) {
                    Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
                    Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                let ts = |k: &str| text(k).map(|t| canonical_time(&t));
                let flag = |k: &str| {
                    r.get(k)
                        .and_then(|v| v.as_bool())
                        .map(|b| i32::from(b).to_string())
                };
                let link = |name: &str| {
                    r.get(name)
                        .and_then(|l| l.pointer("/links/self"))
                        .and_then(|u| u.as_str())
                        .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
                        .map(str::to_string)
                        .or_else(|| text(&format!("{name}_id")))
                };
                let mut row: Row = [
                    ("id", text("id")),
                    ("created_at", ts("created_at")),
                    ("updated_at", ts("updated_at")),
                    ("archived_at", ts("archived_at")),
                    (
                        "raw_json",
                        Some(serde_json::Value::Object(r.clone()).to_string()),
                    ),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
                let typed: Vec<(&str, Option<String>)> = match table {
                    "patients" => vec![
                        ("first_name", text("first_name")),
                        ("last_name", text("last_name")),
                        ("email", text("email")),
                        ("date_of_birth", text("date_of_birth")),
                        ("phone", dashboard_phone(r.get("patient_phone_numbers"))),
                    ],
                    "appointments" => vec![
                        ("starts_at", ts("starts_at")),
                        ("ends_at", ts("ends_at")),
                        ("cancelled_at", ts("cancelled_at")),
                        ("patient_id", link("patient")),
                        ("practitioner_id", link("practitioner")),
                        ("appointment_type_id", link("appointment_type")),
                        ("business_id", link("business")),
                        ("did_not_arrive", flag("did_not_arrive")),
                        ("patient_arrived", flag("patient_arrived")),
                    ],
                    other => panic!("server_truth knows no table {other}"),
                };
                row.extend(typed.into_iter().map(|(k, v)| (k.to_string(), v)));
                (text("id").expect("every fake record has an id"), row)
            })
            .collect()
    }

    /// `id -> column -> value` of `org`'s rows in `table` not marked deleted upstream,
    /// every column [`TestEnv::server_truth`] names; `raw_json` re-serialised canonically.
    pub fn local_truth(&self, org: &str, table: &str) -> BTreeMap<String, Row> {
        let typed = routiq_sync::resource::Resource::ALL
            .iter()
            .map(|r| routiq_sync::store::table(*r))
            .find(|t| t.name == table)
            .unwrap_or_else(|| panic!("no resource table {table}"))
            .columns;
        let columns: Vec<&str> = ["id", "created_at", "updated_at", "archived_at", "raw_json"]
            .into_iter()
            .chain(typed.iter().copied())
            .collect();
        // `raw_json` is jsonb on PostgreSQL: read as text in both stores.
        let select: Vec<String> = columns
            .iter()
            .map(|c| match *c {
                "raw_json" => "CAST(raw_json AS TEXT)".to_string(),
                c => c.to_string(),
            })
            .collect();
        let sql = format!(
            "SELECT {} FROM {table} WHERE org_id = ?1 AND deleted_upstream_at IS NULL",
            select.join(", ")
        );
        self.rows(&sql, &[org])
            .into_iter()
            .map(|values| {
                let row: Row = columns
                    .iter()
                    .zip(values)
                    .map(|(c, v)| {
                        let v = match *c {
                            "raw_json" => v.map(|j| {
                                serde_json::from_str::<serde_json::Value>(&j)
                                    .unwrap_or_else(|e| panic!("{table} raw_json {j}: {e}"))
                                    .to_string()
                            }),
                            c if c.ends_with("_at") => v.map(|t| canonical_time(&t)),
                            _ => v,
                        };
                        (c.to_string(), v)
                    })
                    .collect();
                (row["id"].clone().expect("id is NOT NULL"), row)
            })
            .collect()
    }

    /// Requests the fake has answered for `org` so far.
    pub fn requests(&self, org: &str) -> u64 {
        self.fake.stats(&self.key(org)).requests
    }
}

/// One row as `column -> value` (text, NULL as `None`).
pub type Row = BTreeMap<String, Option<String>>;

/// A timestamp in the store's wire format, whatever form it came in (text it cannot
/// parse is kept as it is, so a difference still shows).
fn canonical_time(t: &str) -> String {
    routiq_sync::timestamp::Timestamp::parse(t).map_or_else(|| t.to_string(), |t| t.to_string())
}

/// The dashboard `phone` of a patient's `patient_phone_numbers`, as the docs state
/// it: the first `Mobile` entry, else the first entry; its `number` (trimmed), else its
/// `normalized_number`; entries with neither are skipped.
fn dashboard_phone(numbers: Option<&serde_json::Value>) -> Option<String> {
    let usable: Vec<(bool, String)> = numbers?
        .as_array()?
        .iter()
        .filter_map(|e| {
            let field = |k: &str| {
                e.get(k)
                    .and_then(|v| v.as_str())
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
            };
            let number = field("number").or_else(|| field("normalized_number"))?;
            let mobile = e
                .get("phone_type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t.eq_ignore_ascii_case("mobile"));
            Some((mobile, number))
        })
        .collect();
    usable
        .iter()
        .find(|(mobile, _)| *mobile)
        .or(usable.first())
        .map(|(_, n)| n.clone())
}

/// `text` with its top-level `key = …` line replaced by `lines`.
fn replace_setting(text: &str, key: &str, lines: &str) -> String {
    let prefix = format!("{key} = ");
    text.lines()
        .map(|l| if l.starts_with(&prefix) { lines } else { l })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `?1` → `$1`: the harness writes SQLite's placeholders.
fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// One PostgreSQL value as the text SQLite would hold.
fn pg_text(row: &postgres::Row, i: usize) -> Option<String> {
    use postgres::types::Type;
    let ty = row.columns()[i].type_().clone();
    if ty == Type::INT8 {
        row.get::<_, Option<i64>>(i).map(|v| v.to_string())
    } else if ty == Type::INT4 {
        row.get::<_, Option<i32>>(i).map(|v| v.to_string())
    } else if ty == Type::BOOL {
        row.get::<_, Option<bool>>(i)
            .map(|v| i32::from(v).to_string())
    } else if ty == Type::TIMESTAMPTZ {
        row.get::<_, Option<time::OffsetDateTime>>(i)
            .map(|t| routiq_sync::timestamp::Timestamp::from_datetime(t).to_string())
    } else if ty == Type::FLOAT8 {
        row.get::<_, Option<f64>>(i).map(|v| v.to_string())
    } else {
        row.get::<_, Option<String>>(i)
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
    /// The first value of the first row of `sql` on the test's store.
    pub fn value(&self, sql: &str, params: &[&str]) -> Option<String> {
        self.rows(sql, params)
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
    }

    /// [`TestEnv::value`], `None` also when the query fails (no tables yet).
    fn value_if_any(&self, sql: &str, params: &[&str]) -> Option<String> {
        self.try_rows(sql, params)
            .ok()?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
    }

    /// The stored cursor of `org`'s `resource`.
    pub fn cursor(&self, org: &str, resource: &str) -> Option<String> {
        self.value_if_any(
            "SELECT cursor FROM sync_state WHERE org_id = ?1 AND resource = ?2",
            &[org, resource],
        )
    }

    /// The newest `updated_at` committed in `table` for `org`.
    pub fn newest_row(&self, org: &str, table: &str) -> Option<String> {
        self.value_if_any(
            &format!("SELECT MAX(updated_at) FROM {table} WHERE org_id = ?1"),
            &[org],
        )
    }

    /// Asserts the store is sound (SQLite's integrity check) and no cursor points past
    /// committed rows.
    pub fn assert_consistent(&self, org: &str) {
        if matches!(self.store, Backend::Sqlite) {
            let check: String = self
                .db()
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .expect("integrity_check");
            assert_eq!(check, "ok");
        }
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
        self.value(sql, &[])
            .unwrap_or_else(|| panic!("{sql}: no value"))
            .parse()
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Lets `org`'s next request (page 1 of a walk) through, then queues `faults` for the
    /// requests after it.
    pub fn fail_after_first_page(&self, org: &str, faults: &[fake_cliniko::Fault]) {
        let key = self.key(org);
        self.fake
            .push_fault(&key, fake_cliniko::Fault::Delay(std::time::Duration::ZERO));
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

    /// `child`, stopped by a signal between pages, exits 1 with its run of `org`
    /// recorded `interrupted` and the store consistent; the next run makes an exact copy.
    pub fn assert_interrupted_then_caught_up(&self, child: Child, org: &str) {
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert_has(&stderr, "interrupted");
        assert_eq!(self.last_run_status(org).as_deref(), Some("interrupted"));
        self.assert_consistent(org);
        self.run(&["sync", "--all"]).expect_code(0);
        self.assert_in_sync(org);
    }

    /// The status of `org`'s newest run.
    pub fn last_run_status(&self, org: &str) -> Option<String> {
        self.value_if_any(
            "SELECT status FROM runs WHERE org_id = ?1 ORDER BY id DESC LIMIT 1",
            &[org],
        )
    }

    /// Waits until a run has committed `org`'s patients cursor (its tables exist then):
    /// a page, or with a transaction held across pages, a batch of them. Panics, killing
    /// `child`, when it exits first or `limit` passes.
    pub fn wait_for_patients_cursor(
        &self,
        org: &str,
        child: &mut std::process::Child,
        limit: std::time::Duration,
    ) {
        let started = std::time::Instant::now();
        while self
            .has_tables()
            .then(|| self.cursor(org, "patients"))
            .flatten()
            .is_none()
        {
            if started.elapsed() > limit || child.try_wait().expect("try_wait").is_some() {
                let _ = child.kill();
                panic!("the run never committed a page while running");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl TestEnv {
    /// The raw bytes of the store's files: the SQLite database and its WAL, or the data
    /// files of the PostgreSQL database's tables, TOAST tables and indexes (see
    /// [`pg::relation_file_bytes`]; `None` there, after the skip line, on a server the
    /// tests did not start).
    #[track_caller]
    pub fn file_bytes(&self) -> Option<Vec<u8>> {
        match &self.store {
            Backend::Sqlite => {
                let mut bytes = std::fs::read(self.db_path()).unwrap_or_default();
                for companion in ["db-wal", "db-journal"] {
                    if let Ok(more) = std::fs::read(self.db_path().with_extension(companion)) {
                        bytes.extend(more);
                    }
                }
                Some(bytes)
            }
            Backend::Postgres(db) => pg::relation_file_bytes(db),
        }
    }
}

impl TestEnv {
    /// On PostgreSQL, creates the tables with `raw_json` kept uncompressed, so that
    /// [`TestEnv::file_bytes`] sees what it holds (see [`pg::uncompressed_raw_json`]);
    /// nothing on SQLite, which never compresses.
    pub fn uncompressed_raw_json(&self) {
        if let Backend::Postgres(db) = &self.store {
            pg::uncompressed_raw_json(db);
        }
    }

    /// Panics when a PostgreSQL table lost [`TestEnv::uncompressed_raw_json`]'s setting.
    #[track_caller]
    pub fn assert_raw_json_uncompressed(&self) {
        if let Backend::Postgres(db) = &self.store {
            pg::assert_raw_json_uncompressed(db);
        }
    }
}

/// How many times `needle` occurs in `haystack`.
pub fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}
