-- switchboard 0.9.0 -> 0.10.0.  The Makefile builds
-- extension/switchboard--0.9.0--0.10.0.sql from this file followed by
-- extension/sql/099_secure_tables.sql (row-level security, policies, dump
-- registration and grants for whatever this file adds).
--
-- Rules for this file (test/scripts/upgrade.sh checks the result): after
-- ALTER EXTENSION switchboard UPDATE, every object must be exactly what a fresh
-- CREATE EXTENSION switchboard of 0.10.0 makes (same columns in the same order,
-- same function definitions, comments, policies, grants), and no row is lost.
--
-- 0.10.0: the CHECKs the event path pays for in every statement become calls
-- of C functions (Postgres parses and plans a table's CHECK expressions again
-- for each statement that writes a row of it), the same rules; the fold probes
-- a batch's new phones and first messages once (stats_message_news), without
-- sorting the batch, and stats_is_task is a C function.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION switchboard UPDATE TO '0.10.0'" to load this file. \quit

CREATE FUNCTION switchboard.is_e164(text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'is_e164'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION switchboard.is_e164(text) IS
    'whether the text is in the E.164 form normalize_phone returns (+, then 3 to 20 digits, the first not 0), as the e164 domain checks; the form only, phone_is_valid checks the number';

CREATE FUNCTION switchboard.tokens_used_fits(metadata jsonb)
RETURNS boolean
AS 'MODULE_PATHNAME', 'tokens_used_fits'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION switchboard.tokens_used_fits(jsonb) IS
    'helper: true, or ERROR 22003 (bigint out of range) when metadata''s tokens_used is a number that does not round to a bigint (the analytics add it up as bigint)';

-- Each table is checked again under the new rule (one scan each, messages the
-- long one); the rules are the same, so no stored row fails.
ALTER TABLE switchboard.blocked_numbers DROP CONSTRAINT blocked_numbers_phone_check,
    ADD CONSTRAINT blocked_numbers_phone_check CHECK (switchboard.is_e164(phone));
ALTER TABLE switchboard.calls DROP CONSTRAINT calls_caller_check,
    ADD CONSTRAINT calls_caller_check CHECK (switchboard.is_e164(caller));
ALTER TABLE switchboard.phone_numbers DROP CONSTRAINT phone_numbers_number_check,
    ADD CONSTRAINT phone_numbers_number_check CHECK (switchboard.is_e164(number));
ALTER TABLE switchboard.contacts DROP CONSTRAINT contacts_phone_check,
    ADD CONSTRAINT contacts_phone_check CHECK (switchboard.is_e164(phone));
ALTER TABLE switchboard.messages DROP CONSTRAINT messages_tokens_used_check,
    ADD CONSTRAINT messages_tokens_used_check CHECK (switchboard.tokens_used_fits(metadata));

-- The fold: the batch's news (phones not seen on their day, new or earlier
-- first messages) computed once, without sorting the batch, counted by the
-- deltas and written by the fold; stats_is_task in C (CREATE OR REPLACE: its
-- comment and grants stay, its SET search_path goes with the SQL body).
CREATE OR REPLACE FUNCTION switchboard.stats_is_task(metadata jsonb) RETURNS boolean
AS 'MODULE_PATHNAME', 'stats_is_task'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

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
    SET enable_hashjoin = off SET enable_mergejoin = off AS $fn$
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

-- stats_message_deltas gains a parameter: the 3-argument form goes first (a
-- call with three arguments would match both).
DROP FUNCTION switchboard.stats_message_deltas(uuid, bigint, bigint);
CREATE FUNCTION switchboard.stats_message_deltas(a uuid, lo bigint, hi bigint,
                                                 news switchboard.stats_news[] DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION switchboard.stats_fold_messages(a uuid, hi bigint, OUT messages bigint, OUT staged bigint)
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
