-- Analytics: exact, incremental, rebuildable per-agent daily stats ------------
--
-- Messages (0.9.0): nothing is written for them on the event path.  rollup()
-- folds each agent's new messages from the raw rows, set-based, above a
-- per-agent watermark (see "the messages' analytics are folded" below);
-- readers fold first when they can and add what is still above the watermark.
-- Calls: an AFTER ROW trigger on calls stages each change as one stats_delta
-- row (an insert: no lock anyone waits on); rollup() folds the staged rows
-- into stats_daily, and readers add whatever is still staged.  Every lock a
-- fold takes is a try-lock: nobody waits for a fold.
--
-- Unique phones/callers are exact through a seen-set (one row per agent, kind,
-- day and number); a window's uniques are a count(DISTINCT) over the window's
-- seen rows, so a number seen on three days counts once.
--
-- Days are the agent's timezone: a call's when it is recorded, a message's when it
-- is folded.

CREATE TABLE switchboard.stats_daily (
    agent_id               uuid NOT NULL REFERENCES switchboard.agents ON DELETE CASCADE,
    day                    date NOT NULL,
    inbound                bigint NOT NULL DEFAULT 0,
    accepted               bigint NOT NULL DEFAULT 0,
    blocked                bigint NOT NULL DEFAULT 0,
    rate_limited           bigint NOT NULL DEFAULT 0,
    daily_limit            bigint NOT NULL DEFAULT 0,
    disabled               bigint NOT NULL DEFAULT 0,
    outbound               bigint NOT NULL DEFAULT 0,
    new_conversations      bigint NOT NULL DEFAULT 0,
    new_sessions           bigint NOT NULL DEFAULT 0,
    unique_phones          bigint NOT NULL DEFAULT 0,
    calls_total            bigint NOT NULL DEFAULT 0,
    calls_answered         bigint NOT NULL DEFAULT 0,
    calls_completed        bigint NOT NULL DEFAULT 0,
    calls_failed           bigint NOT NULL DEFAULT 0,
    calls_busy             bigint NOT NULL DEFAULT 0,
    calls_no_answer        bigint NOT NULL DEFAULT 0,
    calls_canceled         bigint NOT NULL DEFAULT 0,
    call_duration_total    bigint NOT NULL DEFAULT 0,
    call_duration_count    bigint NOT NULL DEFAULT 0,
    unique_callers         bigint NOT NULL DEFAULT 0,
    replies                bigint NOT NULL DEFAULT 0,
    reply_latency_total    numeric NOT NULL DEFAULT 0,
    ai_tasks               bigint NOT NULL DEFAULT 0,
    ai_tokens              bigint NOT NULL DEFAULT 0,
    ai_processing_ms_total numeric NOT NULL DEFAULT 0,
    ai_processing_count    bigint NOT NULL DEFAULT 0,
    ai_judged              bigint NOT NULL DEFAULT 0,
    ai_succeeded           bigint NOT NULL DEFAULT 0,
    -- the day's stats_daily_category rows as daily_stats shows them, kept by
    -- stats_fold and rebuild_stats so that readers aggregate nothing
    categories             jsonb NOT NULL DEFAULT '{}',
    -- 0.2.0: inbound messages refused by the monthly quota / received outside business hours,
    -- calls that started outside business hours
    quota_exceeded         bigint NOT NULL DEFAULT 0,
    after_hours            bigint NOT NULL DEFAULT 0,
    calls_after_hours      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (agent_id, day)
);
COMMENT ON TABLE switchboard.stats_daily IS
    'internal: folded per-agent daily counters (read them with daily_stats, which adds what is not folded yet)';

-- no foreign key: a key-share lock on the agent row per event would be a hot row of its own
CREATE TABLE switchboard.stats_delta (
    agent_id               uuid NOT NULL,
    delta_id               bigint GENERATED ALWAYS AS IDENTITY,
    day                    date NOT NULL,
    category               text,
    inbound                bigint NOT NULL DEFAULT 0,
    accepted               bigint NOT NULL DEFAULT 0,
    blocked                bigint NOT NULL DEFAULT 0,
    rate_limited           bigint NOT NULL DEFAULT 0,
    daily_limit            bigint NOT NULL DEFAULT 0,
    disabled               bigint NOT NULL DEFAULT 0,
    outbound               bigint NOT NULL DEFAULT 0,
    new_conversations      bigint NOT NULL DEFAULT 0,
    new_sessions           bigint NOT NULL DEFAULT 0,
    unique_phones          bigint NOT NULL DEFAULT 0,
    calls_total            bigint NOT NULL DEFAULT 0,
    calls_answered         bigint NOT NULL DEFAULT 0,
    calls_completed        bigint NOT NULL DEFAULT 0,
    calls_failed           bigint NOT NULL DEFAULT 0,
    calls_busy             bigint NOT NULL DEFAULT 0,
    calls_no_answer        bigint NOT NULL DEFAULT 0,
    calls_canceled         bigint NOT NULL DEFAULT 0,
    call_duration_total    bigint NOT NULL DEFAULT 0,
    call_duration_count    bigint NOT NULL DEFAULT 0,
    unique_callers         bigint NOT NULL DEFAULT 0,
    replies                bigint NOT NULL DEFAULT 0,
    reply_latency_total    numeric NOT NULL DEFAULT 0,
    ai_tasks               bigint NOT NULL DEFAULT 0,
    ai_tokens              bigint NOT NULL DEFAULT 0,
    ai_processing_ms_total numeric NOT NULL DEFAULT 0,
    ai_processing_count    bigint NOT NULL DEFAULT 0,
    ai_judged              bigint NOT NULL DEFAULT 0,
    ai_succeeded           bigint NOT NULL DEFAULT 0,
    quota_exceeded         bigint NOT NULL DEFAULT 0,
    after_hours            bigint NOT NULL DEFAULT 0,
    calls_after_hours      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (agent_id, delta_id)
);
COMMENT ON TABLE switchboard.stats_delta IS
    'internal: staged increments (a call''s change, a message fold''s day figures), folded into stats_daily by rollup()';

