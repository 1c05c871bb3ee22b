//! Setting up PostgreSQL as docs/postgres.md tells it, with what hosted providers hand
//! out: a generated password holding characters URLs reserve, a host across the network
//! without `sslmode`, and a database name a PgBouncer does not know. Each gets a message
//! that says what to do, against the real server and a real PgBouncer.

mod common;

use common::pg::{self, PgDatabase, PoolMode};
use common::{Backend, TestEnv};

/// The characters a URL reserves, all in one password, as providers' generators write
/// them.
const RESERVED_PASSWORD: &str = "Pw@b:c/d#e?f&g%h";

/// What every URL mistake about reserved characters ends with.
const HINT: &str = "if the user name or password holds any of @ : / # ? & %, write each of \
                    those percent-encoded in the URL (@ %40, : %3A, / %2F, # %23, ? %3F, & \
                    %26, % %25)";

/// `text` with each character a URL reserves percent-encoded.
fn percent_encoded(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '@' | ':' | '/' | '#' | '?' | '&' | '%' => format!("%{:02X}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// A test env on a fresh database that the binary reaches as a new role whose password
/// is `password` (written into the URL as `in_url`); `None` to skip.
fn env_with_password(password: &str, in_url: &str) -> Option<(TestEnv, PgDatabase)> {
    let Some(Backend::Postgres(db)) = Backend::postgres() else {
        return None;
    };
    let role = format!("{}_{}", db.name, "reserved");
    let mut admin = pg::admin_client().expect("the server that made the database");
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD '{}'; ALTER DATABASE {} OWNER TO {role}",
            password.replace('\'', "''"),
            db.name
        ))
        .expect("create the role");
    let as_role = PgDatabase {
        user: role,
        password: in_url.to_string(),
        ..db
    };
    let env = TestEnv::builder()
        .appointments_each(0)
        .on(Backend::Postgres(as_role.clone()))
        .build();
    Some((env, as_role))
}

#[test]
fn a_password_with_reserved_characters_must_be_percent_encoded_and_works_so() {
    let encoded = percent_encoded(RESERVED_PASSWORD);
    let Some((env, _)) = env_with_password(RESERVED_PASSWORD, RESERVED_PASSWORD) else {
        return;
    };
    // Written as it is, the client library would read part of it as the host: a config
    // error that says to percent-encode, never the password.
    let run = env.run(&["sync", "--all"]);
    run.expect_code(2)
        .assert_stderr_has(&format!("has an `@` in its user name or password; {HINT}"))
        .assert_never_prints("the password", "b:c/d#e?f&g")
        .assert_never_prints("the password's end", "f&g%h");
    // Percent-encoded, as the message says: it syncs.
    env.set_config_line(
        "database",
        &env.database_line().replace(RESERVED_PASSWORD, &encoded),
    );
    env.run(&["sync", "--all"]).expect_code(0);
    env.run(&["status"]).expect_code(0);
}

#[test]
fn a_refused_password_says_to_percent_encode_reserved_characters() {
    // `%41` in a password written as is reaches the server as `A`: refused, and the
    // message says why that may be.
    let Some((env, _)) = env_with_password("Pw%41bcdef", "Pw%41bcdef") else {
        return;
    };
    let run = env.run(&["sync", "--all"]);
    run.expect_code(1).assert_stderr_has(&format!(
        "check the user and password in the database URL (or its environment variable); \
         {HINT}"
    ));
    env.set_config_line(
        "database",
        &env.database_line().replace("Pw%41bcdef", "Pw%2541bcdef"),
    );
    env.run(&["sync", "--all"]).expect_code(0);
}

#[test]
fn a_host_across_the_network_without_sslmode_is_warned_about() {
    let env = TestEnv::builder().appointments_each(0).build();
    let warning = |host: &str| {
        format!(
            " WARN  the database URL (postgres://routiq:****@{host}:5432/clinics) reaches \
             host {host} over the network with sslmode prefer (the default when the URL sets \
             none), which falls back to an unencrypted connection when the server offers no \
             TLS: the password and the clinics' data would cross the network in clear; add \
             sslmode=verify-full (or require) to the URL, or sslmode=disable if plaintext is \
             intended"
        )
    };
    // An address that never answers (RFC 2606): the warning comes before connecting.
    let remote = "db.example.invalid";
    env.set_config_line(
        "database",
        &format!("database = \"postgres://routiq:pw-not-shown@{remote}:5432/clinics\""),
    );
    let run = env.run(&["status"]);
    assert_whole_line(&run.stderr, &warning(remote));
    run.assert_never_prints("the password", "pw-not-shown");
    for quiet in [
        format!("postgres://routiq:pw@{remote}:5432/clinics?sslmode=require"),
        format!("postgres://routiq:pw@{remote}:5432/clinics?sslmode=disable"),
        "postgres://routiq:pw@127.0.0.1:1/clinics".to_string(),
        "postgres://routiq:pw@localhost:1/clinics".to_string(),
    ] {
        env.set_config_line("database", &format!("database = {quiet:?}"));
        env.run(&["status"]).assert_stderr_lacks("over the network");
    }
}

#[test]
fn through_pgbouncer_a_database_that_does_not_exist_is_a_setup_error() {
    for mode in [PoolMode::Session, PoolMode::Transaction] {
        let Some(Backend::Postgres(db)) = Backend::postgres() else {
            return;
        };
        let Some(bouncer) = pg::pgbouncer(&db, mode) else {
            return;
        };
        let env = TestEnv::builder()
            .appointments_each(0)
            .on(Backend::Postgres(db.clone()))
            .build();
        let missing = PgDatabase {
            name: format!("{}_missing", db.name),
            ..db.clone()
        };
        env.set_config_line(
            "database",
            &format!("database = {:?}", bouncer.url(&missing)),
        );
        let run = env.run(&["sync", "--all"]);
        run.expect_code(2)
            .assert_stderr_has("cannot be used as configured")
            .assert_stderr_has("; create the database, or fix its name in the URL")
            .assert_never_prints("the password", &db.password);
        assert_eq!(env.requests("org_1"), 0, "nothing ran ({mode:?})");
        assert!(!env.has_tables(), "nothing was created ({mode:?})");
    }
}

/// Panics unless some line of `text` ends with `line` (log lines begin with a time).
#[track_caller]
fn assert_whole_line(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l.ends_with(line)),
        "no line ending with `{line}` in:\n{text}"
    );
}
