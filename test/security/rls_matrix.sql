-- The row-level security matrix (Supabase-like fixture, see test/scripts/supabase.sh):
-- each role (anon, owner, other owner, service_role) x each table x
-- select/insert/update/delete, and each role x each function, with the
-- expected outcome asserted in every cell.  Cells are generated below; every
-- cell runs in its own subtransaction as PostgREST would run it (claims in
-- request.jwt.claims, SET LOCAL ROLE) and is rolled back.
begin;
set local client_min_messages = warning;

-- fixture: agent A of owner O, agent B of owner P, a row of A in every table
create temp table fx (k text primary key, v text);
insert into fx values
    ('owner', '0a000000-0000-4000-8000-000000000001'),
    ('other', '0b000000-0000-4000-8000-000000000002'),
    ('agent', 'a0000000-0000-4000-8000-00000000000a'),
    ('agent_b', 'b0000000-0000-4000-8000-00000000000b'),
    ('unknown', 'f0000000-0000-4000-8000-00000000000f'),
    ('conv', 'c0000000-0000-4000-8000-00000000000c');
create function pg_temp.fx(text) returns text language sql stable as
    $$ select v from pg_temp.fx where k = $1 $$;

insert into switchboard.agents (agent_id, owner_id, display_name, sms_enabled)
values (pg_temp.fx('agent')::uuid, pg_temp.fx('owner')::uuid, 'A', true),
       (pg_temp.fx('agent_b')::uuid, pg_temp.fx('other')::uuid, 'B', true);
insert into switchboard.blocked_numbers (agent_id, phone, reason)
values (pg_temp.fx('agent')::uuid, '+12015550111', 'spam');
insert into switchboard.conversations (agent_id, conversation_id, phone)
values (pg_temp.fx('agent')::uuid, pg_temp.fx('conv')::uuid, '+12015550142');
insert into switchboard.messages (agent_id, conversation_id, direction, phone, body)
values (pg_temp.fx('agent')::uuid, pg_temp.fx('conv')::uuid, 'inbound', '+12015550142', 'hello');
insert into switchboard.calls (agent_id, call_sid, caller)
values (pg_temp.fx('agent')::uuid, 'CA-fixture', '+12015550142');
insert into switchboard.agent_daily_counters (agent_id, day, new_conversations)
values (pg_temp.fx('agent')::uuid, '2026-01-01', 1);
-- B has rows too, so "sees only A's" differs from "sees all"
insert into switchboard.conversations (agent_id, phone) values (pg_temp.fx('agent_b')::uuid, '+12015550143');

-- who runs a cell
create temp table who (who text primary key, ord int, role name, claims text);
insert into who values
    ('anon', 1, 'anon', '{"role":"anon"}'),
    ('owner', 2, 'authenticated', format('{"sub":"%s","role":"authenticated"}', pg_temp.fx('owner'))),
    ('other', 3, 'authenticated', format('{"sub":"%s","role":"authenticated"}', pg_temp.fx('other'))),
    ('service_role', 4, 'service_role', '{"role":"service_role"}');

-- Runs one statement as `who` and rolls it back: 'rows:N' or 'SQLSTATE: message'.
create function pg_temp.run_cell(who_ text, stmt text) returns text language plpgsql as $$
declare
    r record;
    n bigint;
    outcome text;
begin
    select * into strict r from pg_temp.who w where w.who = who_;
    begin
        perform set_config('request.jwt.claims', r.claims, true);
        perform set_config('role', r.role, true);
        execute stmt;
        get diagnostics n = row_count;
        outcome := 'rows:' || n;
        raise sqlstate 'SBOK0';
    exception when others then
        if sqlstate <> 'SBOK0' then
            outcome := sqlstate || ': ' || sqlerrm;
        end if;
    end;
    return outcome;
end
$$;

