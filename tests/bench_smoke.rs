//! The benchmark's scenarios (examples/bench) run at tiny sizes, so the benchmark cannot
//! rot. Only the request count of scenario b is asserted (exactly 2); timings are not.
#![allow(dead_code)]

#[path = "../examples/bench/child.rs"]
mod child;
#[path = "../examples/bench/client.rs"]
mod client;
#[path = "../examples/bench/fake.rs"]
mod fake;
#[path = "common/pg.rs"]
mod pg;
#[path = "../examples/bench/scenarios.rs"]
mod scenarios;
#[path = "../examples/bench/status_db.rs"]
mod status_db;
#[path = "../examples/bench/table.rs"]
mod table;

use scenarios::{Bins, Sizes};
use table::Table;

fn run(which: char) -> Table {
    let bins = Bins {
        client: env!("CARGO_BIN_EXE_routiq-sync").into(),
        fake: env!("CARGO_BIN_EXE_fake-cliniko").into(),
    };
    let mut table = Table::default();
    if let Err(e) = scenarios::run(which, &bins, &Sizes::tiny(), &mut table) {
        panic!("scenario {which} failed: {e}\n{}", table.render());
    }
    assert!(!table.rows.is_empty(), "scenario {which} reported nothing");
    table
}

#[test]
fn incremental_sync_after_a_few_changes_makes_exactly_two_requests() {
    let table = run('b');
    let row = table.find("b.", "API requests").expect("a request count");
    assert_eq!(row.value, "2", "{}", table.render());
    assert_eq!(row.pass, Some(true));
}

#[test]
fn full_sync_scenario_runs() {
    let table = run('a');
    assert!(table.find("a.", "client peak RSS").is_some());
    assert!(table.find("a.", "peak RSS change").is_some());
}

#[test]
fn many_orgs_scenario_runs() {
    assert!(run('c').find("c.", "speed-up").is_some());
}

#[test]
fn rate_limited_scenario_runs() {
    assert!(run('d').find("d.", "HTTP 429").is_some());
}

#[test]
fn status_scenario_runs() {
    assert!(run('e').find("e.", "latency").is_some());
}

#[test]
fn sqlite_vs_postgres_scenario_runs() {
    if pg::database().is_none() {
        return;
    }
    assert!(run('h').find("h.", "PostgreSQL throughput").is_some());
}

#[test]
fn hosts_sharing_orgs_scenario_runs_and_syncs_each_org_once() {
    if pg::database().is_none() {
        return;
    }
    let table = run('i');
    for processes in ["1 process(es)", "3 process(es)"] {
        let row = table
            .find("i.", &format!("{processes}: each org synced once"))
            .expect("an each-org-once row");
        assert_eq!(row.pass, Some(true), "{}", table.render());
    }
}

#[test]
fn bytes_written_scenario_runs() {
    let table = run('f');
    assert!(table.find("f.", "second full, unchanged data").is_some());
}

#[test]
fn verify_scenario_finds_the_deletes_in_a_few_requests() {
    let table = run('g');
    let row = table
        .find("g.", "verify, nothing differs")
        .unwrap_or_else(|| panic!("a request count\n{}", table.render()));
    assert_eq!(row.value, "2", "{}", table.render());
}

#[test]
fn postgres_rewrites_scenario_runs() {
    if pg::database().is_none() {
        return;
    }
    let table = run('j');
    assert!(
        table.find("j.", "WAL written").is_some(),
        "{}",
        table.render()
    );
}
