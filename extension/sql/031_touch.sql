-- updated_at ------------------------------------------------------------------

CREATE FUNCTION switchboard.touch_updated_at()
RETURNS trigger
AS 'MODULE_PATHNAME', 'touch_updated_at'
LANGUAGE C;
COMMENT ON FUNCTION switchboard.touch_updated_at() IS
    'trigger for any table: BEFORE UPDATE FOR EACH ROW, sets updated_at (or the column named as the argument) to now() unless the UPDATE set it to another value';

CREATE TRIGGER agents_touch_updated_at
    BEFORE UPDATE ON switchboard.agents
    FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
COMMENT ON TRIGGER agents_touch_updated_at ON switchboard.agents IS 'keeps updated_at current';

CREATE TRIGGER conversations_touch_updated_at
    BEFORE UPDATE ON switchboard.conversations
    FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
COMMENT ON TRIGGER conversations_touch_updated_at ON switchboard.conversations IS 'keeps updated_at current';

CREATE TRIGGER calls_touch_updated_at
    BEFORE UPDATE ON switchboard.calls
    FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
COMMENT ON TRIGGER calls_touch_updated_at ON switchboard.calls IS 'keeps updated_at current';