-- Per table: how to insert one row of agent A (every table must be here).
create temp table table_insert (tab name primary key, stmt text);
insert into table_insert values
    ('agents', 'insert into switchboard.agents (owner_id) values (%2$L)'),
    ('blocked_numbers', 'insert into switchboard.blocked_numbers (agent_id, phone) values (%1$L, ''+12015550199'')'),
    ('conversations', 'insert into switchboard.conversations (agent_id, phone) values (%1$L, ''+12015550198'')'),
    ('messages', 'insert into switchboard.messages (agent_id, conversation_id, direction, phone, body) values (%1$L, %3$L, ''outbound'', ''+12015550142'', ''cell'')'),
    ('calls', 'insert into switchboard.calls (agent_id, call_sid, caller) values (%1$L, ''CA-cell'', ''+12015550197'')'),
    ('agent_daily_counters', 'insert into switchboard.agent_daily_counters (agent_id, day) values (%1$L, ''2000-01-01'')');
-- Analytics (issue 5) adds its tables here.

-- How many rows of A each table holds, as the superuser sees them
create temp table a_rows (tab name primary key, n bigint);
do $$
declare t name; n bigint;
begin
    for t in select tab from pg_temp.table_insert loop
        execute format('select count(*) from switchboard.%I where agent_id = %L', t, pg_temp.fx('agent')) into n;
        insert into pg_temp.a_rows values (t, n);
    end loop;
end $$;

