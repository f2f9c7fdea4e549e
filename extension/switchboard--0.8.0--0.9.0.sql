-- switchboard 0.8.0 -> 0.9.0.  The Makefile builds
-- extension/switchboard--0.8.0--0.9.0.sql from this file followed by
-- extension/sql/099_secure_tables.sql (row-level security, policies, dump
-- registration and grants for whatever this file adds).
--
-- Rules for this file (test/scripts/upgrade.sh checks the result): after
-- ALTER EXTENSION switchboard UPDATE, every object must be exactly what a fresh
-- CREATE EXTENSION switchboard of 0.9.0 makes (same columns in the same order,
-- same function definitions, comments, policies, grants), and no row is lost.
--
-- 0.9.0: the messages' analytics are folded from the raw rows (README,
-- "Analytics"); the message trigger, its staging and the conversations'
-- analytics marks go.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION switchboard UPDATE TO '0.9.0'" to load this file. \quit

-- No writer in between: every message stored so far had its analytics staged
-- by the trigger (or was stored with switchboard.stats_rollup = off, which
-- rebuild_stats catches up, as before), so each agent's watermark starts at its
-- highest message_id.
LOCK TABLE switchboard.messages IN SHARE MODE;
DROP TRIGGER stats_on_message ON switchboard.messages;
DROP FUNCTION switchboard.stats_on_message();
DROP FUNCTION switchboard.stats_note_first(uuid, text, uuid, timestamptz, bigint, date);

-- the message trigger made a tokens_used beyond bigint fail; now a check does
-- (the trigger refused the others, unless stored with switchboard.stats_rollup
-- = off: then this fails, naming the constraint, and the update changes nothing)
ALTER TABLE switchboard.messages ADD CONSTRAINT messages_tokens_used_check
    CHECK (jsonb_typeof(metadata -> 'tokens_used') IS DISTINCT FROM 'number'
           OR round((metadata ->> 'tokens_used')::numeric)::bigint IS NOT NULL);

-- the analytics marks (0.6.0) are no longer kept
DROP TRIGGER conversations_touch_updated_at ON switchboard.conversations;
ALTER TABLE switchboard.conversations DROP COLUMN stats_session, DROP COLUMN stats_last;
CREATE TRIGGER conversations_touch_updated_at
    BEFORE UPDATE ON switchboard.conversations
    FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
COMMENT ON TRIGGER conversations_touch_updated_at ON switchboard.conversations IS 'keeps updated_at current';

COMMENT ON TABLE switchboard.stats_daily IS
    'internal: folded per-agent daily counters (read them with daily_stats, which adds what is not folded yet)';
COMMENT ON TABLE switchboard.stats_delta IS
    'internal: staged increments (a call''s change, a message fold''s day figures), folded into stats_daily by rollup()';

CREATE TABLE switchboard.stats_watermark (
    agent_id       uuid PRIMARY KEY REFERENCES switchboard.agents ON DELETE CASCADE,
    folded_through bigint NOT NULL
);
COMMENT ON TABLE switchboard.stats_watermark IS
    'internal: per agent, the message_id up to which the messages are folded into the daily rollups (0.9.0)';

CREATE FUNCTION switchboard.stats_settle_messages() RETURNS boolean
AS 'MODULE_PATHNAME', 'stats_settle_messages'
LANGUAGE C VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION switchboard.stats_settle_messages() IS
    'helper: waits for the transactions writing messages now (not for new ones; at most switchboard.fold_wait_ms, default 200, then 55P03), so every message_id read before is committed or gone; false, without waiting, where a fold cannot rely on it';

-- Whether an agent has messages above its watermark (not folded yet): its
-- highest message_id, one probe of the primary key, against the watermark.
-- Readers use it as a one-time filter.  max(), not EXISTS: for an EXISTS over
-- the messages above a watermark the planner hoped to meet a row early in a
-- sequential scan of every agent's messages (5 s on a 28.8-million-message
-- table, against 2 ms).
CREATE FUNCTION switchboard.stats_unfolded(agent_id uuid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT max(m.message_id) FROM switchboard.messages m WHERE m.agent_id = $1), 0)
           > coalesce((SELECT w.folded_through FROM switchboard.stats_watermark w WHERE w.agent_id = $1), 0)
$$;
COMMENT ON FUNCTION switchboard.stats_unfolded(uuid) IS
    'helper: whether the agent has messages not folded into the daily rollups yet (above its watermark)';

