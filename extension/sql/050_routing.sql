-- Routing by dialed number, business hours, tiered monthly quotas (0.2.0) -----
--
-- phone_numbers is keyed by the number alone: a number routes to one agent, so
-- it cannot be distributed by agent_id; in Citus it is a reference table (small,
-- read on every routed event, replicated to every node).  It still carries
-- agent_id, so the owner policy of 099_secure_tables.sql applies to it.
-- The other tables follow the agent_id rule.

CREATE TABLE switchboard.phone_numbers (
    number        text PRIMARY KEY CHECK (switchboard.is_e164(number)),
    agent_id      uuid NOT NULL REFERENCES switchboard.agents ON DELETE CASCADE,
    friendly_name text,
    kind          text NOT NULL DEFAULT 'both' CHECK (kind IN ('sms', 'voice', 'both')),
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX phone_numbers_agent_id_idx ON switchboard.phone_numbers (agent_id);
COMMENT ON TABLE switchboard.phone_numbers IS
    'the numbers provisioned for agents: a dialed number routes to one agent (keyed by the number alone, a Citus reference table)';

-- day_of_week as extract(dow): 0 = Sunday.  An interval whose close_time is
-- earlier than its open_time runs overnight into the next day; close_time
-- 24:00 closes at midnight.  A row with is_closed = true opens nothing.
CREATE TABLE switchboard.business_hours (
    agent_id    uuid NOT NULL REFERENCES switchboard.agents ON DELETE CASCADE,
    hours_id    bigint GENERATED ALWAYS AS IDENTITY,
    day_of_week smallint NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),
    open_time   time,
    close_time  time,
    is_closed   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (agent_id, hours_id),
    CONSTRAINT business_hours_interval_check
        CHECK (is_closed OR (open_time IS NOT NULL AND close_time IS NOT NULL AND open_time <> close_time))
);
CREATE INDEX business_hours_day_idx ON switchboard.business_hours (agent_id, day_of_week);
COMMENT ON TABLE switchboard.business_hours IS
    'opening intervals per weekday (0 = Sunday) in the agent''s timezone, several a day, overnight when close_time < open_time; an agent without rows is always open';

CREATE TABLE switchboard.closed_dates (
    agent_id   uuid NOT NULL REFERENCES switchboard.agents ON DELETE CASCADE,
    day        date NOT NULL,
    reason     text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, day)
);
COMMENT ON TABLE switchboard.closed_dates IS
    'days (the agent''s timezone) the agent is closed, e.g. holidays: the intervals starting that day do not open';

-- a domain, not a CHECK: contacts.tier is on the row every accepted message
-- updates (see 020_tables.sql)
CREATE DOMAIN switchboard.tier_name AS text
    CHECK (VALUE ~ '^[a-z0-9][a-z0-9_-]{0,39}$');
COMMENT ON DOMAIN switchboard.tier_name IS
    'a tier''s name: lower-case letters, digits, _ and -, up to 40, starting with a letter or digit';

CREATE TABLE switchboard.tiers (
    agent_id      uuid NOT NULL REFERENCES switchboard.agents ON DELETE CASCADE,
    tier          switchboard.tier_name NOT NULL,
    monthly_limit integer NOT NULL CHECK (monthly_limit >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, tier)
);
COMMENT ON TABLE switchboard.tiers IS
    'accepted inbound messages a contact of a tier may send per calendar month (agent''s timezone); a tier without a row is unlimited';

CREATE TABLE switchboard.contacts (
    agent_id         uuid NOT NULL REFERENCES switchboard.agents ON DELETE CASCADE,
    phone            text NOT NULL CHECK (switchboard.is_e164(phone)),
    tier             switchboard.tier_name NOT NULL DEFAULT 'free',
    display_name     text,
    total_requests   bigint NOT NULL DEFAULT 0,
    monthly_requests integer NOT NULL DEFAULT 0,
    -- the month monthly_requests counts (its first day, agent's timezone): a
    -- message of a later month starts the count again, no job resets it
    requests_month   date,
    last_active_at   timestamptz,
    preferences      jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, phone)
) WITH (fillfactor = 80);  -- the per-message counter update stays HOT
COMMENT ON TABLE switchboard.contacts IS
    'one row per person who talks to an agent (created by the first accepted message or set_contact_tier): tier and request counters';

CREATE FUNCTION switchboard.phone_column_normalize() RETURNS trigger
AS 'MODULE_PATHNAME', 'phone_column_normalize'
LANGUAGE C;
COMMENT ON FUNCTION switchboard.phone_column_normalize() IS
    'internal trigger: stores the column named by its argument in E.164, read with the agent''s default_region';
