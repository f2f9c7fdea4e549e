-- switchboard 0.4.0 -> 0.5.0.  The Makefile builds
-- extension/switchboard--0.4.0--0.5.0.sql from this file followed by
-- extension/sql/099_secure_tables.sql (row-level security, policies, dump
-- registration and grants for whatever this file adds).
--
-- Rules for this file (test/scripts/upgrade.sh checks the result): after
-- ALTER EXTENSION switchboard UPDATE, every object must be exactly what a fresh
-- CREATE EXTENSION switchboard of 0.5.0 makes (same columns in the same order,
-- same function definitions, comments, policies, grants), and no row is lost.
-- New columns therefore go at the end of their table in extension/sql/ too.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION switchboard UPDATE TO '0.5.0'" to load this file. \quit

-- agents.has_schedule and has_tiers: the event statement reads the schedule
-- and the tiers only for an agent that has them (extension/sql/050_routing.sql).
ALTER TABLE switchboard.agents
    ADD COLUMN has_schedule boolean NOT NULL DEFAULT false,
    ADD COLUMN has_tiers boolean NOT NULL DEFAULT false;

-- agents.has_schedule and has_tiers (0.5.0) -----------------------------------
--
-- The event statement reads them with the agent's settings, and the schedule
-- (business_hours, closed_dates) and the tier's limit are looked up only for an
-- agent that has them (why: README, "The fast-path locks").  They are derived:
-- agents_derive_uses recomputes both on every UPDATE of an agent (a hand-set
-- value does not stick), and a change to business_hours, closed_dates or tiers
-- runs agents_uses_changed, which updates the agents it touched when a flag
-- changes.  An INSERT of an agent keeps the values given: false for a new
-- agent (it has no rows yet), the dumped ones on a restore, so a restore
-- leaves updated_at alone.  Under concurrency: agents_uses_changed locks the
-- agents rows first (in agent_id order) and recomputes in its next statement,
-- whose snapshot (READ COMMITTED) is taken once the locks are granted, so of
-- two transactions changing one agent's rows at once, the second to commit
-- sees the first's rows as well as its own.  A stale true only costs the
-- look-ups; a flag is never false while rows exist.
CREATE FUNCTION switchboard.agent_uses(agent uuid, OUT has_schedule boolean, OUT has_tiers boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT FROM switchboard.business_hours h WHERE h.agent_id OPERATOR(pg_catalog.=) agent)
           OR EXISTS (SELECT FROM switchboard.closed_dates d WHERE d.agent_id OPERATOR(pg_catalog.=) agent),
           EXISTS (SELECT FROM switchboard.tiers t WHERE t.agent_id OPERATOR(pg_catalog.=) agent)
$$;
COMMENT ON FUNCTION switchboard.agent_uses(uuid) IS
    'helper: whether the agent has a schedule (business_hours or closed_dates rows) and tiers, as agents.has_schedule and has_tiers hold them';

CREATE FUNCTION switchboard.agents_derive_uses() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT u.has_schedule, u.has_tiers INTO NEW.has_schedule, NEW.has_tiers
      FROM switchboard.agent_uses(NEW.agent_id) u;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION switchboard.agents_derive_uses() IS
    'internal trigger: sets agents.has_schedule and has_tiers from the agent''s rows';
CREATE TRIGGER agents_derive_uses BEFORE UPDATE ON switchboard.agents
    FOR EACH ROW EXECUTE FUNCTION switchboard.agents_derive_uses();
COMMENT ON TRIGGER agents_derive_uses ON switchboard.agents IS
    'keeps has_schedule and has_tiers derived from business_hours, closed_dates and tiers';