CREATE TABLE switchboard.stats_daily_category (
    agent_id  uuid NOT NULL REFERENCES switchboard.agents ON DELETE CASCADE,
    day       date NOT NULL,
    category  text NOT NULL,
    tasks     bigint NOT NULL DEFAULT 0,
    tokens    bigint NOT NULL DEFAULT 0,
    judged    bigint NOT NULL DEFAULT 0,
    succeeded bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (agent_id, day, category)
);
COMMENT ON TABLE switchboard.stats_daily_category IS
    'internal: folded AI task facts per agent, day and metadata category';

-- a domain, not a CHECK: one row of stats_seen is written per event (see 020_tables.sql)
CREATE DOMAIN switchboard.stats_seen_kind AS text
    CHECK (VALUE IN ('phone', 'caller'));
COMMENT ON DOMAIN switchboard.stats_seen_kind IS
    'internal: what a stats_seen row counts: an inbound message''s phone or a call''s caller';

CREATE TABLE switchboard.stats_seen (
    agent_id uuid NOT NULL,
    kind     switchboard.stats_seen_kind NOT NULL,
    day      date NOT NULL,
    value    text NOT NULL,
    PRIMARY KEY (agent_id, kind, day, value)
);
COMMENT ON TABLE switchboard.stats_seen IS
    'internal: the seen-set behind exact unique phones (inbound senders) and callers per agent and day';

CREATE TABLE switchboard.stats_first (
    agent_id         uuid NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('conversation', 'session')),
    id               uuid NOT NULL,
    first_at         timestamptz NOT NULL,
    first_message_id bigint NOT NULL,
    first_day        date NOT NULL,
    PRIMARY KEY (agent_id, kind, id)
);
COMMENT ON TABLE switchboard.stats_first IS
    'internal: the first message of each conversation and session, so new conversations/sessions land on the right day, late events included';

CREATE TABLE switchboard.stats_horizon (
    agent_id      uuid PRIMARY KEY REFERENCES switchboard.agents ON DELETE CASCADE,
    purged_before timestamptz NOT NULL
);
COMMENT ON TABLE switchboard.stats_horizon IS
    'internal: raw rows older than purged_before were purged; rebuild_stats keeps the rollups of those days';

-- the day of a moment for an agent
CREATE FUNCTION switchboard.stats_agent_tz(agent_id uuid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT a.timezone FROM switchboard.agents a WHERE a.agent_id = $1), 'UTC')
$$;
COMMENT ON FUNCTION switchboard.stats_agent_tz(uuid) IS
    'helper: the agent''s timezone (UTC for an unknown agent), which defines its days';

-- is this outbound message an AI task (its metadata carries one of the task keys)
-- C since 0.10.0 (jsonb's ?| on those four keys, as 0.1.0 to 0.9.0 wrote it in
-- SQL): a SQL function with SET search_path is not inlined, and the fold
-- called it for every outbound message, about 1 µs a call.
CREATE FUNCTION switchboard.stats_is_task(metadata jsonb) RETURNS boolean
AS 'MODULE_PATHNAME', 'stats_is_task'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION switchboard.stats_is_task(jsonb) IS
    'helper: an outbound message is an AI task when its metadata has tokens_used, processing_ms, success or category';

