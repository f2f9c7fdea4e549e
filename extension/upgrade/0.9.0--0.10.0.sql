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
-- for each statement that writes a row of it), the same rules.
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
