-- Agents, conversations, messages, calls ---------------------------------------
--
-- Every table carries agent_id, and every primary and unique key includes it,
-- so Citus can distribute them all by agent_id and co-locate an agent's rows.

-- Value rules of the columns every event writes are domains, not table CHECK
-- constraints (0.4.0): Postgres compiles a table's CHECK constraints again in
-- every statement that inserts or updates a row of it, even when the statement
-- leaves the checked column alone, while a domain's check is compiled once per
-- backend and runs only where a value is assigned to the column.  Measured on
-- record_inbound: the CHECKs of the tables it writes cost about a tenth of its
-- throughput.  A domain's check runs before BEFORE triggers, so columns that a
-- trigger normalizes (blocked_numbers.phone, contacts.phone,
-- phone_numbers.number) keep their table CHECK.
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

CREATE TABLE switchboard.agents (
    agent_id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id                uuid,
    display_name            text NOT NULL DEFAULT '',
    sms_enabled             boolean NOT NULL DEFAULT false,
    auto_respond            boolean NOT NULL DEFAULT true,
    welcome_message         text NOT NULL DEFAULT 'Hello! I''m an AI agent. How can I help you today?',
    session_timeout_minutes integer NOT NULL DEFAULT 30
                            CHECK (session_timeout_minutes BETWEEN 1 AND 1440),
    max_daily_conversations integer NOT NULL DEFAULT 50
                            CHECK (max_daily_conversations BETWEEN 1 AND 1000),
    rate_limit_per_hour     integer NOT NULL DEFAULT 10
                            CHECK (rate_limit_per_hour BETWEEN 1 AND 100),
    default_region          text NOT NULL DEFAULT 'US' CHECK (default_region ~ '^[A-Z]{2}$'),
    timezone                text NOT NULL DEFAULT 'UTC',
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    -- 0.2.0: the reply to an inbound message outside business hours (NULL: the welcome rule)
    after_hours_message     text,
    -- 0.5.0: whether the agent has business_hours or closed_dates rows, and
    -- tiers rows.  Derived, kept by the triggers of 050_routing.sql; the event
    -- path reads the schedule and the tiers only for an agent that has them.
    has_schedule            boolean NOT NULL DEFAULT false,
    has_tiers               boolean NOT NULL DEFAULT false
);
CREATE INDEX agents_owner_id_idx ON switchboard.agents (owner_id);
COMMENT ON TABLE switchboard.agents IS
    'an AI agent that talks to people over SMS and calls, with its limits and settings';

CREATE TABLE switchboard.blocked_numbers (
    agent_id   uuid NOT NULL REFERENCES switchboard.agents ON DELETE CASCADE,
    phone      text NOT NULL CHECK (switchboard.is_e164(phone)),
    reason     text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, phone)
);
COMMENT ON TABLE switchboard.blocked_numbers IS
    'numbers an agent refuses; stored in E.164, so any spelling of a number blocks it';

CREATE TABLE switchboard.conversations (
    agent_id         uuid NOT NULL REFERENCES switchboard.agents ON DELETE CASCADE,
    conversation_id  uuid NOT NULL DEFAULT gen_random_uuid(),
    phone            switchboard.e164 NOT NULL,
    session_id       uuid NOT NULL DEFAULT gen_random_uuid(),
    status           switchboard.conversation_status NOT NULL DEFAULT 'active',
    message_count    integer NOT NULL DEFAULT 0,
    inbound_count    integer NOT NULL DEFAULT 0,
    outbound_count   integer NOT NULL DEFAULT 0,
    first_message_at timestamptz,
    last_message_at  timestamptz,
    last_inbound_at  timestamptz,
    is_active        boolean NOT NULL DEFAULT true,
    -- the hourly limit's state: times of the accepted inbound messages of the
    -- last hour, oldest first, at most rate_limit_per_hour of them
    rate_window      timestamptz[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, conversation_id),
    UNIQUE (agent_id, phone)
) WITH (fillfactor = 80);  -- room on the page for the per-event update to stay HOT
COMMENT ON TABLE switchboard.conversations IS
    'one row per (agent, phone): the current session, counters and the hourly-limit state';

