-- Security: who is calling, row-level security, grants, dump registration -----
--
-- Numbered last on purpose: it runs after every table and function exists.
-- A table or function added in a file numbered below 090 is covered
-- automatically (see "Every table" and "Grants" below); nothing needs listing.
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

-- Every table ------------------------------------------------------------------
--
-- One loop over every table of the schema, so a table added later (analytics)
-- is covered without being listed: row-level security on, the owner policy,
-- and registration with pg_extension_config_dump (with its identity sequences)
-- so pg_dump keeps the rows and ids keep increasing after a restore.
-- agents is matched on owner_id; every other table must carry agent_id and is
-- matched on it.  A table without agent_id stops CREATE EXTENSION: decide its
-- policy here first.
--
-- The policies are index-friendly: current_user_id() is wrapped in a scalar
-- subquery and the caller's agents in ARRAY(SELECT ...), both evaluated once
-- per query as InitPlans, so a child table is read with
-- `Index Cond: (agent_id = ANY ($n))`; nothing scans agents per row.  Policy
-- expressions are stored as parsed trees (OIDs), so no later search_path can
-- change what they call.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.oid, c.relname,
               EXISTS (SELECT FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = c.oid AND a.attname = 'agent_id'
                          AND a.attnum > 0 AND NOT a.attisdropped) AS has_agent_id
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = 'switchboard'::pg_catalog.regnamespace
           AND c.relkind IN ('r', 'p')
         ORDER BY c.relname
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE switchboard.%I ENABLE ROW LEVEL SECURITY', t.relname);
        IF t.relname = 'agents' THEN
            CREATE POLICY agents_owner ON switchboard.agents
                USING (owner_id OPERATOR(pg_catalog.=) (SELECT switchboard.current_user_id()))
                WITH CHECK (owner_id OPERATOR(pg_catalog.=) (SELECT switchboard.current_user_id()));
        ELSIF t.has_agent_id THEN
            EXECUTE pg_catalog.format(
                'CREATE POLICY %I ON switchboard.%I'
                ' USING (agent_id OPERATOR(pg_catalog.=) ANY (ARRAY(%s)))'
                ' WITH CHECK (agent_id OPERATOR(pg_catalog.=) ANY (ARRAY(%s)))',
                t.relname || '_owner', t.relname,
                'SELECT a.agent_id FROM switchboard.agents a WHERE a.owner_id OPERATOR(pg_catalog.=) (SELECT switchboard.current_user_id())',
                'SELECT a.agent_id FROM switchboard.agents a WHERE a.owner_id OPERATOR(pg_catalog.=) (SELECT switchboard.current_user_id())');
        ELSE
            RAISE EXCEPTION 'table switchboard.% has no agent_id column', t.relname
                USING HINT = 'Give it a row-level security policy in 090_security.sql.';
        END IF;
        EXECUTE pg_catalog.format('COMMENT ON POLICY %I ON switchboard.%I IS %L',
            t.relname || '_owner', t.relname,
            CASE WHEN t.relname = 'agents'
                 THEN 'the owner (owner_id = current_user_id()) reads and manages its agents'
                 ELSE 'the owner of the row''s agent reads and manages it' END);
        PERFORM pg_catalog.pg_extension_config_dump(t.oid::pg_catalog.regclass, '');
        PERFORM pg_catalog.pg_extension_config_dump(d.objid::pg_catalog.regclass, '')
           FROM pg_catalog.pg_depend d
           JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
          WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
            AND d.refobjid = t.oid AND d.deptype IN ('a', 'i');
    END LOOP;
END
$$;

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
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA switchboard FROM PUBLIC;

CREATE FUNCTION switchboard.grant_usage(role name)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    IF role IN ('anon', 'public') THEN
        RAISE EXCEPTION 'role "%" must not use switchboard', role
            USING ERRCODE = '22023', HINT = 'anon sees nothing; grant switchboard to signed-in roles only.';
    END IF;
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA switchboard TO %I', role);
    EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA switchboard TO %I', role);
    FOR f IN
        SELECT p.oid::pg_catalog.regprocedure
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'switchboard'::pg_catalog.regnamespace
           AND coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), '') !~ '^internal'
           AND p.prorettype OPERATOR(pg_catalog.<>) 'pg_catalog.trigger'::pg_catalog.regtype
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %I', f, role);
    END LOOP;
END
$$;
COMMENT ON FUNCTION switchboard.grant_usage(name) IS
    'internal (admin): lets a role use switchboard: schema usage, SELECT/INSERT/UPDATE/DELETE on every table (row-level security still applies), EXECUTE on every public function';
REVOKE ALL ON FUNCTION switchboard.grant_usage(name) FROM PUBLIC;

-- Supabase: grant at CREATE EXTENSION time when its roles exist (these grants
-- are then part of the extension, recorded in pg_init_privs, and redone by
-- CREATE EXTENSION on a restore).  anon gets nothing, not even through a
-- default privilege.  No role is ever created here.
DO $$
DECLARE
    r name;
BEGIN
    FOREACH r IN ARRAY ARRAY['authenticated', 'service_role']::name[] LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
            PERFORM switchboard.grant_usage(r);
        END IF;
    END LOOP;
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'anon') THEN
        REVOKE ALL ON SCHEMA switchboard FROM anon;
        REVOKE ALL ON ALL TABLES IN SCHEMA switchboard FROM anon;
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA switchboard FROM anon;
        REVOKE ALL ON ALL FUNCTIONS IN SCHEMA switchboard FROM anon;
    END IF;
END
$$;
