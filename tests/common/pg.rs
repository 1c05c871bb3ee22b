//! A throwaway PostgreSQL for the tests: one cluster per test binary, started on first
//! use (initdb in a temp dir, a free port on 127.0.0.1, password auth for one role) and
//! stopped when the process exits; one fresh database per test. With
//! `ROUTIQ_TEST_DATABASE_URL` set, that server is used instead (its role must be allowed
//! to create databases).
//!
//! Where no PostgreSQL can be started the tests that need one print a loud notice and
//! pass without running, unless every test must run (see [`strict`]: CI), which makes
//! them fail. [`skip`] is that rule for any test missing a tool it needs.
#![allow(dead_code)]

// Beside this file, so that a test binary including only this file has it too.
#[path = "skip.rs"]
pub mod skip_rule;
pub use skip_rule::{skip, strict};

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The folder holding `initdb`, `postgres` and `pg_ctl`, found once (see [`find_pg_bin`]).
fn pg_bin() -> Result<&'static Path, String> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(find_pg_bin)
        .as_deref()
        .map_err(|e| e.clone())
}

/// Where the server binaries are, first match wins: `$ROUTIQ_TEST_PG_BIN`; `pg_config
/// --bindir`; the newest Debian/Ubuntu `/usr/lib/postgresql/N/bin`; the newest RHEL
/// `/usr/pgsql-N/bin`; a folder on `$PATH` with `initdb` (Homebrew, Nix, a source build).
/// A folder counts only when it holds all three programs the harness runs.
fn find_pg_bin() -> Result<PathBuf, String> {
    let complete = |dir: &Path| {
        ["initdb", "postgres", "pg_ctl"]
            .iter()
            .all(|p| dir.join(p).is_file())
    };
    if let Some(dir) = std::env::var_os("ROUTIQ_TEST_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if complete(&dir) {
            Ok(dir)
        } else {
            Err(format!(
                "ROUTIQ_TEST_PG_BIN={} lacks initdb, postgres or pg_ctl",
                dir.display()
            ))
        };
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    // Versioned folders, newest major first (numerically: 9.6 < 10 < 15).
    let versioned = |parent: &str, prefix: &str, suffix: &str| -> Vec<PathBuf> {
        let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(parent)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let version = name.strip_prefix(prefix)?;
                let key = version
                    .split('.')
                    .map(|n| n.parse().ok())
                    .collect::<Option<Vec<u32>>>()?;
                Some((key, e.path().join(suffix)))
            })
            .collect();
        found.sort();
        found.into_iter().rev().map(|(_, p)| p).collect()
    };
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        // `initdb` on PATH may be a symlink into the real folder; its siblings are there.
        .filter_map(|d| std::fs::canonicalize(d.join("initdb")).ok())
        .filter_map(|p| p.parent().map(Path::to_path_buf));
    let candidates: Vec<PathBuf> = from_pg_config
        .into_iter()
        .chain(versioned("/usr/lib/postgresql", "", "bin"))
        .chain(versioned("/usr", "pgsql-", "bin"))
        .chain(on_path)
        .collect();
    candidates
        .iter()
        .find(|d| complete(d))
        .cloned()
        .ok_or_else(|| {
            format!(
                "no PostgreSQL server binaries (initdb, postgres, pg_ctl) in {candidates:?}; \
                 set ROUTIQ_TEST_PG_BIN to their folder"
            )
        })
}

/// Whether the cluster keeps fsync on (the benchmark); see [`durable`].
static DURABLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Asks for a durable cluster for measurements: fsync, full_page_writes and
/// synchronous_commit on (every commit waits for its WAL to reach the disk), server
/// defaults otherwise. Call before the first [`database`].
pub fn durable() {
    DURABLE.store(true, Ordering::Relaxed);
}

/// The role the tests (and the binary under test) log in as.
pub const ROLE: &str = "routiq";

/// One test's database.
#[derive(Debug, Clone)]
pub struct PgDatabase {
    pub host: String,
    pub port: u16,
    pub name: String,
    pub user: String,
    /// Never to appear in any output of the binary.
    pub password: String,
    /// The port of a [`PgBouncer`] the binary reaches it through (see
    /// [`PgDatabase::through`]), `None` for a direct connection.
    pub pooler_port: Option<u16>,
}

