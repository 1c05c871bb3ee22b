//! Who may read which org on PostgreSQL: the config's `dashboard_roles` bound to the
//! org's rows by row security. Each run writes its org's roles to `tenant_roles` (which
//! no reader may read or write), and brings the schema to the state below, changing only
//! what differs (so a run that finds it done takes no table lock):
//!
//! - every table of [`org_tables`] has row security enabled and forced (its owner, the
//!   sync's role, is held to it too), one policy `routiq_sync` letting the sync's role do
//!   everything, and one policy `routiq_readers` letting every other role read the rows of
//!   the orgs `tenant_roles` lists for it (`routiq_reader_orgs(current_user)`, wrapped as a
//!   scalar subquery so it runs once per query and `org_id` leads the index scan);
//! - every view the sync's role owns in the schema runs with its reader's rights
//!   (`security_invoker`), so the tables' policies hold through it;
//! - every role in `tenant_roles` may use the schema and `SELECT` those tables and views,
//!   and nothing else; a role no longer listed for any org loses that `SELECT`.
//!
//! Roles are the administrator's: nothing here creates or alters one.

use postgres::GenericClient;

use super::connect::quote_ident;
use super::lease::namespaced_key;
use super::{PgStore, Step};
use crate::store::{StoreError, org_tables};

/// The policy that lets the sync's own role read and write every row.
const SYNC_POLICY: &str = "routiq_sync";
/// The policy that lets a reader role read its orgs' rows.
const READER_POLICY: &str = "routiq_readers";
/// `security_invoker` on views, and so reader roles, came with PostgreSQL 15.
const INVOKER_VIEWS_FROM: i32 = 150_000;

/// What a run must know before it writes an org's roles: roles it names that the server
/// lacks, tables of the schema the session's role does not own, and the server's version.
const PREFLIGHT: &str = "
    SELECT ARRAY(SELECT r FROM unnest($1::text[]) AS r
                 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)),
           ARRAY(SELECT c.relname::text FROM pg_class AS c
                 JOIN pg_namespace AS n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relname::text = ANY($2::text[])
                   AND c.relkind IN ('r', 'p') AND NOT pg_has_role(c.relowner, 'USAGE')),
           current_setting('server_version_num')::int";

/// Each table of the list given: whether row security is enabled, forced, and which of
/// the two policies it has.
const TABLE_STATE: &str = "
    SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
           EXISTS (SELECT 1 FROM pg_policy AS p WHERE p.polrelid = c.oid AND p.polname = $2::text),
           EXISTS (SELECT 1 FROM pg_policy AS p WHERE p.polrelid = c.oid AND p.polname = $3::text)
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relname::text = ANY($1::text[]) AND c.relkind IN ('r', 'p')
    ORDER BY 1";

/// The views of the schema the session's role owns (found in the catalog, so views a
/// later migration adds are covered), and whether each runs with its reader's rights.
const OWN_VIEWS: &str = "
    SELECT c.relname::text,
           coalesce(c.reloptions @> ARRAY['security_invoker=true'], false)
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind = 'v' AND pg_has_role(c.relowner, 'USAGE')
    ORDER BY 1";

