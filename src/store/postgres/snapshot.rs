//! Many orgs' snapshots for `status` and `check` on PostgreSQL: the shared statements
//! of `store::snapshot` and the orgs' leases, in one read transaction of a few round
//! trips whatever the number of orgs (each statement is parsed, bound and run in one).

use std::collections::BTreeSet;

use postgres::types::{ToSql, Type};
use postgres::{Client, Row};

use super::{PgStore, Step, lease};
use crate::store::snapshot::statements::{self as snapshot, Dialect};
use crate::store::snapshot::{OrgRow, OrgSnapshot, Parts, Snapshots};
use crate::store::{
    AccountFacts, OrgFacts, PrivacyProgress, PrivacyState, Refetch, ResourceState, StateColumns,
    StoreError,
};
use crate::timestamp::Timestamp;

impl Snapshots for PgStore {
    fn snapshots(&self, org_ids: &[&str]) -> Result<Vec<OrgSnapshot>, StoreError> {
        // Row counts grow with every selected org's tables.
        let step = Step::bulk("reading the orgs' state for status");
        let (parts, running) = self.read(step, |client| {
            let d = Dialect::Postgres;
            let parts = Parts {
                orgs: rows(client, &snapshot::org_rows(d), org_ids, org_row)?,
                routes: rows(client, &snapshot::state_rows(d), org_ids, route_row)?,
                runs: rows(
                    client,
                    &snapshot::recent_runs(d),
                    org_ids,
                    super::runs::read_run,
                )?,
                counts: rows(client, &snapshot::present_counts(d), org_ids, |r| {
                    (r.get(0), r.get(1), r.get::<_, i64>(2).max(0) as u64)
                })?,
            };
            let running: BTreeSet<String> = rows(client, &snapshot::leases(), org_ids, |r| {
                (r.get::<_, String>(0), lease::held_by_live_run(r, 1))
            })?
            .into_iter()
            .filter_map(|(org, live)| live.then_some(org))
            .collect();
            Ok((parts, running))
        })?;
        Ok(parts.assemble(org_ids, |org| running.contains(org)))
    }
}

/// Every row of `sql` (whose one parameter, `$1`, is `org_ids`), read by `read` inside
/// the transaction. Unprepared: parsed, bound and run in one round trip.
fn rows<T>(
    client: &mut Client,
    sql: &str,
    org_ids: &[&str],
    read: impl FnMut(&Row) -> T,
) -> Result<Vec<T>, postgres::Error> {
    let ids: &(dyn ToSql + Sync) = &org_ids;
    Ok(client
        .query_typed(sql, &[(ids, Type::TEXT_ARRAY)])?
        .iter()
        .map(read)
        .collect())
}

fn ts(r: &Row, i: usize) -> Option<Timestamp> {
    r.get::<_, Option<time::OffsetDateTime>>(i)
        .map(Timestamp::from_datetime)
}

/// One row of [`snapshot::org_rows`].
fn org_row(r: &Row) -> OrgRow {
    let skew: Option<i64> = r.get(3);
    let has_privacy = r.get::<_, Option<String>>(8).is_some();
    OrgRow {
        org_id: r.get(0),
        last_success_at: ts(r, 1),
        last_active_patients: r.get::<_, Option<i64>>(2).map(|n| n.max(0) as u64),
        facts: OrgFacts {
            clock_skew: skew.zip(ts(r, 4)),
            account: r.get::<_, Option<String>>(5).map(|id| AccountFacts {
                id,
                name: r.get(6),
                key_digest: r.get(7),
            }),
        },
        privacy: has_privacy.then(|| PrivacyState {
            fingerprint: r.get(9),
            applied_at: ts(r, 10),
            pending: PrivacyProgress::from_columns(r.get(11), r.get(12), r.get(13)),
            rules: r.get(14),
            refetch: Refetch::from_column(r.get(15)),
            scrub_due: PrivacyState::tables_from_column(r.get(16)),
        }),
    }
}

/// One row of [`snapshot::state_rows`].
fn route_row(r: &Row) -> (String, String, ResourceState) {
    let state = ResourceState::from(StateColumns {
        cursor: ts(r, 2),
        last_full_at: ts(r, 3),
        full_run_id: r.get(4),
        full_started_at: ts(r, 5),
        full_position: ts(r, 6),
        polled_at: ts(r, 7),
        settled_second: ts(r, 8),
        settled_read_at: ts(r, 9),
        last_verify_at: ts(r, 10),
    });
    (r.get(0), r.get(1), state)
}