-- a call row's contribution, signed, as one stats_delta row
CREATE FUNCTION switchboard.stats_call_delta(a uuid, d date, sgn integer, status text,
                                             answered_at timestamptz, duration integer, new_caller integer,
                                             after_hours boolean)
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO switchboard.stats_delta
        (agent_id, day, calls_total, calls_answered, calls_completed, calls_failed, calls_busy,
         calls_no_answer, calls_canceled, call_duration_total, call_duration_count, unique_callers,
         calls_after_hours)
    VALUES ($1, $2, $3,
            $3 * ($5 IS NOT NULL OR $4 IN ('in_progress', 'completed'))::int,
            $3 * ($4 = 'completed')::int, $3 * ($4 = 'failed')::int, $3 * ($4 = 'busy')::int,
            $3 * ($4 = 'no_answer')::int, $3 * ($4 = 'canceled')::int,
            $3 * CASE WHEN $4 = 'completed' THEN coalesce($6, 0) ELSE 0 END,
            $3 * ($4 = 'completed' AND $6 IS NOT NULL)::int, $7,
            $3 * $8::int)
$$;
COMMENT ON FUNCTION switchboard.stats_call_delta(uuid, date, integer, text, timestamptz, integer, integer, boolean) IS
    'helper: stages a call row''s contribution (sgn -1 takes an old version back)';

CREATE FUNCTION switchboard.stats_on_call() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    tz text;
    d date;
    od date;
    uc int := 0;
BEGIN
    IF current_setting('switchboard.stats_rollup', true) = 'off' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status = OLD.status
       AND NEW.answered_at IS NOT DISTINCT FROM OLD.answered_at
       AND NEW.duration_seconds IS NOT DISTINCT FROM OLD.duration_seconds
       AND NEW.started_at = OLD.started_at AND NEW.caller = OLD.caller
       AND NEW.agent_id = OLD.agent_id AND NEW.after_hours = OLD.after_hours THEN
        RETURN NULL;
    END IF;
    SELECT a.timezone INTO tz FROM switchboard.agents a WHERE a.agent_id = NEW.agent_id;
    tz := coalesce(tz, 'UTC');
    d := (NEW.started_at AT TIME ZONE tz)::date;
    IF TG_OP = 'UPDATE' THEN
        od := (OLD.started_at AT TIME ZONE switchboard.stats_agent_tz(OLD.agent_id))::date;
        PERFORM switchboard.stats_call_delta(OLD.agent_id, od, -1, OLD.status, OLD.answered_at,
                                             OLD.duration_seconds, 0, OLD.after_hours);
    END IF;
    IF TG_OP = 'INSERT' OR od <> d OR NEW.caller <> OLD.caller OR NEW.agent_id <> OLD.agent_id THEN
        INSERT INTO switchboard.stats_seen (agent_id, kind, day, value)
        VALUES (NEW.agent_id, 'caller', d, NEW.caller) ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS uc = ROW_COUNT;
    END IF;
    PERFORM switchboard.stats_call_delta(NEW.agent_id, d, 1, NEW.status, NEW.answered_at,
                                         NEW.duration_seconds, uc, NEW.after_hours);
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION switchboard.stats_on_call() IS
    'internal trigger: stages the daily-stats change of a new or updated call (status moves count it once; off when switchboard.stats_rollup = off)';

-- fold one agent's staged deltas (0.4.0: only those after delta_id `after`);
-- the caller holds the agent's fold lock.  The write path's fold starts after
-- where the backend's previous fold of the agent began: the index range below
-- it holds the rows earlier folds deleted, which an unbounded scan would visit
-- again (on one busy agent, 133,578 dead index entries against 457 live rows
-- 20 s after a vacuum); readers fold everything (rollup, the default 0).
-- 0.7.0: enable_seqscan = off and enable_bitmapscan = off, so that the DELETE
-- walks that index range in a plain index scan whatever the statistics say.
-- When one agent owns most staged rows (a busy agent: the case the stage is
-- for) the planner costed a sequential scan of the whole stats_delta heap
-- (thousands of pages of deleted rows between vacuums) below the index range,
-- or a bitmap scan, which visits the heap page of every dead entry in the
-- range and, unlike a plain index scan, never marks those entries dead for the
-- next scan: a full fold of the stats bench's hot agent read 227,000 dead
-- entries and 9,000 heap pages (60-120 ms; 12-41 ms with the plain scan).
-- While the planner chose the sequential scan, throughput with rollups rose
-- 7-13% without it; once it chose the index anyway, nothing changed (README
-- "The fold of a busy agent").
CREATE FUNCTION switchboard.stats_fold(a uuid, after bigint DEFAULT 0) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET enable_seqscan = off SET enable_bitmapscan = off AS $fn$
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

-- 0.9.0: the messages' analytics are folded from the raw rows -----------------
--
-- messages is itself a log of the events, so the write path stages nothing for
-- a message: a fold reads an agent's messages above its watermark
-- (stats_watermark.folded_through, a message_id), set-based, and adds their
-- day figures, seen phones and first messages in a few statements per batch.
-- The watermark is exact under concurrency: the fold reads the agent's highest
-- message_id, then waits for the transactions writing messages at that moment
-- (stats_settle_messages); every id up to it is then committed or gone.  A
-- message recorded late (an earlier created_at than messages already folded)
-- needs no special case: the reply pairs of its conversation are recomputed from
-- it onwards, old against new, and first messages are compared with
-- stats_first.  Readers fold first when they can and add what is still above
-- the watermark on the fly (stats_message_deltas), so figures stay exact and
-- current; a scheduler (pg_cron) calling rollup() keeps the backlog small.

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

