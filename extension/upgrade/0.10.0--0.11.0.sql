-- switchboard 0.10.0 -> 0.11.0.  The Makefile builds
-- extension/switchboard--0.10.0--0.11.0.sql from this file followed by
-- extension/sql/099_secure_tables.sql (row-level security, policies, dump
-- registration and grants for whatever this file adds).
--
-- Rules for this file (test/scripts/upgrade.sh checks the result): after
-- ALTER EXTENSION switchboard UPDATE, every object must be exactly what a fresh
-- CREATE EXTENSION switchboard of 0.11.0 makes (same columns in the same order,
-- same function definitions, comments, policies, grants), and no row is lost.
--
-- 0.11.0: the fold's two per-agent statements keep one generic plan per
-- session (plan_cache_mode = force_generic_plan) instead of being planned
-- again for every agent of every fold.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION switchboard UPDATE TO '0.11.0'" to load this file. \quit

ALTER FUNCTION switchboard.stats_message_news(uuid, bigint, bigint)
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION switchboard.stats_message_deltas(uuid, bigint, bigint, switchboard.stats_news[])
    SET plan_cache_mode = force_generic_plan;