impl PgDatabase {
    /// `postgres://user:password@host:port/name?sslmode=disable` (through the pooler
    /// when there is one).
    pub fn url(&self) -> String {
        self.url_with_password(&self.password)
    }

    /// The URL with another password (to test a failed login).
    pub fn url_with_password(&self, password: &str) -> String {
        format!(
            "postgres://{}:{}@{}:{}/{}?sslmode=disable",
            self.user,
            password,
            self.host,
            self.pooler_port.unwrap_or(self.port),
            self.name
        )
    }

    /// The same database reached through `bouncer` by the binary ([`PgDatabase::url`]);
    /// [`PgDatabase::client`] still goes to the server directly.
    pub fn through(&self, bouncer: &PgBouncer) -> PgDatabase {
        PgDatabase {
            pooler_port: Some(bouncer.port),
            ..self.clone()
        }
    }

    /// A client session as the test role, on the server directly.
    pub fn client(&self) -> postgres::Client {
        let direct = PgDatabase {
            pooler_port: None,
            ..self.clone()
        };
        postgres::Client::connect(&direct.url(), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to test database {}: {e}", self.name))
    }
}

/// A server the tests may create databases on.
struct Server {
    /// The CA that signed the server's TLS certificate (for `localhost` only), when the
    /// cluster was started with TLS.
    ca: Option<PathBuf>,
    /// Admin connection parameters (libpq key=value form).
    admin: String,
    host: String,
    port: u16,
    user: String,
    password: String,
}

/// A fresh, empty database owned by the test role; `None` (after a loud notice) when no
/// PostgreSQL is available and it is not required.
#[track_caller]
pub fn database() -> Option<PgDatabase> {
    let server = server()?;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "t_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = postgres::Client::connect(&server.admin, postgres::NoTls)
        .unwrap_or_else(|e| panic!("connect to the test PostgreSQL as admin: {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name} OWNER {}", server.user))
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    Some(PgDatabase {
        host: server.host.clone(),
        port: server.port,
        name,
        user: server.user.clone(),
        password: server.password.clone(),
        pooler_port: None,
    })
}

#[track_caller]
fn server() -> Option<&'static Server> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    match SERVER.get_or_init(start_or_connect) {
        Ok(server) => Some(server),
        Err(why) if strict() => {
            panic!(
                "PostgreSQL is required (CI=true or ROUTIQ_REQUIRE_POSTGRES=1) but \
                 unavailable: {why}"
            )
        }
        Err(why) => {
            static NOTICE: std::sync::Once = std::sync::Once::new();
            NOTICE.call_once(|| {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "\n!!! No PostgreSQL available ({why}).\n\
                     !!! Install a PostgreSQL server (the harness finds its binaries, or set\n\
                     !!! ROUTIQ_TEST_PG_BIN) or set ROUTIQ_TEST_DATABASE_URL; CI sets\n\
                     !!! ROUTIQ_REQUIRE_POSTGRES=1 to make this a failure.\n"
                );
            });
            skip("no PostgreSQL");
            None
        }
    }
}

fn start_or_connect() -> Result<Server, String> {
    if let Ok(url) = std::env::var("ROUTIQ_TEST_DATABASE_URL")
        && !url.is_empty()
    {
        return external(&url);
    }
    start_cluster()
}

/// The server named by `ROUTIQ_TEST_DATABASE_URL`; each test database is created there.
fn external(url: &str) -> Result<Server, String> {
    let config: postgres::Config = url
        .parse()
        .map_err(|e| format!("ROUTIQ_TEST_DATABASE_URL: {e}"))?;
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        _ => return Err("ROUTIQ_TEST_DATABASE_URL must name a TCP host".into()),
    };
    let user = config.get_user().unwrap_or("postgres").to_string();
    let password = config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_default();
    postgres::Client::connect(url, postgres::NoTls).map_err(|e| format!("connect: {e}"))?;
    Ok(Server {
        ca: None,
        admin: url.to_string(),
        host,
        port: config.get_ports().first().copied().unwrap_or(5432),
        user,
        password,
    })
}

