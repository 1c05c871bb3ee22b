-- Which database roles may read which org's rows: the config's `dashboard_roles`, written
-- by each run for its org. No role but the owner may read or write it (nothing is granted
-- on it); the row security policies read it through routiq_reader_orgs, which runs with
-- the owner's rights.
CREATE TABLE tenant_roles (
    org_id    text NOT NULL,
    role_name text NOT NULL,
    PRIMARY KEY (org_id, role_name)
);
-- The policies' lookup: a role's orgs.
CREATE INDEX tenant_roles_by_role ON tenant_roles (role_name, org_id);
REVOKE ALL ON tenant_roles FROM PUBLIC;

-- The orgs `reader` may read, asked by the policies as routiq_reader_orgs(current_user)
-- and wrapped as (SELECT ...) so it runs once per query. It answers only for a role the
-- session's login role is (or may become by SET ROLE), so no reader learns what another
-- may read; the search path is fixed and the table named with its schema, so a reader's
-- temporary table cannot stand in for the mapping.
DO $migration$
BEGIN
    EXECUTE format(
        $f$CREATE FUNCTION routiq_reader_orgs(reader name) RETURNS text[]
           LANGUAGE sql STABLE SECURITY DEFINER
           SET search_path = pg_catalog, pg_temp
           AS $body$
               SELECT coalesce(array_agg(m.org_id), '{}')
               FROM %I.tenant_roles AS m
               WHERE m.role_name = reader::text
                 AND pg_has_role(session_user, reader, 'MEMBER')
           $body$$f$,
        current_schema());
END
$migration$;
