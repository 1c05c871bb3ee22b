//! Every command that prints, run by the real binary with its stdout a pipe nobody reads
//! (`routiq-sync status | head -1` once `head` has gone): no panic, no error, the work
//! done all the same, and the exit status the command has when its output is read.
//! A stdout that fails otherwise (a full disk) is an error, not silence.

mod common;

use std::process::{Command, Stdio};

use common::{Run, TestEnv};

/// Runs `cmd` with stdout a pipe whose read end is closed before the process starts, so
/// its first write already meets a closed pipe (as it would after `head -1` exits).
fn run_with_stdout_closed(mut cmd: Command) -> Run {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = cmd
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("run routiq-sync");
    Run::from(out)
}

/// `args` with stdout closed: the same exit status as with stdout read, and nothing on
/// stderr about the pipe.
fn closed_matches_read(env: &TestEnv, args: &[&str]) -> Run {
    let read = env.run(args);
    assert!(
        !read.stdout.is_empty(),
        "{args:?} printed nothing, so the pipe was never tested"
    );
    let closed = run_with_stdout_closed(env.command(args));
    closed
        .expect_code(read.code)
        .assert_stderr_lacks("panicked")
        .assert_stderr_lacks("Broken pipe")
        .assert_stderr_lacks("standard output");
    closed
}

#[test]
fn status_in_every_format_with_stdout_closed() {
    let env = TestEnv::builder().orgs(2).build();
    env.run(&["sync", "--all"]).expect_code(0);
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["status", "--format", "openmetrics"],
    ] {
        closed_matches_read(&env, args).expect_code(0);
    }
    // An unhealthy org keeps its exit status: a monitor under `set -o pipefail` still
    // sees it however little of the table it read.
    let mut orgs = env.orgs.clone();
    orgs[1].1 = "NotTheRightKeyAtAll1234-au1".to_string();
    env.write_config_with("", &orgs);
    env.run(&["sync", "--all", "--force"]).expect_code(1);
    closed_matches_read(&env, &["status"]).expect_code(1);
}

#[test]
fn check_forget_and_completions_with_stdout_closed() {
    let env = TestEnv::builder().orgs(2).build();
    env.run(&["sync", "--all"]).expect_code(0);
    closed_matches_read(&env, &["check"]).expect_code(0);
    closed_matches_read(&env, &["completions", "bash"]).expect_code(0);
    // Without --yes: the plan, exit 1, nothing deleted.
    closed_matches_read(&env, &["forget", "--org", "org_1"]).expect_code(1);
    assert!(env.count("SELECT count(*) FROM patients WHERE org_id = 'org_1'") > 0);
    // With --yes the erasure happens even though nobody reads what it says.
    run_with_stdout_closed(env.command(&["forget", "--org", "org_1", "--yes"]))
        .expect_code(0)
        .assert_stderr_lacks("panicked");
    assert_eq!(
        env.count("SELECT count(*) FROM patients WHERE org_id = 'org_1'"),
        0
    );
    assert!(env.count("SELECT count(*) FROM patients WHERE org_id = 'org_2'") > 0);
}

#[test]
fn demo_with_stdout_closed() {
    let env = TestEnv::builder().patients(1).appointments_each(0).build();
    let dir = env.dir.path().join("demo");
    let dir = dir.to_str().expect("a UTF-8 temp path");
    let args = ["demo", "--orgs", "1", "--patients", "5", "--dir", dir];
    run_with_stdout_closed(env.bare_command(&args))
        .expect_code(0)
        .assert_stderr_lacks("panicked")
        .assert_stderr_lacks("Broken pipe");
}

#[test]
fn a_stdout_that_cannot_be_written_is_an_error() {
    let env = TestEnv::builder().appointments_each(0).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = env
        .command(&["status"])
        .stdout(Stdio::from(full))
        .output()
        .expect("run routiq-sync");
    Run::from(out)
        .expect_code(1)
        .assert_stderr_has("cannot write to standard output")
        .assert_stderr_lacks("panicked");
}