-- messages_tokens_used_check (0.10.0; 0.9.0 wrote the same rule as an
-- expression, which Postgres parsed and planned again in every statement that
-- stored a message: about a tenth of record_inbound's throughput)
CREATE FUNCTION switchboard.tokens_used_fits(metadata jsonb)
RETURNS boolean
AS 'MODULE_PATHNAME', 'tokens_used_fits'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION switchboard.tokens_used_fits(jsonb) IS
    'helper: true, or ERROR 22003 (bigint out of range) when metadata''s tokens_used is a number that does not round to a bigint (the analytics add it up as bigint)';

CREATE TABLE switchboard.messages (
    agent_id        uuid NOT NULL,
    message_id      bigint GENERATED ALWAYS AS IDENTITY,
    conversation_id uuid,
    session_id      uuid,
    direction       switchboard.message_direction NOT NULL,
    phone           text NOT NULL,
    body            text NOT NULL DEFAULT '',
    metadata        jsonb NOT NULL DEFAULT '{}',
    decision        switchboard.message_decision NOT NULL DEFAULT 'accepted',
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- 0.2.0: received outside the agent's business hours (business_hours, closed_dates)
    after_hours     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (agent_id, message_id),
    -- 0.9.0: the analytics add tokens_used up as bigint; a number beyond it
    -- fails here (22003, bigint out of range), as the message trigger made it
    -- fail up to 0.8.0, instead of failing every later fold of the agent
    CONSTRAINT messages_tokens_used_check CHECK (switchboard.tokens_used_fits(metadata))
);
-- message_id last: the analytics' probes for a conversation's previous message
-- (ORDER BY created_at, message_id LIMIT 1) read one index entry instead of the
-- conversation's history
CREATE INDEX messages_conversation_idx ON switchboard.messages (agent_id, conversation_id, created_at, message_id);
COMMENT ON TABLE switchboard.messages IS
    'every inbound and outbound message, rejected inbound ones too, with the decision taken';

CREATE TABLE switchboard.calls (
    agent_id         uuid NOT NULL REFERENCES switchboard.agents ON DELETE CASCADE,
    call_id          bigint GENERATED ALWAYS AS IDENTITY,
    call_sid         text NOT NULL,
    conversation_id  uuid,
    caller           text NOT NULL CHECK (switchboard.is_e164(caller)),
    status           text NOT NULL DEFAULT 'ringing'
                     CHECK (status IN ('ringing', 'in_progress', 'completed', 'failed',
                                       'busy', 'no_answer', 'canceled')),
    started_at       timestamptz NOT NULL DEFAULT now(),
    answered_at      timestamptz,
    ended_at         timestamptz,
    duration_seconds integer CHECK (duration_seconds >= 0),
    transcript       text,
    summary          text,
    metadata         jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- 0.2.0: the agent was closed when the call started (set when the row is first inserted)
    after_hours      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (agent_id, call_id),
    UNIQUE (agent_id, call_sid)
);
COMMENT ON TABLE switchboard.calls IS
    'voice calls by provider call_sid, with the status state machine enforced by a trigger';

-- internal: new conversations per agent and day (agent's timezone), for the daily limit
CREATE TABLE switchboard.agent_daily_counters (
    agent_id          uuid NOT NULL REFERENCES switchboard.agents ON DELETE CASCADE,
    day               date NOT NULL,
    new_conversations integer NOT NULL DEFAULT 0,
    PRIMARY KEY (agent_id, day)
);
COMMENT ON TABLE switchboard.agent_daily_counters IS
    'internal: new conversations per agent and day, the daily limit''s state';