/// The running cluster's process and folder, cleaned up at exit.
struct Cluster {
    child: Child,
    dir: PathBuf,
}

static CLUSTER: Mutex<Option<Cluster>> = Mutex::new(None);

extern "C" fn stop_cluster() {
    let Some(mut cluster) = CLUSTER.lock().unwrap_or_else(|e| e.into_inner()).take() else {
        return;
    };
    // SIGINT: PostgreSQL's fast shutdown (ends every session, then exits).
    unsafe { libc::kill(cluster.child.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = cluster.child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if let Ok(None) = cluster.child.try_wait() {
        let _ = cluster.child.kill();
        let _ = cluster.child.wait();
    }
    let _ = std::fs::remove_dir_all(&cluster.dir);
}

/// initdb + postgres as the `postgres` user (PostgreSQL refuses to run as root).
fn start_cluster() -> Result<Server, String> {
    let bin = pg_bin()?;
    let owner = if unsafe { libc::geteuid() } == 0 {
        Some(user_ids("postgres").ok_or("running as root and there is no `postgres` user")?)
    } else {
        None
    };
    let dir = tempfile::Builder::new()
        .prefix("routiq-pg-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?
        .keep();
    let fail = |why: String| {
        let _ = std::fs::remove_dir_all(&dir);
        Err::<Server, String>(why)
    };
    let data = dir.join("data");
    let password = format!("PgTestPw{}x{}", std::process::id(), nanos());
    let pwfile = dir.join("pw");
    if let Err(e) = std::fs::write(&pwfile, format!("{password}\n")) {
        return fail(format!("write {}: {e}", pwfile.display()));
    }
    if let Some((uid, gid)) = owner {
        for path in [&dir, &pwfile] {
            if let Err(e) = std::os::unix::fs::chown(path, Some(uid), Some(gid)) {
                return fail(format!("chown {}: {e}", path.display()));
            }
        }
    }
    // The owner was checked above, so this cannot fail here.
    let as_owner = |program: &str| as_cluster_owner(&bin.join(program), &dir);
    // The superuser uses the socket without a password; the test role logs in over TCP
    // with one, so a wrong password is refused.
    let init = as_owner("initdb")?
        .args(["-D"])
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ])
        .arg(format!("--pwfile={}", pwfile.display()))
        .args(["--no-sync", "-E", "UTF8", "--locale=C"])
        .output();
    match init {
        Ok(o) if o.status.success() => {}
        Ok(o) => return fail(format!("initdb: {}", String::from_utf8_lossy(&o.stderr))),
        Err(e) => return fail(format!("initdb: {e}")),
    }
    let port = match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => addr.port(),
        Err(e) => return fail(format!("free port: {e}")),
    };
    let ca = make_certificates(&dir, owner);
    let mut server = as_owner("postgres")?;
    server
        .arg("-D")
        .arg(&data)
        .arg("-k")
        .arg(&dir)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .args(["-c", "max_connections=300"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?,
        ));
    if ca.is_some() {
        // Relative paths would be taken from the data folder.
        server
            .args(["-c", "ssl=on", "-c"])
            .arg(format!(
                "ssl_cert_file={}",
                dir.join("server.crt").display()
            ))
            .arg("-c")
            .arg(format!("ssl_key_file={}", dir.join("server.key").display()));
    }
    if !DURABLE.load(Ordering::Relaxed) {
        // A throwaway cluster: durability is not what the tests check.
        server.args(["-c", "fsync=off", "-c", "full_page_writes=off"]);
        server.args(["-c", "synchronous_commit=off", "-c", "shared_buffers=32MB"]);
    }
    dies_with_this_process(&mut server);
    let child = spawn_on_lasting_thread(server).map_err(|e| format!("start postgres: {e}"));
    let child = match child {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    *CLUSTER.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cluster {
        child,
        dir: dir.clone(),
    });
    unsafe { libc::atexit(stop_cluster) };

    let admin = format!(
        "host={} port={port} user=postgres dbname=postgres",
        dir.display()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut client = loop {
        let exited = CLUSTER
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
            .is_some_and(|c| matches!(c.child.try_wait(), Ok(Some(_))));
        match postgres::Client::connect(&admin, postgres::NoTls) {
            Ok(c) => break c,
            Err(_) if Instant::now() < deadline && !exited => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                stop_cluster();
                return Err(format!("postgres did not start: {e}\n{log}"));
            }
        }
    };
    client
        .batch_execute(&format!(
            "CREATE ROLE {ROLE} LOGIN PASSWORD '{password}' CREATEDB"
        ))
        .map_err(|e| format!("create role: {e}"))?;
    Ok(Server {
        ca,
        admin,
        host: "127.0.0.1".to_string(),
        port,
        user: ROLE.to_string(),
        password,
    })
}

