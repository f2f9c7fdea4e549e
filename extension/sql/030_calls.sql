-- Voice calls ---------------------------------------------------------------------
--
-- record_call and the trigger are C functions that schema-qualify every name
-- and operator in their SQL (or run none), so they carry no SET search_path:
-- the clause would save and restore a GUC on every call.

CREATE FUNCTION switchboard.record_call(
    agent_id uuid, call_sid text, caller text, status text, at timestamptz DEFAULT now(),
    duration_seconds integer DEFAULT NULL, metadata jsonb DEFAULT '{}')
RETURNS TABLE (call_id bigint, conversation_id uuid, status text, is_new_call boolean)
AS 'MODULE_PATHNAME', 'record_call'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION switchboard.record_call(uuid, text, text, text, timestamptz, integer, jsonb) IS
    'records a provider call event: upserts the call by (agent_id, call_sid) along the status state machine and links the caller''s conversation';

CREATE FUNCTION switchboard.enforce_call_status()
RETURNS trigger
AS 'MODULE_PATHNAME', 'enforce_call_status'
LANGUAGE C;
COMMENT ON FUNCTION switchboard.enforce_call_status() IS
    'trigger: the call-status state machine (ERROR 23514 on an illegal transition); derives answered_at, ended_at, duration_seconds when missing';

CREATE TRIGGER calls_status
    BEFORE INSERT OR UPDATE ON switchboard.calls
    FOR EACH ROW EXECUTE FUNCTION switchboard.enforce_call_status();
COMMENT ON TRIGGER calls_status ON switchboard.calls IS
    'enforces the call-status state machine and derives the call times';
