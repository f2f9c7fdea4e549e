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
