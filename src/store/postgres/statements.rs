//! The SQL statements the PostgreSQL store alone runs against its data (what both
//! backends run is in [`crate::store::sql`]): the store runs these texts, and
//! `tests/query_plans.rs` plans the same texts (from [`planned`]), so the test cannot
//! drift from what runs. Placeholders are `$N`. The staging upsert is built in
//! `staging`, from the columns' types; [`planned`] builds it too. Not here: what reads the
//! catalog, begins transactions or migrates the schema.

use std::collections::HashMap;

use postgres::GenericClient;

use crate::resource::Resource;
use crate::store::sql::{self, Dialect};
use crate::store::table;

// ----- one resource table `t` -----

/// Which of the ids `$2` are not present (or marked), in their order (`verify`).
pub fn missing_ids(t: &str) -> String {
    format!(
        "SELECT wanted.id FROM unnest($2::text[]) WITH ORDINALITY AS wanted (id, n)
         WHERE NOT EXISTS (SELECT 1 FROM {t} AS t WHERE t.org_id = $1 AND t.id = wanted.id
                           AND t.deleted_upstream_at IS NULL)
         ORDER BY wanted.n"
    )
}

/// Marks the rows the full walk `$2` of route `$4` did not see (the walk's end).
pub fn mark_unseen(t: &str) -> String {
    format!(
        "WITH seen AS (
             SELECT DISTINCT unnest(ids) AS id FROM full_seen
             WHERE org_id = $1 AND resource = $4 AND run_id = $2)
         UPDATE {t} AS t SET deleted_upstream_at = $3
         WHERE t.org_id = $1 AND t.deleted_upstream_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM seen WHERE seen.id = t.id)"
    )
}

/// Rewrites table `t` of `schema` (already quoted) so deleted rows leave no bytes in its
/// files. Named with its schema: VACUUM runs outside any transaction, so no `SET LOCAL
/// search_path` applies to it. Not planned: `EXPLAIN` cannot plan a `VACUUM`, which
/// reads the whole table by design.
pub fn vacuum_full(schema: &str, t: &str) -> String {
    format!("VACUUM (FULL) {schema}.{t}")
}

// ----- sync state and full walks -----

/// The route's cursor (and, in a full walk, its position) moves forward, never back.
pub const ADVANCE_ROUTE: &str =
    "INSERT INTO sync_state (org_id, resource, cursor) VALUES ($1, $2, $3)
     ON CONFLICT (org_id, resource) DO UPDATE SET
         cursor = GREATEST(sync_state.cursor, excluded.cursor),
         full_position = CASE WHEN $4 THEN GREATEST(sync_state.full_position, excluded.cursor)
                              ELSE sync_state.full_position END";

// ----- org leases (see `lease` and `renewer`) -----

/// An org's lease row as it stands, and whether it is unexpired on the server's clock.
pub const CURRENT_LEASE: &str =
    "SELECT token, host_key, pid, pid_start, expires_at > clock_timestamp()
     FROM org_leases WHERE org_id = $1";

/// Takes an org's lease when it has none, it expired, or its holder `$8` is gone.
pub const TAKE_LEASE: &str = "INSERT INTO org_leases AS l
         (org_id, token, holder, host_key, pid, pid_start, taken_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp(),
             clock_timestamp() + make_interval(secs => $7))
     ON CONFLICT (org_id) DO UPDATE SET
         token = excluded.token, holder = excluded.holder, host_key = excluded.host_key,
         pid = excluded.pid, pid_start = excluded.pid_start, taken_at = excluded.taken_at,
         expires_at = excluded.expires_at
     WHERE l.expires_at <= clock_timestamp() OR l.token = $8
     RETURNING 1";

/// Renews an org's lease when it is still token `$2`'s and unexpired.
pub const FENCE_LEASE: &str =
    "UPDATE org_leases SET expires_at = clock_timestamp() + make_interval(secs => $3)
     WHERE org_id = $1 AND token = $2 AND expires_at > clock_timestamp()
     RETURNING 1";

/// Whether an org's lease is still token `$2`'s and unexpired (no row lock).
pub const LEASE_STILL_OURS: &str = "SELECT 1 FROM org_leases
     WHERE org_id = $1 AND token = $2 AND expires_at > clock_timestamp()";

/// Deletes an org's lease as its run ends.
pub const RELEASE_LEASE: &str = "DELETE FROM org_leases WHERE org_id = $1 AND token = $2";

/// Renews the unexpired leases of the orgs `$1` that still carry one of our tokens `$2`,
/// skipping rows a committing transaction has locked (that commit renews them). The
/// orgs lead, so the primary key finds the rows; a token alone has no index.
pub const RENEW_LEASES: &str =
    "UPDATE org_leases SET expires_at = clock_timestamp() + make_interval(secs => $3)
     WHERE org_id IN (SELECT org_id FROM org_leases
                      WHERE org_id = ANY($1) AND token = ANY($2)
                        AND expires_at > clock_timestamp()
                      FOR UPDATE SKIP LOCKED)";

/// Stretches of businesses' UTC offsets (`local_offsets`), one per array element.
pub const INSERT_LOCAL_OFFSET: &str = "INSERT INTO local_offsets
     (org_id, business_id, starts_utc, ends_utc, utc_offset_seconds)
     SELECT $1, * FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[], $5::bigint[])";

/// Every statement above (but [`vacuum_full`]), for every table it runs on, each
/// resource's staging upsert, and the shared statements in PostgreSQL's dialect
/// ([`sql::planned`]): what `tests/query_plans.rs` plans. The upserts and rewrites name
/// the columns' types, read from the catalog on `client`; the upserts read a staging
/// table, which this creates on `client` as the staging code does, temporary and dropped
/// when the transaction ends: call it inside the transaction that plans them.
pub fn planned(client: &mut impl GenericClient) -> Result<Vec<String>, postgres::Error> {
    let mut all = Vec::new();
    let mut types = HashMap::new();
    for resource in Resource::ALL {
        let spec = table(resource);
        let t = spec.name;
        let column_types = super::staging::column_types(client, t)?;
        client.batch_execute(&super::staging::create_stage(&spec))?;
        all.extend([
            missing_ids(t),
            mark_unseen(t),
            super::staging::upsert_sql(&spec, &column_types),
        ]);
        types.insert(t, column_types);
    }
    all.extend(
        [
            ADVANCE_ROUTE,
            CURRENT_LEASE,
            TAKE_LEASE,
            FENCE_LEASE,
            LEASE_STILL_OURS,
            RELEASE_LEASE,
            RENEW_LEASES,
            INSERT_LOCAL_OFFSET,
        ]
        .map(str::to_string),
    );
    all.extend(sql::planned(Dialect::Postgres, &types));
    Ok(all)
}
