-- The event path: record_inbound, record_outbound, check_rate_limit,
-- upsert_conversation, and the triggers that keep agents, blocked numbers and
-- conversations consistent.  All are C functions running SPI with plans
-- prepared once per backend; their query text schema-qualifies every name and
-- operator, so they carry no SET search_path (it would save and restore a GUC
-- on every call).

CREATE FUNCTION switchboard.record_inbound(
    agent_id uuid, from_phone text, body text, metadata jsonb DEFAULT '{}',
    at timestamptz DEFAULT now())
RETURNS TABLE (decision text, conversation_id uuid, session_id uuid, message_id bigint,
               is_new_conversation boolean, is_new_session boolean, reply text,
               retry_after interval, remaining integer, after_hours boolean, quota_remaining integer)
AS 'MODULE_PATHNAME', 'record_inbound'
LANGUAGE C VOLATILE ROWS 1;
COMMENT ON FUNCTION switchboard.record_inbound(uuid, text, text, jsonb, timestamptz) IS
    'one inbound SMS in one call: normalize, enabled, blocked, monthly quota, hourly limit, daily limit, upsert the conversation, count for the contact, store the message (rejected ones too) with after_hours';

CREATE FUNCTION switchboard.record_outbound(
    agent_id uuid, conversation_id uuid, body text, metadata jsonb DEFAULT '{}',
    at timestamptz DEFAULT now())
RETURNS bigint
AS 'MODULE_PATHNAME', 'record_outbound'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION switchboard.record_outbound(uuid, uuid, text, jsonb, timestamptz) IS
    'stores an outbound message of a conversation and bumps it; returns the message id';

CREATE FUNCTION switchboard.check_rate_limit(agent_id uuid, phone text, at timestamptz DEFAULT now())
RETURNS TABLE (decision text, retry_after interval, remaining integer)
AS 'MODULE_PATHNAME', 'check_rate_limit'
LANGUAGE C STABLE ROWS 1;
COMMENT ON FUNCTION switchboard.check_rate_limit(uuid, text, timestamptz) IS
    'the decision record_inbound would take now for this number, recording nothing';

CREATE FUNCTION switchboard.upsert_conversation(agent_id uuid, phone text, at timestamptz DEFAULT now())
RETURNS TABLE (conversation_id uuid, session_id uuid, is_new_conversation boolean,
               is_new_session boolean)
AS 'MODULE_PATHNAME', 'upsert_conversation'
LANGUAGE C VOLATILE ROWS 1;
COMMENT ON FUNCTION switchboard.upsert_conversation(uuid, text, timestamptz) IS
    'opens or continues the conversation of (agent, phone), rolling the session over after the timeout, for callers that store messages themselves';

-- Triggers -------------------------------------------------------------------

CREATE FUNCTION switchboard.agents_validate() RETURNS trigger
AS 'MODULE_PATHNAME', 'agents_validate'
LANGUAGE C;
COMMENT ON FUNCTION switchboard.agents_validate() IS
    'internal trigger: default_region must be a region libphonenumber knows (upper-cased), timezone an IANA name';
CREATE TRIGGER agents_validate BEFORE INSERT OR UPDATE OF default_region, timezone
    ON switchboard.agents FOR EACH ROW EXECUTE FUNCTION switchboard.agents_validate();
COMMENT ON TRIGGER agents_validate ON switchboard.agents IS
    'default_region must be known to libphonenumber, timezone an IANA name (22023)';

CREATE FUNCTION switchboard.blocked_numbers_normalize() RETURNS trigger
AS 'MODULE_PATHNAME', 'blocked_numbers_normalize'
LANGUAGE C;
COMMENT ON FUNCTION switchboard.blocked_numbers_normalize() IS
    'internal trigger: stores a blocked number in E.164, read with the agent''s default_region';
CREATE TRIGGER blocked_numbers_normalize BEFORE INSERT OR UPDATE OF agent_id, phone
    ON switchboard.blocked_numbers FOR EACH ROW EXECUTE FUNCTION switchboard.blocked_numbers_normalize();
COMMENT ON TRIGGER blocked_numbers_normalize ON switchboard.blocked_numbers IS
    'stores the number in E.164 (any spelling, the agent''s default_region; 22023 on a bad number)';

CREATE FUNCTION switchboard.messages_bump_conversation() RETURNS trigger
AS 'MODULE_PATHNAME', 'messages_bump_conversation'
LANGUAGE C;
COMMENT ON FUNCTION switchboard.messages_bump_conversation() IS
    'internal trigger: a message inserted directly bumps its conversation as record_inbound/record_outbound do';
CREATE TRIGGER messages_bump_conversation BEFORE INSERT
    ON switchboard.messages FOR EACH ROW EXECUTE FUNCTION switchboard.messages_bump_conversation();
COMMENT ON TRIGGER messages_bump_conversation ON switchboard.messages IS
    'a message inserted directly bumps its conversation as record_inbound/record_outbound do';
