-- switchboard install script.  Assembled by the Makefile from extension/sql/*.sql.
-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION switchboard" to load this file. \quit