/// A session as the server's admin (the cluster's superuser, or the role of
/// `ROUTIQ_TEST_DATABASE_URL`), for tests that need another role; `None` (after the
/// skip notice) without PostgreSQL.
#[track_caller]
pub fn admin_client() -> Option<postgres::Client> {
    let server = server()?;
    Some(
        postgres::Client::connect(&server.admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to the test PostgreSQL as admin: {e}")),
    )
}

/// A session as the server's admin in the database `name` (to act there as a
/// superuser).
#[track_caller]
pub fn admin_client_in(name: &str) -> Option<postgres::Client> {
    let server = server()?;
    let mut config: postgres::Config = server.admin.parse().expect("the admin's parameters");
    config.dbname(name);
    Some(
        config
            .connect(postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to {name} as admin: {e}")),
    )
}

/// The CA certificate trusted for the test cluster's TLS certificate (issued for
/// `localhost` only), or `None` when the cluster runs without TLS (no openssl, or an
/// external server).
pub fn tls_ca() -> Option<PathBuf> {
    server().and_then(|s| s.ca.clone())
}

/// A test CA and a server certificate for `localhost` signed by it, in `dir` (openssl);
/// returns the CA's path, or `None` when they cannot be made.
fn make_certificates(dir: &Path, owner: Option<(u32, u32)>) -> Option<PathBuf> {
    let openssl = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .ok()?;
    let made = openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=routiq test CA",
            ],
        ]
        .concat(),
    ) && openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat(),
    ) && openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    if !made {
        return None;
    }
    let key = dir.join("server.key");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).ok()?;
    if let Some((uid, gid)) = owner {
        for f in ["server.key", "server.crt"] {
            std::os::unix::fs::chown(dir.join(f), Some(uid), Some(gid)).ok()?;
        }
    }
    Some(dir.join("ca.crt"))
}

/// Spawns `cmd` from a thread that never exits (see the PDEATHSIG note above).
fn spawn_on_lasting_thread(mut cmd: Command) -> std::io::Result<Child> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(cmd.spawn());
        loop {
            std::thread::park();
        }
    });
    rx.recv().map_err(std::io::Error::other)?
}

fn user_ids(name: &str) -> Option<(u32, u32)> {
    let cname = std::ffi::CString::new(name).ok()?;
    let pw = unsafe { libc::getpwnam(cname.as_ptr()) };
    if pw.is_null() {
        return None;
    }
    let pw = unsafe { &*pw };
    Some((pw.pw_uid, pw.pw_gid))
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_007)
        .unwrap_or(0)
}

/// How [`stop`] stops the server, as `pg_ctl -m` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Every session is ended (FATAL 57P01, then the socket closes); a clean shutdown.
    Fast,
    /// Every server process is killed; the next start runs crash recovery.
    Immediate,
}

/// Restarts the test cluster as `pg_ctl restart -m MODE` does: [`stop`], then [`start`]
/// on the same port. `Err` when the tests use an external server
/// (`ROUTIQ_TEST_DATABASE_URL`), which they may not restart.
pub fn restart(mode: StopMode) -> Result<(), String> {
    stop(mode)?;
    start()
}

