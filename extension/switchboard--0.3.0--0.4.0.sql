-- switchboard 0.3.0 -> 0.4.0.  The Makefile builds
-- extension/switchboard--0.3.0--0.4.0.sql from this file followed by
-- extension/sql/099_secure_tables.sql (row-level security, policies, dump
-- registration and grants for whatever this file adds).
--
-- Rules for this file (test/scripts/upgrade.sh checks the result): after
-- ALTER EXTENSION switchboard UPDATE, every object must be exactly what a fresh
-- CREATE EXTENSION switchboard of 0.4.0 makes (same columns in the same order,
-- same function definitions, comments, policies, grants), and no row is lost.
-- New columns therefore go at the end of their table in extension/sql/ too.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION switchboard UPDATE TO '0.4.0'" to load this file. \quit

-- The value rules of the columns every event writes become domains instead of
-- table CHECK constraints (why: extension/sql/020_tables.sql).  Same values
-- allowed, same SQLSTATE (23514) for one that is not.  Changing a column's type
-- to a domain with a check rewrites the table (each row is checked again):
-- messages, conversations, contacts, tiers and stats_seen are rewritten once,
-- under an ACCESS EXCLUSIVE lock, by this update.  Defaults are dropped and set
-- again so that they read as a fresh install's.
CREATE DOMAIN switchboard.conversation_status AS text
    CHECK (VALUE IN ('active', 'closed'));
COMMENT ON DOMAIN switchboard.conversation_status IS
    'a conversation''s status: active or closed';
CREATE DOMAIN switchboard.message_direction AS text
    CHECK (VALUE IN ('inbound', 'outbound'));
COMMENT ON DOMAIN switchboard.message_direction IS
    'a message''s direction: inbound (from the person) or outbound (from the agent)';
CREATE DOMAIN switchboard.message_decision AS text
    CHECK (VALUE IN ('accepted', 'blocked', 'disabled', 'rate_limited', 'daily_limit', 'quota_exceeded'));
COMMENT ON DOMAIN switchboard.message_decision IS
    'what record_inbound decided for a message: accepted, or why it was refused';

CREATE DOMAIN switchboard.stats_seen_kind AS text
    CHECK (VALUE IN ('phone', 'caller'));
COMMENT ON DOMAIN switchboard.stats_seen_kind IS
    'internal: what a stats_seen row counts: an inbound message''s phone or a call''s caller';

CREATE DOMAIN switchboard.tier_name AS text
    CHECK (VALUE ~ '^[a-z0-9][a-z0-9_-]{0,39}$');
COMMENT ON DOMAIN switchboard.tier_name IS
    'a tier''s name: lower-case letters, digits, _ and -, up to 40, starting with a letter or digit';

ALTER TABLE switchboard.conversations
    DROP CONSTRAINT conversations_phone_check,
    DROP CONSTRAINT conversations_status_check,
    ALTER COLUMN status DROP DEFAULT,
    ALTER COLUMN phone TYPE switchboard.e164,
    ALTER COLUMN status TYPE switchboard.conversation_status,
    ALTER COLUMN status SET DEFAULT 'active';

ALTER TABLE switchboard.messages
    DROP CONSTRAINT messages_direction_check,
    DROP CONSTRAINT messages_decision_check,
    ALTER COLUMN decision DROP DEFAULT,
    ALTER COLUMN direction TYPE switchboard.message_direction,
    ALTER COLUMN decision TYPE switchboard.message_decision,
    ALTER COLUMN decision SET DEFAULT 'accepted';

ALTER TABLE switchboard.stats_seen
    DROP CONSTRAINT stats_seen_kind_check,
    ALTER COLUMN kind TYPE switchboard.stats_seen_kind;

ALTER TABLE switchboard.tiers
    DROP CONSTRAINT tiers_tier_check,
    ALTER COLUMN tier TYPE switchboard.tier_name;

ALTER TABLE switchboard.contacts
    DROP CONSTRAINT contacts_tier_check,
    ALTER COLUMN tier DROP DEFAULT,
    ALTER COLUMN tier TYPE switchboard.tier_name,
    ALTER COLUMN tier SET DEFAULT 'free';

-- stats_fold gains a lower bound (the write path's fold skips the index range
-- earlier folds emptied); the old one-argument function goes
DROP FUNCTION switchboard.stats_fold(uuid);
-- fold one agent's staged deltas (0.4.0: only those after delta_id `after`);
-- the caller holds the agent's fold lock.  The write path's fold starts after
-- where the backend's previous fold of the agent began: the index range below
-- it holds the rows earlier folds deleted, which an unbounded scan would visit
-- again (on one busy agent, 133,578 dead index entries against 457 live rows
-- 20 s after a vacuum); readers fold everything (rollup, the default 0)
CREATE FUNCTION switchboard.stats_fold(a uuid, after bigint DEFAULT 0) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    n bigint;
    cdays date[];
