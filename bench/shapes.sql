-- Write shapes for bench/shapes.bench.sh: what an event's analytics cost
-- depending on where its counts are written, measured on copies of the
-- switchboard tables (no switchboard triggers) with plpgsql stand-ins whose
-- decisions are fixed by the mix.  Every shape first locks the event's
-- conversation, as record_* do, then writes.
--   off                 the lock (SELECT ... FOR UPDATE), then the write:
--                       a rejected inbound message is its message row; an
--                       accepted message bumps the conversation and inserts
--                       the message in one statement (rollups off today)
--   staged              the same with one stats_delta-like row in the write
--                       statement, and a fold of the agent's staged rows every
--                       1,024 of them (rollups on, 0.7.0)
--   counters_after_lock the lock, then the counts added to the conversation
--                       row: by the bump for an accepted message, by an UPDATE
--                       of their own for a rejected one
--   counters_in_lock    the locking statement is the UPDATE that adds the
--                       counts (and, for an accepted message, the bump); then
--                       the message: what a decision taken inside the locking
--                       statement would write
--   one_statement       counters_in_lock with the message inserted by the same
--                       statement (a CTE over the UPDATE's RETURNING): the
--                       whole event in one statement
--   striped             staged, but the write statement adds the counts to
--                       the backend's own staged row for the agent, day and
--                       category (INSERT ... ON CONFLICT DO UPDATE): striped
--                       counters, one stripe per backend, so no two open
--                       transactions ever update the same row; no fold
DROP SCHEMA IF EXISTS shapes CASCADE;
CREATE SCHEMA shapes;

CREATE TABLE shapes.conv (LIKE switchboard.conversations INCLUDING ALL) WITH (fillfactor = 80);
-- the conversation row with a day's pending counts, and the index readers
-- would find them by
CREATE TABLE shapes.conv_acc (LIKE switchboard.conversations INCLUDING ALL) WITH (fillfactor = 80);
ALTER TABLE shapes.conv_acc
    ADD s_day date, ADD s_inbound bigint NOT NULL DEFAULT 0, ADD s_accepted bigint NOT NULL DEFAULT 0,
    ADD s_blocked bigint NOT NULL DEFAULT 0, ADD s_rate_limited bigint NOT NULL DEFAULT 0,
    ADD s_daily_limit bigint NOT NULL DEFAULT 0, ADD s_disabled bigint NOT NULL DEFAULT 0,
    ADD s_quota_exceeded bigint NOT NULL DEFAULT 0, ADD s_after_hours bigint NOT NULL DEFAULT 0,
    ADD s_outbound bigint NOT NULL DEFAULT 0, ADD s_new_sessions bigint NOT NULL DEFAULT 0,
    ADD s_unique_phones bigint NOT NULL DEFAULT 0, ADD s_replies bigint NOT NULL DEFAULT 0,
    ADD s_reply_latency_total numeric NOT NULL DEFAULT 0, ADD s_ai_tasks bigint NOT NULL DEFAULT 0,
    ADD s_ai_tokens bigint NOT NULL DEFAULT 0, ADD s_ai_processing_ms_total numeric NOT NULL DEFAULT 0,
    ADD s_ai_processing_count bigint NOT NULL DEFAULT 0, ADD s_ai_judged bigint NOT NULL DEFAULT 0,
    ADD s_ai_succeeded bigint NOT NULL DEFAULT 0, ADD s_category text;
CREATE INDEX ON shapes.conv_acc (agent_id, s_day) WHERE s_day IS NOT NULL;
CREATE TABLE shapes.msg (LIKE switchboard.messages INCLUDING ALL);
CREATE TABLE shapes.delta (LIKE switchboard.stats_delta INCLUDING ALL);
CREATE TABLE shapes.daily (LIKE switchboard.stats_daily INCLUDING ALL);
-- striped counters as rows of the staged table: a stripe number, and a unique
-- key on (agent, day, stripe, category) for them only
CREATE TABLE shapes.stripe (LIKE switchboard.stats_delta INCLUDING ALL) WITH (fillfactor = 50);
ALTER TABLE shapes.stripe ADD stripe int;
CREATE UNIQUE INDEX ON shapes.stripe (agent_id, day, stripe, category) NULLS NOT DISTINCT WHERE stripe IS NOT NULL;

INSERT INTO shapes.conv (agent_id, conversation_id, phone)
SELECT ('00000000-0000-0000-0000-' || lpad(a::text, 12, '0'))::uuid,
       ('00000000-0000-' || lpad(a::text, 4, '0') || '-0000-' || lpad(p::text, 12, '0'))::uuid,
       '+1201555' || lpad(p::text, 4, '0')
  FROM generate_series(1, 100) a, generate_series(1, 500) p;
INSERT INTO shapes.conv_acc (agent_id, conversation_id, phone, s_day)
SELECT agent_id, conversation_id, phone, current_date FROM shapes.conv;

-- one event: shape, agent and phone numbers, inbound or not, whether an
-- inbound message is accepted (else rate limited).  Each shape's statements are
-- written out in full, repeated SET lists included: dynamic SQL would plan them
-- on every call and measure the planner instead of the writes.
CREATE FUNCTION shapes.event(shape text, an int, pn int, inbound boolean, accepted boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    a uuid := ('00000000-0000-0000-0000-' || lpad(an::text, 12, '0'))::uuid;
    c uuid := ('00000000-0000-' || lpad(an::text, 4, '0') || '-0000-' || lpad(pn::text, 12, '0'))::uuid;
    ph text := '+1201555' || lpad(pn::text, 4, '0');
    md jsonb := CASE WHEN inbound THEN '{}'
                ELSE '{"tokens_used": 42, "processing_ms": 180, "success": true, "category": "support"}' END;
    dir text := CASE WHEN inbound THEN 'inbound' ELSE 'outbound' END;
    written boolean := NOT inbound OR accepted;   -- the conversation is bumped
    i int := inbound::int;
    o int := (NOT inbound)::int;
    t int := (NOT inbound)::int;                  -- an AI task
    mid bigint;
    did bigint;
    n int;
BEGIN
    IF shape IN ('off', 'staged', 'striped') THEN
        SELECT message_count INTO n FROM shapes.conv WHERE agent_id = a AND phone = ph FOR UPDATE;
        IF NOT written THEN
            IF shape = 'off' THEN
                INSERT INTO shapes.msg (agent_id, direction, phone, body, metadata, decision)
                VALUES (a, dir, ph, 'hi', md, 'rate_limited') RETURNING message_id INTO mid;
            ELSIF shape = 'striped' THEN
                WITH m AS (INSERT INTO shapes.msg (agent_id, direction, phone, body, metadata, decision)
                           VALUES (a, dir, ph, 'hi', md, 'rate_limited') RETURNING message_id),
                     s AS (INSERT INTO shapes.stripe AS z (agent_id, day, stripe, inbound, rate_limited)
                           VALUES (a, current_date, pg_backend_pid(), 1, 1)
                           ON CONFLICT (agent_id, day, stripe, category) WHERE stripe IS NOT NULL DO UPDATE SET
                               inbound = z.inbound + excluded.inbound,
                               rate_limited = z.rate_limited + excluded.rate_limited)
                SELECT m.message_id INTO mid FROM m;
            ELSE
                WITH m AS (INSERT INTO shapes.msg (agent_id, direction, phone, body, metadata, decision)
                           VALUES (a, dir, ph, 'hi', md, 'rate_limited') RETURNING message_id),
                     s AS (INSERT INTO shapes.delta (agent_id, day, inbound, rate_limited)
                           VALUES (a, current_date, 1, 1) RETURNING delta_id)
                SELECT m.message_id, (SELECT s.delta_id FROM s) INTO mid, did FROM m;
            END IF;
        ELSIF shape = 'striped' THEN
            WITH u AS (UPDATE shapes.conv SET message_count = message_count + 1,
                              inbound_count = inbound_count + i, outbound_count = outbound_count + o,
                              last_message_at = now(), updated_at = now()
                        WHERE agent_id = a AND conversation_id = c),
                 m AS (INSERT INTO shapes.msg (agent_id, conversation_id, direction, phone, body, metadata, decision)
                       VALUES (a, c, dir, ph, 'hi', md, 'accepted') RETURNING message_id),
                 s AS (INSERT INTO shapes.stripe AS z (agent_id, day, stripe, category, inbound, accepted, outbound,
                                                       ai_tasks, ai_tokens, ai_processing_ms_total,
                                                       ai_processing_count, ai_judged, ai_succeeded)
                       VALUES (a, current_date, pg_backend_pid(), md->>'category', i, i, o, t,
                               coalesce((md->>'tokens_used')::bigint, 0),
                               coalesce((md->>'processing_ms')::numeric, 0), t, t, t)
                       ON CONFLICT (agent_id, day, stripe, category) WHERE stripe IS NOT NULL DO UPDATE SET
                           inbound = z.inbound + excluded.inbound, accepted = z.accepted + excluded.accepted,
                           outbound = z.outbound + excluded.outbound, ai_tasks = z.ai_tasks + excluded.ai_tasks,
                           ai_tokens = z.ai_tokens + excluded.ai_tokens,
                           ai_processing_ms_total = z.ai_processing_ms_total + excluded.ai_processing_ms_total,
                           ai_processing_count = z.ai_processing_count + excluded.ai_processing_count,
                           ai_judged = z.ai_judged + excluded.ai_judged, ai_succeeded = z.ai_succeeded + excluded.ai_succeeded)
            SELECT m.message_id INTO mid FROM m;
        ELSIF shape = 'off' THEN
            WITH u AS (UPDATE shapes.conv SET message_count = message_count + 1,
                              inbound_count = inbound_count + i, outbound_count = outbound_count + o,
                              last_message_at = now(), updated_at = now()
                        WHERE agent_id = a AND conversation_id = c)
            INSERT INTO shapes.msg (agent_id, conversation_id, direction, phone, body, metadata, decision)
            VALUES (a, c, dir, ph, 'hi', md, 'accepted') RETURNING message_id INTO mid;
        ELSE
            WITH u AS (UPDATE shapes.conv SET message_count = message_count + 1,
                              inbound_count = inbound_count + i, outbound_count = outbound_count + o,
                              last_message_at = now(), updated_at = now()
                        WHERE agent_id = a AND conversation_id = c),
                 m AS (INSERT INTO shapes.msg (agent_id, conversation_id, direction, phone, body, metadata, decision)
                       VALUES (a, c, dir, ph, 'hi', md, 'accepted') RETURNING message_id),
                 s AS (INSERT INTO shapes.delta (agent_id, day, category, inbound, accepted, outbound, ai_tasks,
                                                 ai_tokens, ai_processing_ms_total, ai_processing_count,
                                                 ai_judged, ai_succeeded)
                       VALUES (a, current_date, md->>'category', i, i, o, t, coalesce((md->>'tokens_used')::bigint, 0),
                               coalesce((md->>'processing_ms')::numeric, 0), t, t, t) RETURNING delta_id)
            SELECT m.message_id, (SELECT s.delta_id FROM s) INTO mid, did FROM m;
        END IF;
        -- did: the staged row's id, set by 'staged' only (NULL here for 'off' and 'striped')
        IF did % 1024 = 0 AND pg_try_advisory_xact_lock(1398145877, hashtext(a::text)) THEN
            WITH x AS (DELETE FROM shapes.delta s WHERE s.agent_id = a RETURNING s.*)
            INSERT INTO shapes.daily AS d (agent_id, day, inbound, accepted, rate_limited, outbound, ai_tasks,
                                           ai_tokens, ai_processing_ms_total, ai_processing_count, ai_judged,
                                           ai_succeeded)
            SELECT a, x.day, sum(x.inbound), sum(x.accepted), sum(x.rate_limited), sum(x.outbound),
                   sum(x.ai_tasks), sum(x.ai_tokens), sum(x.ai_processing_ms_total), sum(x.ai_processing_count),
                   sum(x.ai_judged), sum(x.ai_succeeded)
              FROM x GROUP BY x.day
            ON CONFLICT (agent_id, day) DO UPDATE SET
                inbound = d.inbound + excluded.inbound, accepted = d.accepted + excluded.accepted,
                rate_limited = d.rate_limited + excluded.rate_limited, outbound = d.outbound + excluded.outbound,
                ai_tasks = d.ai_tasks + excluded.ai_tasks, ai_tokens = d.ai_tokens + excluded.ai_tokens,
                ai_processing_ms_total = d.ai_processing_ms_total + excluded.ai_processing_ms_total,
                ai_processing_count = d.ai_processing_count + excluded.ai_processing_count,
                ai_judged = d.ai_judged + excluded.ai_judged, ai_succeeded = d.ai_succeeded + excluded.ai_succeeded;
        END IF;
        RETURN mid;
    END IF;

    IF shape = 'one_statement' AND NOT written THEN
        WITH u AS (UPDATE shapes.conv_acc SET s_inbound = s_inbound + 1, s_rate_limited = s_rate_limited + 1
                    WHERE agent_id = a AND phone = ph AND s_day = current_date RETURNING agent_id)
        INSERT INTO shapes.msg (agent_id, direction, phone, body, metadata, decision)
        SELECT u.agent_id, dir, ph, 'hi', md, 'rate_limited' FROM u RETURNING message_id INTO mid;
        RETURN mid;
    ELSIF shape = 'one_statement' THEN
        WITH u AS (UPDATE shapes.conv_acc SET message_count = message_count + 1,
                          inbound_count = inbound_count + i, outbound_count = outbound_count + o,
                          last_message_at = now(), updated_at = now(),
                          s_inbound = s_inbound + i, s_accepted = s_accepted + i, s_outbound = s_outbound + o,
                          s_ai_tasks = s_ai_tasks + t,
                          s_ai_tokens = s_ai_tokens + coalesce((md->>'tokens_used')::bigint, 0),
                          s_ai_processing_ms_total = s_ai_processing_ms_total + coalesce((md->>'processing_ms')::numeric, 0),
                          s_ai_processing_count = s_ai_processing_count + t, s_ai_judged = s_ai_judged + t,
                          s_ai_succeeded = s_ai_succeeded + t
                    WHERE agent_id = a AND phone = ph AND s_day = current_date
                    RETURNING agent_id, conversation_id)
        INSERT INTO shapes.msg (agent_id, conversation_id, direction, phone, body, metadata, decision)
        SELECT u.agent_id, u.conversation_id, dir, ph, 'hi', md, 'accepted' FROM u RETURNING message_id INTO mid;
        RETURN mid;
    END IF;
    IF shape = 'counters_after_lock' THEN
        SELECT message_count INTO n FROM shapes.conv_acc WHERE agent_id = a AND phone = ph FOR UPDATE;
    END IF;
    IF NOT written THEN
        -- counters_after_lock: an UPDATE of its own; counters_in_lock: the lock
        UPDATE shapes.conv_acc SET s_inbound = s_inbound + 1, s_rate_limited = s_rate_limited + 1
         WHERE agent_id = a AND phone = ph AND s_day = current_date;
        INSERT INTO shapes.msg (agent_id, direction, phone, body, metadata, decision)
        VALUES (a, dir, ph, 'hi', md, 'rate_limited') RETURNING message_id INTO mid;
        RETURN mid;
    END IF;
    IF shape = 'counters_after_lock' THEN
        WITH u AS (UPDATE shapes.conv_acc SET message_count = message_count + 1,
                          inbound_count = inbound_count + i, outbound_count = outbound_count + o,
                          last_message_at = now(), updated_at = now(),
                          s_inbound = s_inbound + i, s_accepted = s_accepted + i, s_outbound = s_outbound + o,
                          s_ai_tasks = s_ai_tasks + t,
                          s_ai_tokens = s_ai_tokens + coalesce((md->>'tokens_used')::bigint, 0),
                          s_ai_processing_ms_total = s_ai_processing_ms_total + coalesce((md->>'processing_ms')::numeric, 0),
                          s_ai_processing_count = s_ai_processing_count + t, s_ai_judged = s_ai_judged + t,
                          s_ai_succeeded = s_ai_succeeded + t
                    WHERE agent_id = a AND conversation_id = c AND s_day = current_date)
        INSERT INTO shapes.msg (agent_id, conversation_id, direction, phone, body, metadata, decision)
        VALUES (a, c, dir, ph, 'hi', md, 'accepted') RETURNING message_id INTO mid;
        RETURN mid;
    END IF;
    UPDATE shapes.conv_acc SET message_count = message_count + 1,
           inbound_count = inbound_count + i, outbound_count = outbound_count + o,
           last_message_at = now(), updated_at = now(),
           s_inbound = s_inbound + i, s_accepted = s_accepted + i, s_outbound = s_outbound + o,
           s_ai_tasks = s_ai_tasks + t,
           s_ai_tokens = s_ai_tokens + coalesce((md->>'tokens_used')::bigint, 0),
           s_ai_processing_ms_total = s_ai_processing_ms_total + coalesce((md->>'processing_ms')::numeric, 0),
           s_ai_processing_count = s_ai_processing_count + t, s_ai_judged = s_ai_judged + t,
           s_ai_succeeded = s_ai_succeeded + t
     WHERE agent_id = a AND phone = ph AND s_day = current_date;
    INSERT INTO shapes.msg (agent_id, conversation_id, direction, phone, body, metadata, decision)
    VALUES (a, c, dir, ph, 'hi', md, 'accepted') RETURNING message_id INTO mid;
    RETURN mid;
END
$$;
