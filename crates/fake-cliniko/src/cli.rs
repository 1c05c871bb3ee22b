//! The `fake-cliniko` command: a standalone fake Cliniko server for benchmarks and manual use.
//!
//! Prints `listening http://127.0.0.1:PORT/v1`, then `org <org_id> <api_key>` per org, and
//! serves until killed (or until stdin closes, with `--exit-on-stdin-eof`). Besides the API
//! under `/v1` it answers `GET /__stats` (request counts per org) and `POST /__change`
//! (edit some records), for a benchmark driving it from another process.

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::server::{FakeCliniko, FakeOptions};
use crate::world::World;

const USAGE: &str = "usage: fake-cliniko [--orgs N] [--patients N] [--appointments-per-patient N]
                    [--latency-ms N] [--rate-limit N] [--seed N] [--port N] [--workers N]
                    [--shuffle-ties] [--exit-on-stdin-eof]";

/// Parsed command line.
#[derive(Debug)]
struct Args {
    orgs: usize,
    patients: usize,
    appointments_per_patient: usize,
    latency_ms: u64,
    rate_limit: Option<u32>,
    seed: u64,
    port: u16,
    workers: usize,
    shuffle_ties: bool,
    exit_on_stdin_eof: bool,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        orgs: 1,
        patients: 1000,
        appointments_per_patient: 2,
        latency_ms: 0,
        rate_limit: None,
        seed: 1,
        port: 0,
        workers: 16,
        shuffle_ties: false,
        exit_on_stdin_eof: false,
    };
    fn num<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        v.parse()
            .map_err(|_| format!("{flag}: `{v}` is not a valid number"))
    }
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--orgs" => a.orgs = num(&flag, it.next())?,
            "--patients" => a.patients = num(&flag, it.next())?,
            "--appointments-per-patient" => a.appointments_per_patient = num(&flag, it.next())?,
            "--latency-ms" => a.latency_ms = num(&flag, it.next())?,
            "--rate-limit" => a.rate_limit = Some(num(&flag, it.next())?),
            "--seed" => a.seed = num(&flag, it.next())?,
            "--port" => a.port = num(&flag, it.next())?,
            "--workers" => a.workers = num(&flag, it.next())?,
            "--shuffle-ties" => a.shuffle_ties = true,
            "--exit-on-stdin-eof" => a.exit_on_stdin_eof = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(a)
}

/// Runs the command with this process's arguments; the `fake-cliniko` binary is only this.
pub fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("fake-cliniko: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let t0 = Instant::now();
    let (world, orgs) = World::demo(
        args.orgs,
        args.patients,
        args.appointments_per_patient,
        args.seed,
    );
    let opts = FakeOptions {
        workers: args.workers,
        latency: Duration::from_millis(args.latency_ms),
        rate_limit_per_minute: args.rate_limit,
        shuffle_ties: args.shuffle_ties,
        port: args.port,
        ..FakeOptions::default()
    };
    let fake = match FakeCliniko::start(world, opts) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("fake-cliniko: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let records = args.orgs * args.patients * (1 + args.appointments_per_patient);
    eprintln!(
        "fake-cliniko: generated {records} records in {:.2}s",
        t0.elapsed().as_secs_f64()
    );
    let mut out = std::io::stdout().lock();
    let mut lines = format!("listening {}\n", fake.base_url());
    for (org, key) in &orgs {
        lines.push_str(&format!("org {org} {key}\n"));
    }
    if out
        .write_all(lines.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(out);
    if args.exit_on_stdin_eof {
        let mut sink = [0u8; 1024];
        let mut stdin = std::io::stdin().lock();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        fake.stop();
        return ExitCode::SUCCESS;
    }
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags() {
        let args = ["--orgs", "2", "--rate-limit", "200", "--exit-on-stdin-eof"]
            .into_iter()
            .map(String::from);
        let a = parse_args(args).unwrap();
        assert_eq!(
            (a.orgs, a.rate_limit, a.exit_on_stdin_eof),
            (2, Some(200), true)
        );
        assert!(parse_args(["--orgs"].into_iter().map(String::from)).is_err());
        assert!(parse_args(["--bogus"].into_iter().map(String::from)).is_err());
    }
}
