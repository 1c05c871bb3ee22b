//! The benchmark's scenarios (examples/bench) run at tiny sizes, so the benchmark cannot
//! rot. Request counts are asserted (scenario b: exactly 2; g: the verifies that find
//! deletes stay under a full walk); timings are not.
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
#[path = "../examples/bench/status_orgs.rs"]
mod status_orgs;
#[path = "../examples/bench/table.rs"]
mod table;

use scenarios::{Bins, Sizes};
use table::Table;

fn run(which: char) -> Table {
    let bins = Bins {
        client: env!("CARGO_BIN_EXE_routiq-sync").into(),
        fake: env!("CARGO_BIN_EXE_fake-cliniko").into(),
        baseline: None,
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
    // The scenario itself fails unless each verify marks exactly the rows deleted; here
    // each finds them in more requests than a quiet verify (it looked) and fewer than a
    // full walk. (The benchmark's 5%-of-a-walk bound needs its real size: a tiny walk
    // is 6 requests.)
    let full: u64 = table
        .find("g.", "full walk: API requests")
        .unwrap_or_else(|| panic!("the full walk's requests\n{}", table.render()))
        .value
        .replace(',', "")
        .parse()
        .expect("a count");
    let mut cases = 0;
    for r in table
        .rows
        .iter()
        .filter(|r| r.measure.contains("hard deletes"))
    {
        let counts = r.value.split(" (").next().unwrap_or_default();
        for n in counts.split(" / ") {
            let n: u64 = n.parse().unwrap_or_else(|e| panic!("{}: {e}", r.value));
            assert!(n > 2 && n < full, "{}: {n} of {full}", r.measure);
        }
        cases += 1;
    }
    assert_eq!(cases, 6, "1, 3 and 10 deletes, random and clustered");
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

#[test]
fn status_over_many_orgs_scenario_runs() {
    let table = run('k');
    assert!(
        table.find("k.", "wall time").is_some(),
        "{}",
        table.render()
    );
    if pg::database().is_some() {
        assert!(
            table.find("k.", "messages to the server").is_some(),
            "{}",
            table.render()
        );
    }
}