-- What an agent's messages with message_id in (lo, hi] (hi NULL: every
-- visible one) bring that the folded ones did not (0.10.0): a phone not seen
-- on its day (kind 'phone': phone, day), a conversation or session whose first
-- message is new or earlier than the one known (kind 'conversation' or
-- 'session': id, the day, time and message_id of its first message in the
-- batch, and old_day, the day of the known one, if any).  The message deltas
-- count them, and the fold writes exactly these into stats_seen and
-- stats_first: each is probed once per fold (up to 0.9.0 the deltas probed
-- them and the fold probed them again to write them).
CREATE TYPE switchboard.stats_news AS (
    kind             text,
    id               uuid,
    phone            text,
    day              date,
    first_at         timestamptz,
    first_message_id bigint,
    old_day          date
);
COMMENT ON TYPE switchboard.stats_news IS
    'internal: a phone seen for the first time on its day, or a conversation''s or session''s new or earlier first message, in a batch of messages to fold';

CREATE FUNCTION switchboard.stats_message_news(a uuid, lo bigint, hi bigint)
RETURNS SETOF switchboard.stats_news
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off SET work_mem = '64MB'
    SET enable_hashjoin = off SET enable_mergejoin = off SET plan_cache_mode = force_generic_plan AS $fn$
BEGIN
    RETURN QUERY
    -- MATERIALIZED: the time zone read once (referenced once, the CTE would
    -- be inlined, and the function called again for every message)
    WITH tz AS MATERIALIZED (SELECT switchboard.stats_agent_tz($1) AS tz),
    b AS MATERIALIZED (
        SELECT m.message_id, m.conversation_id, m.session_id, m.direction, m.phone, m.created_at,
               (m.created_at AT TIME ZONE tz.tz)::date AS day
          FROM switchboard.messages m, tz
         WHERE m.agent_id = $1 AND m.message_id > $2 AND ($3 IS NULL OR m.message_id <= $3)
    ), groups AS (
        -- the earliest time of each (conversation, session) of the batch, a
        -- hash aggregate (a DISTINCT ON per conversation and per session
        -- sorted the whole batch twice: most of the time of a busy agent's)
        SELECT b.conversation_id, b.session_id, min(b.created_at) AS at
          FROM b WHERE b.conversation_id IS NOT NULL
         GROUP BY b.conversation_id, b.session_id
    ), candidates AS (
        -- a first message where none was, or maybe earlier than the one known
        -- (the same time: the message_id decides, below); most conversations
        -- and sessions of a batch talked before, and stop here
        SELECT n.kind, n.id, n.convs, n.at, f.first_at, f.first_message_id, f.first_day
          FROM ((SELECT 'conversation' AS kind, g.conversation_id AS id, ARRAY[g.conversation_id] AS convs,
                        min(g.at) AS at
                   FROM groups g GROUP BY g.conversation_id)
                UNION ALL
                (SELECT 'session', g.session_id, array_agg(g.conversation_id), min(g.at)
                   FROM groups g WHERE g.session_id IS NOT NULL GROUP BY g.session_id)) n
          LEFT JOIN switchboard.stats_first f ON f.agent_id = $1 AND f.kind = n.kind AND f.id = n.id
         WHERE f.id IS NULL OR n.at <= f.first_at
    )
    SELECT 'phone', NULL::uuid, x.phone, x.day, NULL::timestamptz, NULL::bigint, NULL::date
      FROM (SELECT DISTINCT b.day, b.phone FROM b WHERE b.direction = 'inbound') x
     WHERE NOT EXISTS (SELECT FROM switchboard.stats_seen s
                        WHERE s.agent_id = $1 AND s.kind = 'phone' AND s.day = x.day AND s.value = x.phone)
    UNION ALL
    -- a first message where none was, or earlier than the one known: the
    -- candidate's first message of the batch, one probe of the index on
    -- conversations from its earliest time on
    SELECT c.kind, c.id, NULL, (x.created_at AT TIME ZONE tz.tz)::date, x.created_at, x.message_id, c.first_day
      FROM candidates c CROSS JOIN tz
      CROSS JOIN LATERAL (
            SELECT m.created_at, m.message_id FROM switchboard.messages m
             WHERE m.agent_id = $1 AND m.conversation_id = ANY (c.convs) AND m.created_at >= c.at
               AND (c.kind = 'conversation' OR m.session_id = c.id)
               AND m.message_id > $2 AND ($3 IS NULL OR m.message_id <= $3)
             ORDER BY m.created_at, m.message_id LIMIT 1) x
     WHERE c.first_at IS NULL OR (x.created_at, x.message_id) < (c.first_at, c.first_message_id);
END
$fn$;
COMMENT ON FUNCTION switchboard.stats_message_news(uuid, bigint, bigint) IS
    'helper: the phones not seen on their day and the new or earlier first messages of conversations and sessions that an agent''s messages with message_id in (lo, hi] bring; writes nothing';

-- The day figures of an agent's messages with message_id in (lo, hi] (hi NULL:
-- every visible one), as stats_delta rows: what adding them to the folded ones
-- (message_id <= lo) changes.  Reads, writes nothing: the fold stores the
-- result, a reader adds it to the folded figures.  Replies: for each
-- conversation of the batch, the pairs from its earliest time in the batch on,
-- with the batch against without it (one index probe for the previous accepted
-- message, one range scan for the folded ones from that time on: nothing for
-- an in-order conversation); firsts and phones from `news`, the batch's
-- stats_message_news (NULL: computed here).  PL/pgSQL, so that a session keeps
-- the plan (a SQL function planned it again on every call: 5 ms an agent).
-- Hash and merge joins off: with the generic estimates of a batch the planner
-- hashed all the agent's stats_first and stats_seen rows, a cost that grew with
-- its history; nested loops probe their indexes per batch row instead.  jit
-- off: the JIT compile (70-80 ms) cost more than it saved; work_mem 64MB: the
-- batch's sort (the pairs) stays in memory (4MB spilled a batch of 50,000 to
-- disk).  0.11.0: plan_cache_mode = force_generic_plan (for this function
-- and stats_message_news): with the estimates of a custom plan cheaper than
-- the generic one's, Postgres planned both statements again on every call,
-- about 0.9 ms an agent, a third of a fold of 1,000 agents' small batches
-- (the joins are nested loops either way, see above).
CREATE FUNCTION switchboard.stats_message_deltas(a uuid, lo bigint, hi bigint,
                                                 news switchboard.stats_news[] DEFAULT NULL)