-- Per function: a call for agent A (%1$L; %3$L is A's conversation), the
-- outcome for the owner and service_role, and whether it is scoped to an
-- agent (then someone else gets 42501 naming the agent).  Every function of
-- the schema must be here, except trigger functions (not callable).
create temp table fn_call (fn text primary key, stmt text, scoped boolean, internal boolean default false);
insert into fn_call values
    ('record_inbound(uuid,text,text,jsonb,timestamp with time zone)',
     'select * from switchboard.record_inbound(%1$L, ''+12015550142'', ''hello'')', true, false),
    ('record_outbound(uuid,uuid,text,jsonb,timestamp with time zone)',
     'select switchboard.record_outbound(%1$L, %3$L, ''hi'')', true, false),
    ('check_rate_limit(uuid,text,timestamp with time zone)',
     'select * from switchboard.check_rate_limit(%1$L, ''+12015550142'')', true, false),
    ('upsert_conversation(uuid,text,timestamp with time zone)',
     'select * from switchboard.upsert_conversation(%1$L, ''+12015550177'')', true, false),
    ('record_call(uuid,text,text,text,timestamp with time zone,integer,jsonb)',
     'select * from switchboard.record_call(%1$L, ''CA-fn'', ''+12015550142'', ''ringing'')', true, false),
    ('normalize_phone(text,text)', 'select switchboard.normalize_phone(''(201) 555-0123'', ''US'')', false, false),
    ('try_normalize_phone(text,text)', 'select switchboard.try_normalize_phone(''(201) 555-0123'', ''US'')', false, false),
    ('phone_is_valid(text,text)', 'select switchboard.phone_is_valid(''+12015550123'')', false, false),
    ('phone_info(text,text)', 'select * from switchboard.phone_info(''+12015550123'')', false, false),
    ('current_user_id()', 'select switchboard.current_user_id()', false, false),
    ('agent_not_found(uuid)', 'select switchboard.agent_not_found(%1$L)', true, false),
    ('grant_usage(name)', 'select switchboard.grant_usage(''authenticated'')', false, true),
    ('guard_selftest(text)', 'select switchboard.guard_selftest(''none'')', false, true);
-- Analytics (issue 5) adds its functions here.

-- The cells ------------------------------------------------------------------
create temp table cells (who text, ord int, object text, op text, stmt text, expected text);

-- tables: rows of A, by every role
insert into cells
select w.who, w.ord, t.tab, o.op,
       case o.op
           when 'select' then format('select 1 from switchboard.%I where agent_id = %L', t.tab, pg_temp.fx('agent'))
           when 'insert' then format(t.stmt, pg_temp.fx('agent'), pg_temp.fx('owner'), pg_temp.fx('conv'))
           when 'update' then format('update switchboard.%I set agent_id = agent_id where agent_id = %L', t.tab, pg_temp.fx('agent'))
           when 'delete' then format('delete from switchboard.%I where agent_id = %L', t.tab, pg_temp.fx('agent'))
       end,
       case
           when w.who = 'anon' then '42501: permission denied for schema switchboard'
           when w.who in ('owner', 'service_role') then
               'rows:' || case when o.op = 'insert' then 1 else a.n end
           -- other owner: sees none of A's rows and cannot add one; where a
           -- BEFORE trigger looks the agent up first, it says so
           when o.op = 'insert' and t.tab in ('blocked_numbers', 'messages') then
               format('42501: permission denied for agent "%s"', pg_temp.fx('agent'))
           when o.op = 'insert' then
               format('42501: new row violates row-level security policy for table "%s"', t.tab)
           else 'rows:0'
       end
  from pg_temp.who w
 cross join pg_temp.table_insert t
 join pg_temp.a_rows a using (tab)
 cross join (values ('select', 1), ('insert', 2), ('update', 3), ('delete', 4)) o (op, n);

-- functions: for agent A, and for an agent that does not exist
insert into cells
select w.who, w.ord, f.fn || case when u.unknown then ' [unknown agent]' else '' end, 'execute',
       format(f.stmt, case when u.unknown then pg_temp.fx('unknown') else pg_temp.fx('agent') end,
              pg_temp.fx('owner'), pg_temp.fx('conv')),
       case
           when w.who = 'anon' then '42501: permission denied for schema switchboard'
           when f.internal then format('42501: permission denied for function %s', split_part(f.fn, '(', 1))
           when f.fn like 'agent_not_found%' then
               case when w.who = 'service_role'
                    then format('P0002: agent "%s" does not exist', case when u.unknown then pg_temp.fx('unknown') else pg_temp.fx('agent') end)
                    else format('42501: permission denied for agent "%s"', case when u.unknown then pg_temp.fx('unknown') else pg_temp.fx('agent') end) end
           when not f.scoped then 'rows:1'
           when u.unknown and w.who = 'service_role' then
               format('P0002: agent "%s" does not exist', pg_temp.fx('unknown'))
           when u.unknown then format('42501: permission denied for agent "%s"', pg_temp.fx('unknown'))
           when w.who = 'other' then format('42501: permission denied for agent "%s"', pg_temp.fx('agent'))
           else 'rows:1'
       end
  from pg_temp.who w
 cross join pg_temp.fn_call f
 cross join (values (false), (true)) u (unknown)
 where to_regprocedure('switchboard.' || f.fn) is not null
   and (f.scoped or not u.unknown);

select plan((select count(*)::int from pg_temp.cells) + 4);

-- the matrix must cover every table and every callable function of the schema
select set_eq(
    $$select c.relname::text from pg_class c where c.relnamespace = 'switchboard'::regnamespace and c.relkind in ('r', 'p')$$,
    $$select tab::text from pg_temp.table_insert$$,
    'the matrix covers every table of schema switchboard');
select set_eq(
    $$select p.oid::regprocedure::text from pg_proc p
       where p.pronamespace = 'switchboard'::regnamespace and p.prorettype <> 'trigger'::regtype$$,
    $$select 'switchboard.' || fn from pg_temp.fn_call where to_regprocedure('switchboard.' || fn) is not null$$,
    'the matrix covers every function of schema switchboard (trigger functions aside)');
select is((select count(*)::int from pg_temp.fn_call where to_regprocedure('switchboard.' || fn) is null), 0,
          'every function the matrix names exists');
-- the event functions ran once as superuser first, so the matrix also checks
-- that plans cached for one role are not reused for another
select lives_ok(format($$select * from switchboard.check_rate_limit(%L, '+12015550142')$$, pg_temp.fx('agent')),
                'superuser runs an event function first');

select is(pg_temp.run_cell(who, stmt), expected, format('%s | %s | %s', who, object, op))
  from pg_temp.cells
 order by object, op, ord;

select * from finish();
rollback;
