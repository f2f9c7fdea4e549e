-- Baselines for bench/events.bench.sh, on copies of the tables (no switchboard
-- triggers):
--   bench.naive_record_inbound: the seeds' decisions as one plpgsql function
--     (regex normalize, read settings, count recent rows in messages, count
--     today's conversations, upsert, insert, bump a daily row);
--   bench.floor_record_inbound: the two-row floor, a plain SQL function that
--     only upserts the conversation and inserts the message;
--   bench.shape_record_inbound: record_inbound's own two statements for an
--     accepted message (read and lock; bump, count the contact, insert) in
--     plpgsql, with the number passed already normalized and no decision
--     logic: what that shape of work costs at best with cached plans, and
--     bench.shape_no_contact_record_inbound the same without the contact's
--     row (two rows written instead of three).
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

CREATE TABLE bench.naive_conversations (LIKE switchboard.conversations INCLUDING ALL) WITH (fillfactor = 80);
CREATE INDEX ON bench.naive_conversations (agent_id, created_at);
CREATE TABLE bench.naive_messages (LIKE switchboard.messages INCLUDING ALL);
CREATE INDEX ON bench.naive_messages (agent_id, phone, created_at);
CREATE TABLE bench.naive_blocked (LIKE switchboard.blocked_numbers INCLUDING ALL);
CREATE TABLE bench.naive_daily_stats (
    agent_id uuid NOT NULL, day date NOT NULL, messages integer NOT NULL DEFAULT 0,
    PRIMARY KEY (agent_id, day));

CREATE TABLE bench.floor_conversations (LIKE switchboard.conversations INCLUDING ALL) WITH (fillfactor = 80);
CREATE TABLE bench.floor_messages (LIKE switchboard.messages INCLUDING ALL);

CREATE TABLE bench.shape_conversations (LIKE switchboard.conversations INCLUDING ALL) WITH (fillfactor = 80);
CREATE TABLE bench.shape_messages (LIKE switchboard.messages INCLUDING ALL);
CREATE TABLE bench.shape_contacts (LIKE switchboard.contacts INCLUDING ALL) WITH (fillfactor = 80);

CREATE FUNCTION bench.naive_record_inbound(p_agent uuid, p_from text, p_body text,
                                           p_metadata jsonb DEFAULT '{}')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    a switchboard.agents%ROWTYPE;
    v_phone text;
    v_recent integer;
    v_today integer;
    v_conv uuid;
    v_session uuid;
    v_last timestamptz;
BEGIN
    SELECT * INTO a FROM switchboard.agents WHERE agent_id = p_agent;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'agent "%" does not exist', p_agent USING ERRCODE = 'P0002';
    END IF;
    v_phone := regexp_replace(p_from, '[^0-9]', '', 'g');
    IF length(v_phone) = 10 THEN
        v_phone := '1' || v_phone;
    END IF;
    v_phone := '+' || v_phone;
    IF v_phone !~ '^\+[1-9][0-9]{7,14}$' THEN
        RAISE EXCEPTION 'invalid phone number "%"', p_from USING ERRCODE = '22023';
    END IF;
    IF NOT a.sms_enabled THEN
        INSERT INTO bench.naive_messages (agent_id, direction, phone, body, metadata, decision)
        VALUES (p_agent, 'inbound', v_phone, p_body, p_metadata, 'disabled');
        RETURN 'disabled';
    END IF;
    IF EXISTS (SELECT 1 FROM bench.naive_blocked WHERE agent_id = p_agent AND phone = v_phone) THEN
        INSERT INTO bench.naive_messages (agent_id, direction, phone, body, metadata, decision)
        VALUES (p_agent, 'inbound', v_phone, p_body, p_metadata, 'blocked');
        RETURN 'blocked';
    END IF;
    SELECT count(*) INTO v_recent FROM bench.naive_messages
     WHERE agent_id = p_agent AND phone = v_phone AND created_at > now() - interval '1 hour'
       AND direction = 'inbound' AND decision = 'accepted';
    IF v_recent >= a.rate_limit_per_hour THEN
        INSERT INTO bench.naive_messages (agent_id, direction, phone, body, metadata, decision)
        VALUES (p_agent, 'inbound', v_phone, p_body, p_metadata, 'rate_limited');
        RETURN 'rate_limited';
    END IF;
    SELECT conversation_id, session_id, last_message_at INTO v_conv, v_session, v_last
      FROM bench.naive_conversations WHERE agent_id = p_agent AND phone = v_phone;
    IF NOT FOUND THEN
        SELECT count(*) INTO v_today FROM bench.naive_conversations
         WHERE agent_id = p_agent
           AND created_at >= (date_trunc('day', now() AT TIME ZONE a.timezone) AT TIME ZONE a.timezone);
        IF v_today >= a.max_daily_conversations THEN
            INSERT INTO bench.naive_messages (agent_id, direction, phone, body, metadata, decision)
            VALUES (p_agent, 'inbound', v_phone, p_body, p_metadata, 'daily_limit');
            RETURN 'daily_limit';
        END IF;
    END IF;
    IF v_last IS NOT NULL AND v_last < now() - make_interval(mins => a.session_timeout_minutes) THEN
        v_session := gen_random_uuid();
    END IF;
    INSERT INTO bench.naive_conversations AS c (agent_id, phone, message_count, inbound_count,
                                                first_message_at, last_message_at, last_inbound_at)
    VALUES (p_agent, v_phone, 1, 1, now(), now(), now())
    ON CONFLICT (agent_id, phone) DO UPDATE
       SET message_count = c.message_count + 1, inbound_count = c.inbound_count + 1,
           session_id = coalesce(v_session, c.session_id),
           last_message_at = now(), last_inbound_at = now(), updated_at = now()
    RETURNING conversation_id, session_id INTO v_conv, v_session;
    INSERT INTO bench.naive_messages (agent_id, conversation_id, session_id, direction, phone, body, metadata)
    VALUES (p_agent, v_conv, v_session, 'inbound', v_phone, p_body, p_metadata);
    INSERT INTO bench.naive_daily_stats AS d (agent_id, day, messages) VALUES (p_agent, current_date, 1)
    ON CONFLICT (agent_id, day) DO UPDATE SET messages = d.messages + 1;
    RETURN 'accepted';
END
$$;

CREATE FUNCTION bench.floor_record_inbound(p_agent uuid, p_phone text, p_body text,
                                           p_metadata jsonb DEFAULT '{}')
RETURNS bigint LANGUAGE sql AS $$
    WITH c AS (
        INSERT INTO bench.floor_conversations AS c (agent_id, phone, message_count, inbound_count,
                                                    first_message_at, last_message_at, last_inbound_at)
        VALUES (p_agent, p_phone, 1, 1, now(), now(), now())
        ON CONFLICT (agent_id, phone) DO UPDATE
           SET message_count = c.message_count + 1, inbound_count = c.inbound_count + 1,
               last_message_at = now(), last_inbound_at = now(), updated_at = now()
        RETURNING conversation_id, session_id)
    INSERT INTO bench.floor_messages (agent_id, conversation_id, session_id, direction, phone, body, metadata)
    SELECT p_agent, conversation_id, session_id, 'inbound', p_phone, p_body, p_metadata FROM c
    RETURNING message_id
$$;

-- The floor again in plpgsql: its statement plan is cached per backend, where a
-- LANGUAGE sql function that cannot be inlined is planned on every call.
CREATE FUNCTION bench.floor_plpgsql_record_inbound(p_agent uuid, p_phone text, p_body text,
                                                   p_metadata jsonb DEFAULT '{}')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    WITH c AS (
        INSERT INTO bench.floor_conversations AS c (agent_id, phone, message_count, inbound_count,
                                                    first_message_at, last_message_at, last_inbound_at)
        VALUES (p_agent, p_phone, 1, 1, now(), now(), now())
        ON CONFLICT (agent_id, phone) DO UPDATE
           SET message_count = c.message_count + 1, inbound_count = c.inbound_count + 1,
               last_message_at = now(), last_inbound_at = now(), updated_at = now()
        RETURNING conversation_id, session_id)
    INSERT INTO bench.floor_messages (agent_id, conversation_id, session_id, direction, phone, body, metadata)
    SELECT p_agent, conversation_id, session_id, 'inbound', p_phone, p_body, p_metadata FROM c
    RETURNING message_id INTO v_id;
    RETURN v_id;
END
$$;

-- record_inbound declared with SET search_path, to measure what the clause
-- costs against schema-qualified query text (the shipped declaration).
CREATE FUNCTION bench.record_inbound_search_path(
    agent_id uuid, from_phone text, body text, metadata jsonb DEFAULT '{}', at timestamptz DEFAULT now())
RETURNS TABLE (decision text, conversation_id uuid, session_id uuid, message_id bigint,
               is_new_conversation boolean, is_new_session boolean, reply text,
               retry_after interval, remaining integer)
AS '$libdir/switchboard', 'record_inbound'
LANGUAGE C VOLATILE ROWS 1
SET search_path = pg_catalog, pg_temp;

-- record_inbound's statements for an accepted inbound message on an open
-- conversation whose contact exists (the steady state of BENCH=events), as
-- plpgsql with cached plans: statement 1 reads the agent, the blocklist, the
-- conversation (locked) and the contact; statement 2 bumps the conversation,
-- counts the contact and stores the message.  No normalization (the number is
-- passed in E.164), no decision, no hourly log arithmetic: a ceiling for a
-- path that does this work in two SPI statements.
CREATE FUNCTION bench.shape_record_inbound(p_agent uuid, p_phone text, p_body text,
                                           p_metadata jsonb DEFAULT '{}')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    r record;
    v_id bigint;
BEGIN
    SELECT a.sms_enabled, a.rate_limit_per_hour, a.max_daily_conversations, a.timezone,
           a.session_timeout_minutes, a.default_region,
           EXISTS (SELECT FROM bench.naive_blocked b WHERE b.agent_id = a.agent_id AND b.phone = p_phone) AS blocked,
           c.conversation_id, c.session_id, c.last_message_at, c.rate_window,
           k.tier, k.monthly_requests, k.requests_month
      INTO r
      FROM switchboard.agents a
      LEFT JOIN LATERAL (SELECT conversation_id, session_id, last_message_at, rate_window
                           FROM bench.shape_conversations
                          WHERE agent_id = a.agent_id AND phone = p_phone FOR UPDATE) c ON true
      LEFT JOIN LATERAL (SELECT tier, monthly_requests, requests_month FROM bench.shape_contacts
                          WHERE agent_id = a.agent_id AND phone = p_phone) k ON true
     WHERE a.agent_id = p_agent;
    WITH bump AS (
        UPDATE bench.shape_conversations
           SET message_count = message_count + 1, inbound_count = inbound_count + 1,
               first_message_at = least(first_message_at, now()),
               last_message_at = greatest(last_message_at, now()),
               last_inbound_at = greatest(last_inbound_at, now()),
               rate_window = ARRAY[now()], is_active = true, updated_at = now()
         WHERE agent_id = p_agent AND conversation_id = r.conversation_id),
    contact AS (
        UPDATE bench.shape_contacts k
           SET total_requests = k.total_requests + 1, monthly_requests = k.monthly_requests + 1,
               requests_month = greatest(k.requests_month, date_trunc('month', now())::date),
               last_active_at = greatest(k.last_active_at, now()), updated_at = now()
         WHERE k.agent_id = p_agent AND k.phone = p_phone)
    INSERT INTO bench.shape_messages (agent_id, conversation_id, session_id, direction, phone, body,
                                      metadata, decision, created_at)
    VALUES (p_agent, r.conversation_id, r.session_id, 'inbound', p_phone, p_body, p_metadata, 'accepted', now())
    RETURNING message_id INTO v_id;
    RETURN v_id;
END
$$;

-- The same without the contact: no contact probe, no contact row written.
CREATE FUNCTION bench.shape_no_contact_record_inbound(p_agent uuid, p_phone text, p_body text,
                                                      p_metadata jsonb DEFAULT '{}')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    r record;
    v_id bigint;
BEGIN
    SELECT a.sms_enabled, a.rate_limit_per_hour, a.max_daily_conversations, a.timezone,
           a.session_timeout_minutes, a.default_region,
           EXISTS (SELECT FROM bench.naive_blocked b WHERE b.agent_id = a.agent_id AND b.phone = p_phone) AS blocked,
           c.conversation_id, c.session_id, c.last_message_at, c.rate_window
      INTO r
      FROM switchboard.agents a
      LEFT JOIN LATERAL (SELECT conversation_id, session_id, last_message_at, rate_window
                           FROM bench.shape_conversations
                          WHERE agent_id = a.agent_id AND phone = p_phone FOR UPDATE) c ON true
     WHERE a.agent_id = p_agent;
    WITH bump AS (
        UPDATE bench.shape_conversations
           SET message_count = message_count + 1, inbound_count = inbound_count + 1,
               first_message_at = least(first_message_at, now()),
               last_message_at = greatest(last_message_at, now()),
               last_inbound_at = greatest(last_inbound_at, now()),
               rate_window = ARRAY[now()], is_active = true, updated_at = now()
         WHERE agent_id = p_agent AND conversation_id = r.conversation_id)
    INSERT INTO bench.shape_messages (agent_id, conversation_id, session_id, direction, phone, body,
                                      metadata, decision, created_at)
    VALUES (p_agent, r.conversation_id, r.session_id, 'inbound', p_phone, p_body, p_metadata, 'accepted', now())
    RETURNING message_id INTO v_id;
    RETURN v_id;
END
$$;