/// `pg_ctl stop -m MODE`: returns once the postmaster has exited. Every session of
/// every test of this binary ends; [`start`] brings the server back.
pub fn stop(mode: StopMode) -> Result<(), String> {
    server().ok_or("no test PostgreSQL")?;
    let guard = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let cluster = guard
        .as_ref()
        .ok_or("the tests use an external server (ROUTIQ_TEST_DATABASE_URL)")?;
    let stop = as_cluster_owner(&pg_bin()?.join("pg_ctl"), &cluster.dir)?
        .arg("stop")
        .arg("-D")
        .arg(cluster.dir.join("data"))
        .args(["-w", "-t", "120", "-m"])
        .arg(match mode {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        })
        .output()
        .map_err(|e| format!("pg_ctl stop: {e}"))?;
    // The postmaster is left unreaped until `start`: its pid stays a zombie's, so the
    // exit hook's signal cannot reach another process.
    if stop.status.success() {
        Ok(())
    } else {
        Err(format!(
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&stop.stderr)
        ))
    }
}

/// Starts the stopped cluster again with the command line `pg_ctl restart` would reuse
/// (`postmaster.opts`). It is started here rather than by pg_ctl so it stays this
/// process's child: the exit hook and the parent-death signal still stop it. Returns
/// once it accepts connections.
pub fn start() -> Result<(), String> {
    let server = server().ok_or("no test PostgreSQL")?;
    {
        let mut guard = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
        let cluster = guard
            .as_mut()
            .ok_or("the tests use an external server (ROUTIQ_TEST_DATABASE_URL)")?;
        let opts = std::fs::read_to_string(cluster.dir.join("data").join("postmaster.opts"))
            .map_err(|e| format!("read postmaster.opts: {e}"))?;
        let argv = postmaster_argv(&opts)?;
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(cluster.dir.join("server.log"))
            .map_err(|e| format!("server.log: {e}"))?;
        let mut postmaster = as_cluster_owner(Path::new(&argv[0]), &cluster.dir)?;
        postmaster
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        dies_with_this_process(&mut postmaster);
        // Reap the stopped postmaster (call only after `stop`: this waits for it).
        let _ = cluster.child.wait();
        cluster.child =
            spawn_on_lasting_thread(postmaster).map_err(|e| format!("start postgres: {e}"))?;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match postgres::Client::connect(&server.admin, postgres::NoTls) {
            Ok(_) => return Ok(()),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(format!("postgres did not come back: {e}")),
        }
    }
}

/// If this process dies without running its exit hook (kill -9), the server gets SIGINT
/// from the kernel instead. Spawn it from a thread that lives as long as the process
/// (`spawn_on_lasting_thread`): the signal fires when the *thread* that forked exits.
fn dies_with_this_process(server: &mut Command) {
    use std::os::unix::process::CommandExt;
    unsafe {
        server.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT);
            Ok(())
        });
    }
}

/// `program` run as the cluster's owner (`postgres` when the tests run as root), in `dir`.
fn as_cluster_owner(program: &Path, dir: &Path) -> Result<Command, String> {
    let mut cmd = Command::new(program);
    if unsafe { libc::geteuid() } == 0 {
        let (uid, gid) = user_ids("postgres").ok_or("no `postgres` user")?;
        use std::os::unix::process::CommandExt;
        cmd.uid(uid).gid(gid);
    }
    cmd.env("LC_ALL", "C").current_dir(dir);
    Ok(cmd)
}

/// The command line in `postmaster.opts`: the program, then each argument in double
/// quotes (as the postmaster writes it).
fn postmaster_argv(opts: &str) -> Result<Vec<String>, String> {
    let opts = opts.trim();
    let (program, mut rest) = opts
        .split_once(' ')
        .ok_or_else(|| format!("postmaster.opts: {opts}"))?;
    let mut argv = vec![program.to_string()];
    while let Some(quoted) = rest.trim_start().strip_prefix('"') {
        let (arg, after) = quoted
            .split_once('"')
            .ok_or_else(|| format!("postmaster.opts: {opts}"))?;
        argv.push(arg.to_string());
        rest = after;
    }
    if !rest.trim().is_empty() {
        return Err(format!("postmaster.opts: {opts}"));
    }
    Ok(argv)
}

