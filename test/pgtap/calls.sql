-- Calls: the status state machine as a full matrix, derived times, idempotent
-- repeats, late events, provider spellings, touch_updated_at, misuse errors.
begin;
select plan(183);
set local timezone = 'UTC';

insert into switchboard.agents (agent_id, display_name)
values ('ca110000-0000-0000-0000-000000000001', 'tap calls agent');

-- the error detail of a statement, for the texts throws_ok does not check
create function pg_temp.error_detail(statement text) returns text language plpgsql as $$
declare
    detail text;
begin
    execute statement;
    return null;
exception when others then
    get stacked diagnostics detail = pg_exception_detail;
    return detail;
end $$;

create temp table statuses (s text, r int);
insert into statuses values ('ringing', 0), ('in_progress', 1), ('completed', 2), ('failed', 2),
                            ('busy', 2), ('no_answer', 2), ('canceled', 2);

-- 1. the transition matrix, on direct UPDATEs: 7 x 7 cases
insert into switchboard.calls (agent_id, call_sid, caller, status)
select 'ca110000-0000-0000-0000-000000000001', 'M-' || a.s || '-' || b.s, '+12015550100', a.s
  from statuses a cross join statuses b;

select case when a.s = b.s or b.r > a.r
       then lives_ok(format('update switchboard.calls set status = %L where call_sid = %L',
                            b.s, 'M-' || a.s || '-' || b.s),
                     format('%s -> %s is legal', a.s, b.s))
       else throws_ok(format('update switchboard.calls set status = %L where call_sid = %L',
                             b.s, 'M-' || a.s || '-' || b.s),
                      '23514',
                      format('illegal call status transition from "%s" to "%s"', a.s, b.s),
                      format('%s -> %s is illegal (23514)', a.s, b.s))
       end
  from statuses a cross join statuses b
 order by a.r, a.s, b.r, b.s;

select is(array_agg(c.status order by c.call_sid),
          array_agg(case when a.s = b.s or b.r > a.r then b.s else a.s end order by c.call_sid),
          'after the matrix every call holds the status it was allowed to take')
  from statuses a cross join statuses b
  join switchboard.calls c on c.call_sid = 'M-' || a.s || '-' || b.s;

select is(pg_temp.error_detail($$update switchboard.calls set status = 'ringing' where call_sid = 'M-completed-ringing'$$),
          'Call "M-completed-ringing" has ended, and a final status never changes.',
          'the detail of a move out of a final state names the call_sid');
select is(pg_temp.error_detail($$update switchboard.calls set status = 'ringing' where call_sid = 'M-in_progress-ringing'$$),
          'Call "M-in_progress-ringing" was answered, and an answered call does not ring again.',
          'the detail of in_progress -> ringing names the call_sid');
select throws_ok($$update switchboard.calls set status = 'done' where call_sid = 'M-ringing-ringing'$$,
                 '22023', 'unknown call status "done"', 'an unknown status in an UPDATE is 22023');
select lives_ok($$update switchboard.calls set status = 'No-Answer' where call_sid = 'M-ringing-ringing'$$,
                'a provider spelling in an UPDATE is accepted');
select is((select status from switchboard.calls where call_sid = 'M-ringing-ringing'), 'no_answer',
          'and stored canonically');

-- 2. derived fields on direct DML (the transaction timestamp is the event time)
insert into switchboard.calls (agent_id, call_sid, caller, status)
values ('ca110000-0000-0000-0000-000000000001', 'D1', '+12015550101', 'in_progress');
select is((select answered_at from switchboard.calls where call_sid = 'D1'), now(),
          'inserted in_progress: answered_at = now()');
update switchboard.calls set status = 'completed', ended_at = answered_at + interval '2 minutes 5.9 seconds'
 where call_sid = 'D1';
select is((select duration_seconds from switchboard.calls where call_sid = 'D1'), 125,
          'completed: duration = ended_at - answered_at, rounded down');
update switchboard.calls set status = 'completed', metadata = '{"x": 1}' where call_sid = 'D1';
select is((select (ended_at - answered_at, duration_seconds)::text from switchboard.calls where call_sid = 'D1'),
          '(00:02:05.9,125)', 'completed again: nothing changes');