CREATE TRIGGER phone_numbers_normalize BEFORE INSERT OR UPDATE OF agent_id, number
    ON switchboard.phone_numbers FOR EACH ROW EXECUTE FUNCTION switchboard.phone_column_normalize('number');
COMMENT ON TRIGGER phone_numbers_normalize ON switchboard.phone_numbers IS
    'stores the number in E.164 (any spelling, the agent''s default_region; 22023 on a bad number)';
CREATE TRIGGER contacts_normalize BEFORE INSERT OR UPDATE OF agent_id, phone
    ON switchboard.contacts FOR EACH ROW EXECUTE FUNCTION switchboard.phone_column_normalize('phone');
COMMENT ON TRIGGER contacts_normalize ON switchboard.contacts IS
    'stores the phone in E.164 (any spelling, the agent''s default_region; 22023 on a bad number)';

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

-- Functions -------------------------------------------------------------------

CREATE FUNCTION switchboard.route_inbound(
    to_phone text, from_phone text, body text, metadata jsonb DEFAULT '{}',
    at timestamptz DEFAULT now())
RETURNS TABLE (decision text, conversation_id uuid, session_id uuid, message_id bigint,
               is_new_conversation boolean, is_new_session boolean, reply text,
               retry_after interval, remaining integer, after_hours boolean,
               quota_remaining integer, agent_id uuid)
AS 'MODULE_PATHNAME', 'route_inbound'
LANGUAGE C VOLATILE ROWS 1;
COMMENT ON FUNCTION switchboard.route_inbound(text, text, text, jsonb, timestamptz) IS
    'one inbound SMS routed by the dialed number (an active sms or both number, else P0002): record_inbound for its agent, plus agent_id';

CREATE FUNCTION switchboard.route_call(
    to_phone text, call_sid text, from_phone text, status text, at timestamptz DEFAULT now(),
    duration_seconds integer DEFAULT NULL, metadata jsonb DEFAULT '{}')
RETURNS TABLE (call_id bigint, conversation_id uuid, status text, is_new_call boolean,
               agent_id uuid, after_hours boolean)
AS 'MODULE_PATHNAME', 'route_call'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION switchboard.route_call(text, text, text, text, timestamptz, integer, jsonb) IS
    'a provider call event routed by the dialed number (an active voice or both number, else P0002): record_call for its agent, plus agent_id and after_hours';

CREATE FUNCTION switchboard.is_open(agent_id uuid, at timestamptz DEFAULT now())
RETURNS boolean
AS 'MODULE_PATHNAME', 'is_open'
LANGUAGE C STABLE;
COMMENT ON FUNCTION switchboard.is_open(uuid, timestamptz) IS
    'whether the agent is open at `at` by its business_hours and closed_dates (agent''s timezone); always open without hours';

CREATE FUNCTION switchboard.set_contact_tier(agent_id uuid, phone text, tier text)
RETURNS switchboard.contacts
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    region text;
    e164 text;
    t text := lower(btrim(tier));
    result switchboard.contacts;
BEGIN
    IF agent_id IS NULL OR phone IS NULL OR tier IS NULL THEN
        RAISE EXCEPTION 'set_contact_tier: arguments must not be null' USING ERRCODE = '22004';
    END IF;
    SELECT a.default_region INTO region FROM switchboard.agents a
     WHERE a.agent_id OPERATOR(pg_catalog.=) set_contact_tier.agent_id;
    IF NOT FOUND THEN
        PERFORM switchboard.agent_not_found(set_contact_tier.agent_id);
    END IF;
    IF t !~ '^[a-z0-9][a-z0-9_-]{0,39}$' THEN
        RAISE EXCEPTION 'invalid tier "%"', pg_catalog.left(tier, 100) USING ERRCODE = '22023',
            DETAIL = 'A tier is 1 to 40 lower-case letters, digits, _ or -, starting with a letter or digit.';
    END IF;
    e164 := switchboard.normalize_phone(phone, region);
    INSERT INTO switchboard.contacts AS k (agent_id, phone, tier)
    VALUES (set_contact_tier.agent_id, e164, t)
    ON CONFLICT ON CONSTRAINT contacts_pkey
    DO UPDATE SET tier = excluded.tier, updated_at = pg_catalog.now()
    RETURNING k.* INTO result;
    RETURN result;
END
$$;
COMMENT ON FUNCTION switchboard.set_contact_tier(uuid, text, text) IS
    'sets the tier of the agent''s contact (any spelling of the phone, tier case-insensitive), creating the contact; returns it';