/// The test cluster's every process stopped with SIGSTOP (the postmaster and each of its
/// children: backends, checkpointer, WAL writer...): connections stay open and nothing
/// answers, as with a paused VM. Dropping it sends SIGCONT to each. Every test of this
/// binary is frozen with it.
pub struct FrozenServer(Vec<i32>);

/// Freezes the test cluster (see [`FrozenServer`]). `Err` when the tests use an external
/// server (`ROUTIQ_TEST_DATABASE_URL`).
pub fn freeze() -> Result<FrozenServer, String> {
    server().ok_or("no test PostgreSQL")?;
    let guard = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let cluster = guard
        .as_ref()
        .ok_or("the tests use an external server (ROUTIQ_TEST_DATABASE_URL)")?;
    let postmaster = cluster.child.id() as i32;
    // The postmaster first, so it forks no new child while its children are stopped.
    let mut pids = vec![postmaster];
    unsafe { libc::kill(postmaster, libc::SIGSTOP) };
    for entry in std::fs::read_dir("/proc").map_err(|e| format!("/proc: {e}"))? {
        let Some(pid) = entry
            .ok()
            .and_then(|e| e.file_name().to_str()?.parse::<i32>().ok())
        else {
            continue;
        };
        // `pid (comm) state ppid ...`: the parent is the second field after the name.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<i32>().ok());
        if ppid == Some(postmaster) {
            unsafe { libc::kill(pid, libc::SIGSTOP) };
            pids.push(pid);
        }
    }
    Ok(FrozenServer(pids))
}

impl Drop for FrozenServer {
    fn drop(&mut self) {
        for pid in self.0.iter().rev() {
            unsafe { libc::kill(*pid, libc::SIGCONT) };
        }
    }
}

/// Whether [`restart`] can restart the server (the tests started it themselves).
pub fn restartable() -> bool {
    server().is_some() && CLUSTER.lock().unwrap_or_else(|e| e.into_inner()).is_some()
}

/// How many times successive transactions ran on another server connection than the one
/// before (see [`PgBouncer::backend_pids`]).
pub fn switches(pids: &[i32]) -> usize {
    pids.windows(2).filter(|w| w[0] != w[1]).count()
}

/// Debian's `pgbouncer` package.
const PGBOUNCER: &str = "/usr/sbin/pgbouncer";

/// How a [`PgBouncer`] hands out server connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMode {
    /// One server connection per client session (what a direct connection gives).
    Session,
    /// A server connection per transaction: Railway's default, Supabase's port 6543,
    /// Neon's pooled host.
    Transaction,
}

/// A PgBouncer of one test in front of the test cluster (every database on it), with
/// SCRAM auth for the test role, on a free loopback port; stopped when dropped.
pub struct PgBouncer {
    pub port: u16,
    pub mode: PoolMode,
    dir: PathBuf,
    child: Option<Child>,
}