/// Every (existing) role listed for some org, with the relations of the list given it may
/// not `SELECT` yet, whether it lacks `USAGE` on the schema, and whether it holds any
/// right on the mapping (default privileges granted by hand would give it one).
const MISSING_GRANTS: &str = "
    SELECT m.role_name,
           ARRAY(SELECT c.relname::text FROM pg_class AS c
                 WHERE c.relnamespace = n.oid AND c.relname::text = ANY($1::text[])
                   AND NOT has_table_privilege(m.role_name, c.oid, 'SELECT')
                 ORDER BY 1),
           NOT has_schema_privilege(m.role_name, n.oid, 'USAGE'),
           has_table_privilege(m.role_name, 'tenant_roles',
                               'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
    FROM (SELECT DISTINCT role_name FROM tenant_roles) AS m
    JOIN pg_roles AS r ON r.rolname = m.role_name
    JOIN pg_namespace AS n ON n.nspname = current_schema()
    ORDER BY 1";

impl PgStore {
    /// Makes `roles` exactly the roles that may read `org_id`, and the schema's row
    /// security, policies, views and grants as the module says; one transaction under the
    /// org's lease and a lock of the schema's grants (hosts syncing other orgs wait).
    pub(super) fn apply_org_readers(
        &mut self,
        org_id: &str,
        roles: &[String],
    ) -> Result<(), StoreError> {
        let tables: Vec<String> = org_tables().iter().map(|t| t.to_string()).collect();
        let step = Step::statement("checking the org's dashboard roles");
        let (missing, foreign, version): (Vec<String>, Vec<String>, i32) =
            self.query_one(step, PREFLIGHT, &[&roles, &tables], |r| {
                (r.get(0), r.get(1), r.get(2))
            })?;
        let refuse = |detail: String| StoreError::Readers {
            org: org_id.to_string(),
            target: self.target.clone(),
            detail,
        };
        if !missing.is_empty() {
            return Err(refuse(format!(
                "dashboard_roles names role(s) the server does not have: {}; create them as \
                 a superuser (`routiq-sync check` prints the SQL), or remove them from the \
                 org's dashboard_roles",
                missing.join(", ")
            )));
        }
        if version < INVOKER_VIEWS_FROM {
            if roles.is_empty() {
                // Nothing to bind on a server without invoker views: leave it as it was.
                return Ok(());
            }
            return Err(refuse(format!(
                "dashboard_roles needs PostgreSQL 15 or newer (views that run with their \
                 reader's rights); this server is {version}; upgrade it, or remove \
                 dashboard_roles"
            )));
        }
        if !foreign.is_empty() {
            return Err(refuse(format!(
                "the table(s) {} belong to another role than the one syncing, which cannot \
                 put row security on them; run the sync as their owner, or `ALTER TABLE ... \
                 OWNER TO` it",
                foreign.join(", ")
            )));
        }
        let lock = namespaced_key("readers", &self.schema, "");
        let schema = quote_ident(&self.schema);
        self.in_tx(
            org_id,
            Step::bulk("granting the org's dashboard roles"),
            |tx| {
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])?;
                let removed: Vec<String> = tx
                .query(
                    "DELETE FROM tenant_roles WHERE org_id = $1 AND role_name <> ALL($2::text[])
                     RETURNING role_name",
                    &[&org_id, &roles],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
                tx.execute(
                    "INSERT INTO tenant_roles (role_name, org_id)
                 SELECT unnest($2::text[]), $1 ON CONFLICT DO NOTHING",
                    &[&org_id, &roles],
                )?;
                let present = secure_tables(tx, &tables)?;
                let readable = secure_views(tx, &present)?;
                grant(tx, &schema, &readable)?;
                revoke(tx, &removed, &readable)
            },
        )
    }
}

/// Enables and forces row security on `tables`, with both policies, where missing;
/// returns those of `tables` the schema has (a table of a resource no migration created
/// yet is left out).
fn secure_tables(
    tx: &mut impl GenericClient,
    tables: &[String],
) -> Result<Vec<String>, postgres::Error> {
    let rows = tx.query(TABLE_STATE, &[&tables, &SYNC_POLICY, &READER_POLICY])?;
    let mut ddl = String::new();
    let mut present = Vec::new();
    for row in rows {
        present.push(row.get::<_, String>(0));
        let table = quote_ident(row.get::<_, &str>(0));
        let (enabled, forced, sync, readers): (bool, bool, bool, bool) =
            (row.get(1), row.get(2), row.get(3), row.get(4));
        if !sync {
            ddl += &format!(
                "CREATE POLICY {SYNC_POLICY} ON {table} TO CURRENT_USER USING (true) \
                 WITH CHECK (true);"
            );
        }
        if !readers {
            // The cast makes `(SELECT ...)` one array value (a scalar subquery, run once
            // per query) rather than `ANY (subquery)`, which would compare row by row.
            ddl += &format!(
                "CREATE POLICY {READER_POLICY} ON {table} FOR SELECT TO PUBLIC \
                 USING (org_id = ANY ((SELECT routiq_reader_orgs(current_user))::text[]));"
            );
        }
        if !enabled {
            ddl += &format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;");
        }
        if !forced {
            ddl += &format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY;");
        }
    }
    if !ddl.is_empty() {
        tx.batch_execute(&ddl)?;
    }
    Ok(present)
}

/// Makes every view the sync's role owns run with its reader's rights; returns what
/// readers may `SELECT`: `tables` and those views.
fn secure_views(
    tx: &mut impl GenericClient,
    tables: &[String],
) -> Result<Vec<String>, postgres::Error> {
    let mut readable = tables.to_vec();
    let mut ddl = String::new();
    for row in tx.query(OWN_VIEWS, &[])? {
        let view: String = row.get(0);
        if !row.get::<_, bool>(1) {
            ddl += &format!(
                "ALTER VIEW {} SET (security_invoker = true);",
                quote_ident(&view)
            );
        }
        readable.push(view);
    }
    if !ddl.is_empty() {
        tx.batch_execute(&ddl)?;
    }
    Ok(readable)
}