-- The day figures of an agent's messages with message_id in (lo, hi] (hi NULL:
-- every visible one), as stats_delta rows: what adding them to the folded ones
-- (message_id <= lo) changes.  Reads, writes nothing: the fold stores the
-- result, a reader adds it to the folded figures.  Replies: for each
-- conversation of the batch, the pairs from its earliest accepted message in
-- the batch onwards, with the batch against without it (one index probe for
-- the previous accepted message, one range scan for the folded ones after it:
-- nothing for an in-order conversation); firsts against stats_first; phones
-- against stats_seen.
CREATE FUNCTION switchboard.stats_message_deltas(a uuid, lo bigint, hi bigint)
RETURNS TABLE (day date, category text, inbound bigint, accepted bigint, blocked bigint,
               rate_limited bigint, daily_limit bigint, disabled bigint, outbound bigint,
               new_conversations bigint, new_sessions bigint, unique_phones bigint, replies bigint,
               reply_latency_total numeric, ai_tasks bigint, ai_tokens bigint,
               ai_processing_ms_total numeric, ai_processing_count bigint, ai_judged bigint,
               ai_succeeded bigint, quota_exceeded bigint, after_hours bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off SET work_mem = '64MB'
    SET enable_hashjoin = off SET enable_mergejoin = off AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH tz AS (SELECT switchboard.stats_agent_tz($1) AS tz),
    b AS MATERIALIZED (
        SELECT m.message_id, m.conversation_id, m.session_id, m.direction, m.phone, m.metadata,
               m.decision, m.created_at, m.after_hours, (m.created_at AT TIME ZONE tz.tz)::date AS day
          FROM switchboard.messages m, tz
         WHERE m.agent_id = $1 AND m.message_id > $2 AND ($3 IS NULL OR m.message_id <= $3)
    ), counts AS (
        SELECT b.day,
               CASE WHEN b.direction = 'outbound' AND jsonb_typeof(b.metadata -> 'category') = 'string'
                    THEN b.metadata ->> 'category' END AS category,
               count(*) FILTER (WHERE b.direction = 'inbound') AS inbound,
               count(*) FILTER (WHERE b.direction = 'inbound' AND b.decision = 'accepted') AS accepted,
               count(*) FILTER (WHERE b.direction = 'inbound' AND b.decision = 'blocked') AS blocked,
               count(*) FILTER (WHERE b.direction = 'inbound' AND b.decision = 'rate_limited') AS rate_limited,
               count(*) FILTER (WHERE b.direction = 'inbound' AND b.decision = 'daily_limit') AS daily_limit,
               count(*) FILTER (WHERE b.direction = 'inbound' AND b.decision = 'disabled') AS disabled,
               count(*) FILTER (WHERE b.direction = 'outbound') AS outbound,
               0::bigint AS new_conversations, 0::bigint AS new_sessions, 0::bigint AS unique_phones,
               0::bigint AS replies, 0::numeric AS reply_latency_total,
               count(*) FILTER (WHERE b.direction = 'outbound' AND switchboard.stats_is_task(b.metadata)) AS ai_tasks,
               coalesce(sum(round((b.metadata ->> 'tokens_used')::numeric))
                   FILTER (WHERE b.direction = 'outbound' AND jsonb_typeof(b.metadata -> 'tokens_used') = 'number'), 0)::bigint AS ai_tokens,
               coalesce(sum((b.metadata ->> 'processing_ms')::numeric)
                   FILTER (WHERE b.direction = 'outbound' AND jsonb_typeof(b.metadata -> 'processing_ms') = 'number'), 0) AS ai_processing_ms_total,
               count(*) FILTER (WHERE b.direction = 'outbound' AND jsonb_typeof(b.metadata -> 'processing_ms') = 'number') AS ai_processing_count,
               count(*) FILTER (WHERE b.direction = 'outbound' AND jsonb_typeof(b.metadata -> 'success') = 'boolean') AS ai_judged,
               count(*) FILTER (WHERE b.direction = 'outbound' AND b.metadata -> 'success' = 'true'::jsonb) AS ai_succeeded,
               count(*) FILTER (WHERE b.direction = 'inbound' AND b.decision = 'quota_exceeded') AS quota_exceeded,
               count(*) FILTER (WHERE b.direction = 'inbound' AND b.after_hours) AS after_hours
          FROM b GROUP BY 1, 2
    ), phones AS (
        SELECT x.day, count(*) AS n
          FROM (SELECT DISTINCT b.day, b.phone FROM b WHERE b.direction = 'inbound') x
         WHERE NOT EXISTS (SELECT FROM switchboard.stats_seen s
                            WHERE s.agent_id = $1 AND s.kind = 'phone' AND s.day = x.day AND s.value = x.phone)
         GROUP BY x.day
    ), batch_firsts AS (
        (SELECT DISTINCT ON (b.conversation_id) 'conversation' AS kind, b.conversation_id AS id,
                b.created_at, b.message_id, b.day
           FROM b WHERE b.conversation_id IS NOT NULL
          ORDER BY b.conversation_id, b.created_at, b.message_id)
        UNION ALL
        (SELECT DISTINCT ON (b.session_id) 'session', b.session_id, b.created_at, b.message_id, b.day
           FROM b WHERE b.conversation_id IS NOT NULL AND b.session_id IS NOT NULL
          ORDER BY b.session_id, b.created_at, b.message_id)
    ), moved AS (
        -- a first message where none was, or earlier than the one known
        SELECT n.kind, n.day, f.first_day
          FROM batch_firsts n
          LEFT JOIN switchboard.stats_first f ON f.agent_id = $1 AND f.kind = n.kind AND f.id = n.id
         WHERE f.id IS NULL OR (n.created_at, n.message_id) < (f.first_at, f.first_message_id)
    ), firsts AS (
        SELECT v.day, v.kind, sum(v.n) AS n
          FROM (SELECT moved.day, moved.kind, 1 AS n FROM moved
                 WHERE moved.first_day IS DISTINCT FROM moved.day
                UNION ALL
                SELECT moved.first_day, moved.kind, -1 FROM moved
                 WHERE moved.first_day IS NOT NULL AND moved.first_day <> moved.day) v
         GROUP BY 1, 2
    ), acc AS (
        SELECT b.conversation_id, b.created_at, b.message_id, b.direction, b.day
          FROM b WHERE b.decision = 'accepted' AND b.conversation_id IS NOT NULL
    ), start AS (
        SELECT DISTINCT ON (acc.conversation_id) acc.conversation_id, acc.created_at, acc.message_id
          FROM acc ORDER BY acc.conversation_id, acc.created_at, acc.message_id
    ), prior AS (
        -- the folded accepted message before each conversation's earliest in the batch
        SELECT start.conversation_id, p.created_at, p.message_id, p.direction, NULL::date AS day,
               true AS is_prior
          FROM start CROSS JOIN LATERAL (
                SELECT x.created_at, x.message_id, x.direction FROM switchboard.messages x
                 WHERE x.agent_id = $1 AND x.conversation_id = start.conversation_id
                   AND x.decision = 'accepted' AND x.message_id <= $2
                   AND (x.created_at, x.message_id) < (start.created_at, start.message_id)
                 ORDER BY x.created_at DESC, x.message_id DESC LIMIT 1) p
    ), later AS (
        -- folded accepted messages after it: none unless the batch brought a late message
        SELECT start.conversation_id, x.created_at, x.message_id, x.direction,
               (x.created_at AT TIME ZONE tz.tz)::date AS day, false AS is_prior
          FROM start CROSS JOIN tz
          JOIN switchboard.messages x
            ON x.agent_id = $1 AND x.conversation_id = start.conversation_id
           AND x.decision = 'accepted' AND x.message_id <= $2
           AND (x.created_at, x.message_id) > (start.created_at, start.message_id)
    ), pairs AS (
        SELECT s.sign, s.day, s.created_at, s.direction,
               lag(s.direction) OVER w AS p_dir, lag(s.created_at) OVER w AS p_at, s.is_prior
          FROM (SELECT 1 AS sign, prior.* FROM prior
                UNION ALL SELECT 1, later.* FROM later
                UNION ALL SELECT 1, acc.conversation_id, acc.created_at, acc.message_id, acc.direction, acc.day, false FROM acc
                UNION ALL SELECT -1, prior.* FROM prior
                UNION ALL SELECT -1, later.* FROM later) s
        WINDOW w AS (PARTITION BY s.sign, s.conversation_id ORDER BY s.created_at, s.message_id)
    ), replies AS (
        SELECT pairs.day, sum(pairs.sign) AS n,
               sum(pairs.sign * (extract(epoch FROM pairs.created_at) - extract(epoch FROM pairs.p_at))) AS latency
          FROM pairs
         WHERE NOT pairs.is_prior AND pairs.direction = 'outbound' AND pairs.p_dir = 'inbound'
         GROUP BY 1
    )
    SELECT u.day, u.category, sum(u.inbound)::bigint, sum(u.accepted)::bigint, sum(u.blocked)::bigint,
           sum(u.rate_limited)::bigint, sum(u.daily_limit)::bigint, sum(u.disabled)::bigint,
           sum(u.outbound)::bigint, sum(u.new_conversations)::bigint, sum(u.new_sessions)::bigint,
           sum(u.unique_phones)::bigint, sum(u.replies)::bigint, sum(u.reply_latency_total)::numeric,
           sum(u.ai_tasks)::bigint, sum(u.ai_tokens)::bigint, sum(u.ai_processing_ms_total)::numeric,
           sum(u.ai_processing_count)::bigint, sum(u.ai_judged)::bigint, sum(u.ai_succeeded)::bigint,
           sum(u.quota_exceeded)::bigint, sum(u.after_hours)::bigint
      FROM (SELECT * FROM counts
            UNION ALL
            SELECT phones.day, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, phones.n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM phones
            UNION ALL
            SELECT firsts.day, NULL, 0, 0, 0, 0, 0, 0, 0,
                   CASE WHEN firsts.kind = 'conversation' THEN firsts.n ELSE 0 END,
                   CASE WHEN firsts.kind = 'session' THEN firsts.n ELSE 0 END,
                   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM firsts
            UNION ALL
            SELECT replies.day, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, replies.n, replies.latency,
                   0, 0, 0, 0, 0, 0, 0, 0 FROM replies) u
     GROUP BY 1, 2;
END
$fn$;
COMMENT ON FUNCTION switchboard.stats_message_deltas(uuid, bigint, bigint) IS
    'helper: what an agent''s messages with message_id in (lo, hi] (hi NULL: every visible one) add to the folded day figures, as stats_delta rows; writes nothing';

-- Fold an agent's messages with message_id in (its watermark, hi] into the
-- rollups; every id up to hi must be settled, and the caller holds the agent's
-- fold lock.  The figures go through stats_delta (stats_fold adds them up with
-- the staged calls); then the seen phones, the first messages and the
-- watermark.  Returns the messages folded.
CREATE FUNCTION switchboard.stats_fold_messages(a uuid, hi bigint, OUT messages bigint, OUT staged bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off SET work_mem = '64MB'
    SET enable_hashjoin = off SET enable_mergejoin = off AS $fn$
DECLARE
    lo bigint;
    tz text;
BEGIN
    messages := 0;
    staged := 0;
    SELECT w.folded_through INTO lo FROM switchboard.stats_watermark w WHERE w.agent_id = a;
    lo := coalesce(lo, 0);
    IF hi IS NULL OR hi <= lo THEN
        RETURN;
    END IF;
    tz := switchboard.stats_agent_tz(a);
    WITH d AS (
        INSERT INTO switchboard.stats_delta (agent_id, day, category, inbound, accepted, blocked, rate_limited,
                                             daily_limit, disabled, outbound, new_conversations, new_sessions,
                                             unique_phones, replies, reply_latency_total, ai_tasks, ai_tokens,
                                             ai_processing_ms_total, ai_processing_count, ai_judged, ai_succeeded,
                                             quota_exceeded, after_hours)
        SELECT a, x.* FROM switchboard.stats_message_deltas(a, lo, hi) x
        RETURNING inbound + outbound AS n
    )
    SELECT coalesce(sum(d.n), 0), count(*) INTO messages, staged FROM d;
    -- the batch read once through the primary key (a DISTINCT ON straight
    -- from the messages preferred the index on conversations in its order,
    -- which walked every message of the agent's history)
    WITH b AS MATERIALIZED (
        SELECT m.conversation_id, m.session_id, m.direction, m.phone, m.created_at, m.message_id
          FROM switchboard.messages m
         WHERE m.agent_id = a AND m.message_id > lo AND m.message_id <= hi
    ), seen AS (
        INSERT INTO switchboard.stats_seen (agent_id, kind, day, value)
        SELECT DISTINCT a, 'phone', (b.created_at AT TIME ZONE tz)::date, b.phone
          FROM b WHERE b.direction = 'inbound'
        ON CONFLICT DO NOTHING
    )
    INSERT INTO switchboard.stats_first AS f (agent_id, kind, id, first_at, first_message_id, first_day)
    SELECT a, v.kind, v.id, v.created_at, v.message_id, (v.created_at AT TIME ZONE tz)::date
      FROM ((SELECT DISTINCT ON (b.conversation_id) 'conversation' AS kind, b.conversation_id AS id,
                    b.created_at, b.message_id
               FROM b WHERE b.conversation_id IS NOT NULL
              ORDER BY b.conversation_id, b.created_at, b.message_id)
            UNION ALL
            (SELECT DISTINCT ON (b.session_id) 'session', b.session_id, b.created_at, b.message_id
               FROM b WHERE b.conversation_id IS NOT NULL AND b.session_id IS NOT NULL
              ORDER BY b.session_id, b.created_at, b.message_id)) v
     -- only new or earlier first messages: an upsert of the others would
     -- still lock their rows (a write each: most conversations of a batch
     -- talked before)
     WHERE NOT EXISTS (SELECT FROM switchboard.stats_first x
                        WHERE x.agent_id = a AND x.kind = v.kind AND x.id = v.id
                          AND (x.first_at, x.first_message_id) <= (v.created_at, v.message_id))
    ON CONFLICT (agent_id, kind, id) DO UPDATE
       SET first_at = excluded.first_at, first_message_id = excluded.first_message_id, first_day = excluded.first_day
     WHERE (excluded.first_at, excluded.first_message_id) < (f.first_at, f.first_message_id);
    INSERT INTO switchboard.stats_watermark AS w (agent_id, folded_through) VALUES (a, hi)
    ON CONFLICT (agent_id) DO UPDATE SET folded_through = excluded.folded_through;
END
$fn$;
COMMENT ON FUNCTION switchboard.stats_fold_messages(uuid, bigint) IS
    'helper: folds an agent''s messages above its watermark, up to message_id hi (settled), into stats_delta, the seen phones and first messages; returns the messages folded and the day rows staged';

INSERT INTO switchboard.stats_watermark (agent_id, folded_through)
SELECT m.agent_id, max(m.message_id) FROM switchboard.messages m
 WHERE EXISTS (SELECT FROM switchboard.agents g WHERE g.agent_id = m.agent_id)
 GROUP BY m.agent_id;

-- 0.9.0: the messages first.  Their highest ids are read, then the writers of
-- messages at that moment are waited for (stats_settle_messages, at most
-- switchboard.fold_wait_ms; a writer open longer leaves the fold to the next
-- call, and readers add the messages on the fly meanwhile), then each agent's
-- messages up to its highest id are folded; then its staged rows.
CREATE OR REPLACE FUNCTION switchboard.rollup(agent_id uuid DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    a uuid;
    ids uuid[];
    his bigint[];
    settled boolean := false;
    r record;
    n bigint := 0;
BEGIN
    IF $1 IS NOT NULL THEN
        PERFORM switchboard.stats_check_agent($1);
    END IF;
    IF current_setting('transaction_read_only') = 'on' THEN
        RETURN 0;
    END IF;
    IF $1 IS NOT NULL THEN
        IF NOT pg_try_advisory_xact_lock(1398145877, hashtext($1::text)) THEN
            RETURN 0;
        END IF;
        SELECT ARRAY[$1], ARRAY[max(m.message_id)] INTO ids, his
          FROM switchboard.messages m WHERE m.agent_id = $1
        HAVING max(m.message_id) > coalesce((SELECT w.folded_through FROM switchboard.stats_watermark w
                                              WHERE w.agent_id = $1), 0);
    ELSE
        SELECT array_agg(g.agent_id), array_agg(x.hi) INTO ids, his
          FROM switchboard.agents g
         CROSS JOIN LATERAL (SELECT max(m.message_id) AS hi FROM switchboard.messages m
                              WHERE m.agent_id = g.agent_id) x
         WHERE x.hi > coalesce((SELECT w.folded_through FROM switchboard.stats_watermark w
                                 WHERE w.agent_id = g.agent_id), 0);
    END IF;
    IF ids IS NOT NULL THEN
        BEGIN
            settled := switchboard.stats_settle_messages();
        EXCEPTION WHEN lock_not_available THEN
            settled := false;  -- a writer open longer than switchboard.fold_wait_ms
        END;
    END IF;
    IF settled THEN
        FOR i IN 1 .. cardinality(ids) LOOP
            -- one agent: its lock is held already
            IF $1 IS NOT NULL OR pg_try_advisory_xact_lock(1398145877, hashtext(ids[i]::text)) THEN
                r := switchboard.stats_fold_messages(ids[i], his[i]);
                n := n + r.messages - r.staged;
            END IF;
        END LOOP;
    END IF;
    IF $1 IS NOT NULL THEN
        RETURN n + switchboard.stats_fold($1);
    END IF;
    FOR a IN SELECT DISTINCT s.agent_id FROM switchboard.stats_delta s LOOP
        IF pg_try_advisory_xact_lock(1398145877, hashtext(a::text)) THEN
            n := n + switchboard.stats_fold(a);
        END IF;
    END LOOP;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION switchboard.rollup(uuid) IS
    'folds the new messages and the staged call changes of one agent (or all) into the daily rollups; skips an agent another session is folding; returns the messages and staged rows folded';

CREATE OR REPLACE FUNCTION switchboard.stats_days(agent_id uuid, lo date, hi date)
RETURNS TABLE (day date, inbound bigint, accepted bigint, blocked bigint, rate_limited bigint, daily_limit bigint, disabled bigint, outbound bigint, new_conversations bigint, new_sessions bigint, unique_phones bigint, calls_total bigint, calls_answered bigint, calls_completed bigint, calls_failed bigint, calls_busy bigint, calls_no_answer bigint, calls_canceled bigint, call_duration_total bigint, call_duration_count bigint, unique_callers bigint, replies bigint, reply_latency_total numeric, ai_tasks bigint, ai_tokens bigint, ai_processing_ms_total numeric, ai_processing_count bigint, ai_judged bigint, ai_succeeded bigint, categories jsonb, quota_exceeded bigint, after_hours bigint, calls_after_hours bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $fn$
#variable_conflict use_column
BEGIN
    -- one row per day: the folded row (stats_daily has one per day, so no
    -- aggregate over it) plus whatever of the day is still staged or not
    -- folded (little: readers fold first); categories aggregated per day
    RETURN QUERY
    WITH staged AS (
        SELECT s.day, s.category, s.inbound, s.accepted, s.blocked, s.rate_limited, s.daily_limit, s.disabled, s.outbound, s.new_conversations, s.new_sessions, s.unique_phones, s.calls_total, s.calls_answered, s.calls_completed, s.calls_failed, s.calls_busy, s.calls_no_answer, s.calls_canceled, s.call_duration_total, s.call_duration_count, s.unique_callers, s.replies, s.reply_latency_total, s.ai_tasks, s.ai_tokens, s.ai_processing_ms_total, s.ai_processing_count, s.ai_judged, s.ai_succeeded, s.quota_exceeded, s.after_hours, s.calls_after_hours
          FROM switchboard.stats_delta s
         WHERE s.agent_id = $1 AND s.day BETWEEN $2 AND $3
        UNION ALL
        -- 0.9.0: the messages not folded yet, as the fold would stage them
        SELECT x.day, x.category, x.inbound, x.accepted, x.blocked, x.rate_limited, x.daily_limit,
               x.disabled, x.outbound, x.new_conversations, x.new_sessions, x.unique_phones,
               0, 0, 0, 0, 0, 0, 0, 0, 0, 0, x.replies, x.reply_latency_total, x.ai_tasks, x.ai_tokens,
               x.ai_processing_ms_total, x.ai_processing_count, x.ai_judged, x.ai_succeeded,
               x.quota_exceeded, x.after_hours, 0
          FROM switchboard.stats_message_deltas($1, coalesce((SELECT w.folded_through FROM switchboard.stats_watermark w
                                                              WHERE w.agent_id = $1), 0), NULL) x
         WHERE x.day BETWEEN $2 AND $3
           -- evaluated once, before the function runs: nothing to add when
           -- every message is folded (the usual case once a reader folded)
           AND switchboard.stats_unfolded($1)
    ), st AS (
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
               sum(s.ai_succeeded)::bigint AS ai_succeeded,
               sum(s.quota_exceeded)::bigint AS quota_exceeded,
               sum(s.after_hours)::bigint AS after_hours,
               sum(s.calls_after_hours)::bigint AS calls_after_hours
          FROM staged s
         GROUP BY s.day
    ), z AS (
        SELECT s.day, s.category, sum(s.ai_tasks)::bigint AS tasks, sum(s.ai_tokens)::bigint AS tokens,
               sum(s.ai_judged)::bigint AS judged, sum(s.ai_succeeded)::bigint AS succeeded
          FROM staged s
         WHERE s.category IS NOT NULL
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
           coalesce(c.categories, d.categories, '{}'::jsonb),
           (coalesce(d.quota_exceeded, 0) + coalesce(st.quota_exceeded, 0))::bigint,
           (coalesce(d.after_hours, 0) + coalesce(st.after_hours, 0))::bigint,
           (coalesce(d.calls_after_hours, 0) + coalesce(st.calls_after_hours, 0))::bigint
      FROM generate_series($2::timestamp, $3::timestamp, interval '1 day') g(day)
      LEFT JOIN switchboard.stats_daily d
             ON d.agent_id = $1 AND d.day BETWEEN $2 AND $3 AND d.day = g.day::date
      LEFT JOIN st ON st.day = g.day::date
      LEFT JOIN c ON c.day = g.day::date
     ORDER BY g.day;
END
$fn$;
COMMENT ON FUNCTION switchboard.stats_days(uuid, date, date) IS
    'helper: raw per-day counters of an agent over a range (folded, plus staged, plus messages not folded yet), one row per day';

CREATE OR REPLACE FUNCTION switchboard.daily_stats(agent_id uuid, "from" date, "to" date)
RETURNS TABLE (day date, inbound bigint, accepted bigint, blocked bigint, rate_limited bigint,
               daily_limit bigint, disabled bigint, outbound bigint, new_conversations bigint,
               new_sessions bigint, unique_phones bigint, calls_total bigint, calls_answered bigint,
               calls_completed bigint, calls_failed bigint, calls_busy bigint, calls_no_answer bigint,
               calls_canceled bigint, call_duration_total bigint, call_duration_avg numeric,
               unique_callers bigint, replies bigint, reply_latency_avg numeric, ai_tasks bigint,
               tokens_used bigint, processing_ms_avg numeric, success_rate numeric, categories jsonb,
               quota_exceeded bigint, after_hours bigint, calls_after_hours bigint)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp SET jit = off AS $fn$
BEGIN
    PERFORM switchboard.stats_check_agent($1);
    IF $2 IS NULL OR $3 IS NULL OR $2 > $3 THEN
        RAISE EXCEPTION 'invalid day range % to %', $2, $3 USING ERRCODE = '22023',
            DETAIL = 'Both days must be given and "from" must not be after "to".';
    END IF;
    IF $3 - $2 > 36600 THEN
        RAISE EXCEPTION 'day range too long' USING ERRCODE = '22023',
            DETAIL = 'A range may span at most 36,600 days.';
    END IF;
    PERFORM switchboard.rollup($1);
    -- 0.3.0: nothing of the range staged (the usual case once folded): the
    -- folded rows alone, in one statement (its snapshot saw no staged row and,
    -- 0.9.0, no message above the watermark)
    RETURN QUERY
    SELECT g.day::date,
           coalesce(d.inbound, 0), coalesce(d.accepted, 0), coalesce(d.blocked, 0), coalesce(d.rate_limited, 0),
           coalesce(d.daily_limit, 0), coalesce(d.disabled, 0), coalesce(d.outbound, 0),
           coalesce(d.new_conversations, 0), coalesce(d.new_sessions, 0), coalesce(d.unique_phones, 0),
           coalesce(d.calls_total, 0), coalesce(d.calls_answered, 0), coalesce(d.calls_completed, 0),
           coalesce(d.calls_failed, 0), coalesce(d.calls_busy, 0), coalesce(d.calls_no_answer, 0),
           coalesce(d.calls_canceled, 0), coalesce(d.call_duration_total, 0),
           round(d.call_duration_total::numeric / nullif(d.call_duration_count, 0), 3),
           coalesce(d.unique_callers, 0), coalesce(d.replies, 0),
           round(d.reply_latency_total / nullif(d.replies, 0), 3),
           coalesce(d.ai_tasks, 0), coalesce(d.ai_tokens, 0),
           round(d.ai_processing_ms_total / nullif(d.ai_processing_count, 0), 3),
           round(d.ai_succeeded::numeric / nullif(d.ai_judged, 0), 4),
           coalesce(d.categories, '{}'::jsonb), coalesce(d.quota_exceeded, 0), coalesce(d.after_hours, 0),
           coalesce(d.calls_after_hours, 0)
      FROM generate_series($2::timestamp, $3::timestamp, interval '1 day') g(day)
      LEFT JOIN switchboard.stats_daily d ON d.agent_id = $1 AND d.day BETWEEN $2 AND $3 AND d.day = g.day::date
     WHERE NOT EXISTS (SELECT FROM switchboard.stats_delta s WHERE s.agent_id = $1 AND s.day BETWEEN $2 AND $3)
       -- 0.9.0: and every message folded (a late one may move figures of any day)
       AND NOT switchboard.stats_unfolded($1)
     ORDER BY g.day;
    IF FOUND THEN
        RETURN;
    END IF;
    -- else folded plus staged plus not folded
    RETURN QUERY
    SELECT s.day, s.inbound, s.accepted, s.blocked, s.rate_limited, s.daily_limit, s.disabled,
           s.outbound, s.new_conversations, s.new_sessions, s.unique_phones, s.calls_total,
           s.calls_answered, s.calls_completed, s.calls_failed, s.calls_busy, s.calls_no_answer,
           s.calls_canceled, s.call_duration_total,
           round(s.call_duration_total::numeric / nullif(s.call_duration_count, 0), 3),
           s.unique_callers, s.replies,
           round(s.reply_latency_total / nullif(s.replies, 0), 3),
           s.ai_tasks, s.ai_tokens,
           round(s.ai_processing_ms_total / nullif(s.ai_processing_count, 0), 3),
           round(s.ai_succeeded::numeric / nullif(s.ai_judged, 0), 4),
           s.categories, s.quota_exceeded, s.after_hours, s.calls_after_hours
      FROM switchboard.stats_days($1, $2, $3) s;
END
$fn$;
COMMENT ON FUNCTION switchboard.daily_stats(uuid, date, date) IS
    'per-day analytics of an agent over a day range (agent''s timezone), one row per day, quiet days as zeros; exact and current';

CREATE OR REPLACE FUNCTION switchboard.agent_summary(agent_id uuid, days integer DEFAULT 30)
RETURNS TABLE (from_day date, to_day date, inbound bigint, accepted bigint, blocked bigint,
               rate_limited bigint, daily_limit bigint, disabled bigint, outbound bigint,
               new_conversations bigint, new_sessions bigint, unique_phones bigint,
               calls_total bigint, calls_answered bigint, calls_completed bigint, calls_failed bigint,
               calls_busy bigint, calls_no_answer bigint, calls_canceled bigint, answer_rate numeric,
               call_duration_total bigint, call_duration_avg numeric, unique_callers bigint,
               replies bigint, reply_latency_avg numeric, ai_tasks bigint, tokens_used bigint,
               processing_ms_avg numeric, success_rate numeric, quota_exceeded bigint, after_hours bigint, calls_after_hours bigint)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp SET jit = off AS $fn$
DECLARE
    tz text;
    hi date;
    lo date;
BEGIN
    tz := switchboard.stats_check_agent($1);
    IF $2 IS NULL OR $2 < 1 OR $2 > 36600 THEN
        RAISE EXCEPTION 'invalid number of days %', $2 USING ERRCODE = '22023',
            DETAIL = 'The window must be between 1 and 36,600 days.';
    END IF;
    hi := (now() AT TIME ZONE tz)::date;
    lo := hi - ($2 - 1);
    PERFORM switchboard.rollup($1);
    RETURN QUERY
    WITH t AS (SELECT * FROM switchboard.stats_days($1, lo, hi))
    SELECT lo, hi,
           sum(t.inbound)::bigint, sum(t.accepted)::bigint, sum(t.blocked)::bigint,
           sum(t.rate_limited)::bigint, sum(t.daily_limit)::bigint, sum(t.disabled)::bigint,
           sum(t.outbound)::bigint, sum(t.new_conversations)::bigint, sum(t.new_sessions)::bigint,
           (SELECT count(DISTINCT v.value)
              FROM (SELECT s.value FROM switchboard.stats_seen s
                     WHERE s.agent_id = $1 AND s.kind = 'phone' AND s.day BETWEEN lo AND hi
                    UNION ALL
                    -- 0.9.0: inbound messages not folded yet (none, in one
                    -- probe, once a reader folded)
                    SELECT m.phone FROM switchboard.messages m
                     WHERE m.agent_id = $1 AND m.direction = 'inbound'
                       AND m.message_id > coalesce((SELECT w.folded_through FROM switchboard.stats_watermark w
                                                     WHERE w.agent_id = $1), 0)
                       AND (m.created_at AT TIME ZONE tz)::date BETWEEN lo AND hi
                       AND switchboard.stats_unfolded($1)) v),
           sum(t.calls_total)::bigint, sum(t.calls_answered)::bigint, sum(t.calls_completed)::bigint,
           sum(t.calls_failed)::bigint, sum(t.calls_busy)::bigint, sum(t.calls_no_answer)::bigint,
           sum(t.calls_canceled)::bigint,
           round(sum(t.calls_answered)::numeric / nullif(sum(t.calls_total), 0), 4),
           sum(t.call_duration_total)::bigint,
           round(sum(t.call_duration_total)::numeric / nullif(sum(t.call_duration_count), 0), 3),
           (SELECT count(DISTINCT s.value) FROM switchboard.stats_seen s
             WHERE s.agent_id = $1 AND s.kind = 'caller' AND s.day BETWEEN lo AND hi),
           sum(t.replies)::bigint,
           round(sum(t.reply_latency_total) / nullif(sum(t.replies), 0), 3),
           sum(t.ai_tasks)::bigint, sum(t.ai_tokens)::bigint,
           round(sum(t.ai_processing_ms_total) / nullif(sum(t.ai_processing_count), 0), 3),
           round(sum(t.ai_succeeded)::numeric / nullif(sum(t.ai_judged), 0), 4),
           sum(t.quota_exceeded)::bigint, sum(t.after_hours)::bigint,
           sum(t.calls_after_hours)::bigint
      FROM t;
END
$fn$;
COMMENT ON FUNCTION switchboard.agent_summary(uuid, integer) IS
    'an agent''s totals over the last N days (today included, agent''s timezone) with rates, averages and exact unique phones/callers over the whole window';

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
        -- 0.9.0: every message folded first (the lock above settled them all),
        -- so that those outside the range are counted and those inside are
        -- not folded again later
        PERFORM switchboard.stats_fold_messages(a, (SELECT max(m.message_id) FROM switchboard.messages m
                                                     WHERE m.agent_id = a));
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
    RETURN total;
END
$fn$;
COMMENT ON FUNCTION switchboard.rebuild_stats(uuid, date, date) IS
    'recomputes the daily rollups of one agent (or all) over a day range (default all) from the raw rows; days whose raw rows were purged keep their rollups; returns the day rows written';

CREATE OR REPLACE FUNCTION switchboard.purge(older_than interval) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    cutoff timestamptz;
    n bigint;
    total bigint := 0;
BEGIN
    IF older_than IS NULL OR older_than < interval '0' THEN
        RAISE EXCEPTION 'invalid retention interval %', older_than USING ERRCODE = '22023',
            DETAIL = 'The interval must not be negative.';
    END IF;
    cutoff := now() - older_than;
    -- 0.9.0: fold first; a message not folded yet (a writer still open, a
    -- fold of its agent running elsewhere) stays until the next purge
    PERFORM switchboard.rollup();
    INSERT INTO switchboard.stats_horizon AS h (agent_id, purged_before)
    SELECT g.agent_id, cutoff FROM switchboard.agents g
    ON CONFLICT (agent_id) DO UPDATE SET purged_before = greatest(h.purged_before, excluded.purged_before);
    LOOP
        DELETE FROM switchboard.messages m
         WHERE (m.agent_id, m.message_id) IN (SELECT x.agent_id, x.message_id FROM switchboard.messages x
                                               WHERE x.created_at < cutoff
                                                 AND x.message_id <= coalesce(
                                                     (SELECT w.folded_through FROM switchboard.stats_watermark w
                                                       WHERE w.agent_id = x.agent_id), 0)
                                               LIMIT 10000);
        GET DIAGNOSTICS n = ROW_COUNT;
        EXIT WHEN n = 0;
        total := total + n;
    END LOOP;
    LOOP
        DELETE FROM switchboard.calls c
         WHERE (c.agent_id, c.call_id) IN (SELECT x.agent_id, x.call_id FROM switchboard.calls x
                                            WHERE x.started_at < cutoff LIMIT 10000);
        GET DIAGNOSTICS n = ROW_COUNT;
        EXIT WHEN n = 0;
        total := total + n;
    END LOOP;
    RETURN total;
END
$fn$;
COMMENT ON FUNCTION switchboard.purge(interval) IS
    'deletes raw messages and calls older than the interval in batches of 10,000, keeping the rollups (those days can no longer be rebuilt) and the conversations; returns the rows deleted';
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