insert into switchboard.calls (agent_id, call_sid, caller, status)
values ('ca110000-0000-0000-0000-000000000001', 'D2', '+12015550101', 'busy');
select is((select (answered_at is null, ended_at = now(), duration_seconds)::text
             from switchboard.calls where call_sid = 'D2'),
          '(t,t,0)', 'unanswered busy: ended now, duration 0');
insert into switchboard.calls (agent_id, call_sid, caller, status)
values ('ca110000-0000-0000-0000-000000000001', 'D3', '+12015550101', 'completed');
select is((select (answered_at is null, ended_at = now(), duration_seconds is null)::text
             from switchboard.calls where call_sid = 'D3'),
          '(t,t,t)', 'completed with no answer time: duration unknown (NULL)');
insert into switchboard.calls (agent_id, call_sid, caller, status, ended_at, duration_seconds)
values ('ca110000-0000-0000-0000-000000000001', 'D4', '+12015550101', 'completed',
        '2025-01-01 12:00:00+00', 30);
select is((select answered_at from switchboard.calls where call_sid = 'D4'),
          '2025-01-01 11:59:30+00'::timestamptz, 'completed with a duration: answered_at = ended_at - duration');
insert into switchboard.calls (agent_id, call_sid, caller, status, answered_at, ended_at, duration_seconds)
values ('ca110000-0000-0000-0000-000000000001', 'D5', '+12015550101', 'failed',
        '2025-01-01 12:00:00+00', '2025-01-01 12:00:10+00', 99);
select is((select (answered_at, ended_at, duration_seconds)::text from switchboard.calls where call_sid = 'D5'),
          '("2025-01-01 12:00:00+00","2025-01-01 12:00:10+00",99)', 'explicit values are kept');
insert into switchboard.calls (agent_id, call_sid, caller, status)
values ('ca110000-0000-0000-0000-000000000001', 'D6', '+12015550101', 'ringing');
select is((select (answered_at, ended_at, duration_seconds)::text from switchboard.calls where call_sid = 'D6'),
          '(,,)', 'ringing derives nothing');
update switchboard.calls set status = 'canceled' where call_sid = 'D6';
select is((select (answered_at is null, ended_at = now(), duration_seconds)::text from switchboard.calls where call_sid = 'D6'),
          '(t,t,0)', 'ringing -> canceled: ended now, duration 0');

-- 3. record_call: the event time, not now(), is what is derived
create temp table r as
select * from switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'R1', '(201) 555-0102',
                                      'ringing', '2025-02-01 09:00:00+00');
select is((select (status, is_new_call)::text from r), '(ringing,t)', 'record_call: a new call');
select is((select (c.caller, c.status, c.started_at, c.answered_at, c.ended_at, c.duration_seconds)::text
             from switchboard.calls c where call_sid = 'R1'),
          '(+12015550102,ringing,"2025-02-01 09:00:00+00",,,)', 'ringing: started_at = at');
select is((select (status, is_new_call)::text from switchboard.record_call(
             'ca110000-0000-0000-0000-000000000001', 'R1', '2015550102', 'Answered', '2025-02-01 09:00:07+00')),
          '(in_progress,f)', 'answered is in_progress');
select is((select answered_at from switchboard.calls where call_sid = 'R1'), '2025-02-01 09:00:07+00'::timestamptz,
          'answered_at = at of the answer event');
select is((select status from switchboard.record_call(
             'ca110000-0000-0000-0000-000000000001', 'R1', '2015550102', 'in-progress', '2025-02-01 09:00:09+00')),
          'in_progress', 'in_progress again is a no-op');
select is((select answered_at from switchboard.calls where call_sid = 'R1'), '2025-02-01 09:00:07+00'::timestamptz,
          'and keeps the first answer time');
select is((select status from switchboard.record_call(
             'ca110000-0000-0000-0000-000000000001', 'R1', '2015550102', 'completed', '2025-02-01 09:03:07+00')),
          'completed', 'completed');
