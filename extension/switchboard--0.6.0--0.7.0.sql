-- switchboard 0.6.0 -> 0.7.0.  The Makefile builds
-- extension/switchboard--0.6.0--0.7.0.sql from this file followed by
-- extension/sql/099_secure_tables.sql (row-level security, policies, dump
-- registration and grants for whatever this file adds).
--
-- Rules for this file (test/scripts/upgrade.sh checks the result): after
-- ALTER EXTENSION switchboard UPDATE, every object must be exactly what a fresh
-- CREATE EXTENSION switchboard of 0.7.0 makes (same columns in the same order,
-- same function definitions, comments, policies, grants), and no row is lost.
-- New columns therefore go at the end of their table in extension/sql/ too.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION switchboard UPDATE TO '0.7.0'" to load this file. \quit

-- stats_fold deletes an agent's staged deltas in a plain scan of the index on
-- (agent_id, delta_id), whatever the statistics say: with one busy agent
-- owning most staged rows the planner chose a sequential scan of the whole
-- stats_delta heap, or a bitmap scan that visits every dead entry's heap page
-- and never marks them dead (extension/sql/040_stats.sql).
ALTER FUNCTION switchboard.stats_fold(uuid, bigint) SET enable_seqscan = off;
ALTER FUNCTION switchboard.stats_fold(uuid, bigint) SET enable_bitmapscan = off;
-- Secure every table, revoke PUBLIC, grant to the roles that use switchboard ---
--
-- The tail of the install script AND of every upgrade script (the Makefile
-- appends this file to the upgrade script it builds), so it is idempotent: a
-- table that already has row-level security is left as it is, and grants are
-- redone.  A table or function added in any file or upgrade is covered here
-- automatically; nothing needs listing.
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
           AND NOT c.relrowsecurity          -- already secured: an upgrade's old table
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
                USING HINT = 'Give it a row-level security policy in 099_secure_tables.sql.';
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

-- Nothing is executable by PUBLIC.  Only functions that PUBLIC can still
-- execute (new ones) are touched, for the reason grant_usage() gives.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::pg_catalog.regprocedure
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'switchboard'::pg_catalog.regnamespace
           AND (p.proacl IS NULL
                OR EXISTS (SELECT FROM pg_catalog.aclexplode(p.proacl) x
                            WHERE x.grantee OPERATOR(pg_catalog.=) 0))
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;

-- Grants: Supabase's authenticated and service_role when they exist (these
-- grants are then part of the extension, recorded in pg_init_privs, and redone
-- by CREATE EXTENSION on a restore; an upgrade grants them what it adds).
-- Roles an admin gave switchboard with grant_usage() are not touched here: a
-- grant made inside this script would become an "initial" privilege that
-- pg_dump no longer writes out.  After ALTER EXTENSION UPDATE the admin runs
-- grant_usage(role) again (README, "Upgrading").  anon gets nothing, not even
-- through a default privilege.  No role is ever created here.
DO $$
DECLARE
    r name;
    obj record;
BEGIN
    FOREACH r IN ARRAY ARRAY['authenticated', 'service_role']::name[] LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
            PERFORM switchboard.grant_usage(r);
        END IF;
    END LOOP;
    -- anon: revoke whatever a default privilege gave it, object by object
    -- (again only where it has something).
    FOR obj IN
        SELECT 'SCHEMA switchboard' AS target
          FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) x
         WHERE n.nspname OPERATOR(pg_catalog.=) 'switchboard'
           AND x.grantee OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_roles
                                                  WHERE rolname OPERATOR(pg_catalog.=) 'anon')
        UNION
        SELECT CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END
               || c.oid::pg_catalog.regclass
          FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) x
         WHERE c.relnamespace = 'switchboard'::pg_catalog.regnamespace
           AND x.grantee OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_roles
                                                  WHERE rolname OPERATOR(pg_catalog.=) 'anon')
        UNION
        SELECT 'FUNCTION ' || p.oid::pg_catalog.regprocedure
          FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) x
         WHERE p.pronamespace = 'switchboard'::pg_catalog.regnamespace
           AND x.grantee OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_roles
                                                  WHERE rolname OPERATOR(pg_catalog.=) 'anon')
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM anon', obj.target);
    END LOOP;
END
$$;