BEGIN
    WITH d AS (
        DELETE FROM switchboard.stats_delta s WHERE s.agent_id = a AND s.delta_id > after RETURNING s.*
    ), c AS (
        INSERT INTO switchboard.stats_daily_category AS t (agent_id, day, category, tasks, tokens, judged, succeeded)
        SELECT d.agent_id, d.day, d.category, sum(d.ai_tasks), sum(d.ai_tokens), sum(d.ai_judged), sum(d.ai_succeeded)
          FROM d WHERE d.category IS NOT NULL
         GROUP BY d.agent_id, d.day, d.category
        ON CONFLICT (agent_id, day, category) DO UPDATE SET
            tasks = t.tasks + excluded.tasks, tokens = t.tokens + excluded.tokens,
            judged = t.judged + excluded.judged, succeeded = t.succeeded + excluded.succeeded
    ), f AS (
        INSERT INTO switchboard.stats_daily AS t (agent_id, day, inbound, accepted, blocked, rate_limited, daily_limit, disabled, outbound, new_conversations, new_sessions, unique_phones, calls_total, calls_answered, calls_completed, calls_failed, calls_busy, calls_no_answer, calls_canceled, call_duration_total, call_duration_count, unique_callers, replies, reply_latency_total, ai_tasks, ai_tokens, ai_processing_ms_total, ai_processing_count, ai_judged, ai_succeeded, quota_exceeded, after_hours, calls_after_hours)
        SELECT d.agent_id, d.day, sum(inbound), sum(accepted), sum(blocked), sum(rate_limited), sum(daily_limit), sum(disabled), sum(outbound), sum(new_conversations), sum(new_sessions), sum(unique_phones), sum(calls_total), sum(calls_answered), sum(calls_completed), sum(calls_failed), sum(calls_busy), sum(calls_no_answer), sum(calls_canceled), sum(call_duration_total), sum(call_duration_count), sum(unique_callers), sum(replies), sum(reply_latency_total), sum(ai_tasks), sum(ai_tokens), sum(ai_processing_ms_total), sum(ai_processing_count), sum(ai_judged), sum(ai_succeeded), sum(quota_exceeded), sum(after_hours), sum(calls_after_hours)
          FROM d GROUP BY d.agent_id, d.day
        ON CONFLICT (agent_id, day) DO UPDATE SET
        inbound = t.inbound + excluded.inbound,
        accepted = t.accepted + excluded.accepted,
        blocked = t.blocked + excluded.blocked,
        rate_limited = t.rate_limited + excluded.rate_limited,
        daily_limit = t.daily_limit + excluded.daily_limit,
        disabled = t.disabled + excluded.disabled,
        outbound = t.outbound + excluded.outbound,
        new_conversations = t.new_conversations + excluded.new_conversations,
        new_sessions = t.new_sessions + excluded.new_sessions,
        unique_phones = t.unique_phones + excluded.unique_phones,
        calls_total = t.calls_total + excluded.calls_total,
        calls_answered = t.calls_answered + excluded.calls_answered,
        calls_completed = t.calls_completed + excluded.calls_completed,
        calls_failed = t.calls_failed + excluded.calls_failed,
        calls_busy = t.calls_busy + excluded.calls_busy,
        calls_no_answer = t.calls_no_answer + excluded.calls_no_answer,
        calls_canceled = t.calls_canceled + excluded.calls_canceled,
        call_duration_total = t.call_duration_total + excluded.call_duration_total,
        call_duration_count = t.call_duration_count + excluded.call_duration_count,
        unique_callers = t.unique_callers + excluded.unique_callers,
        replies = t.replies + excluded.replies,
        reply_latency_total = t.reply_latency_total + excluded.reply_latency_total,
        ai_tasks = t.ai_tasks + excluded.ai_tasks,
        ai_tokens = t.ai_tokens + excluded.ai_tokens,
        ai_processing_ms_total = t.ai_processing_ms_total + excluded.ai_processing_ms_total,
        ai_processing_count = t.ai_processing_count + excluded.ai_processing_count,
        ai_judged = t.ai_judged + excluded.ai_judged,
        ai_succeeded = t.ai_succeeded + excluded.ai_succeeded,
        quota_exceeded = t.quota_exceeded + excluded.quota_exceeded,
        after_hours = t.after_hours + excluded.after_hours,
        calls_after_hours = t.calls_after_hours + excluded.calls_after_hours
    )
    SELECT count(*), array_agg(DISTINCT d.day) FILTER (WHERE d.category IS NOT NULL) INTO n, cdays FROM d;
    IF cdays IS NOT NULL THEN
        UPDATE switchboard.stats_daily t SET categories = coalesce((SELECT jsonb_object_agg(k.category, jsonb_build_object(
                   'tasks', k.tasks, 'tokens', k.tokens, 'judged', k.judged, 'succeeded', k.succeeded))
                   FILTER (WHERE k.tasks <> 0 OR k.tokens <> 0 OR k.judged <> 0 OR k.succeeded <> 0)
              FROM switchboard.stats_daily_category k WHERE k.agent_id = t.agent_id AND k.day = t.day), '{}')
         WHERE t.agent_id = a AND t.day = ANY (cdays);
    END IF;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION switchboard.stats_fold(uuid, bigint) IS
    'helper: folds one agent''s staged deltas (those after delta_id after; all by default) into stats_daily and stats_daily_category';

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