select is((select (ended_at, duration_seconds)::text from switchboard.calls where call_sid = 'R1'),
          '("2025-02-01 09:03:07+00",180)', 'ended_at = at, duration derived');
select is((select status from switchboard.record_call(
             'ca110000-0000-0000-0000-000000000001', 'R1', '2015550102', 'completed', '2025-02-01 09:03:30+00', 181)),
          'completed', 'completed again with the provider''s duration');
select is((select (ended_at, duration_seconds)::text from switchboard.calls where call_sid = 'R1'),
          '("2025-02-01 09:03:07+00",181)', 'first end time kept, the provider''s duration taken');
select is((select status from switchboard.record_call(
             'ca110000-0000-0000-0000-000000000001', 'R1', '2015550102', 'ringing', '2025-02-01 08:59:59+00')),
          'completed', 'a late ringing does not reopen the call');
select is((select started_at from switchboard.calls where call_sid = 'R1'), '2025-02-01 08:59:59+00'::timestamptz,
          'but its earlier time becomes started_at');
select is((select status from switchboard.record_call(
             'ca110000-0000-0000-0000-000000000001', 'R1', '2015550102', 'in_progress', '2025-02-01 09:00:08+00')),
          'completed', 'a late in_progress does not reopen the call');
select throws_ok($$select * from switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'R1', '2015550102', 'busy')$$,
                 '23514', 'illegal call status transition from "completed" to "busy"',
                 'a contradicting final status is 23514');
select is((select conversation_id from switchboard.calls where call_sid = 'R1'), (select conversation_id from r),
          'the call is linked to the returned conversation');
select is((select count(*)::int from switchboard.conversations
            where agent_id = 'ca110000-0000-0000-0000-000000000001' and phone = '+12015550102'), 1,
          'one conversation for the caller');
select is((select (message_count, inbound_count, outbound_count, first_message_at)::text
             from switchboard.conversations
            where agent_id = 'ca110000-0000-0000-0000-000000000001' and phone = '+12015550102'),
          '(0,0,0,)', 'calls do not count messages');
select is((select count(*)::int from switchboard.agent_daily_counters
            where agent_id = 'ca110000-0000-0000-0000-000000000001'), 0,
          'calls do not count against the daily new-conversation limit');

-- a call first seen by a late webhook: completed, then the answer arrives
select is((select status from switchboard.record_call(
             'ca110000-0000-0000-0000-000000000001', 'R2', '2015550102', 'completed', '2025-02-01 10:05:00+00')),
          'completed', 'completed first');
select is((select duration_seconds from switchboard.calls where call_sid = 'R2'), null::int,
          'no answer time, no duration');
select is((select status from switchboard.record_call(
             'ca110000-0000-0000-0000-000000000001', 'R2', '2015550102', 'in_progress', '2025-02-01 10:01:00+00')),
          'completed', 'the late in_progress keeps completed');
select is((select (started_at, answered_at, duration_seconds)::text from switchboard.calls where call_sid = 'R2'),
          '("2025-02-01 10:01:00+00","2025-02-01 10:01:00+00",240)', 'and fills answer time and duration');

-- unanswered final states from record_call: ended at the event, 0 seconds
create temp table unanswered as
select t.s, t.n, (switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'U' || t.n,
                  '+12015550103', 'ringing', '2025-02-01 10:59:00+00')).status as first
  from unnest(array['failed', 'busy', 'no-answer', 'canceled', 'Cancelled', 'NO_ANSWER']) with ordinality as t(s, n);
select is((switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'U' || n, '+12015550103', s,
                                   '2025-02-01 11:00:00+00')).status,
          case when lower(s) like 'cancel%' then 'canceled' when lower(s) like 'no%' then 'no_answer' else s end,
          'ringing -> ' || s)
  from unanswered order by n;
select is(c.ended_at, '2025-02-01 11:00:00+00'::timestamptz, c.status || ' ends at the event time')
  from switchboard.calls c where c.call_sid like 'U%' order by c.call_sid;
select is(c.duration_seconds, 0, c.status || ' unanswered lasts 0 seconds')
  from switchboard.calls c where c.call_sid like 'U%' order by c.call_sid;

