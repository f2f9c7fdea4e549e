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

-- daily_stats reads stats_daily.categories (kept by stats_fold and
-- rebuild_stats) instead of aggregating stats_daily_category per day, and the
-- folded rows without an aggregate over them
ALTER TABLE switchboard.stats_daily ADD COLUMN categories jsonb NOT NULL DEFAULT '{}';
UPDATE switchboard.stats_daily t SET categories = coalesce((SELECT jsonb_object_agg(k.category, jsonb_build_object(
                   'tasks', k.tasks, 'tokens', k.tokens, 'judged', k.judged, 'succeeded', k.succeeded))
                   FILTER (WHERE k.tasks <> 0 OR k.tokens <> 0 OR k.judged <> 0 OR k.succeeded <> 0)
              FROM switchboard.stats_daily_category k WHERE k.agent_id = t.agent_id AND k.day = t.day), '{}')
 WHERE EXISTS (SELECT FROM switchboard.stats_daily_category k WHERE k.agent_id = t.agent_id AND k.day = t.day);
CREATE OR REPLACE FUNCTION switchboard.stats_fold(a uuid) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    n bigint;
    cdays date[];
BEGIN
    WITH d AS (
        DELETE FROM switchboard.stats_delta s WHERE s.agent_id = a RETURNING s.*
    ), c AS (
        INSERT INTO switchboard.stats_daily_category AS t (agent_id, day, category, tasks, tokens, judged, succeeded)
        SELECT d.agent_id, d.day, d.category, sum(d.ai_tasks), sum(d.ai_tokens), sum(d.ai_judged), sum(d.ai_succeeded)
          FROM d WHERE d.category IS NOT NULL
         GROUP BY d.agent_id, d.day, d.category
        ON CONFLICT (agent_id, day, category) DO UPDATE SET
            tasks = t.tasks + excluded.tasks, tokens = t.tokens + excluded.tokens,
            judged = t.judged + excluded.judged, succeeded = t.succeeded + excluded.succeeded
    ), f AS (
        INSERT INTO switchboard.stats_daily AS t (agent_id, day, inbound, accepted, blocked, rate_limited, daily_limit, disabled, outbound, new_conversations, new_sessions, unique_phones, calls_total, calls_answered, calls_completed, calls_failed, calls_busy, calls_no_answer, calls_canceled, call_duration_total, call_duration_count, unique_callers, replies, reply_latency_total, ai_tasks, ai_tokens, ai_processing_ms_total, ai_processing_count, ai_judged, ai_succeeded)
        SELECT d.agent_id, d.day, sum(inbound), sum(accepted), sum(blocked), sum(rate_limited), sum(daily_limit), sum(disabled), sum(outbound), sum(new_conversations), sum(new_sessions), sum(unique_phones), sum(calls_total), sum(calls_answered), sum(calls_completed), sum(calls_failed), sum(calls_busy), sum(calls_no_answer), sum(calls_canceled), sum(call_duration_total), sum(call_duration_count), sum(unique_callers), sum(replies), sum(reply_latency_total), sum(ai_tasks), sum(ai_tokens), sum(ai_processing_ms_total), sum(ai_processing_count), sum(ai_judged), sum(ai_succeeded)
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
        ai_succeeded = t.ai_succeeded + excluded.ai_succeeded
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
CREATE OR REPLACE FUNCTION switchboard.stats_days(agent_id uuid, lo date, hi date)
RETURNS TABLE (day date, inbound bigint, accepted bigint, blocked bigint, rate_limited bigint, daily_limit bigint, disabled bigint, outbound bigint, new_conversations bigint, new_sessions bigint, unique_phones bigint, calls_total bigint, calls_answered bigint, calls_completed bigint, calls_failed bigint, calls_busy bigint, calls_no_answer bigint, calls_canceled bigint, call_duration_total bigint, call_duration_count bigint, unique_callers bigint, replies bigint, reply_latency_total numeric, ai_tasks bigint, ai_tokens bigint, ai_processing_ms_total numeric, ai_processing_count bigint, ai_judged bigint, ai_succeeded bigint, categories jsonb)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
BEGIN
    -- one row per day: the folded row (stats_daily has one per day, so no
    -- aggregate over it) plus whatever of the day is still staged (few rows:
    -- readers and writers fold); categories aggregated per day
    RETURN QUERY
    WITH st AS (
        SELECT s.day,
               sum(s.inbound)::bigint AS inbound,
               sum(s.accepted)::bigint AS accepted,
               sum(s.blocked)::bigint AS blocked,
               sum(s.rate_limited)::bigint AS rate_limited,
               sum(s.daily_limit)::bigint AS daily_limit,
               sum(s.disabled)::bigint AS disabled,
               sum(s.outbound)::bigint AS outbound,
               sum(s.new_conversations)::bigint AS new_conversations,
               sum(s.new_sessions)::bigint AS new_sessions,
               sum(s.unique_phones)::bigint AS unique_phones,
               sum(s.calls_total)::bigint AS calls_total,
               sum(s.calls_answered)::bigint AS calls_answered,
               sum(s.calls_completed)::bigint AS calls_completed,
               sum(s.calls_failed)::bigint AS calls_failed,
               sum(s.calls_busy)::bigint AS calls_busy,
               sum(s.calls_no_answer)::bigint AS calls_no_answer,
               sum(s.calls_canceled)::bigint AS calls_canceled,
               sum(s.call_duration_total)::bigint AS call_duration_total,
               sum(s.call_duration_count)::bigint AS call_duration_count,
               sum(s.unique_callers)::bigint AS unique_callers,
               sum(s.replies)::bigint AS replies,
               sum(s.reply_latency_total)::numeric AS reply_latency_total,
               sum(s.ai_tasks)::bigint AS ai_tasks,
               sum(s.ai_tokens)::bigint AS ai_tokens,
               sum(s.ai_processing_ms_total)::numeric AS ai_processing_ms_total,
               sum(s.ai_processing_count)::bigint AS ai_processing_count,
               sum(s.ai_judged)::bigint AS ai_judged,
               sum(s.ai_succeeded)::bigint AS ai_succeeded
          FROM switchboard.stats_delta s
         WHERE s.agent_id = $1 AND s.day BETWEEN $2 AND $3
         GROUP BY s.day
    ), z AS (
        SELECT s.day, s.category, sum(s.ai_tasks)::bigint AS tasks, sum(s.ai_tokens)::bigint AS tokens,
               sum(s.ai_judged)::bigint AS judged, sum(s.ai_succeeded)::bigint AS succeeded
          FROM switchboard.stats_delta s
         WHERE s.agent_id = $1 AND s.day BETWEEN $2 AND $3 AND s.category IS NOT NULL
         GROUP BY s.day, s.category
    ), c AS (
        -- only days with staged categories: the others are stats_daily.categories
        SELECT y.day, coalesce(jsonb_object_agg(y.category, jsonb_build_object(
                   'tasks', y.tasks, 'tokens', y.tokens, 'judged', y.judged, 'succeeded', y.succeeded))
                   FILTER (WHERE y.tasks <> 0 OR y.tokens <> 0 OR y.judged <> 0 OR y.succeeded <> 0),
                   '{}') AS categories
          FROM (SELECT coalesce(k.day, z.day) AS day, coalesce(k.category, z.category) AS category,
                       coalesce(k.tasks, 0) + coalesce(z.tasks, 0) AS tasks,
                       coalesce(k.tokens, 0) + coalesce(z.tokens, 0) AS tokens,
                       coalesce(k.judged, 0) + coalesce(z.judged, 0) AS judged,
                       coalesce(k.succeeded, 0) + coalesce(z.succeeded, 0) AS succeeded
                  FROM (SELECT s.day, s.category, s.tasks, s.tokens, s.judged, s.succeeded
                          FROM switchboard.stats_daily_category s
                         WHERE s.agent_id = $1 AND s.day IN (SELECT z.day FROM z)) k
                  FULL JOIN z ON z.day = k.day AND z.category = k.category) y
         GROUP BY y.day
    )
    SELECT g.day::date,
           (coalesce(d.inbound, 0) + coalesce(st.inbound, 0))::bigint,
           (coalesce(d.accepted, 0) + coalesce(st.accepted, 0))::bigint,
           (coalesce(d.blocked, 0) + coalesce(st.blocked, 0))::bigint,
           (coalesce(d.rate_limited, 0) + coalesce(st.rate_limited, 0))::bigint,
           (coalesce(d.daily_limit, 0) + coalesce(st.daily_limit, 0))::bigint,
           (coalesce(d.disabled, 0) + coalesce(st.disabled, 0))::bigint,
           (coalesce(d.outbound, 0) + coalesce(st.outbound, 0))::bigint,
           (coalesce(d.new_conversations, 0) + coalesce(st.new_conversations, 0))::bigint,
           (coalesce(d.new_sessions, 0) + coalesce(st.new_sessions, 0))::bigint,
           (coalesce(d.unique_phones, 0) + coalesce(st.unique_phones, 0))::bigint,
           (coalesce(d.calls_total, 0) + coalesce(st.calls_total, 0))::bigint,
           (coalesce(d.calls_answered, 0) + coalesce(st.calls_answered, 0))::bigint,
           (coalesce(d.calls_completed, 0) + coalesce(st.calls_completed, 0))::bigint,
           (coalesce(d.calls_failed, 0) + coalesce(st.calls_failed, 0))::bigint,
           (coalesce(d.calls_busy, 0) + coalesce(st.calls_busy, 0))::bigint,
           (coalesce(d.calls_no_answer, 0) + coalesce(st.calls_no_answer, 0))::bigint,
           (coalesce(d.calls_canceled, 0) + coalesce(st.calls_canceled, 0))::bigint,
           (coalesce(d.call_duration_total, 0) + coalesce(st.call_duration_total, 0))::bigint,
           (coalesce(d.call_duration_count, 0) + coalesce(st.call_duration_count, 0))::bigint,
           (coalesce(d.unique_callers, 0) + coalesce(st.unique_callers, 0))::bigint,
           (coalesce(d.replies, 0) + coalesce(st.replies, 0))::bigint,
           (coalesce(d.reply_latency_total, 0) + coalesce(st.reply_latency_total, 0))::numeric,
           (coalesce(d.ai_tasks, 0) + coalesce(st.ai_tasks, 0))::bigint,
           (coalesce(d.ai_tokens, 0) + coalesce(st.ai_tokens, 0))::bigint,
           (coalesce(d.ai_processing_ms_total, 0) + coalesce(st.ai_processing_ms_total, 0))::numeric,
           (coalesce(d.ai_processing_count, 0) + coalesce(st.ai_processing_count, 0))::bigint,
           (coalesce(d.ai_judged, 0) + coalesce(st.ai_judged, 0))::bigint,
           (coalesce(d.ai_succeeded, 0) + coalesce(st.ai_succeeded, 0))::bigint,
           coalesce(c.categories, d.categories, '{}'::jsonb)
      FROM generate_series($2::timestamp, $3::timestamp, interval '1 day') g(day)
      LEFT JOIN switchboard.stats_daily d
             ON d.agent_id = $1 AND d.day BETWEEN $2 AND $3 AND d.day = g.day::date
      LEFT JOIN st ON st.day = g.day::date
      LEFT JOIN c ON c.day = g.day::date
     ORDER BY g.day;
END
$fn$;
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
BEGIN
    IF $1 IS NOT NULL THEN
        PERFORM switchboard.stats_check_agent($1);
    END IF;
    -- writers wait until the rebuild commits, so no event is counted twice or lost
    LOCK TABLE switchboard.messages, switchboard.calls IN SHARE MODE;
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

        INSERT INTO switchboard.stats_daily (agent_id, day, inbound, accepted, blocked, rate_limited, daily_limit, disabled, outbound, new_conversations, new_sessions, unique_phones, calls_total, calls_answered, calls_completed, calls_failed, calls_busy, calls_no_answer, calls_canceled, call_duration_total, call_duration_count, unique_callers, replies, reply_latency_total, ai_tasks, ai_tokens, ai_processing_ms_total, ai_processing_count, ai_judged, ai_succeeded)
        SELECT a, r.day, r.inbound, r.accepted, r.blocked, r.rate_limited, r.daily_limit, r.disabled, r.outbound, r.new_conversations, r.new_sessions, r.unique_phones, r.calls_total, r.calls_answered, r.calls_completed, r.calls_failed, r.calls_busy, r.calls_no_answer, r.calls_canceled, r.call_duration_total, r.call_duration_count, r.unique_callers, r.replies, r.reply_latency_total, r.ai_tasks, r.ai_tokens, r.ai_processing_ms_total, r.ai_processing_count, r.ai_judged, r.ai_succeeded
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
    RETURN total;
END
$fn$;
