-- switchboard 0.1.0 -> 0.2.0.  The Makefile builds
-- extension/switchboard--0.1.0--0.2.0.sql from this file followed by
-- extension/sql/099_secure_tables.sql (row-level security, policies, dump
-- registration and grants for whatever this file adds).
--
-- Rules for this file (test/scripts/upgrade.sh checks the result): after
-- ALTER EXTENSION switchboard UPDATE, every object must be exactly what a fresh
-- CREATE EXTENSION switchboard of 0.2.0 makes (same columns in the same order,
-- same function definitions, comments, policies, grants), and no row is lost.
-- New columns therefore go at the end of their table in extension/sql/ too.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION switchboard UPDATE TO '0.2.0'" to load this file. \quit

-- grant_usage() grants only what a role lacks, so that the grants at the end of
-- an upgrade touch only new objects (see 090_security.sql).
CREATE OR REPLACE FUNCTION switchboard.grant_usage(role name)
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

-- statsperf (issue 5, analytics write path and readers) --------------------
-- The message trigger is native (extension/src/pg/stats_functions.cpp): same
-- statements and results as the PL/pgSQL trigger it replaces.
CREATE OR REPLACE FUNCTION switchboard.stats_on_message() RETURNS trigger
AS 'MODULE_PATHNAME', 'stats_on_message'
LANGUAGE C;
COMMENT ON FUNCTION switchboard.stats_on_message() IS
    'internal trigger: stages the daily-stats increments of a new message (off when switchboard.stats_rollup = off)';