-- provider spellings of every status, as a new call each
select is((switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'P' || n, '+12015550104',
                                   given, '2025-02-01 12:00:00+00')).status,
          expected, format('%L is %s', given, expected))
  from (values
               (1, 'ringing', 'ringing'),
               (2, 'RINGING', 'ringing'),
               (3, 'queued', 'ringing'),
               (4, 'initiated', 'ringing'),
               (5, 'started', 'ringing'),
               (6, 'in_progress', 'in_progress'),
               (7, 'in-progress', 'in_progress'),
               (8, 'In Progress', 'in_progress'),
               (9, 'inprogress', 'in_progress'),
               (10, 'answered', 'in_progress'),
               (11, 'ANSWERED', 'in_progress'),
               (12, 'completed', 'completed'),
               (13, ' Completed ', 'completed'),
               (14, 'failed', 'failed'),
               (15, 'busy', 'busy'),
               (16, 'rejected', 'busy'),
               (17, 'no_answer', 'no_answer'),
               (18, 'no-answer', 'no_answer'),
               (19, 'No Answer', 'no_answer'),
               (20, 'unanswered', 'no_answer'),
               (21, 'timeout', 'no_answer'),
               (22, 'canceled', 'canceled'),
               (23, 'cancelled', 'canceled'),
               (24, 'Cancelled', 'canceled'))
       as t(n, given, expected)
 order by n;
select throws_ok(format('select * from switchboard.record_call(%L, %L, %L, %L)',
                        'ca110000-0000-0000-0000-000000000001', 'P-bad', '+12015550104', s),
                 '22023', format('unknown call status "%s"', s), format('%L is not a status', s))
  from unnest(array['', 'ring', 'answer', 'hangup', 'complete', 'in__progress', 'voicemail']) s;

-- metadata merges on every event
select is((switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'J1', '+12015550105', 'ringing',
                                   '2025-02-01 13:00:00+00', null, '{"a": 1, "b": 1}')).status,
          'ringing', 'first event with metadata');
select is((switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'J1', '+12015550105', 'completed',
                                   '2025-02-01 13:01:00+00', null, '{"b": 2, "c": 3}')).status,
          'completed', 'second event with metadata');
select is((select metadata from switchboard.calls where call_sid = 'J1'), '{"a": 1, "b": 2, "c": 3}'::jsonb,
          'metadata merges with ||, the later event winning a key');
select is((switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'J1', '+12015550105', 'ringing',
                                   '2025-02-01 12:59:00+00', null, '{"late": true}')).status,
          'completed', 'a late event');
select is((select metadata from switchboard.calls where call_sid = 'J1'), '{"a": 1, "b": 2, "c": 3, "late": true}'::jsonb,
          'still merges its metadata');
select is((switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'J1', '+12015550105', 'completed',
                                   '2025-02-01 13:01:00+00', null, null)).status,
          'completed', 'NULL metadata');
select is((select metadata from switchboard.calls where call_sid = 'J1'), '{"a": 1, "b": 2, "c": 3, "late": true}'::jsonb,
          'merges nothing');

-- errors
select throws_ok($$select * from switchboard.record_call('ca110000-0000-0000-0000-0000000000ff', 'X', '+12015550105', 'ringing')$$,
                 'P0002', 'agent "ca110000-0000-0000-0000-0000000000ff" does not exist', 'unknown agent is P0002');
select throws_ok($$select * from switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'X', '555', 'ringing')$$,
                 '22023', 'invalid phone number "555"', 'bad caller is 22023');
select is(pg_temp.error_detail($$select * from switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'X', '555', 'ringing')$$),
          'The number is too short.', 'with the normalization detail');
select throws_ok($$select * from switchboard.record_call('ca110000-0000-0000-0000-000000000001', '', '+12015550105', 'ringing')$$,
                 '22023', 'call_sid must not be empty', 'empty call_sid is 22023');
select throws_ok($$select * from switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'X', '+12015550105', 'completed', now(), -5)$$,
                 '22023', 'duration_seconds must not be negative', 'negative duration is 22023');