CREATE FUNCTION switchboard.agents_uses_changed() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids uuid[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        ids := ARRAY(SELECT a.agent_id FROM switchboard.agents a WHERE a.has_schedule OR a.has_tiers);
    ELSIF TG_OP = 'INSERT' THEN
        ids := ARRAY[NEW.agent_id];
    ELSIF TG_OP = 'DELETE' THEN
        ids := ARRAY[OLD.agent_id];
    ELSE
        ids := ARRAY[OLD.agent_id, NEW.agent_id];
    END IF;
    PERFORM FROM switchboard.agents a WHERE a.agent_id OPERATOR(pg_catalog.=) ANY (ids)
      ORDER BY a.agent_id FOR NO KEY UPDATE;
    -- a new statement: its snapshot sees what committed while we waited
    UPDATE switchboard.agents a SET has_schedule = u.has_schedule, has_tiers = u.has_tiers
      FROM (SELECT DISTINCT i.agent_id, x.has_schedule, x.has_tiers
              FROM pg_catalog.unnest(ids) i (agent_id), switchboard.agent_uses(i.agent_id) x) u
     WHERE a.agent_id OPERATOR(pg_catalog.=) u.agent_id
       AND (a.has_schedule IS DISTINCT FROM u.has_schedule OR a.has_tiers IS DISTINCT FROM u.has_tiers);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION switchboard.agents_uses_changed() IS
    'internal trigger: updates agents.has_schedule and has_tiers of the agents whose business_hours, closed_dates or tiers rows changed';
CREATE TRIGGER business_hours_uses AFTER INSERT OR UPDATE OF agent_id OR DELETE ON switchboard.business_hours
    FOR EACH ROW EXECUTE FUNCTION switchboard.agents_uses_changed();
CREATE TRIGGER business_hours_uses_truncate AFTER TRUNCATE ON switchboard.business_hours
    FOR EACH STATEMENT EXECUTE FUNCTION switchboard.agents_uses_changed();
CREATE TRIGGER closed_dates_uses AFTER INSERT OR UPDATE OF agent_id OR DELETE ON switchboard.closed_dates
    FOR EACH ROW EXECUTE FUNCTION switchboard.agents_uses_changed();
CREATE TRIGGER closed_dates_uses_truncate AFTER TRUNCATE ON switchboard.closed_dates
    FOR EACH STATEMENT EXECUTE FUNCTION switchboard.agents_uses_changed();
CREATE TRIGGER tiers_uses AFTER INSERT OR UPDATE OF agent_id OR DELETE ON switchboard.tiers
    FOR EACH ROW EXECUTE FUNCTION switchboard.agents_uses_changed();
CREATE TRIGGER tiers_uses_truncate AFTER TRUNCATE ON switchboard.tiers
    FOR EACH STATEMENT EXECUTE FUNCTION switchboard.agents_uses_changed();
COMMENT ON TRIGGER business_hours_uses ON switchboard.business_hours IS 'keeps agents.has_schedule current';
COMMENT ON TRIGGER business_hours_uses_truncate ON switchboard.business_hours IS 'keeps agents.has_schedule current';
COMMENT ON TRIGGER closed_dates_uses ON switchboard.closed_dates IS 'keeps agents.has_schedule current';
COMMENT ON TRIGGER closed_dates_uses_truncate ON switchboard.closed_dates IS 'keeps agents.has_schedule current';
COMMENT ON TRIGGER tiers_uses ON switchboard.tiers IS 'keeps agents.has_tiers current';
COMMENT ON TRIGGER tiers_uses_truncate ON switchboard.tiers IS 'keeps agents.has_tiers current';

-- The agents that have a schedule or tiers already; their updated_at stays.
ALTER TABLE switchboard.agents DISABLE TRIGGER agents_touch_updated_at;
UPDATE switchboard.agents a SET has_schedule = true  -- agents_derive_uses sets both
 WHERE a.agent_id IN (SELECT h.agent_id FROM switchboard.business_hours h
                      UNION SELECT d.agent_id FROM switchboard.closed_dates d
                      UNION SELECT t.agent_id FROM switchboard.tiers t);
ALTER TABLE switchboard.agents ENABLE TRIGGER agents_touch_updated_at;
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
