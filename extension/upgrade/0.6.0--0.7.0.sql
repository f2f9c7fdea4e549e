-- switchboard 0.6.0 -> 0.7.0.  The Makefile builds
-- extension/switchboard--0.6.0--0.7.0.sql from this file followed by
-- extension/sql/099_secure_tables.sql (row-level security, policies, dump
-- registration and grants for whatever this file adds).
--
-- Rules for this file (test/scripts/upgrade.sh checks the result): after
-- ALTER EXTENSION switchboard UPDATE, every object must be exactly what a fresh
-- CREATE EXTENSION switchboard of 0.7.0 makes (same columns in the same order,
-- same function definitions, comments, policies, grants), and no row is lost.
-- New columns therefore go at the end of their table in extension/sql/ too.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION switchboard UPDATE TO '0.7.0'" to load this file. \quit

-- stats_fold deletes an agent's staged deltas in a plain scan of the index on
-- (agent_id, delta_id), whatever the statistics say: with one busy agent
-- owning most staged rows the planner chose a sequential scan of the whole
-- stats_delta heap, or a bitmap scan that visits every dead entry's heap page
-- and never marks them dead (extension/sql/040_stats.sql).
ALTER FUNCTION switchboard.stats_fold(uuid, bigint) SET enable_seqscan = off;
ALTER FUNCTION switchboard.stats_fold(uuid, bigint) SET enable_bitmapscan = off;