select throws_ok($$select * from switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'X', '+12015550105', 'ringing', now(), null, '"x"')$$,
                 '22023', 'metadata must be a JSON object', 'scalar metadata is 22023');
select throws_ok($$select * from switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'X', '+12015550105', 'ringing', '-infinity')$$,
                 '22023', 'at must be a finite timestamp', '-infinity is 22023');
select throws_ok($$select * from switchboard.record_call(null, 'X', '+12015550105', 'ringing')$$,
                 '22004', 'agent_id must not be null', 'NULL agent is 22004');
select throws_ok($$select * from switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'X', '+12015550105', 'ringing', null)$$,
                 '22004', 'at must not be null', 'NULL at is 22004');
select is((select count(*)::int from switchboard.calls where call_sid = 'X'), 0, 'failed calls wrote nothing');

-- 4. touch_updated_at on agents, conversations, calls and a table of one's own
update switchboard.agents set updated_at = '2001-01-01' where agent_id = 'ca110000-0000-0000-0000-000000000001';
select is((select updated_at from switchboard.agents where agent_id = 'ca110000-0000-0000-0000-000000000001'),
          '2001-01-01'::timestamptz, 'agents: an explicit different updated_at is kept');
update switchboard.agents set display_name = 'renamed' where agent_id = 'ca110000-0000-0000-0000-000000000001';
select is((select updated_at from switchboard.agents where agent_id = 'ca110000-0000-0000-0000-000000000001'),
          now(), 'agents: any other update sets updated_at = now()');
update switchboard.conversations set updated_at = '2001-01-01' where agent_id = 'ca110000-0000-0000-0000-000000000001';
update switchboard.conversations set is_active = false where agent_id = 'ca110000-0000-0000-0000-000000000001';
select is((select bool_and(updated_at = now()) from switchboard.conversations
            where agent_id = 'ca110000-0000-0000-0000-000000000001'), true, 'conversations: touched');
update switchboard.calls set updated_at = '2001-01-01' where call_sid = 'R1';
select is((select updated_at from switchboard.calls where call_sid = 'R1'), '2001-01-01'::timestamptz,
          'calls: an explicit value is kept');
select lives_ok($$select * from switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'R1', '2015550102', 'completed')$$,
                'record_call on an existing call');
select is((select updated_at from switchboard.calls where call_sid = 'R1'), now(), 'calls: record_call touches updated_at');
update switchboard.calls set updated_at = updated_at where call_sid = 'R1';
select is((select updated_at from switchboard.calls where call_sid = 'R1'), now(), 'setting the same value again is a touch');

create table pg_temp.mine (id int primary key, body text, updated_at timestamptz, changed timestamp);
create trigger mine_touch before update on pg_temp.mine
    for each row execute function switchboard.touch_updated_at();
create trigger mine_touch_changed before update on pg_temp.mine
    for each row execute function switchboard.touch_updated_at('changed');
insert into pg_temp.mine values (1, 'a', '2001-01-01', '2001-01-01');
update pg_temp.mine set body = 'b';
select is((select updated_at from pg_temp.mine), now(), 'a table of one''s own: updated_at touched');
select is((select changed from pg_temp.mine), now()::timestamp, 'a timestamp column named as the argument');
update pg_temp.mine set updated_at = null;
select is((select updated_at from pg_temp.mine), now(), 'set to NULL: touched');
update pg_temp.mine set updated_at = '1999-09-09', changed = '1999-09-09';
select is((select (updated_at, changed)::text from pg_temp.mine), '("1999-09-09 00:00:00+00","1999-09-09 00:00:00")',
          'explicit values kept in both columns');
select has_trigger('switchboard', 'agents', 'agents_touch_updated_at', 'agents has the touch trigger');
select has_trigger('switchboard', 'conversations', 'conversations_touch_updated_at', 'conversations has the touch trigger');
select has_trigger('switchboard', 'calls', 'calls_touch_updated_at', 'calls has the touch trigger');
select has_trigger('switchboard', 'calls', 'calls_status', 'calls has the status trigger');

-- 5. misuse: elog ERROR (XX000)
select throws_ok($$select switchboard.touch_updated_at()$$, 'XX000',
                 'touch_updated_at: not fired by trigger manager', 'touch_updated_at called directly');