RETURNS TABLE (day date, category text, inbound bigint, accepted bigint, blocked bigint,
               rate_limited bigint, daily_limit bigint, disabled bigint, outbound bigint,
               new_conversations bigint, new_sessions bigint, unique_phones bigint, replies bigint,
               reply_latency_total numeric, ai_tasks bigint, ai_tokens bigint,
               ai_processing_ms_total numeric, ai_processing_count bigint, ai_judged bigint,
               ai_succeeded bigint, quota_exceeded bigint, after_hours bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off SET work_mem = '64MB'
    SET enable_hashjoin = off SET enable_mergejoin = off SET plan_cache_mode = force_generic_plan AS $fn$
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
    ), nw AS MATERIALIZED (
        SELECT n.kind, n.day, n.old_day FROM unnest($4) n WHERE $4 IS NOT NULL
        UNION ALL
        SELECT n.kind, n.day, n.old_day FROM switchboard.stats_message_news($1, $2, $3) n WHERE $4 IS NULL
    ), phones AS (
        SELECT nw.day, count(*) AS n FROM nw WHERE nw.kind = 'phone' GROUP BY nw.day
    ), moved AS (
        SELECT nw.kind, nw.day, nw.old_day AS first_day FROM nw WHERE nw.kind <> 'phone'
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
        -- each conversation's earliest time in the batch (a hash aggregate, not
        -- a sort of the batch); the pairs are recomputed from that time on
        SELECT acc.conversation_id, min(acc.created_at) AS created_at,
               bool_or(acc.direction = 'outbound') AS has_outbound
          FROM acc GROUP BY acc.conversation_id
    ), later AS (
        -- folded accepted messages from it on: none unless the batch brought a
        -- late message (or one at the same time as a folded one)
        SELECT start.conversation_id, x.created_at, x.message_id, x.direction,
               (x.created_at AT TIME ZONE tz.tz)::date AS day, false AS is_prior
          FROM start CROSS JOIN tz
          JOIN switchboard.messages x
            ON x.agent_id = $1 AND x.conversation_id = start.conversation_id
           AND x.decision = 'accepted' AND x.message_id <= $2
           AND x.created_at >= start.created_at
    ), prior AS (
        -- the folded accepted message before that time, for a conversation
        -- where it can make a pair: one with an outbound message in the batch
        -- or folded messages from that time on (a batch of inbound messages
        -- in order makes no pair with or without it)
        SELECT start.conversation_id, p.created_at, p.message_id, p.direction, NULL::date AS day,
               true AS is_prior
          FROM start CROSS JOIN LATERAL (
                SELECT x.created_at, x.message_id, x.direction FROM switchboard.messages x
                 WHERE x.agent_id = $1 AND x.conversation_id = start.conversation_id
                   AND x.decision = 'accepted' AND x.message_id <= $2
                   AND x.created_at < start.created_at
                 ORDER BY x.created_at DESC, x.message_id DESC LIMIT 1) p
         WHERE start.has_outbound
            OR EXISTS (SELECT FROM later WHERE later.conversation_id = start.conversation_id)
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
COMMENT ON FUNCTION switchboard.stats_message_deltas(uuid, bigint, bigint, switchboard.stats_news[]) IS
    'helper: what an agent''s messages with message_id in (lo, hi] (hi NULL: every visible one) add to the folded day figures, as stats_delta rows, given their stats_message_news (NULL: computed); writes nothing';

-- Fold an agent's messages with message_id in (its watermark, hi] into the
-- rollups; every id up to hi must be settled, and the caller holds the agent's
-- fold lock.  The batch's news first (stats_message_news); the figures go
-- through stats_delta (stats_fold adds them up with the staged calls); then
-- the news into the seen phones and the first messages, and the watermark.
-- Returns the messages folded.
CREATE FUNCTION switchboard.stats_fold_messages(a uuid, hi bigint, OUT messages bigint, OUT staged bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off SET work_mem = '64MB'
    SET enable_hashjoin = off SET enable_mergejoin = off AS $fn$
DECLARE
    lo bigint;
    news switchboard.stats_news[];
BEGIN
    messages := 0;
    staged := 0;
    SELECT w.folded_through INTO lo FROM switchboard.stats_watermark w WHERE w.agent_id = a;
    lo := coalesce(lo, 0);
    IF hi IS NULL OR hi <= lo THEN
        RETURN;
    END IF;
    SELECT coalesce(array_agg(n), '{}') INTO news FROM switchboard.stats_message_news(a, lo, hi) n;
    WITH d AS (
        INSERT INTO switchboard.stats_delta (agent_id, day, category, inbound, accepted, blocked, rate_limited,
                                             daily_limit, disabled, outbound, new_conversations, new_sessions,
                                             unique_phones, replies, reply_latency_total, ai_tasks, ai_tokens,
                                             ai_processing_ms_total, ai_processing_count, ai_judged, ai_succeeded,
                                             quota_exceeded, after_hours)
        SELECT a, x.* FROM switchboard.stats_message_deltas(a, lo, hi, news) x
        RETURNING inbound + outbound AS n
    )
    SELECT coalesce(sum(d.n), 0), count(*) INTO messages, staged FROM d;
    -- nothing new in most folds of a busy day
    IF cardinality(news) > 0 THEN
        WITH seen AS (
            INSERT INTO switchboard.stats_seen (agent_id, kind, day, value)
            SELECT a, 'phone', n.day, n.phone FROM unnest(news) n WHERE n.kind = 'phone'
            ON CONFLICT DO NOTHING
        )
        -- only new or earlier first messages (an upsert of the others would
        -- still lock their rows, a write each)
        INSERT INTO switchboard.stats_first AS f (agent_id, kind, id, first_at, first_message_id, first_day)
        SELECT a, n.kind, n.id, n.first_at, n.first_message_id, n.day FROM unnest(news) n WHERE n.kind <> 'phone'
        ON CONFLICT (agent_id, kind, id) DO UPDATE
           SET first_at = excluded.first_at, first_message_id = excluded.first_message_id,
               first_day = excluded.first_day
         WHERE (excluded.first_at, excluded.first_message_id) < (f.first_at, f.first_message_id);
    END IF;
    INSERT INTO switchboard.stats_watermark AS w (agent_id, folded_through) VALUES (a, hi)
    ON CONFLICT (agent_id) DO UPDATE SET folded_through = excluded.folded_through;
END
$fn$;
COMMENT ON FUNCTION switchboard.stats_fold_messages(uuid, bigint) IS
    'helper: folds an agent''s messages above its watermark, up to message_id hi (settled), into stats_delta, the seen phones and first messages; returns the messages folded and the day rows staged';

-- 0.9.0: the messages first.  Their highest ids are read, then the writers of
-- messages at that moment are waited for (stats_settle_messages, at most
-- switchboard.fold_wait_ms; a writer open longer leaves the fold to the next
-- call, and readers add the messages on the fly meanwhile), then each agent's
-- messages up to its highest id are folded; then its staged rows.
CREATE FUNCTION switchboard.rollup(agent_id uuid DEFAULT NULL) RETURNS bigint
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

-- per-day totals for an agent: folded rows plus what is still staged
CREATE FUNCTION switchboard.stats_days(agent_id uuid, lo date, hi date)
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

CREATE FUNCTION switchboard.stats_check_agent(agent_id uuid) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    tz text;
BEGIN
    SELECT a.timezone INTO tz FROM switchboard.agents a WHERE a.agent_id = $1;
    IF NOT FOUND THEN
        -- 42501 when row-level security hides the agent, else P0002
        PERFORM switchboard.agent_not_found($1);
    END IF;
    RETURN tz;
END
$fn$;
COMMENT ON FUNCTION switchboard.stats_check_agent(uuid) IS
    'helper: the agent''s timezone; for an agent the caller cannot see, ERROR 42501 (someone else''s) or P0002 (none)';

CREATE FUNCTION switchboard.daily_stats(agent_id uuid, "from" date, "to" date)
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

-- jit off (0.9.0; daily_stats and stats_days too): the generic estimate of
-- the messages above the watermark (a third of the agent's history) pushed the
-- statement over jit_above_cost, and the JIT compile took 20 ms of a 1 ms read.
CREATE FUNCTION switchboard.agent_summary(agent_id uuid, days integer DEFAULT 30)
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

-- per-day counters straight from the raw rows (what rebuild_stats writes)
CREATE FUNCTION switchboard.stats_from_raw(agent_id uuid, lo date, hi date)
RETURNS TABLE (day date, inbound bigint, accepted bigint, blocked bigint, rate_limited bigint, daily_limit bigint, disabled bigint, outbound bigint, new_conversations bigint, new_sessions bigint, unique_phones bigint, calls_total bigint, calls_answered bigint, calls_completed bigint, calls_failed bigint, calls_busy bigint, calls_no_answer bigint, calls_canceled bigint, call_duration_total bigint, call_duration_count bigint, unique_callers bigint, replies bigint, reply_latency_total numeric, ai_tasks bigint, ai_tokens bigint, ai_processing_ms_total numeric, ai_processing_count bigint, ai_judged bigint, ai_succeeded bigint, quota_exceeded bigint, after_hours bigint, calls_after_hours bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH tz AS (SELECT switchboard.stats_agent_tz($1) AS tz),
    m AS (
        SELECT (m.created_at AT TIME ZONE tz.tz)::date AS day, m.*
          FROM switchboard.messages m, tz
         WHERE m.agent_id = $1 AND (m.created_at AT TIME ZONE tz.tz)::date BETWEEN $2 AND $3
    ), seq AS (
        SELECT (m.created_at AT TIME ZONE tz.tz)::date AS day, m.direction, m.created_at,
               lag(m.direction) OVER w AS p_dir, lag(m.created_at) OVER w AS p_at
          FROM switchboard.messages m, tz
         WHERE m.agent_id = $1 AND m.conversation_id IS NOT NULL AND m.decision = 'accepted'
        WINDOW w AS (PARTITION BY m.conversation_id ORDER BY m.created_at, m.message_id)
    ), c AS (
        SELECT (c.started_at AT TIME ZONE tz.tz)::date AS day, c.*
          FROM switchboard.calls c, tz
         WHERE c.agent_id = $1 AND (c.started_at AT TIME ZONE tz.tz)::date BETWEEN $2 AND $3
    ), parts AS (
        SELECT m.day,
               count(*) FILTER (WHERE m.direction = 'inbound') AS inbound,
               count(*) FILTER (WHERE m.direction = 'inbound' AND m.decision = 'accepted') AS accepted,
               count(*) FILTER (WHERE m.direction = 'inbound' AND m.decision = 'blocked') AS blocked,
               count(*) FILTER (WHERE m.direction = 'inbound' AND m.decision = 'rate_limited') AS rate_limited,
               count(*) FILTER (WHERE m.direction = 'inbound' AND m.decision = 'daily_limit') AS daily_limit,
               count(*) FILTER (WHERE m.direction = 'inbound' AND m.decision = 'disabled') AS disabled,
               count(*) FILTER (WHERE m.direction = 'outbound') AS outbound,
               0::bigint AS new_conversations, 0::bigint AS new_sessions,
               count(DISTINCT m.phone) FILTER (WHERE m.direction = 'inbound') AS unique_phones,
               0::bigint AS calls_total, 0::bigint AS calls_answered, 0::bigint AS calls_completed,
               0::bigint AS calls_failed, 0::bigint AS calls_busy, 0::bigint AS calls_no_answer,
               0::bigint AS calls_canceled, 0::bigint AS call_duration_total,
               0::bigint AS call_duration_count, 0::bigint AS unique_callers,
               0::bigint AS replies, 0::numeric AS reply_latency_total,
               count(*) FILTER (WHERE m.direction = 'outbound' AND switchboard.stats_is_task(m.metadata)) AS ai_tasks,
               coalesce(sum(round((m.metadata ->> 'tokens_used')::numeric))
                   FILTER (WHERE m.direction = 'outbound' AND jsonb_typeof(m.metadata -> 'tokens_used') = 'number'), 0) AS ai_tokens,
               coalesce(sum((m.metadata ->> 'processing_ms')::numeric)
                   FILTER (WHERE m.direction = 'outbound' AND jsonb_typeof(m.metadata -> 'processing_ms') = 'number'), 0) AS ai_processing_ms_total,
               count(*) FILTER (WHERE m.direction = 'outbound' AND jsonb_typeof(m.metadata -> 'processing_ms') = 'number') AS ai_processing_count,
               count(*) FILTER (WHERE m.direction = 'outbound' AND jsonb_typeof(m.metadata -> 'success') = 'boolean') AS ai_judged,
               count(*) FILTER (WHERE m.direction = 'outbound' AND m.metadata -> 'success' = 'true'::jsonb) AS ai_succeeded,
               count(*) FILTER (WHERE m.direction = 'inbound' AND m.decision = 'quota_exceeded') AS quota_exceeded,
               count(*) FILTER (WHERE m.direction = 'inbound' AND m.after_hours) AS after_hours,
               0::bigint AS calls_after_hours
          FROM m GROUP BY m.day
        UNION ALL
        SELECT f.first_day, 0, 0, 0, 0, 0, 0, 0,
               count(*) FILTER (WHERE f.kind = 'conversation'), count(*) FILTER (WHERE f.kind = 'session'),
               0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
          FROM switchboard.stats_first f
         WHERE f.agent_id = $1 AND f.first_day BETWEEN $2 AND $3
         GROUP BY f.first_day
        UNION ALL
        SELECT s.day, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               count(*), sum(extract(epoch FROM s.created_at) - extract(epoch FROM s.p_at)),
               0, 0, 0, 0, 0, 0, 0, 0, 0
          FROM seq s
         WHERE s.direction = 'outbound' AND s.p_dir = 'inbound' AND s.day BETWEEN $2 AND $3
         GROUP BY s.day
        UNION ALL
        SELECT c.day, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               count(*),
               count(*) FILTER (WHERE c.answered_at IS NOT NULL OR c.status IN ('in_progress', 'completed')),
               count(*) FILTER (WHERE c.status = 'completed'),
               count(*) FILTER (WHERE c.status = 'failed'),
               count(*) FILTER (WHERE c.status = 'busy'),
               count(*) FILTER (WHERE c.status = 'no_answer'),
               count(*) FILTER (WHERE c.status = 'canceled'),
               coalesce(sum(c.duration_seconds) FILTER (WHERE c.status = 'completed'), 0),
               count(c.duration_seconds) FILTER (WHERE c.status = 'completed'),
               count(DISTINCT c.caller),
               0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               count(*) FILTER (WHERE c.after_hours)
          FROM c GROUP BY c.day
    )
    SELECT p.day, sum(p.inbound)::bigint, sum(p.accepted)::bigint, sum(p.blocked)::bigint, sum(p.rate_limited)::bigint, sum(p.daily_limit)::bigint, sum(p.disabled)::bigint, sum(p.outbound)::bigint, sum(p.new_conversations)::bigint, sum(p.new_sessions)::bigint, sum(p.unique_phones)::bigint, sum(p.calls_total)::bigint, sum(p.calls_answered)::bigint, sum(p.calls_completed)::bigint, sum(p.calls_failed)::bigint, sum(p.calls_busy)::bigint, sum(p.calls_no_answer)::bigint, sum(p.calls_canceled)::bigint, sum(p.call_duration_total)::bigint, sum(p.call_duration_count)::bigint, sum(p.unique_callers)::bigint, sum(p.replies)::bigint, sum(p.reply_latency_total)::numeric, sum(p.ai_tasks)::bigint, sum(p.ai_tokens)::bigint, sum(p.ai_processing_ms_total)::numeric, sum(p.ai_processing_count)::bigint, sum(p.ai_judged)::bigint, sum(p.ai_succeeded)::bigint, sum(p.quota_exceeded)::bigint, sum(p.after_hours)::bigint, sum(p.calls_after_hours)::bigint
      FROM parts p GROUP BY p.day
$$;
COMMENT ON FUNCTION switchboard.stats_from_raw(uuid, date, date) IS
    'helper: per-day counters of an agent recomputed from the raw messages and calls (new conversations/sessions from stats_first)';

CREATE FUNCTION switchboard.rebuild_stats(agent_id uuid DEFAULT NULL, "from" date DEFAULT NULL,
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

CREATE FUNCTION switchboard.purge(older_than interval) RETURNS bigint
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

CREATE FUNCTION switchboard.stats_forget_agent() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    DELETE FROM switchboard.stats_delta s WHERE s.agent_id = OLD.agent_id;
    DELETE FROM switchboard.stats_seen s WHERE s.agent_id = OLD.agent_id;
    DELETE FROM switchboard.stats_first s WHERE s.agent_id = OLD.agent_id;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION switchboard.stats_forget_agent() IS
    'internal trigger: a deleted agent''s staged deltas and seen-sets go with it';
CREATE TRIGGER stats_forget_agent AFTER DELETE ON switchboard.agents
    FOR EACH ROW EXECUTE FUNCTION switchboard.stats_forget_agent();

CREATE TRIGGER stats_on_call AFTER INSERT OR UPDATE ON switchboard.calls
    FOR EACH ROW EXECUTE FUNCTION switchboard.stats_on_call();
