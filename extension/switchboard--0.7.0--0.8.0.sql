-- switchboard 0.7.0 -> 0.8.0.  The Makefile builds
-- extension/switchboard--0.7.0--0.8.0.sql from this file followed by
-- extension/sql/099_secure_tables.sql (row-level security, policies, dump
-- registration and grants for whatever this file adds).
--
-- Rules for this file (test/scripts/upgrade.sh checks the result): after
-- ALTER EXTENSION switchboard UPDATE, every object must be exactly what a fresh
-- CREATE EXTENSION switchboard of 0.8.0 makes (same columns in the same order,
-- same function definitions, comments, policies, grants), and no row is lost.
-- New columns therefore go at the end of their table in extension/sql/ too.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION switchboard UPDATE TO '0.8.0'" to load this file. \quit

-- rebuild_stats takes its SHARE locks on messages and calls first, then clears
-- the conversations' analytics marks, skipping rows another transaction holds
-- (0.7.0 cleared them first and waited for such rows, which deadlocked with a
-- transaction that had stored a message already and then wrote to one of
-- them); a mark left on a held row must still match the recomputed records,
-- else it is cleared if the row is free by then, and the rebuild fails with
-- 55P03 if it is not (extension/sql/040_stats.sql).
CREATE OR REPLACE FUNCTION switchboard.rebuild_stats(agent_id uuid DEFAULT NULL, "from" date DEFAULT NULL,
                                          "to" date DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    a uuid;
    tz text;
    horizon timestamptz;
    lo date;
    lo_h date;
    hi date := coalesce($3, 'infinity'::date);
    n bigint;
    total bigint := 0;
    held record;
BEGIN
    IF $1 IS NOT NULL THEN
        PERFORM switchboard.stats_check_agent($1);
    END IF;
    -- writers wait until the rebuild commits, so no event is counted twice or lost
    LOCK TABLE switchboard.messages, switchboard.calls IN SHARE MODE;
    -- The conversations' marks that their analytics records exist
    -- (conversations.stats_session) go next: the records are recomputed below
    -- from the raw rows, which may have been edited by hand, and the marks set
    -- again at the end where they allow it.  A row another transaction holds
    -- keeps its mark (0.8.0): it is an event waiting for the lock above, or a
    -- transaction that will wait for it before it stores a message there, so
    -- waiting for that row would deadlock (up to 0.7.0 the marks were cleared
    -- before the lock, which deadlocked with a transaction that had stored a
    -- message already).  Such a mark is checked against the recomputed records
    -- below.
    UPDATE switchboard.conversations c SET stats_session = NULL
      FROM (SELECT v.agent_id, v.conversation_id FROM switchboard.conversations v
             WHERE ($1 IS NULL OR v.agent_id = $1) AND v.stats_session IS NOT NULL
               FOR UPDATE OF v SKIP LOCKED) m
     WHERE c.agent_id = m.agent_id AND c.conversation_id = m.conversation_id;
    FOR a, tz IN SELECT g.agent_id, g.timezone FROM switchboard.agents g
                  WHERE $1 IS NULL OR g.agent_id = $1 ORDER BY g.agent_id LOOP
        PERFORM pg_advisory_xact_lock(1398145877, hashtext(a::text));
        PERFORM switchboard.stats_fold(a);
        lo_h := '-infinity'::date;
        horizon := NULL;
        SELECT h.purged_before INTO horizon FROM switchboard.stats_horizon h WHERE h.agent_id = a;
        IF horizon IS NOT NULL THEN
            -- the first day that starts at or after the purge horizon: earlier
            -- days lost raw rows, so their rollups stay as they are
            lo_h := (horizon AT TIME ZONE tz)::date
                    + CASE WHEN ((horizon AT TIME ZONE tz)::date::timestamp AT TIME ZONE tz) < horizon
                           THEN 1 ELSE 0 END;
        END IF;
        lo := greatest(coalesce($2, '-infinity'::date), lo_h);
        CONTINUE WHEN lo > hi;

        -- first messages of conversations and sessions (those of purged history stay)
        DELETE FROM switchboard.stats_first f
         WHERE f.agent_id = a AND (horizon IS NULL OR f.first_at >= horizon);
        INSERT INTO switchboard.stats_first
        SELECT DISTINCT ON (m.conversation_id) a, 'conversation', m.conversation_id, m.created_at, m.message_id,
               (m.created_at AT TIME ZONE tz)::date
          FROM switchboard.messages m
         WHERE m.agent_id = a AND m.conversation_id IS NOT NULL
         ORDER BY m.conversation_id, m.created_at, m.message_id
        ON CONFLICT DO NOTHING;
        INSERT INTO switchboard.stats_first
        SELECT DISTINCT ON (m.session_id) a, 'session', m.session_id, m.created_at, m.message_id,
               (m.created_at AT TIME ZONE tz)::date
          FROM switchboard.messages m
         WHERE m.agent_id = a AND m.conversation_id IS NOT NULL AND m.session_id IS NOT NULL
         ORDER BY m.session_id, m.created_at, m.message_id
        ON CONFLICT DO NOTHING;

        -- firsts were recomputed for every day: keep the days outside the
        -- range in step (a first message may have moved in or out of them)
        UPDATE switchboard.stats_daily s SET new_conversations = 0, new_sessions = 0
         WHERE s.agent_id = a AND s.day >= lo_h AND s.day NOT BETWEEN lo AND hi
           AND (s.new_conversations <> 0 OR s.new_sessions <> 0);
        INSERT INTO switchboard.stats_daily AS t (agent_id, day, new_conversations, new_sessions)
        SELECT a, f.first_day, count(*) FILTER (WHERE f.kind = 'conversation'),
               count(*) FILTER (WHERE f.kind = 'session')
          FROM switchboard.stats_first f
         WHERE f.agent_id = a AND f.first_day >= lo_h AND f.first_day NOT BETWEEN lo AND hi
         GROUP BY f.first_day
        ON CONFLICT ON CONSTRAINT stats_daily_pkey DO UPDATE SET
            new_conversations = excluded.new_conversations, new_sessions = excluded.new_sessions;

        DELETE FROM switchboard.stats_daily s WHERE s.agent_id = a AND s.day BETWEEN lo AND hi;
        DELETE FROM switchboard.stats_daily_category s WHERE s.agent_id = a AND s.day BETWEEN lo AND hi;
        DELETE FROM switchboard.stats_seen s WHERE s.agent_id = a AND s.day BETWEEN lo AND hi;

        INSERT INTO switchboard.stats_seen (agent_id, kind, day, value)
        SELECT DISTINCT a, 'phone', (m.created_at AT TIME ZONE tz)::date, m.phone
          FROM switchboard.messages m
         WHERE m.agent_id = a AND m.direction = 'inbound'
           AND (m.created_at AT TIME ZONE tz)::date BETWEEN lo AND hi;
        INSERT INTO switchboard.stats_seen (agent_id, kind, day, value)
        SELECT DISTINCT a, 'caller', (c.started_at AT TIME ZONE tz)::date, c.caller
          FROM switchboard.calls c
         WHERE c.agent_id = a AND (c.started_at AT TIME ZONE tz)::date BETWEEN lo AND hi;

        INSERT INTO switchboard.stats_daily (agent_id, day, inbound, accepted, blocked, rate_limited, daily_limit, disabled, outbound, new_conversations, new_sessions, unique_phones, calls_total, calls_answered, calls_completed, calls_failed, calls_busy, calls_no_answer, calls_canceled, call_duration_total, call_duration_count, unique_callers, replies, reply_latency_total, ai_tasks, ai_tokens, ai_processing_ms_total, ai_processing_count, ai_judged, ai_succeeded, quota_exceeded, after_hours, calls_after_hours)
        SELECT a, r.day, r.inbound, r.accepted, r.blocked, r.rate_limited, r.daily_limit, r.disabled, r.outbound, r.new_conversations, r.new_sessions, r.unique_phones, r.calls_total, r.calls_answered, r.calls_completed, r.calls_failed, r.calls_busy, r.calls_no_answer, r.calls_canceled, r.call_duration_total, r.call_duration_count, r.unique_callers, r.replies, r.reply_latency_total, r.ai_tasks, r.ai_tokens, r.ai_processing_ms_total, r.ai_processing_count, r.ai_judged, r.ai_succeeded, r.quota_exceeded, r.after_hours, r.calls_after_hours
          FROM switchboard.stats_from_raw(a, lo, hi) r;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;

        INSERT INTO switchboard.stats_daily_category (agent_id, day, category, tasks, tokens, judged, succeeded)
        SELECT a, (m.created_at AT TIME ZONE tz)::date, m.metadata ->> 'category', count(*),
               coalesce(sum(round((m.metadata ->> 'tokens_used')::numeric))
                   FILTER (WHERE jsonb_typeof(m.metadata -> 'tokens_used') = 'number'), 0),
               count(*) FILTER (WHERE jsonb_typeof(m.metadata -> 'success') = 'boolean'),
               count(*) FILTER (WHERE m.metadata -> 'success' = 'true'::jsonb)
          FROM switchboard.messages m
         WHERE m.agent_id = a AND m.direction = 'outbound'
           AND jsonb_typeof(m.metadata -> 'category') = 'string'
           AND (m.created_at AT TIME ZONE tz)::date BETWEEN lo AND hi
         GROUP BY 2, 3;
        UPDATE switchboard.stats_daily t SET categories = coalesce((SELECT jsonb_object_agg(k.category, jsonb_build_object(
                   'tasks', k.tasks, 'tokens', k.tokens, 'judged', k.judged, 'succeeded', k.succeeded))
                   FILTER (WHERE k.tasks <> 0 OR k.tokens <> 0 OR k.judged <> 0 OR k.succeeded <> 0)
              FROM switchboard.stats_daily_category k WHERE k.agent_id = t.agent_id AND k.day = t.day), '{}')
         WHERE t.agent_id = a AND t.day BETWEEN lo AND hi
           AND EXISTS (SELECT FROM switchboard.stats_daily_category k WHERE k.agent_id = a AND k.day = t.day);
    END LOOP;
    -- A mark left on a held row must still be true of the recomputed records
    -- (it is, unless raw messages were edited by hand): the event holding the
    -- row read it and stages its analytics by it once this commits.  If it is
    -- not, clear it if the row is free by now, else fail rather than wait for
    -- the row (a deadlock) or leave a wrong mark: nothing is half-done, and a
    -- retry after that transaction finds the row free.
    FOR held IN SELECT v.agent_id, v.conversation_id FROM switchboard.conversations v
                 WHERE ($1 IS NULL OR v.agent_id = $1) AND v.stats_session IS NOT NULL
                   AND NOT (EXISTS (SELECT FROM switchboard.stats_first f
                                     WHERE f.agent_id = v.agent_id AND f.kind = 'conversation'
                                       AND f.id = v.conversation_id AND f.first_at <= v.last_message_at)
                            AND EXISTS (SELECT FROM switchboard.stats_first f
                                         WHERE f.agent_id = v.agent_id AND f.kind = 'session'
                                           AND f.id = v.stats_session AND f.first_at <= v.last_message_at)) LOOP
        BEGIN
            PERFORM FROM switchboard.conversations c
              WHERE c.agent_id = held.agent_id AND c.conversation_id = held.conversation_id FOR UPDATE NOWAIT;
        EXCEPTION WHEN lock_not_available THEN
            RAISE EXCEPTION 'could not rebuild the analytics: conversation % is in use', held.conversation_id
                USING ERRCODE = '55P03',
                      DETAIL = 'Its analytics mark no longer matches the raw messages, and another transaction holds the row.',
                      HINT = 'Retry rebuild_stats once that transaction has ended.';
        END;
        UPDATE switchboard.conversations c SET stats_session = NULL
         WHERE c.agent_id = held.agent_id AND c.conversation_id = held.conversation_id;
    END LOOP;
    -- Mark the conversations again where the recomputed records allow it (as
    -- their next in-order event would), skipping any row an event holds: that
    -- event waits for the lock on messages above, so waiting for it here would
    -- deadlock; its conversation is marked by the event after it.
    UPDATE switchboard.conversations c SET stats_session = c.session_id
      FROM (SELECT v.agent_id, v.conversation_id FROM switchboard.conversations v
             WHERE ($1 IS NULL OR v.agent_id = $1) AND v.stats_session IS NULL
               AND EXISTS (SELECT FROM switchboard.stats_first f
                            WHERE f.agent_id = v.agent_id AND f.kind = 'conversation' AND f.id = v.conversation_id
                              AND f.first_at <= v.last_message_at)
               AND EXISTS (SELECT FROM switchboard.stats_first f
                            WHERE f.agent_id = v.agent_id AND f.kind = 'session' AND f.id = v.session_id
                              AND f.first_at <= v.last_message_at)
               FOR UPDATE OF v SKIP LOCKED) m
     WHERE c.agent_id = m.agent_id AND c.conversation_id = m.conversation_id;
    RETURN total;
END
$fn$;
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
