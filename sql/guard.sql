-- The C++/Postgres boundary: errors raised ten C++ frames deep reach the client
-- as ordinary ERRORs with their SQLSTATE, the C++ destructors run, and the
-- session goes on working.
set search_path = switchboard, public;

-- a switchboard::Error keeps its SQLSTATE, detail and hint
select guard_selftest('switchboard');
\echo :LAST_ERROR_SQLSTATE
-- any std::exception is an internal error naming the function
select guard_selftest('std');
\echo :LAST_ERROR_SQLSTATE
-- std::bad_alloc is out of memory (53200)
select guard_selftest('bad_alloc');
\echo :LAST_ERROR_SQLSTATE
-- a throw of something that is not a std::exception
select guard_selftest('other');
\echo :LAST_ERROR_SQLSTATE
-- a Postgres ERROR raised under C++ frames comes back unchanged (22P02)
select guard_selftest('postgres');
\echo :LAST_ERROR_SQLSTATE
-- every frame's destructors ran: 2 objects on each of 11 levels, 5 errors
select guard_selftest('count') as destructors_run;
-- and the backend is healthy: same session, next query
select guard_selftest('none') as normal_return, 1 + 1 as still_alive;

-- inside a transaction the error aborts it as usual, and ROLLBACK recovers
begin;
select guard_selftest('switchboard');
select 1;
rollback;
select 'recovered' as state;

-- not executable by PUBLIC
select has_function_privilege('public', 'switchboard.guard_selftest(text)', 'execute') as public_can_run;
