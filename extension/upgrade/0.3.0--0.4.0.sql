-- switchboard 0.3.0 -> 0.4.0.  The Makefile builds
-- extension/switchboard--0.3.0--0.4.0.sql from this file followed by
-- extension/sql/099_secure_tables.sql (row-level security, policies, dump
-- registration and grants for whatever this file adds).
--
-- Rules for this file (test/scripts/upgrade.sh checks the result): after
-- ALTER EXTENSION switchboard UPDATE, every object must be exactly what a fresh
-- CREATE EXTENSION switchboard of 0.4.0 makes (same columns in the same order,
-- same function definitions, comments, policies, grants), and no row is lost.
-- New columns therefore go at the end of their table in extension/sql/ too.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION switchboard UPDATE TO '0.4.0'" to load this file. \quit

-- The value rules of the columns every event writes become domains instead of
-- table CHECK constraints (why: extension/sql/020_tables.sql).  Same values
-- allowed, same SQLSTATE (23514) for one that is not.  Changing a column's type
-- to a domain with a check rewrites the table (each row is checked again):
-- messages, conversations, contacts, tiers and stats_seen are rewritten once,
-- under an ACCESS EXCLUSIVE lock, by this update.  Defaults are dropped and set
-- again so that they read as a fresh install's.
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

CREATE DOMAIN switchboard.stats_seen_kind AS text
    CHECK (VALUE IN ('phone', 'caller'));
COMMENT ON DOMAIN switchboard.stats_seen_kind IS
    'internal: what a stats_seen row counts: an inbound message''s phone or a call''s caller';

CREATE DOMAIN switchboard.tier_name AS text
    CHECK (VALUE ~ '^[a-z0-9][a-z0-9_-]{0,39}$');
COMMENT ON DOMAIN switchboard.tier_name IS
    'a tier''s name: lower-case letters, digits, _ and -, up to 40, starting with a letter or digit';

ALTER TABLE switchboard.conversations
    DROP CONSTRAINT conversations_phone_check,
    DROP CONSTRAINT conversations_status_check,
    ALTER COLUMN status DROP DEFAULT,
    ALTER COLUMN phone TYPE switchboard.e164,
    ALTER COLUMN status TYPE switchboard.conversation_status,
    ALTER COLUMN status SET DEFAULT 'active';

ALTER TABLE switchboard.messages
    DROP CONSTRAINT messages_direction_check,
    DROP CONSTRAINT messages_decision_check,
    ALTER COLUMN decision DROP DEFAULT,
    ALTER COLUMN direction TYPE switchboard.message_direction,
    ALTER COLUMN decision TYPE switchboard.message_decision,
    ALTER COLUMN decision SET DEFAULT 'accepted';

ALTER TABLE switchboard.stats_seen
    DROP CONSTRAINT stats_seen_kind_check,
    ALTER COLUMN kind TYPE switchboard.stats_seen_kind;

ALTER TABLE switchboard.tiers
    DROP CONSTRAINT tiers_tier_check,
    ALTER COLUMN tier TYPE switchboard.tier_name;

ALTER TABLE switchboard.contacts
    DROP CONSTRAINT contacts_tier_check,
    ALTER COLUMN tier DROP DEFAULT,
    ALTER COLUMN tier TYPE switchboard.tier_name,
    ALTER COLUMN tier SET DEFAULT 'free';