/// Grants every listed role `USAGE` on the schema and `SELECT` on `readable`, where it
/// lacks them, and takes from it any right on the mapping.
fn grant(
    tx: &mut impl GenericClient,
    schema: &str,
    readable: &[String],
) -> Result<(), postgres::Error> {
    let mut ddl = String::new();
    for row in tx.query(MISSING_GRANTS, &[&readable])? {
        let role = quote_ident(row.get::<_, &str>(0));
        let relations: Vec<String> = row.get(1);
        if row.get::<_, bool>(2) {
            ddl += &format!("GRANT USAGE ON SCHEMA {schema} TO {role};");
        }
        if row.get::<_, bool>(3) {
            ddl += &format!("REVOKE ALL ON tenant_roles FROM {role};");
        }
        if !relations.is_empty() {
            let list: Vec<String> = relations.iter().map(|r| quote_ident(r)).collect();
            ddl += &format!("GRANT SELECT ON {} TO {role};", list.join(", "));
        }
    }
    if !ddl.is_empty() {
        tx.batch_execute(&ddl)?;
    }
    Ok(())
}

/// Takes `SELECT` on `readable` from each of `removed` (roles no longer listed for an
/// org) that no org lists any more and that still exists; their rows were hidden from
/// them already, as the mapping lost them.
fn revoke(
    tx: &mut impl GenericClient,
    removed: &[String],
    readable: &[String],
) -> Result<(), postgres::Error> {
    if removed.is_empty() || readable.is_empty() {
        return Ok(());
    }
    let gone: Vec<String> = tx
        .query(
            "SELECT r FROM unnest($1::text[]) AS r
             WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)
               AND NOT EXISTS (SELECT 1 FROM tenant_roles WHERE role_name = r)",
            &[&removed],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let list: Vec<String> = readable.iter().map(|r| quote_ident(r)).collect();
    let ddl: String = gone
        .iter()
        .map(|role| {
            format!(
                "REVOKE SELECT ON {} FROM {};",
                list.join(", "),
                quote_ident(role)
            )
        })
        .collect();
    if !ddl.is_empty() {
        tx.batch_execute(&ddl)?;
    }
    Ok(())
}

/// Forgets every role listed for `org_id`, in `forget`'s transaction, taking `SELECT`
/// from those no other org lists.
pub(super) fn forget_org_readers(
    tx: &mut impl GenericClient,
    org_id: &str,
) -> Result<(), postgres::Error> {
    let removed: Vec<String> = tx
        .query(
            "DELETE FROM tenant_roles WHERE org_id = $1 RETURNING role_name",
            &[&org_id],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if removed.is_empty() {
        return Ok(());
    }
    let tables: Vec<String> = org_tables().iter().map(|t| t.to_string()).collect();
    let mut readable: Vec<String> = tx
        .query(TABLE_STATE, &[&tables, &SYNC_POLICY, &READER_POLICY])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for row in tx.query(OWN_VIEWS, &[])? {
        readable.push(row.get(0));
    }
    revoke(tx, &removed, &readable)
}

/// What `check` asks of each reader role: whether the server has it, and whatever would
/// let it read past the row security (see [`crate::store::store_facts::ReaderFacts`]).
const READER_FACTS: &str = "
    SELECT r.name, a.oid IS NOT NULL, coalesce(a.rolsuper, false),
           coalesce(a.rolbypassrls, false),
           ARRAY(SELECT c.relname::text FROM pg_class AS c
                 JOIN pg_namespace AS n ON n.oid = c.relnamespace
                 WHERE n.nspname = $2 AND c.relowner = a.oid ORDER BY 1),
           a.oid IS NOT NULL AND coalesce(
               (SELECT has_schema_privilege(a.oid, n.oid, 'CREATE')
                FROM pg_namespace AS n WHERE n.nspname = $2), false),
           a.oid IS NOT NULL AND pg_has_role(a.oid, current_user, 'MEMBER')
    FROM unnest($1::text[]) WITH ORDINALITY AS r(name, i)
    LEFT JOIN pg_roles AS a ON a.rolname = r.name
    ORDER BY r.i";

impl PgStore {
    /// [`ReaderFacts`](crate::store::store_facts::ReaderFacts) of each of `roles`, in order,
    /// changing nothing.
    pub fn reader_facts(
        &self,
        roles: &[String],
    ) -> Result<Vec<crate::store::store_facts::ReaderFacts>, StoreError> {
        let step = Step::statement("reading the dashboard roles' rights");
        let schema = self.schema.clone();
        self.query(step, READER_FACTS, &[&roles, &schema], |r| {
            crate::store::store_facts::ReaderFacts {
                role: r.get(0),
                exists: r.get(1),
                superuser: r.get(2),
                bypass_rls: r.get(3),
                owns: r.get(4),
                may_create: r.get(5),
                member_of_sync_role: r.get(6),
            }
        })
    }
}