/// A PgBouncer for `db`'s server in `mode`; `None` (after the [`skip`] line, which fails
/// the test in CI) when `pgbouncer` is not installed.
#[track_caller]
pub fn pgbouncer(db: &PgDatabase, mode: PoolMode) -> Option<PgBouncer> {
    if !Path::new(PGBOUNCER).exists() {
        skip(&format!(
            "{PGBOUNCER} not found (apt-get install pgbouncer)"
        ));
        return None;
    }
    let owner = if unsafe { libc::geteuid() } == 0 {
        Some(user_ids("postgres").expect("running as root and there is no `postgres` user"))
    } else {
        None
    };
    let dir = tempfile::Builder::new()
        .prefix("routiq-pgbouncer-")
        .tempdir()
        .expect("temp dir")
        .keep();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    // In transaction mode the pool keeps several server connections and hands out the
    // one idle longest: one client's successive transactions then run on different
    // server connections, as under load, rather than on the one it just gave back.
    let pool_mode = match mode {
        PoolMode::Session => "session",
        PoolMode::Transaction => {
            "transaction\n\
             server_round_robin = 1\n\
             min_pool_size = 4"
        }
    };
    let ini = format!(
        "[databases]\n\
         * = host={host} port={server_port}\n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {port}\n\
         unix_socket_dir =\n\
         auth_type = scram-sha-256\n\
         auth_file = {dir}/userlist.txt\n\
         pool_mode = {pool_mode}\n\
         max_client_conn = 500\n\
         default_pool_size = 20\n\
         logfile = {dir}/pgbouncer.log\n\
         pidfile = {dir}/pgbouncer.pid\n",
        host = db.host,
        server_port = db.port,
        dir = dir.display(),
    );
    std::fs::write(dir.join("pgbouncer.ini"), ini).expect("pgbouncer.ini");
    std::fs::write(
        dir.join("userlist.txt"),
        format!("\"{}\" \"{}\"\n", db.user, db.password),
    )
    .expect("userlist.txt");
    if let Some((uid, gid)) = owner {
        for f in ["", "pgbouncer.ini", "userlist.txt"] {
            std::os::unix::fs::chown(dir.join(f), Some(uid), Some(gid)).expect("chown");
        }
    }
    let mut bouncer = PgBouncer {
        port,
        mode,
        dir,
        child: None,
    };
    bouncer.start();
    if mode == PoolMode::Transaction {
        // The pool fills up to its minimum in the background; wait until every one of
        // a client's successive transactions switches, so that every test meets that.
        let deadline = Instant::now() + Duration::from_secs(90);
        while switches(&bouncer.backend_pids(db, 8)) < 7 {
            assert!(
                Instant::now() < deadline,
                "the transaction-mode PgBouncer never switched server connections:\n{}",
                bouncer.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Some(bouncer)
}

impl PgBouncer {
    /// `db`'s URL through this PgBouncer.
    pub fn url(&self, db: &PgDatabase) -> String {
        format!(
            "postgres://{}:{}@127.0.0.1:{}/{}?sslmode=disable",
            db.user, db.password, self.port, db.name
        )
    }

    /// The server connection (`pg_backend_pid()`) each of `transactions` successive
    /// transactions of one client session through it ran on, in `db`.
    pub fn backend_pids(&self, db: &PgDatabase, transactions: usize) -> Vec<i32> {
        // The simple query protocol: a statement prepared in one transaction would be
        // gone in the next on another server connection.
        let mut client = postgres::Client::connect(&self.url(db), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect through pgbouncer: {e}\n{}", self.log()));
        (0..transactions)
            .map(|_| {
                let rows = client
                    .simple_query("SELECT pg_backend_pid()")
                    .expect("SELECT pg_backend_pid()");
                rows.iter()
                    .find_map(|m| match m {
                        postgres::SimpleQueryMessage::Row(r) => r.get(0)?.parse().ok(),
                        _ => None,
                    })
                    .expect("a backend pid")
            })
            .collect()
    }

    /// Starts it (again, on the same port); returns once it accepts connections.
    pub fn start(&mut self) {
        let mut cmd = as_cluster_owner(Path::new(PGBOUNCER), &self.dir).expect("pgbouncer user");
        cmd.arg(self.dir.join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        dies_with_this_process(&mut cmd);
        self.child = Some(spawn_on_lasting_thread(cmd).expect("start pgbouncer"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            let exited = self
                .child
                .as_mut()
                .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
            if exited || Instant::now() > deadline {
                let log =
                    std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default();
                panic!("pgbouncer did not start:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it at once (SIGTERM: every client and server connection is closed).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
        }
        // The next start may bind the port at once.
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it, or makes it stop answering (SIGSTOP: connections stay open, nothing is
    /// read or written) until [`PgBouncer::resume`].
    pub fn freeze(&self) {
        if let Some(child) = &self.child {
            unsafe { libc::kill(child.id() as i32, libc::SIGSTOP) };
        }
    }

    /// Lets a frozen PgBouncer answer again.
    pub fn resume(&self) {
        if let Some(child) = &self.child {
            unsafe { libc::kill(child.id() as i32, libc::SIGCONT) };
        }
    }

    /// Lets `user` log in through it with `password` too (it is restarted to read its
    /// user list again).
    pub fn add_user(&mut self, user: &str, password: &str) {
        use std::io::Write;
        let mut list = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join("userlist.txt"))
            .expect("userlist.txt");
        writeln!(list, "\"{user}\" \"{password}\"").expect("add a user");
        self.stop();
        self.start();
    }

    /// Its log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        self.resume();
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The raw bytes of every data file of `db`'s tables, TOAST tables and indexes (every
/// segment), read from the cluster's data folder after a `CHECKPOINT` (so that pages the
/// server holds in memory are on disk). `None` (after the [`skip`] line, which fails the
/// test in CI) on a server the tests did not start: its files may be elsewhere or
/// unreadable.
#[track_caller]
pub fn relation_file_bytes(db: &PgDatabase) -> Option<Vec<u8>> {
    let server = server()?;
    if !server.admin.starts_with("host=") {
        skip(
            "the byte scan reads the data files of a cluster the tests started, and \
             ROUTIQ_TEST_DATABASE_URL names another server",
        );
        return None;
    }
    let mut admin = postgres::Client::connect(
        &format!("{} dbname={}", server.admin, db.name),
        postgres::NoTls,
    )
    .unwrap_or_else(|e| panic!("connect as admin to {}: {e}", db.name));
    admin.batch_execute("CHECKPOINT").expect("checkpoint");
    let data: String = admin
        .query_one("SHOW data_directory", &[])
        .expect("data_directory")
        .get(0);
    let files: Vec<String> = admin
        .query(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class AS c
             JOIN pg_namespace AS n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND c.relkind IN ('r', 't', 'i', 'm')
               AND pg_relation_filepath(c.oid) IS NOT NULL",
            &[],
        )
        .expect("relation files")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut bytes = Vec::new();
    for file in files {
        let base = Path::new(&data).join(&file);
        bytes.extend(std::fs::read(&base).unwrap_or_default());
        for segment in 1.. {
            let mut name = base.as_os_str().to_owned();
            name.push(format!(".{segment}"));
            match std::fs::read(PathBuf::from(name)) {
                Ok(more) => bytes.extend(more),
                Err(_) => break,
            }
        }
    }
    Some(bytes)
}

/// Creates the binary's tables in `db` (as its first run would) and has the server keep
/// every `raw_json` column uncompressed (`SET STORAGE EXTERNAL`): compressed, no value
/// planted in it survives as a literal for [`relation_file_bytes`] to find.
pub fn uncompressed_raw_json(db: &PgDatabase) {
    let url = routiq_sync::database_url::PgUrl::parse(&db.url()).expect("test database URL");
    drop(routiq_sync::store::postgres::PgStore::open(&url, "public").expect("create the tables"));
    let mut client = db.client();
    for table in raw_json_storage(db).keys() {
        client
            .batch_execute(&format!(
                "ALTER TABLE {table} ALTER COLUMN raw_json SET STORAGE EXTERNAL"
            ))
            .unwrap_or_else(|e| panic!("{table}.raw_json uncompressed: {e}"));
    }
    assert_raw_json_uncompressed(db);
}

/// Panics unless every `raw_json` column of `db` is still kept uncompressed (a table
/// rebuilt from scratch would lose [`uncompressed_raw_json`]'s setting, and its bytes
/// would hide from the scan again).
#[track_caller]
pub fn assert_raw_json_uncompressed(db: &PgDatabase) {
    let storage = raw_json_storage(db);
    assert!(
        !storage.is_empty() && storage.values().all(|s| s == "e"),
        "raw_json storage per table (`e`: external, uncompressed): {storage:?}"
    );
}

/// `table -> attstorage` of each `raw_json` column in `db`'s tables.
fn raw_json_storage(db: &PgDatabase) -> std::collections::BTreeMap<String, String> {
    db.client()
        .query(
            "SELECT c.relname::text, a.attstorage::text FROM pg_attribute AS a
             JOIN pg_class AS c ON c.oid = a.attrelid
             WHERE a.attname = 'raw_json' AND c.relkind = 'r' AND NOT a.attisdropped
               AND c.relnamespace = 'public'::regnamespace",
            &[],
        )
        .expect("raw_json storage")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}
