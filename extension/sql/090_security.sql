-- Security: who is calling, row-level security, grants, dump registration -----
--
-- The functions of the security model.  099_secure_tables.sql, the tail of
-- the install script and of every upgrade script, applies it to every table and
-- function (row-level security, policies, dump registration, grants).
--
-- Model (Supabase's, and plain Postgres's with the same setting):
--   * the caller is the JWT subject, switchboard.current_user_id();
--   * an agent's owner (agents.owner_id = current_user_id()) reads and manages
--     that agent's rows in every table;
--   * roles that bypass row-level security (superuser, the tables' owner,
--     BYPASSRLS such as Supabase's service_role) see everything;
--   * anon gets no privilege at all; no other role gets any until an admin runs
--     switchboard.grant_usage(role) (done at CREATE EXTENSION time for
--     Supabase's authenticated and service_role when they exist).
-- Every function runs with its caller's rights (no SECURITY DEFINER anywhere),
-- so the policies below apply inside record_inbound and the rest too.

CREATE FUNCTION switchboard.current_user_id()
RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- nullif/coalesce are syntax; the = that nullif uses resolves through the
    -- pinned search_path (pg_catalog first), so no look-alike can stand in.
    SELECT nullif(
               coalesce(
                   nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
                   nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb
                       OPERATOR(pg_catalog.->>) 'sub'),
               '')::pg_catalog.uuid
$$;
COMMENT ON FUNCTION switchboard.current_user_id() IS
    'the caller: the JWT subject as Supabase''s auth.uid() reads it (request.jwt.claim.sub, else request.jwt.claims ->> ''sub''); NULL when absent or empty';

CREATE FUNCTION switchboard.agent_not_found(agent uuid)
RETURNS void
AS 'MODULE_PATHNAME', 'agent_not_found'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION switchboard.agent_not_found(uuid) IS
    'raises the error for an agent the caller cannot see: 42501 permission denied for agent when row-level security filters switchboard.agents for the caller (someone else''s agent and a missing one look the same), else P0002 agent does not exist';

-- Grants -------------------------------------------------------------------------
--
-- Nothing is executable by PUBLIC: the functions are granted per role by
-- grant_usage().  Trigger functions (Postgres does not check EXECUTE when a
-- trigger fires) and functions whose comment starts with "internal"
-- (guard_selftest, grant_usage itself) are granted to nobody.  Functions
-- whose comment starts with "helper" (the analytics internals: stats_fold,
-- stats_call_delta, ...) are granted like the public ones, never to PUBLIC:
-- the public functions and triggers call them with the caller's rights, and
-- row-level security limits them to the caller's agents.

CREATE FUNCTION switchboard.grant_usage(role name)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    role_oid oid;
    obj record;
BEGIN
    IF role IN ('anon', 'public') THEN
        RAISE EXCEPTION 'role "%" must not use switchboard', role
            USING ERRCODE = '22023', HINT = 'anon sees nothing; grant switchboard to signed-in roles only.';
    END IF;
    role_oid := role::pg_catalog.regrole::pg_catalog.oid;
    -- Only what the role lacks (a direct grant): run inside ALTER EXTENSION
    -- UPDATE, a GRANT on an old object would make its whole ACL, an admin's
    -- own grants included, "initial" privileges that pg_dump stops writing.
    FOR obj IN
        SELECT 'SCHEMA switchboard' AS target, 'USAGE' AS privs
         WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) x
                            WHERE n.nspname OPERATOR(pg_catalog.=) 'switchboard'
                              AND x.grantee OPERATOR(pg_catalog.=) role_oid
                              AND x.privilege_type OPERATOR(pg_catalog.=) 'USAGE')
        UNION ALL
        SELECT 'TABLE ' || c.oid::pg_catalog.regclass, 'SELECT, INSERT, UPDATE, DELETE'
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = 'switchboard'::pg_catalog.regnamespace
           AND c.relkind IN ('r', 'p', 'v', 'm')
           AND (SELECT pg_catalog.count(*) FROM pg_catalog.aclexplode(c.relacl) x
                 WHERE x.grantee OPERATOR(pg_catalog.=) role_oid
                   AND x.privilege_type OPERATOR(pg_catalog.=) ANY ('{SELECT,INSERT,UPDATE,DELETE}'::text[]))
               OPERATOR(pg_catalog.<) 4
        UNION ALL
        SELECT 'FUNCTION ' || p.oid::pg_catalog.regprocedure, 'EXECUTE'
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'switchboard'::pg_catalog.regnamespace
           AND coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), '') !~ '^internal'
           AND p.prorettype OPERATOR(pg_catalog.<>) 'pg_catalog.trigger'::pg_catalog.regtype
           AND NOT EXISTS (SELECT FROM pg_catalog.aclexplode(p.proacl) x
                            WHERE x.grantee OPERATOR(pg_catalog.=) role_oid
                              AND x.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE')
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('GRANT %s ON %s TO %I', obj.privs, obj.target, role);
    END LOOP;
END
$$;
COMMENT ON FUNCTION switchboard.grant_usage(name) IS
    'internal (admin): lets a role use switchboard: schema usage, SELECT/INSERT/UPDATE/DELETE on every table (row-level security still applies), EXECUTE on every public function';
REVOKE ALL ON FUNCTION switchboard.grant_usage(name) FROM PUBLIC;