select throws_ok($$select switchboard.enforce_call_status()$$, 'XX000',
                 'enforce_call_status: not fired by trigger manager', 'enforce_call_status called directly');
create table pg_temp.bad (id int, updated_at text, status text);
insert into pg_temp.bad values (1, 'x', 'ringing');
create trigger t after update on pg_temp.bad for each row execute function switchboard.touch_updated_at();
select throws_ok($$update pg_temp.bad set id = 2$$, 'XX000', 'touch_updated_at: must be fired before event', 'AFTER trigger');
drop trigger t on pg_temp.bad;
create trigger t before update on pg_temp.bad for each statement execute function switchboard.touch_updated_at();
select throws_ok($$update pg_temp.bad set id = 2$$, 'XX000', 'touch_updated_at: cannot process STATEMENT events', 'statement trigger');
drop trigger t on pg_temp.bad;
create trigger t before insert on pg_temp.bad for each row execute function switchboard.touch_updated_at();
select throws_ok($$insert into pg_temp.bad values (3)$$, 'XX000', 'touch_updated_at: cannot process INSERT events', 'INSERT trigger');
drop trigger t on pg_temp.bad;
create trigger t before update on pg_temp.bad for each row execute function switchboard.touch_updated_at();
select throws_ok($$update pg_temp.bad set id = 2$$, 'XX000',
                 'touch_updated_at: column "updated_at" of table "bad" must be of type timestamp with time zone or timestamp without time zone',
                 'wrong column type');
drop trigger t on pg_temp.bad;
create trigger t before update on pg_temp.bad for each row execute function switchboard.touch_updated_at('nope');
select throws_ok($$update pg_temp.bad set id = 2$$, 'XX000', 'touch_updated_at: table "bad" has no column "nope"', 'no such column');
drop trigger t on pg_temp.bad;
create trigger t before update on pg_temp.bad for each row execute function switchboard.touch_updated_at('ctid');
select throws_ok($$update pg_temp.bad set id = 2$$, 'XX000', 'touch_updated_at: table "bad" has no column "ctid"', 'a system column is no column');
drop trigger t on pg_temp.bad;
create trigger t before insert on pg_temp.bad for each row execute function switchboard.enforce_call_status();
select throws_ok($$insert into pg_temp.bad values (3)$$, 'XX000', 'enforce_call_status: table "bad" has no column "call_sid"', 'status trigger on a table without calls columns');
drop trigger t on pg_temp.bad;
create trigger t after insert on pg_temp.bad for each row execute function switchboard.enforce_call_status();
select throws_ok($$insert into pg_temp.bad values (3)$$, 'XX000', 'enforce_call_status: must be fired before event', 'status trigger AFTER');

-- 6. catalog: volatility, no SECURITY DEFINER, comments
select is((select provolatile::text from pg_proc where oid = 'switchboard.record_call(uuid, text, text, text, timestamptz, integer, jsonb)'::regprocedure),
          'v', 'record_call is volatile');
select is((select bool_or(prosecdef) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'switchboard' and p.proname in ('record_call', 'enforce_call_status', 'touch_updated_at')),
          false, 'no SECURITY DEFINER');
select isnt(obj_description(p.oid, 'pg_proc'), null, p.proname || ' has a comment')
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
 where n.nspname = 'switchboard' and p.proname in ('record_call', 'enforce_call_status', 'touch_updated_at')
 order by p.proname;

-- 7. record_call under a hostile search_path still finds its own tables and operators
create schema evil;
create table evil.calls (agent_id uuid, call_sid text);
create function evil.texteq_evil(text, text) returns boolean language sql as 'select false';
create operator evil.= (leftarg = text, rightarg = text, function = evil.texteq_evil);
set local search_path = evil, pg_catalog, public;
create temp table evil_result as
select * from switchboard.record_call('ca110000-0000-0000-0000-000000000001', 'R1', '2015550102', 'completed');
reset search_path;
select is((select is_new_call from evil_result), false,
          'record_call under search_path = evil, pg_catalog finds the existing call');

select * from finish();
rollback;
